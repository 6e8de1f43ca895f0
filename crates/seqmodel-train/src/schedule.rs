//! [`Schedule`]: the learning-rate schedule of a [`ScheduleConfig`], as a burn-train
//! `LrScheduler` (stepped once per optimiser step, saved in the scheduler checkpoint).
//!
//! Burn's schedulers cover warm-up, cosine and step decay but not reduce-on-plateau, which
//! needs the validation loss; this one type does all four, with its position and plateau state
//! in one record, so that a resumed run continues the same curve.

use std::f64::consts::PI;
use std::sync::{Arc, Mutex, MutexGuard};

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

use crate::config::{Decay, ScheduleConfig};

/// A learning-rate schedule; clones share their state (the end-of-epoch hook feeds the
/// validation loss to the copy inside burn-train's learner).
#[derive(Clone, Debug)]
pub struct Schedule {
    base_lr: f64,
    config: ScheduleConfig,
    steps_per_epoch: usize,
    total_steps: usize,
    state: Arc<Mutex<ScheduleState>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct ScheduleState {
    /// Optimiser steps taken so far.
    step: u64,
    /// Best validation loss seen (plateau).
    best: f64,
    /// Epochs since the best (plateau).
    bad_epochs: u64,
    /// Product of the plateau reductions so far.
    plateau_scale: f64,
}

impl Schedule {
    /// The schedule for a run of `epochs` epochs of `steps_per_epoch` optimiser steps each,
    /// from `base_lr`.
    pub fn new(
        config: &ScheduleConfig,
        base_lr: f64,
        steps_per_epoch: usize,
        epochs: usize,
    ) -> Self {
        Self {
            base_lr,
            config: config.clone(),
            steps_per_epoch: steps_per_epoch.max(1),
            total_steps: steps_per_epoch.max(1) * epochs.max(1),
            state: Arc::new(Mutex::new(ScheduleState {
                step: 0,
                best: f64::INFINITY,
                bad_epochs: 0,
                plateau_scale: 1.0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ScheduleState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The learning rate of optimiser step `step` (1-based).
    pub fn lr_at(&self, step: u64) -> f64 {
        let plateau_scale = self.lock().plateau_scale;
        self.lr_with(step, plateau_scale)
    }

    fn lr_with(&self, step: u64, plateau_scale: f64) -> f64 {
        let step = step.max(1) as usize;
        let warmup = self.config.warmup_steps;
        let warm = if step <= warmup {
            step as f64 / warmup as f64
        } else {
            1.0
        };
        let after = step.saturating_sub(warmup);
        let decayed = match self.config.decay {
            Decay::Constant => self.base_lr,
            Decay::Cosine { min_lr } => {
                let span = self.total_steps.saturating_sub(warmup).max(1);
                let progress = after.min(span) as f64 / span as f64;
                min_lr + (self.base_lr - min_lr) * 0.5 * (1.0 + (PI * progress).cos())
            }
            Decay::Step {
                every_epochs,
                gamma,
            } => {
                let epoch = (step - 1) / self.steps_per_epoch;
                self.base_lr * gamma.powi((epoch / every_epochs.max(1)) as i32)
            }
            Decay::ReduceOnPlateau { min_lr, .. } => (self.base_lr * plateau_scale).max(min_lr),
        };
        warm * decayed
    }

    /// Feeds the validation loss of a finished epoch (reduce-on-plateau; a no-op otherwise).
    /// Returns `true` when the rate was reduced.
    pub fn observe_valid_loss(&self, loss: f64) -> bool {
        let Decay::ReduceOnPlateau {
            factor,
            patience,
            threshold,
            ..
        } = self.config.decay
        else {
            return false;
        };
        let mut state = self.lock();
        if loss < state.best * (1.0 - threshold) {
            state.best = loss;
            state.bad_epochs = 0;
            return false;
        }
        state.bad_epochs += 1;
        if state.bad_epochs > patience as u64 {
            state.plateau_scale *= factor;
            state.bad_epochs = 0;
            return true;
        }
        false
    }
}

impl LrScheduler for Schedule {
    fn step(&mut self) -> LearningRate {
        let (step, plateau_scale) = {
            let mut state = self.lock();
            state.step += 1;
            (state.step, state.plateau_scale)
        };
        self.lr_with(step, plateau_scale)
    }

    fn to_record(&self) -> LrSchedulerRecord {
        let state = *self.lock();
        LrSchedulerRecord::new()
            .with_scalar("step", state.step)
            .with_scalar("best", state.best)
            .with_scalar("bad_epochs", state.bad_epochs)
            .with_scalar("plateau_scale", state.plateau_scale)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        let mut state = self.lock();
        if let Some(step) = record.scalar::<u64>("step") {
            state.step = step;
        }
        if let Some(best) = record.scalar::<f64>("best") {
            state.best = best;
        }
        if let Some(bad) = record.scalar::<u64>("bad_epochs") {
            state.bad_epochs = bad;
        }
        if let Some(scale) = record.scalar::<f64>("plateau_scale") {
            state.plateau_scale = scale;
        }
    }
}

/// The number of the step counter a record holds, to check that a checkpoint fits the run.
/// burn-train's learner nests the scheduler's own record under the prefix `0` (`0.step`, …).
pub(crate) fn record_step(record: &LrSchedulerRecord) -> Option<u64> {
    record
        .scalar::<u64>("step")
        .or_else(|| record.record("0").scalar::<u64>("step"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(decay: Decay, warmup_steps: usize) -> Schedule {
        Schedule::new(
            &ScheduleConfig {
                warmup_steps,
                decay,
            },
            1.0,
            10,
            4,
        )
    }

    /// Warm-up over 4 steps: 0.25, 0.5, 0.75, 1, then constant.
    #[test]
    fn warmup_is_linear_then_constant() {
        let mut s = schedule(Decay::Constant, 4);
        let lrs: Vec<f64> = (0..6).map(|_| s.step()).collect();
        assert_eq!(lrs, vec![0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
    }

    /// Cosine over 40 steps without warm-up: 1 at the start, 0.5 half-way (step 20), 0 at 40.
    #[test]
    fn cosine_halves_midway_and_ends_at_min() {
        let s = schedule(Decay::Cosine { min_lr: 0.0 }, 0);
        assert!((s.lr_at(20) - 0.5).abs() < 1e-12);
        assert!(s.lr_at(40).abs() < 1e-12);
        assert!(s.lr_at(1) > 0.99);
    }

    /// Step decay every 2 epochs of 10 steps: ×0.1 from step 21.
    #[test]
    fn step_decay_counts_epochs() {
        let s = schedule(
            Decay::Step {
                every_epochs: 2,
                gamma: 0.1,
            },
            0,
        );
        assert_eq!(s.lr_at(20), 1.0);
        assert!((s.lr_at(21) - 0.1).abs() < 1e-12);
    }

    /// Patience 1: the second epoch without improvement reduces the rate.
    #[test]
    fn plateau_reduces_after_patience_and_survives_a_record_round_trip() {
        let s = schedule(
            Decay::ReduceOnPlateau {
                factor: 0.5,
                patience: 1,
                threshold: 0.0,
                min_lr: 0.0,
            },
            0,
        );
        assert!(!s.observe_valid_loss(1.0));
        assert!(!s.observe_valid_loss(1.0));
        assert!(s.observe_valid_loss(1.0));
        assert_eq!(s.lr_at(1), 0.5);
        let record = s.to_record();
        let mut fresh = schedule(
            Decay::ReduceOnPlateau {
                factor: 0.5,
                patience: 1,
                threshold: 0.0,
                min_lr: 0.0,
            },
            0,
        );
        fresh.load_record(record);
        assert_eq!(fresh.lr_at(1), 0.5);
        assert_eq!(fresh.step(), 0.5);
        assert_eq!(record_step(&fresh.to_record()), Some(1));
    }
}
