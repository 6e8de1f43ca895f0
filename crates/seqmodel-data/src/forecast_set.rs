//! Forecasting windows under a [`TargetTransform`]: every window origin of a series split
//! chronologically, the transform's scaler fitted on the training rows only.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scaler::ScalerKind;
use crate::series::TimeSeries;
use crate::split::SplitRatios;
use crate::transform::{FittedTransform, TargetTransform};
use crate::window::{Window, WindowConfig};

/// Which columns to forecast from which, over which windows, under which transform.
///
/// A window's *origin* `T` is its last observed row: inputs are rows `T - lookback + 1 ..= T`,
/// targets rows `T + 1 ..= T + horizon`. The usable origins (inputs from row
/// [`TargetTransform::first_row`] on, targets inside the series) are split chronologically
/// by `ratios`: the first `⌊train · n⌋` origins train, the next `⌊valid · n⌋` validate, the
/// rest test (as the PyTorch benchmark splits by the predicted day). The scaler is fitted on
/// the rows the training windows cover and nothing after.
///
/// ```
/// use seqmodel_data::*;
///
/// let rows: Vec<Vec<f64>> = (0..100).map(|t| vec![100.0 + t as f64]).collect();
/// let series = TimeSeries::from_rows(vec!["p".into()], &rows)?;
/// let set = ForecastSetConfig::new(WindowConfig::new(10, 2), ["p"])
///     .with_transform(TargetTransform::Diff)
///     .build(&series)?;
/// // Origins 10 ..= 97: 88 of them, 61 / 13 / 14.
/// assert_eq!((set.train.len(), set.valid.len(), set.test.len()), (61, 13, 14));
/// assert_eq!(set.origin(&set.valid[0]), 71);
/// assert_eq!(set.train_rows, 0..73);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastSetConfig {
    /// Window geometry (the stride thins the origins of every split).
    pub window: WindowConfig,
    /// Input columns by name; empty = the target columns.
    pub inputs: Vec<String>,
    /// Target columns by name (at least one).
    pub targets: Vec<String>,
    /// Chronological train/valid/test fractions of the origins.
    pub ratios: SplitRatios,
    /// What the model sees instead of the raw values.
    pub transform: TargetTransform,
    /// Scaler on the transformed values, fitted on the training rows.
    pub scaler: ScalerKind,
}

impl ForecastSetConfig {
    /// `targets` from themselves, 70/15/15, levels, standard scaling.
    pub fn new<I, S>(window: WindowConfig, targets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            window,
            inputs: Vec::new(),
            targets: targets.into_iter().map(Into::into).collect(),
            ratios: SplitRatios::checked_by_caller(0.7, 0.15, 0.15),
            transform: TargetTransform::Levels,
            scaler: ScalerKind::Standard,
        }
    }

    /// Sets the input columns.
    pub fn with_inputs<I, S>(mut self, inputs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.inputs = inputs.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the split fractions.
    pub fn with_ratios(mut self, ratios: SplitRatios) -> Self {
        self.ratios = ratios;
        self
    }

    /// Sets the transform.
    pub fn with_transform(mut self, transform: TargetTransform) -> Self {
        self.transform = transform;
        self
    }

    /// Sets the scaler.
    pub fn with_scaler(mut self, scaler: ScalerKind) -> Self {
        self.scaler = scaler;
        self
    }

    /// The input and target column indices in `series` (errors name the file and the
    /// missing column).
    pub fn columns(&self, series: &TimeSeries) -> Result<(Vec<usize>, Vec<usize>)> {
        if self.targets.is_empty() {
            return Err(Error::Config {
                config: "ForecastSetConfig",
                field: "targets",
                reason: "is empty; name at least one target column".into(),
            });
        }
        let find = |names: &[String]| -> Result<Vec<usize>> {
            names.iter().map(|c| series.column_index(c)).collect()
        };
        let targets = find(&self.targets)?;
        let inputs = if self.inputs.is_empty() {
            targets.clone()
        } else {
            find(&self.inputs)?
        };
        Ok((inputs, targets))
    }

    /// The usable origins of `series`: `first_row + lookback - 1 ..= len - horizon - 1`. A
    /// horizon as long as the series, or a series too short for one window, is an error naming
    /// the file.
    pub fn origins(&self, series: &TimeSeries) -> Result<Range<usize>> {
        self.window.validate()?;
        let n = series.len();
        let WindowConfig {
            lookback, horizon, ..
        } = self.window;
        if horizon >= n {
            return Err(Error::Config {
                config: "ForecastSetConfig",
                field: "horizon",
                reason: format!(
                    "{}: horizon {horizon} is longer than the series ({n} rows); choose a \
                     horizon well below {n}",
                    series.source().display()
                ),
            });
        }
        let extra = self.transform.first_row();
        let first = extra + lookback - 1;
        if first + horizon >= n {
            let longest = (n - horizon).saturating_sub(extra);
            return Err(Error::Config {
                config: "ForecastSetConfig",
                field: "lookback",
                reason: format!(
                    "{}: the series is too short for its window: lookback {lookback} + horizon \
                     {horizon}{} needs {} rows, but it has {n}; {}",
                    series.source().display(),
                    if extra > 0 {
                        format!(" + {extra} row for {}", self.transform)
                    } else {
                        String::new()
                    },
                    first + horizon + 1,
                    if longest > 0 {
                        format!("choose a lookback of at most {longest}")
                    } else {
                        "use a longer series".to_string()
                    }
                ),
            });
        }
        Ok(first..n - horizon)
    }

    /// Splits, fits and cuts the windows (inputs `[lookback, inputs]`, targets
    /// `[horizon, targets]`, scaled model values). Errors name the file: unknown columns, a
    /// horizon longer than the series, a split without a window, a log-return over a
    /// non-positive value.
    pub fn build(&self, series: &TimeSeries) -> Result<ForecastSet> {
        let (inputs, targets) = self.columns(series)?;
        let origins = self.origins(series)?;
        let count = origins.len();
        let n_train = (self.ratios.train() * count as f64) as usize;
        let n_valid = (self.ratios.valid() * count as f64) as usize;
        let (lo, a, b) = (
            origins.start,
            origins.start + n_train,
            origins.start + n_train + n_valid,
        );
        let blocks = [("train", lo..a), ("valid", a..b), ("test", b..origins.end)];
        if let Some((split, block)) = blocks.iter().find(|(_, r)| r.is_empty()) {
            return Err(Error::Config {
                config: "ForecastSetConfig",
                field: "ratios",
                reason: format!(
                    "{}: the {split} split has no window ({count} windows of lookback {} + \
                     horizon {} in {} rows, origins {block:?}); use a longer series or a \
                     shorter lookback",
                    series.source().display(),
                    self.window.lookback,
                    self.window.horizon,
                    series.len()
                ),
            });
        }
        let train_rows = 0..a - 1 + self.window.horizon + 1;
        let mut columns = inputs.clone();
        columns.extend(&targets);
        self.transform.check(series, &columns)?;
        let fitted = FittedTransform::fit(self.transform, self.scaler, series, train_rows.clone())?;
        let cut = |block: Range<usize>| -> Vec<Window> {
            block
                .step_by(self.window.stride)
                .map(|origin| window_at(&fitted, series, &self.window, &inputs, &targets, origin))
                .collect()
        };
        let [train, valid, test] = blocks.map(|(_, r)| cut(r));
        Ok(ForecastSet {
            train,
            valid,
            test,
            fitted,
            input_columns: inputs,
            target_columns: targets,
            window: self.window,
            train_rows,
        })
    }
}

/// The window with origin `origin`: scaled model values of the inputs and (where they exist,
/// else an empty list) the targets.
fn window_at(
    fitted: &FittedTransform,
    series: &TimeSeries,
    window: &WindowConfig,
    inputs: &[usize],
    targets: &[usize],
    origin: usize,
) -> Window {
    let start = origin + 1 - window.lookback;
    let end = origin + 1 + window.horizon;
    Window {
        inputs: fitted.encode(series, start..origin + 1, inputs, origin),
        targets: if end <= series.len() {
            fitted.encode(series, origin + 1..end, targets, origin)
        } else {
            Vec::new()
        },
        lookback: window.lookback,
        horizon: window.horizon,
        start,
    }
}

/// The result of [`ForecastSetConfig::build`].
#[derive(Debug, Clone)]
pub struct ForecastSet {
    /// Training windows, in time order.
    pub train: Vec<Window>,
    /// Validation windows.
    pub valid: Vec<Window>,
    /// Test windows.
    pub test: Vec<Window>,
    /// The transform with its scaler fitted on `train_rows`.
    pub fitted: FittedTransform,
    /// Input column indices.
    pub input_columns: Vec<usize>,
    /// Target column indices.
    pub target_columns: Vec<usize>,
    /// Window geometry.
    pub window: WindowConfig,
    /// The rows the scaler was fitted on (every row a training window covers).
    pub train_rows: Range<usize>,
}

impl ForecastSet {
    /// A window's origin (last observed row).
    pub fn origin(&self, window: &Window) -> usize {
        window.start + window.lookback - 1
    }

    /// The window for forecasting past the end of `series` (origin = last row, no targets):
    /// what `predict` feeds the model. `series` must have the columns the set was built on.
    pub fn last_window(&self, series: &TimeSeries) -> Result<Window> {
        let n = series.len();
        let need = self.window.lookback + self.fitted.transform().first_row();
        if n < need {
            return Err(Error::WindowTooLong {
                what: series.source().display().to_string(),
                lookback: self.window.lookback,
                horizon: 0,
                series_len: n,
            });
        }
        let mut columns = self.input_columns.clone();
        columns.extend(&self.target_columns);
        self.fitted.transform().check(series, &columns)?;
        Ok(self.window_at(series, n - 1))
    }

    /// The window of `series` with origin `origin` under this set's transform and columns
    /// (targets empty where they would pass the end): for scoring a run on another series
    /// whose origins come from [`ForecastSetConfig::origins`].
    ///
    /// # Panics
    /// If the inputs start before row [`TargetTransform::first_row`] or a column is outside
    /// the series.
    pub fn window_at(&self, series: &TimeSeries, origin: usize) -> Window {
        window_at(
            &self.fitted,
            series,
            &self.window,
            &self.input_columns,
            &self.target_columns,
            origin,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ramp(n: usize) -> TimeSeries {
        let rows: Vec<Vec<f64>> = (0..n).map(|t| vec![1.0 + t as f64, 5.0]).collect();
        TimeSeries::from_rows(vec!["a".into(), "b".into()], &rows).unwrap()
    }

    /// The PyTorch benchmark's DAX split: 1,860 rows, lookback 30, log-returns → train
    /// predicts days 31..=1310 (1,280 windows), valid 1311..=1584 (274), test 1585..=1859
    /// (275); the scaler sees rows 0..=1310.
    #[test]
    fn matches_the_pytorch_dax_split() {
        let set = ForecastSetConfig::new(WindowConfig::new(30, 1), ["a"])
            .with_transform(TargetTransform::LogReturn)
            .with_scaler(ScalerKind::MinMax)
            .build(&ramp(1860))
            .unwrap();
        assert_eq!(
            (set.train.len(), set.valid.len(), set.test.len()),
            (1280, 274, 275)
        );
        assert_eq!(set.origin(&set.train[0]) + 1, 31);
        assert_eq!(set.origin(&set.valid[0]) + 1, 1311);
        assert_eq!(set.origin(&set.test[274]) + 1, 1859);
        assert_eq!(set.train_rows, 0..1311);
    }

    #[test]
    fn bad_geometry_names_the_file() {
        let s = ramp(20);
        let err = ForecastSetConfig::new(WindowConfig::new(3, 25), ["a"])
            .build(&s)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ForecastSetConfig: invalid horizon: <rows>: horizon 25 is longer than the series \
             (20 rows); choose a horizon well below 20"
        );
        let err = ForecastSetConfig::new(WindowConfig::new(18, 2), ["a"])
            .with_transform(TargetTransform::Diff)
            .build(&s)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ForecastSetConfig: invalid lookback: <rows>: the series is too short for its \
             window: lookback 18 + horizon 2 + 1 row for diff needs 21 rows, but it has 20; \
             choose a lookback of at most 17"
        );
        let err = ForecastSetConfig::new(WindowConfig::new(15, 2), ["a"])
            .build(&s)
            .unwrap_err();
        assert!(err.to_string().contains("split has no window"), "{err}");
        let err = ForecastSetConfig::new(WindowConfig::new(3, 1), ["zz"])
            .build(&s)
            .unwrap_err();
        assert!(matches!(err, Error::MissingColumn { .. }));
    }

    #[test]
    fn last_window_forecasts_past_the_end() {
        let s = ramp(50);
        let set = ForecastSetConfig::new(WindowConfig::new(4, 2), ["a"])
            .with_transform(TargetTransform::WindowNorm)
            .with_scaler(ScalerKind::None)
            .build(&s)
            .unwrap();
        let w = set.last_window(&s).unwrap();
        assert_eq!(set.origin(&w), 49);
        assert_eq!(w.inputs, vec![-3.0, -2.0, -1.0, 0.0]);
        assert!(w.targets.is_empty());
        let back = set
            .fitted
            .decode(&s, &[1.0, 2.0], &set.target_columns, 49)
            .unwrap();
        assert_eq!(back, vec![51.0, 52.0]);
    }

    proptest! {
        /// Values after the training rows never change the fitted transform.
        #[test]
        fn scaler_sees_only_training_rows(
            head in prop::collection::vec(1.0f64..1e3, 75),
            tail_a in prop::collection::vec(1.0f64..1e6, 25),
            tail_b in prop::collection::vec(1.0f64..1e6, 25),
            which in 0usize..4,
        ) {
            let transform = TargetTransform::ALL[which];
            let build = |tail: &[f64]| {
                let rows: Vec<Vec<f64>> = head.iter().chain(tail).map(|&v| vec![v]).collect();
                let s = TimeSeries::from_rows(vec!["v".into()], &rows).unwrap();
                ForecastSetConfig::new(WindowConfig::new(5, 2), ["v"])
                    .with_transform(transform)
                    .build(&s)
                    .unwrap()
            };
            let (a, b) = (build(&tail_a), build(&tail_b));
            prop_assert!(a.train_rows.end <= 75, "training rows reach {}", a.train_rows.end);
            prop_assert_eq!(a.fitted, b.fitted, "{} scaler saw non-training rows", transform);
        }
    }
}
