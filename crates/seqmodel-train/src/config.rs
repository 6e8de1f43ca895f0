//! [`TrainConfig`]: everything about a run that is not the model or the data, as JSON.
//!
//! Every field has a default (PyTorch's where one exists), unknown fields are refused, and
//! [`TrainConfig::validate`] names the field that holds an impossible value.

use crate::monitor::{EarlyStoppingConfig, MonitorConfig};
use std::path::Path;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// The settings of a training run.
///
/// ```
/// use seqmodel_train::{Decay, OptimizerConfig, TrainConfig};
///
/// let config = TrainConfig::from_json(
///     r#"{"epochs": 8, "optimizer": {"kind": "adam", "lr": 0.002},
///         "schedule": {"warmup_steps": 100, "decay": {"kind": "cosine"}},
///         "clip_grad_norm": 5.0}"#,
///     "inline",
/// )?;
/// assert_eq!(config.optimizer.lr(), 0.002);
/// assert!(matches!(config.schedule.decay, Decay::Cosine { .. }));
///
/// let bad = TrainConfig::from_json(r#"{"optimizer": {"kind": "sgd", "lr": -1}}"#, "inline");
/// assert_eq!(
///     bad.unwrap_err().to_string(),
///     "train config: field `optimizer.lr`: must be a positive finite number, found -1"
/// );
/// # Ok::<(), seqmodel_train::TrainError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Number of epochs (≥ 1).
    #[serde(default = "defaults::epochs")]
    pub epochs: usize,
    /// Examples per batch (≥ 1). The data loaders must batch with it: the schedules count
    /// `ceil(train examples / batch_size)` steps per epoch.
    #[serde(default = "defaults::batch_size")]
    pub batch_size: usize,
    /// Seed of every random draw of the run (epoch `e` uses
    /// [`epoch_seed`](crate::epoch_seed)`(seed, e)`).
    #[serde(default = "defaults::seed")]
    pub seed: u64,
    /// The optimiser.
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// Clip the gradients to this global L2 norm, as PyTorch's `clip_grad_norm_` (`null`: no
    /// clipping).
    #[serde(default)]
    pub clip_grad_norm: Option<f64>,
    /// Checkpoints kept on disk (≥ 2: the newest may be half-written when a run is killed).
    #[serde(default = "defaults::keep_checkpoints")]
    pub keep_checkpoints: usize,
    /// The validation metric that picks the best epoch, whose checkpoint is kept beside the
    /// newest ones (default: the validation loss, smaller is better).
    #[serde(default)]
    pub monitor: MonitorConfig,
    /// Stop when `monitor` has not improved for `patience` epochs (`null`: never).
    #[serde(default)]
    pub early_stopping: Option<EarlyStoppingConfig>,
}

mod defaults {
    pub fn epochs() -> usize {
        8
    }
    pub fn batch_size() -> usize {
        32
    }
    pub fn seed() -> u64 {
        42
    }
    pub fn keep_checkpoints() -> usize {
        2
    }
    pub fn adam_lr() -> f64 {
        1e-3
    }
    pub fn sgd_lr() -> f64 {
        0.01
    }
    pub fn beta1() -> f32 {
        0.9
    }
    pub fn beta2() -> f32 {
        0.999
    }
    pub fn eps() -> f32 {
        1e-8
    }
    pub fn adamw_weight_decay() -> f32 {
        0.01
    }
    pub fn momentum() -> f64 {
        0.9
    }
    pub fn plateau_factor() -> f64 {
        0.1
    }
    pub fn plateau_patience() -> usize {
        10
    }
    pub fn plateau_threshold() -> f64 {
        1e-4
    }
    pub fn step_gamma() -> f64 {
        0.1
    }
    pub fn one() -> usize {
        1
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: defaults::epochs(),
            batch_size: defaults::batch_size(),
            seed: defaults::seed(),
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
            clip_grad_norm: None,
            keep_checkpoints: defaults::keep_checkpoints(),
            monitor: MonitorConfig::default(),
            early_stopping: None,
        }
    }
}

/// The optimiser, with PyTorch's defaults (`torch.optim.Adam`, `AdamW`, `SGD`), built on
/// Burn's optimisers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Adam; `weight_decay` is an L2 penalty added to the gradient (as `torch.optim.Adam`).
    Adam {
        /// Base learning rate.
        #[serde(default = "defaults::adam_lr")]
        lr: f64,
        /// First-moment decay.
        #[serde(default = "defaults::beta1")]
        beta1: f32,
        /// Second-moment decay.
        #[serde(default = "defaults::beta2")]
        beta2: f32,
        /// Added to the denominator.
        #[serde(default = "defaults::eps")]
        eps: f32,
        /// L2 penalty (0: none).
        #[serde(default)]
        weight_decay: f32,
    },
    /// AdamW: decoupled weight decay.
    #[serde(rename = "adamw")]
    AdamW {
        /// Base learning rate.
        #[serde(default = "defaults::adam_lr")]
        lr: f64,
        /// First-moment decay.
        #[serde(default = "defaults::beta1")]
        beta1: f32,
        /// Second-moment decay.
        #[serde(default = "defaults::beta2")]
        beta2: f32,
        /// Added to the denominator.
        #[serde(default = "defaults::eps")]
        eps: f32,
        /// Decoupled weight decay.
        #[serde(default = "defaults::adamw_weight_decay")]
        weight_decay: f32,
    },
    /// Stochastic gradient descent with (by default) momentum 0.9.
    Sgd {
        /// Base learning rate.
        #[serde(default = "defaults::sgd_lr")]
        lr: f64,
        /// Momentum factor (0: plain SGD).
        #[serde(default = "defaults::momentum")]
        momentum: f64,
        /// Dampening of the momentum.
        #[serde(default)]
        dampening: f64,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
        /// L2 penalty (0: none).
        #[serde(default)]
        weight_decay: f32,
    },
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self::Adam {
            lr: defaults::adam_lr(),
            beta1: defaults::beta1(),
            beta2: defaults::beta2(),
            eps: defaults::eps(),
            weight_decay: 0.0,
        }
    }
}

impl OptimizerConfig {
    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            Self::Adam { lr, .. } | Self::AdamW { lr, .. } | Self::Sgd { lr, .. } => *lr,
        }
    }

    /// Sets the base learning rate, keeping the optimiser and its other settings.
    pub fn set_lr(&mut self, value: f64) {
        match self {
            Self::Adam { lr, .. } | Self::AdamW { lr, .. } | Self::Sgd { lr, .. } => *lr = value,
        }
    }

    /// Burn's optimiser for this config.
    pub fn init(&self) -> ModuleOptimizer {
        let decay = |penalty: f32| (penalty > 0.0).then(|| WeightDecayConfig::new(penalty));
        match *self {
            Self::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => AdamConfig::new()
                .with_beta_1(beta1)
                .with_beta_2(beta2)
                .with_epsilon(eps)
                .with_weight_decay(decay(weight_decay))
                .init(),
            Self::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => AdamWConfig::new()
                .with_beta_1(beta1)
                .with_beta_2(beta2)
                .with_epsilon(eps)
                .with_weight_decay(weight_decay)
                .init(),
            Self::Sgd {
                momentum,
                dampening,
                nesterov,
                weight_decay,
                ..
            } => SgdConfig::new()
                .with_momentum((momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(momentum)
                        .with_dampening(dampening)
                        .with_nesterov(nesterov)
                }))
                .with_weight_decay(decay(weight_decay))
                .init(),
        }
    }

    fn validate(&self) -> Result<()> {
        positive("optimizer.lr", self.lr())?;
        match *self {
            Self::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            }
            | Self::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => {
                unit_interval("optimizer.beta1", f64::from(beta1))?;
                unit_interval("optimizer.beta2", f64::from(beta2))?;
                positive("optimizer.eps", f64::from(eps))?;
                non_negative("optimizer.weight_decay", f64::from(weight_decay))
            }
            Self::Sgd {
                momentum,
                dampening,
                weight_decay,
                ..
            } => {
                unit_interval("optimizer.momentum", momentum)?;
                if !(0.0..=1.0).contains(&dampening) {
                    return Err(TrainError::config(
                        "optimizer.dampening",
                        format!("must be in [0, 1], found {dampening}"),
                    ));
                }
                non_negative("optimizer.weight_decay", f64::from(weight_decay))
            }
        }
    }
}

/// The learning-rate schedule: an optional linear warm-up, then a decay.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Steps over which the rate rises linearly from `lr / warmup_steps` to `lr` (0: none).
    #[serde(default)]
    pub warmup_steps: usize,
    /// What happens after the warm-up.
    #[serde(default)]
    pub decay: Decay,
}

/// The decay after the warm-up.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Decay {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Cosine annealing from `lr` to `min_lr` over the remaining steps of the run.
    Cosine {
        /// The rate at the last step.
        #[serde(default)]
        min_lr: f64,
    },
    /// Multiply by `gamma` every `every_epochs` epochs (`torch.optim.lr_scheduler.StepLR`).
    Step {
        /// Epochs between two decays.
        #[serde(default = "defaults::one")]
        every_epochs: usize,
        /// The factor.
        #[serde(default = "defaults::step_gamma")]
        gamma: f64,
    },
    /// Multiply by `factor` when the validation loss has not improved by a relative
    /// `threshold` for more than `patience` epochs (`ReduceLROnPlateau`, mode `min`).
    ReduceOnPlateau {
        /// The factor (0 < factor < 1).
        #[serde(default = "defaults::plateau_factor")]
        factor: f64,
        /// Epochs without improvement tolerated.
        #[serde(default = "defaults::plateau_patience")]
        patience: usize,
        /// Relative improvement that counts.
        #[serde(default = "defaults::plateau_threshold")]
        threshold: f64,
        /// Floor of the rate.
        #[serde(default)]
        min_lr: f64,
    },
}

impl TrainConfig {
    /// Parses a JSON config; `source` names it in errors (a file name, `inline`).
    ///
    /// # Errors
    /// [`TrainError::Config`] with the JSON error's line and column, or the invalid field.
    pub fn from_json(text: &str, source: &str) -> Result<Self> {
        let config: Self = serde_json::from_str(text).map_err(|error| {
            TrainError::config(
                format!("<{source}>:{}:{}", error.line(), error.column()),
                error.to_string(),
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a JSON config file.
    ///
    /// # Errors
    /// [`TrainError::Io`] naming the file, or as [`TrainConfig::from_json`].
    pub fn from_json_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| TrainError::io(path, error))?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`TrainError::Config`] naming the first impossible field.
    pub fn validate(&self) -> Result<()> {
        at_least("epochs", self.epochs, 1)?;
        at_least("batch_size", self.batch_size, 1)?;
        at_least("keep_checkpoints", self.keep_checkpoints, 2)?;
        if self.monitor.metric.trim().is_empty() {
            return Err(TrainError::config(
                "monitor.metric",
                "must name a validation metric such as \"Loss\" or \"accuracy\"",
            ));
        }
        if let Some(early) = self.early_stopping {
            at_least("early_stopping.patience", early.patience, 1)?;
        }
        if let Some(max_norm) = self.clip_grad_norm {
            positive("clip_grad_norm", max_norm)?;
        }
        self.optimizer.validate()?;
        let lr = self.optimizer.lr();
        match self.schedule.decay {
            Decay::Constant => Ok(()),
            Decay::Cosine { min_lr } => below_lr("schedule.decay.min_lr", min_lr, lr),
            Decay::Step {
                every_epochs,
                gamma,
            } => {
                at_least("schedule.decay.every_epochs", every_epochs, 1)?;
                if !(gamma > 0.0 && gamma <= 1.0) {
                    return Err(TrainError::config(
                        "schedule.decay.gamma",
                        format!("must be in (0, 1], found {gamma}"),
                    ));
                }
                Ok(())
            }
            Decay::ReduceOnPlateau {
                factor,
                threshold,
                min_lr,
                ..
            } => {
                if !(factor > 0.0 && factor < 1.0) {
                    return Err(TrainError::config(
                        "schedule.decay.factor",
                        format!("must be in (0, 1), found {factor}"),
                    ));
                }
                non_negative("schedule.decay.threshold", threshold)?;
                below_lr("schedule.decay.min_lr", min_lr, lr)
            }
        }
    }

    /// The config as pretty JSON (what a run folder's `config.json` holds).
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and enums always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn at_least(field: &str, value: usize, min: usize) -> Result<()> {
    if value < min {
        return Err(TrainError::config(
            field,
            format!("must be at least {min}, found {value}"),
        ));
    }
    Ok(())
}

fn positive(field: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(TrainError::config(
            field,
            format!("must be a positive finite number, found {value}"),
        ));
    }
    Ok(())
}

fn non_negative(field: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(TrainError::config(
            field,
            format!("must be a finite number ≥ 0, found {value}"),
        ));
    }
    Ok(())
}

fn unit_interval(field: &str, value: f64) -> Result<()> {
    if !(0.0..1.0).contains(&value) {
        return Err(TrainError::config(
            field,
            format!("must be in [0, 1), found {value}"),
        ));
    }
    Ok(())
}

fn below_lr(field: &str, value: f64, lr: f64) -> Result<()> {
    non_negative(field, value)?;
    if value > lr {
        return Err(TrainError::config(
            field,
            format!("must not exceed optimizer.lr ({lr}), found {value}"),
        ));
    }
    Ok(())
}
