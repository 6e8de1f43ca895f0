//! `cargo xtask train | eval | predict --task forecast`: a bundled series (`eustock`,
//! `sunspots`, `seattle-weather`) or a CSV (`--data PATH --target COL [--date-column COL]`)
//! cut into windows, a [`seqmodel_tasks::Forecaster`] trained on them, and its test forecasts in
//! original units beside the naive last-value and seasonal-naive forecasts.

pub mod config;
pub mod pipeline;
pub mod report;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use seqmodel_data::{ForecastSet, WindowConfig};
use seqmodel_tasks::ForecastAttention;
use seqmodel_train::write_atomic;

use self::config::{ForecastRunConfig, bundled};
use self::pipeline::{TRANSFORM_FILE, load_run};
use crate::eval::EvalArgs;
use crate::predict::PredictArgs;
use crate::run::config::CONFIG_FILE;
use crate::run::config::TaskName;
use crate::run::report::REPORT_FILE;
use crate::run::summary::RunSummary;
use crate::train::{TrainArgs, start_or_resume};

use super::error::RunError;

/// The `train` flags only `--task forecast` reads (flattened into [`TrainArgs`]).
#[derive(Args, Debug, Default)]
pub struct ForecastFlags {
    /// Column(s) to forecast, comma-separated [bundled: DAX, SUNACTIVITY, temp_max].
    #[arg(long, value_name = "COL[,COL]")]
    pub target: Option<String>,
    /// Column(s) the model reads, comma-separated [default: the targets; seattle-weather: all
    /// four].
    #[arg(long, value_name = "COL[,COL]")]
    pub input: Option<String>,
    /// The CSV's date/index column (must increase) [default: row numbers].
    #[arg(long, value_name = "COL")]
    pub date_column: Option<String>,
    /// Steps the model reads [bundled: 30, 22, 30; CSV: 30].
    #[arg(long, value_name = "N")]
    pub lookback: Option<usize>,
    /// Steps forecast at once [default: 1].
    #[arg(long, value_name = "N")]
    pub horizon: Option<usize>,
    /// levels, diff, log-return or window-norm [eustock: log-return; others: levels].
    #[arg(long, value_name = "T")]
    pub transform: Option<String>,
    /// Attention. Forecast: none or additive (Bahdanau, last state as query) [default: none];
    /// seq2seq: none, additive, dot, general or concat [default: general].
    #[arg(long, value_name = "A")]
    pub attention: Option<String>,
    /// Period of the seasonal-naive baseline [eustock 5, sunspots 11, seattle-weather 365;
    /// CSV: 1].
    #[arg(long, value_name = "N")]
    pub season: Option<usize>,
    /// Hidden units of each encoder direction [forecast: 64; seq2seq: 128].
    #[arg(long, value_name = "N")]
    pub hidden_size: Option<usize>,
    /// Stop after this many epochs without a better validation loss [default: 30].
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// Missing values in the file: error (name file, line and column), forward (carry the last
    /// value), linear (interpolate) [default: error].
    #[arg(long, value_enum, value_name = "F")]
    pub fill: Option<config::GapFill>,
}

impl ForecastFlags {
    /// The flags given, by name (a resumed run refuses them; other tasks refuse them).
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--target", self.target.is_some()),
            ("--input", self.input.is_some()),
            ("--date-column", self.date_column.is_some()),
            ("--lookback", self.lookback.is_some()),
            ("--horizon", self.horizon.is_some()),
            ("--transform", self.transform.is_some()),
            ("--attention", self.attention.is_some()),
            ("--season", self.season.is_some()),
            ("--hidden-size", self.hidden_size.is_some()),
            ("--patience", self.patience.is_some()),
            ("--fill", self.fill.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, set)| set.then_some(flag))
        .collect()
    }
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The config of a new forecast run: `--config` (or the data's default), then the flags.
pub fn new_config(args: &TrainArgs) -> Result<ForecastRunConfig, RunError> {
    let origin = PathBuf::from("command line");
    let bad = |field: &str, message: String| RunError::ConfigValue {
        origin: origin.clone(),
        field: field.into(),
        message,
    };
    for (flag, set) in [
        ("--embeddings", args.embeddings.is_some()),
        ("--freeze-embeddings", args.freeze_embeddings),
        ("--init-from", args.init_from.is_some()),
    ] {
        if set {
            return Err(bad(
                flag,
                "only --task classify reads it; this run is --task forecast".into(),
            ));
        }
    }
    let f = &args.forecast;
    let mut config = match &args.config {
        Some(path) => ForecastRunConfig::read(path)?,
        None => ForecastRunConfig::for_source(args.data.as_deref().unwrap_or("eustock")),
    };
    if args.config.is_some()
        && let Some(source) = &args.data
    {
        config.data.source = source.clone();
    }
    if !config.data.source.is_empty()
        && bundled(&config.data.source).is_none()
        && !Path::new(&config.data.source).is_file()
    {
        return Err(RunError::UnknownData {
            given: config.data.source.clone(),
            bundled: config::bundled_names(),
        });
    }
    if let Some(t) = &f.target {
        config.data.targets = list(t);
        // Inputs default to the new targets unless given too.
        if f.input.is_none() {
            config.data.inputs = Vec::new();
        }
    }
    if let Some(i) = &f.input {
        config.data.inputs = list(i);
    }
    if let Some(c) = &f.date_column {
        config.data.date_column = Some(c.clone());
    }
    if let Some(n) = f.lookback {
        config.data.lookback = n;
    }
    if let Some(n) = f.horizon {
        config.data.horizon = n;
    }
    if let Some(t) = &f.transform {
        config.data.transform = t
            .parse()
            .map_err(|error: seqmodel_data::Error| bad("--transform", error.to_string()))?;
    }
    if let Some(a) = &f.attention {
        config.model.attention = a
            .parse::<ForecastAttention>()
            .map_err(|error| bad("--attention", error.to_string()))?;
    }
    if let Some(n) = f.season {
        config.data.season = n;
    }
    if let Some(n) = f.hidden_size {
        config.model.encoder.hidden_size = n;
    }
    if let Some(fill) = f.fill {
        config.data.fill = fill;
    }
    if let Some(n) = f.patience {
        config.train.early_stopping = Some(seqmodel_train::EarlyStoppingConfig { patience: n });
    }
    if let Some(choice) = args.encoder {
        let (kind, bidirectional) = choice.kind();
        config.model.encoder.kind = kind;
        config.model.encoder.bidirectional = bidirectional;
    }
    args.apply_run_flags(&mut config.backend, &mut config.devices, &mut config.train);
    let config = config.synced();
    config.validate(args.config.as_deref().unwrap_or(&origin))?;
    Ok(config)
}

/// The default run folder of `config`.
pub fn default_out(config: &ForecastRunConfig) -> PathBuf {
    let source = Path::new(&config.data.source)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("data")
        .to_string();
    let e = &config.model.encoder;
    PathBuf::from("runs").join(format!(
        "forecast-{source}-{}{}{}",
        if e.bidirectional { "bi" } else { "" },
        e.kind,
        if config.model.attention == ForecastAttention::Additive {
            "-attn"
        } else {
            ""
        }
    ))
}

/// `cargo xtask train --task forecast`.
pub fn train(args: &TrainArgs) -> Result<(), RunError> {
    let (config, out, resume_after) =
        start_or_resume(args, TaskName::Forecast, new_config, default_out, None)?;

    // Everything that can be checked before training is, before anything is written.
    let series = config.data.read(&config.data.source)?;
    let set = config.data.set_config().build(&series)?;
    if let Some(first) = set.test.first() {
        let origin = set.origin(first);
        if config.data.season > origin + 1 {
            return Err(RunError::ConfigValue {
                origin: series.source().to_path_buf(),
                field: "--season".into(),
                message: format!(
                    "season {} is longer than the history before the test split ({} rows); \
                     choose --season {} or less",
                    config.data.season,
                    origin + 1,
                    origin + 1
                ),
            });
        }
    }
    let device = config.backend()?.device()?;
    config.model.init(&device)?;
    if resume_after.is_some() {
        let saved = load_transform(&out)?;
        if saved != set.fitted {
            return Err(RunError::Data(format!(
                "{}: the series changed since the run started (its scaler differs from {}); \
                 resume with the same data, or start a new run",
                series.source().display(),
                out.join(TRANSFORM_FILE).display()
            )));
        }
    }

    if args.force && out.exists() {
        std::fs::remove_dir_all(&out).map_err(|error| RunError::io(&out, error))?;
    }
    std::fs::create_dir_all(&out).map_err(|error| RunError::io(&out, error))?;
    let config_path = out.join(CONFIG_FILE);
    write_atomic(&config_path, config.to_json().as_bytes())
        .map_err(|error| RunError::io(&config_path, error))?;
    pipeline::save_transform(&set.fitted, &out)?;
    let sizes = [set.train.len(), set.valid.len(), set.test.len()];
    println!(
        "forecast {} ({}): {} rows, {} / {} / {} windows, lookback {}, horizon {}, {} → {}",
        config.data.source,
        config.data.targets.join(", "),
        series.len(),
        sizes[0],
        sizes[1],
        sizes[2],
        config.data.lookback,
        config.data.horizon,
        config.data.transform,
        out.display()
    );
    let trained = pipeline::train(&config, &set, &out, resume_after, args.progress.into())?;
    let test = pipeline::evaluate(&trained.model, &config, &series, &set, &set.test, &device)?;
    seqmodel_train::plots::plot_curves(&trained.summary.epochs, &out)
        .map_err(|error| RunError::Train(error.to_string()))?;
    seqmodel_train::plots::plot_forecasts(
        &test.actual,
        &[
            ("model", &test.model_line),
            ("naive (last value)", &test.naive_line),
            (
                &format!("seasonal naive (m = {})", config.data.season),
                &test.seasonal_line,
            ),
        ],
        &format!(
            "{} {}: one step ahead, test split",
            config.data.source, config.data.targets[0]
        ),
        &out.join("forecast.png"),
    )
    .map_err(|error| RunError::Train(error.to_string()))?;
    report::write(&report::ForecastReport {
        config: &config,
        epochs: &trained.summary.epochs,
        epoch: trained.epoch,
        stopped_early_after: trained.summary.stopped_early_after,
        test: &test,
        parameters: pipeline::parameter_count(&trained.model),
        rows: series.len(),
        split_sizes: sizes,
        dir: &out,
    })?;
    let mut run_summary = RunSummary::new(
        (
            "forecast",
            &config.data.source,
            format!(
                "{}{}",
                crate::run::report::encoder_word(&config.model.encoder),
                if config.model.attention == ForecastAttention::Additive {
                    "+attention"
                } else {
                    ""
                }
            ),
        ),
        config.train.seed,
        &trained.summary.epochs,
        trained.epoch,
        pipeline::parameter_count(&trained.model),
    );
    for (who, scores) in [
        ("", &test.model),
        ("naive_", &test.naive),
        ("seasonal_", &test.seasonal),
    ] {
        run_summary = run_summary
            .score(&format!("{who}mae"), scores.mae)
            .score(&format!("{who}rmse"), scores.rmse)
            .score(&format!("{who}smape"), scores.smape);
    }
    run_summary.write(&out)?;
    println!(
        "test ({} windows, weights of epoch {}):\n{}report: {}",
        test.windows,
        trained.epoch,
        report::score_table(&config, &test),
        out.join(REPORT_FILE).display()
    );
    Ok(())
}

fn load_transform(dir: &Path) -> Result<seqmodel_data::FittedTransform, RunError> {
    let path = dir.join(TRANSFORM_FILE);
    let bytes = std::fs::read(&path).map_err(|error| RunError::io(&path, error))?;
    serde_json::from_slice(&bytes).map_err(|error| RunError::ConfigFile {
        path,
        message: error.to_string(),
    })
}

/// The run's columns and saved transform over `series` (which has the run's columns).
fn run_set(
    run: &pipeline::LoadedRun,
    series: &seqmodel_data::TimeSeries,
) -> Result<ForecastSet, RunError> {
    let (inputs, targets) = run.config.data.set_config().columns(series)?;
    Ok(ForecastSet {
        train: Vec::new(),
        valid: Vec::new(),
        test: Vec::new(),
        fitted: run.fitted.clone(),
        input_columns: inputs,
        target_columns: targets,
        window: WindowConfig::new(run.config.data.lookback, run.config.data.horizon),
        train_rows: 0..0,
    })
}

/// Milliseconds of batch-1 forecasts of up to `examples` test windows of the run in `dir`
/// (see [`crate::run::latency::latency_ms`]).
pub fn latency_ms(dir: &Path, examples: usize) -> Result<Vec<f64>, RunError> {
    let run = load_run(dir)?;
    let series = run.config.data.read(&run.config.data.source)?;
    let windows = run.config.data.set_config().build(&series)?.test;
    crate::run::latency::time_each(&windows, examples, |window| {
        pipeline::outputs(&run.model, std::slice::from_ref(window), &run.device).map(drop)
    })
}

/// `cargo xtask eval` of a forecast run: its test split, or every window of `--data FILE`.
pub fn eval(args: &EvalArgs) -> Result<(), RunError> {
    let run = load_run(&args.run)?;
    let config = &run.config;
    let (name, series, set, windows) = match &args.data {
        None => {
            let series = config.data.read(&config.data.source)?;
            let built = config.data.set_config().build(&series)?;
            let mut set = run_set(&run, &series)?;
            let windows = built.test.clone();
            set.fitted = run.fitted.clone();
            (
                format!("{} (test split)", config.data.source),
                series,
                set,
                windows,
            )
        }
        Some(source) => {
            let series = config.data.read(source)?;
            let set = run_set(&run, &series)?;
            let origins = config.data.set_config().origins(&series)?;
            let first = origins.start.max(config.data.season - 1);
            let windows: Vec<_> = (first..origins.end)
                .map(|o| set.window_at(&series, o))
                .collect();
            (source.clone(), series, set, windows)
        }
    };
    let test = pipeline::evaluate(&run.model, config, &series, &set, &windows, &run.device)?;
    println!(
        "{name}: {} windows, horizon {}, targets {}",
        test.windows,
        config.data.horizon,
        config.data.targets.join(", ")
    );
    print!("{}", report::score_table(config, &test));
    Ok(())
}

/// `cargo xtask predict` of a forecast run: the next `horizon` steps after the end of the
/// run's series, or of `--data FILE` (same columns), one line per step and target:
/// `t+H<TAB>column<TAB>value`.
pub fn predict(args: &PredictArgs) -> Result<(), RunError> {
    let run = load_run(&args.run)?;
    let source = args
        .data
        .clone()
        .unwrap_or_else(|| run.config.data.source.clone());
    let series = run.config.data.read(&source)?;
    let set = run_set(&run, &series)?;
    let window = set.last_window(&series)?;
    let origin = series.len() - 1;
    let output = pipeline::outputs(&run.model, std::slice::from_ref(&window), &run.device)?;
    let forecast = set
        .fitted
        .decode(&series, &output[0], &set.target_columns, origin)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(
        out,
        "# {source}: {} steps after index {}",
        run.config.data.horizon,
        series.index()[origin]
    );
    let names = &run.config.data.targets;
    for (i, value) in forecast.iter().enumerate() {
        let (step, k) = (i / names.len() + 1, i % names.len());
        if writeln!(out, "t+{step}\t{}\t{value:.4}", names[k]).is_err() {
            break;
        }
    }
    Ok(())
}
