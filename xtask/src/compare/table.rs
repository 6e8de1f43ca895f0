//! The comparison's numbers: each configuration's seeds folded into a mean, spread and range,
//! and the tables of `comparison.md`.

use std::fmt::Write as _;

use serde::Serialize;

use super::execute::Outcome;
use super::plan::{STUDY_METHODS, TableTask};
use crate::run::report::thousands;

/// Values over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (`n - 1`; 0 for one value).
    pub std: f64,
    /// Lowest.
    pub min: f64,
    /// Highest.
    pub max: f64,
    /// How many values.
    pub n: usize,
}

impl Spread {
    /// The spread of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Some(Self {
            mean,
            std: var.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            n,
        })
    }

    /// `mean ± std (min–max)` with `decimals` decimals.
    pub fn text(&self, decimals: usize) -> String {
        format!(
            "{:.d$} ± {:.d$} ({:.d$}–{:.d$})",
            self.mean,
            self.std,
            self.min,
            self.max,
            d = decimals
        )
    }
}

/// One row of the method table: an encoder on a task over its seeds.
#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// `classify`, `tag`, `forecast`.
    pub task: String,
    /// `--encoder`.
    pub encoder: String,
    /// The compared test score over seeds.
    pub score: Spread,
    /// The naive forecast's score (forecast only; the same for every seed).
    pub naive: Option<f64>,
    /// Parameters.
    pub parameters: usize,
    /// Median over seeds of the median training seconds per epoch.
    pub train_seconds_per_epoch: Option<f64>,
    /// Median over seeds of the median batch-1 latency, milliseconds.
    pub latency_ms: Option<f64>,
    /// Highest peak resident memory over seeds, MiB.
    pub peak_mib: Option<f64>,
}

/// Folds the outcomes of `task`'s runs into one row per encoder, in `encoders`' order.
pub fn table_rows(task: TableTask, encoders: &[String], outcomes: &[Outcome]) -> Vec<TableRow> {
    let (score, _) = task.score();
    let mut rows = Vec::new();
    for encoder in encoders {
        let runs: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| {
                o.job.in_table && o.summary.task == task.name() && job_encoder(o) == Some(encoder)
            })
            .collect();
        let scores: Vec<f64> = runs
            .iter()
            .filter_map(|o| o.summary.test.get(score).copied())
            .collect();
        let Some(spread) = Spread::of(&scores) else {
            continue;
        };
        let medians = |values: Vec<f64>| xtask::stats::median(&values);
        rows.push(TableRow {
            task: task.name().into(),
            encoder: encoder.clone(),
            score: spread,
            naive: runs
                .first()
                .and_then(|o| o.summary.test.get("naive_mae").copied()),
            parameters: runs.first().map_or(0, |o| o.summary.parameters),
            train_seconds_per_epoch: medians(
                runs.iter()
                    .filter_map(|o| o.summary.train_seconds_per_epoch)
                    .collect(),
            ),
            latency_ms: medians(runs.iter().filter_map(|o| o.latency_ms).collect()),
            peak_mib: runs
                .iter()
                .filter_map(|o| o.summary.peak_rss_bytes)
                .max()
                .map(|b| b as f64 / (1024.0 * 1024.0)),
        });
    }
    rows
}

/// The `--encoder` of a job's command line.
fn job_encoder(outcome: &Outcome) -> Option<&String> {
    let args = &outcome.job.args;
    args.iter()
        .position(|a| a == "--encoder")
        .and_then(|i| args.get(i + 1))
}

/// The Markdown table of one task's rows.
pub fn table_markdown(task: TableTask, rows: &[TableRow]) -> String {
    let (_, higher_better) = task.score();
    let decimals = 2;
    let best = rows
        .iter()
        .map(|r| r.score.mean)
        .fold(None, |best: Option<f64>, v| {
            Some(match best {
                None => v,
                Some(b) if higher_better => b.max(v),
                Some(b) => b.min(v),
            })
        });
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| encoder | {} mean ± std (min–max) | parameters | train s/epoch | latency ms (batch 1) | \
         peak memory MiB |",
        task.score_title()
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for row in rows {
        let mut score = row.score.text(decimals);
        if Some(row.score.mean) == best {
            score = format!("**{score}**");
        }
        let opt = |v: Option<f64>, d: usize| v.map_or("–".into(), |v| format!("{v:.d$}"));
        let _ = writeln!(
            md,
            "| {} | {score} | {} | {} | {} | {} |",
            row.encoder,
            thousands(row.parameters),
            opt(row.train_seconds_per_epoch, 2),
            opt(row.latency_ms, 2),
            opt(row.peak_mib, 0),
        );
    }
    if let Some(naive) = rows.iter().find_map(|r| r.naive) {
        let _ = writeln!(
            md,
            "| *naive (last value)* | {naive:.decimals$} | 0 | – | – | – |"
        );
    }
    md
}

/// One cell of the case study: a method on an index and transform over its seeds.
#[derive(Debug, Clone, Serialize)]
pub struct StudyCell {
    /// `DAX`, `SMI`, `CAC`, `FTSE`.
    pub index: String,
    /// `levels` or `log-return`.
    pub transform: String,
    /// `rnn` or `lstm+attention`.
    pub method: String,
    /// MAE, RMSE and SMAPE over seeds, in index points (SMAPE in %).
    pub mae: Spread,
    /// See `mae`.
    pub rmse: Spread,
    /// See `mae`.
    pub smape: Spread,
    /// The naive last-value forecast's MAE, RMSE, SMAPE on the same test windows.
    pub naive: [f64; 3],
    /// Per seed `[mae, rmse, smape]`, in seed order.
    pub per_seed: Vec<[f64; 3]>,
}

const ERRORS: [&str; 3] = ["mae", "rmse", "smape"];

/// The case study's cells from the outcomes of its jobs (folders `…/<index>-<transform>/…`).
pub fn study_cells(
    indices: &[String],
    transforms: &[&str],
    outcomes: &[Outcome],
) -> Vec<StudyCell> {
    let mut cells = Vec::new();
    for index in indices {
        for transform in transforms {
            for (method, _) in STUDY_METHODS {
                let group = format!("{index}-{transform}");
                let prefix = format!("{}-s", method.replace('+', "-"));
                let mut runs: Vec<&Outcome> = outcomes
                    .iter()
                    .filter(|o| {
                        let dir = &o.job.dir;
                        !o.job.in_table
                            && dir.parent().and_then(|p| p.file_name()) == Some(group.as_ref())
                            && dir
                                .file_name()
                                .and_then(|n| n.to_str())
                                .is_some_and(|n| n.starts_with(&prefix))
                    })
                    .collect();
                runs.sort_by_key(|o| o.summary.seed);
                let per_seed: Vec<[f64; 3]> = runs
                    .iter()
                    .filter_map(|o| {
                        let t = &o.summary.test;
                        Some([*t.get("mae")?, *t.get("rmse")?, *t.get("smape")?])
                    })
                    .collect();
                let column =
                    |k: usize| Spread::of(&per_seed.iter().map(|s| s[k]).collect::<Vec<_>>());
                let (Some(mae), Some(rmse), Some(smape)) = (column(0), column(1), column(2)) else {
                    continue;
                };
                let naive = runs.first().map_or([f64::NAN; 3], |o| {
                    let get = |k: &str| {
                        o.summary
                            .test
                            .get(&format!("naive_{k}"))
                            .copied()
                            .unwrap_or(f64::NAN)
                    };
                    [get(ERRORS[0]), get(ERRORS[1]), get(ERRORS[2])]
                });
                cells.push(StudyCell {
                    index: index.clone(),
                    transform: (*transform).to_string(),
                    method: method.to_string(),
                    mae,
                    rmse,
                    smape,
                    naive,
                    per_seed,
                });
            }
        }
    }
    cells
}

/// How much lower `better`'s error is than `base`'s, in percent of `base`, for the means, and
/// the range of the same reduction seed by seed (seed `k` against seed `k`).
pub fn reduction(base: &[f64], better: &[f64]) -> Option<(f64, f64, f64)> {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    if base.is_empty() || better.len() != base.len() {
        return None;
    }
    let of_means = 100.0 * (mean(base) - mean(better)) / mean(base);
    let paired: Vec<f64> = base
        .iter()
        .zip(better)
        .map(|(b, o)| 100.0 * (b - o) / b)
        .collect();
    let lo = paired.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = paired.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((of_means, lo, hi))
}

/// The case study's Markdown: per index and transform, both methods and the naive forecast,
/// the reduction from RNN to LSTM+attention, and each method against naive.
pub fn study_markdown(cells: &[StudyCell]) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| index | target | method | MAE | RMSE | SMAPE % | MAE / naive |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    let mut groups: Vec<(&str, &str)> = cells
        .iter()
        .map(|c| (c.index.as_str(), c.transform.as_str()))
        .collect();
    groups.dedup();
    let mut reductions = String::new();
    let _ = writeln!(
        reductions,
        "| index | target | MAE reduction % (seed range) | RMSE reduction % | SMAPE reduction % | \
         better than naive? |"
    );
    let _ = writeln!(reductions, "|---|---|---|---|---|---|");
    for (index, transform) in groups {
        let group: Vec<&StudyCell> = cells
            .iter()
            .filter(|c| c.index == index && c.transform == transform)
            .collect();
        for cell in &group {
            let _ = writeln!(
                md,
                "| {index} | {transform} | {} | {} | {} | {} | {:.2} |",
                cell.method,
                cell.mae.text(1),
                cell.rmse.text(1),
                cell.smape.text(2),
                cell.mae.mean / cell.naive[0]
            );
        }
        if let Some(first) = group.first() {
            let n = first.naive;
            let _ = writeln!(
                md,
                "| {index} | {transform} | *naive (last value)* | {:.1} | {:.1} | {:.2} | 1.00 |",
                n[0], n[1], n[2]
            );
        }
        let rnn = group.iter().find(|c| c.method == STUDY_METHODS[0].0);
        let lstm = group.iter().find(|c| c.method == STUDY_METHODS[1].0);
        if let (Some(rnn), Some(lstm)) = (rnn, lstm) {
            let mut row = format!("| {index} | {transform} |");
            for k in 0..3 {
                let base: Vec<f64> = rnn.per_seed.iter().map(|s| s[k]).collect();
                let other: Vec<f64> = lstm.per_seed.iter().map(|s| s[k]).collect();
                match reduction(&base, &other) {
                    Some((mean, lo, hi)) => {
                        let _ = write!(row, " {mean:+.1} ({lo:+.1} … {hi:+.1}) |");
                    }
                    None => row.push_str(" – |"),
                }
            }
            let beats = |c: &StudyCell| c.mae.mean < c.naive[0];
            let _ = writeln!(
                row,
                " rnn {}, lstm+attention {} |",
                if beats(rnn) { "yes" } else { "no" },
                if beats(lstm) { "yes" } else { "no" }
            );
            reductions.push_str(&row);
        }
    }
    format!("{md}\n{reductions}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_mean_sample_std_and_range() {
        let s = Spread::of(&[1.0, 2.0, 3.0, 4.0]).expect("values");
        assert_eq!(s.mean, 2.5);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max, s.n), (1.0, 4.0, 4));
        assert_eq!(Spread::of(&[7.0]).expect("one").std, 0.0);
        assert!(Spread::of(&[]).is_none());
        assert_eq!(s.text(1), "2.5 ± 1.3 (1.0–4.0)");
    }

    #[test]
    fn reduction_is_relative_to_the_base_and_paired_by_seed() {
        // Means 10 and 7.5: 25 % lower; per seed 20 % and 30 %.
        let (mean, lo, hi) = reduction(&[10.0, 10.0], &[8.0, 7.0]).expect("paired");
        assert!((mean - 25.0).abs() < 1e-12);
        assert!((lo - 20.0).abs() < 1e-12 && (hi - 30.0).abs() < 1e-12);
        // A worse method has a negative reduction.
        let (mean, _, _) = reduction(&[10.0], &[12.0]).expect("one seed");
        assert!((mean + 20.0).abs() < 1e-12);
        assert!(reduction(&[1.0], &[1.0, 2.0]).is_none());
    }
}
