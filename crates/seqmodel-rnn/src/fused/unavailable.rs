//! Why the fused kernel cannot run a layer: the reason [`crate::Execution::Auto`] falls back to
//! the reference path, and the error [`crate::Execution::Fused`] reports instead.

/// Why no fused kernel applies to a layer direction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FusedUnavailable {
    /// The device's backend has no fused kernel.
    #[error(
        "no fused kernel for device {device}: fused kernels exist for flex (forward and \
         backward) and, with the `wgpu` feature, CubeCL devices (forward only)"
    )]
    Backend {
        /// The device, as `Debug` prints it.
        device: String,
    },
    /// A CubeCL device with autodiff: the CubeCL kernel has no backward pass.
    #[error(
        "the CubeCL (wgpu) kernel is forward-only, and this device records gradients \
         (autodiff): train on flex, or run inference without autodiff"
    )]
    CubeTraining,
    /// The crate was built without a fused kernel.
    #[error("seqmodel-rnn was built without its `flex` and `wgpu` features (no fused kernel)")]
    NotCompiled,
    /// An LSTM with `proj_size > 0`.
    #[error("a projected LSTM (proj_size = {proj_size}) has no fused kernel: set proj_size = 0")]
    Projection {
        /// The layer's `proj_size`.
        proj_size: usize,
    },
    /// A layer-normalised LSTM (`layer_norm: true`).
    #[error("a layer-normalised LSTM has no fused kernel: set layer_norm = false")]
    LayerNorm,
    /// The cell type has no fused kernel (the default [`crate::Cell::run_fused`]).
    #[error("cell type {cell} has no fused kernel")]
    NoKernel {
        /// The cell's type name.
        cell: &'static str,
    },
    /// A Quasi-RNN whose zoneout acts in this call (training, `zoneout > 0`).
    #[error(
        "a Quasi-RNN with zoneout has no fused kernel while training: set zoneout = 0, or run \
         inference"
    )]
    Zoneout,
    /// A tensor that is not `f32`.
    #[error("the fused kernels run f32 tensors, found {dtype}")]
    DType {
        /// The dtype found.
        dtype: String,
    },
    /// Parameters and input whose shapes do not form one recurrence (a cell built by hand).
    #[error("inconsistent shapes for the fused kernel: {found}")]
    Shape {
        /// The shapes found.
        found: String,
    },
}
