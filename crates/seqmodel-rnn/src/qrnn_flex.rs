//! One Quasi-RNN layer direction as one op on flex (`f32`), with a handwritten backward pass
//! for `Autodiff<Flex>`: one packed GEMM (the fused kernels' `matmul`) producing every gate of
//! every step, then one host pass per sequence that squashes the gates and runs the pooling.
//!
//! Layouts, for `B` sequences of `T` steps, input width `In`, hidden `H`, `G` gates (z, f, o,
//! i), window `w`, `K = w * In`:
//! - The op reads `x: [B, T, In]` into a padded copy `[B, T + w - 1, In]` whose extra step is
//!   the zero step a window reads before the start (forward: row 0) or after the end (reverse:
//!   row `T`), with zeros from each sequence's length on. Step `t`'s window (`[x_{t-1}, x_t]`
//!   forward, `[x_t, x_{t+1}]` reverse, `x_t` for `w = 1`) is then the contiguous run of `K`
//!   values at row `t` of its sequence: the product reads the rows overlapping (row stride
//!   `In`), no concatenation is made. The reverse window lies in memory in the opposite order
//!   of the weight's column blocks (block 0 multiplies `x_{t+1}`), so the reverse direction
//!   multiplies by the weight with its two column halves swapped.
//! - Gates `[B, T, ldc]` (`ldc` = `G * H` rounded up to the register tile), from a pooled
//!   buffer; each sequence's rows are computed and consumed by one task while they are in cache.
//!   Training keeps the activations (overwriting the pre-activations) and every `c_t`.
//! - The op's output is one tensor `[B * T + B, H]`: `h` (0 past each length), then `c_n`.
//!
//! The recurrence per sequence of length `n`, in scan order (forward `0..n`, reverse
//! `n - 1 ..= 0`), from `c0`: as [`crate::Qrnn`] documents it. Backward, with `g` the gradient
//! reaching `c_t` from later steps (`g = dc_n` at the last one) and `dc = g + dh_t * o_t`
//! (`g + dh_t` for f-pooling): `do = dh_t c_t`, `dz = dc (1 - f)` and `df = dc (c_{prev} - z)`
//! (f, fo) or `dz = dc i`, `df = dc c_{prev}`, `di = dc z` (ifo), each through its squashing
//! function's derivative, and `g = dc f` for the step before; `dc0 = g` at the end. Then
//! `d bias = sum of the gate gradients`, `dW = dgates^T windows` and `d windows = dgates W`
//! (both packed GEMMs), the latter folded back onto the steps each window read.

use std::borrow::Cow;
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Bytes, DType, Dispatch, Flex, Shape, backend_extension};
use burn::tensor::{Device, Tensor};
use rayon::prelude::*;

use crate::fused::matmul::{PackedMatrix, parallel_product, parallel_product_strided, product_isa};
use crate::fused::scratch;
use crate::fused::simd::{Isa, Portable, Simd, with_isa};
use crate::fused::weight_cache;
use crate::qrnn::QrnnPooling;

/// The layer direction as a Burn backend extension.
#[backend_extension(Flex, Autodiff)]
pub trait QrnnDirection: Backend {
    /// `x: [B, T, In]`, `weight: [G * H, w * In]`, `bias: [G * H]`, `c0: [B, H]` ->
    /// `[B * T + B, H]` (`h`, then `c_n`); `lengths` one per sequence, each `<= T`.
    #[allow(clippy::too_many_arguments)]
    fn qrnn_direction(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        lengths: Vec<usize>,
        pooling: QrnnPooling,
        window: usize,
        reverse: bool,
    ) -> FloatTensor<Self>;
}

/// Whether [`direction`] runs for tensors on `device` of `dtype`: flex (with or without
/// autodiff) and `f32`.
pub(crate) fn applies(device: &Device, dtype: DType) -> bool {
    use burn::backend::DispatchDevice;
    dtype == DType::F32
        && matches!(
            device.clone().inner().as_dispatch(),
            DispatchDevice::Flex(_)
        )
}

/// One layer direction on right-aligned `x` (see the module docs; [`applies`] must hold):
/// returns `h` `[B, T, H]` (0 past each length) and `c_n` `[B, H]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn direction(
    x: Tensor<3>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    c0: Tensor<2>,
    lengths: Vec<usize>,
    pooling: QrnnPooling,
    window: usize,
    reverse: bool,
) -> (Tensor<3>, Tensor<2>) {
    let [batch, time, _] = x.dims();
    let hidden = c0.dims()[1];
    let packed: Tensor<2> = Tensor::from_dispatch(<Dispatch as QrnnDirection>::qrnn_direction(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        c0.into_dispatch(),
        lengths,
        pooling,
        window,
        reverse,
    ));
    let rows = batch * time;
    (
        packed
            .clone()
            .narrow(0, 0, rows)
            .reshape([batch, time, hidden]),
        packed.narrow(0, rows, batch),
    )
}

/// A buffer from the fused kernels' pool, returned to it when dropped.
struct Pooled(Vec<f32>);

impl Pooled {
    fn take(n: usize) -> Self {
        Self(scratch::take(n))
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        scratch::give(std::mem::take(&mut self.0));
    }
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "f32[{}]", self.0.len())
    }
}

/// Sizes of one call.
#[derive(Debug, Clone, Copy)]
struct Dims {
    batch: usize,
    time: usize,
    input: usize,
    hidden: usize,
    window: usize,
    pooling: QrnnPooling,
    reverse: bool,
}

impl Dims {
    /// Gate rows `G * H`.
    fn gh(&self) -> usize {
        self.pooling.gates() * self.hidden
    }

    /// Values per window `K = w * In`.
    fn k(&self) -> usize {
        self.window * self.input
    }

    /// Rows of the padded input per sequence, `T + w - 1`.
    fn padded_steps(&self) -> usize {
        self.time + self.window - 1
    }
}

/// A contiguous `f32` flex tensor (a copy only of a non-contiguous view), read in place.
struct Contiguous(FlexTensor);

impl Contiguous {
    fn new(tensor: &FlexTensor) -> Self {
        assert_eq!(
            tensor.dtype(),
            DType::F32,
            "the Quasi-RNN op is only chosen for f32 tensors"
        );
        Self(tensor.to_contiguous())
    }

    fn slice(&self) -> &[f32] {
        self.0
            .as_slice::<f32>()
            .expect("a contiguous f32 tensor has an f32 slice")
    }

    fn shape(&self) -> Vec<usize> {
        self.0.layout().shape().to_vec()
    }
}

fn flex_tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(shape.to_vec())),
        DType::F32,
    )
}

/// Everything the backward pass needs from the forward pass.
#[derive(Debug)]
struct Saved {
    dims: Dims,
    lengths: Vec<usize>,
    /// The padded input `[B, T + w - 1, In]`.
    padded: Pooled,
    /// The weight in window order `[G * H, K]` (halves swapped for the reverse direction).
    weight: Vec<f32>,
    c0: Vec<f32>,
    /// Gate activations `[B, T, ldc]` (rows past a length unset).
    gates: Pooled,
    /// `c_t` `[B, T, H]` (rows past a length unset).
    c: Pooled,
}

/// The forward pass; with `train`, also what the backward pass needs.
#[allow(clippy::too_many_arguments)]
fn forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    c0: &FlexTensor,
    lengths: Vec<usize>,
    pooling: QrnnPooling,
    window: usize,
    reverse: bool,
    train: bool,
) -> (FlexTensor, Option<Saved>) {
    let x = Contiguous::new(x);
    let [batch, time, input] = x.shape()[..] else {
        panic!("Quasi-RNN op: x must be [B, T, In], got {:?}", x.shape());
    };
    let c0 = Contiguous::new(c0);
    let hidden = c0.shape()[1];
    let d = Dims {
        batch,
        time,
        input,
        hidden,
        window,
        pooling,
        reverse,
    };
    kernel_check!(lengths.len() == batch && lengths.iter().all(|&n| n <= time));
    let bias = Contiguous::new(bias);
    let source = Contiguous::new(weight);
    let weight = window_weight(d, source.slice());
    let isa = Isa::detect();
    let padded = padded_input(d, x.slice(), &lengths);
    // Inference reuses the packing of weights it has seen (see `weight_cache`); training and
    // the swapped reverse weight pack afresh.
    let packed = match &weight {
        Cow::Borrowed(w) if !train => weight_cache::transposed(&source.0, w, d.gh(), d.k(), isa),
        w => Arc::new(PackedMatrix::transposed(w, d.gh(), d.k(), isa)),
    };
    let ldc = packed.padded_n();
    let mut gates = Pooled::take(batch * time * ldc);
    let mut c_saved = Pooled::take(if train { batch * time * hidden } else { 0 });
    let mut out = vec![0.0f32; (batch * time + batch) * hidden];
    {
        let (h_all, cn_all) = out.split_at_mut(batch * time * hidden);
        let mut c_chunks: Vec<Option<&mut [f32]>> = if train {
            c_saved.0.chunks_mut(time * hidden).map(Some).collect()
        } else {
            (0..batch).map(|_| None).collect()
        };
        let jobs: Vec<_> = h_all
            .chunks_mut(time * hidden)
            .zip(cn_all.chunks_mut(hidden))
            .zip(gates.0.chunks_mut(time * ldc))
            .zip(c_chunks.iter_mut().map(Option::take))
            .enumerate()
            .collect();
        let (padded, bias, c0, lengths) = (&padded.0, bias.slice(), c0.slice(), &lengths);
        let run = |scratch: &mut Vec<f32>, (s, (((h, c_n), g), c)): (usize, _)| {
            let sequence = Sequence {
                n: lengths[s],
                x: &padded[s * d.padded_steps() * input..][..d.padded_steps() * input],
                c0: &c0[s * hidden..][..hidden],
            };
            forward_sequence(
                isa, d, &packed, bias, sequence, g, h, c_n, c, train, scratch,
            );
        };
        if batch == 1 {
            jobs.into_iter().for_each(|job| run(&mut Vec::new(), job));
        } else {
            jobs.into_par_iter().for_each_init(Vec::new, run);
        }
    }
    let tensor = flex_tensor(out, &[batch * time + batch, hidden]);
    let saved = train.then(|| Saved {
        dims: d,
        lengths,
        padded,
        weight: weight.into_owned(),
        c0: c0.slice().to_vec(),
        gates,
        c: c_saved,
    });
    (tensor, saved)
}

/// The weight `[G * H, K]` in the order of the windows in memory: as it is, except for the
/// reverse direction of window 2, whose two column halves are swapped.
fn window_weight(d: Dims, weight: &[f32]) -> Cow<'_, [f32]> {
    if d.reverse && d.window == 2 {
        let mut swapped = weight.to_vec();
        swap_halves(d, &mut swapped);
        Cow::Owned(swapped)
    } else {
        Cow::Borrowed(weight)
    }
}

/// Swap the two column halves of every row of a `[G * H, K]` matrix (window 2, reverse).
fn swap_halves(d: Dims, matrix: &mut [f32]) {
    if d.reverse && d.window == 2 {
        for row in matrix.chunks_exact_mut(d.k()) {
            let (older, current) = row.split_at_mut(d.input);
            older.swap_with_slice(current);
        }
    }
}

/// The padded input `[B, T + w - 1, In]` (see the module docs).
fn padded_input(d: Dims, x: &[f32], lengths: &[usize]) -> Pooled {
    let steps = d.padded_steps();
    let mut padded = Pooled::take(d.batch * steps * d.input);
    let lead = if d.window == 2 && !d.reverse { 1 } else { 0 };
    for (s, dst) in padded.0.chunks_exact_mut(steps * d.input).enumerate() {
        let n = lengths[s] * d.input;
        let at = lead * d.input;
        dst[..at].fill(0.0);
        dst[at..at + n].copy_from_slice(&x[s * d.time * d.input..][..n]);
        dst[at + n..].fill(0.0);
    }
    padded
}

/// One sequence's inputs.
struct Sequence<'a> {
    /// Real steps.
    n: usize,
    /// Its padded input rows `[T + w - 1, In]`.
    x: &'a [f32],
    /// `c0` `[H]`.
    c0: &'a [f32],
}

/// Gates, pooling and outputs of one sequence: `gates` `[T, ldc]`, `h` `[T, H]`, `c_n` `[H]`,
/// `c` (training) `[T, H]`.
#[allow(clippy::too_many_arguments)]
fn forward_sequence(
    isa: Isa,
    d: Dims,
    packed: &PackedMatrix,
    bias: &[f32],
    sequence: Sequence<'_>,
    gates: &mut [f32],
    h: &mut [f32],
    c_n: &mut [f32],
    mut c: Option<&mut [f32]>,
    save: bool,
    scratch: &mut Vec<f32>,
) {
    let Sequence { n, x, c0 } = sequence;
    let hidden = d.hidden;
    c_n.copy_from_slice(c0);
    if n == 0 {
        return;
    }
    let ldc = packed.padded_n();
    // SAFETY: row `t < n <= T` reads `x[t * In .. t * In + K]`, inside the `T + w - 1` rows.
    unsafe {
        product_isa(
            isa,
            n,
            x.as_ptr(),
            (d.input, 1),
            packed,
            &mut gates[..n * ldc],
            ldc,
            scratch,
        )
    };
    for step in 0..n {
        let t = if d.reverse { n - 1 - step } else { step };
        let p = StepPointers {
            gates: gates[t * ldc..][..d.gh()].as_mut_ptr(),
            bias: bias.as_ptr(),
            c: c_n.as_mut_ptr(),
            h: h[t * hidden..][..hidden].as_mut_ptr(),
            hidden,
        };
        let pooling = d.pooling;
        with_isa!(isa, fn(pooling: QrnnPooling, p: StepPointers, save: bool) {
            // SAFETY: `p`'s pointers hold `G * H`, `G * H`, `H` and `H` values.
            unsafe { pool_step::<S>(pooling, p, save) }
        });
        if let Some(c) = c.as_deref_mut() {
            c[t * hidden..][..hidden].copy_from_slice(c_n);
        }
    }
}

/// One step's gates (pre-activations in, activations out when saved), bias, running state and
/// output.
#[derive(Clone, Copy)]
struct StepPointers {
    gates: *mut f32,
    bias: *const f32,
    c: *mut f32,
    h: *mut f32,
    hidden: usize,
}

/// Squash one step's gates and advance the state: full vectors under `S`, the tail portable.
///
/// # Safety
/// As [`StepPointers`] describes; `S` supported by the running code.
#[inline(always)]
unsafe fn pool_step<S: Simd>(pooling: QrnnPooling, p: StepPointers, save: bool) {
    let full = p.hidden / S::LANES * S::LANES;
    unsafe {
        let mut j = 0;
        while j < full {
            pool_lanes::<S>(pooling, p, j, save);
            j += S::LANES;
        }
        for j in full..p.hidden {
            pool_lanes::<Portable>(pooling, p, j, save);
        }
    }
}

/// [`pool_step`] on the `S::LANES` values from `j`.
///
/// # Safety
/// As [`pool_step`], with `j + S::LANES <= hidden`.
#[inline(always)]
unsafe fn pool_lanes<S: Simd>(pooling: QrnnPooling, p: StepPointers, j: usize, save: bool) {
    let h = p.hidden;
    unsafe {
        let pre = |g: usize| {
            S::add(
                S::load(p.gates.add(g * h + j)),
                S::load(p.bias.add(g * h + j)),
            )
        };
        let z = S::tanh(pre(0));
        let f = S::sigmoid(pre(1));
        let previous = S::load(p.c.add(j));
        let c = match pooling {
            // f c + (1 - f) z
            QrnnPooling::F | QrnnPooling::Fo => S::mul_add(f, S::sub(previous, z), z),
            QrnnPooling::Ifo => {
                let i = S::sigmoid(pre(3));
                if save {
                    S::store(p.gates.add(3 * h + j), i);
                }
                S::mul_add(f, previous, S::mul(i, z))
            }
        };
        S::store(p.c.add(j), c);
        let out = match pooling {
            QrnnPooling::F => c,
            QrnnPooling::Fo | QrnnPooling::Ifo => {
                let o = S::sigmoid(pre(2));
                if save {
                    S::store(p.gates.add(2 * h + j), o);
                }
                S::mul(o, c)
            }
        };
        S::store(p.h.add(j), out);
        if save {
            S::store(p.gates.add(j), z);
            S::store(p.gates.add(h + j), f);
        }
    }
}

/// Gradients of one call, each `None` when its input needs none.
struct Grads {
    x: Option<Vec<f32>>,
    weight: Option<Vec<f32>>,
    bias: Option<Vec<f32>>,
    c0: Option<Vec<f32>>,
}

/// The backward pass from `d_out` `[B * T + B, H]`; `needs`: x, weight, bias, c0.
fn backward(saved: &Saved, d_out: &[f32], needs: [bool; 4]) -> Grads {
    let d = saved.dims;
    let (batch, time, hidden, gh, k) = (d.batch, d.time, d.hidden, d.gh(), d.k());
    let ldc = saved.gates.0.len() / (batch * time).max(1);
    let isa = Isa::detect();
    let (dh, dcn) = d_out.split_at(batch * time * hidden);
    // Gate gradients `[B * T, G * H]` (0 past each length) and dc0 `[B, H]`.
    let mut dgates = Pooled::take(batch * time * gh);
    let mut dc0 = vec![0.0f32; batch * hidden];
    dgates
        .0
        .par_chunks_mut(time * gh)
        .zip(dc0.par_chunks_mut(hidden))
        .enumerate()
        .for_each(|(s, (dg, g))| {
            let at = s * time;
            backward_sequence(
                d,
                saved.lengths[s],
                SequenceSaved {
                    gates: &saved.gates.0[at * ldc..][..time * ldc],
                    ldc,
                    c: &saved.c.0[at * hidden..][..time * hidden],
                    c0: &saved.c0[s * hidden..][..hidden],
                    dh: &dh[at * hidden..][..time * hidden],
                    dcn: &dcn[s * hidden..][..hidden],
                },
                dg,
                g,
            );
        });
    let dgates = &dgates.0;
    let rows = batch * time;
    let bias = needs[2].then(|| {
        let mut db = vec![0.0f32; gh];
        for row in dgates.chunks_exact(gh) {
            db.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        }
        db
    });
    let steps = d.padded_steps();
    let weight = needs[1].then(|| {
        // dW = dgates^T windows: `a` is dgates read as its transpose, `P` the windows.
        let mut windows = Pooled::take(rows * k);
        for (r, dst) in windows.0.chunks_exact_mut(k).enumerate() {
            let (s, t) = (r / time, r % time);
            dst.copy_from_slice(&saved.padded.0[(s * steps + t) * d.input..][..k]);
        }
        let packed = PackedMatrix::rows(&windows.0, rows, k, isa);
        let ldw = packed.padded_n();
        let mut wide = Pooled::take(gh * ldw);
        parallel_product_strided(isa, dgates, gh, (1, gh), &packed, &mut wide.0, ldw);
        let mut dw = Vec::with_capacity(gh * k);
        for row in wide.0.chunks_exact(ldw) {
            dw.extend_from_slice(&row[..k]);
        }
        swap_halves(d, &mut dw);
        dw
    });
    let x = needs[0].then(|| {
        // d windows = dgates W (window order), folded onto the steps each window read.
        let packed = PackedMatrix::rows(&saved.weight, gh, k, isa);
        let ldx = packed.padded_n();
        let mut dwin = Pooled::take(rows * ldx);
        parallel_product(isa, dgates, gh, &packed, &mut dwin.0, ldx);
        let input = d.input;
        let mut dx = vec![0.0f32; rows * input];
        for (s, dx) in dx.chunks_exact_mut(time * input).enumerate() {
            let n = saved.lengths[s];
            for t in 0..n {
                let win = &dwin.0[(s * time + t) * ldx..][..k];
                for (w, part) in win.chunks_exact(input).enumerate() {
                    // Window row `t` starts at padded row `t`; padded row `p` is step
                    // `p - lead`.
                    let lead = usize::from(d.window == 2 && !d.reverse);
                    let p = t + w;
                    if p < lead || p - lead >= n {
                        continue;
                    }
                    let step = p - lead;
                    dx[step * input..][..input]
                        .iter_mut()
                        .zip(part)
                        .for_each(|(a, b)| *a += b);
                }
            }
        }
        dx
    });
    Grads {
        x,
        weight,
        bias,
        c0: needs[3].then_some(dc0),
    }
}

/// What the backward pass reads for one sequence: `gates` `[T, ldc]` activations, `c`, `dh`
/// `[T, H]`, `c0`, `dcn` `[H]`.
struct SequenceSaved<'a> {
    gates: &'a [f32],
    ldc: usize,
    c: &'a [f32],
    c0: &'a [f32],
    dh: &'a [f32],
    dcn: &'a [f32],
}

/// One sequence's gate gradients `dg` `[T, G * H]` (0 past `n`) and `dc0` into `g` `[H]`.
fn backward_sequence(d: Dims, n: usize, s: SequenceSaved<'_>, dg: &mut [f32], g: &mut [f32]) {
    let (h, gh) = (d.hidden, d.gh());
    g.copy_from_slice(s.dcn);
    dg[n * gh..].fill(0.0);
    for step in (0..n).rev() {
        let t = if d.reverse { n - 1 - step } else { step };
        let previous = match (d.reverse, t) {
            (false, 0) => s.c0,
            (false, t) => &s.c[(t - 1) * h..][..h],
            (true, t) if t + 1 == n => s.c0,
            (true, t) => &s.c[(t + 1) * h..][..h],
        };
        let a = &s.gates[t * s.ldc..][..gh];
        let c = &s.c[t * h..][..h];
        let dh = &s.dh[t * h..][..h];
        let dg = &mut dg[t * gh..][..gh];
        for j in 0..h {
            let (z, f) = (a[j], a[h + j]);
            let dc = match d.pooling {
                QrnnPooling::F => g[j] + dh[j],
                QrnnPooling::Fo | QrnnPooling::Ifo => {
                    let o = a[2 * h + j];
                    dg[2 * h + j] = dh[j] * c[j] * o * (1.0 - o);
                    g[j] + dh[j] * o
                }
            };
            let (dz, df) = match d.pooling {
                QrnnPooling::F | QrnnPooling::Fo => (dc * (1.0 - f), dc * (previous[j] - z)),
                QrnnPooling::Ifo => {
                    let i = a[3 * h + j];
                    dg[3 * h + j] = dc * z * i * (1.0 - i);
                    (dc * i, dc * previous[j])
                }
            };
            dg[j] = dz * (1.0 - z * z);
            dg[h + j] = df * f * (1.0 - f);
            g[j] = dc * f;
        }
    }
}

impl QrnnDirection for Flex {
    fn qrnn_direction(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        c0: FlexTensor,
        lengths: Vec<usize>,
        pooling: QrnnPooling,
        window: usize,
        reverse: bool,
    ) -> FlexTensor {
        forward(
            &x, &weight, &bias, &c0, lengths, pooling, window, reverse, false,
        )
        .0
    }
}

/// The backward step.
#[derive(Debug)]
struct DirectionBackward;

/// What the backward step keeps, with the input shapes (x, weight, bias, c0).
#[derive(Debug, Clone)]
struct DirectionState(Arc<(Saved, [Vec<usize>; 4])>);

impl Backward<Flex, 4> for DirectionBackward {
    type State = DirectionState;

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (saved, shapes) = &*ops.state.0;
        let d_out = Contiguous::new(&grad);
        let needs = ops.parents.each_ref().map(Option::is_some);
        let g = backward(saved, d_out.slice(), needs);
        let values = [g.x, g.weight, g.bias, g.c0];
        for ((parent, values), shape) in ops.parents.iter().zip(values).zip(shapes) {
            if let (Some(node), Some(values)) = (parent, values) {
                grads.register::<Flex>(node.id, flex_tensor(values, shape));
            }
        }
    }
}

impl<C: CheckpointStrategy> QrnnDirection for Autodiff<Flex, C> {
    fn qrnn_direction(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        lengths: Vec<usize>,
        pooling: QrnnPooling,
        window: usize,
        reverse: bool,
    ) -> FloatTensor<Self> {
        let (x, x_node) = x.into_parts();
        let (weight, w_node) = weight.into_parts();
        let (bias, b_node) = bias.into_parts();
        let (c0, c_node) = c0.into_parts();
        let shapes = [&x, &weight, &bias, &c0].map(|t| t.layout().shape().to_vec());
        match DirectionBackward
            .prepare::<C>([x_node, w_node, b_node, c_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (out, saved) = forward(
                    &x, &weight, &bias, &c0, lengths, pooling, window, reverse, true,
                );
                let saved = saved.expect("a training forward pass saves its activations");
                prep.finish(DirectionState(Arc::new((saved, shapes))), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(
                forward(
                    &x, &weight, &bias, &c0, lengths, pooling, window, reverse, false,
                )
                .0,
            ),
        }
    }
}
