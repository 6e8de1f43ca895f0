//! `cargo xtask train | eval | predict --task seq2seq`: a sequence to a sequence (grapheme →
//! phoneme on cmudict, English → Spanish on the bible verses, or a user's TSV/CSV pairs) with
//! `seqmodel_tasks::Translator` trained by `seqmodel_train::fit`.
//!
//! A run folder holds `config.json` (`"task": "seq2seq"`), `source.json` and `target.json` (the
//! vocabularies), `checkpoint/`, `metrics.jsonl` (validation scores of greedy decoding),
//! `model.bpk` (the best validation epoch's weights), `report.md`, `test-predictions.tsv`, the
//! loss and metric curves and attention heatmaps (PNG).

pub mod config;
mod data;
mod report;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::Device;
use clap::Args;
use seqmodel_attention::DecoderAttentionKind;
use seqmodel_data::{
    PaddingConfig, Seq2SeqBatcher, Seq2SeqDataset, TextPair, Tokenizer, Vocab, VocabConfig,
    VocabSharing,
};
use seqmodel_tasks::{Architecture, Translator};
use seqmodel_train::{
    Detokenizer, MODEL_FILE, Seq2SeqMetrics, Seq2SeqScore, load_model, write_atomic,
};

use self::config::{Seq2SeqRunConfig, TokenKind};
use self::report::{Decoding, Seq2SeqReportInputs};
use super::config::CONFIG_FILE;
use super::error::RunError;
use super::report::REPORT_FILE;
use super::summary::RunSummary;
use crate::eval::EvalArgs;
use crate::predict::PredictArgs;
use crate::run::config::TaskName;
use crate::run::fit::{FitJob, Fitted, fit_best};
use crate::train::{TrainArgs, start_or_resume};

/// The source vocabulary of a run.
pub const SOURCE_VOCAB_FILE: &str = "source.json";
/// The target vocabulary of a run.
pub const TARGET_VOCAB_FILE: &str = "target.json";

/// The `train` flags only `--task seq2seq` reads (flattened into [`TrainArgs`]); it also reads
/// `--attention` and `--hidden-size`, shared with `--task forecast`.
#[derive(Args, Debug, Default)]
pub struct Seq2SeqFlags {
    /// The source column of a TSV/CSV file [default: source].
    #[arg(long, value_name = "C")]
    pub source_column: Option<String>,
    /// The target column of a TSV/CSV file [default: target].
    #[arg(long, value_name = "C")]
    pub target_column: Option<String>,
    /// How sources are tokenised: chars, words or symbols [cmudict: chars; else words].
    #[arg(long, value_name = "K")]
    pub source_tokens: Option<String>,
    /// How targets are tokenised: chars, words or symbols [cmudict: symbols; else words].
    #[arg(long, value_name = "K")]
    pub target_tokens: Option<String>,
    /// Beam width of the report's beam-search row (1: greedy only) [default: 5].
    #[arg(long, value_name = "N")]
    pub beam_width: Option<usize>,
    /// Most tokens generated per input [cmudict: 32; else 100].
    #[arg(long, value_name = "N")]
    pub max_decode_len: Option<usize>,
}

impl Seq2SeqFlags {
    /// The flags given, by name (a resumed run refuses them; other tasks refuse them).
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--source-column", self.source_column.is_some()),
            ("--target-column", self.target_column.is_some()),
            ("--source-tokens", self.source_tokens.is_some()),
            ("--target-tokens", self.target_tokens.is_some()),
            ("--beam-width", self.beam_width.is_some()),
            ("--max-decode-len", self.max_decode_len.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, set)| set.then_some(flag))
        .collect()
    }
}

/// The config of a new seq2seq run: `--config` (or the defaults for `--data`), then the flags.
fn new_config(args: &TrainArgs) -> Result<Seq2SeqRunConfig, RunError> {
    let origin = PathBuf::from("command line");
    let bad = |field: &str, message: String| RunError::ConfigValue {
        origin: origin.clone(),
        field: field.to_string(),
        message,
    };
    let refused = [
        ("--embeddings", args.embeddings.is_some()),
        ("--freeze-embeddings", args.freeze_embeddings),
        ("--init-from", args.init_from.is_some()),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, set)| *set) {
        return Err(bad(
            flag,
            "--task seq2seq does not read it (its embeddings start random)".into(),
        ));
    }
    let mut config = match &args.config {
        Some(path) => Seq2SeqRunConfig::read(path)?,
        None => Seq2SeqRunConfig::for_source(args.data.as_deref().unwrap_or("cmudict")),
    };
    if let Some(source) = &args.data {
        if args.config.is_some() {
            let fresh = Seq2SeqRunConfig::for_source(source);
            config.data.split = fresh.data.split;
        }
        config.data.source = source.clone();
    }
    if let Some(choice) = args.encoder {
        use seqmodel_attention::RecurrentKind;
        use seqmodel_tasks::EncoderKind;
        let (kind, bidirectional) = choice.kind();
        let cell = match kind {
            EncoderKind::Rnn => Some(RecurrentKind::Rnn),
            EncoderKind::Gru => Some(RecurrentKind::Gru),
            EncoderKind::Lstm => Some(RecurrentKind::Lstm),
            EncoderKind::Transformer => None,
            other => {
                return Err(bad(
                    "--encoder",
                    format!(
                        "--task seq2seq has no {} encoder–decoder; use rnn, lstm, gru (or their \
                         bi- forms) or transformer",
                        other.name()
                    ),
                ));
            }
        };
        match cell {
            Some(cell) => {
                config.model.architecture = Architecture::Rnn;
                config.model.cell = cell;
                config.model.bidirectional = bidirectional;
            }
            None => config.model.architecture = Architecture::Transformer,
        }
    }
    let flags = &args.seq2seq;
    if let Some(c) = &flags.source_column {
        config.data.source_column.clone_from(c);
    }
    if let Some(c) = &flags.target_column {
        config.data.target_column.clone_from(c);
    }
    if let Some(k) = &flags.source_tokens {
        config.data.source_tokens = k.parse().map_err(|m| bad("--source-tokens", m))?;
    }
    if let Some(k) = &flags.target_tokens {
        config.data.target_tokens = k.parse().map_err(|m| bad("--target-tokens", m))?;
    }
    if let Some(n) = flags.beam_width {
        config.decode.beam_width = n;
    }
    if let Some(n) = flags.max_decode_len {
        config.model.max_decode_len = n;
    }
    if let Some(a) = &args.forecast.attention {
        config.model.attention = serde_json::from_value(serde_json::Value::String(a.clone()))
            .map_err(|_| {
                bad(
                    "--attention",
                    format!(
                        "unknown attention \"{a}\": expected none, additive, dot, general or \
                         concat"
                    ),
                )
            })?;
    }
    if let Some(n) = args.forecast.hidden_size {
        config.model.hidden_size = n;
    }
    args.apply_run_flags(&mut config.backend, &mut config.devices, &mut config.train);
    config.validate(args.config.as_deref().unwrap_or(&origin))?;
    Ok(config)
}

/// `runs/seq2seq-<data>-<attention or transformer>`.
fn default_out(config: &Seq2SeqRunConfig) -> PathBuf {
    let source = Path::new(&config.data.source)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("data")
        .to_string();
    let model = match (config.model.architecture, config.model.attention) {
        (Architecture::Transformer, _) => "transformer".to_string(),
        (Architecture::Rnn, DecoderAttentionKind::None) => "noattn".to_string(),
        (Architecture::Rnn, kind) => format!("{kind:?}").to_lowercase(),
    };
    PathBuf::from("runs").join(format!("seq2seq-{source}-{model}"))
}

/// Tokenisers, vocabularies and batcher of a run.
struct Pipeline {
    source_tokenizer: Arc<dyn Tokenizer>,
    target_tokenizer: Arc<dyn Tokenizer>,
    batcher: Seq2SeqBatcher,
}

impl Pipeline {
    fn new(
        config: &Seq2SeqRunConfig,
        source_vocab: Arc<Vocab>,
        target_vocab: Arc<Vocab>,
    ) -> Result<Self, RunError> {
        let source_tokenizer = data::tokenizer(config.data.source_tokens, config.data.lowercase);
        let target_tokenizer = data::tokenizer(config.data.target_tokens, config.data.lowercase);
        let batcher = Seq2SeqBatcher::new(
            source_tokenizer.clone(),
            target_tokenizer.clone(),
            source_vocab,
            target_vocab,
            PaddingConfig::default(),
        )?;
        Ok(Self {
            source_tokenizer,
            target_tokenizer,
            batcher,
        })
    }

    fn decoding<'a>(&'a self, config: &Seq2SeqRunConfig, device: &'a Device) -> Decoding<'a> {
        Decoding {
            batcher: &self.batcher,
            source_tokenizer: self.source_tokenizer.as_ref(),
            target_tokenizer: self.target_tokenizer.as_ref(),
            target_tokens: config.data.target_tokens,
            device,
        }
    }

    fn new_model(
        &self,
        config: &Seq2SeqRunConfig,
        device: &Device,
    ) -> Result<Translator, RunError> {
        let target = self.batcher.target_vocab();
        let (Some(bos), Some(eos)) = (target.bos_id(), target.eos_id()) else {
            return Err(RunError::Data(
                "the target vocabulary has no <bos>/<eos> (it was not built for seq2seq)".into(),
            ));
        };
        config
            .model
            .init(
                self.batcher.source_vocab().len(),
                target.len(),
                bos,
                eos,
                device,
            )
            .map_err(|error| RunError::ConfigValue {
                origin: PathBuf::from("config"),
                field: "model".into(),
                message: error.to_string(),
            })
    }
}

/// Saves the vocabularies into `dir`.
fn save_vocabs(batcher: &Seq2SeqBatcher, dir: &Path) -> Result<(), RunError> {
    for (name, vocab) in [
        (SOURCE_VOCAB_FILE, batcher.source_vocab()),
        (TARGET_VOCAB_FILE, batcher.target_vocab()),
    ] {
        let path = dir.join(name);
        write_atomic(&path, vocab.to_json().as_bytes())
            .map_err(|error| RunError::io(&path, error))?;
    }
    Ok(())
}

/// Reads what [`save_vocabs`] wrote.
fn load_vocabs(dir: &Path) -> Result<(Arc<Vocab>, Arc<Vocab>), RunError> {
    let source = dir.join(SOURCE_VOCAB_FILE);
    if !source.is_file() {
        return Err(RunError::NoRun {
            dir: dir.to_path_buf(),
            what: SOURCE_VOCAB_FILE.into(),
        });
    }
    Ok((
        Arc::new(Vocab::load(&source)?),
        Arc::new(Vocab::load(dir.join(TARGET_VOCAB_FILE))?),
    ))
}

/// The validation scores: error rate and exact match, plus BLEU and chrF for word targets.
fn validation_metrics(config: &Seq2SeqRunConfig, batcher: &Seq2SeqBatcher) -> Seq2SeqMetrics {
    let target = batcher.target_vocab();
    let mut scores = vec![Seq2SeqScore::ErrorRate, Seq2SeqScore::ExactMatch];
    if config.data.target_tokens == TokenKind::Words {
        scores.extend([Seq2SeqScore::Bleu, Seq2SeqScore::Chrf]);
    }
    Seq2SeqMetrics {
        scores,
        detokenizer: Detokenizer {
            names: target.tokens().to_vec().into(),
            separator: config.data.target_tokens.separator().into(),
            eos: target.eos_id().unwrap_or(usize::MAX),
            unk: Some(target.unk_id()),
        },
    }
}

/// `cargo xtask train --task seq2seq`.
pub fn train(args: &TrainArgs) -> Result<(), RunError> {
    let (config, out, resume_after) =
        start_or_resume(args, TaskName::Seq2seq, new_config, default_out, None)?;

    // Everything that can fail on the data fails before the folder is touched.
    let data = data::read_split(&config.data)?;
    let source_tokenizer = data::tokenizer(config.data.source_tokens, config.data.lowercase);
    let target_tokenizer = data::tokenizer(config.data.target_tokens, config.data.lowercase);
    let (train_pairs, skipped) = data::filter_training(
        data.train,
        source_tokenizer.as_ref(),
        target_tokenizer.as_ref(),
        config.data.max_train_tokens,
    );
    if train_pairs.is_empty() {
        return Err(RunError::Data(format!(
            "{}: no training pair has 1 to {} tokens on each side; raise data.max_train_tokens",
            config.data.source, config.data.max_train_tokens
        )));
    }
    let (source_vocab, target_vocab) = Seq2SeqDataset::new(train_pairs.clone()).build_vocabs(
        source_tokenizer.as_ref(),
        target_tokenizer.as_ref(),
        &VocabConfig::default().with_min_freq(config.data.min_freq),
        VocabSharing::Separate,
    )?;
    let (source_vocab, target_vocab) = if resume_after.is_some() {
        let saved = load_vocabs(&out)?;
        if *saved.0 != *source_vocab || *saved.1 != *target_vocab {
            return Err(RunError::Data(format!(
                "{}: the data changed since the run started (its vocabularies differ from {}); \
                 resume with the same data, or start a new run",
                config.data.source,
                out.join(SOURCE_VOCAB_FILE).display()
            )));
        }
        saved
    } else {
        (source_vocab, target_vocab)
    };
    let pipeline = Pipeline::new(&config, source_vocab, target_vocab)?;
    let device = config.backend()?.device()?;
    pipeline.new_model(&config, &device)?;
    // Validation sources without a token cannot be decoded: leave them out like training's.
    let valid: Vec<TextPair> = data
        .valid
        .into_iter()
        .filter(|p| !source_tokenizer.tokenize(&p.source).is_empty())
        .collect();
    if valid.is_empty() {
        return Err(RunError::Data(format!(
            "{}: no validation pair has a source token",
            config.data.source
        )));
    }

    if args.force && out.exists() && resume_after.is_none() {
        std::fs::remove_dir_all(&out).map_err(|error| RunError::io(&out, error))?;
    }
    std::fs::create_dir_all(&out).map_err(|error| RunError::io(&out, error))?;
    let config_path = out.join(CONFIG_FILE);
    write_atomic(&config_path, config.to_json().as_bytes())
        .map_err(|error| RunError::io(&config_path, error))?;
    save_vocabs(&pipeline.batcher, &out)?;
    let sizes = [train_pairs.len(), valid.len(), data.test.len()];
    let vocab_sizes = [
        pipeline.batcher.source_vocab().len(),
        pipeline.batcher.target_vocab().len(),
    ];
    println!(
        "seq2seq {}: {} / {} / {} (train pairs / valid pairs / test examples; {skipped} long \
         pairs left out), vocabularies {} → {}, {} on {} → {}",
        config.data.source,
        sizes[0],
        sizes[1],
        sizes[2],
        vocab_sizes[0],
        vocab_sizes[1],
        report::describe_model(&config.model),
        config.backend,
        out.display()
    );

    let train_device = device.clone().autodiff();
    train_device.seed(config.train.seed);
    let model = pipeline.new_model(&config, &train_device)?;
    let batcher = Arc::new(pipeline.batcher.clone());
    let job = FitJob {
        train: train_pairs,
        valid,
        batcher,
        config: &config.train,
        devices: config.devices,
        device: &device,
        out: &out,
        resume_after,
        progress: args.progress.into(),
    };
    let fresh = pipeline.new_model(&config, &device)?;
    let metrics = validation_metrics(&config, &pipeline.batcher);
    let Fitted {
        summary,
        model,
        epoch,
    } = fit_best(model, fresh, job, metrics)?;

    let decoding = pipeline.decoding(&config, &device);
    let test = if data.test.is_empty() {
        None
    } else {
        Some(report::evaluate(
            &model,
            &decoding,
            &data.test,
            &config.decode.beam(),
        )?)
    };
    seqmodel_train::plots::plot_curves(&summary.epochs, &out)
        .map_err(|error| RunError::Train(error.to_string()))?;
    let heatmaps =
        report::draw_heatmaps(&model, &decoding, &data.test, config.decode.heatmaps, &out)?;
    if let Some(test) = &test {
        report::write_predictions(test, &out)?;
        report::write(&Seq2SeqReportInputs {
            config: &config,
            epochs: &summary.epochs,
            epoch,
            test,
            parameters: model.num_params(),
            vocab_sizes,
            split_sizes: sizes,
            skipped,
            heatmaps: &heatmaps,
            dir: &out,
        })?;
        let encoder = match config.model.architecture {
            seqmodel_tasks::Architecture::Transformer => "transformer".to_string(),
            seqmodel_tasks::Architecture::Rnn => {
                format!("rnn+{:?}", config.model.attention).to_lowercase()
            }
        };
        let mut run_summary = RunSummary::new(
            ("seq2seq", &config.data.source, encoder),
            config.train.seed,
            &summary.epochs,
            epoch,
            model.num_params(),
        );
        let decoders = std::iter::once(("greedy", &test.greedy))
            .chain(test.beam.as_ref().map(|(_, scores)| ("beam", scores)));
        for (name, scores) in decoders {
            run_summary = run_summary
                .score(&format!("{name}_error_rate"), scores.error_rate)
                .score(&format!("{name}_error_rate_any"), scores.error_rate_any)
                .score(&format!("{name}_exact"), scores.exact)
                .score(&format!("{name}_bleu"), scores.bleu)
                .score(&format!("{name}_chrf"), scores.chrf);
        }
        run_summary.write(&out)?;
        report::print(
            &format!("test (weights of epoch {epoch})"),
            test,
            config.data.target_tokens == TokenKind::Words,
        );
        println!("report: {}", out.join(REPORT_FILE).display());
    } else {
        println!(
            "no test split: the model is in {}",
            out.join(MODEL_FILE).display()
        );
    }
    Ok(())
}

/// A finished seq2seq run.
struct LoadedRun {
    config: Seq2SeqRunConfig,
    pipeline: Pipeline,
    model: Translator,
    device: Device,
}

fn load_run(dir: &Path) -> Result<LoadedRun, RunError> {
    let config = Seq2SeqRunConfig::read(&dir.join(CONFIG_FILE))?;
    let model_path = dir.join(MODEL_FILE);
    if !model_path.is_file() {
        return Err(RunError::NoRun {
            dir: dir.to_path_buf(),
            what: format!("{MODEL_FILE}, written when training ends"),
        });
    }
    let (source, target) = load_vocabs(dir)?;
    let pipeline = Pipeline::new(&config, source, target)?;
    let device = config.backend()?.device()?;
    let model = load_model(pipeline.new_model(&config, &device)?, &model_path)?;
    Ok(LoadedRun {
        config,
        pipeline,
        model,
        device,
    })
}

/// `cargo xtask eval` of a seq2seq run: its test split, or `--data` (a bundled name or a file:
/// all of its pairs, grouped by source).
pub fn eval(args: &EvalArgs) -> Result<(), RunError> {
    let run = load_run(&args.run)?;
    let (name, examples) = match &args.data {
        None => (
            format!("{} (test split)", run.config.data.source),
            data::read_split(&run.config.data)?.test,
        ),
        Some(source) => {
            let mut data_config = run.config.data.clone();
            data_config.source = source.clone();
            let pairs = data::read_pairs(&data_config)?;
            (source.clone(), data::group_pairs(pairs))
        }
    };
    let decoding = run.pipeline.decoding(&run.config, &run.device);
    let evaluation = report::evaluate(&run.model, &decoding, &examples, &run.config.decode.beam())?;
    report::print(
        &name,
        &evaluation,
        run.config.data.target_tokens == TokenKind::Words,
    );
    Ok(())
}

/// `cargo xtask predict` of a seq2seq run: one source per input line; prints each line's
/// greedy decoding (an empty line for a line without a token).
pub fn predict(args: &PredictArgs) -> Result<(), RunError> {
    let run = load_run(&args.run)?;
    let text = crate::predict::read_input(args)?;
    let lines: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    let tokenizer = run.pipeline.source_tokenizer.clone();
    let decodable: Vec<String> = lines
        .iter()
        .filter(|l| !tokenizer.tokenize(l).is_empty())
        .cloned()
        .collect();
    let decoding = run.pipeline.decoding(&run.config, &run.device);
    let mut hyps = decoding.decode(&run.model, &decodable, None)?.into_iter();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in &lines {
        let decoded = if tokenizer.tokenize(line).is_empty() {
            String::new()
        } else {
            hyps.next()
                .map(|h| decoding.text(&h.tokens))
                .unwrap_or_default()
        };
        // A closed pipe (`| head`) ends the output quietly.
        if writeln!(out, "{decoded}").is_err() {
            break;
        }
    }
    Ok(())
}
