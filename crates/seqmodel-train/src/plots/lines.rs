//! A plain line chart of named series over whole x values (an experiment's score against
//! input length, one line per model), in the style of the run pictures.

use std::path::Path;

use super::{LinePlot, PALETTE, PlotError, draw_lines, series};

/// Size in pixels (width, height) of the pictures of [`plot_lines`].
pub const LINES_SIZE: (u32, u32) = (960, 600);

/// Draws each of `lines` — `(legend name, values)`, `values[i]` at x = `x_start + i`, NaN for
/// a gap — into a PNG at `path`, in the palette's colours, axes described by `x_desc` and
/// `y_desc`.
///
/// # Errors
/// [`PlotError::InvalidInput`] when there is no line or no finite value; [`PlotError::Draw`]
/// or [`PlotError::Io`] when writing fails.
pub fn plot_lines(
    lines: &[(&str, &[f64])],
    x_start: usize,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    path: &Path,
) -> Result<(), PlotError> {
    let longest = lines.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let all: Vec<_> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, (name, values))| {
            let points = values
                .iter()
                .enumerate()
                .map(|(k, &v)| ((x_start + k) as f64, Some(v)));
            series(name, PALETTE[i % PALETTE.len()], points)
        })
        .collect();
    if all.is_empty() {
        return Err(PlotError::InvalidInput {
            path: path.to_path_buf(),
            reason: format!(
                "{} lines without a finite value; give at least one number",
                lines.len()
            ),
        });
    }
    let plot = LinePlot {
        title,
        x_desc,
        y_desc,
        size: LINES_SIZE,
        x_range: (x_start as f64 - 0.5, (x_start + longest) as f64 - 0.5),
    };
    draw_lines(path, &plot, &all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_and_refuses_nothing_to_draw() {
        let dir = std::env::temp_dir().join(format!("seqmodel-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let path = dir.join("lines.png");
        let a = [1.0, 0.9, f64::NAN, 0.5];
        let b = [1.0, 1.0, 0.95, 0.9];
        plot_lines(&[("a", &a), ("b", &b)], 1, "t", ("x", "y"), &path).expect("drawn");
        assert!(std::fs::metadata(&path).expect("written").len() > 1000);
        let error = plot_lines(&[("a", &[f64::NAN])], 1, "t", ("x", "y"), &path)
            .expect_err("nothing finite")
            .to_string();
        assert!(error.contains("without a finite value"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
