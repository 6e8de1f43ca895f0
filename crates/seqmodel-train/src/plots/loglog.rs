//! Panels of named lines on log-log axes, side by side (a benchmark's time against sequence
//! length, one panel per device, one line per layer).

use std::path::Path;

use plotters::prelude::*;

use super::{FONT, PALETTE, PlotError, reason, render_atomic};

/// Size in pixels (width, height) of one panel of [`plot_log_log`].
pub const LOG_LOG_PANEL_SIZE: (u32, u32) = (860, 640);

/// One panel: a title and its lines, each `(legend name, points)` with `(x, y)` points,
/// both positive (others are left out).
#[derive(Debug, Clone)]
pub struct LogLogPanel {
    /// The panel's caption (e.g. the device).
    pub title: String,
    /// `(legend name, points)`; a line's colour follows its name, the same in every panel.
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

/// Draws `panels` side by side into a PNG at `path`, each on log-log axes described by
/// `x_desc` and `y_desc`, under `title`; a line's colour depends on its name only, so a
/// layer has one colour in every panel.
///
/// # Errors
/// [`PlotError::InvalidInput`] when no panel has a positive, finite point;
/// [`PlotError::Draw`] or [`PlotError::Io`] when writing fails.
pub fn plot_log_log(
    panels: &[LogLogPanel],
    title: &str,
    (x_desc, y_desc): (&str, &str),
    path: &Path,
) -> Result<(), PlotError> {
    let usable = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0;
    let points = || {
        panels
            .iter()
            .flat_map(|p| p.lines.iter().flat_map(|(_, pts)| pts.iter().copied()))
            .filter(usable)
    };
    let bounds = points().fold(None, |acc: Option<(f64, f64, f64, f64)>, (x, y)| {
        Some(match acc {
            None => (x, x, y, y),
            Some((x0, x1, y0, y1)) => (x0.min(x), x1.max(x), y0.min(y), y1.max(y)),
        })
    });
    let Some((x0, x1, y0, y1)) = bounds else {
        return Err(PlotError::InvalidInput {
            path: path.to_path_buf(),
            reason: format!(
                "{} panels without a positive, finite point; give at least one",
                panels.len()
            ),
        });
    };
    // x is drawn as log2(x) on a linear axis, so that every power of two gets a tick; y on a
    // log axis. Room around the points (a log axis needs a non-empty range).
    let (x_range, y_range) = ((x0.log2() - 0.3)..(x1.log2() + 0.3), (y0 / 2.0)..(y1 * 3.0));
    let x_ticks = ((x1.log2() - x0.log2()).round() as usize + 1).clamp(2, 14);
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in panels.iter().flat_map(|p| p.lines.iter()) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let colour = |name: &str| {
        let i = names.iter().position(|n| *n == name).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    };
    let size = (
        LOG_LOG_PANEL_SIZE.0 * panels.len().max(1) as u32,
        LOG_LOG_PANEL_SIZE.1,
    );
    render_atomic(path, size, |root| {
        let root = root.titled(title, (FONT, 22)).map_err(reason)?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (panel, area) in panels.iter().zip(areas.iter()) {
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, (FONT, 22))
                .margin(16)
                .x_label_area_size(50)
                .y_label_area_size(70)
                .build_cartesian_2d(x_range.clone(), y_range.clone().log_scale())
                .map_err(reason)?;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .x_labels(x_ticks)
                .x_label_formatter(&|x| power_of_two_label(*x))
                .y_label_formatter(&|y| short_number(*y))
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 17))
                .bold_line_style(BLACK.mix(0.12))
                .light_line_style(BLACK.mix(0.04))
                .draw()
                .map_err(reason)?;
            for (name, pts) in &panel.lines {
                let pts: Vec<(f64, f64)> = pts
                    .iter()
                    .copied()
                    .filter(usable)
                    .map(|(x, y)| (x.log2(), y))
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                let c = colour(name);
                chart
                    .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                    .map_err(reason)?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))
                    .map_err(reason)?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .margin(10)
                .label_font((FONT, 15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()
                .map_err(reason)?;
        }
        Ok(())
    })
}

/// The label of the tick at `log2(x)` = `l`: `x` when `l` is whole, nothing otherwise.
fn power_of_two_label(l: f64) -> String {
    if (l - l.round()).abs() < 1e-6 && (0.0..63.0).contains(&l) {
        format!("{}", 1u64 << (l.round() as u32))
    } else {
        String::new()
    }
}

/// A tick label on a log axis: few digits whatever the decade.
fn short_number(y: f64) -> String {
    if y >= 100.0 {
        format!("{y:.0}")
    } else if y >= 1.0 {
        format!("{y:.1}")
    } else if y >= 0.01 {
        format!("{y:.2}")
    } else {
        format!("{y:.0e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_panels_and_refuses_nothing_positive() {
        let dir = std::env::temp_dir().join(format!("seqmodel-loglog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let path = dir.join("loglog.png");
        let line = |name: &str, k: f64| {
            (
                name.to_string(),
                vec![(16.0, k), (64.0, 4.0 * k), (256.0, 16.0 * k)],
            )
        };
        let panels = [
            LogLogPanel {
                title: "flex".into(),
                lines: vec![line("lstm", 0.1), line("mha", 0.02)],
            },
            LogLogPanel {
                title: "wgpu".into(),
                lines: vec![line("lstm", 3.0)],
            },
        ];
        plot_log_log(&panels, "t", ("x", "y"), &path).expect("drawn");
        assert!(std::fs::metadata(&path).expect("written").len() > 1000);
        let empty = [LogLogPanel {
            title: "none".into(),
            lines: vec![("a".into(), vec![(0.0, 1.0), (4.0, f64::NAN)])],
        }];
        let error = plot_log_log(&empty, "t", ("x", "y"), &path)
            .expect_err("nothing positive")
            .to_string();
        assert!(
            error.contains("without a positive, finite point"),
            "{error}"
        );
        assert_eq!(short_number(1234.0), "1234");
        assert_eq!(short_number(0.5), "0.50");
        assert_eq!(power_of_two_label(10.0), "1024");
        assert_eq!(power_of_two_label(4.5), "");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
