//! What `cargo xtask compare` trains: one job per (task, encoder, seed) of the method table,
//! and per (index, transform, method, seed) of the stock-forecasting case study. Each job is
//! one `cargo xtask train` run into its own folder.

use std::path::{Path, PathBuf};

/// The encoders of the method table, as `--encoder` spells them, in the table's order: the
/// seed's RNN, Bi-RNN, LSTM/GRU (and the project's default BiLSTM), 1D-CNN, QRNN, Transformer.
pub const ENCODERS: [&str; 8] = [
    "rnn",
    "birnn",
    "lstm",
    "gru",
    "bilstm",
    "cnn",
    "qrnn",
    "transformer",
];

/// The tasks of the method table.
pub const TASKS: [TableTask; 3] = [TableTask::Classify, TableTask::Tag, TableTask::Forecast];

/// The four indices of the bundled eustock file.
pub const INDICES: [&str; 4] = ["DAX", "SMI", "CAC", "FTSE"];

/// The target transforms of the case study: scaled price levels and log-returns.
pub const TRANSFORMS: [&str; 2] = ["levels", "log-return"];

/// The two methods of the case study, as (name, `train` flags).
pub const STUDY_METHODS: [(&str, &[&str]); 2] = [
    ("rnn", &["--encoder", "rnn", "--attention", "none"]),
    (
        "lstm+attention",
        &["--encoder", "lstm", "--attention", "additive"],
    ),
];

/// A task of the method table, with the data and the score it is compared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableTask {
    /// Sentence polarity, rt-polarity: test accuracy.
    Classify,
    /// Part-of-speech tags, ud-ewt, word features only (the PyTorch baseline's tagger): test
    /// token accuracy.
    Tag,
    /// Yearly sunspot numbers, next year: test MAE (the naive forecast beside it).
    Forecast,
}

impl TableTask {
    /// `--task`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Classify => "classify",
            Self::Tag => "tag",
            Self::Forecast => "forecast",
        }
    }

    /// `--data`.
    pub fn data(self) -> &'static str {
        match self {
            Self::Classify => "rt-polarity",
            Self::Tag => "ud-ewt",
            Self::Forecast => "sunspots",
        }
    }

    /// The score of `summary.json` the table compares, and whether higher is better.
    pub fn score(self) -> (&'static str, bool) {
        match self {
            Self::Classify | Self::Tag => ("accuracy", true),
            Self::Forecast => ("mae", false),
        }
    }

    /// How the score reads in the table's header.
    pub fn score_title(self) -> &'static str {
        match self {
            Self::Classify => "test accuracy (%)",
            Self::Tag => "test token accuracy (%)",
            Self::Forecast => "test MAE",
        }
    }

    /// Epochs of a run: the task's recipe, or fewer under `--quick`.
    pub fn epochs(self, quick: bool) -> usize {
        match (self, quick) {
            // The baseline's 8 epochs.
            (Self::Classify, false) => 8,
            // 10 of the recipe's 40: every encoder gets the same budget (about 30 s a run).
            (Self::Tag, false) => 10,
            // The recipe: up to 300, early stopping after 30 without improvement.
            (Self::Forecast, false) => 300,
            (Self::Classify | Self::Tag, true) => 1,
            (Self::Forecast, true) => 20,
        }
    }
}

/// One training run of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its run folder.
    pub dir: PathBuf,
    /// The `cargo xtask train` arguments (without `--out`, `--force`, `--progress`).
    pub args: Vec<String>,
    /// A method-table run (its batch-1 inference is timed after training); `false`: a
    /// case-study run.
    pub in_table: bool,
}

/// How much to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Seeds `0..seeds` of every configuration.
    pub seeds: u64,
    /// Fewer epochs (see [`TableTask::epochs`]).
    pub quick: bool,
    /// The method table's tasks.
    pub tasks: Vec<TableTask>,
    /// The method table's encoders.
    pub encoders: Vec<String>,
    /// The case study's indices (none: no case study).
    pub indices: Vec<String>,
    /// Where the run folders go.
    pub out: PathBuf,
}

impl Plan {
    /// The folder of a method-table run.
    pub fn table_dir(&self, task: TableTask, encoder: &str, seed: u64) -> PathBuf {
        self.out
            .join("table")
            .join(task.name())
            .join(format!("{encoder}-s{seed}"))
    }

    /// The folder of a case-study run.
    pub fn study_dir(&self, index: &str, transform: &str, method: &str, seed: u64) -> PathBuf {
        self.out
            .join("study")
            .join(format!("{index}-{transform}"))
            .join(format!("{}-s{seed}", method.replace('+', "-")))
    }

    /// Every run of the method table, task by task (the cheapest first: forecast, tag,
    /// classify), seed by seed, encoder by encoder.
    pub fn table_jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        let mut tasks = self.tasks.clone();
        tasks.sort_by_key(|t| match t {
            TableTask::Forecast => 0,
            TableTask::Tag => 1,
            TableTask::Classify => 2,
        });
        // Seed by seed within a task: an interrupted comparison has whole seeds to report.
        for task in tasks {
            for seed in 0..self.seeds {
                for encoder in &self.encoders {
                    let mut args = strings(&["train", "--task", task.name()]);
                    args.extend(strings(&["--data", task.data(), "--encoder", encoder]));
                    if task == TableTask::Classify {
                        // PyTorch's baseline recipe (Adam 1e-3), as in the published table
                        // and the baselines' own; the default job uses 2e-3.
                        args.extend(strings(&["--lr", "0.001"]));
                    }
                    if task == TableTask::Tag {
                        // The encoder is what differs: no character features beside it.
                        args.extend(strings(&["--char-features", "none"]));
                    }
                    args.extend(seed_and_epochs(seed, task.epochs(self.quick)));
                    jobs.push(Job {
                        dir: self.table_dir(task, encoder, seed),
                        args,
                        in_table: true,
                    });
                }
            }
        }
        jobs
    }

    /// Every run of the case study: index, transform, method, seed.
    pub fn study_jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for index in &self.indices {
            for transform in TRANSFORMS {
                for (method, flags) in STUDY_METHODS {
                    for seed in 0..self.seeds {
                        let mut args = strings(&["train", "--task", "forecast"]);
                        args.extend(strings(&["--data", "eustock", "--target", index]));
                        args.extend(strings(&["--transform", transform]));
                        args.extend(strings(flags));
                        args.extend(seed_and_epochs(
                            seed,
                            TableTask::Forecast.epochs(self.quick),
                        ));
                        jobs.push(Job {
                            dir: self.study_dir(index, transform, method, seed),
                            args,
                            in_table: false,
                        });
                    }
                }
            }
        }
        jobs
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

fn seed_and_epochs(seed: u64, epochs: usize) -> Vec<String> {
    vec![
        "--seed".into(),
        seed.to_string(),
        "--epochs".into(),
        epochs.to_string(),
    ]
}

/// The job's command line as one line (what its log starts with; a finished run is reused
/// only when this line matches).
pub fn command_line(job: &Job) -> String {
    format!("cargo xtask {}", job.args.join(" "))
}

/// `dir`'s log file: beside the run folder, `<dir>.log`.
pub fn log_path(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".log");
    dir.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            seeds: 2,
            quick: true,
            tasks: vec![TableTask::Classify, TableTask::Forecast],
            encoders: vec!["rnn".into(), "lstm".into()],
            indices: vec!["DAX".into()],
            out: PathBuf::from("runs/compare"),
        }
    }

    #[test]
    fn one_job_per_task_encoder_and_seed_each_in_its_own_folder() {
        let jobs = plan().table_jobs();
        assert_eq!(jobs.len(), 2 * 2 * 2);
        // The cheap task first.
        assert!(
            jobs[..4]
                .iter()
                .all(|j| j.args.contains(&"forecast".to_string()))
        );
        let mut dirs: Vec<_> = jobs.iter().map(|j| j.dir.clone()).collect();
        dirs.sort();
        dirs.dedup();
        assert_eq!(dirs.len(), jobs.len(), "folders are distinct");
        let first = &jobs[4];
        assert_eq!(
            command_line(first),
            "cargo xtask train --task classify --data rt-polarity --encoder rnn --lr 0.001 \
             --seed 0 --epochs 1"
        );
        assert_eq!(
            first.dir,
            PathBuf::from("runs/compare/table/classify/rnn-s0")
        );
        assert_eq!(
            log_path(&first.dir),
            PathBuf::from("runs/compare/table/classify/rnn-s0.log")
        );
        assert!(jobs.iter().all(|j| j.in_table));
    }

    #[test]
    fn the_study_runs_both_methods_on_both_transforms() {
        let jobs = plan().study_jobs();
        assert_eq!(jobs.len(), TRANSFORMS.len() * STUDY_METHODS.len() * 2);
        let lines: Vec<String> = jobs.iter().map(command_line).collect();
        assert!(lines.iter().any(|l| l.contains("--transform levels")
            && l.contains("--encoder lstm --attention additive")));
        assert!(lines.iter().any(|l| l.contains("--transform log-return")
            && l.contains("--encoder rnn --attention none")));
        assert!(lines.iter().all(|l| l.contains("--target DAX")));
        assert!(!jobs.iter().any(|j| j.in_table));
        assert_eq!(
            jobs[2].dir,
            PathBuf::from("runs/compare/study/DAX-levels/lstm-attention-s0")
        );
    }
}
