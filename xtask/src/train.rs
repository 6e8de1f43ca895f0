//! `cargo xtask train`: train a model on bundled data or a CSV/TSV file into a run folder
//! (config.json, metrics.jsonl, checkpoints, model.bpk, report.md, PNG plots).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use seqmodel_tasks::{EncoderKind, Pooling};
use seqmodel_train::{CHECKPOINT_DIR, MARKER_FILE, ProgressMode, read_marker, write_atomic};

use crate::run::classify::{self, Lexicon};
use crate::run::config::{CONFIG_FILE, RunConfig, TaskName, read_task};
use crate::run::data;
use crate::run::error::RunError;
use crate::run::forecast::ForecastFlags;
use crate::run::report::{self, REPORT_FILE, ReportInputs};
use crate::run::seq2seq::Seq2SeqFlags;
use crate::run::summary::RunSummary;
use crate::run::tag::TagFlags;

/// Options of `cargo xtask train`. With none: classify rt-polarity with a BiLSTM (the PyTorch
/// baseline's recipe) into `runs/classify-rt-polarity-bilstm`.
#[derive(Args, Debug, Default)]
pub struct TrainArgs {
    /// The task.
    #[arg(long, value_enum)]
    pub task: Option<TaskName>,
    /// A bundled data set (rt-polarity) or a .csv/.tsv file with a header row.
    #[arg(long, value_name = "NAME|PATH")]
    pub data: Option<String>,
    /// The text column of a CSV/TSV file [default: text].
    #[arg(long, value_name = "C")]
    pub text_column: Option<String>,
    /// The label column of a CSV/TSV file [default: label].
    #[arg(long, value_name = "C")]
    pub label_column: Option<String>,
    /// The encoder: rnn, lstm, gru (one direction, final state), birnn, bilstm, bigru
    /// (both directions, max-pooled), transformer (mean-pooled), cnn (centred temporal CNN)
    /// or qrnn (both directions), max-pooled [default: bilstm].
    #[arg(long, value_enum, value_name = "K")]
    pub encoder: Option<EncoderChoice>,
    /// Pooling over time: last, mean, max, attention [default: the encoder's recipe].
    #[arg(long, value_name = "P")]
    pub pooling: Option<String>,
    /// flex, ndarray or wgpu [default: flex].
    #[arg(long, value_name = "B")]
    pub backend: Option<String>,
    /// Train data-parallel on N devices of the backend [default: 1].
    #[arg(long, value_name = "N")]
    pub devices: Option<usize>,
    /// Epochs [default: 8]; with --resume, train on up to this many.
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Examples per batch [default: 64].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// The optimiser's base learning rate [default: the task's recipe; classify 2e-3].
    #[arg(long, value_name = "LR")]
    pub lr: Option<f64>,
    /// Seed of initialisation, shuffling and dropout [default: 0].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// GloVe/word2vec text file to initialise the embedding from.
    #[arg(long, value_name = "PATH")]
    pub embeddings: Option<PathBuf>,
    /// Keep the pretrained embedding fixed.
    #[arg(long)]
    pub freeze_embeddings: bool,
    /// Fine-tune from these weights: a safetensors state dict under PyTorch's names (another
    /// run's model.safetensors, or a PyTorch RNNClassifier of the same sizes and vocabulary).
    #[arg(long, value_name = "FILE.safetensors")]
    pub init_from: Option<PathBuf>,
    /// A complete or partial run config (JSON); flags override it. A run's own config.json
    /// reproduces that run.
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// The run folder [default: runs/<task>-<data>-<encoder>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its last completed epoch, with its config.json.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Replace whatever run is in --out.
    #[arg(long)]
    pub force: bool,
    /// Progress display: auto (terminal UI in a terminal, a line per epoch otherwise), tui,
    /// plain, quiet.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressChoice,
    /// Options of `--task tag`.
    #[command(flatten, next_help_heading = "Tag options (--task tag)")]
    pub tag: TagFlags,
    /// Options of `--task forecast` (`--attention` and `--hidden-size` also `--task seq2seq`).
    #[command(flatten, next_help_heading = "Forecast options (--task forecast)")]
    pub forecast: ForecastFlags,
    /// Options of `--task seq2seq`.
    #[command(flatten, next_help_heading = "Seq2seq options (--task seq2seq)")]
    pub seq2seq: Seq2SeqFlags,
}

/// Forecast flags `--task seq2seq` reads too.
const SHARED_WITH_SEQ2SEQ: &[&str] = &["--attention", "--hidden-size"];

/// `--encoder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncoderChoice {
    /// Elman RNN (tanh), one direction.
    Rnn,
    /// LSTM, one direction.
    Lstm,
    /// GRU, one direction.
    Gru,
    /// Elman RNN, both directions.
    Birnn,
    /// LSTM, both directions.
    Bilstm,
    /// GRU, both directions.
    Bigru,
    /// Transformer layers (seqmodel-attention's), mean over the real steps.
    Transformer,
    /// Temporal CNN (dilated residual convolutions), centred.
    Cnn,
    /// Quasi-RNN, both directions.
    Qrnn,
}

impl EncoderChoice {
    /// The encoder kind and whether it runs both directions.
    pub fn kind(self) -> (EncoderKind, bool) {
        match self {
            Self::Rnn => (EncoderKind::Rnn, false),
            Self::Lstm => (EncoderKind::Lstm, false),
            Self::Gru => (EncoderKind::Gru, false),
            Self::Birnn => (EncoderKind::Rnn, true),
            Self::Bilstm => (EncoderKind::Lstm, true),
            Self::Bigru => (EncoderKind::Gru, true),
            Self::Transformer => (EncoderKind::Transformer, false),
            Self::Cnn => (EncoderKind::Cnn, true),
            Self::Qrnn => (EncoderKind::Qrnn, true),
        }
    }
}

/// `--progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ProgressChoice {
    /// The terminal UI in a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// burn-train's terminal UI.
    Tui,
    /// One line per epoch.
    Plain,
    /// Nothing but the final result.
    Quiet,
}

impl From<ProgressChoice> for ProgressMode {
    fn from(choice: ProgressChoice) -> Self {
        match choice {
            ProgressChoice::Auto => Self::Auto,
            ProgressChoice::Tui => Self::Tui,
            ProgressChoice::Plain => Self::Plain,
            ProgressChoice::Quiet => Self::Quiet,
        }
    }
}

impl TrainArgs {
    /// The flags that change the config (everything but --task/--out/--resume/--force/
    /// --progress, and --epochs, which a resumed run may raise), the task-specific ones
    /// included.
    pub fn config_flags(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        let flags: [(&'static str, bool); 14] = [
            ("--init-from", self.init_from.is_some()),
            ("--data", self.data.is_some()),
            ("--text-column", self.text_column.is_some()),
            ("--label-column", self.label_column.is_some()),
            ("--encoder", self.encoder.is_some()),
            ("--pooling", self.pooling.is_some()),
            ("--backend", self.backend.is_some()),
            ("--devices", self.devices.is_some()),
            ("--batch-size", self.batch_size.is_some()),
            ("--lr", self.lr.is_some()),
            ("--seed", self.seed.is_some()),
            ("--embeddings", self.embeddings.is_some()),
            ("--freeze-embeddings", self.freeze_embeddings),
            ("--config", self.config.is_some()),
        ];
        for (flag, set) in flags {
            if set {
                given.push(flag);
            }
        }
        given.extend(self.tag.given());
        given.extend(self.forecast.given());
        given.extend(self.seq2seq.given());
        given
    }

    /// Applies the flags every task shares (`--backend`, `--devices`, `--epochs`,
    /// `--batch-size`, `--lr`, `--seed`) to a task's config.
    pub fn apply_run_flags(
        &self,
        backend: &mut String,
        devices: &mut usize,
        train: &mut seqmodel_train::TrainConfig,
    ) {
        if let Some(b) = &self.backend {
            backend.clone_from(b);
        }
        if let Some(n) = self.devices {
            *devices = n;
        }
        if let Some(n) = self.epochs {
            train.epochs = n;
        }
        if let Some(n) = self.batch_size {
            train.batch_size = n;
        }
        if let Some(lr) = self.lr {
            train.optimizer.set_lr(lr);
        }
        if let Some(seed) = self.seed {
            train.seed = seed;
        }
    }

    /// The flags given that only `--task classify` reads: another task refuses them.
    pub fn classify_only_flags(&self) -> Vec<&'static str> {
        let flags = [
            ("--text-column", self.text_column.is_some()),
            ("--label-column", self.label_column.is_some()),
            ("--pooling", self.pooling.is_some()),
        ];
        flags
            .into_iter()
            .filter_map(|(flag, set)| set.then_some(flag))
            .collect()
    }

    /// Refuses the flags of other tasks than `task`, naming them and the task they belong to.
    pub fn refuse_other_tasks_flags(&self, task: TaskName) -> Result<(), RunError> {
        let others: [(TaskName, Vec<&'static str>); 4] = [
            (TaskName::Classify, self.classify_only_flags()),
            (TaskName::Tag, self.tag.given()),
            (TaskName::Forecast, self.forecast.given()),
            (TaskName::Seq2seq, self.seq2seq.given()),
        ];
        for (owner, mut flags) in others {
            // Flags two tasks read.
            if task == TaskName::Seq2seq {
                flags.retain(|flag| !SHARED_WITH_SEQ2SEQ.contains(flag));
            }
            if owner != task && !flags.is_empty() {
                return Err(RunError::ConfigValue {
                    origin: PathBuf::from("command line"),
                    field: flags.join(", "),
                    message: format!(
                        "only --task {} reads {}; this run is --task {}",
                        owner.as_str(),
                        if flags.len() == 1 { "it" } else { "them" },
                        task.as_str()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The task of this invocation: with `--resume` and `--out`, the run's own `config.json`
    /// (a `--task` must agree with it); otherwise `--task`, else the `--config` file's task,
    /// else `classify`.
    pub fn task(&self) -> Result<TaskName, RunError> {
        if self.resume
            && let Some(out) = &self.out
        {
            let config_path = out.join(CONFIG_FILE);
            if !config_path.is_file() {
                return Err(RunError::NoRun {
                    dir: out.clone(),
                    what: CONFIG_FILE.into(),
                });
            }
            let task = read_task(&config_path, None)?;
            if let Some(given) = self.task
                && given != task
            {
                return Err(RunError::ConfigValue {
                    origin: config_path,
                    field: "task".into(),
                    message: format!(
                        "the run in this folder is --task {}, not --task {}",
                        task.as_str(),
                        given.as_str()
                    ),
                });
            }
            return Ok(task);
        }
        if let Some(task) = self.task {
            return Ok(task);
        }
        match &self.config {
            Some(path) => read_task(path, Some(self.task.unwrap_or(TaskName::Classify))),
            None => Ok(TaskName::Classify),
        }
    }

    /// The config of a new run: `--config` (or the default), then the flags.
    pub fn new_config(&self) -> Result<RunConfig, RunError> {
        let origin = PathBuf::from("command line");
        let mut config = match &self.config {
            Some(path) => RunConfig::read(path)?,
            None => RunConfig::default_classify(),
        };
        if let Some(task) = self.task {
            config.task = task;
        }
        if let Some(source) = &self.data {
            config.data.source = source.clone();
            if !data::is_bundled(source)
                && config.data.split == crate::run::config::SplitConfig::Baseline
            {
                config.data.split = crate::run::config::SplitConfig::default();
            }
        }
        if let Some(c) = &self.text_column {
            config.data.text_column = c.clone();
        }
        if let Some(c) = &self.label_column {
            config.data.label_column = c.clone();
        }
        if let Some(choice) = self.encoder {
            let (kind, bidirectional) = choice.kind();
            config.model.encoder.kind = kind;
            config.model.encoder.bidirectional = bidirectional;
            // The baseline recipes: max-pool both directions, the final state of one; the
            // mean of a Transformer's steps.
            config.model.pooling = if kind == EncoderKind::Transformer {
                Pooling::Mean
            } else if bidirectional {
                Pooling::Max
            } else {
                Pooling::Last
            };
        }
        if let Some(p) = &self.pooling {
            config.model.pooling =
                p.parse()
                    .map_err(|error: seqmodel_tasks::TaskError| RunError::ConfigValue {
                        origin: origin.clone(),
                        field: "--pooling".into(),
                        message: error.to_string(),
                    })?;
        }
        self.apply_run_flags(&mut config.backend, &mut config.devices, &mut config.train);
        if let Some(path) = &self.embeddings {
            config.data.embeddings = Some(path.clone());
        }
        if self.freeze_embeddings {
            config.data.freeze_embeddings = true;
        }
        if let Some(path) = &self.init_from {
            config.init_from = Some(path.clone());
        }
        config.validate(self.config.as_deref().unwrap_or(&origin))?;
        Ok(config)
    }
}

/// The default run folder of `config`.
pub fn default_out(config: &RunConfig) -> PathBuf {
    let source = Path::new(&config.data.source)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("data")
        .to_string();
    PathBuf::from("runs").join(format!(
        "{}-{source}-{}",
        config.task.as_str(),
        report::encoder_tag(config)
    ))
}

/// Runs `cargo xtask train`: the task's own pipeline.
pub fn run(args: &TrainArgs) -> Result<(), RunError> {
    let task = args.task()?;
    args.refuse_other_tasks_flags(task)?;
    match task {
        TaskName::Classify => run_classify(args),
        TaskName::Tag => crate::run::tag::train(args),
        TaskName::Forecast => crate::run::forecast::train(args),
        TaskName::Seq2seq => crate::run::seq2seq::train(args),
    }
}

/// `cargo xtask train --task classify`.
fn run_classify(args: &TrainArgs) -> Result<(), RunError> {
    let (config, out, resume_after) = start_or_resume(
        args,
        TaskName::Classify,
        TrainArgs::new_config,
        default_out,
        Some(default_out(&RunConfig::default_classify())),
    )?;

    let split = data::read_split(&config.data)?;
    let lexicon = if resume_after.is_some() {
        let saved = Lexicon::load(&out)?;
        let rebuilt = Lexicon::build(&config, &split)?;
        if saved.vocab.tokens() != rebuilt.vocab.tokens() || saved.labels != rebuilt.labels {
            return Err(RunError::Data(format!(
                "{}: the data changed since the run started (its vocabulary or classes differ \
                 from {}); resume with the same data, or start a new run",
                config.data.source,
                out.join(classify::VOCAB_FILE).display()
            )));
        }
        saved
    } else {
        Lexicon::build(&config, &split)?
    };
    // Everything that can be checked without training is checked: build the model once.
    let device = config.backend()?.device()?;
    classify::init_from(&config, classify::new_model(&config, &lexicon, &device)?)?;

    if args.force && out.exists() {
        std::fs::remove_dir_all(&out).map_err(|error| RunError::io(&out, error))?;
    }
    std::fs::create_dir_all(&out).map_err(|error| RunError::io(&out, error))?;
    let config_path = out.join(CONFIG_FILE);
    write_atomic(&config_path, config.to_json().as_bytes())
        .map_err(|error| RunError::io(&config_path, error))?;
    lexicon.save(&out)?;
    let sizes = [
        split.train.items().len(),
        split.valid.items().len(),
        split.test.items().len(),
    ];
    println!(
        "classify {}: {} / {} / {} examples, {} classes, vocabulary {}, {} on {} → {}",
        config.data.source,
        sizes[0],
        sizes[1],
        sizes[2],
        lexicon.labels.len(),
        lexicon.vocab.len(),
        report::encoder_tag(&config),
        config.backend,
        out.display()
    );

    let trained = classify::train(
        &config,
        &split,
        &lexicon,
        &out,
        resume_after,
        args.progress.into(),
    )?;
    let test_items = lexicon.relabel(&split.test)?;
    let test = classify::evaluate(&trained.model, &lexicon, &test_items, &device)?;
    seqmodel_train::plots::plot_curves(&trained.summary.epochs, &out)
        .map_err(|error| RunError::Train(error.to_string()))?;
    seqmodel_train::plots::plot_confusion(
        &test.confusion,
        lexicon.labels.names(),
        "test confusion matrix",
        &out.join("confusion.png"),
    )
    .map_err(|error| RunError::Train(error.to_string()))?;
    let device_text = device_description(&config);
    report::write(&ReportInputs {
        config: &config,
        epochs: &trained.summary.epochs,
        epoch: trained.epoch,
        stopped_early_after: trained.summary.stopped_early_after,
        test: &test,
        labels: lexicon.labels.names(),
        parameters: classify::parameter_count(&trained.model),
        vocab: lexicon.vocab.len(),
        split_sizes: sizes,
        device: device_text,
        dir: &out,
    })?;
    RunSummary::new(
        (
            "classify",
            &config.data.source,
            report::encoder_tag(&config),
        ),
        config.train.seed,
        &trained.summary.epochs,
        trained.epoch,
        classify::parameter_count(&trained.model),
    )
    .score("accuracy", test.report.accuracy * 100.0)
    .score("macro_f1", test.report.macro_avg.f_score * 100.0)
    .write(&out)?;
    println!(
        "test: accuracy {:.2} %, macro-F1 {:.2} % ({} examples, weights of epoch {}); report: {}",
        test.report.accuracy * 100.0,
        test.report.macro_avg.f_score * 100.0,
        test.examples,
        trained.epoch,
        out.join(REPORT_FILE).display()
    );
    Ok(())
}

fn device_description(config: &RunConfig) -> String {
    match config.backend() {
        Ok(backend) => format!("{backend:?}"),
        Err(_) => config.backend.clone(),
    }
}

/// What `train` needs of a task's run config (its `config.json`) to start or resume a run.
pub trait RunConfigFile: Sized {
    /// Reads and validates a config file.
    fn read_file(path: &Path) -> Result<Self, RunError>;
    /// Checks the config; errors name `origin` and the field.
    fn check(&self, origin: &Path) -> Result<(), RunError>;
    /// The number of epochs to train (a resumed run may raise it).
    fn epochs_mut(&mut self) -> &mut usize;
}

/// Every task's run config has `read`, `validate` and `train.epochs`.
macro_rules! run_config_files {
    ($($config:ty),+) => {$(
        impl RunConfigFile for $config {
            fn read_file(path: &Path) -> Result<Self, RunError> {
                Self::read(path)
            }
            fn check(&self, origin: &Path) -> Result<(), RunError> {
                self.validate(origin)
            }
            fn epochs_mut(&mut self) -> &mut usize {
                &mut self.train.epochs
            }
        }
    )+};
}

run_config_files!(
    RunConfig,
    crate::run::tag::config::TagRunConfig,
    crate::run::forecast::config::ForecastRunConfig,
    crate::run::seq2seq::config::Seq2SeqRunConfig
);

/// The config, run folder and (with `--resume`) last completed epoch of a `train` invocation.
///
/// A new run: `new_config` from the flags, the folder from `--out` or `default_out`, which must
/// not hold a run unless `--force`. A resumed run: the folder's own `config.json` (in `--out`,
/// else `resume_out`), with only `--epochs` allowed to change it, and a completed epoch to
/// continue from.
///
/// # Errors
/// Names the flag, file or field, and the fix.
pub fn start_or_resume<C: RunConfigFile>(
    args: &TrainArgs,
    task: TaskName,
    new_config: impl FnOnce(&TrainArgs) -> Result<C, RunError>,
    default_out: impl FnOnce(&C) -> PathBuf,
    resume_out: Option<PathBuf>,
) -> Result<(C, PathBuf, Option<usize>), RunError> {
    if !args.resume {
        let config = new_config(args)?;
        let out = args.out.clone().unwrap_or_else(|| default_out(&config));
        check_fresh_folder(&out, args.force)?;
        return Ok((config, out, None));
    }
    refuse_flags_on_resume(args)?;
    let out = args
        .out
        .clone()
        .or(resume_out)
        .ok_or_else(|| RunError::ConfigValue {
            origin: PathBuf::from("command line"),
            field: "--out".into(),
            message: format!(
                "--resume --task {} needs the run folder: pass --out DIR",
                task.as_str()
            ),
        })?;
    let config_path = out.join(CONFIG_FILE);
    if !config_path.is_file() {
        return Err(RunError::NoRun {
            dir: out,
            what: CONFIG_FILE.into(),
        });
    }
    let mut config = C::read_file(&config_path)?;
    if let Some(epochs) = args.epochs {
        *config.epochs_mut() = epochs;
        config.check(&config_path)?;
    }
    let epoch = resumable_epoch(&out, *config.epochs_mut())?;
    Ok((config, out, Some(epoch)))
}

/// `--resume` of any task: refuses config-changing flags (only `--epochs` may change).
///
/// # Errors
/// Names the flags given.
pub fn refuse_flags_on_resume(args: &TrainArgs) -> Result<(), RunError> {
    let flags = args.config_flags();
    if flags.is_empty() {
        return Ok(());
    }
    Err(RunError::ConfigValue {
        origin: PathBuf::from("command line"),
        field: flags.join(", "),
        message: "--resume continues a run with its own config.json; only --epochs may \
                  change (drop the other flags, or start a new run with --out)"
            .into(),
    })
}

/// The last completed epoch of the run in `out`, which must be below `epochs` for a resume to
/// have work to do.
///
/// # Errors
/// No epoch was completed, or all `epochs` are (the message says to raise `--epochs`).
pub fn resumable_epoch(out: &Path, epochs: usize) -> Result<usize, RunError> {
    let marker = read_marker(&out.join(CHECKPOINT_DIR))?;
    let Some(marker) = marker else {
        return Err(RunError::NoRun {
            dir: out.to_path_buf(),
            what: format!("{CHECKPOINT_DIR}/{MARKER_FILE} (no epoch was completed)"),
        });
    };
    if marker.epoch >= epochs {
        return Err(RunError::ConfigValue {
            origin: out.join(CONFIG_FILE),
            field: "train.epochs".into(),
            message: format!(
                "the run has completed all {} epochs; pass --epochs N (N > {}) to train further",
                marker.epoch, marker.epoch
            ),
        });
    }
    Ok(marker.epoch)
}

/// A new run must not land on an existing one, unless `--force`.
///
/// # Errors
/// A finished run (its `report.md`) or an unfinished one (a checkpoint marker) is in `out`.
pub fn check_fresh_folder(out: &Path, force: bool) -> Result<(), RunError> {
    if force {
        return Ok(());
    }
    if out.join(REPORT_FILE).is_file() {
        return Err(RunError::RunFinished {
            dir: out.to_path_buf(),
        });
    }
    if let Some(marker) = read_marker(&out.join(CHECKPOINT_DIR))? {
        return Err(RunError::ConfigValue {
            origin: out.to_path_buf(),
            field: "--out".into(),
            message: format!(
                "an unfinished run is there (epoch {} complete); pass --resume to continue it or \
                 --force to start over",
                marker.epoch
            ),
        });
    }
    Ok(())
}
