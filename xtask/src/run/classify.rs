//! The `classify` task end to end: vocabulary, model, `seqmodel_train::fit`, the best epoch's
//! weights, test metrics; and loading a finished run for `eval` and `predict`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::tensor::Device;
use seqmodel_data::{
    LabelSet, PaddingConfig, PretrainedEmbeddings, TextClassItem, TextClassificationBatcher,
    TextClassificationDataset, Tokenizer, Vocab, VocabConfig, WhitespaceTokenizer,
};
use seqmodel_metrics::{ClassificationAccumulator, ClassificationReport, PrfConfig};
use seqmodel_tasks::TextClassifier;
use seqmodel_train::{
    ClassificationMetrics, MODEL_FILE, ProgressMode, TrainSummary, load_model, write_atomic,
};

use super::config::RunConfig;
use super::data::SplitData;
use super::error::RunError;
use crate::run::fit::{FitJob, Fitted, fit_best};

/// The vocabulary of a run.
pub const VOCAB_FILE: &str = "vocab.json";
/// The class names of a run, in id order.
pub const LABELS_FILE: &str = "labels.json";

/// The best epoch's weights under PyTorch's names (`RNNClassifier` of the baseline script), for
/// `torch`'s `load_state_dict(safetensors.torch.load_file(...))`.
pub const SAFETENSORS_FILE: &str = "model.safetensors";

/// What a classification run needs beside its config: the tokeniser, vocabulary and classes.
#[derive(Debug, Clone)]
pub struct Lexicon {
    /// Splits texts into tokens.
    pub tokenizer: Arc<dyn Tokenizer>,
    /// Token ids.
    pub vocab: Arc<Vocab>,
    /// Class names by id.
    pub labels: LabelSet,
}

impl Lexicon {
    /// Builds the vocabulary from the training split.
    pub fn build(config: &RunConfig, data: &SplitData) -> Result<Self, RunError> {
        let tokenizer: Arc<dyn Tokenizer> = Arc::new(WhitespaceTokenizer::default());
        let mut vocab_config = VocabConfig::default()
            .with_bos_eos(false) // a classifier reads, it never generates
            .with_min_freq(config.data.min_freq);
        if let Some(max) = config.data.max_vocab {
            vocab_config = vocab_config.with_max_size(max);
        }
        let vocab = data.train.build_vocab(tokenizer.as_ref(), &vocab_config)?;
        Ok(Self {
            tokenizer,
            vocab: Arc::new(vocab),
            labels: data.train.labels().clone(),
        })
    }

    /// Writes `vocab.json` and `labels.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), RunError> {
        let path = dir.join(VOCAB_FILE);
        write_atomic(&path, self.vocab.to_json().as_bytes())
            .map_err(|error| RunError::io(&path, error))?;
        let path = dir.join(LABELS_FILE);
        let json = serde_json::to_string_pretty(self.labels.names())
            .map_err(|error| RunError::io(&path, std::io::Error::other(error)))?;
        write_atomic(&path, json.as_bytes()).map_err(|error| RunError::io(&path, error))
    }

    /// Reads what [`Lexicon::save`] wrote.
    pub fn load(dir: &Path) -> Result<Self, RunError> {
        let vocab_path = dir.join(VOCAB_FILE);
        if !vocab_path.is_file() {
            return Err(RunError::NoRun {
                dir: dir.to_path_buf(),
                what: VOCAB_FILE.into(),
            });
        }
        let vocab = Vocab::load(&vocab_path)?;
        let path = dir.join(LABELS_FILE);
        let bytes = std::fs::read(&path).map_err(|error| RunError::io(&path, error))?;
        let names: Vec<String> =
            serde_json::from_slice(&bytes).map_err(|error| RunError::ConfigFile {
                path: path.clone(),
                message: error.to_string(),
            })?;
        let labels = LabelSet::new(names)
            .map_err(|error| RunError::Data(format!("{}: {error}", path.display())))?;
        Ok(Self {
            tokenizer: Arc::new(WhitespaceTokenizer::default()),
            vocab: Arc::new(vocab),
            labels,
        })
    }

    /// The batcher of this lexicon.
    pub fn batcher(&self) -> Result<TextClassificationBatcher, RunError> {
        let padding = PaddingConfig {
            pad_id: self.vocab.pad_id(),
            ..PaddingConfig::default()
        };
        Ok(TextClassificationBatcher::new(
            self.tokenizer.clone(),
            self.vocab.clone(),
            padding,
        )?)
    }

    /// Re-labels `data` (read with its own label set) into this lexicon's class ids: a class
    /// the run never saw is an error naming it.
    pub fn relabel(
        &self,
        data: &TextClassificationDataset,
    ) -> Result<Vec<TextClassItem>, RunError> {
        data.items()
            .iter()
            .map(|item| {
                let name = data.labels().name(item.label)?;
                let label = self.labels.id(name).map_err(|_| {
                    RunError::Data(format!(
                        "label \"{name}\" is not one the run was trained on ({})",
                        self.labels.names().join(", ")
                    ))
                })?;
                Ok(TextClassItem {
                    text: item.text.clone(),
                    label,
                })
            })
            .collect()
    }
}

/// A new model for `config` and `lexicon` on `device` (pretrained embeddings if configured).
pub fn new_model(
    config: &RunConfig,
    lexicon: &Lexicon,
    device: &Device,
) -> Result<TextClassifier, RunError> {
    let vocab = lexicon.vocab.len();
    let classes = lexicon.labels.len();
    config
        .model
        .validate(vocab, classes)
        .map_err(|error| RunError::ConfigValue {
            origin: PathBuf::from("config"),
            field: "model".into(),
            message: error.to_string(),
        })?;
    match &config.data.embeddings {
        None => Ok(config
            .model
            .init(vocab, classes, lexicon.vocab.pad_id(), device)?),
        Some(path) => {
            let vectors = PretrainedEmbeddings::read(path)?;
            let aligned = vectors.align(&lexicon.vocab, &Default::default());
            Ok(config.model.init_with_embeddings(
                &aligned,
                !config.data.freeze_embeddings,
                classes,
                lexicon.vocab.pad_id(),
                device,
            )?)
        }
    }
}

/// Fine-tuning: every parameter from `config.init_from`, if set (a missing, extra or mis-shaped
/// one is an error naming it and the file); a resumed run then loads its checkpoint over them.
pub fn init_from(config: &RunConfig, model: TextClassifier) -> Result<TextClassifier, RunError> {
    let Some(path) = &config.init_from else {
        return Ok(model);
    };
    let dict =
        seqmodel_tasks::StateDict::read(path).map_err(|error| RunError::Task(error.to_string()))?;
    model
        .load_state_dict(&dict)
        .map_err(|error| RunError::Task(format!("--init-from {}: {error}", path.display())))
}

/// How a training call ended.
#[derive(Debug)]
pub struct Trained {
    /// burn-train's summary (epochs, best epoch, time).
    pub summary: TrainSummary,
    /// The best epoch's weights on the inference device.
    pub model: TextClassifier,
    /// The epoch whose weights `model` holds.
    pub epoch: usize,
}

/// Trains (or resumes) the run in `out`; writes `model.bpk` with the best epoch's weights.
pub fn train(
    config: &RunConfig,
    data: &SplitData,
    lexicon: &Lexicon,
    out: &Path,
    resume_after: Option<usize>,
    progress: ProgressMode,
) -> Result<Trained, RunError> {
    let backend = config.backend()?;
    let device = backend.device()?;
    let train_device = device.clone().autodiff();
    // The initial weights depend on the seed only (a resumed run loads its checkpoint over them).
    train_device.seed(config.train.seed);
    let model = init_from(config, new_model(config, lexicon, &train_device)?)?;
    let fresh = new_model(config, lexicon, &device)?;
    let job = FitJob {
        train: lexicon.relabel(&data.train)?,
        valid: lexicon.relabel(&data.valid)?,
        batcher: Arc::new(lexicon.batcher()?),
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
    } = fit_best(model, fresh, job, ClassificationMetrics)?;
    export_safetensors(&model, &out.join(SAFETENSORS_FILE))?;
    Ok(Trained {
        summary,
        model,
        epoch,
    })
}

/// Writes `model`'s parameters under PyTorch's names as safetensors (atomically).
pub fn export_safetensors(model: &TextClassifier, path: &Path) -> Result<(), RunError> {
    let bytes = model
        .state_dict()
        .to_bytes()
        .map_err(|error| RunError::Task(error.to_string()))?;
    write_atomic(path, &bytes).map_err(|error| RunError::io(path, error))
}

/// A finished run, loaded for `eval` or `predict`.
#[derive(Debug)]
pub struct LoadedRun {
    /// Its config.
    pub config: RunConfig,
    /// Its tokeniser, vocabulary and classes.
    pub lexicon: Lexicon,
    /// Its final weights on the inference device.
    pub model: TextClassifier,
    /// The device.
    pub device: Device,
}

/// Loads `config.json`, the lexicon and `model.bpk` of the run in `dir`.
pub fn load_run(dir: &Path) -> Result<LoadedRun, RunError> {
    let config_path = dir.join(super::config::CONFIG_FILE);
    if !config_path.is_file() {
        return Err(RunError::NoRun {
            dir: dir.to_path_buf(),
            what: super::config::CONFIG_FILE.into(),
        });
    }
    let config = RunConfig::read(&config_path)?;
    let model_path = dir.join(MODEL_FILE);
    if !model_path.is_file() {
        return Err(RunError::NoRun {
            dir: dir.to_path_buf(),
            what: format!("{MODEL_FILE}, written when training ends"),
        });
    }
    let lexicon = Lexicon::load(dir)?;
    let device = config.backend()?.device()?;
    let model = load_model(new_model(&config, &lexicon, &device)?, &model_path)?;
    Ok(LoadedRun {
        config,
        lexicon,
        model,
        device,
    })
}

/// Test-set scores.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Examples scored.
    pub examples: usize,
    /// Accuracy and the averaged precision, recall and F1 over the classes present in gold or
    /// predictions (scikit-learn's defaults, as the validation metrics of training).
    pub report: ClassificationReport<usize>,
    /// Precision, recall, F1 and support of every class of the run, absent ones included
    /// (0/0 = 0), in class-id order.
    pub per_class: Vec<(usize, seqmodel_metrics::ClassScores)>,
    /// Rows: gold class, columns: predicted class (class ids).
    pub confusion: Vec<Vec<u64>>,
}

/// Class probabilities `[examples][classes]` of `items`, in order.
pub fn probabilities(
    model: &TextClassifier,
    batcher: &TextClassificationBatcher,
    items: &[TextClassItem],
    device: &Device,
) -> Result<Vec<Vec<f32>>, RunError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(crate::run::fit::EVAL_BATCH) {
        let batch = batcher.batch(chunk.to_vec(), device);
        let probs = model.probabilities(&batch.tokens)?;
        let [rows, classes] = probs.dims();
        let values = probs
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|error| RunError::Task(format!("reading probabilities: {error:?}")))?;
        out.extend((0..rows).map(|r| values[r * classes..(r + 1) * classes].to_vec()));
    }
    Ok(out)
}

/// The index of the largest value (the first of equal ones).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// Scores `items` (labels in the run's ids) with seqmodel-metrics.
pub fn evaluate(
    model: &TextClassifier,
    lexicon: &Lexicon,
    items: &[TextClassItem],
    device: &Device,
) -> Result<Evaluation, RunError> {
    let batcher = lexicon.batcher()?;
    let probs = probabilities(model, &batcher, items, device)?;
    let gold: Vec<usize> = items.iter().map(|i| i.label).collect();
    let pred: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    let metric_error = |error: seqmodel_metrics::Error| RunError::Task(error.to_string());
    let mut accumulator = ClassificationAccumulator::new();
    accumulator.update(&gold, &pred).map_err(metric_error)?;
    let classes: Vec<usize> = (0..lexicon.labels.len()).collect();
    let every_class = PrfConfig {
        labels: Some(classes.clone()),
        ..PrfConfig::default()
    };
    Ok(Evaluation {
        examples: items.len(),
        report: accumulator
            .report(&PrfConfig::default())
            .map_err(metric_error)?,
        per_class: accumulator.per_class(&every_class).map_err(metric_error)?,
        confusion: accumulator
            .confusion_matrix(Some(&classes))
            .map_err(metric_error)?,
    })
}

/// The number of parameters of `model`.
pub fn parameter_count(model: &TextClassifier) -> usize {
    model.num_params()
}
