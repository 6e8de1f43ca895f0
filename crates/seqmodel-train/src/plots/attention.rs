//! The attention heatmap of one decoded sequence: source tokens across, generated tokens
//! down, each cell coloured by the weight the decoder step gave that source position.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, VPos};

use super::{PlotError, heat_colour, reason, render_atomic, short_label, text_style};

/// At most this many tokens per axis are drawn (a longer sequence is an error, not a
/// microscopic picture).
pub const MAX_ATTENTION_TOKENS: usize = 120;

/// Pixels per cell, before the picture is shrunk to fit [`MAX_ATTENTION_SIDE`].
const CELL: u32 = 34;
/// The largest width or height of the heatmap area in pixels.
const MAX_ATTENTION_SIDE: u32 = 1600;

/// Draws `weights[t][s]` (the weight decoder step `t` gave source position `s`) as a heatmap
/// PNG at `path`, source tokens along the top, target tokens down the left, weight 0 white and
/// 1 dark blue. The picture's size follows the token counts.
///
/// # Errors
/// [`PlotError::InvalidInput`] when there is no source or target token, more than
/// [`MAX_ATTENTION_TOKENS`] on an axis, a row whose length is not the source's, or a weight
/// that is not finite or outside `[0, 1]`; [`PlotError::Draw`] or [`PlotError::Io`] when
/// writing fails.
pub fn plot_attention(
    source: &[String],
    target: &[String],
    weights: &[Vec<f32>],
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let invalid = |reason: String| PlotError::InvalidInput {
        path: path.to_path_buf(),
        reason,
    };
    if source.is_empty() || target.is_empty() {
        return Err(invalid(format!(
            "{} source and {} target tokens: an attention heatmap needs at least one of each",
            source.len(),
            target.len()
        )));
    }
    for (axis, n) in [("source", source.len()), ("target", target.len())] {
        if n > MAX_ATTENTION_TOKENS {
            return Err(invalid(format!(
                "{n} {axis} tokens: a heatmap is drawn for at most {MAX_ATTENTION_TOKENS}"
            )));
        }
    }
    if weights.len() != target.len() {
        return Err(invalid(format!(
            "{} rows of weights for {} target tokens: give one row per target token",
            weights.len(),
            target.len()
        )));
    }
    for (t, row) in weights.iter().enumerate() {
        if row.len() != source.len() {
            return Err(invalid(format!(
                "row {t} has {} weights for {} source tokens",
                row.len(),
                source.len()
            )));
        }
        if let Some(w) = row.iter().find(|w| !(0.0..=1.0).contains(*w)) {
            return Err(invalid(format!(
                "row {t} has the weight {w}; attention weights lie in [0, 1]"
            )));
        }
    }
    let cell = CELL
        .min(MAX_ATTENTION_SIDE / source.len() as u32)
        .min(MAX_ATTENTION_SIDE / target.len() as u32)
        .max(8);
    let (label_w, label_h) = (170, 150);
    let size = (
        label_w + cell * source.len() as u32 + 140,
        label_h + cell * target.len() as u32 + 40,
    );
    render_atomic(path, size, |root| {
        draw(
            root,
            (source, target, weights),
            title,
            cell as i32,
            (label_w as i32, label_h as i32),
        )
    })
}

fn draw(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    (source, target, weights): (&[String], &[String], &[Vec<f32>]),
    title: &str,
    cell: i32,
    (x0, y0): (i32, i32),
) -> Result<(), String> {
    let (width, _) = root.dim_in_pixel();
    root.draw_text(
        title,
        &text_style(22.0, BLACK, HPos::Center, VPos::Center),
        (width as i32 / 2, 24),
    )
    .map_err(reason)?;
    root.draw_text(
        "columns: source · rows: generated tokens · colour: attention weight",
        &text_style(14.0, RGBColor(90, 90, 90), HPos::Center, VPos::Center),
        (width as i32 / 2, 48),
    )
    .map_err(reason)?;
    for (t, row) in weights.iter().enumerate() {
        for (s, &w) in row.iter().enumerate() {
            let (x, y) = (x0 + s as i32 * cell, y0 + t as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                heat_colour(f64::from(w)).filled(),
            ))
            .map_err(reason)?;
        }
    }
    let (cols, rows) = (source.len() as i32, target.len() as i32);
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + cols * cell, y0 + rows * cell)],
        BLACK.mix(0.4).stroke_width(1),
    ))
    .map_err(reason)?;
    let font = (f64::from(cell) * 0.5).clamp(9.0, 16.0);
    // Source tokens stand upright when they are short (characters), else turned.
    let turned = source.iter().any(|t| t.chars().count() > 2);
    for (s, token) in source.iter().enumerate() {
        let x = x0 + s as i32 * cell + cell / 2;
        let style = if turned {
            text_style(font, BLACK, HPos::Left, VPos::Center).transform(FontTransform::Rotate270)
        } else {
            text_style(font, BLACK, HPos::Center, VPos::Bottom)
        };
        root.draw_text(&short_label(token), &style, (x, y0 - 8))
            .map_err(reason)?;
    }
    for (t, token) in target.iter().enumerate() {
        root.draw_text(
            &short_label(token),
            &text_style(font, BLACK, HPos::Right, VPos::Center),
            (x0 - 8, y0 + t as i32 * cell + cell / 2),
        )
        .map_err(reason)?;
    }
    // Colour bar: weight 1 at the top, 0 at the bottom.
    let bar_x = x0 + cols * cell + 30;
    let side = (rows * cell).max(60);
    for step in 0..side {
        let w = 1.0 - f64::from(step) / f64::from((side - 1).max(1));
        root.draw(&Rectangle::new(
            [(bar_x, y0 + step), (bar_x + 16, y0 + step + 1)],
            heat_colour(w).filled(),
        ))
        .map_err(reason)?;
    }
    for (w, label) in [(1.0, "1"), (0.5, "0.5"), (0.0, "0")] {
        let y = y0 + ((1.0 - w) * f64::from(side - 1)).round() as i32;
        root.draw_text(
            label,
            &text_style(13.0, BLACK, HPos::Left, VPos::Center),
            (bar_x + 22, y),
        )
        .map_err(reason)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn draws_a_png_sized_by_the_tokens() {
        let dir = std::env::temp_dir().join(format!("seqmodel-attn-plot-{}", std::process::id()));
        let path = dir.join("attention.png");
        let weights = vec![vec![0.9, 0.1, 0.0], vec![0.2, 0.7, 0.1]];
        plot_attention(&tokens("c a t"), &tokens("K AE1"), &weights, "cat", &path).expect("drawn");
        let bytes = std::fs::read(&path).expect("written");
        assert_eq!(&bytes[1..4], b"PNG");
        // The PNG header's width: label band + 3 cells + colour bar.
        let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        assert_eq!(width, 170 + 3 * CELL + 140);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_shapes_and_weights_are_errors_naming_the_problem() {
        let path = Path::new("unused.png");
        let err = |weights: &[Vec<f32>]| {
            plot_attention(&tokens("a b"), &tokens("x"), weights, "t", path)
                .expect_err("refused")
                .to_string()
        };
        assert!(err(&[]).contains("0 rows of weights for 1 target"));
        assert!(err(&[vec![1.0]]).contains("row 0 has 1 weights for 2 source"));
        assert!(err(&[vec![f32::NAN, 0.0]]).contains("weight NaN"));
        assert!(err(&[vec![1.5, 0.0]]).contains("[0, 1]"));
        let e = plot_attention(&[], &tokens("x"), &[vec![]], "t", path).expect_err("empty");
        assert!(e.to_string().contains("0 source"));
        assert!(!path.exists());
    }
}
