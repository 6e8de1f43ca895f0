//! `report.md` and `test_scores.json` of a finished forecast run: the model's MAE, RMSE and
//! SMAPE in original units beside the naive last-value and seasonal-naive forecasts.

use std::fmt::Write as _;
use std::path::Path;

use seqmodel_metrics::RegressionScores;
use seqmodel_train::{EpochRecord, write_atomic};

use super::config::ForecastRunConfig;
use super::pipeline::{Evaluation, SCORES_FILE};
use crate::run::error::RunError;
use crate::run::report::{REPORT_FILE, median};

/// What the report says beside the config.
#[derive(Debug)]
pub struct ForecastReport<'a> {
    /// The run's config.
    pub config: &'a ForecastRunConfig,
    /// Every epoch's metrics.
    pub epochs: &'a [EpochRecord],
    /// The epoch whose weights were scored.
    pub epoch: usize,
    /// Whether early stopping ended the run (after that epoch).
    pub stopped_early_after: Option<usize>,
    /// Test scores.
    pub test: &'a Evaluation,
    /// Parameters.
    pub parameters: usize,
    /// Rows of the series.
    pub rows: usize,
    /// Windows per split.
    pub split_sizes: [usize; 3],
    /// The run folder.
    pub dir: &'a Path,
}

/// The three rows of the scores table: `(name, scores)`.
pub fn score_rows(
    config: &ForecastRunConfig,
    test: &Evaluation,
) -> [(String, RegressionScores); 3] {
    [
        ("model".to_string(), test.model),
        ("naive (last value)".to_string(), test.naive),
        (
            format!("seasonal naive (m = {})", config.data.season),
            test.seasonal,
        ),
    ]
}

/// The scores table in Markdown.
pub fn score_table(config: &ForecastRunConfig, test: &Evaluation) -> String {
    let mut s = String::from("| forecast | MAE | RMSE | SMAPE % |\n|---|---|---|---|\n");
    for (name, r) in score_rows(config, test) {
        let _ = writeln!(
            s,
            "| {name} | {:.4} | {:.4} | {:.3} |",
            r.mae, r.rmse, r.smape
        );
    }
    s
}

/// Writes `report.md` and `test_scores.json` into the run folder.
pub fn write(report: &ForecastReport<'_>) -> Result<(), RunError> {
    let c = report.config;
    let d = &c.data;
    let train_seconds: Vec<f64> = report
        .epochs
        .iter()
        .map(|e| e.train_seconds.unwrap_or(e.seconds))
        .collect();
    let per_epoch = median(&train_seconds).unwrap_or(f64::NAN);
    let mut s = String::new();
    let _ = writeln!(s, "# forecast {}: {}\n", d.source, d.targets.join(", "));
    let _ = writeln!(
        s,
        "Test split, {} windows, every step of horizon {} and every target, in original units \
         (SMAPE in %, 0..200).\n",
        report.test.windows, d.horizon
    );
    s.push_str(&score_table(c, report.test));
    let beats = report.test.model.mae < report.test.naive.mae.min(report.test.seasonal.mae);
    let _ = writeln!(
        s,
        "\nThe model {} both naive forecasts on MAE.\n",
        if beats { "beats" } else { "does not beat" }
    );
    let _ = writeln!(s, "## Data\n");
    let _ = writeln!(
        s,
        "- series: `{}` ({} rows), targets {}, inputs {}",
        d.source,
        report.rows,
        d.targets.join(", "),
        if d.inputs.is_empty() {
            "the targets".to_string()
        } else {
            d.inputs.join(", ")
        }
    );
    let _ = writeln!(
        s,
        "- windows: lookback {}, horizon {}; transform `{}`, scaler {:?} fitted on the training \
         rows only\n- chronological split of the window origins {:.2}/{:.2}/{:.2}: {} / {} / {} \
         windows",
        d.lookback,
        d.horizon,
        d.transform,
        d.scaler,
        d.split.train(),
        d.split.valid(),
        d.split.test(),
        report.split_sizes[0],
        report.split_sizes[1],
        report.split_sizes[2]
    );
    let _ = writeln!(s, "\n## Model and training\n");
    let e = &c.model.encoder;
    let _ = writeln!(
        s,
        "- encoder {} × {} layer(s), hidden {}, {}; attention {}; {} parameters",
        e.kind,
        e.num_layers,
        e.hidden_size,
        if e.bidirectional {
            "bidirectional"
        } else {
            "one direction"
        },
        c.model.attention,
        report.parameters
    );
    let _ = writeln!(
        s,
        "- {} epochs run (of at most {}), weights of epoch {} (best validation loss){}; batch \
         {}, seed {}, backend {}",
        report.epochs.len(),
        c.train.epochs,
        report.epoch,
        match report.stopped_early_after {
            Some(e) => format!(", stopped early after epoch {e}"),
            None => String::new(),
        },
        c.train.batch_size,
        c.train.seed,
        c.backend
    );
    let _ = writeln!(s, "- training time: {per_epoch:.3} s per epoch (median)");
    let _ = writeln!(
        s,
        "\nPictures: `forecast.png` (one-step-ahead forecasts of the first target over the test \
         split: model and both naive forecasts), `loss.png`.\n"
    );
    let _ = writeln!(
        s,
        "Reproduce: `cargo xtask train --config {}/config.json --out DIR`",
        report.dir.display()
    );
    let path = report.dir.join(REPORT_FILE);
    write_atomic(&path, s.as_bytes()).map_err(|error| RunError::io(&path, error))?;

    let json = serde_json::json!({
        "windows": report.test.windows,
        "epoch": report.epoch,
        "epochs_run": report.epochs.len(),
        "seconds_per_epoch": per_epoch,
        "scores": score_rows(c, report.test).iter().map(|(name, r)| serde_json::json!({
            "forecast": name, "mae": r.mae, "rmse": r.rmse, "smape": r.smape,
        })).collect::<Vec<_>>(),
    });
    let path = report.dir.join(SCORES_FILE);
    write_atomic(&path, format!("{json:#}\n").as_bytes())
        .map_err(|error| RunError::io(&path, error))
}
