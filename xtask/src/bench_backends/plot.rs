//! The sweep's picture: forward time against sequence length, log-log, one panel per device,
//! one line per layer.

use std::path::Path;

use seqmodel_train::plots::{LogLogPanel, plot_log_log};

use super::layers::Layer;
use super::sweep::{FIXED_BATCH, Line, WIDTH};

/// The panel of one device's length sweep.
pub fn panel(device: &str, lines: &[(Layer, Line)]) -> LogLogPanel {
    LogLogPanel {
        title: device.to_string(),
        lines: lines
            .iter()
            .map(|(layer, points)| {
                let points = points.iter().map(|&(t, ms)| (t as f64, ms)).collect();
                (layer.name().to_string(), points)
            })
            .collect(),
    }
}

/// Draws `panels` into `path`.
pub fn draw(panels: &[LogLogPanel], path: &Path) -> Result<(), String> {
    let title =
        format!("forward time against sequence length (batch {FIXED_BATCH}, width {WIDTH})");
    plot_log_log(
        panels,
        &title,
        ("sequence length (steps)", "median ms per forward pass"),
        path,
    )
    .map_err(|e| e.to_string())
}
