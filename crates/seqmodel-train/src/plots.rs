//! PNG pictures of a run, drawn with [plotters](https://docs.rs/plotters): the loss and
//! validation-metric curves of `metrics.jsonl` ([`plot_curves`]), a confusion matrix
//! ([`plot_confusion`]), a forecast against the actual series ([`plot_series`]) and an attention
//! heatmap of a decoded sequence ([`plot_attention`]), line charts ([`plot_lines`]) and bar
//! charts with whiskers over seeds ([`plot_bars`]).
//!
//! Text is drawn with a bundled font (DejaVu Sans, `assets/DejaVuSans.ttf`, registered once per
//! process), so drawing needs no system font library. Every picture is drawn to
//! `<stem>.tmp.png` beside its destination, synced, then renamed over it: a reader sees the old
//! picture or the new one, never half of one. Bad input (no epoch, a ragged matrix, a wrong
//! number of class names) is a [`PlotError`] naming the file, never a panic.
//!
//! ```
//! use std::collections::BTreeMap;
//! use seqmodel_train::EpochRecord;
//! use seqmodel_train::plots::{plot_confusion, plot_curves, plot_series};
//!
//! # fn main() -> Result<(), seqmodel_train::plots::PlotError> {
//! let dir = std::env::temp_dir().join(format!("seqmodel-plots-doc-{}", std::process::id()));
//! let records: Vec<EpochRecord> = (1..=3)
//!     .map(|epoch| EpochRecord {
//!         epoch,
//!         seconds: 1.5,
//!         train_seconds: Some(1.2),
//!         train: BTreeMap::from([("Loss".to_string(), 1.0 / epoch as f64)]),
//!         valid: BTreeMap::from([
//!             ("Loss".to_string(), 1.2 / epoch as f64),
//!             ("accuracy".to_string(), 60.0 + 5.0 * epoch as f64),
//!         ]),
//!     })
//!     .collect();
//! let written = plot_curves(&records, &dir)?;
//! assert_eq!(written, [dir.join("loss.png"), dir.join("metrics.png")]);
//!
//! let labels = ["negative".to_string(), "positive".to_string()];
//! let matrix = vec![vec![40, 10], vec![8, 42]]; // rows: true class, columns: predicted
//! plot_confusion(&matrix, &labels, "rt-polarity test", &dir.join("confusion.png"))?;
//!
//! let actual = [112.0, 118.0, 132.0, 129.0, 121.0, 135.0];
//! let predicted = [f64::NAN, f64::NAN, 125.0, 131.0, 124.0, 130.0]; // NaN: no forecast
//! plot_series(&actual, &predicted, "forecast", &dir.join("forecast.png"))?;
//!
//! let error = plot_confusion(&[vec![1, 2], vec![3]], &labels, "ragged", &dir.join("bad.png"))
//!     .unwrap_err();
//! assert!(error.to_string().contains("row 1 has 1 count"));
//! # let _ = std::fs::remove_dir_all(&dir);
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, register_font};

use crate::checkpoint::sync_dir;
use crate::epoch_log::EpochRecord;

mod attention;
mod bars;
mod lines;
mod loglog;

pub use attention::{MAX_ATTENTION_TOKENS, plot_attention};
pub use bars::{BAR_PANEL_SIZE, Bar, BarPanel, plot_bars};
pub use lines::{LINES_SIZE, plot_lines};
pub use loglog::{LOG_LOG_PANEL_SIZE, LogLogPanel, plot_log_log};

/// File name of the loss curves written by [`plot_curves`].
pub const LOSS_PLOT_FILE: &str = "loss.png";
/// File name of the validation-metric curves written by [`plot_curves`].
pub const METRICS_PLOT_FILE: &str = "metrics.png";
/// Size in pixels (width, height) of the pictures of [`plot_curves`].
pub const CURVES_SIZE: (u32, u32) = (960, 600);
/// Size in pixels (width, height) of the pictures of [`plot_confusion`].
pub const CONFUSION_SIZE: (u32, u32) = (1000, 900);
/// Size in pixels (width, height) of the pictures of [`plot_series`].
pub const SERIES_SIZE: (u32, u32) = (1200, 500);
/// The most points of a line that are all marked; beyond, only isolated points are.
const MARKER_LIMIT: usize = 100;
/// The most classes [`plot_confusion`] draws; beyond it the counts no longer fit their cells.
pub const MAX_CONFUSION_CLASSES: usize = 30;

/// The metric key of the loss in [`EpochRecord::train`] and [`EpochRecord::valid`].
const LOSS_KEY: &str = "Loss";
/// The family name the bundled font is registered under.
const FONT: &str = "sans-serif";
/// DejaVu Sans (see `assets/README.md` for its origin and licence).
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// Line colours, in order of the series (matplotlib's `tab10`).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Why a picture could not be drawn; each names the file (or folder) concerned.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The data cannot be drawn (no epoch, a ragged matrix, a wrong number of class names...).
    #[error("{path}: nothing drawn: {reason}")]
    InvalidInput {
        /// The picture (or, for [`plot_curves`], the folder) that was to be written.
        path: PathBuf,
        /// What is wrong with the data and what is expected.
        reason: String,
    },

    /// plotters failed while drawing or encoding the picture.
    #[error("{path}: drawing failed: {reason}")]
    Draw {
        /// The picture being written.
        path: PathBuf,
        /// plotters' message.
        reason: String,
    },

    /// Creating the folder, syncing or renaming the picture failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The bundled font could not be parsed (a damaged build of this crate).
    #[error(
        "the bundled font assets/DejaVuSans.ttf is not a valid font; rebuild seqmodel-train \
         from an intact source"
    )]
    Font,
}

/// Writes [`LOSS_PLOT_FILE`] (training and validation loss per epoch) and
/// [`METRICS_PLOT_FILE`] (every other validation metric, one line each, e.g. `accuracy` and
/// `macro_f1` in percent) into `dir`, creating it if needed, and returns the paths written.
///
/// Epochs are on the x axis as integers; every epoch is marked by a point, so a one-epoch run
/// shows its values. Keys missing from some records leave gaps (their series has fewer
/// points); a picture whose every series is missing or non-finite is not written. When an
/// epoch appears twice, its last record wins.
///
/// # Errors
/// [`PlotError::InvalidInput`] when `records` is empty; [`PlotError::Draw`] or
/// [`PlotError::Io`] naming the picture when writing fails.
pub fn plot_curves(records: &[EpochRecord], dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let epochs: BTreeMap<usize, &EpochRecord> = records.iter().map(|r| (r.epoch, r)).collect();
    let (Some(&first), Some(&last)) = (epochs.keys().next(), epochs.keys().next_back()) else {
        return Err(PlotError::InvalidInput {
            path: dir.to_path_buf(),
            reason: "no epoch to plot (the run has logged no epoch yet)".into(),
        });
    };
    let mut written = Vec::new();

    let loss_at = |pick: fn(&EpochRecord) -> &BTreeMap<String, f64>| {
        epochs
            .iter()
            .map(move |(&epoch, r)| (epoch as f64, pick(r).get(LOSS_KEY).copied()))
    };
    let loss: Vec<Series> = [
        series("train loss", PALETTE[0], loss_at(|r| &r.train)),
        series("valid loss", PALETTE[1], loss_at(|r| &r.valid)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let curves = |title| LinePlot {
        title,
        x_desc: "epoch",
        y_desc: "loss",
        size: CURVES_SIZE,
        x_range: (first as f64 - 0.5, last as f64 + 0.5),
    };
    if !loss.is_empty() {
        let path = dir.join(LOSS_PLOT_FILE);
        draw_lines(&path, &curves("Loss per epoch"), &loss)?;
        written.push(path);
    }

    let names: BTreeSet<&str> = epochs
        .values()
        .flat_map(|r| r.valid.keys().map(String::as_str))
        .filter(|name| *name != LOSS_KEY)
        .collect();
    let metrics: Vec<Series> = names
        .into_iter()
        .enumerate()
        .filter_map(|(index, name)| {
            let values = epochs
                .iter()
                .map(|(&epoch, r)| (epoch as f64, r.valid.get(name).copied()));
            series(name, PALETTE[index % PALETTE.len()], values)
        })
        .collect();
    if !metrics.is_empty() {
        let path = dir.join(METRICS_PLOT_FILE);
        let plot = LinePlot {
            y_desc: "validation metric",
            ..curves("Validation metrics per epoch")
        };
        draw_lines(&path, &plot, &metrics)?;
        written.push(path);
    }
    Ok(written)
}

/// Draws a confusion matrix as a heat map to `path` (a PNG of [`CONFUSION_SIZE`]), creating its
/// folder if needed.
///
/// `matrix[t][p]` counts the examples of true class `t` predicted as class `p` (rows: true
/// class, columns: predicted), `labels[c]` names class `c`. Each cell shows its count; its
/// colour is the cell's share of its row (of the true class's examples), from white (0 %) to
/// dark blue (100 %), so that rare classes are as readable as frequent ones. Class names longer
/// than 20 characters are shortened with `…`; fonts shrink as classes grow.
///
/// # Errors
/// [`PlotError::InvalidInput`] when the matrix is empty, has more than
/// [`MAX_CONFUSION_CLASSES`] rows, is not square, or `labels` does not hold one name per row;
/// [`PlotError::Draw`] or [`PlotError::Io`] when writing fails.
pub fn plot_confusion(
    matrix: &[Vec<u64>],
    labels: &[String],
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let invalid = |reason: String| PlotError::InvalidInput {
        path: path.to_path_buf(),
        reason,
    };
    let n = matrix.len();
    if n == 0 {
        return Err(invalid(
            "the confusion matrix is empty; it needs one row and one column per class".into(),
        ));
    }
    if n > MAX_CONFUSION_CLASSES {
        return Err(invalid(format!(
            "{n} classes: a confusion matrix is drawn for at most {MAX_CONFUSION_CLASSES}"
        )));
    }
    if let Some((row, counts)) = matrix.iter().enumerate().find(|(_, r)| r.len() != n) {
        return Err(invalid(format!(
            "row {row} has {} count{}, expected {n}: the matrix must be square, one row \
             (true class) and one column (predicted class) per class",
            counts.len(),
            if counts.len() == 1 { "" } else { "s" },
        )));
    }
    if labels.len() != n {
        return Err(invalid(format!(
            "{} class names for a {n}×{n} matrix; give one name per class",
            labels.len()
        )));
    }
    render_atomic(path, CONFUSION_SIZE, |root| {
        draw_confusion(root, matrix, labels, title)
    })
}

/// Draws a forecast against the actual series to `path` (a PNG of [`SERIES_SIZE`]), creating
/// its folder if needed: time step `t` (from 0) on the x axis, `actual[t]` and `predicted[t]`
/// as two lines.
///
/// A non-finite value (NaN, ±inf) is a gap in its line, e.g. the warm-up steps a model makes no
/// forecast for; a point without neighbours is marked so that it stays visible. Up to
/// 100 points per line every point is marked.
///
/// # Errors
/// [`PlotError::InvalidInput`] when `actual` is empty, the two lengths differ, or no value is
/// finite; [`PlotError::Draw`] or [`PlotError::Io`] when writing fails.
pub fn plot_series(
    actual: &[f64],
    predicted: &[f64],
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    plot_forecasts(actual, &[("predicted", predicted)], title, path)
}

/// [`plot_series`] with several forecasts beside the actual series (a model and its naive
/// baselines): `forecasts` are `(legend name, values)`, each as long as `actual` (NaN where
/// there is none), drawn in the palette's next colours.
///
/// # Errors
/// [`PlotError::InvalidInput`] when `actual` is empty, a forecast's length differs from it, or
/// no value is finite; [`PlotError::Draw`] or [`PlotError::Io`] when writing fails.
pub fn plot_forecasts(
    actual: &[f64],
    forecasts: &[(&str, &[f64])],
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let invalid = |reason: String| PlotError::InvalidInput {
        path: path.to_path_buf(),
        reason,
    };
    if actual.is_empty() {
        return Err(invalid(
            "no time step to plot: the actual series is empty".into(),
        ));
    }
    if let Some((name, values)) = forecasts.iter().find(|(_, v)| v.len() != actual.len()) {
        return Err(invalid(format!(
            "{} actual values but {} {name} ones; give one prediction per time step \
             (NaN where there is none)",
            actual.len(),
            values.len()
        )));
    }
    let series: Vec<Series> = std::iter::once(series("actual", PALETTE[0], indexed(actual)))
        .chain(forecasts.iter().enumerate().map(|(i, (name, values))| {
            series(name, PALETTE[(i + 1) % PALETTE.len()], indexed(values))
        }))
        .flatten()
        .collect();
    if series.is_empty() {
        let names: Vec<&str> = forecasts.iter().map(|(name, _)| *name).collect();
        return Err(invalid(format!(
            "none of the {} actual and {} values is finite",
            actual.len() * (1 + forecasts.len()),
            names.join(" and ")
        )));
    }
    let plot = LinePlot {
        title,
        x_desc: "time step",
        y_desc: "value",
        size: SERIES_SIZE,
        x_range: (-0.5, actual.len() as f64 - 0.5),
    };
    draw_lines(path, &plot, &series)
}

/// One line of a picture: `(x, value)` points in increasing whole x (epochs, time steps), finite
/// values only; a gap in x is a gap in the line.
struct Series {
    name: String,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
}

/// The series of the finite values among `(x, value)`, or `None` when there is none.
fn series(
    name: &str,
    colour: RGBColor,
    values: impl Iterator<Item = (f64, Option<f64>)>,
) -> Option<Series> {
    let points: Vec<(f64, f64)> = values
        .filter_map(|(x, value)| value.filter(|v| v.is_finite()).map(|v| (x, v)))
        .collect();
    (!points.is_empty()).then(|| Series {
        name: name.to_string(),
        colour,
        points,
    })
}

/// `(t, values[t])` for every time step `t`.
fn indexed(values: &[f64]) -> impl Iterator<Item = (f64, Option<f64>)> + '_ {
    values.iter().enumerate().map(|(t, &v)| (t as f64, Some(v)))
}

/// The y range of `series` with a margin; a flat series gets a margin of its own around it.
/// Requires at least one point.
fn value_range(series: &[Series]) -> (f64, f64) {
    let (low, high) = series
        .iter()
        .flat_map(|s| s.points.iter().map(|&(_, y)| y))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
    let span = high - low;
    let pad = if span > 0.0 {
        span * 0.08
    } else {
        (low.abs() * 0.05).max(0.05)
    };
    (low - pad, high + pad)
}

/// Decimals for the labels of about 8 ticks over `span`: 0 from a span of 10 up, 1 for a span
/// in [1, 10), 2 in [0.1, 1), ..., at most 6.
fn decimals(span: f64) -> usize {
    (1.0 - span.log10().floor()).clamp(0.0, 6.0) as usize
}

/// The legend's share of the plotting area's height: 7 % per line and 5 % of frame.
fn legend_height(lines: usize) -> f64 {
    0.05 + 0.07 * lines as f64
}

/// Where the legend (30 % of the width, [`legend_height`]) covers the fewest points of
/// `series` (sampled along the drawn lines), and how many it covers there; the corners are
/// tried in the order right-top, right-bottom, left-top, left-bottom.
fn legend_corner(series: &[Series], x: (f64, f64), y: (f64, f64)) -> (SeriesLabelPosition, usize) {
    let (w, h) = (0.3, legend_height(series.len()));
    let normalised = |(px, py): (f64, f64)| ((px - x.0) / (x.1 - x.0), (py - y.0) / (y.1 - y.0));
    let mut samples = Vec::new();
    for s in series {
        samples.extend(s.points.iter().map(|&p| normalised(p)));
        for pair in runs(&s.points).flat_map(|run| run.windows(2)) {
            let (a, b) = (normalised(pair[0]), normalised(pair[1]));
            samples.extend((1..20).map(|k| {
                let t = f64::from(k) / 20.0;
                (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
            }));
        }
    }
    let corners = [
        (
            SeriesLabelPosition::UpperRight,
            (1.0 - w, 1.0),
            (1.0 - h, 1.0),
        ),
        (SeriesLabelPosition::LowerRight, (1.0 - w, 1.0), (0.0, h)),
        (SeriesLabelPosition::UpperLeft, (0.0, w), (1.0 - h, 1.0)),
        (SeriesLabelPosition::LowerLeft, (0.0, w), (0.0, h)),
    ];
    let covered = |xs: (f64, f64), ys: (f64, f64)| {
        samples
            .iter()
            .filter(|(px, py)| (xs.0..=xs.1).contains(px) && (ys.0..=ys.1).contains(py))
            .count()
    };
    corners
        .into_iter()
        .map(|(corner, xs, ys)| (corner, covered(xs, ys)))
        .min_by_key(|&(_, count)| count)
        .unwrap_or((SeriesLabelPosition::UpperRight, 0))
}

/// What a line picture shows besides its series.
struct LinePlot<'a> {
    title: &'a str,
    x_desc: &'a str,
    y_desc: &'a str,
    size: (u32, u32),
    /// The x axis, half a step beyond the first and last whole x.
    x_range: (f64, f64),
}

/// Draws `series` (whole x values) into `path`: a line through each run of consecutive x, a
/// marker on every point (only on isolated points beyond [`MARKER_LIMIT`] points), a legend in
/// the emptiest corner.
fn draw_lines(path: &Path, plot: &LinePlot<'_>, series: &[Series]) -> Result<(), PlotError> {
    let x_range = plot.x_range;
    let mut y_range = value_range(series);
    let (mut corner, covered) = legend_corner(series, x_range, y_range);
    if covered > 0 {
        // No free corner: raise the top until a band above the lines holds the legend.
        let band = legend_height(series.len()) + 0.03;
        y_range.1 += (y_range.1 - y_range.0) * band / (1.0 - band);
        corner = SeriesLabelPosition::UpperRight;
    }
    if !(y_range.1 - y_range.0).is_finite() {
        return Err(PlotError::InvalidInput {
            path: path.to_path_buf(),
            reason: "the values span more than a 64-bit float holds; rescale them".into(),
        });
    }
    let y_decimals = decimals(y_range.1 - y_range.0);
    let y_label = |y: f64| format!("{y:.y_decimals$}");
    // One tick per step while they fit; coarser ticks stay on whole steps because the range
    // is padded by half a step and plotters steps by 1, 2, 5 × 10^k.
    let x_ticks = ((x_range.1 - x_range.0).round() as usize).clamp(1, 12);
    render_atomic(path, plot.size, |root| {
        let tick_font = TextStyle::from((FONT, 15).into_font());
        let widest_y_label = [y_range.0, y_range.1]
            .into_iter()
            .map(|y| {
                root.estimate_text_size(&y_label(y), &tick_font)
                    .map(|(w, _)| w)
            })
            .try_fold(0, |widest, w| w.map(|w| widest.max(w)))
            .map_err(reason)?;
        let mut chart = ChartBuilder::on(root)
            .caption(plot.title, (FONT, 26))
            .margin(20)
            .x_label_area_size(55)
            .y_label_area_size(widest_y_label + 45)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(reason)?;
        chart
            .configure_mesh()
            .x_desc(plot.x_desc)
            .y_desc(plot.y_desc)
            .x_labels(x_ticks)
            .y_labels(8)
            .max_light_lines(0)
            .x_label_formatter(&|x| whole_label(*x))
            .y_label_formatter(&|y| y_label(*y))
            .label_style(tick_font.clone())
            .axis_desc_style((FONT, 17))
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(reason)?;
        for s in series {
            let colour = s.colour;
            let mark_all = s.points.len() <= MARKER_LIMIT;
            chart
                .draw_series(
                    runs(&s.points)
                        .map(|run| PathElement::new(run.to_vec(), colour.stroke_width(2))),
                )
                .map_err(reason)?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    // Markers only where the lines have them (transparent otherwise).
                    let marker_colour = colour.mix(if mark_all { 1.0 } else { 0.0 });
                    let marker = Circle::new((12, 0), 4, marker_colour.filled());
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (24, 0)], colour.stroke_width(2))
                        + marker
                });
            // A point without neighbours has no line to show it: it always gets a marker.
            let radius = if s.points.len() <= 40 { 4 } else { 3 };
            let marked = runs(&s.points)
                .filter(|run| mark_all || run.len() == 1)
                .flatten();
            chart
                .draw_series(marked.map(|&p| Circle::new(p, radius, colour.filled())))
                .map_err(reason)?;
        }
        chart
            .configure_series_labels()
            .position(corner)
            .margin(12)
            .legend_area_size(32)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(reason)
    })
}

/// The runs of consecutive whole x in `points` (sorted by x): each is drawn as one line.
fn runs(points: &[(f64, f64)]) -> impl Iterator<Item = &[(f64, f64)]> {
    points.chunk_by(|a, b| b.0 - a.0 <= 1.0 + 1e-9)
}

/// An x-axis tick label: `x` when it is whole (an epoch, a time step), nothing otherwise.
fn whole_label(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 && x >= 0.0 {
        format!("{}", x.round() as u64)
    } else {
        String::new()
    }
}

/// The fill of a cell holding `share` (0..=1) of its row: white to dark blue through light blue.
fn heat_colour(share: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 3] = [
        (247.0, 251.0, 255.0),
        (107.0, 174.0, 214.0),
        (8.0, 48.0, 107.0),
    ];
    let t = share.clamp(0.0, 1.0) * 2.0;
    let (a, b, t) = if t <= 1.0 {
        (STOPS[0], STOPS[1], t)
    } else {
        (STOPS[1], STOPS[2], t - 1.0)
    };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black on light fills, white on dark ones (relative luminance below 0.45).
fn text_colour(fill: RGBColor) -> RGBColor {
    let luminance =
        (0.2126 * f64::from(fill.0) + 0.7152 * f64::from(fill.1) + 0.0722 * f64::from(fill.2))
            / 255.0;
    if luminance < 0.45 { WHITE } else { BLACK }
}

/// `label`, shortened to 20 characters with `…`.
fn short_label(label: &str) -> String {
    const MAX_CHARS: usize = 20;
    if label.chars().count() <= MAX_CHARS {
        label.to_string()
    } else {
        let mut short: String = label.chars().take(MAX_CHARS - 1).collect();
        short.push('…');
        short
    }
}

fn text_style(size: f64, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: (FONT, size).into_font(),
        color: colour.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

/// Draws the confusion matrix on `root`; the input is validated by [`plot_confusion`].
fn draw_confusion(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    matrix: &[Vec<u64>],
    labels: &[String],
    title: &str,
) -> Result<(), String> {
    let n = matrix.len();
    let (width, height) = root.dim_in_pixel();
    let (width, height) = (width as i32, height as i32);
    let labels: Vec<String> = labels.iter().map(|l| short_label(l)).collect();
    let label_size = match n {
        0..=10 => 18.0,
        11..=20 => 14.0,
        _ => 11.0,
    };
    let label_font = text_style(label_size, BLACK, HPos::Right, VPos::Center);
    let label_width = labels
        .iter()
        .map(|l| {
            root.estimate_text_size(l, &label_font)
                .map(|(w, _)| w as i32)
        })
        .try_fold(0, |widest, w| w.map(|w| widest.max(w)))
        .map_err(reason)?;

    // Layout: title band, row labels and their axis title on the left, column labels and
    // their axis title below, colour bar on the right.
    let top = 80;
    let axis_title = 34;
    let left = 20 + axis_title + label_width + 10;
    let right = 130;
    let available_width = width - left - right;
    let below_flat = 10 + label_size as i32 + 10 + axis_title;
    let flat_cell = available_width.min(height - top - below_flat) / n as i32;
    let rotated = label_width > flat_cell - 6;
    let below = if rotated {
        10 + label_width + 10 + axis_title
    } else {
        below_flat
    };
    let cell = available_width.min(height - top - below) / n as i32;
    let side = cell * n as i32;
    let x0 = left + (available_width - side) / 2;
    let y0 = top;

    root.draw_text(
        title,
        &text_style(26.0, BLACK, HPos::Center, VPos::Center),
        (width / 2, 32),
    )
    .map_err(reason)?;
    root.draw_text(
        "rows: true class · columns: predicted class · colour: share of the true class",
        &text_style(15.0, RGBColor(90, 90, 90), HPos::Center, VPos::Center),
        (width / 2, 60),
    )
    .map_err(reason)?;

    // Cells and counts: the count's font shrinks until the widest count fits its cell.
    let widest_count = matrix
        .iter()
        .flatten()
        .max()
        .copied()
        .unwrap_or(0)
        .to_string();
    let mut count_size = (f64::from(cell) * 0.38).min(26.0);
    while count_size > 7.0 {
        let style = text_style(count_size, BLACK, HPos::Center, VPos::Center);
        let (w, _) = root
            .estimate_text_size(&widest_count, &style)
            .map_err(reason)?;
        if (w as i32) <= cell * 85 / 100 {
            break;
        }
        count_size -= 1.0;
    }
    for (t, row) in matrix.iter().enumerate() {
        let total: u128 = row.iter().map(|&count| u128::from(count)).sum();
        for (p, &count) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            let fill = heat_colour(share);
            let (x, y) = (x0 + p as i32 * cell, y0 + t as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                fill.filled(),
            ))
            .map_err(reason)?;
            root.draw_text(
                &count.to_string(),
                &text_style(count_size, text_colour(fill), HPos::Center, VPos::Center),
                (x + cell / 2, y + cell / 2),
            )
            .map_err(reason)?;
        }
    }
    // Thin grey lines between cells keep neighbouring pale cells apart.
    let grid = RGBColor(215, 215, 215);
    for k in 1..n as i32 {
        let at = k * cell;
        root.draw(&PathElement::new(
            vec![(x0 + at, y0), (x0 + at, y0 + side)],
            grid,
        ))
        .map_err(reason)?;
        root.draw(&PathElement::new(
            vec![(x0, y0 + at), (x0 + side, y0 + at)],
            grid,
        ))
        .map_err(reason)?;
    }
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + side, y0 + side)],
        BLACK.mix(0.5).stroke_width(1),
    ))
    .map_err(reason)?;

    // Class names: rows on the left, columns below (turned when they do not fit a cell).
    for (c, label) in labels.iter().enumerate() {
        let middle = c as i32 * cell + cell / 2;
        root.draw_text(label, &label_font, (x0 - 10, y0 + middle))
            .map_err(reason)?;
        let (pos, style) = if rotated {
            (
                (x0 + middle, y0 + side + 10),
                text_style(label_size, BLACK, HPos::Right, VPos::Center)
                    .transform(FontTransform::Rotate270),
            )
        } else {
            (
                (x0 + middle, y0 + side + 10),
                text_style(label_size, BLACK, HPos::Center, VPos::Top),
            )
        };
        root.draw_text(label, &style, pos).map_err(reason)?;
    }
    let axis_font = 18.0;
    root.draw_text(
        "true class",
        &text_style(axis_font, BLACK, HPos::Center, VPos::Center)
            .transform(FontTransform::Rotate270),
        (x0 - 10 - label_width - 10 - axis_title / 2, y0 + side / 2),
    )
    .map_err(reason)?;
    root.draw_text(
        "predicted class",
        &text_style(axis_font, BLACK, HPos::Center, VPos::Center),
        (x0 + side / 2, y0 + side + below - axis_title / 2),
    )
    .map_err(reason)?;

    // Colour bar: 0 % at the bottom, 100 % at the top.
    let bar_x = x0 + side + 30;
    let bar_width = 18;
    for step in 0..side {
        let share = 1.0 - f64::from(step) / f64::from((side - 1).max(1));
        root.draw(&Rectangle::new(
            [(bar_x, y0 + step), (bar_x + bar_width, y0 + step + 1)],
            heat_colour(share).filled(),
        ))
        .map_err(reason)?;
    }
    root.draw(&Rectangle::new(
        [(bar_x, y0), (bar_x + bar_width, y0 + side)],
        BLACK.mix(0.5).stroke_width(1),
    ))
    .map_err(reason)?;
    for (share, label) in [(1.0, "100 %"), (0.5, "50 %"), (0.0, "0 %")] {
        let y = y0 + ((1.0 - share) * f64::from(side - 1)).round() as i32;
        root.draw_text(
            label,
            &text_style(14.0, BLACK, HPos::Left, VPos::Center),
            (bar_x + bar_width + 6, y),
        )
        .map_err(reason)?;
    }
    Ok(())
}

/// plotters' error as text.
fn reason(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// Registers the bundled font with plotters, once per process.
fn register_bundled_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered =
        *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
    if registered {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// Draws a `size` picture with `draw` into `<stem>.tmp.png` beside `path`, syncs it and renames
/// it to `path`; on any failure the temporary file is removed and `path` is left as it was.
fn render_atomic(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<(), PlotError> {
    register_bundled_font()?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PlotError::Io { path, source }
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let stem = path.file_stem().ok_or_else(|| PlotError::InvalidInput {
        path: path.to_path_buf(),
        reason: "the path has no file name".into(),
    })?;
    fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = dir.join(format!("{}.tmp.png", stem.to_string_lossy()));
    let drawn = {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(reason)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(reason))
        // `root` is dropped here; plotters' backend writes the file on drop if not presented.
    };
    let result = drawn
        .map_err(|reason| PlotError::Draw {
            path: path.to_path_buf(),
            reason,
        })
        .and_then(|()| {
            File::open(&tmp)
                .and_then(|file| file.sync_all())
                .and_then(|()| fs::rename(&tmp, path))
                .map_err(io(path))
        });
    if result.is_err() {
        // Best effort: the temporary file is garbage either way; the error to report is the
        // drawing's or the rename's.
        let _ = fs::remove_file(&tmp);
        return result;
    }
    sync_dir(dir).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty folder for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("seqmodel-plots-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the test folder");
        dir
    }

    /// (width, height) from a PNG's signature and IHDR chunk; panics if `path` is not a PNG.
    fn png_size(path: &Path) -> (u32, u32) {
        let bytes = fs::read(path).expect("read the picture");
        assert!(bytes.len() > 33, "{}: too short for a PNG", path.display());
        assert_eq!(
            &bytes[..8],
            b"\x89PNG\r\n\x1a\n",
            "{}: no PNG signature",
            path.display()
        );
        assert_eq!(
            &bytes[12..16],
            b"IHDR",
            "{}: IHDR is not the first chunk",
            path.display()
        );
        let be = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        (be(16), be(20))
    }

    fn record(epoch: usize, train: &[(&str, f64)], valid: &[(&str, f64)]) -> EpochRecord {
        let map = |pairs: &[(&str, f64)]| pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect();
        EpochRecord {
            epoch,
            seconds: 1.0,
            train_seconds: None,
            train: map(train),
            valid: map(valid),
        }
    }

    fn classify_run(epochs: usize) -> Vec<EpochRecord> {
        (1..=epochs)
            .map(|e| {
                let e = e as f64;
                record(
                    e as usize,
                    &[("Loss", 0.7 / e)],
                    &[
                        ("Loss", 0.6 / e + 0.02 * e),
                        ("accuracy", 60.0 + 2.0 * e),
                        ("macro_f1", 58.0 + 2.1 * e),
                    ],
                )
            })
            .collect()
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|c| format!("class {c}")).collect()
    }

    /// Files left in `dir`, sorted.
    fn listing(dir: &Path) -> Vec<String> {
        let mut files: Vec<String> = fs::read_dir(dir)
            .expect("list the test folder")
            .map(|e| {
                e.expect("folder entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn curves_write_loss_and_metrics_pngs_of_the_documented_size() {
        let dir = scratch("curves");
        let written = plot_curves(&classify_run(8), &dir).expect("plot 8 epochs");
        assert_eq!(
            written,
            [dir.join(LOSS_PLOT_FILE), dir.join(METRICS_PLOT_FILE)]
        );
        for path in &written {
            assert_eq!(png_size(path), CURVES_SIZE, "{}", path.display());
        }
        assert_eq!(
            listing(&dir),
            ["loss.png", "metrics.png"],
            "no temporary file is left"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn curves_are_deterministic_and_follow_the_values() {
        let dir = scratch("curves-differ");
        let run = |name: &str, records: &[EpochRecord]| {
            let sub = dir.join(name);
            plot_curves(records, &sub).expect("plot");
            (
                fs::read(sub.join(LOSS_PLOT_FILE)).expect("loss"),
                fs::read(sub.join(METRICS_PLOT_FILE)).expect("metrics"),
            )
        };
        let base = classify_run(5);
        let mut changed = base.clone();
        changed[2].valid.insert("accuracy".into(), 61.0);
        let (loss_a, metrics_a) = run("a", &base);
        let (loss_b, metrics_b) = run("b", &base);
        let (loss_c, metrics_c) = run("c", &changed);
        assert!(
            loss_a == loss_b && metrics_a == metrics_b,
            "the same records draw the same pixels"
        );
        assert_eq!(
            loss_a, loss_c,
            "the loss picture does not depend on accuracy"
        );
        assert_ne!(
            metrics_a, metrics_c,
            "another accuracy at epoch 3 draws another picture"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// With one epoch there is no line: only the markers show the values. Swapping the train
    /// and valid loss keeps axes and legend identical, so the pictures differ only if the
    /// markers are drawn.
    #[test]
    fn one_epoch_draws_visible_markers() {
        let dir = scratch("one-epoch");
        let a = [record(1, &[("Loss", 0.9)], &[("Loss", 0.5)])];
        let b = [record(1, &[("Loss", 0.5)], &[("Loss", 0.9)])];
        let written = plot_curves(&a, &dir.join("a")).expect("plot a");
        assert_eq!(
            written,
            [dir.join("a").join(LOSS_PLOT_FILE)],
            "no metric: no metrics.png"
        );
        plot_curves(&b, &dir.join("b")).expect("plot b");
        let read = |name: &str| fs::read(dir.join(name).join(LOSS_PLOT_FILE)).expect("loss.png");
        assert_eq!(png_size(&dir.join("a").join(LOSS_PLOT_FILE)), CURVES_SIZE);
        assert_ne!(read("a"), read("b"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_and_non_finite_values_are_skipped() {
        let dir = scratch("missing");
        // Epoch 2 lacks the train loss, epoch 3 has a NaN one; no record has a valid loss.
        let records = [
            record(1, &[("Loss", 0.8)], &[("accuracy", 55.0)]),
            record(2, &[], &[("accuracy", 60.0), ("macro_f1", 59.0)]),
            record(3, &[("Loss", f64::NAN)], &[("accuracy", 62.0)]),
        ];
        let written = plot_curves(&records, &dir).expect("plot");
        assert_eq!(
            written,
            [dir.join(LOSS_PLOT_FILE), dir.join(METRICS_PLOT_FILE)]
        );

        let only_metrics = [record(1, &[("Loss", f64::INFINITY)], &[("accuracy", 50.0)])];
        let sub = dir.join("only-metrics");
        assert_eq!(
            plot_curves(&only_metrics, &sub).expect("plot"),
            [sub.join(METRICS_PLOT_FILE)]
        );

        let nothing = [record(1, &[], &[])];
        assert_eq!(
            plot_curves(&nothing, &dir.join("nothing")).expect("plot"),
            Vec::<PathBuf>::new()
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_epoch_is_an_error_naming_the_folder() {
        let dir = scratch("no-epoch");
        let error = plot_curves(&[], &dir).unwrap_err();
        assert!(matches!(error, PlotError::InvalidInput { ref path, .. } if path == &dir));
        assert!(error.to_string().contains("no epoch to plot"), "{error}");
        assert!(listing(&dir).is_empty());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn confusion_matrices_of_2_to_30_classes_are_drawn() {
        let dir = scratch("confusion");
        for n in [2, 3, 11, 21, MAX_CONFUSION_CLASSES] {
            let matrix: Vec<Vec<u64>> = (0..n)
                .map(|t| {
                    (0..n)
                        .map(|p| {
                            if t == p {
                                1000 + t as u64
                            } else {
                                (t * p % 7) as u64
                            }
                        })
                        .collect()
                })
                .collect();
            let labels: Vec<String> = (0..n)
                .map(|c| format!("a rather long class name {c}"))
                .collect();
            let path = dir.join(format!("confusion-{n}.png"));
            plot_confusion(&matrix, &labels, &format!("{n} classes"), &path).expect("draw");
            assert_eq!(png_size(&path), CONFUSION_SIZE, "{n} classes");
        }
        assert!(
            listing(&dir).iter().all(|f| !f.contains(".tmp.")),
            "{:?}",
            listing(&dir)
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn confusion_pixels_follow_the_counts_and_replace_the_old_picture() {
        let dir = scratch("confusion-differ");
        let path = dir.join("confusion.png");
        let draw = |matrix: &[Vec<u64>]| {
            plot_confusion(matrix, &names(2), "test", &path).expect("draw");
            fs::read(&path).expect("read")
        };
        let a = draw(&[vec![40, 10], vec![8, 42]]);
        let b = draw(&[vec![40, 10], vec![8, 42]]);
        let c = draw(&[vec![10, 40], vec![8, 42]]);
        assert_eq!(a, b, "the same matrix draws the same pixels");
        assert_ne!(
            a, c,
            "another matrix draws another picture over the old one"
        );
        assert_eq!(listing(&dir), ["confusion.png"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_matrices_and_labels_are_errors_naming_the_file() {
        let dir = scratch("confusion-bad");
        let path = dir.join("confusion.png");
        let too_many = vec![vec![0; 31]; 31];
        /// A matrix, its class names and a part of the expected message.
        type Case<'a> = (&'a [Vec<u64>], Vec<String>, &'a str);
        let cases: [Case<'_>; 5] = [
            (&[], names(0), "the confusion matrix is empty"),
            (
                &[vec![1, 2], vec![3]],
                names(2),
                "row 1 has 1 count, expected 2",
            ),
            (
                &[vec![1, 2, 3], vec![4, 5, 6]],
                names(2),
                "row 0 has 3 counts, expected 2",
            ),
            (
                &[vec![1, 2], vec![3, 4]],
                names(3),
                "3 class names for a 2×2 matrix",
            ),
            (
                &too_many,
                names(31),
                "31 classes: a confusion matrix is drawn for at most 30",
            ),
        ];
        for (matrix, labels, expected) in cases {
            let error = plot_confusion(matrix, &labels, "bad", &path).unwrap_err();
            let message = error.to_string();
            assert!(matches!(error, PlotError::InvalidInput { .. }), "{message}");
            assert!(
                message.starts_with(&path.display().to_string()),
                "{message}"
            );
            assert!(message.contains(expected), "{message} lacks {expected:?}");
        }
        assert!(
            listing(&dir).is_empty(),
            "nothing is written: {:?}",
            listing(&dir)
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// A rename that fails (the destination is a non-empty folder) reports the destination,
    /// removes the temporary picture and leaves the destination as it was.
    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = scratch("failed-write");
        let path = dir.join("confusion.png");
        fs::create_dir_all(path.join("occupied")).expect("occupy the destination");
        let error = plot_confusion(&[vec![1, 2], vec![3, 4]], &names(2), "t", &path).unwrap_err();
        assert!(
            matches!(error, PlotError::Io { path: ref p, .. } if p == &path),
            "{error}"
        );
        assert_eq!(listing(&dir), ["confusion.png"]);
        assert!(path.join("occupied").is_dir());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn x_ticks_are_labelled_only_on_whole_steps() {
        assert_eq!(whole_label(3.0), "3");
        assert_eq!(whole_label(2.9999999), "3");
        assert_eq!(whole_label(2.5), "");
        assert_eq!(whole_label(-1.0), "");
    }

    #[test]
    fn tick_decimals_follow_the_span() {
        assert_eq!(decimals(40.0), 0);
        assert_eq!(decimals(10.0), 0);
        assert_eq!(decimals(5.0), 1);
        assert_eq!(decimals(0.6), 2);
        assert_eq!(decimals(0.05), 3);
        assert_eq!(decimals(1e-12), 6);
    }

    #[test]
    fn flat_and_single_values_get_a_range_around_them() {
        let one = [Series {
            name: "x".into(),
            colour: BLACK,
            points: vec![(1.0, 0.5)],
        }];
        let (low, high) = value_range(&one);
        assert!(low < 0.5 && 0.5 < high, "({low}, {high})");
        let zero = [Series {
            name: "x".into(),
            colour: BLACK,
            points: vec![(1.0, 0.0), (2.0, 0.0)],
        }];
        assert_eq!(value_range(&zero), (-0.05, 0.05));
        let spread = [Series {
            name: "x".into(),
            colour: BLACK,
            points: vec![(1.0, 10.0), (2.0, 20.0)],
        }];
        assert_eq!(value_range(&spread), (9.2, 20.8));
    }

    #[test]
    fn heat_colours_run_from_white_to_dark_blue_with_readable_counts() {
        assert_eq!(heat_colour(0.0), RGBColor(247, 251, 255));
        assert_eq!(heat_colour(0.5), RGBColor(107, 174, 214));
        assert_eq!(heat_colour(1.0), RGBColor(8, 48, 107));
        assert_eq!(heat_colour(7.0), heat_colour(1.0), "shares are clamped");
        assert_eq!(text_colour(heat_colour(0.0)), BLACK);
        assert_eq!(text_colour(heat_colour(0.5)), BLACK);
        assert_eq!(text_colour(heat_colour(1.0)), WHITE);
    }

    #[test]
    fn long_class_names_are_shortened() {
        assert_eq!(short_label("positive"), "positive");
        assert_eq!(short_label("abcdefghijklmnopqrst"), "abcdefghijklmnopqrst");
        let short = short_label("abcdefghijklmnopqrstu");
        assert_eq!(short, "abcdefghijklmnopqrs…");
        assert_eq!(short.chars().count(), 20);
    }

    #[test]
    fn the_legend_goes_where_the_lines_are_not() {
        let series = |points: Vec<(f64, f64)>| {
            [Series {
                name: "s".into(),
                colour: BLACK,
                points,
            }]
        };
        let x = (0.5, 4.5);
        let y = (0.0, 1.0);
        // Falling from top left to bottom right: the top-right corner is free.
        let falling = series(vec![(1.0, 0.95), (2.0, 0.4), (3.0, 0.1), (4.0, 0.05)]);
        assert_eq!(
            legend_corner(&falling, x, y),
            (SeriesLabelPosition::UpperRight, 0)
        );
        // Rising to the top right: the bottom-right corner is free.
        let rising = series(vec![(1.0, 0.05), (2.0, 0.6), (3.0, 0.9), (4.0, 0.95)]);
        assert_eq!(
            legend_corner(&rising, x, y),
            (SeriesLabelPosition::LowerRight, 0)
        );
        // Zig-zagging over the whole height: every corner is covered.
        let zigzag: Vec<(f64, f64)> = (1..=8).map(|k| (f64::from(k), f64::from(k % 2))).collect();
        assert!(legend_corner(&series(zigzag), (0.5, 8.5), y).1 > 0);
    }

    #[test]
    fn series_pictures_have_the_documented_size() {
        let dir = scratch("series");
        let actual: Vec<f64> = (0..500).map(|t| (t as f64 / 9.0).sin() * 1e6).collect();
        let mut predicted: Vec<f64> = actual.iter().map(|a| a * 0.9 + 3e4).collect();
        predicted[..12].fill(f64::NAN);
        for (name, n) in [("long.png", 500), ("short.png", 7), ("one.png", 1)] {
            let path = dir.join(name);
            plot_series(&actual[..n], &predicted[..n], name, &path).expect("draw");
            assert_eq!(png_size(&path), SERIES_SIZE, "{name}");
        }
        assert_eq!(listing(&dir), ["long.png", "one.png", "short.png"]);
        let _ = fs::remove_dir_all(&dir);
    }

    /// The actual series fixes the y range; the only prediction is an isolated point, so the
    /// two pictures differ only if that point is marked.
    #[test]
    fn an_isolated_prediction_is_visible() {
        let dir = scratch("series-isolated");
        let actual = [0.0, 10.0, 0.0];
        let draw = |predicted: [f64; 3], name: &str| {
            let path = dir.join(name);
            plot_series(&actual, &predicted, "isolated", &path).expect("draw");
            fs::read(&path).expect("read")
        };
        let a = draw([f64::NAN, 4.0, f64::NAN], "a.png");
        let b = draw([f64::NAN, 4.0, f64::NAN], "b.png");
        let c = draw([f64::NAN, 6.0, f64::INFINITY], "c.png");
        assert_eq!(a, b);
        assert_ne!(a, c);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_series_are_errors_naming_the_file() {
        let dir = scratch("series-bad");
        let path = dir.join("forecast.png");
        let cases: [(&[f64], &[f64], &str); 3] = [
            (&[], &[], "no time step to plot"),
            (&[1.0, 2.0], &[1.0], "2 actual values but 1 predicted ones"),
            (
                &[f64::NAN],
                &[f64::NEG_INFINITY],
                "none of the 2 actual and predicted values is finite",
            ),
        ];
        for (actual, predicted, expected) in cases {
            let error = plot_series(actual, predicted, "bad", &path).unwrap_err();
            let message = error.to_string();
            assert!(matches!(error, PlotError::InvalidInput { .. }), "{message}");
            assert!(
                message.starts_with(&path.display().to_string()),
                "{message}"
            );
            assert!(message.contains(expected), "{message} lacks {expected:?}");
        }
        assert!(listing(&dir).is_empty());
        let _ = fs::remove_dir_all(&dir);
    }

    /// A model and two naive forecasts beside the actual series: one picture; a forecast of
    /// the wrong length is refused by name.
    #[test]
    fn several_forecasts_in_one_picture() {
        let dir = scratch("forecasts");
        let actual: Vec<f64> = (0..60).map(|t| (t as f64 / 5.0).sin()).collect();
        let last: Vec<f64> = std::iter::once(f64::NAN)
            .chain(actual[..59].iter().copied())
            .collect();
        let model: Vec<f64> = actual.iter().map(|a| a * 0.8).collect();
        let path = dir.join("forecast.png");
        plot_forecasts(
            &actual,
            &[
                ("model", &model),
                ("naive", &last),
                ("seasonal naive", &last),
            ],
            "three",
            &path,
        )
        .expect("draw");
        assert_eq!(png_size(&path), SERIES_SIZE);
        let error = plot_forecasts(
            &actual,
            &[("model", &model), ("naive", &last[..3])],
            "x",
            &path,
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("60 actual values but 3 naive ones"),
            "{error}"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn lines_break_where_x_skips_a_step() {
        let points = [(0.0, 1.0), (1.0, 2.0), (3.0, 3.0), (4.0, 4.0), (6.0, 5.0)];
        let lengths: Vec<usize> = runs(&points).map(<[_]>::len).collect();
        assert_eq!(lengths, [2, 2, 1]);
        assert_eq!(runs(&[]).count(), 0);
    }

    #[test]
    fn extreme_input_is_drawn_or_refused_without_panicking() {
        let dir = scratch("extreme");
        let huge = [f64::MAX, -f64::MAX];
        let error = plot_series(&huge, &[0.0, 0.0], "huge", &dir.join("huge.png")).unwrap_err();
        assert!(error.to_string().contains("rescale"), "{error}");
        plot_series(
            &[1e300, -1e300],
            &[0.0, 1e-300],
            "large",
            &dir.join("large.png"),
        )
        .expect("a large but finite span is drawn");
        plot_series(&[1.0, 1.0 + 1e-15], &[1.0, 1.0], "", &dir.join("tiny.png"))
            .expect("a tiny span is drawn");
        let max = vec![vec![u64::MAX, u64::MAX], vec![0, u64::MAX]];
        let labels = [String::new(), "日本語 ünïcödé".to_string()];
        plot_confusion(&max, &labels, "", &dir.join("max.png")).expect("huge counts are drawn");
        assert_eq!(png_size(&dir.join("max.png")), CONFUSION_SIZE);
        let _ = fs::remove_dir_all(&dir);
    }
}
