//! The fused recurrence forward pass as one CubeCL kernel launch, on every CubeCL runtime
//! (wgpu's Vulkan, Metal and DX12, CUDA, ROCm, CubeCL's CPU runtime). Inference only: no
//! backward pass (training on these devices takes the reference path).
//!
//! Layouts and math are those of the CPU kernel (`fused/cpu/`):
//! `xp: [B, T, G*H]`, `w_hh: [G*H, H]`, `b_hn: [H]`, `h0, c0: [B, H]`, `lengths: [B]`, and the
//! packed output `[B, T + S, H]` (`h_t` for every step, exactly 0 past a sequence's length, then
//! `h_n`, then `c_n` for an LSTM).
//!
//! # The kernel
//! One cube per block of up to four sequences runs the whole time loop, so a call is a single
//! launch however long the sequence (launches are what costs on a software driver such as
//! lavapipe). Unit `u` of a cube owns the hidden columns `u, u + units, u + 2 units, ..` (any
//! `H`, whatever the cube size). Per step each unit computes, for each column it owns and each
//! sequence of its block, the `G` dot products of the previous `h` with the column's rows of
//! `W_hh` (each weight read once per block, not once per sequence), applies the gate math and
//! writes the new `h[j]`; the LSTM cell state `c[j]` is only ever touched by its owner, so it
//! lives in the `c_n` row of the output. `h` is double-buffered in a global scratch
//! `[rows, 2, H]`: a step reads one half and writes the other, so one storage barrier per step
//! orders everything (a unit's writes of step `s + 1` cannot race a slower unit's reads of step
//! `s`, which all came before the barrier). `H` is a runtime value: one compiled kernel per
//! cell kind and block size (1, 2 or 4) serves every hidden size.
//!
//! The weights are read transposed (`W_hh^T: [H, G*H]`, laid out once per call) so that units
//! owning neighbouring columns read neighbouring addresses.
//!
//! A padded step (`t >= len[b]`) writes 0 to the output and carries the sequence's state over
//! to the other half unchanged; every unit reaches every barrier (the time loop is the same for
//! the whole cube), and steps past the longest sequence of a block skip the dot products.

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::CubeTensor;
use burn::backend::{Backend, Cube, DType, Dispatch, Shape, TensorMetadata, backend_extension};
use burn::tensor::Tensor as BurnTensor;
use cubecl::prelude::*;

use super::kind::{CellKind, GateMath};
use crate::rnn_cell::Nonlinearity;

/// Most units in one cube: enough to cover typical hidden sizes in one pass per step, small
/// enough for every runtime.
const MAX_UNITS: u32 = 256;

/// Most sequences one cube runs together: each weight it reads serves all of them (fewer
/// weight reads per step), at the cost of `4 * rows` accumulators per unit.
const MAX_ROWS: usize = 4;

/// Sequences per cube for a batch of `batch`: a power of two (few compiled variants), at most
/// [`MAX_ROWS`], no more than the batch needs.
fn rows_per_cube(batch: usize) -> usize {
    batch.next_power_of_two().clamp(1, MAX_ROWS)
}

/// The fused recurrence forward on CubeCL devices (see the module docs for the layouts).
#[backend_extension(Cube)]
pub trait FusedRecurrenceCube: Backend {
    /// `xp: [B, T, G*H]`, `w_hh: [G*H, H]`, `b_hn: [H]`, `h0, c0: [B, H]` ->
    /// `[B, T + S, H]`.
    #[allow(clippy::too_many_arguments)]
    fn fused_recurrence_cube(
        xp: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hn: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        lengths: Vec<usize>,
        kind: CellKind,
        reverse: bool,
    ) -> FloatTensor<Self>;
}

/// Run the fused forward on CubeCL tensors (no autodiff).
#[allow(clippy::too_many_arguments)]
pub(super) fn recurrence(
    xp: BurnTensor<3>,
    w_hh: BurnTensor<2>,
    b_hn: BurnTensor<1>,
    h0: BurnTensor<2>,
    c0: BurnTensor<2>,
    lengths: Vec<usize>,
    kind: CellKind,
    reverse: bool,
) -> BurnTensor<3> {
    let out = <Dispatch as FusedRecurrenceCube>::fused_recurrence_cube(
        xp.into_dispatch(),
        w_hh.into_dispatch(),
        b_hn.into_dispatch(),
        h0.into_dispatch(),
        c0.into_dispatch(),
        lengths,
        kind,
        reverse,
    );
    BurnTensor::from_dispatch(out)
}

/// `1 / (1 + e^-x)`; the argument is clamped where `e^-x` would overflow `f32` (the result
/// is within `2e-35` of the exact one there).
#[cube]
fn sigmoid(x: f32) -> f32 {
    let x = x.clamp(f32::new(-80.0), f32::new(80.0));
    f32::new(1.0) / (f32::new(1.0) + (-x).exp())
}

/// `tanh`, with the argument clamped to `[-15, 15]` (where `tanh` is `±1` in `f32`) so that a
/// driver computing it from exponentials cannot overflow into `NaN`.
#[cube]
fn bounded_tanh(x: f32) -> f32 {
    x.clamp(f32::new(-15.0), f32::new(15.0)).tanh()
}

/// The whole recurrence of a block of `rows` sequences per cube (see the module docs).
///
/// - `xp: [B, T, G*H]`, `b_hn: [H]`, `h0, c0: [B, H]`, any strides;
/// - `w_t`: `W_hh^T` flattened, `[H * G*H]`;
/// - `lengths: [B]`; `out: [B, T + S, H]`, contiguous; `scratch: [cubes * rows, 2, H]`,
///   contiguous (rows past `B` are zeroed, read, never used);
/// - `reverse`: 1 to walk `t = T-1 .. 0`;
/// - comptime: `rows` sequences per cube (each weight read serves them all); `lstm` (gates
///   i f g o, cell state), `gru` (gates r z n), else an RNN with `relu` or `tanh`.
#[allow(clippy::too_many_arguments)]
#[cube(launch)]
fn recurrence_kernel(
    xp: &Tensor<f32>,
    w_t: &Tensor<f32>,
    b_hn: &Tensor<f32>,
    h0: &Tensor<f32>,
    c0: &Tensor<f32>,
    lengths: &[u32],
    scratch: &mut [f32],
    out: &mut [f32],
    reverse: u32,
    #[comptime] rows: usize,
    #[comptime] lstm: bool,
    #[comptime] gru: bool,
    #[comptime] relu: bool,
) {
    let batch = h0.shape(0);
    let time = xp.shape(1);
    let hidden = h0.shape(1);
    let b0 = CUBE_POS * rows;
    if b0 >= batch {
        terminate!();
    }
    let units = CUBE_DIM as usize;
    let first = UNIT_POS as usize;
    let gh = xp.shape(2);
    let (xs0, xs1, xs2) = (xp.stride(0), xp.stride(1), xp.stride(2));
    let ws = w_t.stride(0);
    let mut out_rows = time + 1;
    if lstm {
        out_rows = time + 2;
    }
    let out_len = out_rows * hidden;
    let state_len = 2 * hidden;

    // The longest sequence of the block: steps past it only write padding.
    let mut block_len = 0usize;
    #[unroll]
    for r in 0..rows {
        let b = b0 + r;
        if b < batch {
            block_len = max(block_len, lengths[b] as usize);
            let mut j = first;
            while j < hidden {
                scratch[b * state_len + j] = h0[b * h0.stride(0) + j * h0.stride(1)];
                if lstm {
                    out[b * out_len + (time + 1) * hidden + j] =
                        c0[b * c0.stride(0) + j * c0.stride(1)];
                }
                j += units;
            }
        } else {
            // A row past the batch (the last block's filler) is read by the dot products,
            // never used: zeros keep garbage (and slow denormals) out of them.
            let mut j = first;
            while j < state_len {
                scratch[b * state_len + j] = f32::new(0.0);
                j += units;
            }
        }
    }
    sync_storage();

    // Offset of the half of each row's `scratch` holding the current `h` (0 or H).
    let mut cur = 0usize;
    for s in 0..time {
        let mut t = s;
        if reverse == 1 {
            t = time - 1 - s;
        }
        let next = hidden - cur;
        let mut j = first;
        while j < hidden {
            // The recurrent pre-activations of column j for every row of the block: gate q is
            // W_hh[q*H + j, :] . h.
            let mut a0 = Array::<f32>::new(rows);
            let mut a1 = Array::<f32>::new(rows);
            let mut a2 = Array::<f32>::new(rows);
            let mut a3 = Array::<f32>::new(rows);
            #[unroll]
            for r in 0..rows {
                a0[r] = f32::new(0.0);
                a1[r] = f32::new(0.0);
                a2[r] = f32::new(0.0);
                a3[r] = f32::new(0.0);
            }
            if t < block_len {
                for k in 0..hidden {
                    let row = k * gh + j;
                    let w0 = w_t[row * ws];
                    let mut w1 = f32::new(0.0);
                    let mut w2 = f32::new(0.0);
                    let mut w3 = f32::new(0.0);
                    if lstm || gru {
                        w1 = w_t[(row + hidden) * ws];
                        w2 = w_t[(row + 2 * hidden) * ws];
                    }
                    if lstm {
                        w3 = w_t[(row + 3 * hidden) * ws];
                    }
                    #[unroll]
                    for r in 0..rows {
                        let hk = scratch[(b0 + r) * state_len + cur + k];
                        a0[r] += w0 * hk;
                        if lstm || gru {
                            a1[r] += w1 * hk;
                            a2[r] += w2 * hk;
                        }
                        if lstm {
                            a3[r] += w3 * hk;
                        }
                    }
                }
            }
            #[unroll]
            for r in 0..rows {
                let b = b0 + r;
                if b < batch {
                    let state = b * state_len;
                    let h_old = scratch[state + cur + j];
                    let mut value = f32::new(0.0);
                    let mut h_new = h_old;
                    if t < lengths[b] as usize {
                        let x_t = b * xs0 + t * xs1;
                        let x0 = xp[x_t + j * xs2];
                        if lstm {
                            let cell = b * out_len + (time + 1) * hidden + j;
                            let i = sigmoid(x0 + a0[r]);
                            let f = sigmoid(xp[x_t + (hidden + j) * xs2] + a1[r]);
                            let g = bounded_tanh(xp[x_t + (2 * hidden + j) * xs2] + a2[r]);
                            let o = sigmoid(xp[x_t + (3 * hidden + j) * xs2] + a3[r]);
                            let c = f * out[cell] + i * g;
                            out[cell] = c;
                            value = o * bounded_tanh(c);
                        } else if gru {
                            let r_gate = sigmoid(x0 + a0[r]);
                            let z = sigmoid(xp[x_t + (hidden + j) * xs2] + a1[r]);
                            let hn = a2[r] + b_hn[j * b_hn.stride(0)];
                            let n = bounded_tanh(xp[x_t + (2 * hidden + j) * xs2] + r_gate * hn);
                            value = (f32::new(1.0) - z) * n + z * h_old;
                        } else if relu {
                            value = (x0 + a0[r]).max(f32::new(0.0));
                        } else {
                            value = bounded_tanh(x0 + a0[r]);
                        }
                        h_new = value;
                    }
                    // A padded step carries the state over to the other half unchanged.
                    scratch[state + next + j] = h_new;
                    out[b * out_len + t * hidden + j] = value;
                }
            }
            j += units;
        }
        sync_storage();
        cur = next;
    }

    #[unroll]
    for r in 0..rows {
        let b = b0 + r;
        if b < batch {
            let mut j = first;
            while j < hidden {
                out[b * out_len + time * hidden + j] = scratch[b * state_len + cur + j];
                j += units;
            }
        }
    }
}

impl FusedRecurrenceCube for Cube {
    fn fused_recurrence_cube(
        xp: CubeTensor,
        w_hh: CubeTensor,
        b_hn: CubeTensor,
        h0: CubeTensor,
        c0: CubeTensor,
        lengths: Vec<usize>,
        kind: CellKind,
        reverse: bool,
    ) -> CubeTensor {
        let inputs = [
            ("xp", &xp),
            ("w_hh", &w_hh),
            ("b_hn", &b_hn),
            ("h0", &h0),
            ("c0", &c0),
        ];
        for (name, tensor) in inputs {
            assert_eq!(
                tensor.dtype,
                DType::F32,
                "the fused recurrence is only chosen for f32 tensors ({name})"
            );
        }
        let [batch, time, gh] = xp.shape().dims::<3>();
        let [w_rows, hidden] = w_hh.shape().dims::<2>();
        assert_eq!(gh, kind.gates() * hidden, "xp: [B, T, G*H]");
        assert_eq!(w_rows, gh, "w_hh: [G*H, H]");
        assert_eq!(h0.shape().dims::<2>(), [batch, hidden], "h0: [B, H]");
        assert_eq!(lengths.len(), batch, "lengths: [B]");
        assert!(lengths.iter().all(|&l| l <= time), "lengths <= T");
        let out_shape = Shape::new([batch, time + kind.state_rows(), hidden]);
        let device = xp.device.clone();
        if batch == 0 || hidden == 0 {
            return Self::float_zeros(out_shape, &device, DType::F32.into());
        }
        if kind.has_cell() {
            assert_eq!(c0.shape().dims::<2>(), [batch, hidden], "c0: [B, H]");
        }
        if kind.is_gru() {
            assert_eq!(b_hn.shape().dims::<1>(), [hidden], "b_hn: [H]");
        }

        // W_hh^T laid out as rows: a reshape of the transposed view copies it (and un-tiles
        // any storage-tiled weight). The other inputs are read through their strides; a
        // reshape to their own shape only un-tiles one that is storage-tiled (a kernel argument
        // must be laid out in rows), and is free otherwise.
        let w_t = Self::float_reshape(Self::float_swap_dims(w_hh, 0, 1), Shape::new([gh * hidden]));
        let in_rows = |tensor: CubeTensor| {
            let shape = tensor.shape();
            Self::float_reshape(tensor, shape)
        };
        let (xp, b_hn, h0, c0) = (in_rows(xp), in_rows(b_hn), in_rows(h0), in_rows(c0));

        let client = xp.client.clone();
        let lengths_bytes: Vec<u8> = lengths
            .iter()
            .flat_map(|&l| {
                u32::try_from(l)
                    .expect("a sequence length fits in u32")
                    .to_ne_bytes()
            })
            .collect();
        let lengths_handle = client.create_from_slice(&lengths_bytes);
        let rows = rows_per_cube(batch);
        let cubes = batch.div_ceil(rows);
        let scratch_len = cubes * rows * 2 * hidden;
        let scratch = client.empty(scratch_len * size_of::<f32>());
        let out_len = out_shape.num_elements();
        let out_handle = client.empty(out_len * size_of::<f32>());

        let hardware = &client.properties().hardware;
        let units = (hidden as u32)
            .min(MAX_UNITS)
            .min(hardware.max_units_per_cube)
            .min(hardware.max_cube_dim.0)
            .max(1);
        let max_x = hardware.max_cube_count.0.max(1) as usize;
        let cubes_x = cubes.min(max_x);
        let cubes_y = cubes.div_ceil(cubes_x);
        let cube_count = CubeCount::Static(cubes_x as u32, cubes_y as u32, 1);

        // SAFETY: every buffer is declared with its true length in f32 (u32) elements, and the
        // kernel indexes `scratch` below `cubes * rows * 2H`, `out` below `B * (T + S) * H`,
        // `lengths` below `B`, and the tensors through their own shapes and strides.
        unsafe {
            recurrence_kernel::launch(
                &client,
                cube_count,
                CubeDim::new_1d(units),
                xp.into_tensor_arg(),
                w_t.into_tensor_arg(),
                b_hn.into_tensor_arg(),
                h0.into_tensor_arg(),
                c0.into_tensor_arg(),
                BufferArg::from_raw_parts(lengths_handle, batch),
                BufferArg::from_raw_parts(scratch, scratch_len),
                BufferArg::from_raw_parts(out_handle.clone(), out_len),
                u32::from(reverse),
                rows,
                kind.math() == GateMath::Lstm,
                kind.is_gru(),
                kind.math() == GateMath::Rnn(Nonlinearity::Relu),
            );
        }
        CubeTensor::new_contiguous(client, device, out_shape, out_handle, DType::F32)
    }
}
