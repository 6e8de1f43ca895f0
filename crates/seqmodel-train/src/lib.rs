//! # seqmodel-train
//!
//! The task-agnostic layer of seqmodel: training on Burn's own engine (burn-train's
//! `Learner` and `SupervisedTraining`), extended through its hooks, and choosing the device a
//! model runs on ([`device`]).
//!
//! - [`fit`] trains any model that implements burn-train's `TrainStep` and `InferenceStep`,
//!   from a [`TrainConfig`] (serde, validated, errors name the field), into a run folder.
//! - [`SupervisedStep`] wraps the model: global-norm gradient clipping as PyTorch's
//!   `clip_grad_norm_` ([`clip_grad_norm`]) in `TrainStep::optimize`, and a NaN/Inf guard
//!   ([`NonFiniteGuard`]) that stops with [`TrainError::NonFinite`] naming epoch and step.
//! - [`AtomicFileCheckpointer`]: burn-train checkpointer writing temp file + fsync + rename,
//!   with a marker of the last completed epoch; `RunOptions::resume` continues from it.
//! - [`EpochLogger`]: `metrics.jsonl`, one line per epoch, with seqmodel-metrics'
//!   accuracy and macro-F1 ([`ClassMetric`]), or a tagger's token accuracy and entity F1
//!   ([`TagMetric`], [`TaggingMetrics`]), or a sequence-to-sequence model's decoded token error
//!   rate, exact match, BLEU and chrF ([`Seq2SeqMetric`], [`Seq2SeqMetrics`]); plain per-epoch lines when not in a terminal.
//! - [`OptimizerConfig`] (Adam, AdamW, SGD + momentum) and [`ScheduleConfig`] (warm-up,
//!   cosine, step, reduce-on-plateau; [`Schedule`]).
//! - `plots` (feature `plots`, on by default): PNG pictures of a run drawn with plotters —
//!   loss and validation-metric curves from [`EpochRecord`]s, a confusion matrix, a forecast
//!   against the actual series.
//!
//! Every seqmodel layer takes a `&Device` and never names a backend; binaries turn a
//! `--backend flex|ndarray|wgpu` flag into a device with [`device::BackendName::device`] and
//! wrap it with `.autodiff()` to train.
//!
//! ```
//! use burn::tensor::Tensor;
//! use seqmodel_train::device::BackendName;
//!
//! # #[cfg(feature = "flex")] {
//! let device = BackendName::Flex.device().expect("flex is compiled in by default");
//! let x = Tensor::<2>::ones([2, 3], &device);
//! assert_eq!(x.sum().into_scalar::<f32>(), 6.0);
//! # }
//! ```

/// Backend selection: [`seqmodel_device`], re-exported (`seqmodel_train::device::BackendName`).
pub use seqmodel_device as device;

mod checkpoint;
mod class_metrics;
mod clip;
mod config;
mod epoch_hook;
mod epoch_log;
mod error;
mod fit;
mod guard;
mod loader;
mod model_file;
mod monitor;
#[cfg(feature = "plots")]
pub mod plots;
mod progress;
mod schedule;
mod seq2seq_metrics;
mod step;
mod tag_metrics;

pub use checkpoint::{
    AtomicFileCheckpointer, CHECKPOINT_PARTS, CheckpointMarker, MARKER_FILE, checkpoint_path,
    epoch_seed, read_checkpoint, read_marker, write_atomic,
};
pub use class_metrics::{ClassLabels, ClassMetric, ClassScore};
pub use clip::{
    CLIP_EPSILON, ClipReport, clip_grad_norm, global_grad_norm, merge_multi_device_grads,
};
pub use config::{Decay, OptimizerConfig, ScheduleConfig, TrainConfig};
pub use epoch_hook::EpochHook;
pub use epoch_log::{
    EpochLogger, EpochRecord, EpochRecords, METRICS_FILE, format_epoch_line, read_metrics,
};
pub use error::{NonFiniteQuantity, Result, TrainError};
pub use fit::{
    CHECKPOINT_DIR, ClassificationMetrics, LossOnly, RunOptions, Seq2SeqMetrics, TaggingMetrics,
    TrainSummary, Trained, ValidationMetrics, fit, load_epoch,
};
pub use guard::{NonFiniteGuard, Tripped};
pub use loader::EpochLoader;
pub use model_file::{MODEL_FILE, load_model, save_model};
pub use monitor::{BestEpoch, EarlyStopping, EarlyStoppingConfig, MonitorConfig, MonitorMode};
#[cfg(feature = "plots")]
pub use plots::{
    PlotError, plot_attention, plot_confusion, plot_curves, plot_forecasts, plot_series,
};
pub use progress::ProgressMode;
pub use schedule::Schedule;
pub use seq2seq_metrics::{DecodedIds, Detokenizer, Seq2SeqMetric, Seq2SeqScore};
pub use seqmodel_device::{BackendName, DeviceError, DeviceInfo};
pub use step::{StepHooks, StepLoss, SupervisedStep};
pub use tag_metrics::{TagIds, TagMetric, TagScore};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
