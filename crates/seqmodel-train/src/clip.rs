//! Global-norm gradient clipping, as PyTorch's `torch.nn.utils.clip_grad_norm_`.
//!
//! Burn's `GradientClippingConfig::Norm` clips each parameter tensor by its own norm. PyTorch's
//! `clip_grad_norm_` (what the reference recipes use) takes **one** L2 norm over the gradients of
//! all parameters, `total = sqrt(Σ_p ‖g_p‖²)`, and when `max_norm / (total + 1e-6) < 1` multiplies
//! every gradient by that factor, so the direction of the whole update is kept.
//!
//! [`SupervisedStep`](crate::SupervisedStep) applies it inside burn-train's own step
//! (`TrainStep::optimize`), after gradient accumulation and after the gradients of several
//! devices are summed, exactly where PyTorch users call it (between `backward` and `step`).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, MultiGradientsParams};
use burn::tensor::Tensor;

use crate::error::{Result, TrainError};

/// PyTorch's `clip_grad_norm_` adds this to the norm before dividing.
pub const CLIP_EPSILON: f32 = 1e-6;

/// What [`clip_grad_norm`] measured and did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipReport {
    /// The L2 norm over all gradients before clipping (what `clip_grad_norm_` returns).
    /// NaN or infinite when a gradient is.
    pub total_norm: f32,
    /// The factor the gradients were multiplied by, `max_norm / (total_norm + 1e-6)`, or
    /// `None` when it was ≥ 1 (or the norm not finite) and the gradients were left unchanged.
    pub scale: Option<f32>,
}

/// The L2 norm over the gradients of all of `module`'s float parameters (parameters without a
/// gradient count as zero), computed as PyTorch does: each tensor's sum of squares in float32,
/// then the square root of their sum.
///
/// # Errors
/// [`TrainError::TensorRead`] when a gradient cannot be read back from its device.
pub fn global_grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> Result<f32> {
    let mut visitor = SumOfSquares {
        grads,
        sum: 0.0,
        error: None,
    };
    module.visit(&mut visitor);
    match visitor.error {
        Some(error) => Err(error),
        None => Ok(visitor.sum.sqrt() as f32),
    }
}

/// Clips `grads` to a global L2 norm of at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_(module.parameters(), max_norm)`.
///
/// The gradients are multiplied by `max_norm / (total_norm + 1e-6)` (computed in float32) only
/// when that factor is below 1; a non-finite norm leaves them unchanged (the caller decides,
/// see [`NonFiniteGuard`](crate::NonFiniteGuard)).
///
/// # Errors
/// [`TrainError::Config`] when `max_norm` is not a positive finite number;
/// [`TrainError::TensorRead`] when a gradient cannot be read.
///
/// ```
/// use burn::module::{Module, Param};
/// use burn::optim::GradientsParams;
/// use burn::tensor::Tensor;
/// use seqmodel_train::clip_grad_norm;
///
/// #[derive(Module, Debug)]
/// struct Two { a: Param<Tensor<1>>, b: Param<Tensor<1>> }
///
/// # #[cfg(feature = "flex")] {
/// let device = burn::tensor::Device::flex();
/// let model = Two {
///     a: Param::from_tensor(Tensor::zeros([1], &device)),
///     b: Param::from_tensor(Tensor::zeros([1], &device)),
/// };
/// let mut grads = GradientsParams::new();
/// grads.register(model.a.id, Tensor::<1>::from_floats([3.0], &device));
/// grads.register(model.b.id, Tensor::<1>::from_floats([4.0], &device));
/// // One norm over both: sqrt(3² + 4²) = 5, clipped to 1: every gradient times 1/5.
/// let (grads, report) = clip_grad_norm(&model, grads, 1.0)?;
/// assert_eq!(report.total_norm, 5.0);
/// let a = grads.get::<1>(model.a.id).unwrap().into_scalar::<f32>();
/// assert!((a - 0.6).abs() < 1e-6);
/// # }
/// # Ok::<(), seqmodel_train::TrainError>(())
/// ```
pub fn clip_grad_norm<M: Module>(
    module: &M,
    grads: GradientsParams,
    max_norm: f64,
) -> Result<(GradientsParams, ClipReport)> {
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(TrainError::config(
            "clip_grad_norm",
            format!("must be a positive finite number, found {max_norm}"),
        ));
    }
    let total_norm = global_grad_norm(module, &grads)?;
    let coef = max_norm as f32 / (total_norm + CLIP_EPSILON);
    if !total_norm.is_finite() || coef >= 1.0 {
        return Ok((
            grads,
            ClipReport {
                total_norm,
                scale: None,
            },
        ));
    }
    let mut scaler = Scale {
        grads,
        factor: coef,
    };
    module.visit(&mut scaler);
    Ok((
        scaler.grads,
        ClipReport {
            total_norm,
            scale: Some(coef),
        },
    ))
}

/// Sums the gradients that several devices computed for each parameter (as
/// `ModuleOptimizer::step_multi` would) into one [`GradientsParams`], so that the global norm
/// is taken over the summed gradients — the gradient of the whole batch.
pub fn merge_multi_device_grads<M: Module>(
    module: &M,
    grads: MultiGradientsParams,
) -> GradientsParams {
    let mut merger = Merge {
        multi: grads,
        merged: GradientsParams::new(),
    };
    module.visit(&mut merger);
    merger.merged
}

struct SumOfSquares<'a> {
    grads: &'a GradientsParams,
    sum: f64,
    error: Option<TrainError>,
}

impl ModuleVisitor for SumOfSquares<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.error.is_some() {
            return;
        }
        let Some(grad) = self.grads.get::<D>(param.id) else {
            return;
        };
        match grad.square().sum().try_into_scalar::<f32>() {
            Ok(value) => self.sum += f64::from(value),
            Err(error) => self.error = Some(TrainError::TensorRead(error.to_string())),
        }
    }
}

struct Scale {
    grads: GradientsParams,
    factor: f32,
}

impl ModuleVisitor for Scale {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad.mul_scalar(self.factor));
        }
    }
}

struct Merge {
    multi: MultiGradientsParams,
    merged: GradientsParams,
}

impl ModuleVisitor for Merge {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some((grad, _device)) = self.multi.remove::<D>(param.id) {
            self.merged.register(param.id, grad);
        }
    }
}
