//! Per-column scalers for time series, fitted on the training split only, with an inverse
//! transform for reporting errors in original units.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::series::TimeSeries;

/// Which scaler to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ScalerKind {
    /// Leave values as they are.
    None,
    /// `(x - mean) / std` per column (population std; a constant column gets std 1).
    #[default]
    Standard,
    /// `(x - min) / (max - min)` per column, into `[0, 1]` on the fitted data (a constant column
    /// gets range 1).
    MinMax,
}

/// A fitted per-column affine map `y = (x - shift) / scale`.
///
/// ```
/// use seqmodel_data::{Scaler, ScalerKind, TimeSeries};
///
/// let train = TimeSeries::from_rows(vec!["v".into()], &[vec![1.0], vec![3.0]])?;
/// let scaler = Scaler::fit(ScalerKind::Standard, &train);
/// assert_eq!(scaler.shift(), [2.0]);
/// assert_eq!(scaler.scale(), [1.0]);
/// assert_eq!(scaler.transform_value(0, 5.0), 3.0);
/// assert_eq!(scaler.inverse_value(0, 3.0), 5.0);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    kind: ScalerKind,
    shift: Vec<f64>,
    scale: Vec<f64>,
}

impl Scaler {
    /// Fits on every row of `train` (pass the training split only).
    pub fn fit(kind: ScalerKind, train: &TimeSeries) -> Self {
        let n = train.num_columns();
        let rows = train.len();
        let column = |c: usize| (0..rows).map(move |r| train.row(r)[c]);
        let (shift, scale) = match kind {
            ScalerKind::None => (vec![0.0; n], vec![1.0; n]),
            ScalerKind::Standard => (0..n)
                .map(|c| {
                    if rows == 0 {
                        return (0.0, 1.0);
                    }
                    let mean = column(c).sum::<f64>() / rows as f64;
                    let var = column(c).map(|x| (x - mean).powi(2)).sum::<f64>() / rows as f64;
                    let std = var.sqrt();
                    (mean, if std > 0.0 { std } else { 1.0 })
                })
                .unzip(),
            ScalerKind::MinMax => (0..n)
                .map(|c| {
                    if rows == 0 {
                        return (0.0, 1.0);
                    }
                    let min = column(c).fold(f64::INFINITY, f64::min);
                    let max = column(c).fold(f64::NEG_INFINITY, f64::max);
                    let range = max - min;
                    (min, if range > 0.0 { range } else { 1.0 })
                })
                .unzip(),
        };
        Self { kind, shift, scale }
    }

    /// The kind that was fitted.
    pub fn kind(&self) -> ScalerKind {
        self.kind
    }

    /// Per-column shift (mean or min).
    pub fn shift(&self) -> &[f64] {
        &self.shift
    }

    /// Per-column scale (std or range).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// The same scales with every shift 0: `y = x / scale` (for values already centred, such as
    /// per-window normalised ones).
    pub fn scale_only(mut self) -> Self {
        self.shift.iter_mut().for_each(|s| *s = 0.0);
        self
    }

    /// Scales one value of column `column`.
    pub fn transform_value(&self, column: usize, x: f64) -> f64 {
        (x - self.shift[column]) / self.scale[column]
    }

    /// Undoes [`Scaler::transform_value`].
    pub fn inverse_value(&self, column: usize, y: f64) -> f64 {
        y * self.scale[column] + self.shift[column]
    }

    /// Scales a whole series (same columns as the fitted one).
    pub fn transform(&self, series: &TimeSeries) -> TimeSeries {
        series.map_values(|c, x| self.transform_value(c, x))
    }

    /// Undoes [`Scaler::transform`].
    pub fn inverse(&self, series: &TimeSeries) -> TimeSeries {
        series.map_values(|c, y| self.inverse_value(c, y))
    }

    /// Undoes the scaling of model outputs laid out `[.., columns.len()]` (row-major), where
    /// `columns` are the series columns the last axis holds (e.g. the target columns).
    ///
    /// Errors (instead of a panic or a silent wrap-around): a column the scaler was not fitted
    /// on, no columns for non-empty values, or a length that is not a multiple of
    /// `columns.len()`.
    pub fn inverse_columns(&self, values: &[f32], columns: &[usize]) -> Result<Vec<f32>> {
        let fitted = self.shift.len();
        if let Some(&c) = columns.iter().find(|&&c| c >= fitted) {
            return Err(Error::Config {
                config: "Scaler::inverse_columns",
                field: "columns",
                reason: format!(
                    "column {c} was not fitted (the scaler has {fitted} columns; expected \
                     indices below {fitted})"
                ),
            });
        }
        // `is_multiple_of(0)` holds for 0 alone: no columns is fine only for no values.
        if !values.len().is_multiple_of(columns.len()) {
            return Err(Error::Config {
                config: "Scaler::inverse_columns",
                field: "values",
                reason: format!(
                    "{} values do not fill rows of {} columns; pass [.., columns.len()] values",
                    values.len(),
                    columns.len()
                ),
            });
        }
        Ok(values
            .iter()
            .zip(columns.iter().cycle())
            .map(|(&y, &c)| self.inverse_value(c, f64::from(y)) as f32)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> TimeSeries {
        TimeSeries::from_rows(
            vec!["a".into(), "flat".into()],
            &[vec![0.0, 5.0], vec![10.0, 5.0], vec![5.0, 5.0]],
        )
        .unwrap()
    }

    #[test]
    fn minmax_maps_training_range_to_unit_interval() {
        let s = series();
        let scaler = Scaler::fit(ScalerKind::MinMax, &s);
        let t = scaler.transform(&s);
        assert_eq!(t.column("a").unwrap(), vec![0.0, 1.0, 0.5]);
        assert_eq!(t.column("flat").unwrap(), vec![0.0, 0.0, 0.0]);
        assert_eq!(scaler.inverse(&t), s);
    }

    #[test]
    fn standard_has_zero_mean_unit_variance() {
        let s = series();
        let t = Scaler::fit(ScalerKind::Standard, &s).transform(&s);
        let a = t.column("a").unwrap();
        let mean = a.iter().sum::<f64>() / 3.0;
        let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12);
    }

    #[test]
    fn inverse_columns_uses_the_given_columns() {
        let scaler = Scaler::fit(ScalerKind::MinMax, &series());
        // Values for column "a" only: 0.5 → 5.
        assert_eq!(
            scaler.inverse_columns(&[0.5, 1.0], &[0]).unwrap(),
            vec![5.0, 10.0]
        );
    }

    /// Used to panic (column out of range, or `columns[i % 1]` on an empty list).
    #[test]
    fn inverse_columns_rejects_columns_and_lengths_that_do_not_fit() {
        let scaler = Scaler::fit(ScalerKind::MinMax, &series());
        let fitted = scaler.shift().len();
        let err = scaler.inverse_columns(&[0.5], &[fitted]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Scaler::inverse_columns: invalid columns: column"),
            "{err}"
        );
        assert!(scaler.inverse_columns(&[0.5], &[]).is_err());
        assert!(scaler.inverse_columns(&[0.5, 1.0, 2.0], &[0, 0]).is_err());
        assert_eq!(scaler.inverse_columns(&[], &[]).unwrap(), Vec::<f32>::new());
    }
}
