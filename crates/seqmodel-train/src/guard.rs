//! The NaN/Inf guard: where training is (epoch, step) and the first non-finite value seen.
//!
//! burn-train's loop does not hand the epoch to a model's step, so the guard keeps the
//! position itself: [`SupervisedStep`](crate::SupervisedStep) advances the step on every
//! training batch, and the end-of-epoch hook ([`EpochHook`](crate::EpochHook)) moves it to the
//! next epoch. All clones share one state (the model is cloned onto every device).

use std::sync::{Arc, Mutex, MutexGuard};

use burn::train::Interrupter;

use crate::error::{NonFiniteQuantity, TrainError};

/// Shared position and verdict of a training run; cheap to clone.
#[derive(Clone, Default)]
pub struct NonFiniteGuard {
    state: Arc<Mutex<GuardState>>,
    interrupter: Option<Interrupter>,
}

#[derive(Debug, Default)]
struct GuardState {
    epoch: usize,
    step: usize,
    tripped: Option<Tripped>,
    last_grad_norm: Option<f32>,
}

/// The first non-finite value the guard saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tripped {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Step within the epoch (1-based).
    pub step: usize,
    /// Which value.
    pub quantity: NonFiniteQuantity,
    /// The value.
    pub value: f64,
}

impl std::fmt::Debug for NonFiniteGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonFiniteGuard")
            .field("state", &*self.lock())
            .finish_non_exhaustive()
    }
}

impl NonFiniteGuard {
    /// A guard positioned before the first step of `epoch` (1-based), that stops training
    /// through `interrupter` when it trips.
    pub fn new(epoch: usize, interrupter: Interrupter) -> Self {
        Self {
            state: Arc::new(Mutex::new(GuardState {
                epoch,
                ..GuardState::default()
            })),
            interrupter: Some(interrupter),
        }
    }

    fn lock(&self) -> MutexGuard<'_, GuardState> {
        // A panic while holding this lock cannot leave the counters inconsistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one more training batch and returns its 1-based index within the epoch.
    pub fn next_step(&self) -> usize {
        let mut state = self.lock();
        state.step += 1;
        state.step
    }

    /// Moves to the first step of `epoch`.
    pub fn start_epoch(&self, epoch: usize) {
        let mut state = self.lock();
        state.epoch = epoch;
        state.step = 0;
    }

    /// The current epoch (1-based).
    pub fn epoch(&self) -> usize {
        self.lock().epoch
    }

    /// Checks `value`; on the first non-finite value records where it happened (the current
    /// epoch and step) and asks burn-train to stop. Returns `true` when the value was finite.
    pub fn check(&self, quantity: NonFiniteQuantity, value: f64) -> bool {
        if value.is_finite() {
            return true;
        }
        let mut state = self.lock();
        if state.tripped.is_none() {
            state.tripped = Some(Tripped {
                epoch: state.epoch,
                step: state.step,
                quantity,
                value,
            });
            drop(state);
            if let Some(interrupter) = &self.interrupter {
                interrupter.stop(Some("a non-finite loss or gradient norm"));
            }
        }
        false
    }

    /// Records the last global gradient norm (before clipping).
    pub fn record_grad_norm(&self, norm: f32) {
        self.lock().last_grad_norm = Some(norm);
    }

    /// The last global gradient norm recorded.
    pub fn last_grad_norm(&self) -> Option<f32> {
        self.lock().last_grad_norm
    }

    /// The first non-finite value seen, if any.
    pub fn tripped(&self) -> Option<Tripped> {
        self.lock().tripped
    }

    /// The [`TrainError::NonFinite`] for the first non-finite value, if any.
    pub fn error(&self) -> Option<TrainError> {
        self.tripped().map(|t| TrainError::NonFinite {
            epoch: t.epoch,
            step: t.step,
            quantity: t.quantity,
            value: t.value,
        })
    }
}
