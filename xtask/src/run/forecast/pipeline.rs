//! The `forecast` task end to end: windows, `seqmodel_train::fit`, the best epoch's weights,
//! forecasts back in original units beside the naive baselines; loading a finished run for
//! `eval` and `predict`.

use std::path::Path;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use seqmodel_data::{FittedTransform, ForecastSet, TimeSeries, Window, WindowBatcher};
use seqmodel_data::{naive_last, seasonal_naive};
use seqmodel_metrics::{Accumulator, RegressionAccumulator, RegressionScores};
use seqmodel_tasks::Forecaster;
use seqmodel_train::{LossOnly, MODEL_FILE, ProgressMode, TrainSummary, load_model, write_atomic};

use super::config::ForecastRunConfig;
use crate::run::config::CONFIG_FILE;
use crate::run::error::RunError;
use crate::run::fit::{FitJob, Fitted, fit_best};

/// The transform and scaler fitted on the training rows, saved in the run folder.
pub const TRANSFORM_FILE: &str = "transform.json";
/// The test scores of the model and the naive baselines, machine-readable.
pub const SCORES_FILE: &str = "test_scores.json";

/// How a training call ended.
#[derive(Debug)]
pub struct Trained {
    /// burn-train's summary.
    pub summary: TrainSummary,
    /// The best epoch's weights on the inference device.
    pub model: Forecaster,
    /// The epoch whose weights `model` holds.
    pub epoch: usize,
}

/// Trains (or resumes) the run in `out`; writes `model.bpk` with the best epoch's weights.
pub fn train(
    config: &ForecastRunConfig,
    set: &ForecastSet,
    out: &Path,
    resume_after: Option<usize>,
    progress: ProgressMode,
) -> Result<Trained, RunError> {
    let device = config.backend()?.device()?;
    let train_device = device.clone().autodiff();
    train_device.seed(config.train.seed);
    let model = config.model.init(&train_device)?;
    let job = FitJob {
        train: set.train.clone(),
        valid: set.valid.clone(),
        batcher: Arc::new(WindowBatcher),
        config: &config.train,
        devices: config.devices,
        device: &device,
        out,
        resume_after,
        progress,
    };
    let Fitted {
        summary,
        model,
        epoch,
    } = fit_best(model, config.model.init(&device)?, job, LossOnly)?;
    Ok(Trained {
        summary,
        model,
        epoch,
    })
}

/// Writes the fitted transform into the run folder.
pub fn save_transform(fitted: &FittedTransform, dir: &Path) -> Result<(), RunError> {
    let path = dir.join(TRANSFORM_FILE);
    let json = serde_json::to_string_pretty(fitted).expect("a fitted transform serialises");
    write_atomic(&path, json.as_bytes()).map_err(|error| RunError::io(&path, error))
}

/// The model's outputs (scaled model values, `[horizon * targets]` each) for `windows`.
pub fn outputs(
    model: &Forecaster,
    windows: &[Window],
    device: &Device,
) -> Result<Vec<Vec<f32>>, RunError> {
    let mut out = Vec::with_capacity(windows.len());
    for chunk in windows.chunks(crate::run::fit::EVAL_BATCH) {
        let lookback = chunk[0].lookback;
        let width = chunk[0].inputs.len() / lookback;
        let inputs: Vec<f32> = chunk.iter().flat_map(|w| w.inputs.clone()).collect();
        let x = Tensor::<3>::from_data(
            TensorData::new(inputs, [chunk.len(), lookback, width]),
            device,
        );
        let y = model.forward(x)?;
        let [rows, cols] = y.dims();
        let values = y
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|error| RunError::Task(format!("reading forecasts: {error:?}")))?;
        out.extend((0..rows).map(|r| values[r * cols..(r + 1) * cols].to_vec()));
    }
    Ok(out)
}

/// Test scores of the model and both naive baselines, and the one-step-ahead lines of the
/// first target for the picture.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Windows scored.
    pub windows: usize,
    /// The model.
    pub model: RegressionScores,
    /// Last value.
    pub naive: RegressionScores,
    /// Seasonal naive.
    pub seasonal: RegressionScores,
    /// Actual value one step after each origin, first target.
    pub actual: Vec<f64>,
    /// The model's one-step forecast, first target.
    pub model_line: Vec<f64>,
    /// Naive one-step forecast.
    pub naive_line: Vec<f64>,
    /// Seasonal-naive one-step forecast.
    pub seasonal_line: Vec<f64>,
}

/// Scores `windows` of `series` (targets present): the model's forecasts decoded to original
/// units, and the naive baselines, over every step and target.
pub fn evaluate(
    model: &Forecaster,
    config: &ForecastRunConfig,
    series: &TimeSeries,
    set: &ForecastSet,
    windows: &[Window],
    device: &Device,
) -> Result<Evaluation, RunError> {
    if windows.is_empty() {
        return Err(RunError::Data(format!(
            "{}: no window to score",
            series.source().display()
        )));
    }
    let horizon = set.window.horizon;
    let targets = &set.target_columns;
    let season = config.data.season;
    let first_origin = set.origin(&windows[0]);
    if season > first_origin + 1 {
        return Err(RunError::ConfigValue {
            origin: series.source().to_path_buf(),
            field: "data.season".into(),
            message: format!(
                "the seasonal-naive baseline with season {season} needs {season} rows before \
                 the first scored window, which starts after row {first_origin}; choose \
                 --season {} or less",
                first_origin + 1
            ),
        });
    }
    let outputs = outputs(model, windows, device)?;
    let mut accumulators = [
        RegressionAccumulator::new(),
        RegressionAccumulator::new(),
        RegressionAccumulator::new(),
    ];
    let mut evaluation = Evaluation {
        windows: windows.len(),
        model: zero_scores(),
        naive: zero_scores(),
        seasonal: zero_scores(),
        actual: Vec::new(),
        model_line: Vec::new(),
        naive_line: Vec::new(),
        seasonal_line: Vec::new(),
    };
    let metric = |error: seqmodel_metrics::Error| RunError::Task(error.to_string());
    for (window, output) in windows.iter().zip(&outputs) {
        let origin = set.origin(window);
        let forecast = set.fitted.decode(series, output, targets, origin)?;
        let actual: Vec<f64> = (origin + 1..=origin + horizon)
            .flat_map(|t| targets.iter().map(move |&c| series.row(t)[c]))
            .collect();
        let naive = naive_last(series, origin, horizon, targets);
        let seasonal = seasonal_naive(series, origin, horizon, season, targets)?;
        for (acc, pred) in accumulators.iter_mut().zip([&forecast, &naive, &seasonal]) {
            acc.update(&actual, pred).map_err(metric)?;
        }
        evaluation.actual.push(actual[0]);
        evaluation.model_line.push(forecast[0]);
        evaluation.naive_line.push(naive[0]);
        evaluation.seasonal_line.push(seasonal[0]);
    }
    let [m, n, s] = accumulators;
    evaluation.model = m.compute().map_err(metric)?;
    evaluation.naive = n.compute().map_err(metric)?;
    evaluation.seasonal = s.compute().map_err(metric)?;
    Ok(evaluation)
}

fn zero_scores() -> RegressionScores {
    RegressionScores {
        mae: 0.0,
        mse: 0.0,
        rmse: 0.0,
        mape: 0.0,
        smape: 0.0,
        count: 0,
    }
}

/// A finished run, loaded for `eval` or `predict`.
#[derive(Debug)]
pub struct LoadedRun {
    /// Its config.
    pub config: ForecastRunConfig,
    /// The transform fitted when it trained.
    pub fitted: FittedTransform,
    /// The best epoch's weights on the inference device.
    pub model: Forecaster,
    /// The device.
    pub device: Device,
}

/// Loads `config.json`, `transform.json` and `model.bpk` of the run in `dir`.
pub fn load_run(dir: &Path) -> Result<LoadedRun, RunError> {
    let config_path = dir.join(CONFIG_FILE);
    if !config_path.is_file() {
        return Err(RunError::NoRun {
            dir: dir.to_path_buf(),
            what: CONFIG_FILE.into(),
        });
    }
    let config = ForecastRunConfig::read(&config_path)?;
    let model_path = dir.join(MODEL_FILE);
    if !model_path.is_file() {
        return Err(RunError::NoRun {
            dir: dir.to_path_buf(),
            what: format!("{MODEL_FILE}, written when training ends"),
        });
    }
    let path = dir.join(TRANSFORM_FILE);
    let bytes = std::fs::read(&path).map_err(|error| RunError::io(&path, error))?;
    let fitted: FittedTransform =
        serde_json::from_slice(&bytes).map_err(|error| RunError::ConfigFile {
            path: path.clone(),
            message: error.to_string(),
        })?;
    let device = config.backend()?.device()?;
    let model = load_model(config.model.init(&device)?, &model_path)?;
    Ok(LoadedRun {
        config,
        fitted,
        model,
        device,
    })
}

/// The number of parameters of `model`.
pub fn parameter_count(model: &Forecaster) -> usize {
    model.num_params()
}
