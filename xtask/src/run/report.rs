//! `report.md` of a finished run: test metrics, the model, time per epoch, backend and seed, and
//! the command that reproduces it.

use std::fmt::Write as _;
use std::path::Path;

use seqmodel_train::{EpochRecord, write_atomic};

use super::classify::Evaluation;
use super::config::RunConfig;
use super::error::RunError;

/// The file name of a run's report; its presence marks a finished run.
pub const REPORT_FILE: &str = "report.md";

/// What the report says beside the config.
#[derive(Debug)]
pub struct ReportInputs<'a> {
    /// The run's config.
    pub config: &'a RunConfig,
    /// Every epoch's metrics.
    pub epochs: &'a [EpochRecord],
    /// The epoch whose weights were scored.
    pub epoch: usize,
    /// Whether early stopping ended the run (after that epoch).
    pub stopped_early_after: Option<usize>,
    /// Test scores.
    pub test: &'a Evaluation,
    /// Class names by id.
    pub labels: &'a [String],
    /// Trainable and frozen parameters.
    pub parameters: usize,
    /// Vocabulary size.
    pub vocab: usize,
    /// Examples per split.
    pub split_sizes: [usize; 3],
    /// The backend's description (device and what runs).
    pub device: String,
    /// The run folder.
    pub dir: &'a Path,
}

/// The median of `values` (NaN-free); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// The `## Epochs` section of a report: per epoch the train and valid loss, every other
/// validation metric of `metrics.jsonl`, and the seconds.
pub fn epochs_table(epochs: &[EpochRecord]) -> String {
    let mut md = String::from("## Epochs\n\n");
    let names: Vec<String> = epochs
        .first()
        .map(|r| r.valid.keys().filter(|k| *k != "Loss").cloned().collect())
        .unwrap_or_default();
    let _ = write!(md, "| epoch | train loss | valid loss |");
    for name in &names {
        let _ = write!(md, " valid {name} |");
    }
    let _ = writeln!(md, " seconds |");
    let _ = writeln!(md, "|{}", "---|".repeat(4 + names.len()));
    for record in epochs {
        let value = |map: &std::collections::BTreeMap<String, f64>, key: &str| {
            map.get(key).map_or("–".to_string(), |v| format!("{v:.4}"))
        };
        let _ = write!(
            md,
            "| {} | {} | {} |",
            record.epoch,
            value(&record.train, "Loss"),
            value(&record.valid, "Loss")
        );
        for name in &names {
            let _ = write!(md, " {} |", value(&record.valid, name));
        }
        let _ = writeln!(md, " {:.2} |", record.seconds);
    }
    md
}

/// The report's Markdown.
pub fn render(inputs: &ReportInputs<'_>) -> String {
    let c = inputs.config;
    let test = &inputs.test.report;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# classify on {}: {} encoder\n",
        c.data.source,
        encoder_tag(c)
    );
    let _ = writeln!(
        md,
        "## Test ({} examples, weights of epoch {})\n",
        inputs.test.examples, inputs.epoch
    );
    let _ = writeln!(md, "| metric | value |\n|---|---|");
    let _ = writeln!(md, "| accuracy | {:.2} % |", test.accuracy * 100.0);
    let _ = writeln!(md, "| macro-F1 | {:.2} % |", test.macro_avg.f_score * 100.0);
    let _ = writeln!(
        md,
        "| weighted-F1 | {:.2} % |\n",
        test.weighted.f_score * 100.0
    );
    let _ = writeln!(
        md,
        "| class | precision | recall | F1 | support |\n|---|---|---|---|---|"
    );
    for (class, scores) in &inputs.test.per_class {
        let name = inputs.labels.get(*class).map_or("?", String::as_str);
        let _ = writeln!(
            md,
            "| {name} | {:.2} | {:.2} | {:.2} | {} |",
            scores.precision * 100.0,
            scores.recall * 100.0,
            scores.f_score * 100.0,
            scores.support
        );
    }
    let _ = writeln!(md, "\n![confusion matrix](confusion.png)\n");

    let _ = writeln!(md, "## Training\n");
    let seconds: Vec<f64> = inputs.epochs.iter().map(|e| e.seconds).collect();
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| backend | {} ({}) |", c.backend, inputs.device);
    let _ = writeln!(md, "| devices | {} |", c.devices);
    let _ = writeln!(md, "| seed | {} |", c.train.seed);
    let _ = writeln!(
        md,
        "| epochs run | {} of {} |",
        inputs.epochs.len(),
        c.train.epochs
    );
    if let Some(e) = inputs.stopped_early_after {
        let _ = writeln!(md, "| early stopping | after epoch {e} |");
    }
    let _ = writeln!(
        md,
        "| best epoch (valid {}) | {} |",
        c.train.monitor.metric, inputs.epoch
    );
    if let Some(m) = median(&seconds) {
        let _ = writeln!(md, "| time per epoch (median, train + valid) | {m:.2} s |");
    }
    let train_seconds: Vec<f64> = inputs
        .epochs
        .iter()
        .filter_map(|e| e.train_seconds)
        .collect();
    if let Some(m) = median(&train_seconds) {
        let _ = writeln!(md, "| training time per epoch (median) | {m:.2} s |");
    }
    let _ = writeln!(
        md,
        "| total epoch time | {:.1} s |",
        seconds.iter().sum::<f64>()
    );
    let _ = writeln!(md, "| parameters | {} |", thousands(inputs.parameters));
    let _ = writeln!(md, "| vocabulary | {} |", thousands(inputs.vocab));
    let [tr, va, te] = inputs.split_sizes;
    let _ = writeln!(md, "| train / valid / test | {tr} / {va} / {te} |\n");

    let _ = writeln!(
        md,
        "| epoch | s | train loss | valid loss | valid accuracy | valid macro-F1 |\n|---|---|---|---|---|---|"
    );
    for e in inputs.epochs {
        let get = |map: &std::collections::BTreeMap<String, f64>, k: &str| {
            map.get(k).map_or("–".to_string(), |v| format!("{v:.4}"))
        };
        let _ = writeln!(
            md,
            "| {} | {:.1} | {} | {} | {} | {} |",
            e.epoch,
            e.seconds,
            get(&e.train, "Loss"),
            get(&e.valid, "Loss"),
            get(&e.valid, "accuracy"),
            get(&e.valid, "macro_f1")
        );
    }
    let _ = writeln!(
        md,
        "\n![loss](loss.png) ![validation metrics](metrics.png)\n"
    );
    let _ = writeln!(md, "## Reproduce\n");
    let _ = writeln!(
        md,
        "    cargo xtask train --config {}/config.json --out <new folder>\n",
        inputs.dir.display()
    );
    let _ = writeln!(
        md,
        "The complete configuration is [`config.json`](config.json); per-epoch metrics are in \
         [`metrics.jsonl`](metrics.jsonl)."
    );
    md
}

/// Writes `report.md` (atomically) into the run folder.
pub fn write(inputs: &ReportInputs<'_>) -> Result<(), RunError> {
    let path = inputs.dir.join(REPORT_FILE);
    write_atomic(&path, render(inputs).as_bytes()).map_err(|error| RunError::io(&path, error))
}

/// `bilstm`, `gru`, `2×lstm`…: the encoder in one word.
pub fn encoder_tag(config: &RunConfig) -> String {
    encoder_word(&config.model.encoder)
}

/// `bilstm`, `gru`, `2×lstm`…: an encoder config in one word (any task's).
pub fn encoder_word(e: &seqmodel_tasks::EncoderConfig) -> String {
    let kind = format!("{:?}", e.kind).to_lowercase();
    let bi = if e.bidirectional { "bi" } else { "" };
    if e.num_layers > 1 {
        format!("{}×{bi}{kind}", e.num_layers)
    } else {
        format!("{bi}{kind}")
    }
}

/// `1,417,218`: `n` with its digits grouped in threes.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_thousands() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(thousands(1_417_218), "1,417,218");
        assert_eq!(thousands(999), "999");
    }
}
