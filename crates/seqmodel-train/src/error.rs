//! The training errors: each names what is wrong (a config field, a file, an epoch and step)
//! and how to fix it.

use std::path::PathBuf;

/// What went wrong while configuring, running or resuming a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A [`TrainConfig`](crate::TrainConfig) field holds an impossible value.
    #[error("train config: field `{field}`: {message}")]
    Config {
        /// The field's path in the JSON config, e.g. `optimizer.lr`.
        field: String,
        /// Why the value is refused and what is accepted.
        message: String,
    },

    /// The loss or the global gradient norm stopped being finite; the weights of that step were
    /// not updated and no checkpoint was written for that epoch.
    #[error(
        "training diverged at epoch {epoch}, step {step}: the {quantity} is {value} (not finite); \
         lower the learning rate, enable gradient clipping (`clip_grad_norm`), or resume from \
         the last checkpoint"
    )]
    NonFinite {
        /// The epoch (1-based) in which the value appeared.
        epoch: usize,
        /// The training step (1-based batch index within the epoch) in which it appeared.
        step: usize,
        /// Which value: `loss` or `global gradient norm`.
        quantity: NonFiniteQuantity,
        /// The value itself (NaN, inf or -inf).
        value: f64,
    },

    /// A checkpoint file is missing.
    #[error(
        "checkpoint file {path} is missing; resume needs the files the last completed epoch \
         wrote, or start a new run without `--resume`"
    )]
    CheckpointMissing {
        /// The file that was expected.
        path: PathBuf,
    },

    /// A checkpoint file exists but cannot be read (truncated, corrupt, wrong format).
    #[error(
        "checkpoint file {path} is unreadable: {reason}; delete the run folder or start a new run"
    )]
    CheckpointCorrupt {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        reason: String,
    },

    /// A checkpoint file is readable but does not fit the model or the config (different
    /// parameters, shapes or run settings).
    #[error(
        "checkpoint file {path} does not match this model: {reason}; resume with the config the \
         run was started with, or start a new run"
    )]
    CheckpointMismatch {
        /// The file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },

    /// Resuming was asked for, but the run folder holds no completed epoch.
    #[error(
        "nothing to resume in {dir}: no completed epoch was recorded (`{marker}` is missing); \
         start the run without `--resume`"
    )]
    NothingToResume {
        /// The run folder.
        dir: PathBuf,
        /// The marker file's name.
        marker: &'static str,
    },

    /// The run folder already holds a run (a completed epoch) and resuming was not asked for.
    #[error(
        "{dir} already holds a run (epoch {epoch} completed); resume it, choose another \
         folder, or delete this one to start over"
    )]
    RunExists {
        /// The run folder.
        dir: PathBuf,
        /// Its last completed epoch.
        epoch: usize,
    },

    /// Reading or writing a file of the run folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// A tensor could not be read back from the device.
    #[error("reading a tensor from the device failed: {0}")]
    TensorRead(String),

    /// burn-train stopped with an error of its own (data loading, metrics, checkpoint thread).
    #[error("training stopped: {0}")]
    Engine(String),
}

/// Which value of a training step was not finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFiniteQuantity {
    /// The batch loss returned by the model's training step.
    Loss,
    /// The L2 norm over all parameters' gradients, before clipping.
    GradNorm,
}

impl std::fmt::Display for NonFiniteQuantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Loss => "loss",
            Self::GradNorm => "global gradient norm",
        })
    }
}

impl TrainError {
    /// A [`TrainError::Config`] for `field`.
    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A [`TrainError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
