//! `cargo xtask train | eval | predict --task tag`: a tag per token (UPOS on ud-ewt, entities
//! on uner-ewt, or a user's CoNLL-U / two-column IOB2 file) with `seqmodel_tasks::SequenceTagger`
//! trained by `seqmodel_train::fit`.
//!
//! A run folder holds `config.json` (`"task": "tag"`), `words.json`, `chars.json`, `tags.json`,
//! `checkpoint/`, `metrics.jsonl`, `model.bpk` (the best validation epoch's weights),
//! `report.md` and the loss and metric curves (PNG).

pub mod config;
mod data;
mod report;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::Device;
use clap::Args;
use seqmodel_data::{LabelSet, Vocab};
use seqmodel_tasks::{CharKind, SequenceTagger, TagBatcher, TagEncoder, TagItem};
use seqmodel_train::{MODEL_FILE, TaggingMetrics, load_model, write_atomic};

use self::config::{TagFormat, TagRunConfig};
use self::report::TagReportInputs;
use super::config::CONFIG_FILE;
use super::error::RunError;
use super::report::REPORT_FILE;
use super::summary::RunSummary;
use crate::eval::EvalArgs;
use crate::predict::PredictArgs;
use crate::run::config::TaskName;
use crate::run::fit::{FitJob, Fitted, fit_best};
use crate::train::{TrainArgs, start_or_resume};

/// The lower-cased word vocabulary of a run.
pub const WORDS_FILE: &str = "words.json";
/// The character vocabulary of a run.
pub const CHARS_FILE: &str = "chars.json";
/// The tag names of a run, in id order.
pub const TAGS_FILE: &str = "tags.json";

/// The `train` flags only `--task tag` reads (flattened into [`TrainArgs`]).
#[derive(Args, Debug, Default)]
pub struct TagFlags {
    /// Character features of each word: cnn, lstm or none [default: cnn].
    #[arg(long, value_name = "K")]
    pub char_features: Option<String>,
    /// Width of the word embedding [default: 100].
    #[arg(long, value_name = "N")]
    pub word_dim: Option<usize>,
    /// Words seen fewer times in the training split become <unk> [default: 2].
    #[arg(long, value_name = "N")]
    pub min_freq: Option<usize>,
}

impl TagFlags {
    /// The flags given, by name (a resumed run refuses them; other tasks refuse them).
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--char-features", self.char_features.is_some()),
            ("--word-dim", self.word_dim.is_some()),
            ("--min-freq", self.min_freq.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, set)| set.then_some(flag))
        .collect()
    }
}

/// The config of a new tag run: `--config` (or the defaults for `--data`), then the flags.
fn new_config(args: &TrainArgs) -> Result<TagRunConfig, RunError> {
    let origin = PathBuf::from("command line");
    let refused = [
        ("--embeddings", args.embeddings.is_some()),
        ("--freeze-embeddings", args.freeze_embeddings),
        ("--init-from", args.init_from.is_some()),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, set)| *set) {
        return Err(RunError::ConfigValue {
            origin,
            field: flag.to_string(),
            message: "--task tag does not read it (its word embeddings start random)".into(),
        });
    }
    let mut config = match &args.config {
        Some(path) => TagRunConfig::read(path)?,
        None => TagRunConfig::for_source(args.data.as_deref().unwrap_or("ud-ewt")),
    };
    if let Some(source) = &args.data {
        if args.config.is_some() {
            let fresh = TagRunConfig::for_source(source);
            config.data.split = fresh.data.split;
            config.train.monitor = fresh.train.monitor;
        }
        config.data.source = source.clone();
    }
    if let Some(choice) = args.encoder {
        let (kind, bidirectional) = choice.kind();
        config.model.encoder.kind = kind;
        config.model.encoder.bidirectional = bidirectional;
    }
    let flags = &args.tag;
    if let Some(kind) = &flags.char_features {
        config.model.chars.kind =
            kind.parse::<CharKind>()
                .map_err(|error| RunError::ConfigValue {
                    origin: origin.clone(),
                    field: "--char-features".into(),
                    message: error.to_string(),
                })?;
    }
    if let Some(n) = flags.word_dim {
        config.model.embedding_dim = n;
    }
    if let Some(n) = flags.min_freq {
        config.data.min_freq = n;
    }
    args.apply_run_flags(&mut config.backend, &mut config.devices, &mut config.train);
    config.validate(args.config.as_deref().unwrap_or(&origin))?;
    Ok(config)
}

/// `runs/tag-<data>-<char features>`.
fn default_out(config: &TagRunConfig) -> PathBuf {
    let source = Path::new(&config.data.source)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("data")
        .to_string();
    PathBuf::from("runs").join(format!(
        "tag-{source}-char{}",
        config.model.chars.kind.name()
    ))
}

/// Saves the vocabularies into `dir`.
fn save_encoder(encoder: &TagEncoder, dir: &Path) -> Result<(), RunError> {
    for (name, json) in [
        (WORDS_FILE, encoder.words.to_json()),
        (CHARS_FILE, encoder.chars.to_json()),
    ] {
        let path = dir.join(name);
        write_atomic(&path, json.as_bytes()).map_err(|error| RunError::io(&path, error))?;
    }
    let path = dir.join(TAGS_FILE);
    let json = serde_json::to_string_pretty(encoder.tags.names())
        .map_err(|error| RunError::io(&path, std::io::Error::other(error)))?;
    write_atomic(&path, json.as_bytes()).map_err(|error| RunError::io(&path, error))
}

/// Reads what [`save_encoder`] wrote.
fn load_encoder(dir: &Path) -> Result<TagEncoder, RunError> {
    let words_path = dir.join(WORDS_FILE);
    if !words_path.is_file() {
        return Err(RunError::NoRun {
            dir: dir.to_path_buf(),
            what: WORDS_FILE.into(),
        });
    }
    let words = Vocab::load(&words_path)?;
    let chars = Vocab::load(dir.join(CHARS_FILE))?;
    let path = dir.join(TAGS_FILE);
    let bytes = std::fs::read(&path).map_err(|error| RunError::io(&path, error))?;
    let names: Vec<String> =
        serde_json::from_slice(&bytes).map_err(|error| RunError::ConfigFile {
            path: path.clone(),
            message: error.to_string(),
        })?;
    let tags = LabelSet::new(names)
        .map_err(|error| RunError::Data(format!("{}: {error}", path.display())))?;
    Ok(TagEncoder { words, chars, tags })
}

/// A new tagger for `config` and `encoder` on `device`.
fn new_model(
    config: &TagRunConfig,
    encoder: &TagEncoder,
    device: &Device,
) -> Result<SequenceTagger, RunError> {
    config
        .model
        .init(
            encoder.words.len(),
            encoder.chars.len(),
            encoder.tags.len(),
            device,
        )
        .map_err(|error| RunError::ConfigValue {
            origin: PathBuf::from("config"),
            field: "model".into(),
            message: error.to_string(),
        })
}

/// `sentences` as ids; a tag the run does not know is an error naming it.
fn encode_all(
    encoder: &TagEncoder,
    sentences: &[seqmodel_data::TaggedSentence],
    source: &str,
) -> Result<Vec<TagItem>, RunError> {
    sentences
        .iter()
        .map(|s| {
            encoder.encode_sentence(s).map_err(|error| {
                RunError::Data(format!(
                    "{source}: {error} (the run knows the tags {})",
                    encoder.tags.names().join(", ")
                ))
            })
        })
        .collect()
}

/// `cargo xtask train --task tag`.
pub fn train(args: &TrainArgs) -> Result<(), RunError> {
    let (config, out, resume_after) =
        start_or_resume(args, TaskName::Tag, new_config, default_out, None)?;

    // Everything that can fail on the data fails before the folder is touched.
    let data = data::read_split(&config.data)?;
    let fitted = TagEncoder::fit(&data.train, &data.valid, config.data.min_freq)?;
    let encoder = if resume_after.is_some() {
        let saved = load_encoder(&out)?;
        if saved != fitted {
            return Err(RunError::Data(format!(
                "{}: the data changed since the run started (its vocabularies or tags differ \
                 from {}); resume with the same data, or start a new run",
                config.data.source,
                out.join(WORDS_FILE).display()
            )));
        }
        saved
    } else {
        fitted
    };
    let source = &config.data.source;
    let train_items = encode_all(&encoder, &data.train, source)?;
    let valid_items = encode_all(&encoder, &data.valid, source)?;
    let device = config.backend()?.device()?;
    new_model(&config, &encoder, &device)?;

    if args.force && out.exists() && resume_after.is_none() {
        std::fs::remove_dir_all(&out).map_err(|error| RunError::io(&out, error))?;
    }
    std::fs::create_dir_all(&out).map_err(|error| RunError::io(&out, error))?;
    let config_path = out.join(CONFIG_FILE);
    write_atomic(&config_path, config.to_json().as_bytes())
        .map_err(|error| RunError::io(&config_path, error))?;
    save_encoder(&encoder, &out)?;
    let sizes = [data.train.len(), data.valid.len(), data.test.len()];
    println!(
        "tag {source}: {} / {} / {} sentences, {} tags, {} words, {} characters, char \
         features {} on {} → {}",
        sizes[0],
        sizes[1],
        sizes[2],
        encoder.tags.len(),
        encoder.words.len(),
        encoder.chars.len(),
        config.model.chars.kind.name(),
        config.backend,
        out.display()
    );

    let train_device = device.clone().autodiff();
    train_device.seed(config.train.seed);
    let model = new_model(&config, &encoder, &train_device)?;
    let batcher = Arc::new(TagBatcher::new(config.data.max_word_chars));
    let metrics = TaggingMetrics {
        tag_names: encoder.tags.names().to_vec().into(),
        entities: data.format == TagFormat::Iob2,
    };
    let job = FitJob {
        train: train_items,
        valid: valid_items,
        batcher: batcher.clone(),
        config: &config.train,
        devices: config.devices,
        device: &device,
        out: &out,
        resume_after,
        progress: args.progress.into(),
    };
    let fresh = new_model(&config, &encoder, &device)?;
    let Fitted {
        summary,
        model,
        epoch,
    } = fit_best(model, fresh, job, metrics)?;

    let test = report::evaluate(&model, &encoder, &batcher, &data.test, data.format, &device)?;
    seqmodel_train::plots::plot_curves(&summary.epochs, &out)
        .map_err(|error| RunError::Train(error.to_string()))?;
    report::write(&TagReportInputs {
        config: &config,
        epochs: &summary.epochs,
        epoch,
        test: &test,
        parameters: model.num_params(),
        vocab_sizes: [encoder.words.len(), encoder.chars.len(), encoder.tags.len()],
        split_sizes: sizes,
        dir: &out,
    })?;
    let mut run_summary = RunSummary::new(
        (
            "tag",
            source,
            super::report::encoder_word(&config.model.encoder),
        ),
        config.train.seed,
        &summary.epochs,
        epoch,
        model.num_params(),
    )
    .score("accuracy", test.accuracy * 100.0);
    if let Some([default, strict]) = &test.entities {
        run_summary = run_summary
            .score("entity_f1", default.micro.f_score * 100.0)
            .score("entity_f1_strict", strict.micro.f_score * 100.0);
    }
    run_summary.write(&out)?;
    report::print(&format!("test (weights of epoch {epoch})"), &test);
    println!("report: {}", out.join(REPORT_FILE).display());
    Ok(())
}

/// A finished tag run.
struct LoadedRun {
    config: TagRunConfig,
    encoder: TagEncoder,
    model: SequenceTagger,
    device: Device,
}

fn load_run(dir: &Path) -> Result<LoadedRun, RunError> {
    let config = TagRunConfig::read(&dir.join(CONFIG_FILE))?;
    let model_path = dir.join(MODEL_FILE);
    if !model_path.is_file() {
        return Err(RunError::NoRun {
            dir: dir.to_path_buf(),
            what: format!("{MODEL_FILE}, written when training ends"),
        });
    }
    let encoder = load_encoder(dir)?;
    let device = config.backend()?.device()?;
    let model = load_model(new_model(&config, &encoder, &device)?, &model_path)?;
    Ok(LoadedRun {
        config,
        encoder,
        model,
        device,
    })
}

/// Milliseconds of batch-1 tagging of up to `examples` test sentences of the run in `dir`
/// (see [`crate::run::latency::latency_ms`]).
pub fn latency_ms(dir: &Path, examples: usize) -> Result<Vec<f64>, RunError> {
    let run = load_run(dir)?;
    let data = data::read_split(&run.config.data)?;
    let batcher = TagBatcher::new(run.config.data.max_word_chars);
    let sentences: Vec<Vec<String>> = data.test.into_iter().map(|s| s.tokens).collect();
    crate::run::latency::time_each(&sentences, examples, |tokens| {
        report::tag_sentences(
            &run.model,
            &run.encoder,
            &batcher,
            std::slice::from_ref(tokens),
            &run.device,
        )
        .map(drop)
    })
}

/// `cargo xtask eval` of a tag run: its test split, or `--data` (a bundled name: its test file).
pub fn eval(args: &EvalArgs) -> Result<(), RunError> {
    let run = load_run(&args.run)?;
    let (name, sentences, format) = match &args.data {
        None => {
            let data = data::read_split(&run.config.data)?;
            (
                format!("{} (test split)", run.config.data.source),
                data.test,
                data.format,
            )
        }
        Some(source) => (
            source.clone(),
            data::read_all(source)?,
            TagFormat::of(source),
        ),
    };
    if sentences.is_empty() {
        return Err(RunError::Data(format!("{name}: no sentences to score")));
    }
    // Unknown tags are refused before scoring, naming the tag.
    encode_all(&run.encoder, &sentences, &name)?;
    let batcher = TagBatcher::new(run.config.data.max_word_chars);
    let evaluation = report::evaluate(
        &run.model,
        &run.encoder,
        &batcher,
        &sentences,
        format,
        &run.device,
    )?;
    report::print(&name, &evaluation);
    Ok(())
}

/// `cargo xtask predict` of a tag run: one sentence per input line (whitespace tokens); prints
/// `token<TAB>tag` lines, a blank line after each sentence (the two-column format `eval` reads).
pub fn predict(args: &PredictArgs) -> Result<(), RunError> {
    let run = load_run(&args.run)?;
    let text = crate::predict::read_input(args)?;
    let sentences: Vec<Vec<String>> = text
        .lines()
        .map(|line| {
            line.split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|tokens| !tokens.is_empty())
        .collect();
    let batcher = TagBatcher::new(run.config.data.max_word_chars);
    let tags = report::tag_sentences(&run.model, &run.encoder, &batcher, &sentences, &run.device)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (tokens, tags) in sentences.iter().zip(&tags) {
        let mut text = String::new();
        for (token, tag) in tokens.iter().zip(tags) {
            text.push_str(&format!("{token}\t{tag}\n"));
        }
        // A closed pipe (`| head`) ends the output quietly.
        if writeln!(out, "{text}").is_err() {
            break;
        }
    }
    Ok(())
}
