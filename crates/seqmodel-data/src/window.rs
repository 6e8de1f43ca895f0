//! Sliding windows over a time series (lookback → horizon), chronological splits that never
//! let a window cross a split boundary, and a batcher to `[batch, time, features]` tensors.

use std::ops::Range;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::bounds::{get_each, out_of_bounds};
use crate::error::{Error, Result};
use crate::scaler::{Scaler, ScalerKind};
use crate::series::TimeSeries;
use crate::split::{Split, SplitRatios};

/// Window geometry: `lookback` input steps, then `horizon` target steps; consecutive windows
/// start `stride` steps apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowConfig {
    /// Input steps (at least 1).
    pub lookback: usize,
    /// Target steps (at least 1).
    pub horizon: usize,
    /// Steps between window starts (at least 1).
    pub stride: usize,
}

impl WindowConfig {
    /// Windows with stride 1.
    pub fn new(lookback: usize, horizon: usize) -> Self {
        Self {
            lookback,
            horizon,
            stride: 1,
        }
    }

    /// Sets the stride.
    pub fn with_stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// Rejects a zero `lookback`, `horizon` or `stride` with an [`Error::Config`] naming
    /// `WindowConfig` and the field.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("lookback", self.lookback),
            ("horizon", self.horizon),
            ("stride", self.stride),
        ] {
            if value == 0 {
                return Err(Error::Config {
                    config: "WindowConfig",
                    field,
                    reason: "is 0; set it to at least 1".into(),
                });
            }
        }
        Ok(())
    }

    /// Rows one window covers.
    pub fn span(&self) -> usize {
        self.lookback + self.horizon
    }

    /// Number of windows in `n` rows: `⌊(n − lookback − horizon) / stride⌋ + 1`; a series
    /// shorter than one window is an [`Error::WindowTooLong`] (`what` names it).
    ///
    /// ```
    /// use seqmodel_data::WindowConfig;
    ///
    /// assert_eq!(WindowConfig::new(3, 2).with_stride(2).num_windows(10, "s")?, 3);
    /// assert!(WindowConfig::new(8, 3).num_windows(10, "s").is_err());
    /// # Ok::<(), seqmodel_data::Error>(())
    /// ```
    pub fn num_windows(&self, n: usize, what: &str) -> Result<usize> {
        self.validate()?;
        if n < self.span() {
            return Err(Error::WindowTooLong {
                what: what.to_string(),
                lookback: self.lookback,
                horizon: self.horizon,
                series_len: n,
            });
        }
        Ok((n - self.span()) / self.stride + 1)
    }
}

/// One window: inputs `[lookback, n_inputs]` and targets `[horizon, n_targets]`, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Input values, `lookback * n_inputs`.
    pub inputs: Vec<f32>,
    /// Target values, `horizon * n_targets`.
    pub targets: Vec<f32>,
    /// Input steps.
    pub lookback: usize,
    /// Target steps.
    pub horizon: usize,
    /// Row of the series where the window starts.
    pub start: usize,
}

/// Which part of a series a [`WindowDataset`] cuts into windows.
///
/// Every field is named (set them with the `with_*` methods or a struct literal), so two column
/// lists or a row range cannot be passed in each other's place. [`WindowDatasetConfig::init`]
/// checks it against the series.
///
/// ```
/// use std::sync::Arc;
/// use burn::data::dataset::Dataset;
/// use seqmodel_data::{TimeSeries, WindowConfig, WindowDatasetConfig};
///
/// let rows: Vec<Vec<f64>> = (0..10).map(|t| vec![t as f64, 100.0 + t as f64]).collect();
/// let series = Arc::new(TimeSeries::from_rows(vec!["a".into(), "b".into()], &rows)?);
/// // Windows over rows 2..10: 3 input steps of both columns, then 1 target step of column b.
/// let windows = WindowDatasetConfig::new(WindowConfig::new(3, 1), [1])
///     .with_inputs([0, 1])
///     .with_rows(2..10)
///     .init(Arc::clone(&series))?;
/// assert_eq!(windows.len(), 8 - 4 + 1);
/// assert_eq!(windows.window(0).targets, vec![105.0]);
///
/// // A series shorter than one window is an error naming the series.
/// let err = WindowDatasetConfig::new(WindowConfig::new(8, 3), [1])
///     .with_name("ramp")
///     .init(series)
///     .unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "ramp: a window of lookback 8 + horizon 3 needs 11 rows, but the series has 10"
/// );
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowDatasetConfig {
    /// Window geometry.
    pub window: WindowConfig,
    /// Target column indices (into the series' columns; at least one).
    pub targets: Vec<usize>,
    /// Input column indices; empty = every column of the series.
    pub inputs: Vec<usize>,
    /// Rows to cut into windows; `None` = every row. An empty range gives an empty dataset.
    pub rows: Option<Range<usize>>,
    /// What errors call the series (e.g. `"sunspots.csv (train split)"`); `None` = the file the
    /// series was read from ([`TimeSeries::source`]).
    pub name: Option<String>,
}

impl WindowDatasetConfig {
    /// Windows of geometry `window` predicting the columns `targets` from every column, over
    /// every row.
    pub fn new(window: WindowConfig, targets: impl IntoIterator<Item = usize>) -> Self {
        Self {
            window,
            targets: targets.into_iter().collect(),
            inputs: Vec::new(),
            rows: None,
            name: None,
        }
    }

    /// Reads only these input columns.
    pub fn with_inputs(mut self, inputs: impl IntoIterator<Item = usize>) -> Self {
        self.inputs = inputs.into_iter().collect();
        self
    }

    /// Cuts only these rows.
    pub fn with_rows(mut self, rows: Range<usize>) -> Self {
        self.rows = Some(rows);
        self
    }

    /// Names the series in errors.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Checks what can be checked without the series: the window geometry
    /// ([`WindowConfig::validate`]) and that there is a target column.
    pub fn validate(&self) -> Result<()> {
        self.window.validate()?;
        if self.targets.is_empty() {
            return Err(Error::Config {
                config: "WindowDatasetConfig",
                field: "targets",
                reason: "is empty; name at least one target column".into(),
            });
        }
        Ok(())
    }

    /// The windows of `series`. Errors (each naming `WindowDatasetConfig` and the field, or the
    /// series): an invalid configuration ([`WindowDatasetConfig::validate`]), a column or row
    /// range outside the series, and a non-empty row range shorter than one window
    /// ([`Error::WindowTooLong`]).
    pub fn init(&self, series: Arc<TimeSeries>) -> Result<WindowDataset> {
        self.validate()?;
        let name = match &self.name {
            Some(name) => name.clone(),
            None => series.source().display().to_string(),
        };
        let columns = series.num_columns();
        for (field, list) in [("targets", &self.targets), ("inputs", &self.inputs)] {
            if let Some(&c) = list.iter().find(|&&c| c >= columns) {
                return Err(Error::Config {
                    config: "WindowDatasetConfig",
                    field,
                    reason: format!(
                        "column {c} does not exist in {name}, which has {columns} columns \
                         (expected indices below {columns})"
                    ),
                });
            }
        }
        let inputs = if self.inputs.is_empty() {
            (0..columns).collect()
        } else {
            self.inputs.clone()
        };
        let rows = self.rows.clone().unwrap_or(0..series.len());
        if rows.start > rows.end || rows.end > series.len() {
            return Err(Error::Config {
                config: "WindowDatasetConfig",
                field: "rows",
                reason: format!(
                    "{rows:?} is not inside the {} rows of {name} (expected start <= end <= {})",
                    series.len(),
                    series.len()
                ),
            });
        }
        let len = if rows.is_empty() {
            0
        } else {
            self.window.num_windows(rows.len(), &name)?
        };
        Ok(WindowDataset {
            series,
            rows,
            inputs,
            targets: self.targets.clone(),
            config: self.window,
            len,
        })
    }
}

/// The windows of one contiguous block of rows of a (scaled) series; built by
/// [`WindowDatasetConfig::init`].
#[derive(Debug, Clone)]
pub struct WindowDataset {
    series: Arc<TimeSeries>,
    rows: Range<usize>,
    inputs: Vec<usize>,
    targets: Vec<usize>,
    config: WindowConfig,
    len: usize,
}

impl WindowDataset {
    /// The window geometry.
    pub fn config(&self) -> WindowConfig {
        self.config
    }

    /// Rows of the segment.
    pub fn rows(&self) -> Range<usize> {
        self.rows.clone()
    }

    /// Input column indices.
    pub fn input_columns(&self) -> &[usize] {
        &self.inputs
    }

    /// Target column indices.
    pub fn target_columns(&self) -> &[usize] {
        &self.targets
    }

    /// The `i`-th window. [`Dataset::get`] is the checked form.
    ///
    /// # Panics
    ///
    /// If `i >= len()`, like slice indexing.
    pub fn window(&self, i: usize) -> Window {
        assert!(
            i < self.len,
            "window {i} of a WindowDataset with {} windows",
            self.len
        );
        let start = self.rows.start + i * self.config.stride;
        let gather = |rows: Range<usize>, cols: &[usize]| -> Vec<f32> {
            rows.flat_map(|r| {
                let row = self.series.row(r);
                cols.iter().map(move |&c| row[c] as f32)
            })
            .collect()
        };
        let split = start + self.config.lookback;
        Window {
            inputs: gather(start..split, &self.inputs),
            targets: gather(split..split + self.config.horizon, &self.targets),
            lookback: self.config.lookback,
            horizon: self.config.horizon,
            start,
        }
    }
}

impl Dataset<Window> for WindowDataset {
    /// The window at `index`; past the end, an [`Error::IndexOutOfBounds`] inside the
    /// `DatasetError`.
    fn get(&self, index: usize) -> std::result::Result<Window, DatasetError> {
        if index >= self.len {
            return Err(out_of_bounds("WindowDataset", index, self.len));
        }
        Ok(self.window(index))
    }

    fn get_many(&self, indexes: Vec<usize>) -> std::result::Result<Vec<Window>, DatasetError> {
        get_each(self, indexes)
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// A batch of windows.
#[derive(Debug, Clone)]
pub struct WindowBatch {
    /// Inputs, `[batch, lookback, n_inputs]`.
    pub inputs: Tensor<3>,
    /// Targets, `[batch, horizon, n_targets]`.
    pub targets: Tensor<3>,
    /// Row where each window starts, `[batch]`.
    pub starts: Vec<usize>,
}

/// Stacks [`Window`]s into tensors (all windows of a batch share one geometry).
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowBatcher;

impl Batcher<Window, WindowBatch> for WindowBatcher {
    fn batch(&self, items: Vec<Window>, device: &Device) -> WindowBatch {
        let batch = items.len();
        let (lookback, horizon) = items.first().map_or((1, 1), |w| (w.lookback, w.horizon));
        let n_in = items
            .first()
            .map_or(0, |w| w.inputs.len() / lookback.max(1));
        let n_out = items
            .first()
            .map_or(0, |w| w.targets.len() / horizon.max(1));
        let mut inputs = Vec::with_capacity(batch * lookback * n_in);
        let mut targets = Vec::with_capacity(batch * horizon * n_out);
        let mut starts = Vec::with_capacity(batch);
        for w in &items {
            inputs.extend_from_slice(&w.inputs);
            targets.extend_from_slice(&w.targets);
            starts.push(w.start);
        }
        WindowBatch {
            inputs: Tensor::from_data(TensorData::new(inputs, [batch, lookback, n_in]), device),
            targets: Tensor::from_data(TensorData::new(targets, [batch, horizon, n_out]), device),
            starts,
        }
    }
}

/// Everything a forecasting task needs from a series: columns, windows, split and scaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastConfig {
    /// Window geometry.
    pub window: WindowConfig,
    /// Input columns by name; empty = every column.
    pub inputs: Vec<String>,
    /// Target columns by name (at least one).
    pub targets: Vec<String>,
    /// Chronological train/valid/test fractions.
    pub ratios: SplitRatios,
    /// Scaler fitted on the training rows only.
    pub scaler: ScalerKind,
}

impl ForecastConfig {
    /// Forecast `targets` from every column, 70/15/15, standard scaling.
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

    /// Sets the scaler.
    pub fn with_scaler(mut self, scaler: ScalerKind) -> Self {
        self.scaler = scaler;
        self
    }

    /// Splits `series` chronologically, fits the scaler on the training rows alone, scales the
    /// whole series with it and builds the windows of each split inside its own rows.
    ///
    /// ```
    /// use burn::data::dataset::Dataset;
    /// use seqmodel_data::*;
    ///
    /// let rows: Vec<Vec<f64>> = (0..100).map(|t| vec![t as f64, (t * 2) as f64]).collect();
    /// let series = TimeSeries::from_rows(vec!["x".into(), "y".into()], &rows)?;
    /// let data = ForecastConfig::new(WindowConfig::new(5, 1), ["y"])
    ///     .with_ratios(SplitRatios::new(0.8, 0.1, 0.1)?)
    ///     .build(&series)?;
    /// assert_eq!(data.train.len(), 80 - 6 + 1);
    /// assert_eq!(data.valid.rows(), 80..90);
    /// assert_eq!(data.test.len(), 10 - 6 + 1);
    /// # Ok::<(), seqmodel_data::Error>(())
    /// ```
    pub fn build(&self, series: &TimeSeries) -> Result<ForecastData> {
        self.window.validate()?;
        if self.targets.is_empty() {
            return Err(Error::Config {
                config: "ForecastConfig",
                field: "targets",
                reason: "is empty; name at least one target column".into(),
            });
        }
        let inputs: Vec<usize> = if self.inputs.is_empty() {
            (0..series.num_columns()).collect()
        } else {
            self.inputs
                .iter()
                .map(|c| series.column_index(c))
                .collect::<Result<_>>()?
        };
        let targets: Vec<usize> = self
            .targets
            .iter()
            .map(|c| series.column_index(c))
            .collect::<Result<_>>()?;
        let split = Split::chronological(series.len(), self.ratios);
        let range = |idx: &[usize]| match (idx.first(), idx.last()) {
            (Some(&a), Some(&b)) => a..b + 1,
            _ => 0..0,
        };
        let (train, valid, test) = (range(&split.train), range(&split.valid), range(&split.test));
        let scaler = Scaler::fit(self.scaler, &series.slice(train.clone()));
        let scaled = Arc::new(scaler.transform(series));
        let make = |rows: Range<usize>, split: &str| {
            WindowDatasetConfig {
                window: self.window,
                targets: targets.clone(),
                inputs: inputs.clone(),
                rows: Some(rows),
                name: Some(format!("{} ({split} split)", series.source().display())),
            }
            .init(Arc::clone(&scaled))
        };
        Ok(ForecastData {
            train: make(train, "train")?,
            valid: make(valid, "valid")?,
            test: make(test, "test")?,
            scaler,
            input_columns: inputs.clone(),
            target_columns: targets.clone(),
        })
    }
}

/// The result of [`ForecastConfig::build`].
#[derive(Debug, Clone)]
pub struct ForecastData {
    /// Training windows (inside the first block of rows).
    pub train: WindowDataset,
    /// Validation windows (inside the middle block).
    pub valid: WindowDataset,
    /// Test windows (inside the last block).
    pub test: WindowDataset,
    /// The scaler fitted on the training rows; use [`Scaler::inverse_columns`] with
    /// `target_columns` to report predictions in original units.
    pub scaler: Scaler,
    /// Input column indices.
    pub input_columns: Vec<usize>,
    /// Target column indices.
    pub target_columns: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::testing::assert_get_past_end_is_an_error;
    use proptest::prelude::*;

    fn ramp(n: usize) -> TimeSeries {
        let rows: Vec<Vec<f64>> = (0..n).map(|t| vec![t as f64, 100.0 + t as f64]).collect();
        TimeSeries::from_rows(vec!["a".into(), "b".into()], &rows).unwrap()
    }

    #[test]
    fn window_contents_by_hand() {
        // lookback 2, horizon 1, stride 3 over 8 rows: (8 - 3) / 3 + 1 = 2 windows, starting at
        // rows 0 and 3. Window 1 reads rows 3, 4 (both columns) and targets row 5 of column b.
        let ds = WindowDatasetConfig::new(WindowConfig::new(2, 1).with_stride(3), [1])
            .with_inputs([0, 1])
            .with_rows(0..8)
            .init(Arc::new(ramp(8)))
            .unwrap();
        assert_eq!(ds.len(), 2);
        let w = ds.get(1).unwrap();
        assert_eq!(w.inputs, vec![3.0, 103.0, 4.0, 104.0]);
        assert_eq!(w.targets, vec![105.0]);
        let batch = WindowBatcher.batch(vec![ds.get(0).unwrap(), w], &Device::flex());
        assert_eq!(batch.inputs.dims(), [2, 2, 2]);
        assert_eq!(batch.targets.dims(), [2, 1, 1]);
        assert_eq!(batch.starts, vec![0, 3]);
    }

    #[test]
    fn window_longer_than_series_is_an_error() {
        let err = WindowConfig::new(10, 5)
            .num_windows(12, "sunspots")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "sunspots: a window of lookback 10 + horizon 5 needs 15 rows, but the series has 12"
        );
        assert!(WindowConfig::new(0, 1).validate().is_err());
    }

    /// The old six-argument `WindowDataset::new` took two `Vec<usize>` column lists side by
    /// side; the config names them. Zero sizes, missing targets, columns or rows outside the
    /// series and a too-short series are errors naming the config (or the series).
    #[test]
    fn window_dataset_config_rejects_what_cannot_work() {
        let series = Arc::new(ramp(10));
        let init = |config: WindowDatasetConfig| config.init(Arc::clone(&series)).unwrap_err();
        let message = |config| init(config).to_string();
        assert_eq!(
            message(WindowDatasetConfig::new(WindowConfig::new(0, 1), [0])),
            "WindowConfig: invalid lookback: is 0; set it to at least 1"
        );
        assert_eq!(
            message(WindowDatasetConfig::new(WindowConfig::new(3, 0), [0])),
            "WindowConfig: invalid horizon: is 0; set it to at least 1"
        );
        assert_eq!(
            message(WindowDatasetConfig::new(
                WindowConfig::new(3, 1).with_stride(0),
                [0]
            )),
            "WindowConfig: invalid stride: is 0; set it to at least 1"
        );
        assert_eq!(
            message(WindowDatasetConfig::new(
                WindowConfig::new(3, 1),
                Vec::new()
            )),
            "WindowDatasetConfig: invalid targets: is empty; name at least one target column"
        );
        assert_eq!(
            message(WindowDatasetConfig::new(WindowConfig::new(3, 1), [0]).with_inputs([0, 2])),
            "WindowDatasetConfig: invalid inputs: column 2 does not exist in <rows>, which has 2 \
             columns (expected indices below 2)"
        );
        assert_eq!(
            message(WindowDatasetConfig::new(WindowConfig::new(3, 1), [0]).with_rows(5..11)),
            "WindowDatasetConfig: invalid rows: 5..11 is not inside the 10 rows of <rows> \
             (expected start <= end <= 10)"
        );
        // Too short: named by the series' file unless a name is given.
        assert_eq!(
            message(WindowDatasetConfig::new(WindowConfig::new(8, 3), [0])),
            "<rows>: a window of lookback 8 + horizon 3 needs 11 rows, but the series has 10"
        );
        assert!(matches!(
            init(
                WindowDatasetConfig::new(WindowConfig::new(2, 1), [0])
                    .with_rows(0..2)
                    .with_name("sunspots.csv")
            ),
            Error::WindowTooLong { ref what, series_len: 2, .. } if what == "sunspots.csv"
        ));
        // An empty row range is an empty dataset, and every input column is the default.
        let empty = WindowDatasetConfig::new(WindowConfig::new(2, 1), [1])
            .with_rows(4..4)
            .init(Arc::clone(&series))
            .unwrap();
        assert_eq!((empty.len(), empty.input_columns()), (0, &[0, 1][..]));
    }

    /// `get(len())` used to panic (an `assert!`); now it is an error naming the dataset.
    #[test]
    fn get_past_the_end_is_an_error() {
        let ds = WindowDatasetConfig::new(WindowConfig::new(2, 1), [1])
            .init(Arc::new(ramp(6)))
            .unwrap();
        assert_get_past_end_is_an_error(&ds, "WindowDataset");
    }

    #[test]
    fn split_too_short_for_a_window_names_the_file_and_split() {
        let err = ForecastConfig::new(WindowConfig::new(3, 2), ["a"])
            .with_ratios(SplitRatios::new(0.8, 0.1, 0.1).unwrap())
            .build(&ramp(30))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "<rows> (valid split): a window of lookback 3 + horizon 2 needs 5 rows, but the \
             series has 3"
        );
    }

    #[test]
    fn split_windows_stay_inside_their_blocks() {
        let data = ForecastConfig::new(WindowConfig::new(3, 2), ["a"])
            .with_ratios(SplitRatios::new(0.6, 0.2, 0.2).unwrap())
            .with_scaler(ScalerKind::None)
            .build(&ramp(50))
            .unwrap();
        for ds in [&data.train, &data.valid, &data.test] {
            let rows = ds.rows();
            for i in 0..ds.len() {
                let w = ds.window(i);
                assert!(w.start >= rows.start && w.start + 5 <= rows.end);
            }
        }
        assert_eq!(data.valid.window(0).inputs[0], 30.0);
    }

    #[test]
    fn unknown_target_column_is_an_error() {
        let err = ForecastConfig::new(WindowConfig::new(3, 2), ["zzz"])
            .build(&ramp(50))
            .unwrap_err();
        assert!(matches!(err, Error::MissingColumn { .. }));
    }

    proptest! {
        #[test]
        fn number_of_windows_matches_the_formula(
            n in 1usize..200, lookback in 1usize..20, horizon in 1usize..10, stride in 1usize..10
        ) {
            let config = WindowConfig::new(lookback, horizon).with_stride(stride);
            match config.num_windows(n, "s") {
                Ok(count) => {
                    prop_assert!(n >= lookback + horizon);
                    prop_assert_eq!(count, (n - lookback - horizon) / stride + 1);
                    // The last window fits and one more would not.
                    let last = (count - 1) * stride;
                    prop_assert!(last + lookback + horizon <= n);
                    prop_assert!(last + stride + lookback + horizon > n);
                }
                Err(_) => prop_assert!(n < lookback + horizon, "rejected a series that fits"),
            }
        }

        #[test]
        fn scaler_depends_on_the_training_split_alone(
            train_rows in prop::collection::vec(-1e3f64..1e3, 40),
            rest_a in prop::collection::vec(-1e6f64..1e6, 60),
            rest_b in prop::collection::vec(-1e6f64..1e6, 60),
            minmax in any::<bool>(),
        ) {
            let build = |rest: &[f64]| {
                let rows: Vec<Vec<f64>> = train_rows.iter().chain(rest).map(|&v| vec![v]).collect();
                let series = TimeSeries::from_rows(vec!["v".into()], &rows).unwrap();
                let kind = if minmax { ScalerKind::MinMax } else { ScalerKind::Standard };
                ForecastConfig::new(WindowConfig::new(2, 1), ["v"])
                    .with_ratios(SplitRatios::new(0.4, 0.3, 0.3).unwrap())
                    .with_scaler(kind)
                    .build(&series)
                    .unwrap()
                    .scaler
            };
            prop_assert_eq!(build(&rest_a), build(&rest_b), "valid/test rows changed the scaler");
        }
    }
}
