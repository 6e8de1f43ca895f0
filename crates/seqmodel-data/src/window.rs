//! Sliding windows over a time series (lookback → horizon), chronological splits that never
//! let a window cross a split boundary, and a batcher to `[batch, time, features]` tensors.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

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

    /// Rejects zero sizes.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("lookback", self.lookback),
            ("horizon", self.horizon),
            ("stride", self.stride),
        ] {
            if value == 0 {
                return Err(Error::Config {
                    field,
                    reason: "must be at least 1".into(),
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

/// The windows of one contiguous segment of a (scaled) series.
#[derive(Debug, Clone)]
pub struct WindowDataset {
    series: Arc<TimeSeries>,
    first_row: usize,
    rows: usize,
    inputs: Vec<usize>,
    targets: Vec<usize>,
    config: WindowConfig,
    len: usize,
}

impl WindowDataset {
    /// Windows over rows `first_row..first_row + rows` of `series`, reading input columns
    /// `inputs` and target columns `targets` (indices into the series' columns). An empty
    /// segment gives an empty dataset; a non-empty one shorter than a window is an error.
    pub fn new(
        series: Arc<TimeSeries>,
        segment: std::ops::Range<usize>,
        inputs: Vec<usize>,
        targets: Vec<usize>,
        config: WindowConfig,
        what: &str,
    ) -> Result<Self> {
        config.validate()?;
        let columns = series.num_columns();
        if let Some(&c) = inputs.iter().chain(&targets).find(|&&c| c >= columns) {
            return Err(Error::Config {
                field: "columns",
                reason: format!("column {c} does not exist (the series has {columns})"),
            });
        }
        if inputs.is_empty() || targets.is_empty() {
            return Err(Error::Config {
                field: "columns",
                reason: "need at least one input and one target column".into(),
            });
        }
        if segment.end > series.len() || segment.start > segment.end {
            return Err(Error::Config {
                field: "segment",
                reason: format!(
                    "rows {segment:?} are outside the series' {} rows",
                    series.len()
                ),
            });
        }
        let rows = segment.len();
        let len = if rows == 0 {
            0
        } else {
            config.num_windows(rows, what)?
        };
        Ok(Self {
            series,
            first_row: segment.start,
            rows,
            inputs,
            targets,
            config,
            len,
        })
    }

    /// The window geometry.
    pub fn config(&self) -> WindowConfig {
        self.config
    }

    /// Rows of the segment.
    pub fn rows(&self) -> std::ops::Range<usize> {
        self.first_row..self.first_row + self.rows
    }

    /// Input column indices.
    pub fn input_columns(&self) -> &[usize] {
        &self.inputs
    }

    /// Target column indices.
    pub fn target_columns(&self) -> &[usize] {
        &self.targets
    }

    /// The `i`-th window (`i < len()`).
    pub fn window(&self, i: usize) -> Window {
        let start = self.first_row + i * self.config.stride;
        let gather = |rows: std::ops::Range<usize>, cols: &[usize]| -> Vec<f32> {
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
    fn get(&self, index: usize) -> std::result::Result<Window, DatasetError> {
        assert!(index < self.len, "window {index} >= {}", self.len);
        Ok(self.window(index))
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
            ratios: SplitRatios {
                train: 0.7,
                valid: 0.15,
                test: 0.15,
            },
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
                field: "targets",
                reason: "name at least one target column".into(),
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
        let make = |rows: std::ops::Range<usize>, what: &str| {
            WindowDataset::new(
                Arc::clone(&scaled),
                rows,
                inputs.clone(),
                targets.clone(),
                self.window,
                what,
            )
        };
        Ok(ForecastData {
            train: make(train, "train split")?,
            valid: make(valid, "valid split")?,
            test: make(test, "test split")?,
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
    use proptest::prelude::*;

    fn ramp(n: usize) -> TimeSeries {
        let rows: Vec<Vec<f64>> = (0..n).map(|t| vec![t as f64, 100.0 + t as f64]).collect();
        TimeSeries::from_rows(vec!["a".into(), "b".into()], &rows).unwrap()
    }

    #[test]
    fn window_contents_by_hand() {
        // lookback 2, horizon 1, stride 3 over 8 rows: (8 - 3) / 3 + 1 = 2 windows, starting at
        // rows 0 and 3. Window 1 reads rows 3, 4 (both columns) and targets row 5 of column b.
        let ds = WindowDataset::new(
            Arc::new(ramp(8)),
            0..8,
            vec![0, 1],
            vec![1],
            WindowConfig::new(2, 1).with_stride(3),
            "s",
        )
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
