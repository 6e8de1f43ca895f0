//! Runs the comparison's jobs: each as a child `xtask train` process (its own RNG, its own peak
//! memory, exactly what a user's `cargo xtask train` does), its output in `<run>.log`. A job
//! whose run finished with the same command line is reused, so an interrupted comparison goes
//! on where it stopped.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use xtask::stats::median;

use super::plan::{Job, command_line, log_path};
use crate::run::error::RunError;
use crate::run::latency::latency_ms;
use crate::run::summary::RunSummary;

/// Batch-1 predictions timed per run (the first test examples).
pub const LATENCY_EXAMPLES: usize = 100;

/// A finished job.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The job.
    pub job: Job,
    /// Its run's `summary.json`.
    pub summary: RunSummary,
    /// Median milliseconds of a batch-1 prediction (method-table jobs).
    pub latency_ms: Option<f64>,
}

/// Runs (or reuses) every job in order, printing one line each.
pub fn run_all(jobs: &[Job], fresh: bool) -> Result<Vec<Outcome>, RunError> {
    let exe = std::env::current_exe().map_err(|error| RunError::io(&PathBuf::from("."), error))?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    let started = Instant::now();
    for (i, job) in jobs.iter().enumerate() {
        let line = command_line(job);
        let log = log_path(&job.dir);
        let reused = !fresh && finished_with(&job.dir, &log, &line);
        if !reused {
            train(&exe, job, &line)?;
        }
        let summary = RunSummary::read(&job.dir)?;
        let latency_ms = if job.in_table {
            median(&latency_ms(&job.dir, LATENCY_EXAMPLES)?)
        } else {
            None
        };
        println!(
            "[{:>3}/{}] {:>6.0} s  {}{}",
            i + 1,
            jobs.len(),
            started.elapsed().as_secs_f64(),
            job.dir.display(),
            if reused {
                "  (finished run reused)"
            } else {
                ""
            }
        );
        outcomes.push(Outcome {
            job: job.clone(),
            summary,
            latency_ms,
        });
    }
    Ok(outcomes)
}

/// Whether the run in `dir` finished (`summary.json`) from the command `line` (the first line
/// of its log).
fn finished_with(dir: &std::path::Path, log: &std::path::Path, line: &str) -> bool {
    let logged = std::fs::read_to_string(log).ok();
    let first = logged.as_deref().and_then(|text| text.lines().next());
    first == Some(line) && RunSummary::read(dir).is_ok()
}

/// Trains `job` with `exe train … --out DIR --force --progress plain`, its output in the log;
/// a failure names the job and the log's last lines.
fn train(exe: &std::path::Path, job: &Job, line: &str) -> Result<(), RunError> {
    let log = log_path(&job.dir);
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent).map_err(|error| RunError::io(parent, error))?;
    }
    let mut file = std::fs::File::create(&log).map_err(|error| RunError::io(&log, error))?;
    writeln!(file, "{line}").map_err(|error| RunError::io(&log, error))?;
    let stderr = file
        .try_clone()
        .map_err(|error| RunError::io(&log, error))?;
    let status = Command::new(exe)
        .args(&job.args)
        .arg("--out")
        .arg(&job.dir)
        .args(["--force", "--progress", "plain"])
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .status()
        .map_err(|error| RunError::io(exe, error))?;
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(3).collect();
    Err(RunError::Train(format!(
        "`{line}` failed ({status}); its last lines: {}; the whole output is in {}",
        tail.into_iter().rev().collect::<Vec<_>>().join(" | "),
        log.display()
    )))
}
