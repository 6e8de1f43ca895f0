//! [`SupervisedStep`]: a task model wrapped with global-norm clipping and the NaN/Inf guard,
//! plugged into burn-train through its own step traits (no second training loop).

use burn::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::module::{Module, ModuleDisplay};
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::tensor::Tensor;
use burn::train::{
    ClassificationOutput, InferenceStep, RegressionOutput, SequenceOutput, TrainOutput, TrainStep,
};

use crate::clip::{clip_grad_norm, global_grad_norm, merge_multi_device_grads};
use crate::error::NonFiniteQuantity;
use crate::guard::NonFiniteGuard;

/// A training step's output that carries the batch loss, so that the guard can check it.
///
/// Implemented for burn-train's `ClassificationOutput`, `RegressionOutput` and
/// `SequenceOutput`; a task with its own output type implements it in one line.
pub trait StepLoss {
    /// The batch loss, shape `[1]`.
    fn loss(&self) -> Tensor<1>;
}

impl StepLoss for ClassificationOutput {
    fn loss(&self) -> Tensor<1> {
        self.loss.clone()
    }
}

impl StepLoss for RegressionOutput {
    fn loss(&self) -> Tensor<1> {
        self.loss.clone()
    }
}

impl StepLoss for SequenceOutput {
    fn loss(&self) -> Tensor<1> {
        self.loss.clone()
    }
}

/// What [`SupervisedStep`] does around the model's own step: clip and guard.
#[derive(Clone, Debug, Default)]
pub struct StepHooks {
    /// Global-norm clipping threshold (`None`: no clipping; the norm is still measured for
    /// the guard).
    pub clip_grad_norm: Option<f64>,
    /// The shared NaN/Inf guard.
    pub guard: NonFiniteGuard,
}

/// A task model `M` made trainable by burn-train with seqmodel's additions.
///
/// - `TrainStep::step` runs `M`'s step, then checks the loss (and counts the step).
/// - `TrainStep::optimize` (and `optimize_multi`, after summing the devices' gradients)
///   measures the global gradient norm, stops on a non-finite one *without* updating the
///   weights, clips as PyTorch's `clip_grad_norm_`, then runs the optimiser. `M`'s own
///   `optimize` override, if any, is not called.
/// - `InferenceStep` is `M`'s.
///
/// Its parameters are `M`'s, under the prefix `model.` in checkpoint records.
#[derive(Module, Debug)]
pub struct SupervisedStep<M> {
    /// The task model.
    pub model: M,
    /// Clipping and guard settings; not parameters.
    #[module(skip)]
    pub hooks: StepHooks,
}

impl<M> SupervisedStep<M> {
    /// Wraps `model`.
    pub fn new(model: M, hooks: StepHooks) -> Self {
        Self { model, hooks }
    }

    /// The task model.
    pub fn into_inner(self) -> M {
        self.model
    }
}

impl<M> SupervisedStep<M>
where
    M: Module + ModuleDisplay,
{
    /// Measures, checks and clips `grads`; `None` when the step must not update the weights.
    fn prepare(&self, grads: GradientsParams) -> Option<GradientsParams> {
        let guard = &self.hooks.guard;
        if guard.tripped().is_some() {
            return None;
        }
        let (grads, norm) = match self.hooks.clip_grad_norm {
            Some(max_norm) => match clip_grad_norm(self, grads, max_norm) {
                Ok((grads, report)) => (grads, report.total_norm),
                Err(_) => return self.unreadable(),
            },
            None => match global_grad_norm(self, &grads) {
                Ok(norm) => (grads, norm),
                Err(_) => return self.unreadable(),
            },
        };
        guard.record_grad_norm(norm);
        guard
            .check(NonFiniteQuantity::GradNorm, f64::from(norm))
            .then_some(grads)
    }

    /// A gradient that cannot be read is treated as a non-finite norm: the weights are kept.
    fn unreadable(&self) -> Option<GradientsParams> {
        self.hooks
            .guard
            .check(NonFiniteQuantity::GradNorm, f64::NAN);
        None
    }
}

impl<M> TrainStep for SupervisedStep<M>
where
    M: TrainStep + Module + ModuleDisplay,
    M::Output: StepLoss,
{
    type Input = M::Input;
    type Output = M::Output;

    fn step(&self, item: Self::Input) -> TrainOutput<Self::Output> {
        let output = self.model.step(item);
        let guard = &self.hooks.guard;
        guard.next_step();
        // A loss that cannot be read back counts as not finite: the step is not applied.
        let loss = output
            .item
            .loss()
            .try_into_scalar::<f32>()
            .map_or(f64::NAN, f64::from);
        guard.check(NonFiniteQuantity::Loss, loss);
        // The gradients were taken against `self.model`'s parameters, which are ours too.
        output
    }

    fn optimize(
        self,
        optim: &mut ModuleOptimizer,
        lr_module: ModuleLearningRate,
        grads: GradientsParams,
    ) -> Self {
        match self.prepare(grads) {
            Some(grads) => optim.step(lr_module, self, grads),
            None => self,
        }
    }

    fn optimize_multi(
        self,
        optim: &mut ModuleOptimizer,
        lr_module: ModuleLearningRate,
        grads: MultiGradientsParams,
    ) -> Self {
        let grads = merge_multi_device_grads(&self, grads);
        self.optimize(optim, lr_module, grads)
    }
}

impl<M> InferenceStep for SupervisedStep<M>
where
    M: InferenceStep,
{
    type Input = M::Input;
    type Output = M::Output;

    fn step(&self, item: Self::Input) -> Self::Output {
        self.model.step(item)
    }
}
