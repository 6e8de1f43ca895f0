//! Bar charts with whiskers, one panel per measured quantity: a method table over seeds (each
//! bar the mean, its whisker the lowest and highest seed), with dashed reference lines such as a
//! naive baseline beside the bars.

use std::path::Path;

use plotters::prelude::*;

use super::{FONT, PALETTE, PlotError, reason, render_atomic};

/// Pixels (width, height) of one panel of [`plot_bars`].
pub const BAR_PANEL_SIZE: (u32, u32) = (560, 420);

/// One bar: its label under the axis, its height, and a whisker from `low` to `high` (e.g. the
/// mean over seeds and their minimum and maximum). Give `low == high == value` for no whisker.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label under the bar.
    pub label: String,
    /// Height of the bar.
    pub value: f64,
    /// Bottom of the whisker.
    pub low: f64,
    /// Top of the whisker.
    pub high: f64,
}

/// One panel: bars in order, each in the palette colour of its position (so the same order in
/// every panel gives each method one colour), and horizontal dashed reference lines.
#[derive(Debug, Clone, PartialEq)]
pub struct BarPanel {
    /// The panel's caption.
    pub title: String,
    /// The y axis description (what and in which unit).
    pub y_desc: String,
    /// The bars, left to right.
    pub bars: Vec<Bar>,
    /// `(legend name, y)` of each reference line.
    pub references: Vec<(String, f64)>,
}

/// Draws `panels` into one PNG at `path`, `columns` panels per row, under `title`.
///
/// The y axis of a panel starts at zero unless every bar and line lies far above it (then it
/// starts a little below the lowest whisker, so that differences of a point stay visible; the
/// tick labels show where it starts).
///
/// # Errors
/// [`PlotError::InvalidInput`] when there is no panel, `columns` is 0, a panel has no bar, or
/// a value is not finite; [`PlotError::Draw`] or [`PlotError::Io`] when writing fails.
pub fn plot_bars(
    panels: &[BarPanel],
    columns: usize,
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let invalid = |reason: String| PlotError::InvalidInput {
        path: path.to_path_buf(),
        reason,
    };
    if panels.is_empty() || columns == 0 {
        return Err(invalid(format!(
            "{} panels in {columns} columns: give at least one panel and one column",
            panels.len()
        )));
    }
    for panel in panels {
        if panel.bars.is_empty() {
            return Err(invalid(format!("panel {:?} has no bar", panel.title)));
        }
        let values = panel
            .bars
            .iter()
            .flat_map(|b| [b.value, b.low, b.high])
            .chain(panel.references.iter().map(|r| r.1));
        if let Some(bad) = values.into_iter().find(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "panel {:?} has the value {bad}: every bar, whisker and line must be finite",
                panel.title
            )));
        }
    }
    let columns = columns.min(panels.len());
    let rows = panels.len().div_ceil(columns);
    let header = 50;
    let size = (
        BAR_PANEL_SIZE.0 * columns as u32,
        BAR_PANEL_SIZE.1 * rows as u32 + header,
    );
    render_atomic(path, size, |root| {
        let (top, body) = root.split_vertically(header);
        top.titled(title, (FONT, 26)).map_err(reason)?;
        let areas = body.split_evenly((rows, columns));
        for (panel, area) in panels.iter().zip(&areas) {
            draw_panel(panel, area)?;
        }
        Ok(())
    })
}

/// The y range of a panel: see [`plot_bars`].
fn y_range(panel: &BarPanel) -> (f64, f64) {
    let values: Vec<f64> = panel
        .bars
        .iter()
        .flat_map(|b| [b.value, b.low, b.high])
        .chain(panel.references.iter().map(|r| r.1))
        .collect();
    let lowest = values.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (highest - lowest).max(highest.abs() * 1e-3).max(1e-12);
    let bottom = if lowest >= 0.0 && lowest > 2.0 * span {
        lowest - 0.25 * span
    } else {
        lowest.min(0.0)
    };
    // Room above the highest whisker for the legend of the reference lines.
    let legend = if panel.references.is_empty() {
        0.08
    } else {
        0.12 + 0.07 * panel.references.len() as f64
    };
    let top = highest + (highest - bottom) * legend;
    (bottom, top)
}

fn draw_panel(
    panel: &BarPanel,
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
) -> Result<(), String> {
    let (bottom, top) = y_range(panel);
    let n = panel.bars.len();
    let labels: Vec<&str> = panel.bars.iter().map(|b| b.label.as_str()).collect();
    let span = top - bottom;
    let decimals = if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else {
        (2.0 - span.log10().floor()).clamp(2.0, 6.0) as usize
    };
    let caption = if bottom > 0.0 {
        format!("{} (axis from {bottom:.decimals$})", panel.title)
    } else {
        panel.title.clone()
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&caption, (FONT, 19))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(62)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), bottom..top)
        .map_err(reason)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                labels[i as usize].to_string()
            } else {
                String::new()
            }
        })
        .y_desc(&panel.y_desc)
        .y_labels(7)
        .y_label_formatter(&|y| format!("{y:.decimals$}"))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .bold_line_style(BLACK.mix(0.1))
        .draw()
        .map_err(reason)?;
    let base = bottom.max(0.0).min(top);
    for (i, bar) in panel.bars.iter().enumerate() {
        let x = i as f64;
        let colour = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.36, base), (x + 0.36, bar.value)],
                colour.mix(0.85).filled(),
            )))
            .map_err(reason)?;
        if bar.high > bar.low {
            let whisker = BLACK.stroke_width(2);
            chart
                .draw_series([
                    PathElement::new(vec![(x, bar.low), (x, bar.high)], whisker),
                    PathElement::new(vec![(x - 0.12, bar.low), (x + 0.12, bar.low)], whisker),
                    PathElement::new(vec![(x - 0.12, bar.high), (x + 0.12, bar.high)], whisker),
                ])
                .map_err(reason)?;
        }
    }
    for (k, (name, y)) in panel.references.iter().enumerate() {
        let colour = [BLACK, RGBColor(214, 39, 40), RGBColor(127, 127, 127)][k % 3];
        let dashes = dashed(-0.5, n as f64 - 0.5, *y, 24);
        chart
            .draw_series(
                dashes
                    .into_iter()
                    .map(|segment| PathElement::new(segment, colour.stroke_width(2))),
            )
            .map_err(reason)?
            .label(name.as_str())
            .legend(move |(lx, ly)| {
                PathElement::new(vec![(lx, ly), (lx + 20, ly)], colour.stroke_width(2))
            });
    }
    if !panel.references.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .margin(6)
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(reason)?;
    }
    Ok(())
}

/// `pieces` dashes (with equal gaps) of the horizontal line at `y` from `x0` to `x1`.
fn dashed(x0: f64, x1: f64, y: f64, pieces: usize) -> Vec<Vec<(f64, f64)>> {
    let step = (x1 - x0) / (2 * pieces) as f64;
    (0..pieces)
        .map(|k| {
            let start = x0 + 2.0 * k as f64 * step;
            vec![(start, y), (start + step, y)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
            low: value - 1.0,
            high: value + 1.0,
        }
    }

    #[test]
    fn axis_starts_at_zero_unless_the_bars_are_far_above_it() {
        let panel = |values: &[f64], reference: Option<f64>| BarPanel {
            title: "t".into(),
            y_desc: "y".into(),
            bars: values.iter().map(|&v| bar("b", v)).collect(),
            references: reference.map(|r| ("naive".into(), r)).into_iter().collect(),
        };
        // Accuracies 70–74: the axis starts below 69, not at 0.
        let (bottom, top) = y_range(&panel(&[70.0, 74.0], None));
        assert!(bottom > 60.0 && bottom < 69.0, "{bottom}");
        assert!(top > 75.0);
        // Errors 2–12 with a naive line at 20: from zero, the line inside the range.
        let (bottom, top) = y_range(&panel(&[2.0, 12.0], Some(20.0)));
        assert_eq!(bottom, 0.0);
        assert!(top > 20.0);
        // Negative values are kept inside.
        let (bottom, _) = y_range(&panel(&[-3.0, 1.0], None));
        assert!(bottom <= -4.0);
    }

    #[test]
    fn draws_panels_and_refuses_what_cannot_be_drawn() {
        let dir = std::env::temp_dir().join(format!("seqmodel-bars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let path = dir.join("bars.png");
        let panels = vec![
            BarPanel {
                title: "accuracy".into(),
                y_desc: "%".into(),
                bars: vec![bar("rnn", 65.0), bar("lstm", 72.0), bar("gru", 73.0)],
                references: vec![],
            },
            BarPanel {
                title: "MAE".into(),
                y_desc: "units".into(),
                bars: vec![bar("rnn", 14.0), bar("lstm", 12.0), bar("gru", 12.5)],
                references: vec![("naive".into(), 22.8)],
            },
        ];
        plot_bars(&panels, 2, "method table", &path).expect("drawn");
        let bytes = std::fs::read(&path).expect("written");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let mut bad = panels.clone();
        bad[1].bars[0].value = f64::NAN;
        let error = plot_bars(&bad, 2, "t", &path).expect_err("NaN").to_string();
        assert!(error.contains("finite"), "{error}");
        let error = plot_bars(&[], 2, "t", &path)
            .expect_err("empty")
            .to_string();
        assert!(error.contains("at least one panel"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
