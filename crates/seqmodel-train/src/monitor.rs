//! The best epoch and early stopping: one validation metric, watched every epoch.
//!
//! [`BestEpoch`] is shared by the end-of-epoch hook (which keeps the best epoch's checkpoint
//! when older ones are deleted) and [`EarlyStopping`], burn-train's `EarlyStoppingStrategy`
//! hook (which stops once the metric has not improved for `patience` epochs). Both read the
//! epoch's value from the run's `metrics.jsonl` records, so a resumed run continues with the
//! best epoch and the patience count of the interrupted one.

use std::sync::{Arc, Mutex, MutexGuard};

use burn::train::EarlyStoppingStrategy;
use burn::train::metric::store::EventStoreClient;
use serde::{Deserialize, Serialize};

use crate::epoch_log::{EpochRecord, EpochRecords};

/// Whether larger or smaller values of the monitored metric are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MonitorMode {
    /// Smaller is better (a loss).
    Min,
    /// Larger is better (accuracy, F1).
    Max,
}

/// The validation metric that picks the best epoch (`metric` is a key of
/// [`EpochRecord::valid`](crate::EpochRecord), e.g. `"Loss"`, `"accuracy"`, `"macro_f1"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    /// The validation metric's name.
    pub metric: String,
    /// Whether larger or smaller is better.
    pub mode: MonitorMode,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            metric: "Loss".to_string(),
            mode: MonitorMode::Min,
        }
    }
}

impl MonitorConfig {
    /// Whether `value` is strictly better than `best` (ties keep the earlier epoch, as
    /// PyTorch recipes that test `>`/`<` do).
    pub fn improves(&self, value: f64, best: f64) -> bool {
        match self.mode {
            MonitorMode::Min => value < best,
            MonitorMode::Max => value > best,
        }
    }

    /// The best epoch of `records` and its value (the first of equal ones); `None` when no
    /// record has the metric as a finite number.
    pub fn best_of(&self, records: &[EpochRecord]) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for record in records {
            let Some(&value) = record.valid.get(&self.metric) else {
                continue;
            };
            if !value.is_finite() {
                continue;
            }
            if best.is_none_or(|(_, b)| self.improves(value, b)) {
                best = Some((record.epoch, value));
            }
        }
        best
    }
}

/// Stop when the monitored metric has not improved for `patience` epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingConfig {
    /// Epochs without improvement after which training stops (≥ 1).
    pub patience: usize,
}

#[derive(Debug, Default)]
struct BestState {
    best: Option<(usize, f64)>,
    last_epoch: usize,
    stopped_at: Option<usize>,
}

/// The best epoch so far by a [`MonitorConfig`], shared between the hooks of one run.
#[derive(Debug, Clone)]
pub struct BestEpoch {
    monitor: MonitorConfig,
    records: EpochRecords,
    state: Arc<Mutex<BestState>>,
}

impl BestEpoch {
    /// A tracker reading `records`, starting from the epochs in `earlier` (a resumed run's
    /// `metrics.jsonl`).
    pub fn new(monitor: MonitorConfig, records: EpochRecords, earlier: &[EpochRecord]) -> Self {
        let state = BestState {
            best: monitor.best_of(earlier),
            last_epoch: earlier.iter().map(|r| r.epoch).max().unwrap_or(0),
            stopped_at: None,
        };
        Self {
            monitor,
            records,
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BestState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes `epoch`'s record into account (idempotent per epoch).
    pub fn observe(&self, epoch: usize) {
        let record = self
            .records
            .all()
            .into_iter()
            .rev()
            .find(|r| r.epoch == epoch);
        let mut state = self.lock();
        if epoch <= state.last_epoch {
            return;
        }
        state.last_epoch = epoch;
        if let Some(value) = record.and_then(|r| r.valid.get(&self.monitor.metric).copied())
            && value.is_finite()
            && state
                .best
                .is_none_or(|(_, best)| self.monitor.improves(value, best))
        {
            state.best = Some((epoch, value));
        }
    }

    /// The best epoch and its value so far.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.lock().best
    }

    /// The monitor.
    pub fn monitor(&self) -> &MonitorConfig {
        &self.monitor
    }

    /// The epoch after which [`EarlyStopping`] stopped the run, if it did.
    pub fn stopped_at(&self) -> Option<usize> {
        self.lock().stopped_at
    }
}

/// burn-train's early-stopping hook on a [`BestEpoch`].
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    /// The shared tracker.
    pub best: BestEpoch,
    /// Epochs without improvement tolerated.
    pub patience: usize,
}

impl EarlyStoppingStrategy for EarlyStopping {
    fn should_stop(&mut self, epoch: usize, _store: &EventStoreClient) -> bool {
        self.after_epoch(epoch)
    }
}

impl EarlyStopping {
    /// Observes `epoch` and decides whether to stop after it.
    pub fn after_epoch(&mut self, epoch: usize) -> bool {
        self.best.observe(epoch);
        let best_epoch = self.best.best().map_or(0, |(e, _)| e);
        let stop = epoch.saturating_sub(best_epoch) >= self.patience;
        if stop {
            self.best.lock().stopped_at = Some(epoch);
        }
        stop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn record(epoch: usize, accuracy: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            seconds: 1.0,
            train_seconds: None,
            train: BTreeMap::new(),
            valid: BTreeMap::from([("accuracy".to_string(), accuracy)]),
        }
    }

    fn accuracy() -> MonitorConfig {
        MonitorConfig {
            metric: "accuracy".into(),
            mode: MonitorMode::Max,
        }
    }

    #[test]
    fn best_of_keeps_the_first_of_equal_values_and_skips_nan() {
        let records = [
            record(1, 50.0),
            record(2, 70.0),
            record(3, f64::NAN),
            record(4, 70.0),
        ];
        assert_eq!(accuracy().best_of(&records), Some((2, 70.0)));
        let loss = MonitorConfig::default();
        assert_eq!(loss.best_of(&records), None);
    }

    #[test]
    fn a_resumed_tracker_starts_from_the_earlier_epochs_and_stops_after_patience() {
        let records = EpochRecords::default();
        let best = BestEpoch::new(
            accuracy(),
            records.clone(),
            &[record(1, 60.0), record(2, 55.0)],
        );
        assert_eq!(best.best(), Some((1, 60.0)));
        let mut stopping = EarlyStopping { best, patience: 3 };
        records.push(record(3, 65.0));
        assert!(!stopping.after_epoch(3));
        assert_eq!(stopping.best.best(), Some((3, 65.0)));
        records.push(record(4, 64.0));
        records.push(record(5, 65.0));
        assert!(!stopping.after_epoch(4));
        assert!(!stopping.after_epoch(5));
        records.push(record(6, 10.0));
        assert!(stopping.after_epoch(6));
        assert_eq!(stopping.best.stopped_at(), Some(6));
        assert_eq!(stopping.best.best(), Some((3, 65.0)));
    }
}
