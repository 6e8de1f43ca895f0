//! `summary.json` of a finished run: its test scores and what the run cost, in one
//! machine-readable file beside `report.md` (which is for people). `cargo xtask compare`
//! collects these; a user's own scripts can too.
//!
//! Scores use the units of the report: percentages for accuracy and F1, the data's own units
//! for forecast errors (SMAPE in percent).

use std::collections::BTreeMap;
use std::path::Path;

use seqmodel_train::{EpochRecord, write_atomic};
use serde::{Deserialize, Serialize};

use super::error::RunError;
use super::report::median;

/// The file name of a run's summary, written last when training ends.
pub const SUMMARY_FILE: &str = "summary.json";

/// One finished run in numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// `classify`, `tag`, `forecast` or `seq2seq`.
    pub task: String,
    /// The data source (a bundled name or a file).
    pub data: String,
    /// The encoder in one word (`bilstm`, `gru`, `2×lstm`, …).
    pub encoder: String,
    /// The run's seed.
    pub seed: u64,
    /// The epoch whose weights were scored.
    pub best_epoch: usize,
    /// Epochs trained (fewer than configured after early stopping).
    pub epochs_run: usize,
    /// Parameters of the model.
    pub parameters: usize,
    /// Median seconds of an epoch's training pass (validation excluded), when recorded.
    pub train_seconds_per_epoch: Option<f64>,
    /// Median seconds of a whole epoch (training and validation).
    pub seconds_per_epoch: Option<f64>,
    /// Peak resident memory of the training process in bytes (Linux's `VmHWM`); `None` where
    /// the system does not report it.
    pub peak_rss_bytes: Option<u64>,
    /// Test scores by name.
    pub test: BTreeMap<String, f64>,
}

impl RunSummary {
    /// A summary of a run that trained `epochs` and scored the weights of `best_epoch`; add
    /// test scores with [`RunSummary::score`]. Reads this process's peak memory now.
    pub fn new(
        (task, data, encoder): (&str, &str, String),
        seed: u64,
        epochs: &[EpochRecord],
        best_epoch: usize,
        parameters: usize,
    ) -> Self {
        let seconds: Vec<f64> = epochs.iter().map(|e| e.seconds).collect();
        let train_seconds: Vec<f64> = epochs.iter().filter_map(|e| e.train_seconds).collect();
        Self {
            task: task.into(),
            data: data.into(),
            encoder,
            seed,
            best_epoch,
            epochs_run: epochs.len(),
            parameters,
            train_seconds_per_epoch: median(&train_seconds),
            seconds_per_epoch: median(&seconds),
            peak_rss_bytes: peak_rss_bytes(),
            test: BTreeMap::new(),
        }
    }

    /// Adds the test score `name`.
    #[must_use]
    pub fn score(mut self, name: &str, value: f64) -> Self {
        self.test.insert(name.into(), value);
        self
    }

    /// Writes `summary.json` into the run folder `dir` (atomically).
    pub fn write(&self, dir: &Path) -> Result<(), RunError> {
        let path = dir.join(SUMMARY_FILE);
        let json = serde_json::to_string_pretty(self).map_err(|error| RunError::ConfigFile {
            path: path.clone(),
            message: error.to_string(),
        })?;
        write_atomic(&path, json.as_bytes()).map_err(|error| RunError::io(&path, error))
    }

    /// Reads the `summary.json` of the run folder `dir`.
    pub fn read(dir: &Path) -> Result<Self, RunError> {
        let path = dir.join(SUMMARY_FILE);
        if !path.is_file() {
            return Err(RunError::NoRun {
                dir: dir.to_path_buf(),
                what: format!("{SUMMARY_FILE}, written when training ends"),
            });
        }
        let bytes = std::fs::read(&path).map_err(|error| RunError::io(&path, error))?;
        serde_json::from_slice(&bytes).map_err(|error| RunError::ConfigFile {
            path,
            message: error.to_string(),
        })
    }
}

/// This process's peak resident memory in bytes: `VmHWM` of `/proc/self/status` (Linux);
/// `None` elsewhere or when it cannot be read.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// The `VmHWM:  123 kB` line of a `/proc/<pid>/status` text, in bytes.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut fields = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => Some(value * 1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_memory_is_parsed_in_bytes() {
        let status = "Name:\txtask\nVmPeak:\t 2000 kB\nVmHWM:\t    1536 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1536 * 1024));
        assert_eq!(parse_vm_hwm("VmHWM: 12 MB\n"), None);
        assert_eq!(parse_vm_hwm("VmRSS: 12 kB\n"), None);
        if cfg!(target_os = "linux") {
            assert!(peak_rss_bytes().is_some_and(|b| b > 1024 * 1024));
        }
    }

    #[test]
    fn summaries_round_trip_and_take_medians() {
        let record = |epoch: usize, seconds: f64| EpochRecord {
            epoch,
            seconds,
            train_seconds: Some(seconds - 1.0),
            train: BTreeMap::new(),
            valid: BTreeMap::new(),
        };
        let epochs = [record(1, 5.0), record(2, 3.0), record(3, 4.0)];
        let summary = RunSummary::new(
            ("classify", "rt-polarity", "bilstm".into()),
            7,
            &epochs,
            2,
            1000,
        )
        .score("accuracy", 72.5);
        assert_eq!(summary.seconds_per_epoch, Some(4.0));
        assert_eq!(summary.train_seconds_per_epoch, Some(3.0));
        assert_eq!(summary.epochs_run, 3);
        let dir = std::env::temp_dir().join(format!("seqmodel-summary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch");
        summary.write(&dir).expect("written");
        assert_eq!(RunSummary::read(&dir).expect("read"), summary);
        std::fs::remove_file(dir.join(SUMMARY_FILE)).expect("removed");
        let error = RunSummary::read(&dir).expect_err("no summary").to_string();
        assert!(error.contains(SUMMARY_FILE), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
