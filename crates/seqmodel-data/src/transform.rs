//! Target transforms for forecasting: what a model sees instead of the raw levels, and how its
//! outputs go back to original units given the window's history.
//!
//! With `x_t` a column's raw value at row `t` and `T` a window's last observed row (its
//! *origin*), a window's inputs are rows `T - lookback + 1 ..= T` and its targets rows
//! `T + 1 ..= T + horizon`. Each transform turns a raw value into a model value `y_t`, which a
//! [`Scaler`] fitted on the **training rows only** then scales:
//!
//! | transform | `y_t` | back to `x_{T+h}` | first usable row |
//! |---|---|---|---|
//! | [`TargetTransform::Levels`] | `x_t` | `y_{T+h}` | 0 |
//! | [`TargetTransform::Diff`] | `x_t - x_{t-1}` | `x_T + Σ_{k≤h} y_{T+k}` | 1 |
//! | [`TargetTransform::LogReturn`] | `ln(x_t / x_{t-1})` (needs `x > 0`) | `x_T · exp(Σ_{k≤h} y_{T+k})` | 1 |
//! | [`TargetTransform::WindowNorm`] | `x_t - x_T` (the window's own last value) | `x_T + y_{T+h}` | 0 |
//!
//! For `window_norm` the scaler only divides (by the training rows' spread of one-step changes,
//! fitted like the others): subtracting the window's last value already centres every window,
//! so a series that leaves its training range (the DAX) still looks familiar to the model.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scaler::{Scaler, ScalerKind};
use crate::series::TimeSeries;

/// How raw values become model values (see the module documentation for the formulas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetTransform {
    /// The raw values.
    #[default]
    Levels,
    /// One-step differences `x_t - x_{t-1}`.
    Diff,
    /// Log-returns `ln(x_t / x_{t-1})`; every value must be positive.
    LogReturn,
    /// Per-window normalisation: `x_t - x_T`, `T` the window's last observed row.
    WindowNorm,
}

impl TargetTransform {
    /// Every transform, in declaration order.
    pub const ALL: &[TargetTransform] = &[
        TargetTransform::Levels,
        TargetTransform::Diff,
        TargetTransform::LogReturn,
        TargetTransform::WindowNorm,
    ];

    /// The configuration name (`"log-return"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Levels => "levels",
            Self::Diff => "diff",
            Self::LogReturn => "log-return",
            Self::WindowNorm => "window-norm",
        }
    }

    /// The first row with a model value: 1 for transforms that look one row back, else 0.
    pub fn first_row(self) -> usize {
        match self {
            Self::Diff | Self::LogReturn => 1,
            Self::Levels | Self::WindowNorm => 0,
        }
    }

    /// The row-wise part of the transform at row `t` (`t >= first_row()`) of column `c`:
    /// levels for `levels` and `window_norm`, the difference or log-return otherwise.
    fn step(self, series: &TimeSeries, t: usize, c: usize) -> f64 {
        let x = series.row(t)[c];
        match self {
            Self::Levels | Self::WindowNorm => x,
            Self::Diff => x - series.row(t - 1)[c],
            Self::LogReturn => (x / series.row(t - 1)[c]).ln(),
        }
    }

    /// Checks that the transform is defined on `columns` of `series`: log-returns need every
    /// value positive. The error names the file, the row's index label and the fix.
    pub fn check(self, series: &TimeSeries, columns: &[usize]) -> Result<()> {
        if self != Self::LogReturn {
            return Ok(());
        }
        for t in 0..series.len() {
            for &c in columns {
                let x = series.row(t)[c];
                if x <= 0.0 {
                    return Err(Error::Config {
                        config: "TargetTransform",
                        field: "log-return",
                        reason: format!(
                            "{}: column \"{}\" at index \"{}\" (row {}) is {x}; log-returns need \
                             positive values: choose --transform diff or levels",
                            series.source().display(),
                            series.columns()[c],
                            series.index()[t],
                            t + 1
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for TargetTransform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TargetTransform {
    type Err = Error;

    /// The transform named `name` ([`TargetTransform::name`]; `_` and `-` are the same).
    fn from_str(name: &str) -> Result<Self> {
        let wanted = name.replace('_', "-");
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.name() == wanted)
            .ok_or_else(|| Error::Config {
                config: "TargetTransform",
                field: "name",
                reason: format!(
                    "unknown transform \"{name}\"; expected one of {}",
                    Self::ALL
                        .iter()
                        .map(|t| t.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}

/// A [`TargetTransform`] with its [`Scaler`] fitted on the training rows: turns raw windows
/// into model values and model outputs back into original units.
///
/// ```
/// use seqmodel_data::{FittedTransform, ScalerKind, TargetTransform, TimeSeries};
///
/// let rows: Vec<Vec<f64>> = [100.0, 110.0, 121.0, 133.1].iter().map(|&x| vec![x]).collect();
/// let series = TimeSeries::from_rows(vec!["p".into()], &rows)?;
/// let fitted = FittedTransform::fit(TargetTransform::LogReturn, ScalerKind::None, &series, 0..4)?;
/// // Origin 2 (x_T = 121): the next step's model value is ln(1.1).
/// let y = fitted.encode(&series, 3..4, &[0], 2);
/// assert!((y[0] - 1.1f32.ln()).abs() < 1e-6);
/// // And back: 121 · exp(ln 1.1) = 133.1.
/// let x = fitted.decode(&series, &y, &[0], 2)?;
/// assert!((x[0] - 133.1).abs() < 1e-3);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedTransform {
    transform: TargetTransform,
    scaler: Scaler,
}

impl FittedTransform {
    /// Fits the scaler on the model values of `train_rows` alone (rows before
    /// [`TargetTransform::first_row`] are skipped). For `window_norm` the scaler is fitted on
    /// the one-step differences of those rows and only divides (its shift is dropped).
    ///
    /// Errors: `train_rows` outside the series, or too short to hold one model value; a
    /// log-return over a non-positive value ([`TargetTransform::check`]).
    pub fn fit(
        transform: TargetTransform,
        kind: ScalerKind,
        series: &TimeSeries,
        train_rows: Range<usize>,
    ) -> Result<Self> {
        let columns: Vec<usize> = (0..series.num_columns()).collect();
        transform.check(series, &columns)?;
        let lookback_one = matches!(transform, TargetTransform::WindowNorm);
        let first = train_rows
            .start
            .max(transform.first_row())
            .max(usize::from(lookback_one));
        if train_rows.end > series.len() || first >= train_rows.end {
            return Err(Error::Config {
                config: "FittedTransform::fit",
                field: "train_rows",
                reason: format!(
                    "{}: training rows {train_rows:?} of {} rows hold no {} value; give the \
                     training split more rows",
                    series.source().display(),
                    series.len(),
                    transform.name()
                ),
            });
        }
        let rows: Vec<Vec<f64>> = (first..train_rows.end)
            .map(|t| {
                columns
                    .iter()
                    .map(|&c| match transform {
                        TargetTransform::WindowNorm => series.row(t)[c] - series.row(t - 1)[c],
                        _ => transform.step(series, t, c),
                    })
                    .collect()
            })
            .collect();
        let values = TimeSeries::from_rows(series.columns().to_vec(), &rows)?;
        let mut scaler = Scaler::fit(kind, &values);
        if lookback_one {
            scaler = scaler.scale_only();
        }
        Ok(Self { transform, scaler })
    }

    /// The transform.
    pub fn transform(&self) -> TargetTransform {
        self.transform
    }

    /// The scaler (over every column of the series, in model-value space).
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }

    /// Scaled model values of `rows × columns` for a window whose origin (last observed row)
    /// is `origin`, row-major `[rows.len(), columns.len()]`.
    ///
    /// # Panics
    /// If a row or column is outside the series, or `rows.start < first_row()` (callers build
    /// windows with [`ForecastSetConfig`](crate::ForecastSetConfig), which checks both).
    pub fn encode(
        &self,
        series: &TimeSeries,
        rows: Range<usize>,
        columns: &[usize],
        origin: usize,
    ) -> Vec<f32> {
        rows.flat_map(|t| {
            columns.iter().map(move |&c| {
                let y = match self.transform {
                    TargetTransform::WindowNorm => series.row(t)[c] - series.row(origin)[c],
                    other => other.step(series, t, c),
                };
                self.scaler.transform_value(c, y) as f32
            })
        })
        .collect()
    }

    /// Model outputs `[horizon, columns.len()]` (row-major) for the window with origin
    /// `origin` back in original units, same layout: `x_{origin+h}` for `h = 1..=horizon`.
    /// Only rows up to `origin` are read (the history), so this works past the series' end.
    ///
    /// Errors: a length that is not a multiple of `columns.len()`, or a column the scaler was
    /// not fitted on.
    pub fn decode(
        &self,
        series: &TimeSeries,
        values: &[f32],
        columns: &[usize],
        origin: usize,
    ) -> Result<Vec<f64>> {
        let unscaled = self.scaler.inverse_columns(values, columns)?;
        let n = columns.len();
        let mut out = Vec::with_capacity(unscaled.len());
        let mut running = vec![0.0f64; n];
        for (i, &y) in unscaled.iter().enumerate() {
            let k = i % n;
            let last = series.row(origin)[columns[k]];
            let y = f64::from(y);
            out.push(match self.transform {
                TargetTransform::Levels => y,
                TargetTransform::WindowNorm => last + y,
                TargetTransform::Diff => {
                    running[k] += y;
                    last + running[k]
                }
                TargetTransform::LogReturn => {
                    running[k] += y;
                    last * running[k].exp()
                }
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn series(values: &[f64]) -> TimeSeries {
        let rows: Vec<Vec<f64>> = values.iter().map(|&v| vec![v, 2.0 * v + 1.0]).collect();
        TimeSeries::from_rows(vec!["a".into(), "b".into()], &rows).unwrap()
    }

    #[test]
    fn names_round_trip() {
        for &t in TargetTransform::ALL {
            assert_eq!(t.name().parse::<TargetTransform>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.name()));
        }
        assert_eq!(
            "log_return".parse::<TargetTransform>().unwrap(),
            TargetTransform::LogReturn
        );
        let err = "ratio".parse::<TargetTransform>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "TargetTransform: invalid name: unknown transform \"ratio\"; expected one of levels, \
             diff, log-return, window-norm"
        );
    }

    /// Diff without scaling, by hand: series 1, 3, 6, 10; origin 1 (x = 3); targets rows 2, 3
    /// are differences 3 and 4; decoding cumulates them back onto 3: 6 and 10.
    #[test]
    fn diff_by_hand() {
        let s = series(&[1.0, 3.0, 6.0, 10.0]);
        let f = FittedTransform::fit(TargetTransform::Diff, ScalerKind::None, &s, 0..4).unwrap();
        let y = f.encode(&s, 2..4, &[0], 1);
        assert_eq!(y, vec![3.0, 4.0]);
        assert_eq!(f.decode(&s, &y, &[0], 1).unwrap(), vec![6.0, 10.0]);
    }

    /// Window-norm subtracts the window's last value: inputs rows 0..=2 of 5, 7, 4 around
    /// origin 2 are 1, 3, 0; the scaler (fitted on differences 2, -3) only divides.
    #[test]
    fn window_norm_by_hand() {
        let s = series(&[5.0, 7.0, 4.0, 8.0]);
        let f =
            FittedTransform::fit(TargetTransform::WindowNorm, ScalerKind::None, &s, 0..3).unwrap();
        assert_eq!(f.encode(&s, 0..3, &[0], 2), vec![1.0, 3.0, 0.0]);
        assert_eq!(f.encode(&s, 3..4, &[0], 2), vec![4.0]);
        let std = Scaler::fit(
            ScalerKind::Standard,
            &TimeSeries::from_rows(vec!["d".into()], &[vec![2.0], vec![-3.0]]).unwrap(),
        );
        let g = FittedTransform::fit(TargetTransform::WindowNorm, ScalerKind::Standard, &s, 0..3)
            .unwrap();
        assert_eq!(g.scaler().shift()[0], 0.0);
        assert_eq!(g.scaler().scale()[0], std.scale()[0]);
    }

    #[test]
    fn log_return_refuses_non_positive_values() {
        let s = series(&[5.0, 0.0, 4.0]);
        let err = FittedTransform::fit(TargetTransform::LogReturn, ScalerKind::None, &s, 0..3)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "TargetTransform: invalid log-return: <rows>: column \"a\" at index \"1\" (row 2) is \
             0; log-returns need positive values: choose --transform diff or levels"
        );
    }

    #[test]
    fn too_few_training_rows_is_an_error() {
        let s = series(&[5.0, 6.0, 4.0]);
        assert!(FittedTransform::fit(TargetTransform::Diff, ScalerKind::None, &s, 0..1).is_err());
        assert!(FittedTransform::fit(TargetTransform::Levels, ScalerKind::None, &s, 0..4).is_err());
    }

    proptest! {
        /// encode → decode is the identity on the targets, for every transform and scaler.
        #[test]
        fn encode_then_decode_is_identity(
            values in prop::collection::vec(0.5f64..1e4, 8..40),
            which in 0usize..4,
            kind in 0usize..3,
            origin_frac in 0.0f64..1.0,
            horizon in 1usize..4,
        ) {
            let transform = TargetTransform::ALL[which];
            let kind = [ScalerKind::None, ScalerKind::Standard, ScalerKind::MinMax][kind];
            let s = series(&values);
            let n = values.len();
            let f = FittedTransform::fit(transform, kind, &s, 0..n / 2).unwrap();
            let lo = 1;
            let hi = n - horizon - 1;
            let origin = lo + ((hi - lo) as f64 * origin_frac) as usize;
            let rows = origin + 1..origin + 1 + horizon;
            let y = f.encode(&s, rows.clone(), &[0, 1], origin);
            let back = f.decode(&s, &y, &[0, 1], origin).unwrap();
            for (i, t) in rows.enumerate() {
                for (k, &c) in [0usize, 1].iter().enumerate() {
                    let want = s.row(t)[c];
                    let got = back[i * 2 + k];
                    prop_assert!(
                        (got - want).abs() <= 1e-3 * want.abs().max(1.0),
                        "{transform}: row {t} col {c}: decoded {got}, raw {want}"
                    );
                }
            }
        }

        /// The scaler depends on the training rows alone: changing later rows changes nothing.
        #[test]
        fn scaler_sees_only_training_rows(
            train in prop::collection::vec(0.5f64..1e3, 10),
            rest_a in prop::collection::vec(0.5f64..1e6, 10),
            rest_b in prop::collection::vec(0.5f64..1e6, 10),
            which in 0usize..4,
        ) {
            let transform = TargetTransform::ALL[which];
            let fit = |rest: &[f64]| {
                let all: Vec<f64> = train.iter().chain(rest).copied().collect();
                FittedTransform::fit(transform, ScalerKind::Standard, &series(&all), 0..10).unwrap()
            };
            prop_assert_eq!(fit(&rest_a), fit(&rest_b), "{} scaler saw non-training rows", transform);
        }
    }
}
