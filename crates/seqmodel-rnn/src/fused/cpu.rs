//! The fused recurrence on raw `f32` buffers: forward (optionally saving what the backward
//! pass needs) and backpropagation through time, for LSTM, GRU and RNN cells.
//!
//! Layouts (all row-major, batch-major, `G` gates, `H` hidden, `S` = [`CellKind::state_rows`]):
//! - `x: [B, T, In]`, `w_ih: [G*H, In]` (PyTorch's `weight_ih`), `bias: [G*H]`: every bias
//!   outside the recurrence (all of `b_ih + b_hh` for LSTM and RNN; `b_ih` and the r, z parts
//!   of `b_hh` for a GRU);
//! - `w_hh: [G*H, H]` (PyTorch's `weight_hh`), `b_hn: [H]` (GRU only);
//! - `h0, c0: [B, H]`; `lengths: [B]`, each in `0..=T`;
//! - output `[B*T + S*B, H]`: first `h_t` for every `(b, t)` (row `b*T + t`, exactly 0 past a
//!   sequence's length; a contiguous `[B, T, H]`), then `h_n` (rows `B*T + b`) and, for an
//!   LSTM, `c_n` (rows `B*T + B + b`): the state after each sequence's last valid step.
//!
//! First one large product projects the inputs of every step (`x W_ih^T`, rows split across
//! threads); then each step is one small product `h W_hh^T` ([`PackedMatrix`]) and one vectorised pass of gate
//! math writing the new state in place. The batch is split into independent row blocks, one
//! per worker thread, each running the whole time loop: no synchronisation between steps, so a
//! worker delayed by another process only delays itself.

use std::ops::Range;

use rayon::prelude::*;

pub use super::kind::CellKind;
use super::matmul::{PackedMatrix, TiledProduct, product_isa};
use super::simd::{Isa, Portable, Simd};

/// The sizes of one fused call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// `B`.
    pub batch: usize,
    /// `T`.
    pub time: usize,
    /// `H`.
    pub hidden: usize,
    /// `In`.
    pub input: usize,
    /// Walk `t = T-1 .. 0` (each sequence starting at its own last valid step).
    pub reverse: bool,
}

impl Dims {
    fn step(&self, s: usize) -> usize {
        if self.reverse { self.time - 1 - s } else { s }
    }
}

/// The inputs of a fused call (see the module docs for the layouts).
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// `[B, T, In]`.
    pub x: &'a [f32],
    /// `[G*H, In]`.
    pub w_ih: &'a [f32],
    /// `[G*H]`.
    pub bias: &'a [f32],
    /// `[G*H, H]`.
    pub w_hh: &'a [f32],
    /// `[H]` for a GRU, ignored otherwise.
    pub b_hn: &'a [f32],
    /// `[B, H]`.
    pub h0: &'a [f32],
    /// `[B, H]` for an LSTM, ignored otherwise.
    pub c0: &'a [f32],
    /// `[B]`, each `<= T`.
    pub lengths: &'a [usize],
}

impl Drop for Saved {
    fn drop(&mut self) {
        for buf in [
            &mut self.act,
            &mut self.hprev,
            &mut self.cprev,
            &mut self.tanh_cell,
        ] {
            scratch::give(std::mem::take(buf));
        }
    }
}

/// The recurrence's view of a call: the projected inputs `xp: [B*T, xs]` (row stride `xs`,
/// `x W_ih^T` without the bias) and the rest of [`Inputs`].
struct Recurrence<'a> {
    xp: &'a [f32],
    xs: usize,
    bias: &'a [f32],
    b_hn: &'a [f32],
    h0: &'a [f32],
    c0: &'a [f32],
    lengths: &'a [usize],
}

/// What the forward pass keeps for the backward pass, `[B, T, ..]` each. Only `hprev` is
/// defined (0) at padded steps. Its buffers go back to a pool when it is dropped.
#[derive(Debug, Clone, Default)]
pub struct Saved {
    /// Activations: LSTM `i f g o`, GRU `r z n hn` (`hn = h W_hn^T + b_hn`), RNN `h_t`;
    /// `[B, T, saved_gates * H]`.
    pub act: Vec<f32>,
    /// The hidden state each step started from: `[B, T, H]`.
    pub hprev: Vec<f32>,
    /// LSTM: the cell state each step started from, `[B, T, H]`.
    pub cprev: Vec<f32>,
    /// LSTM: `tanh` of the cell state after each step, `[B, T, H]` (all the backward pass
    /// needs of it).
    pub tanh_cell: Vec<f32>,
}

/// Which gradients a backward pass computes (an input that needs none is skipped: e.g. the
/// input sequence of a first layer is often a leaf without gradient).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// `x`.
    pub x: bool,
    /// `w_ih`.
    pub w_ih: bool,
    /// `bias`.
    pub bias: bool,
    /// `w_hh`.
    pub w_hh: bool,
    /// `b_hn`.
    pub b_hn: bool,
}

#[cfg(test)]
impl Needs {
    /// Every gradient.
    pub const ALL: Needs = Needs {
        x: true,
        w_ih: true,
        bias: true,
        w_hh: true,
        b_hn: true,
    };
}

/// Gradients of a fused call with respect to each input (empty where not [`Needs`]ed; `h0`
/// and `c0` always).
#[derive(Debug, Clone)]
pub struct Grads {
    /// `[B, T, In]`.
    pub x: Vec<f32>,
    /// `[G*H, In]`.
    pub w_ih: Vec<f32>,
    /// `[G*H]`.
    pub bias: Vec<f32>,
    /// `[G*H, H]`.
    pub w_hh: Vec<f32>,
    /// `[H]` (zeros unless GRU).
    pub b_hn: Vec<f32>,
    /// `[B, H]`.
    pub h0: Vec<f32>,
    /// `[B, H]` (zeros unless LSTM).
    pub c0: Vec<f32>,
}

/// Below this many multiply-adds per step and row block, a second thread costs more than it
/// saves (measured on case e of `cargo xtask bench-backends`).
const MIN_MACS_PER_BLOCK: usize = 32 * 1024;

/// Split `0..batch` into contiguous row blocks, one per worker thread where it pays.
fn row_blocks(batch: usize, macs_per_row: usize) -> Vec<Range<usize>> {
    let threads = rayon::current_num_threads().max(1);
    let by_work = (batch * macs_per_row / MIN_MACS_PER_BLOCK).max(1);
    let blocks = threads.min(batch).min(by_work).max(1);
    let (base, extra) = (batch / blocks, batch % blocks);
    let mut start = 0;
    (0..blocks)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let range = start..start + len;
            start += len;
            range
        })
        .collect()
}

/// Split `buf` (rows of `per_row` values) along `blocks`; an empty `buf` gives empty slices.
fn split_rows<'a>(
    buf: &'a mut [f32],
    per_row: usize,
    blocks: &[Range<usize>],
) -> Vec<&'a mut [f32]> {
    let mut rest = buf;
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        if rest.is_empty() {
            out.push(&mut [][..]);
            continue;
        }
        let (head, tail) = rest.split_at_mut(block.len() * per_row);
        out.push(head);
        rest = tail;
    }
    out
}

/// One row block's share of the forward outputs.
struct ForwardBlock<'a> {
    rows: Range<usize>,
    /// The block's output rows, `[m, T, H]`.
    out: &'a mut [f32],
    /// The block's `h_n` and `c_n` rows, `[m, H]` each (`c_n` empty unless LSTM).
    h_n: &'a mut [f32],
    c_n: &'a mut [f32],
    act: &'a mut [f32],
    hprev: &'a mut [f32],
    cprev: &'a mut [f32],
    tanh_cell: &'a mut [f32],
}

/// Run the recurrence. Returns the packed output `[B*T + S*B, H]` and, with `train`, what
/// [`backward`] needs.
pub fn forward(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    inputs: &Inputs<'_>,
    train: bool,
) -> (Vec<f32>, Option<Saved>) {
    forward_prepacked(isa, kind, dims, inputs, train, None)
}

/// `W_ih^T` and `W_hh^T` already packed for the tiled product (e.g. kept between calls).
#[derive(Debug, Clone, Copy)]
pub struct Prepacked<'a> {
    /// `PackedMatrix::transposed(w_ih, G*H, In, isa)`.
    pub w_ih_t: &'a PackedMatrix,
    /// `PackedMatrix::transposed(w_hh, G*H, H, isa)`.
    pub w_hh_t: &'a PackedMatrix,
}

/// [`forward`], with the weights packed by the caller when `prepacked` is given (for the
/// same `isa`; their values must be `inputs.w_ih` and `inputs.w_hh`).
pub fn forward_prepacked(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    inputs: &Inputs<'_>,
    train: bool,
    prepacked: Option<Prepacked<'_>>,
) -> (Vec<f32>, Option<Saved>) {
    let Dims {
        batch,
        time,
        hidden,
        ..
    } = dims;
    let gh = kind.gates() * hidden;
    check_inputs(kind, dims, inputs);
    if let Some(p) = prepacked {
        assert_eq!(
            p.w_ih_t.shape(),
            (dims.input, gh),
            "prepacked W_ih^T: [In, G*H]"
        );
        assert_eq!(p.w_hh_t.shape(), (hidden, gh), "prepacked W_hh^T: [H, G*H]");
    }
    let packed_ih;
    let wih_t = match prepacked {
        Some(p) => p.w_ih_t,
        None => {
            packed_ih = PackedMatrix::transposed(inputs.w_ih, gh, dims.input, isa);
            &packed_ih
        }
    };
    let xs = wih_t.padded_n();
    let mut xp = scratch::take(batch * time * xs);
    parallel_product(isa, inputs.x, dims.input, wih_t, &mut xp, xs);
    let zeros;
    let b_hn = if kind == CellKind::Gru {
        inputs.b_hn
    } else {
        zeros = vec![0.0f32; hidden];
        &zeros[..]
    };
    let rec = Recurrence {
        xp: &xp,
        xs,
        bias: inputs.bias,
        b_hn,
        h0: inputs.h0,
        c0: inputs.c0,
        lengths: inputs.lengths,
    };
    let mut out = vec![0.0; batch * (time + kind.state_rows()) * hidden];
    let (outputs, states) = out.split_at_mut(batch * time * hidden);
    let (h_n, c_n) = states.split_at_mut(batch * hidden);
    let per_step = batch * time * hidden;
    let mut saved = Saved::default();
    if train {
        // Recycled buffers: the forward pass writes every entry the backward pass reads
        // (activations at real steps; `hprev` everywhere, 0 at padded steps).
        saved.act = scratch::take(per_step * kind.saved_gates());
        saved.hprev = scratch::take(per_step);
        if kind.has_cell() {
            saved.cprev = scratch::take(per_step);
            saved.tanh_cell = scratch::take(per_step);
        }
    }
    let packed_hh;
    let wt = match prepacked {
        Some(p) => p.w_hh_t,
        None => {
            packed_hh = PackedMatrix::transposed(inputs.w_hh, gh, hidden, isa);
            &packed_hh
        }
    };
    let blocks = row_blocks(batch, gh * hidden);
    let row = |n: usize| time * n * hidden;
    let mut outs = split_rows(outputs, time * hidden, &blocks).into_iter();
    let mut h_ns = split_rows(h_n, hidden, &blocks).into_iter();
    let mut c_ns = split_rows(c_n, hidden, &blocks).into_iter();
    let mut acts = split_rows(&mut saved.act, row(kind.saved_gates()), &blocks).into_iter();
    let mut hprevs = split_rows(&mut saved.hprev, row(1), &blocks).into_iter();
    let mut cprevs = split_rows(&mut saved.cprev, row(1), &blocks).into_iter();
    let mut cells = split_rows(&mut saved.tanh_cell, row(1), &blocks).into_iter();
    let jobs: Vec<ForwardBlock<'_>> = blocks
        .iter()
        .map(|rows| ForwardBlock {
            rows: rows.clone(),
            out: outs.next().unwrap_or_default(),
            h_n: h_ns.next().unwrap_or_default(),
            c_n: c_ns.next().unwrap_or_default(),
            act: acts.next().unwrap_or_default(),
            hprev: hprevs.next().unwrap_or_default(),
            cprev: cprevs.next().unwrap_or_default(),
            tanh_cell: cells.next().unwrap_or_default(),
        })
        .collect();
    let run =
        |mut job: ForwardBlock<'_>| forward_block_isa(isa, kind, dims, &rec, wt, train, &mut job);
    if jobs.len() == 1 {
        jobs.into_iter().for_each(run);
    } else {
        jobs.into_par_iter().for_each(run);
    }
    scratch::give(xp);
    (out, train.then_some(saved))
}

fn check_inputs(kind: CellKind, dims: Dims, inputs: &Inputs<'_>) {
    let Dims {
        batch,
        time,
        hidden,
        ..
    } = dims;
    let gh = kind.gates() * hidden;
    assert_eq!(inputs.x.len(), batch * time * dims.input, "x: [B, T, In]");
    assert_eq!(inputs.w_ih.len(), gh * dims.input, "w_ih: [G*H, In]");
    assert_eq!(inputs.bias.len(), gh, "bias: [G*H]");
    assert_eq!(inputs.w_hh.len(), gh * hidden, "w_hh: [G*H, H]");
    assert_eq!(inputs.h0.len(), batch * hidden, "h0: [B, H]");
    assert_eq!(inputs.lengths.len(), batch, "lengths: [B]");
    assert!(inputs.lengths.iter().all(|&l| l <= time), "lengths <= T");
    if kind.has_cell() {
        assert_eq!(inputs.c0.len(), batch * hidden, "c0: [B, H]");
    }
    if kind == CellKind::Gru {
        assert_eq!(inputs.b_hn.len(), hidden, "b_hn: [H]");
    }
}

/// Run one row block under `isa`.
fn forward_block_isa(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    inputs: &Recurrence<'_>,
    wt: &PackedMatrix,
    train: bool,
    job: &mut ForwardBlock<'_>,
) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if Isa::Avx512.is_supported() => {
            #[target_feature(enable = "avx512f")]
            unsafe fn go(
                kind: CellKind,
                dims: Dims,
                inputs: &Recurrence<'_>,
                wt: &PackedMatrix,
                train: bool,
                job: &mut ForwardBlock<'_>,
            ) {
                // SAFETY: AVX-512F is enabled here.
                unsafe { forward_block::<super::simd::Avx512>(kind, dims, inputs, wt, train, job) }
            }
            // SAFETY: the CPU supports AVX-512F (checked above).
            unsafe { go(kind, dims, inputs, wt, train, job) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if Isa::Avx2.is_supported() => {
            #[target_feature(enable = "avx2,fma")]
            unsafe fn go(
                kind: CellKind,
                dims: Dims,
                inputs: &Recurrence<'_>,
                wt: &PackedMatrix,
                train: bool,
                job: &mut ForwardBlock<'_>,
            ) {
                // SAFETY: AVX2 and FMA are enabled here.
                unsafe { forward_block::<super::simd::Avx2>(kind, dims, inputs, wt, train, job) }
            }
            // SAFETY: the CPU supports AVX2 and FMA (checked above).
            unsafe { go(kind, dims, inputs, wt, train, job) }
        }
        // SAFETY: portable code runs everywhere.
        _ => unsafe { forward_block::<Portable>(kind, dims, inputs, wt, train, job) },
    }
}

/// The time loop of one row block.
///
/// # Safety
/// `S` must be supported by the running code; `wt` packed for `S`'s instruction set.
#[inline(always)]
unsafe fn forward_block<S: TiledProduct>(
    kind: CellKind,
    dims: Dims,
    inputs: &Recurrence<'_>,
    wt: &PackedMatrix,
    train: bool,
    job: &mut ForwardBlock<'_>,
) {
    let Dims { time, hidden, .. } = dims;
    let h_ = hidden;
    let gh = kind.gates() * h_;
    let sg = kind.saved_gates() * h_;
    let b0 = job.rows.start;
    let m = job.rows.len();
    let np = wt.padded_n();
    let out_row = time * h_;
    let mut h = inputs.h0[b0 * h_..(b0 + m) * h_].to_vec();
    let mut c = if kind.has_cell() {
        inputs.c0[b0 * h_..(b0 + m) * h_].to_vec()
    } else {
        Vec::new()
    };
    let mut gates = vec![0.0f32; m * np];
    let mut scratch = Vec::new();
    let lengths = &inputs.lengths[job.rows.clone()];
    let (b_hn, bias) = (inputs.b_hn, inputs.bias);
    for s in 0..time {
        let t = dims.step(s);
        if lengths.iter().all(|&l| l <= t) {
            if train {
                for r in 0..m {
                    job.hprev[(r * time + t) * h_..][..h_].fill(0.0);
                }
            }
            continue;
        }
        // SAFETY: `h` is `m x H`, `gates` is `m x np`.
        unsafe {
            S::product(
                m,
                h.as_ptr(),
                (h_, 1),
                wt,
                gates.as_mut_ptr(),
                np,
                &mut scratch,
            )
        };
        for (r, &len) in lengths.iter().enumerate() {
            if len <= t {
                if train {
                    job.hprev[(r * time + t) * h_..][..h_].fill(0.0);
                }
                continue;
            }
            let bt = r * time + t;
            let x = &inputs.xp[((b0 + r) * time + t) * inputs.xs..][..gh];
            let g = &gates[r * np..][..gh];
            let hr = &mut h[r * h_..][..h_];
            let out = &mut job.out[r * out_row + t * h_..][..h_];
            let act = if train {
                job.hprev[bt * h_..][..h_].copy_from_slice(hr);
                job.act[bt * sg..][..sg].as_mut_ptr()
            } else {
                std::ptr::null_mut()
            };
            // SAFETY: every slice above has the length the row functions read or write.
            unsafe {
                match kind {
                    CellKind::Lstm => {
                        let cr = &mut c[r * h_..][..h_];
                        let cell = if train {
                            job.cprev[bt * h_..][..h_].copy_from_slice(cr);
                            job.tanh_cell[bt * h_..][..h_].as_mut_ptr()
                        } else {
                            std::ptr::null_mut()
                        };
                        let p = LstmPtrs {
                            x: x.as_ptr(),
                            b: bias.as_ptr(),
                            g: g.as_ptr(),
                            h: hr.as_mut_ptr(),
                            c: cr.as_mut_ptr(),
                            out: out.as_mut_ptr(),
                            act,
                            tanh_cell: cell,
                        };
                        let main = h_ / S::LANES * S::LANES;
                        lstm_span::<S>(h_, 0, main, &p);
                        lstm_span::<Portable>(h_, main, h_, &p);
                    }
                    CellKind::Gru => {
                        let p = GruPtrs {
                            x: x.as_ptr(),
                            b: bias.as_ptr(),
                            g: g.as_ptr(),
                            b_hn: b_hn.as_ptr(),
                            h: hr.as_mut_ptr(),
                            out: out.as_mut_ptr(),
                            act,
                        };
                        let main = h_ / S::LANES * S::LANES;
                        gru_span::<S>(h_, 0, main, &p);
                        gru_span::<Portable>(h_, main, h_, &p);
                    }
                    CellKind::RnnTanh | CellKind::RnnRelu => {
                        let relu = kind == CellKind::RnnRelu;
                        let p = RnnPtrs {
                            x: x.as_ptr(),
                            b: bias.as_ptr(),
                            g: g.as_ptr(),
                            h: hr.as_mut_ptr(),
                            out: out.as_mut_ptr(),
                            act,
                        };
                        let main = h_ / S::LANES * S::LANES;
                        rnn_span::<S>(relu, 0, main, &p);
                        rnn_span::<Portable>(relu, main, h_, &p);
                    }
                }
            }
        }
    }
    job.h_n.copy_from_slice(&h);
    if kind.has_cell() {
        job.c_n.copy_from_slice(&c);
    }
}

struct LstmPtrs {
    x: *const f32,
    /// The bias outside the recurrence, `[G*H]`.
    b: *const f32,
    g: *const f32,
    h: *mut f32,
    c: *mut f32,
    out: *mut f32,
    act: *mut f32,
    /// `tanh` of the new cell state (training).
    tanh_cell: *mut f32,
}

/// LSTM gate math on columns `j0..j1` (a multiple of `S::LANES` long).
#[inline(always)]
unsafe fn lstm_span<S: Simd>(h_: usize, j0: usize, j1: usize, p: &LstmPtrs) {
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `4H` (x, g, act) and `H` (h, c, out, cell).
        unsafe {
            let (xs, gs, bs) = (p.x.add(j), p.g.add(j), p.b.add(j));
            // A macro, not a closure: closures do not inherit the caller's target features.
            macro_rules! pre {
                ($q:expr) => {
                    S::add(
                        S::add(S::load(xs.add($q * h_)), S::load(bs.add($q * h_))),
                        S::load(gs.add($q * h_)),
                    )
                };
            }
            let i = S::sigmoid(pre!(0));
            let f = S::sigmoid(pre!(1));
            let g = S::tanh(pre!(2));
            let o = S::sigmoid(pre!(3));
            let c = S::mul_add(f, S::load(p.c.add(j)), S::mul(i, g));
            let tc = S::tanh(c);
            let h = S::mul(o, tc);
            S::store(p.c.add(j), c);
            S::store(p.h.add(j), h);
            S::store(p.out.add(j), h);
            if !p.act.is_null() {
                S::store(p.act.add(j), i);
                S::store(p.act.add(h_ + j), f);
                S::store(p.act.add(2 * h_ + j), g);
                S::store(p.act.add(3 * h_ + j), o);
                S::store(p.tanh_cell.add(j), tc);
            }
        }
        j += S::LANES;
    }
}

struct GruPtrs {
    x: *const f32,
    /// The bias outside the recurrence, `[G*H]`.
    b: *const f32,
    g: *const f32,
    b_hn: *const f32,
    h: *mut f32,
    out: *mut f32,
    act: *mut f32,
}

/// GRU gate math on columns `j0..j1`: `r, z = sigmoid(x + g)`, `hn = g_n + b_hn`,
/// `n = tanh(x_n + r * hn)`, `h' = (1 - z) n + z h`.
#[inline(always)]
unsafe fn gru_span<S: Simd>(h_: usize, j0: usize, j1: usize, p: &GruPtrs) {
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `3H` (x, g), `4H` (act), `H` (the rest).
        unsafe {
            macro_rules! xb {
                ($q:expr) => {
                    S::add(S::load(p.x.add($q * h_ + j)), S::load(p.b.add($q * h_ + j)))
                };
            }
            let r = S::sigmoid(S::add(xb!(0), S::load(p.g.add(j))));
            let z = S::sigmoid(S::add(xb!(1), S::load(p.g.add(h_ + j))));
            let hn = S::add(S::load(p.g.add(2 * h_ + j)), S::load(p.b_hn.add(j)));
            let n = S::tanh(S::mul_add(r, hn, xb!(2)));
            let h_old = S::load(p.h.add(j));
            let one_minus_z = S::sub(S::splat(1.0), z);
            let h = S::mul_add(one_minus_z, n, S::mul(z, h_old));
            S::store(p.h.add(j), h);
            S::store(p.out.add(j), h);
            if !p.act.is_null() {
                S::store(p.act.add(j), r);
                S::store(p.act.add(h_ + j), z);
                S::store(p.act.add(2 * h_ + j), n);
                S::store(p.act.add(3 * h_ + j), hn);
            }
        }
        j += S::LANES;
    }
}

struct RnnPtrs {
    x: *const f32,
    /// The bias outside the recurrence, `[G*H]`.
    b: *const f32,
    g: *const f32,
    h: *mut f32,
    out: *mut f32,
    act: *mut f32,
}

/// RNN math on columns `j0..j1`: `h' = tanh(x + g)` or `relu(x + g)`.
#[inline(always)]
unsafe fn rnn_span<S: Simd>(relu: bool, j0: usize, j1: usize, p: &RnnPtrs) {
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `H` each.
        unsafe {
            let pre = S::add(
                S::add(S::load(p.x.add(j)), S::load(p.b.add(j))),
                S::load(p.g.add(j)),
            );
            let h = if relu { S::relu(pre) } else { S::tanh(pre) };
            S::store(p.h.add(j), h);
            S::store(p.out.add(j), h);
            if !p.act.is_null() {
                S::store(p.act.add(j), h);
            }
        }
        j += S::LANES;
    }
}

/// One row block's share of the gradients.
struct BackwardBlock<'a> {
    rows: Range<usize>,
    d_xp: &'a mut [f32],
    /// GRU only: the gradient of `h W_hh^T + [0, 0, b_hn]` (differs from `d_xp` in the n part).
    d_gh: &'a mut [f32],
    d_h0: &'a mut [f32],
    d_c0: &'a mut [f32],
    /// This block's share of the bias gradient (column sums of its `d_xp` rows), summed
    /// while the rows are written; empty when the bias needs no gradient.
    d_bias: Vec<f32>,
    /// GRU: this block's share of the `b_hn` gradient (sums of the n part of `d_gh`); empty
    /// when not needed.
    d_b_hn: Vec<f32>,
}

/// Backpropagation through time: the gradients of every input of [`forward`] given the gradient
/// `d_out: [B*T + S*B, H]` of its packed output and the [`Saved`] of a `train` forward run.
pub fn backward(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    inputs: &Inputs<'_>,
    saved: &Saved,
    d_out: &[f32],
    needs: Needs,
) -> Grads {
    let Dims {
        batch,
        time,
        hidden,
        ..
    } = dims;
    let gh = kind.gates() * hidden;
    check_inputs(kind, dims, inputs);
    assert_eq!(
        d_out.len(),
        batch * (time + kind.state_rows()) * hidden,
        "d_out: [B*T + S*B, H]"
    );
    assert_eq!(
        saved.hprev.len(),
        batch * time * hidden,
        "saved by a train forward run"
    );
    let zeros = |need: bool, n: usize| if need { vec![0.0; n] } else { Vec::new() };
    let mut grads = Grads {
        x: Vec::new(),
        w_ih: zeros(needs.w_ih, gh * dims.input),
        bias: zeros(needs.bias, gh),
        w_hh: zeros(needs.w_hh, gh * hidden),
        b_hn: zeros(needs.b_hn, hidden),
        h0: vec![0.0; batch * hidden],
        c0: vec![0.0; batch * hidden],
    };
    // Both written in full by the blocks (zeros at padded steps), so recycled buffers do.
    let mut d_xp = scratch::take(batch * time * gh);
    let mut d_gh = if kind == CellKind::Gru {
        scratch::take(batch * time * gh)
    } else {
        Vec::new()
    };
    let w = PackedMatrix::rows(inputs.w_hh, gh, hidden, isa);
    let blocks = row_blocks(batch, gh * hidden);
    let mut d_xps = split_rows(&mut d_xp, time * gh, &blocks).into_iter();
    let mut d_ghs = split_rows(&mut d_gh, time * gh, &blocks).into_iter();
    let mut d_h0s = split_rows(&mut grads.h0, hidden, &blocks).into_iter();
    let mut d_c0s = split_rows(&mut grads.c0, hidden, &blocks).into_iter();
    let jobs: Vec<BackwardBlock<'_>> = blocks
        .iter()
        .map(|rows| BackwardBlock {
            rows: rows.clone(),
            d_xp: d_xps.next().unwrap_or_default(),
            d_gh: d_ghs.next().unwrap_or_default(),
            d_h0: d_h0s.next().unwrap_or_default(),
            d_c0: d_c0s.next().unwrap_or_default(),
            d_bias: zeros(needs.bias, gh),
            d_b_hn: zeros(kind == CellKind::Gru && needs.b_hn, hidden),
        })
        .collect();
    let run = |job: &mut BackwardBlock<'_>| {
        backward_block_isa(isa, kind, dims, inputs.lengths, saved, d_out, &w, job)
    };
    let mut jobs = jobs;
    if jobs.len() == 1 {
        jobs.iter_mut().for_each(run);
    } else {
        jobs.par_iter_mut().for_each(run);
    }
    for job in &jobs {
        add_to(&mut grads.bias, &job.d_bias);
        add_to(&mut grads.b_hn, &job.d_b_hn);
    }
    drop(jobs);
    drop((d_xps, d_ghs, d_h0s, d_c0s));

    // dW_hh [gh, H] = d_gh^T [gh, B*T] x h_prev [B*T, H] and dW_ih [gh, In] = d_xp^T x: for
    // an LSTM or RNN `d_gh` is `d_xp`, so one product against `[h_prev | x]` gives both.
    let rows = batch * time;
    let input = dims.input;
    {
        let Grads { w_hh, w_ih, .. } = &mut grads;
        let hh = needs
            .w_hh
            .then_some((&saved.hprev[..], hidden, &mut w_hh[..]));
        let ih = needs.w_ih.then_some((inputs.x, input, &mut w_ih[..]));
        if kind == CellKind::Gru {
            if let Some(part) = hh {
                weight_gradients(isa, &d_gh, gh, &mut [part]);
            }
            if let Some(part) = ih {
                weight_gradients(isa, &d_xp, gh, &mut [part]);
            }
        } else {
            let mut parts: Vec<_> = hh.into_iter().chain(ih).collect();
            if !parts.is_empty() {
                weight_gradients(isa, &d_xp, gh, &mut parts);
            }
        }
    }
    // The input projection: dx = d_xp W_ih (d_bias, the column sums of d_xp, was summed by
    // the blocks).
    if needs.x {
        let w_ih = PackedMatrix::rows(inputs.w_ih, gh, input, isa);
        let xs = w_ih.padded_n();
        let mut dx = vec![0.0f32; rows * xs];
        parallel_product(isa, &d_xp, gh, &w_ih, &mut dx, xs);
        if xs != input {
            for r in 0..rows {
                dx.copy_within(r * xs..r * xs + input, r * input);
            }
            dx.truncate(rows * input);
        }
        grads.x = dx;
    }
    scratch::give(d_xp);
    scratch::give(d_gh);
    grads
}

/// `acc += v` elementwise (nothing for an empty `v`).
fn add_to(acc: &mut [f32], v: &[f32]) {
    for (a, v) in acc.iter_mut().zip(v) {
        *a += v;
    }
}

/// `out_i [m, n_i] = d^T x v_i` for row-major `d: [rows, m]` and every part
/// `(v_i: [rows, n_i], n_i, out_i)`: the gradients of weights from the gradients `d` of their
/// products and their inputs `v_i`. One product against `[v_1 | v_2 | ..]` (packed once),
/// so `d`, read transposed through the strides, is packed once for all parts.
fn weight_gradients(isa: Isa, d: &[f32], m: usize, parts: &mut [(&[f32], usize, &mut [f32])]) {
    let n: usize = parts.iter().map(|p| p.1).sum();
    let rows = parts.first().map_or(0, |p| p.0.len() / p.1.max(1));
    for (v, width, out) in parts.iter() {
        assert!(
            v.len() == rows * width && out.len() == m * width && d.len() >= rows * m,
            "weight_gradients: operand sizes"
        );
    }
    if rows == 0 || m == 0 || n == 0 {
        for (_, _, out) in parts.iter_mut() {
            out.fill(0.0);
        }
        return;
    }
    let sources: Vec<(&[f32], usize)> = parts.iter().map(|p| (p.0, p.1)).collect();
    let packed = PackedMatrix::rows_concat(&sources, rows, isa);
    let ldc = packed.padded_n();
    if let [(_, width, out)] = parts
        && ldc == *width
    {
        parallel_product_strided(isa, d, m, (1, m), &packed, out, ldc);
        return;
    }
    let mut wide = scratch::take(m * ldc);
    parallel_product_strided(isa, d, m, (1, m), &packed, &mut wide, ldc);
    let mut offset = 0;
    for (_, width, out) in parts.iter_mut() {
        for (row, wide) in out.chunks_exact_mut(*width).zip(wide.chunks_exact(ldc)) {
            row.copy_from_slice(&wide[offset..offset + *width]);
        }
        offset += *width;
    }
    scratch::give(wide);
}

/// `c[r, ..ldc] = a[r, ..k] x P` for every row of a row-major `a: [rows, k]`, rows split
/// across threads.
fn parallel_product(isa: Isa, a: &[f32], k: usize, p: &PackedMatrix, c: &mut [f32], ldc: usize) {
    if k == 0 {
        return;
    }
    let rows = a.len() / k;
    parallel_product_strided(isa, a, rows, (k, 1), p, c, ldc);
}

/// `c[r, ..ldc] = a(r, ..) x P` for `r < m`, where `a(r, kk) = a[r * rs + kk * cs]` (so
/// `(1, m)` reads a row-major `[k, m]` matrix as its transpose), rows split across threads.
fn parallel_product_strided(
    isa: Isa,
    a: &[f32],
    m: usize,
    (rs, cs): (usize, usize),
    p: &PackedMatrix,
    c: &mut [f32],
    ldc: usize,
) {
    let k = p.k();
    if m == 0 || k == 0 {
        return;
    }
    assert!(
        (m - 1) * rs + (k - 1) * cs < a.len() && c.len() >= m * ldc && ldc >= p.padded_n(),
        "parallel_product: operands too small"
    );
    /// Rows per task: enough to amortise a task, few enough to balance two busy cores.
    const ROWS_PER_TASK: usize = 64;
    let tasks: Vec<(usize, &mut [f32])> = c[..m * ldc]
        .chunks_mut(ROWS_PER_TASK * ldc)
        .enumerate()
        .map(|(i, c)| (i * ROWS_PER_TASK, c))
        .collect();
    let run = |(r0, c): (usize, &mut [f32])| {
        let rows = c.len() / ldc;
        let mut scratch = Vec::new();
        // SAFETY: rows r0..r0+rows of `a` are in bounds (asserted above for every row < m).
        unsafe {
            product_isa(
                isa,
                rows,
                a.as_ptr().add(r0 * rs),
                (rs, cs),
                p,
                c,
                ldc,
                &mut scratch,
            )
        };
    };
    if tasks.len() == 1 {
        tasks.into_iter().for_each(run);
    } else {
        tasks.into_par_iter().for_each(run);
    }
}

/// A few large `f32` buffers kept between calls, so that the projections (`[B*T, G*H]`, several
/// MB) do not pay fresh page faults on every call. Contents of a taken buffer are arbitrary.
pub(crate) mod scratch {
    use std::sync::Mutex;

    static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
    /// Buffers kept at most: the projection, the packed weights and the saved activations of
    /// a layer direction, forward and backward.
    const KEEP: usize = 16;
    /// Values kept in all (512 MB); larger buffers are dropped.
    const MAX_TOTAL: usize = 1 << 27;

    /// A buffer of `n` values (arbitrary contents): the smallest pooled one that holds `n`
    /// without growing and is at most twice that, else a fresh one. (Growing a smaller pooled
    /// buffer copies its old contents and faults in new pages; handing a large one to a small
    /// request makes the next large request allocate.)
    pub fn take(n: usize) -> Vec<f32> {
        let found = POOL.lock().ok().and_then(|mut pool| {
            let best = (0..pool.len())
                .filter(|&i| (n..=n.saturating_mul(2)).contains(&pool[i].capacity()))
                .min_by_key(|&i| pool[i].capacity())?;
            Some(pool.swap_remove(best))
        });
        match found {
            Some(mut buf) => {
                // Same-shaped calls get back buffers of exactly their length: nothing to fill.
                if buf.len() >= n {
                    buf.truncate(n);
                } else {
                    buf.resize(n, 0.0);
                }
                buf
            }
            None => vec![0.0; n],
        }
    }

    /// Return a buffer for reuse.
    pub fn give(buf: Vec<f32>) {
        if buf.is_empty() {
            return;
        }
        if buf.capacity() > MAX_TOTAL {
            return;
        }
        if let Ok(mut pool) = POOL.lock() {
            pool.push(buf);
            // Over the limits, drop the smallest buffers first: they are the cheapest to make.
            while pool.len() > KEEP || pool.iter().map(Vec::capacity).sum::<usize>() > MAX_TOTAL {
                let Some(smallest) = (0..pool.len()).min_by_key(|&i| pool[i].capacity()) else {
                    break;
                };
                pool.swap_remove(smallest);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn backward_block_isa(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    lengths: &[usize],
    saved: &Saved,
    d_out: &[f32],
    w: &PackedMatrix,
    job: &mut BackwardBlock<'_>,
) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if Isa::Avx512.is_supported() => {
            #[target_feature(enable = "avx512f")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn go(
                kind: CellKind,
                dims: Dims,
                lengths: &[usize],
                saved: &Saved,
                d_out: &[f32],
                w: &PackedMatrix,
                job: &mut BackwardBlock<'_>,
            ) {
                // SAFETY: AVX-512F is enabled here.
                unsafe {
                    backward_block::<super::simd::Avx512>(kind, dims, lengths, saved, d_out, w, job)
                }
            }
            // SAFETY: the CPU supports AVX-512F (checked above).
            unsafe { go(kind, dims, lengths, saved, d_out, w, job) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if Isa::Avx2.is_supported() => {
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn go(
                kind: CellKind,
                dims: Dims,
                lengths: &[usize],
                saved: &Saved,
                d_out: &[f32],
                w: &PackedMatrix,
                job: &mut BackwardBlock<'_>,
            ) {
                // SAFETY: AVX2 and FMA are enabled here.
                unsafe {
                    backward_block::<super::simd::Avx2>(kind, dims, lengths, saved, d_out, w, job)
                }
            }
            // SAFETY: the CPU supports AVX2 and FMA (checked above).
            unsafe { go(kind, dims, lengths, saved, d_out, w, job) }
        }
        // SAFETY: portable code runs everywhere.
        _ => unsafe { backward_block::<Portable>(kind, dims, lengths, saved, d_out, w, job) },
    }
}

/// The reverse time loop of one row block.
///
/// # Safety
/// `S` must be supported by the running code; `w` packed for `S`'s instruction set.
#[inline(always)]
unsafe fn backward_block<S: TiledProduct>(
    kind: CellKind,
    dims: Dims,
    lengths: &[usize],
    saved: &Saved,
    d_out: &[f32],
    w: &PackedMatrix,
    job: &mut BackwardBlock<'_>,
) {
    let Dims {
        batch,
        time,
        hidden,
        ..
    } = dims;
    let h_ = hidden;
    let gh = kind.gates() * h_;
    let sg = kind.saved_gates() * h_;
    let b0 = job.rows.start;
    let m = job.rows.len();
    let np = w.padded_n();
    let out_row = time * h_;
    let lengths = &lengths[job.rows.clone()];
    // Carried gradients of the state, initialised from the gradients of h_n (and c_n).
    let mut dh = vec![0.0f32; m * h_];
    let mut dc = vec![0.0f32; if kind.has_cell() { m * h_ } else { 0 }];
    let states = batch * out_row;
    dh.copy_from_slice(&d_out[states + b0 * h_..][..m * h_]);
    if kind.has_cell() {
        dc.copy_from_slice(&d_out[states + (batch + b0) * h_..][..m * h_]);
    }
    let mut direct = vec![0.0f32; if kind == CellKind::Gru { m * h_ } else { 0 }];
    let mut dh_prev = vec![0.0f32; m * np];
    let mut scratch = Vec::new();
    for s in (0..time).rev() {
        let t = dims.step(s);
        if lengths.iter().all(|&l| l <= t) {
            for r in 0..m {
                let local = r * time + t;
                job.d_xp[local * gh..][..gh].fill(0.0);
                if kind == CellKind::Gru {
                    job.d_gh[local * gh..][..gh].fill(0.0);
                }
            }
            continue;
        }
        for (r, &len) in lengths.iter().enumerate() {
            if len <= t {
                let local = r * time + t;
                job.d_xp[local * gh..][..gh].fill(0.0);
                if kind == CellKind::Gru {
                    job.d_gh[local * gh..][..gh].fill(0.0);
                }
                continue;
            }
            let b = b0 + r;
            let bt = b * time + t;
            let local = r * time + t;
            let dout = &d_out[b * out_row + t * h_..][..h_];
            let act = &saved.act[bt * sg..][..sg];
            let hprev = &saved.hprev[bt * h_..][..h_];
            let dx = &mut job.d_xp[local * gh..][..gh];
            // SAFETY: every slice above has the length the row functions read or write.
            unsafe {
                match kind {
                    CellKind::Lstm => {
                        let p = LstmBackPtrs {
                            dh: dh[r * h_..].as_ptr(),
                            dc: dc[r * h_..].as_mut_ptr(),
                            dout: dout.as_ptr(),
                            act: act.as_ptr(),
                            tanh_cell: saved.tanh_cell[bt * h_..][..h_].as_ptr(),
                            cprev: saved.cprev[bt * h_..][..h_].as_ptr(),
                            dx: dx.as_mut_ptr(),
                        };
                        let main = h_ / S::LANES * S::LANES;
                        lstm_back_span::<S>(h_, 0, main, &p);
                        lstm_back_span::<Portable>(h_, main, h_, &p);
                    }
                    CellKind::Gru => {
                        let dgr = &mut job.d_gh[local * gh..][..gh];
                        let p = GruBackPtrs {
                            dh: dh[r * h_..].as_ptr(),
                            dout: dout.as_ptr(),
                            act: act.as_ptr(),
                            hprev: hprev.as_ptr(),
                            dx: dx.as_mut_ptr(),
                            dg: dgr.as_mut_ptr(),
                            direct: direct[r * h_..].as_mut_ptr(),
                        };
                        let main = h_ / S::LANES * S::LANES;
                        gru_back_span::<S>(h_, 0, main, &p);
                        gru_back_span::<Portable>(h_, main, h_, &p);
                        if !job.d_b_hn.is_empty() {
                            for (acc, v) in job.d_b_hn.iter_mut().zip(&dgr[2 * h_..]) {
                                *acc += v;
                            }
                        }
                    }
                    CellKind::RnnTanh | CellKind::RnnRelu => {
                        let relu = kind == CellKind::RnnRelu;
                        let p = RnnBackPtrs {
                            dh: dh[r * h_..].as_ptr(),
                            dout: dout.as_ptr(),
                            act: act.as_ptr(),
                            dx: dx.as_mut_ptr(),
                        };
                        let main = h_ / S::LANES * S::LANES;
                        rnn_back_span::<S>(relu, 0, main, &p);
                        rnn_back_span::<Portable>(relu, main, h_, &p);
                    }
                }
            }
            // A plain loop: vectorised under this function's target features.
            for (acc, v) in job.d_bias.iter_mut().zip(dx.iter()) {
                *acc += v;
            }
        }
        // The gradients of this step's recurrent products, read in place: row `r` at
        // `(r * T + t) * G*H` of `d_gh` (GRU) or `d_xp` (the same values for LSTM and RNN);
        // rows without a step `t` are 0.
        let d_rec = if kind == CellKind::Gru {
            &job.d_gh
        } else {
            &job.d_xp
        };
        // SAFETY: rows `r < m` at stride `T * G*H` from `t * G*H` lie in `d_rec` (`m x T x G*H`);
        // `dh_prev` is `m x np`.
        unsafe {
            S::product(
                m,
                d_rec.as_ptr().add(t * gh),
                (time * gh, 1),
                w,
                dh_prev.as_mut_ptr(),
                np,
                &mut scratch,
            )
        };
        for (r, &len) in lengths.iter().enumerate() {
            if len <= t {
                continue;
            }
            let dhr = &mut dh[r * h_..][..h_];
            dhr.copy_from_slice(&dh_prev[r * np..][..h_]);
            if kind == CellKind::Gru {
                for (d, z) in dhr.iter_mut().zip(&direct[r * h_..][..h_]) {
                    *d += z;
                }
            }
        }
    }
    job.d_h0.copy_from_slice(&dh);
    if kind.has_cell() {
        job.d_c0.copy_from_slice(&dc);
    }
}

struct LstmBackPtrs {
    dh: *const f32,
    dc: *mut f32,
    dout: *const f32,
    act: *const f32,
    /// `tanh` of the cell state after the step.
    tanh_cell: *const f32,
    cprev: *const f32,
    dx: *mut f32,
}

/// LSTM backward on columns `j0..j1`: from `dh_t = dh + dout` and the carried `dc`, the
/// gradients of the four pre-activations (into `dx` and `dg`) and the new carried `dc`.
#[inline(always)]
unsafe fn lstm_back_span<S: Simd>(h_: usize, j0: usize, j1: usize, p: &LstmBackPtrs) {
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `4H` (act, dx, dg) and `H` (the rest).
        unsafe {
            let one = S::splat(1.0);
            let dh = S::add(S::load(p.dh.add(j)), S::load(p.dout.add(j)));
            let i = S::load(p.act.add(j));
            let f = S::load(p.act.add(h_ + j));
            let g = S::load(p.act.add(2 * h_ + j));
            let o = S::load(p.act.add(3 * h_ + j));
            let tc = S::load(p.tanh_cell.add(j));
            let d_o = S::mul(dh, tc);
            let dc = S::mul_add(
                S::mul(dh, o),
                S::sub(one, S::mul(tc, tc)),
                S::load(p.dc.add(j)),
            );
            let d_i = S::mul(dc, g);
            let d_g = S::mul(dc, i);
            let d_f = S::mul(dc, S::load(p.cprev.add(j)));
            S::store(p.dc.add(j), S::mul(dc, f));
            let pre = [
                S::mul(d_i, S::mul(i, S::sub(one, i))),
                S::mul(d_f, S::mul(f, S::sub(one, f))),
                S::mul(d_g, S::sub(one, S::mul(g, g))),
                S::mul(d_o, S::mul(o, S::sub(one, o))),
            ];
            for (q, v) in pre.into_iter().enumerate() {
                S::store(p.dx.add(q * h_ + j), v);
            }
        }
        j += S::LANES;
    }
}

struct GruBackPtrs {
    dh: *const f32,
    dout: *const f32,
    act: *const f32,
    hprev: *const f32,
    dx: *mut f32,
    dg: *mut f32,
    direct: *mut f32,
}

/// GRU backward on columns `j0..j1`: gradients of the input pre-activations (`dx`), of
/// `h W_hh^T + [0, 0, b_hn]` (`dg`) and the direct path `dh_t * z` to the previous state.
#[inline(always)]
unsafe fn gru_back_span<S: Simd>(h_: usize, j0: usize, j1: usize, p: &GruBackPtrs) {
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `3H` (dx, dg), `4H` (act), `H` (the rest).
        unsafe {
            let one = S::splat(1.0);
            let dh = S::add(S::load(p.dh.add(j)), S::load(p.dout.add(j)));
            let r = S::load(p.act.add(j));
            let z = S::load(p.act.add(h_ + j));
            let n = S::load(p.act.add(2 * h_ + j));
            let hn = S::load(p.act.add(3 * h_ + j));
            let d_n = S::mul(dh, S::sub(one, z));
            let d_z = S::mul(dh, S::sub(S::load(p.hprev.add(j)), n));
            S::store(p.direct.add(j), S::mul(dh, z));
            let n_pre = S::mul(d_n, S::sub(one, S::mul(n, n)));
            let d_hn = S::mul(n_pre, r);
            let r_pre = S::mul(S::mul(n_pre, hn), S::mul(r, S::sub(one, r)));
            let z_pre = S::mul(d_z, S::mul(z, S::sub(one, z)));
            S::store(p.dx.add(j), r_pre);
            S::store(p.dx.add(h_ + j), z_pre);
            S::store(p.dx.add(2 * h_ + j), n_pre);
            S::store(p.dg.add(j), r_pre);
            S::store(p.dg.add(h_ + j), z_pre);
            S::store(p.dg.add(2 * h_ + j), d_hn);
        }
        j += S::LANES;
    }
}

struct RnnBackPtrs {
    dh: *const f32,
    dout: *const f32,
    act: *const f32,
    dx: *mut f32,
}

/// RNN backward on columns `j0..j1`: `da = dh_t * act'(h_t)`.
#[inline(always)]
unsafe fn rnn_back_span<S: Simd>(relu: bool, j0: usize, j1: usize, p: &RnnBackPtrs) {
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `H` each.
        unsafe {
            let dh = S::add(S::load(p.dh.add(j)), S::load(p.dout.add(j)));
            let a = S::load(p.act.add(j));
            let da = if relu {
                S::where_positive(a, dh)
            } else {
                S::mul(dh, S::sub(S::splat(1.0), S::mul(a, a)))
            };
            S::store(p.dx.add(j), da);
        }
        j += S::LANES;
    }
}

#[cfg(test)]
mod tests {
    //! The kernels against a plain f64 implementation of the same recurrences, on every
    //! instruction set this CPU has, with and without padding, in both directions.
    use super::*;

    fn sig(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// A plain f64 forward: returns the packed output.
    fn reference(kind: CellKind, dims: Dims, inp: &Inputs<'_>) -> Vec<f64> {
        let Dims {
            batch,
            time,
            hidden: h_,
            ..
        } = dims;
        let gh = kind.gates() * h_;
        let sr = kind.state_rows();
        let input = dims.input;
        // xp = x W_ih^T + bias, in f64.
        let xp: Vec<f64> = (0..batch * time)
            .flat_map(|bt| {
                (0..gh).map(move |q| {
                    inp.bias[q] as f64
                        + (0..input)
                            .map(|k| inp.x[bt * input + k] as f64 * inp.w_ih[q * input + k] as f64)
                            .sum::<f64>()
                })
            })
            .collect();
        let mut out = vec![0.0f64; batch * (time + sr) * h_];
        for b in 0..batch {
            let mut h: Vec<f64> = inp.h0[b * h_..][..h_].iter().map(|&v| v as f64).collect();
            let mut c: Vec<f64> = if kind.has_cell() {
                inp.c0[b * h_..][..h_].iter().map(|&v| v as f64).collect()
            } else {
                vec![]
            };
            for s in 0..time {
                let t = dims.step(s);
                if t >= inp.lengths[b] {
                    continue;
                }
                let x = &xp[(b * time + t) * gh..][..gh];
                let g: Vec<f64> = (0..gh)
                    .map(|q| (0..h_).map(|k| inp.w_hh[q * h_ + k] as f64 * h[k]).sum())
                    .collect();
                let pre = |q: usize| x[q] + g[q];
                let new_h: Vec<f64> = match kind {
                    CellKind::Lstm => (0..h_)
                        .map(|j| {
                            let (i, f) = (sig(pre(j)), sig(pre(h_ + j)));
                            let (gg, o) = (pre(2 * h_ + j).tanh(), sig(pre(3 * h_ + j)));
                            c[j] = f * c[j] + i * gg;
                            o * c[j].tanh()
                        })
                        .collect(),
                    CellKind::Gru => (0..h_)
                        .map(|j| {
                            let r = sig(pre(j));
                            let z = sig(pre(h_ + j));
                            let hn = g[2 * h_ + j] + inp.b_hn[j] as f64;
                            let n = (x[2 * h_ + j] + r * hn).tanh();
                            (1.0 - z) * n + z * h[j]
                        })
                        .collect(),
                    CellKind::RnnTanh => (0..h_).map(|j| pre(j).tanh()).collect(),
                    CellKind::RnnRelu => (0..h_).map(|j| pre(j).max(0.0)).collect(),
                };
                h = new_h;
                out[(b * time + t) * h_..][..h_].copy_from_slice(&h);
            }
            out[(batch * time + b) * h_..][..h_].copy_from_slice(&h);
            if kind.has_cell() {
                out[(batch * time + batch + b) * h_..][..h_].copy_from_slice(&c);
            }
        }
        out
    }

    struct Case {
        kind: CellKind,
        dims: Dims,
        x: Vec<f32>,
        w_ih: Vec<f32>,
        bias: Vec<f32>,
        w_hh: Vec<f32>,
        b_hn: Vec<f32>,
        h0: Vec<f32>,
        c0: Vec<f32>,
        lengths: Vec<usize>,
    }

    impl Case {
        fn new(kind: CellKind, dims: Dims, lengths: Vec<usize>, seed: u64) -> Case {
            let mut state = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut rand = |n: usize, scale: f32| -> Vec<f32> {
                (0..n)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
                    })
                    .collect()
            };
            let (b, t, h) = (dims.batch, dims.time, dims.hidden);
            let gh = kind.gates() * h;
            let input = dims.input;
            Case {
                kind,
                dims,
                x: rand(b * t * input, 1.0),
                w_ih: rand(gh * input, 1.2 / (input as f32).sqrt()),
                bias: rand(gh, 0.4),
                w_hh: rand(gh * h, 1.0 / (h as f32).sqrt()),
                b_hn: rand(h, 0.3),
                h0: rand(b * h, 0.5),
                c0: rand(b * h, 0.5),
                lengths,
            }
        }

        fn inputs(&self) -> Inputs<'_> {
            Inputs {
                x: &self.x,
                w_ih: &self.w_ih,
                bias: &self.bias,
                w_hh: &self.w_hh,
                b_hn: &self.b_hn,
                h0: &self.h0,
                c0: &self.c0,
                lengths: &self.lengths,
            }
        }

        /// `sum(out * weights)` in f64 with the reference forward, for finite differences.
        fn loss(&self, weights: &[f32]) -> f64 {
            reference(self.kind, self.dims, &self.inputs())
                .iter()
                .zip(weights)
                .map(|(o, w)| o * *w as f64)
                .sum()
        }
    }

    const KINDS: [CellKind; 4] = [
        CellKind::Lstm,
        CellKind::Gru,
        CellKind::RnnTanh,
        CellKind::RnnRelu,
    ];

    fn cases() -> Vec<Case> {
        let mut cases = Vec::new();
        for (i, kind) in KINDS.into_iter().enumerate() {
            for reverse in [false, true] {
                // H = 19 exercises whole vectors plus a portable tail on every set.
                let dims = Dims {
                    batch: 5,
                    time: 6,
                    hidden: 19,
                    input: 7,
                    reverse,
                };
                cases.push(Case::new(kind, dims, vec![6, 3, 0, 6, 1], 10 + i as u64));
                let dims = Dims {
                    batch: 11,
                    time: 4,
                    hidden: 32,
                    input: 40,
                    reverse,
                };
                cases.push(Case::new(kind, dims, vec![4; 11], 20 + i as u64));
            }
        }
        cases
    }

    #[test]
    fn forward_matches_an_f64_reference_on_every_isa() {
        let (cases, isas) = (cases(), Isa::supported());
        println!("checking {} cases on {isas:?}", cases.len());
        for case in cases {
            let want = reference(case.kind, case.dims, &case.inputs());
            for &isa in &isas {
                for train in [false, true] {
                    let (got, saved) = forward(isa, case.kind, case.dims, &case.inputs(), train);
                    assert_eq!(saved.is_some(), train);
                    let worst = got
                        .iter()
                        .zip(&want)
                        .map(|(g, w)| (*g as f64 - w).abs())
                        .fold(0.0, f64::max);
                    assert!(
                        worst < 2e-5,
                        "{:?} {:?} {isa:?}: {worst:e}",
                        case.kind,
                        case.dims
                    );
                }
            }
        }
    }

    #[test]
    fn backward_matches_finite_differences_on_every_isa() {
        let cases = cases();
        println!("checking {} cases on {:?}", cases.len(), Isa::supported());
        for case in cases {
            let Dims {
                batch,
                time,
                hidden,
                ..
            } = case.dims;
            let n_out = batch * (time + case.kind.state_rows()) * hidden;
            let weights: Vec<f32> = (0..n_out)
                .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
                .collect();
            for isa in Isa::supported() {
                let (_, saved) = forward(isa, case.kind, case.dims, &case.inputs(), true);
                let saved = saved.expect("train run saves");
                let grads = backward(
                    isa,
                    case.kind,
                    case.dims,
                    &case.inputs(),
                    &saved,
                    &weights,
                    Needs::ALL,
                );
                // Central differences in f64 on a sample of every input. A ReLU kink inside
                // the step makes a difference quotient meaningless: where two step sizes
                // disagree the point is skipped (the layer-level proptest checks ReLU exactly).
                let eps = 1e-3f32;
                let check =
                    |name: &str, analytic: &[f32], field: fn(&mut Case) -> &mut Vec<f32>| {
                        let mut probe = Case::new(case.kind, case.dims, case.lengths.clone(), 0);
                        probe.x = case.x.clone();
                        probe.w_ih = case.w_ih.clone();
                        probe.bias = case.bias.clone();
                        probe.w_hh = case.w_hh.clone();
                        probe.b_hn = case.b_hn.clone();
                        probe.h0 = case.h0.clone();
                        probe.c0 = case.c0.clone();
                        let n = field(&mut probe).len();
                        let (mut checked, mut kinks) = (0, 0);
                        for idx in (0..n).step_by((n / 23).max(1)) {
                            let orig = field(&mut probe)[idx];
                            let mut quotient = |eps: f32| {
                                field(&mut probe)[idx] = orig + eps;
                                let up = probe.loss(&weights);
                                field(&mut probe)[idx] = orig - eps;
                                let down = probe.loss(&weights);
                                field(&mut probe)[idx] = orig;
                                (up - down) / (2.0 * eps as f64)
                            };
                            let numeric = quotient(eps);
                            let tolerance = 2e-3 * (1.0 + numeric.abs());
                            if case.kind == CellKind::RnnRelu
                                && (quotient(eps / 4.0) - numeric).abs() > tolerance
                            {
                                kinks += 1;
                                continue;
                            }
                            checked += 1;
                            let got = analytic[idx] as f64;
                            assert!(
                                (got - numeric).abs() < tolerance,
                                "{:?} {:?} {isa:?} d{name}[{idx}]: {got} vs {numeric}",
                                case.kind,
                                case.dims
                            );
                        }
                        assert!(checked > kinks, "d{name}: too many kinks ({kinks})");
                    };
                check("x", &grads.x, |c| &mut c.x);
                check("w_ih", &grads.w_ih, |c| &mut c.w_ih);
                check("bias", &grads.bias, |c| &mut c.bias);
                check("w_hh", &grads.w_hh, |c| &mut c.w_hh);
                check("h0", &grads.h0, |c| &mut c.h0);
                if case.kind.has_cell() {
                    check("c0", &grads.c0, |c| &mut c.c0);
                }
                if case.kind == CellKind::Gru {
                    check("b_hn", &grads.b_hn, |c| &mut c.b_hn);
                }
            }
        }
    }

    #[test]
    fn row_blocks_cover_the_batch_exactly() {
        for batch in [1, 2, 3, 7, 32, 33] {
            for macs in [1, 1 << 20] {
                let blocks = row_blocks(batch, macs);
                assert_eq!(blocks.first().map(|r| r.start), Some(0));
                assert_eq!(blocks.last().map(|r| r.end), Some(batch));
                assert!(blocks.windows(2).all(|w| w[0].end == w[1].start));
                assert!(blocks.iter().all(|r| !r.is_empty()));
            }
        }
        assert_eq!(row_blocks(64, 1).len(), 1, "tiny work stays on one thread");
    }
}
