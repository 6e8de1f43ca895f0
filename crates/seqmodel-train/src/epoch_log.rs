//! `metrics.jsonl`: one JSON line per completed epoch, written by a burn-train `MetricLogger`,
//! and the plain per-epoch progress lines printed when the output is not a terminal.
//!
//! A line looks like
//! `{"epoch":2,"seconds":1.93,"train":{"Loss":0.41},"valid":{"Loss":0.47,"accuracy":78.1,"macro_f1":77.9}}`;
//! metric values are the epoch's (loss: mean over batches; accuracy and macro-F1: over all
//! examples, in percent). Each line is written with one `write` on a file opened in append
//! mode and synced, so a reader never sees half a line from a finished write; a line whose
//! epoch was not checkpointed is dropped when the run resumes.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use serde::{Deserialize, Serialize};

use crate::checkpoint::write_atomic;
use crate::error::{Result, TrainError};

/// The file name of the per-epoch metrics, in the run folder.
pub const METRICS_FILE: &str = "metrics.jsonl";

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch (1-based).
    pub epoch: usize,
    /// Wall time of the epoch (training and validation), in seconds.
    pub seconds: f64,
    /// Wall time of the training part alone (forward, backward, optimiser over the training
    /// set), in seconds; absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_seconds: Option<f64>,
    /// Training metrics by name (`Loss`: mean batch loss).
    pub train: BTreeMap<String, f64>,
    /// Validation metrics by name (`Loss`, `accuracy`, `macro_f1`, ...).
    pub valid: BTreeMap<String, f64>,
}

/// The epochs logged so far; shared between the logger (burn-train's metric thread) and the
/// end-of-epoch hook.
#[derive(Debug, Clone, Default)]
pub struct EpochRecords {
    records: Arc<Mutex<Vec<EpochRecord>>>,
}

impl EpochRecords {
    fn lock(&self) -> MutexGuard<'_, Vec<EpochRecord>> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every epoch logged by this process, in order.
    pub fn all(&self) -> Vec<EpochRecord> {
        self.lock().clone()
    }

    /// The validation loss of `epoch`, if logged.
    pub fn valid_loss(&self, epoch: usize) -> Option<f64> {
        self.lock()
            .iter()
            .rev()
            .find(|r| r.epoch == epoch)
            .and_then(|r| r.valid.get("Loss").copied())
    }

    pub(crate) fn push(&self, record: EpochRecord) {
        self.lock().push(record);
    }
}

/// Reads `metrics.jsonl`; a missing file is an empty history.
///
/// # Errors
/// [`TrainError::Io`] or [`TrainError::CheckpointCorrupt`] naming the file and line.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochRecord>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(TrainError::io(path, error)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|error| TrainError::CheckpointCorrupt {
                path: PathBuf::from(format!("{}:{}", path.display(), index + 1)),
                reason: error.to_string(),
            })
        })
        .collect()
}

/// Keeps only the lines of epochs ≤ `last_epoch` (the checkpointed ones), atomically.
pub(crate) fn truncate_metrics(path: &Path, last_epoch: usize) -> Result<()> {
    let kept: Vec<EpochRecord> = read_metrics(path)?
        .into_iter()
        .filter(|r| r.epoch <= last_epoch)
        .collect();
    let mut text = String::new();
    for record in &kept {
        text.push_str(&serde_json::to_string(record).unwrap_or_default());
        text.push('\n');
    }
    write_atomic(path, text.as_bytes()).map_err(|error| TrainError::io(path, error))
}

/// burn-train `MetricLogger` that writes [`EpochRecord`]s to `metrics.jsonl` and, when
/// `echo` is set, prints one plain line per epoch.
pub struct EpochLogger {
    path: PathBuf,
    echo: bool,
    total_epochs: usize,
    names: HashMap<MetricId, String>,
    train: BTreeMap<String, f64>,
    valid: BTreeMap<String, f64>,
    started: Instant,
    train_seconds: Option<f64>,
    records: EpochRecords,
}

impl EpochLogger {
    /// A logger appending to `run_dir/metrics.jsonl`, sharing its history through `records`.
    pub fn new(run_dir: &Path, total_epochs: usize, echo: bool, records: EpochRecords) -> Self {
        Self {
            path: run_dir.join(METRICS_FILE),
            echo,
            total_epochs,
            names: HashMap::new(),
            train: BTreeMap::new(),
            valid: BTreeMap::new(),
            started: Instant::now(),
            train_seconds: None,
            records,
        }
    }

    fn append(&self, record: &EpochRecord) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }
}

/// The plain progress line of an epoch: `epoch 2/8  12.3 s  train Loss 0.4100  valid ...`.
pub fn format_epoch_line(record: &EpochRecord, total_epochs: usize) -> String {
    let mut line = format!(
        "epoch {}/{}  {:.1} s",
        record.epoch, total_epochs, record.seconds
    );
    for (split, values) in [("train", &record.train), ("valid", &record.valid)] {
        if values.is_empty() {
            continue;
        }
        line.push_str("  ");
        line.push_str(split);
        for (name, value) in values {
            line.push_str(&format!(" {name} {value:.4}"));
        }
    }
    line
}

fn entry_value(entry: &NumericEntry) -> f64 {
    match *entry {
        NumericEntry::Value(v) | NumericEntry::Final(v) => v,
        NumericEntry::Aggregated {
            aggregated_value, ..
        } => aggregated_value,
    }
}

impl MetricLogger for EpochLogger {
    fn log(&mut self, update: MetricsUpdate, _epoch: usize, split: &Split) {
        let target = match split {
            Split::Train => &mut self.train,
            Split::Valid => &mut self.valid,
            Split::Test(_) => return,
        };
        for numeric in update.entries_numeric {
            let Some(name) = self.names.get(&numeric.entry.metric_id) else {
                continue;
            };
            // The epoch-end `Final` entry wins; otherwise the running (epoch-so-far) value.
            let value = match (&numeric.numeric_entry, &numeric.running_entry) {
                (Some(NumericEntry::Final(v)), _) => *v,
                (_, Some(running)) => entry_value(running),
                (Some(current), None) => entry_value(current),
                (None, None) => continue,
            };
            target.insert(name.clone(), value);
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        _epoch: usize,
        _split: &Split,
    ) -> std::result::Result<Vec<NumericEntry>, String> {
        Err(format!(
            "{} keeps epoch values only; `{name}` is read from burn-train's file logger",
            METRICS_FILE
        ))
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        if summary.split == Split::Train {
            self.train_seconds = Some(self.started.elapsed().as_secs_f64());
        }
        if summary.split != Split::Valid {
            return;
        }
        let record = EpochRecord {
            epoch: summary.epoch_number,
            seconds: self.started.elapsed().as_secs_f64(),
            train_seconds: self.train_seconds.take(),
            train: std::mem::take(&mut self.train),
            valid: std::mem::take(&mut self.valid),
        };
        self.started = Instant::now();
        if let Err(error) = self.append(&record) {
            // The metric thread has no error channel; the record still reaches the summary.
            eprintln!("could not append to {}: {error}", self.path.display());
        }
        if self.echo {
            println!("{}", format_epoch_line(&record, self.total_epochs));
        }
        self.records.push(record);
    }
}
