//! [`fit`]: train a task model with burn-train's `SupervisedTraining`, seqmodel's additions
//! plugged in through its hooks, into a run folder that can be resumed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::data::dataloader::DataLoader;
use burn::lr_scheduler::LrSchedulerRecord;
use burn::module::{Module, ModuleDisplay};
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use burn::train::logger::FileMetricLogger;
use burn::train::metric::{Adaptor, LossInput, LossMetric};
use burn::train::{
    ExecutionStrategy, InferenceStep, Interrupter, Learner, LearnerModel, MultiDeviceOptim,
    SupervisedTraining, TrainStep, TrainingStrategy,
};

use crate::checkpoint::{
    AtomicFileCheckpointer, MARKER_FILE, checkpoint_path, read_checkpoint, read_marker,
};
use crate::class_metrics::{ClassLabels, ClassMetric, ClassScore};
use crate::config::TrainConfig;
use crate::epoch_hook::EpochHook;
use crate::epoch_log::{EpochLogger, EpochRecord, EpochRecords, METRICS_FILE, truncate_metrics};
use crate::error::{Result, TrainError};
use crate::guard::NonFiniteGuard;
use crate::monitor::{BestEpoch, EarlyStopping};
use crate::progress::ProgressMode;
use crate::schedule::{Schedule, record_step};
use crate::seq2seq_metrics::{DecodedIds, Detokenizer, Seq2SeqMetric, Seq2SeqScore};
use crate::step::{StepHooks, StepLoss, SupervisedStep};
use crate::tag_metrics::{TagIds, TagMetric, TagScore};

/// The folder, under the run folder, that holds the checkpoints and their marker.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// How [`fit`] runs, beside the [`TrainConfig`].
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue the run in the folder from its last completed epoch (error if there is none).
    /// Without it, a folder that already holds a completed epoch is refused.
    pub resume: bool,
    /// The devices to train on; empty: the model's device. Two or more train data-parallel
    /// through burn-train's `ExecutionStrategy::MultiDevice` (gradients summed on the main
    /// device, then clipped and applied once).
    pub devices: Vec<Device>,
    /// Where progress goes.
    pub progress: ProgressMode,
}

/// What [`fit`] returns beside the model.
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// The epoch the run resumed after (`None`: started from scratch).
    pub resumed_from: Option<usize>,
    /// The last epoch whose checkpoint is complete on disk.
    pub last_completed_epoch: usize,
    /// Every epoch's metrics, including those of earlier sessions (from `metrics.jsonl`).
    pub epochs: Vec<EpochRecord>,
    /// Whether training stopped early through burn-train's interrupter (Ctrl-C in the terminal
    /// UI, or a caller's stop).
    pub interrupted: bool,
    /// The best epoch by `TrainConfig::monitor` and its value (its checkpoint is on disk:
    /// [`load_epoch`]).
    pub best_epoch: Option<(usize, f64)>,
    /// The epoch after which early stopping ended the run, if it did.
    pub stopped_early_after: Option<usize>,
    /// Wall time of this call, in seconds.
    pub seconds: f64,
    /// The run folder.
    pub run_dir: PathBuf,
}

/// A trained model and its summary.
#[derive(Debug)]
pub struct Trained<M> {
    /// The model with the weights of the last epoch, in evaluation mode.
    pub model: M,
    /// How the run went.
    pub summary: TrainSummary,
}

/// The validation metrics a task registers beside the loss.
pub trait ValidationMetrics<M: LearnerModel> {
    /// Registers the metrics with burn-train.
    fn register(self, training: SupervisedTraining<M>) -> SupervisedTraining<M>;
}

/// Loss only.
#[derive(Debug, Clone, Copy, Default)]
pub struct LossOnly;

impl<M: LearnerModel> ValidationMetrics<M> for LossOnly {
    fn register(self, training: SupervisedTraining<M>) -> SupervisedTraining<M> {
        training
    }
}

/// Accuracy and macro-F1 (seqmodel-metrics, scikit-learn's definitions), over the whole
/// validation set of each epoch.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassificationMetrics;

impl<M> ValidationMetrics<M> for ClassificationMetrics
where
    M: LearnerModel,
    <M as InferenceStep>::Output: Adaptor<ClassLabels>,
{
    fn register(self, training: SupervisedTraining<M>) -> SupervisedTraining<M> {
        training
            .metric_valid_numeric(ClassMetric::new(ClassScore::Accuracy))
            .metric_valid_numeric(ClassMetric::new(ClassScore::MacroF1))
    }
}

/// Token accuracy and, for IOB2 tag sets, seqeval's entity micro-F1 in default and strict
/// modes ([`TagMetric`]), over the whole validation set of each epoch.
#[derive(Debug, Clone)]
pub struct TaggingMetrics {
    /// `tag_names[id]` names tag id `id`.
    pub tag_names: Arc<[String]>,
    /// Also report `entity_f1` and `entity_f1_strict` (the tags are IOB2).
    pub entities: bool,
}

impl<M> ValidationMetrics<M> for TaggingMetrics
where
    M: LearnerModel,
    <M as InferenceStep>::Output: Adaptor<TagIds>,
{
    fn register(self, training: SupervisedTraining<M>) -> SupervisedTraining<M> {
        let training = training
            .metric_valid_numeric(TagMetric::new(TagScore::Accuracy, self.tag_names.clone()));
        if self.entities {
            training
                .metric_valid_numeric(TagMetric::new(TagScore::EntityF1, self.tag_names.clone()))
                .metric_valid_numeric(TagMetric::new(TagScore::EntityF1Strict, self.tag_names))
        } else {
            training
        }
    }
}

/// Scores of decoded sequences ([`Seq2SeqMetric`]: token error rate, exact match, BLEU,
/// chrF), over the whole validation set of each epoch. The model's validation step must put
/// its decoded ids in `SequenceOutput::predictions`.
#[derive(Debug, Clone)]
pub struct Seq2SeqMetrics {
    /// The scores to report, in this order.
    pub scores: Vec<Seq2SeqScore>,
    /// How ids become tokens and text.
    pub detokenizer: Detokenizer,
}

impl<M> ValidationMetrics<M> for Seq2SeqMetrics
where
    M: LearnerModel,
    <M as InferenceStep>::Output: Adaptor<DecodedIds>,
{
    fn register(self, training: SupervisedTraining<M>) -> SupervisedTraining<M> {
        self.scores.into_iter().fold(training, |training, score| {
            training.metric_valid_numeric(Seq2SeqMetric::new(score, self.detokenizer.clone()))
        })
    }
}

/// Trains `model` on `train`, validating on `valid` after each epoch, into `run_dir`.
///
/// The run folder receives `checkpoint/` (atomic model, optimiser and scheduler records of
/// the last `keep_checkpoints` epochs, and `last.json`, the last completed epoch),
/// `metrics.jsonl` (one line per epoch) and burn-train's own metric logs (`train/`, `valid/`).
/// The loaders must batch with `config.batch_size`, and yield the same batches in the same
/// order for a given epoch if a resumed run is to match an uninterrupted one.
///
/// # Errors
/// [`TrainError::Config`] for an invalid config; [`TrainError::NonFinite`] naming the epoch
/// and step where the loss or gradient norm stopped being finite; on resume,
/// [`TrainError::NothingToResume`], or a checkpoint error naming the missing, unreadable or
/// mismatched file; [`TrainError::RunExists`] when the folder holds a run and `resume` is off;
/// [`TrainError::Engine`] for a failure inside burn-train.
pub fn fit<M, V>(
    model: M,
    config: &TrainConfig,
    train: Arc<dyn DataLoader<<M as TrainStep>::Input>>,
    valid: Arc<dyn DataLoader<<M as InferenceStep>::Input>>,
    run_dir: &Path,
    options: RunOptions,
    metrics: V,
) -> Result<Trained<M>>
where
    M: TrainStep + InferenceStep + Module + ModuleDisplay + 'static,
    <M as TrainStep>::Output: StepLoss + Adaptor<LossInput>,
    <M as InferenceStep>::Output: Adaptor<LossInput>,
    V: ValidationMetrics<SupervisedStep<M>>,
{
    let started = Instant::now();
    config.validate()?;
    let checkpoint_dir = run_dir.join(CHECKPOINT_DIR);
    let metrics_path = run_dir.join(METRICS_FILE);
    let marker = read_marker(&checkpoint_dir)?;
    let resumed_from = match (&marker, options.resume) {
        (None, true) => {
            return Err(TrainError::NothingToResume {
                dir: run_dir.to_path_buf(),
                marker: MARKER_FILE,
            });
        }
        (Some(marker), false) => {
            return Err(TrainError::RunExists {
                dir: run_dir.to_path_buf(),
                epoch: marker.epoch,
            });
        }
        (None, false) => None,
        (Some(marker), true) => {
            if marker.seed != config.seed {
                return Err(TrainError::CheckpointMismatch {
                    path: checkpoint_dir.join(MARKER_FILE),
                    reason: format!(
                        "the run was seeded with {}, the config says {}",
                        marker.seed, config.seed
                    ),
                });
            }
            Some(marker.epoch)
        }
    };

    let devices = if options.devices.is_empty() {
        model.devices()
    } else {
        options.devices.clone()
    };
    let steps_per_epoch = steps_per_epoch(train.num_items(), config.batch_size, devices.len());
    let start_epoch = resumed_from.unwrap_or(0) + 1;

    let interrupter = Interrupter::new();
    let guard = NonFiniteGuard::new(start_epoch, interrupter.clone());
    let step_model = SupervisedStep::new(
        model,
        StepHooks {
            clip_grad_norm: config.clip_grad_norm,
            guard: guard.clone(),
        },
    );
    let schedule = Schedule::new(
        &config.schedule,
        config.optimizer.lr(),
        steps_per_epoch,
        config.epochs,
    );

    if let Some(epoch) = resumed_from {
        check_checkpoint(&step_model, &checkpoint_dir, epoch, steps_per_epoch)?;
        truncate_metrics(&metrics_path, epoch)?;
    }
    std::fs::create_dir_all(run_dir).map_err(|error| TrainError::io(run_dir, error))?;

    let records = EpochRecords::default();
    let earlier = if resumed_from.is_some() {
        crate::epoch_log::read_metrics(&metrics_path)?
    } else {
        Vec::new()
    };
    let best = BestEpoch::new(config.monitor.clone(), records.clone(), &earlier);
    let hook = EpochHook {
        keep: config.keep_checkpoints,
        seed: config.seed,
        devices: devices.clone(),
        guard: guard.clone(),
        schedule: schedule.clone(),
        records: records.clone(),
        best: best.clone(),
    };
    hook.seed_epoch(start_epoch);

    let progress = options.progress.resolve();
    let [model_ckpt, optim_ckpt, scheduler_ckpt] =
        AtomicFileCheckpointer::set(&checkpoint_dir, config.seed)?;
    let mut training = SupervisedTraining::<SupervisedStep<M>>::new(run_dir, train, valid)
        .num_epochs(config.epochs)
        .with_interrupter(interrupter.clone())
        .with_application_logger(None)
        .with_custom_checkpointers(model_ckpt, optim_ckpt, scheduler_ckpt)
        .with_checkpointing_strategy(hook)
        .with_metric_logger(FileMetricLogger::new(run_dir))
        .with_metric_logger(EpochLogger::new(
            run_dir,
            config.epochs,
            progress == ProgressMode::Plain,
            records.clone(),
        ))
        .renderer(progress.renderer(interrupter.clone(), resumed_from))
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new());
    training = metrics.register(training);
    if let Some(early) = config.early_stopping {
        training = training.early_stopping(EarlyStopping {
            best: best.clone(),
            patience: early.patience,
        });
    }
    if let Some(epoch) = resumed_from {
        training = training.checkpoint(epoch);
    }
    if devices.len() > 1 {
        training = training.with_training_strategy(TrainingStrategy::Default(
            ExecutionStrategy::multi(devices.clone(), MultiDeviceOptim::OptimMainDevice),
        ));
    } else if let Some(device) = devices.first() {
        training = training.with_training_strategy(TrainingStrategy::Default(
            ExecutionStrategy::single(device.clone()),
        ));
    }

    let learner = Learner::new(step_model, config.optimizer.init(), schedule);
    let result = training.launch(learner);

    if let Some(error) = guard.error() {
        return Err(error);
    }
    if let Some(error) = result.error {
        return Err(TrainError::Engine(error.to_string()));
    }
    let last_completed_epoch = read_marker(&checkpoint_dir)?.map_or(0, |m| m.epoch);
    Ok(Trained {
        model: result.model.into_inner(),
        summary: TrainSummary {
            resumed_from,
            last_completed_epoch,
            epochs: crate::epoch_log::read_metrics(&metrics_path)?,
            interrupted: result.interrupted.is_some(),
            best_epoch: best.best(),
            stopped_early_after: best.stopped_at(),
            seconds: started.elapsed().as_secs_f64(),
            run_dir: run_dir.to_path_buf(),
        },
    })
}

/// Optimiser steps in one epoch of `items` examples in batches of `batch_size` on `devices`
/// devices. With several, burn-train splits the loader into contiguous slices (the last takes the
/// remainder) and takes one batch from each per step, until the longest slice is exhausted.
fn steps_per_epoch(items: usize, batch_size: usize, devices: usize) -> usize {
    let devices = devices.max(1);
    let share = items / devices;
    let longest = items - share * (devices - 1);
    longest.div_ceil(batch_size).max(1)
}

/// Reads the three records of `epoch` and checks that they fit `model` and the run, so that
/// burn-train (which panics on a bad checkpoint) only ever loads good ones.
fn check_checkpoint<M: Module>(
    model: &M,
    dir: &Path,
    epoch: usize,
    steps_per_epoch: usize,
) -> Result<()> {
    let record: ModuleRecord = read_checkpoint(dir, "model", epoch)?;
    model
        .clone()
        .try_load_record(record)
        .map_err(|error| TrainError::CheckpointMismatch {
            path: checkpoint_path(dir, "model", epoch),
            reason: error.to_string(),
        })?;
    let _optim: OptimizerRecord = read_checkpoint(dir, "optim", epoch)?;
    let scheduler: LrSchedulerRecord = read_checkpoint(dir, "scheduler", epoch)?;
    let expected = (epoch * steps_per_epoch) as u64;
    match record_step(&scheduler) {
        Some(step) if step == expected => Ok(()),
        found => Err(TrainError::CheckpointMismatch {
            path: checkpoint_path(dir, "scheduler", epoch),
            reason: format!(
                "it has taken {} optimiser steps, but {epoch} epochs of {steps_per_epoch} \
                 batches make {expected}: the data or `batch_size` changed",
                found.map_or_else(|| "no record of its".to_string(), |s| s.to_string())
            ),
        }),
    }
}

/// Loads the model weights of a completed `epoch` of the run in `run_dir` (e.g. the best epoch,
/// [`TrainSummary::best_epoch`]) into `model`: a missing, truncated or foreign checkpoint is a
/// [`TrainError`] naming the file.
pub fn load_epoch<M: Module + ModuleDisplay>(model: M, run_dir: &Path, epoch: usize) -> Result<M> {
    let dir = run_dir.join(CHECKPOINT_DIR);
    let record: ModuleRecord = read_checkpoint(&dir, "model", epoch)?;
    // Checkpoints hold the parameters of the `SupervisedStep` wrapper (prefix `model.`).
    SupervisedStep::new(model, StepHooks::default())
        .try_load_record(record)
        .map(SupervisedStep::into_inner)
        .map_err(|error| TrainError::CheckpointMismatch {
            path: checkpoint_path(&dir, "model", epoch),
            reason: error.to_string(),
        })
}
