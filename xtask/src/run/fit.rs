//! What every task's `train` does once its data and model are ready: epoch loaders (the
//! training one shuffled per epoch from the seed, so that a resumed run sees the same order),
//! `seqmodel_train::fit`, then the best epoch's weights loaded on the inference device and
//! written to `model.bpk`.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataloader::DataLoader;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::module::{Module, ModuleDisplay};
use burn::tensor::Device;
use burn::train::metric::{Adaptor, LossInput};
use burn::train::{InferenceStep, TrainStep};
use seqmodel_train::{
    EpochLoader, MODEL_FILE, ProgressMode, RunOptions, StepLoss, SupervisedStep, TrainConfig,
    TrainSummary, ValidationMetrics, load_epoch, save_model,
};

use super::error::RunError;

/// Examples per batch when validating, evaluating or predicting.
pub const EVAL_BATCH: usize = 256;

/// One training call: the examples, how to batch them, and where the run lives.
pub struct FitJob<'a, I, O> {
    /// Training examples.
    pub train: Vec<I>,
    /// Validation examples.
    pub valid: Vec<I>,
    /// Turns examples into the model's batches.
    pub batcher: Arc<dyn Batcher<I, O>>,
    /// The loop's settings.
    pub config: &'a TrainConfig,
    /// Devices to train on data-parallel (1: one).
    pub devices: usize,
    /// The inference device (the training device is its autodiff twin).
    pub device: &'a Device,
    /// The run folder.
    pub out: &'a Path,
    /// The last completed epoch of a resumed run.
    pub resume_after: Option<usize>,
    /// Progress display.
    pub progress: ProgressMode,
}

/// The best epoch's weights and how the run went.
#[derive(Debug)]
pub struct Fitted<M> {
    /// burn-train's summary.
    pub summary: TrainSummary,
    /// The best epoch's weights (the last epoch's without a monitor) on the inference device.
    pub model: M,
    /// The epoch whose weights `model` holds.
    pub epoch: usize,
}

/// Trains `model` (built on `job.device.autodiff()`), then loads the best epoch into
/// `fresh` (the same model built on `job.device`) and saves it as `model.bpk`.
pub fn fit_best<M, V, I, O>(
    model: M,
    fresh: M,
    job: FitJob<'_, I, O>,
    metrics: V,
) -> Result<Fitted<M>, RunError>
where
    M: TrainStep<Input = O> + InferenceStep<Input = O> + Module + ModuleDisplay + 'static,
    <M as TrainStep>::Output: StepLoss + Adaptor<LossInput>,
    <M as InferenceStep>::Output: Adaptor<LossInput>,
    V: ValidationMetrics<SupervisedStep<M>>,
    I: Clone + Send + Sync + 'static,
    O: Send + 'static,
{
    let train_device = job.device.clone().autodiff();
    let first_epoch = job.resume_after.map_or(1, |e| e + 1);
    let train_loader: Arc<dyn DataLoader<O>> = Arc::new(
        EpochLoader::new(
            Arc::new(InMemDataset::new(job.train)),
            job.batcher.clone(),
            job.config.batch_size,
            train_device.clone(),
        )
        .shuffled(job.config.seed, first_epoch),
    );
    let valid_loader: Arc<dyn DataLoader<O>> = Arc::new(EpochLoader::new(
        Arc::new(InMemDataset::new(job.valid)),
        job.batcher,
        EVAL_BATCH,
        job.device.clone(),
    ));
    let options = RunOptions {
        resume: job.resume_after.is_some(),
        devices: if job.devices > 1 {
            vec![train_device; job.devices]
        } else {
            Vec::new()
        },
        progress: job.progress,
    };
    let trained = seqmodel_train::fit(
        model,
        job.config,
        train_loader,
        valid_loader,
        job.out,
        options,
        metrics,
    )?;
    let summary = trained.summary;
    let epoch = summary
        .best_epoch
        .map_or(summary.last_completed_epoch, |(e, _)| e);
    let model = load_epoch(fresh, job.out, epoch)?;
    save_model(&model, &job.out.join(MODEL_FILE))?;
    Ok(Fitted {
        summary,
        model,
        epoch,
    })
}
