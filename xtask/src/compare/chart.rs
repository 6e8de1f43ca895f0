//! The comparison's two pictures, drawn with seqmodel-train's bar charts: the method table
//! (score, training time and latency per encoder and task) and the case study (MAE of both
//! methods per index and target, the naive forecast as a dashed line).

use std::path::Path;

use seqmodel_train::plots::{Bar, BarPanel, plot_bars};

use super::plan::TableTask;
use super::table::{StudyCell, TableRow};
use crate::run::error::RunError;

/// `comparison.png`: a row per task of three panels — the test score (whiskers: lowest and
/// highest seed; the naive forecast dashed), training seconds per epoch, batch-1 latency.
pub fn table_chart(tasks: &[TableTask], rows: &[TableRow], path: &Path) -> Result<(), RunError> {
    let mut panels = Vec::new();
    for &task in tasks {
        let task_rows: Vec<&TableRow> = rows.iter().filter(|r| r.task == task.name()).collect();
        if task_rows.is_empty() {
            continue;
        }
        let bars = |value: &dyn Fn(&TableRow) -> Option<f64>| -> Vec<Bar> {
            task_rows
                .iter()
                .map(|r| {
                    let v = value(r).unwrap_or(0.0);
                    Bar {
                        label: r.encoder.clone(),
                        value: v,
                        low: v,
                        high: v,
                    }
                })
                .collect()
        };
        panels.push(BarPanel {
            title: format!("{} ({})", task.name(), task.data()),
            y_desc: task.score_title().into(),
            bars: task_rows
                .iter()
                .map(|r| Bar {
                    label: r.encoder.clone(),
                    value: r.score.mean,
                    low: r.score.min,
                    high: r.score.max,
                })
                .collect(),
            references: task_rows
                .first()
                .and_then(|r| r.naive)
                .map(|n| ("naive (last value)".to_string(), n))
                .into_iter()
                .collect(),
        });
        panels.push(BarPanel {
            title: format!("{}: training time per epoch", task.name()),
            y_desc: "seconds".into(),
            bars: bars(&|r| r.train_seconds_per_epoch),
            references: Vec::new(),
        });
        panels.push(BarPanel {
            title: format!("{}: inference latency, batch 1", task.name()),
            y_desc: "milliseconds".into(),
            bars: bars(&|r| r.latency_ms),
            references: Vec::new(),
        });
    }
    plot_bars(
        &panels,
        3,
        "Encoders compared (mean over seeds; whiskers: range)",
        path,
    )
    .map_err(|error| RunError::Train(error.to_string()))
}

/// `stock-study.png`: per index and target, the MAE of the RNN and of LSTM+attention (whiskers:
/// lowest and highest seed) and the naive forecast's MAE dashed.
pub fn study_chart(cells: &[StudyCell], path: &Path) -> Result<(), RunError> {
    let mut groups: Vec<(&str, &str)> = cells
        .iter()
        .map(|c| (c.index.as_str(), c.transform.as_str()))
        .collect();
    groups.dedup();
    let panels: Vec<BarPanel> = groups
        .iter()
        .map(|(index, transform)| {
            let group: Vec<&StudyCell> = cells
                .iter()
                .filter(|c| c.index == *index && c.transform == *transform)
                .collect();
            BarPanel {
                title: format!("{index}, trained on {transform}"),
                y_desc: "test MAE (index points)".into(),
                bars: group
                    .iter()
                    .map(|c| Bar {
                        label: c.method.clone(),
                        value: c.mae.mean,
                        low: c.mae.min,
                        high: c.mae.max,
                    })
                    .collect(),
                references: group
                    .first()
                    .map(|c| ("naive (last close)".to_string(), c.naive[0]))
                    .into_iter()
                    .collect(),
            }
        })
        .collect();
    plot_bars(
        &panels,
        4,
        "RNN vs LSTM+attention, next-day close (mean over seeds; whiskers: range)",
        path,
    )
    .map_err(|error| RunError::Train(error.to_string()))
}
