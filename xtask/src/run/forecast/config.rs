//! A forecast run's configuration (`config.json` with `"task": "forecast"`): rerunning
//! `cargo xtask train --config runs/NAME/config.json` reproduces the run.

use std::path::{Path, PathBuf};

use seqmodel_data::bundled::DataDir;
use seqmodel_data::{
    FillPolicy, ForecastSetConfig, ScalerKind, SeriesCsvConfig, SplitRatios, TargetTransform,
    TimeSeries, WindowConfig,
};
use seqmodel_tasks::{EncoderConfig, EncoderKind, ForecastAttention, ForecasterConfig};
use seqmodel_train::device::BackendName;
use seqmodel_train::{EarlyStoppingConfig, OptimizerConfig, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::run::config::TaskName;
use crate::run::error::RunError;

/// A bundled series: its file under `data/`, index column and default run.
#[derive(Debug, Clone, Copy)]
pub struct BundledSeries {
    /// The `--data` name.
    pub name: &'static str,
    /// The CSV under the data folder.
    pub file: &'static str,
    /// The index (date) column.
    pub index: &'static str,
    /// Default targets.
    pub targets: &'static [&'static str],
    /// Default extra inputs (besides the targets; empty: the targets alone).
    pub inputs: &'static [&'static str],
    /// Default lookback.
    pub lookback: usize,
    /// Default season of the seasonal-naive baseline.
    pub season: usize,
    /// Default transform.
    pub transform: TargetTransform,
    /// Default scaler.
    pub scaler: ScalerKind,
}

/// The bundled series `--data` accepts, with their default runs:
/// - `eustock`: DAX, the PyTorch benchmark's recipe (`task4_stock.py`, logret): 30 days of
///   log-returns, min-max scaled, next day; season 5 (a business week).
/// - `sunspots`: yearly sunspot numbers, 22 years (two solar cycles) of levels, next year;
///   season 11 (the solar cycle).
/// - `seattle-weather`: next day's `temp_max` from 30 days of all four measures; season 365.
pub const BUNDLED_SERIES: &[BundledSeries] = &[
    BundledSeries {
        name: "eustock",
        file: "eustock/EuStockMarkets.csv",
        index: "rownames",
        targets: &["DAX"],
        inputs: &[],
        lookback: 30,
        season: 5,
        transform: TargetTransform::LogReturn,
        scaler: ScalerKind::MinMax,
    },
    BundledSeries {
        name: "sunspots",
        file: "sunspots/sunspots_yearly.csv",
        index: "YEAR",
        targets: &["SUNACTIVITY"],
        inputs: &[],
        lookback: 22,
        season: 11,
        transform: TargetTransform::Levels,
        scaler: ScalerKind::Standard,
    },
    BundledSeries {
        name: "seattle-weather",
        file: "seattle-weather/seattle-weather.csv",
        index: "date",
        targets: &["temp_max"],
        inputs: &["temp_max", "temp_min", "precipitation", "wind"],
        lookback: 30,
        season: 365,
        transform: TargetTransform::Levels,
        scaler: ScalerKind::Standard,
    },
];

/// The bundled series named `name`.
pub fn bundled(name: &str) -> Option<&'static BundledSeries> {
    BUNDLED_SERIES.iter().find(|b| b.name == name)
}

/// Everything a forecast run depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastRunConfig {
    /// Always `forecast`.
    pub task: TaskName,
    /// The backend (`flex`, `ndarray`, `wgpu`).
    pub backend: String,
    /// Devices to train on data-parallel (1: one device).
    #[serde(default = "one")]
    pub devices: usize,
    /// The series, its columns and windows.
    pub data: SeriesConfig,
    /// The model (its `horizon`, `targets` and `inputs` follow `data`).
    pub model: ForecasterConfig,
    /// The training loop.
    pub train: TrainConfig,
}

fn one() -> usize {
    1
}

/// Where the series comes from and how it is cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesConfig {
    /// A bundled series (`eustock`, `sunspots`, `seattle-weather`) or a CSV file.
    pub source: String,
    /// The index (date) column, which must increase; `null`: row numbers.
    #[serde(default)]
    pub date_column: Option<String>,
    /// Columns to forecast.
    pub targets: Vec<String>,
    /// Columns the model reads; empty: the targets.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Steps the model reads.
    pub lookback: usize,
    /// Steps it forecasts.
    pub horizon: usize,
    /// What the model sees instead of the raw values.
    pub transform: TargetTransform,
    /// Scaler fitted on the training rows.
    pub scaler: ScalerKind,
    /// Chronological fractions of the window origins.
    pub split: SplitRatios,
    /// Period of the seasonal-naive baseline.
    pub season: usize,
    /// What a missing value (empty cell, NaN) in the file becomes.
    #[serde(default)]
    pub fill: GapFill,
}

/// What a missing value in a series file becomes (`--fill`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum GapFill {
    /// A missing value is an error naming its file, line and column.
    #[default]
    Error,
    /// The last value before it, carried forward.
    Forward,
    /// Linear interpolation between its neighbours.
    Linear,
}

impl From<GapFill> for FillPolicy {
    fn from(fill: GapFill) -> Self {
        match fill {
            GapFill::Error => Self::Error,
            GapFill::Forward => Self::Forward,
            GapFill::Linear => Self::Linear,
        }
    }
}

impl SeriesConfig {
    /// The default series config of a bundled series.
    pub fn bundled(b: &BundledSeries) -> Self {
        Self {
            source: b.name.into(),
            date_column: Some(b.index.into()),
            targets: b.targets.iter().map(|s| s.to_string()).collect(),
            inputs: b.inputs.iter().map(|s| s.to_string()).collect(),
            lookback: b.lookback,
            horizon: 1,
            transform: b.transform,
            scaler: b.scaler,
            split: SplitRatios::new(0.7, 0.15, 0.15).expect("valid fractions"),
            season: b.season,
            fill: GapFill::Error,
        }
    }

    /// The columns read from the file: the inputs, then the targets not among them.
    pub fn columns(&self) -> Vec<String> {
        let mut columns = self.inputs.clone();
        for t in &self.targets {
            if !columns.contains(t) {
                columns.push(t.clone());
            }
        }
        columns
    }

    /// The windows over the series (columns by name).
    pub fn set_config(&self) -> ForecastSetConfig {
        ForecastSetConfig::new(
            WindowConfig::new(self.lookback, self.horizon),
            self.targets.clone(),
        )
        .with_inputs(if self.inputs.is_empty() {
            self.targets.clone()
        } else {
            self.inputs.clone()
        })
        .with_ratios(self.split)
        .with_transform(self.transform)
        .with_scaler(self.scaler)
    }

    /// Reads the series from `source` (this config's, or another file with the same columns).
    pub fn read(&self, source: &str) -> Result<TimeSeries, RunError> {
        let (path, date_column) = match bundled(source) {
            Some(b) => (
                DataDir::locate()?.path().join(b.file),
                Some(b.index.to_string()),
            ),
            None => {
                let path = PathBuf::from(source);
                if !path.is_file() {
                    return Err(RunError::UnknownData {
                        given: source.into(),
                        bundled: bundled_names(),
                    });
                }
                (path, self.date_column.clone())
            }
        };
        let mut csv = SeriesCsvConfig::new()
            .with_values(self.columns())
            .with_fill(self.fill.into());
        if let Some(column) = date_column {
            csv = csv.with_index(column);
        }
        Ok(TimeSeries::read_csv(&path, &csv)?)
    }
}

/// The bundled names, comma-separated.
pub fn bundled_names() -> String {
    BUNDLED_SERIES
        .iter()
        .map(|b| b.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ForecastRunConfig {
    /// The default run on `data` (a bundled series): the PyTorch benchmark's forecaster (one
    /// LSTM layer of 64 units), Adam 1e-3, batch 32, up to 300 epochs, early stopping after 30
    /// epochs without a better validation loss, the best epoch kept.
    pub fn default_for(series: SeriesConfig) -> Self {
        Self {
            task: TaskName::Forecast,
            backend: "flex".into(),
            devices: 1,
            model: ForecasterConfig::default()
                .with_encoder(
                    EncoderConfig::new(EncoderKind::Lstm)
                        .with_hidden_size(64)
                        .with_bidirectional(false),
                )
                .with_attention(ForecastAttention::None),
            data: series,
            train: TrainConfig {
                epochs: 300,
                batch_size: 32,
                seed: 0,
                optimizer: OptimizerConfig::Adam {
                    lr: 1e-3,
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                    weight_decay: 0.0,
                },
                early_stopping: Some(EarlyStoppingConfig { patience: 30 }),
                ..TrainConfig::default()
            },
        }
        .synced()
    }

    /// The default run on `source`: a bundled series' own recipe, or for a CSV file the
    /// defaults of [`Self::default_for`] with no target chosen yet (`--target` names it).
    pub fn for_source(source: &str) -> Self {
        let series = match bundled(source) {
            Some(b) => SeriesConfig::bundled(b),
            None => SeriesConfig {
                source: source.to_string(),
                date_column: None,
                targets: Vec::new(),
                inputs: Vec::new(),
                lookback: 30,
                horizon: 1,
                transform: TargetTransform::Levels,
                scaler: ScalerKind::Standard,
                split: SplitRatios::new(0.7, 0.15, 0.15).expect("valid fractions"),
                season: 1,
                fill: GapFill::Error,
            },
        };
        Self::default_for(series)
    }

    /// The model's horizon, target and input counts set from `data`.
    pub fn synced(mut self) -> Self {
        self.model.horizon = self.data.horizon;
        self.model.targets = self.data.targets.len();
        self.model.inputs = if self.data.inputs.is_empty() {
            self.data.targets.len()
        } else {
            self.data.inputs.len()
        };
        self
    }

    /// Reads a config file: a complete one, or a partial one over the default of its data
    /// (`eustock` if it names none; unknown fields are refused).
    pub fn read(path: &Path) -> Result<Self, RunError> {
        let config: Self = crate::run::config::parse_json_over(path, |source| {
            Self::for_source(source.unwrap_or("eustock"))
        })?;
        config.validate(path)?;
        Ok(config)
    }

    /// The JSON of `config.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config serialises") + "\n"
    }

    /// The backend.
    pub fn backend(&self) -> Result<BackendName, RunError> {
        self.backend
            .parse()
            .map_err(|error: seqmodel_train::DeviceError| RunError::Device(error.to_string()))
    }

    /// Checks what can be checked before the series is read.
    pub fn validate(&self, origin: &Path) -> Result<(), RunError> {
        let bad = |field: &str, message: String| RunError::ConfigValue {
            origin: origin.to_path_buf(),
            field: field.to_string(),
            message,
        };
        if self.task != TaskName::Forecast {
            return Err(bad("task", "a forecast config says \"forecast\"".into()));
        }
        self.backend()
            .map_err(|error| bad("backend", error.to_string()))?;
        if self.devices == 0 {
            return Err(bad("devices", "must be at least 1".into()));
        }
        let d = &self.data;
        if d.targets.is_empty() {
            return Err(bad(
                "data.targets",
                "is empty; name a column with --target COL".into(),
            ));
        }
        for (field, value) in [
            ("data.lookback", d.lookback),
            ("data.horizon", d.horizon),
            ("data.season", d.season),
        ] {
            if value == 0 {
                return Err(bad(field, "is 0; set it to at least 1".into()));
            }
        }
        let synced = self.clone().synced();
        if synced.model != self.model {
            return Err(bad(
                "model",
                format!(
                    "horizon {}, targets {}, inputs {} do not match data (horizon {}, {} \
                     targets, {} inputs); drop them from the model section",
                    self.model.horizon,
                    self.model.targets,
                    self.model.inputs,
                    synced.model.horizon,
                    synced.model.targets,
                    synced.model.inputs
                ),
            ));
        }
        self.model
            .validate()
            .map_err(|error| bad("model", error.to_string()))?;
        self.train
            .validate()
            .map_err(|error| RunError::Train(error.to_string()))
    }
}
