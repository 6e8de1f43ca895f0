//! The fused recurrence: the fast path behind [`crate::Lstm`], [`crate::Gru`] and
//! [`crate::Rnn`].
//!
//! One call runs a whole layer direction: one large matmul projects the inputs of all time
//! steps, then the recurrence runs —
//! per step one small matmul and one vectorised pass of gate math, state updated in place,
//! lengths and direction handled inside:
//! - on **flex** (Burn's CPU backend), forward and a handwritten backward (backpropagation
//!   through time over the saved gate activations), with AVX-512, AVX2 + FMA and portable
//!   kernels chosen at run time ([`Isa`]) and the batch split across threads;
//! - on **wgpu** (any CubeCL runtime, feature `wgpu`), a CubeCL kernel for the forward pass
//!   (inference); training on wgpu takes the reference path.
//!
//! Every other backend, an LSTM with `proj_size`, a non-`f32` tensor, or
//! [`Execution::Reference`] runs the reference path: [`crate::Cell::run`], the generic time
//! loop over Burn tensor ops. Both paths give the same values (tested against each other and
//! against PyTorch). [`Execution::Fused`] refuses the reference path: where no kernel applies
//! the layer returns [`crate::Error::FusedUnavailable`] with a [`FusedUnavailable`] reason, so a
//! test (or a benchmark) can prove that the kernel ran.

#[cfg(feature = "flex")]
mod concat;
#[cfg(feature = "flex")]
pub(crate) mod cpu;
#[cfg(feature = "wgpu")]
mod cube;
#[cfg(feature = "flex")]
mod flex;
pub(crate) mod kind;
#[cfg(feature = "flex")]
pub(crate) mod matmul;
#[cfg(feature = "flex")]
pub(crate) mod scratch;
#[cfg(feature = "flex")]
pub mod simd;
mod unavailable;
#[cfg(feature = "flex")]
pub(crate) mod weight_cache;

use burn::config::Config;
#[cfg(any(feature = "flex", feature = "wgpu"))]
use burn::tensor::DType;
use burn::tensor::Tensor;

use crate::cell::{CellState, Direction};

#[cfg(feature = "flex")]
pub use simd::{ISA_ENV, Isa};

/// Which implementation of the recurrence a layer runs.
///
/// ```
/// use burn::tensor::Device;
/// use seqmodel_rnn::{Execution, LstmConfig};
///
/// // Force the reference path (generic Burn ops) for this layer:
/// let lstm = LstmConfig::new(8, 16)
///     .with_execution(Execution::Reference)
///     .init(&Device::flex())?;
/// assert_eq!(lstm.execution, Execution::Reference);
/// # Ok::<(), seqmodel_rnn::Error>(())
/// ```
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Execution {
    /// The fused kernel where one exists for the device and the layer (flex; wgpu for
    /// inference), else the reference path. The default.
    Auto,
    /// Always the fused kernel: where none applies (another backend, a projected LSTM, a
    /// non-`f32` input, ...) `forward` returns [`crate::Error::FusedUnavailable`] naming the
    /// reason instead of falling back. For tests and benchmarks that must know which path ran.
    Fused,
    /// Always the reference path: the generic time loop over Burn tensor ops.
    Reference,
}

pub(crate) use kind::{CellKind, GateMath};
pub use unavailable::FusedUnavailable;

/// Where a fused kernel exists for a device.
#[cfg_attr(not(any(feature = "flex", feature = "wgpu")), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FusedBackend {
    /// Flex, with or without autodiff.
    #[cfg(feature = "flex")]
    Flex,
    /// A CubeCL device without autodiff (forward only).
    #[cfg(feature = "wgpu")]
    Cube,
}

/// The fused backend for `device`, or why there is none.
fn fused_backend(device: &burn::tensor::Device) -> Result<FusedBackend, FusedUnavailable> {
    #[cfg(any(feature = "flex", feature = "wgpu"))]
    {
        use burn::backend::DispatchDevice;
        let autodiff = device.is_autodiff();
        #[allow(unreachable_patterns)]
        match device.clone().inner().as_dispatch() {
            #[cfg(feature = "flex")]
            DispatchDevice::Flex(_) => Ok(FusedBackend::Flex),
            #[cfg(feature = "wgpu")]
            DispatchDevice::Cube(_) if !autodiff => Ok(FusedBackend::Cube),
            #[cfg(feature = "wgpu")]
            DispatchDevice::Cube(_) => Err(FusedUnavailable::CubeTraining),
            _ => Err(FusedUnavailable::Backend {
                device: format!("{device:?}"),
            }),
        }
    }
    #[cfg(not(any(feature = "flex", feature = "wgpu")))]
    {
        let _ = device;
        Err(FusedUnavailable::NotCompiled)
    }
}

/// Whether a layer with `execution` on `device` runs the fused kernel (for an LSTM without
/// projection, or any GRU or RNN, on `f32` inputs); training on a device counts.
pub fn uses_fused_kernel(execution: Execution, device: &burn::tensor::Device) -> bool {
    execution != Execution::Reference && fused_backend(device).is_ok()
}

/// The output of a bidirectional layer whose directions ran the fused op: `[B, T, 2H]` from
/// the two `[B, T, H]` outputs (forward first). On flex the outputs are read in place
/// ([`concat`]); elsewhere this is `Tensor::cat`.
pub(crate) fn concat_directions(forward: Tensor<3>, reverse: Tensor<3>) -> Tensor<3> {
    #[cfg(feature = "flex")]
    if fused_backend(&forward.device()) == Ok(FusedBackend::Flex)
        && forward.dtype() == DType::F32
        && reverse.dtype() == DType::F32
    {
        return concat::concat_directions(forward, reverse);
    }
    Tensor::cat(vec![forward, reverse], 2)
}

/// One layer direction for the fused op, in PyTorch's parameter layout.
#[cfg_attr(not(any(feature = "flex", feature = "wgpu")), allow(dead_code))]
pub(crate) struct FusedCall<'a> {
    pub kind: CellKind,
    /// `weight_ih`: `[G*H, In]`.
    pub weight_ih: Tensor<2>,
    /// `weight_hh`: `[G*H, H]`.
    pub weight_hh: Tensor<2>,
    /// Added to every input projection: `[G*H]` (every bias outside the recurrence).
    pub input_bias: Option<Tensor<1>>,
    /// GRU: `b_hn`, the n part of `bias_hh`, `[H]`.
    pub b_hn: Option<Tensor<1>>,
    /// Per-sequence lengths (`None` = all full).
    pub lengths: Option<&'a [usize]>,
}

/// Run `call` on `input: [batch, time, In]` from `initial` with the fused op, or say why no
/// fused kernel applies (then the caller runs the reference path, or reports the reason).
pub(crate) fn run(
    call: FusedCall<'_>,
    input: &Tensor<3>,
    initial: &CellState,
    direction: Direction,
) -> Result<(Tensor<3>, CellState), FusedUnavailable> {
    let backend = fused_backend(&input.device())?;
    #[cfg(any(feature = "flex", feature = "wgpu"))]
    {
        run_fused_op(backend, call, input, initial, direction)
    }
    #[cfg(not(any(feature = "flex", feature = "wgpu")))]
    {
        let _ = (backend, call, initial, direction);
        Err(FusedUnavailable::NotCompiled)
    }
}

#[cfg(any(feature = "flex", feature = "wgpu"))]
fn run_fused_op(
    backend: FusedBackend,
    call: FusedCall<'_>,
    input: &Tensor<3>,
    initial: &CellState,
    direction: Direction,
) -> Result<(Tensor<3>, CellState), FusedUnavailable> {
    let device = input.device();
    for dtype in [
        input.dtype(),
        call.weight_hh.dtype(),
        initial.hidden.dtype(),
    ] {
        if dtype != DType::F32 {
            return Err(FusedUnavailable::DType {
                dtype: format!("{dtype:?}"),
            });
        }
    }
    let [batch, time, features] = input.dims();
    let [gh, hidden] = call.weight_hh.dims();
    if gh != call.kind.gates() * hidden
        || call.weight_ih.dims() != [gh, features]
        || initial.hidden.dims() != [batch, hidden]
    {
        return Err(FusedUnavailable::Shape {
            found: format!(
                "input {:?}, weight_ih {:?}, weight_hh {:?}, h0 {:?} for {} gates",
                input.dims(),
                call.weight_ih.dims(),
                call.weight_hh.dims(),
                initial.hidden.dims(),
                call.kind.gates()
            ),
        });
    }
    // The driver validated them (`0..=time`, one per row): nothing to clamp.
    let lengths: Vec<usize> = match call.lengths {
        Some(lengths) => lengths.to_vec(),
        None => vec![time; batch],
    };
    let h0 = initial.hidden.clone();
    let c0 = match (&initial.cell, call.kind.has_cell()) {
        (Some(c), true) => c.clone(),
        _ => Tensor::zeros([batch, hidden], &device),
    };
    let b_hn = call
        .b_hn
        .unwrap_or_else(|| Tensor::zeros([hidden], &device));
    let reverse = direction == Direction::Reverse;
    let has_cell = call.kind.has_cell();
    let (output, hidden_n, cell_n) = match backend {
        #[cfg(feature = "flex")]
        FusedBackend::Flex => {
            // [B*T + S*B, H]: the outputs, then h_n (and c_n), each a contiguous range of rows.
            let packed = flex::recurrence(
                input.clone(),
                call.weight_ih,
                call.input_bias
                    .unwrap_or_else(|| Tensor::zeros([gh], &device)),
                call.weight_hh,
                b_hn,
                h0,
                c0,
                lengths,
                call.kind,
                reverse,
            );
            let rows = batch * time;
            (
                packed
                    .clone()
                    .narrow(0, 0, rows)
                    .reshape([batch, time, hidden]),
                packed.clone().narrow(0, rows, batch),
                has_cell.then(|| packed.narrow(0, rows + batch, batch)),
            )
        }
        #[cfg(feature = "wgpu")]
        FusedBackend::Cube => {
            let packed = cube::recurrence(
                {
                    // One matmul for the input projections of every step: [B*T, In] x [In, G*H].
                    let projected = input
                        .clone()
                        .reshape([batch * time, features])
                        .matmul(call.weight_ih.transpose());
                    let projected = match call.input_bias {
                        Some(bias) => projected + bias.unsqueeze_dim::<2>(0),
                        None => projected,
                    };
                    projected.reshape([batch, time, gh])
                },
                call.weight_hh,
                b_hn,
                h0,
                c0,
                lengths,
                call.kind,
                reverse,
            );
            // [B, T + S, H]: the outputs, then h_n (and c_n).
            (
                packed.clone().narrow(1, 0, time),
                packed.clone().narrow(1, time, 1).reshape([batch, hidden]),
                has_cell.then(|| packed.narrow(1, time + 1, 1).reshape([batch, hidden])),
            )
        }
    };
    Ok((
        output,
        CellState {
            hidden: hidden_n,
            cell: cell_n,
        },
    ))
}
