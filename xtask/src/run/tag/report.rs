//! Scoring a tagger on labelled sentences, and the run's `report.md`.

use std::fmt::Write as _;
use std::path::Path;

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::Device;
use seqmodel_data::TaggedSentence;
use seqmodel_metrics::{Accumulator, ChunkMode, EntityAccumulator, EntityReport, Scheme};
use seqmodel_tasks::{SequenceTagger, TagBatcher, TagEncoder};
use seqmodel_train::{EpochRecord, write_atomic};

use super::config::{TagFormat, TagRunConfig};
use crate::run::error::RunError;
use crate::run::report::{REPORT_FILE, epochs_table, median};

/// The tags `model` gives each sentence of `tokens`, by name.
pub fn tag_sentences(
    model: &SequenceTagger,
    encoder: &TagEncoder,
    batcher: &TagBatcher,
    tokens: &[Vec<String>],
    device: &Device,
) -> Result<Vec<Vec<String>>, RunError> {
    let mut out = Vec::with_capacity(tokens.len());
    for chunk in tokens.chunks(crate::run::fit::EVAL_BATCH) {
        let items = chunk
            .iter()
            .map(|words| encoder.encode(words, None))
            .collect::<Result<Vec<_>, _>>()?;
        for ids in model.predict(&batcher.batch(items, device))? {
            out.push(
                ids.iter()
                    .map(|&id| encoder.tags.name(id).unwrap_or("O").to_string())
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// Scores of a tagger on labelled sentences.
#[derive(Debug, Clone)]
pub struct TagEvaluation {
    /// Sentences scored.
    pub sentences: usize,
    /// Tokens scored.
    pub tokens: usize,
    /// Fraction of tokens whose tag is right.
    pub accuracy: f64,
    /// seqeval's entity scores, default mode then strict IOB2 (IOB2 data only).
    pub entities: Option<[EntityReport; 2]>,
}

/// Tags `sentences` with `model` and scores the tags against theirs.
pub fn evaluate(
    model: &SequenceTagger,
    encoder: &TagEncoder,
    batcher: &TagBatcher,
    sentences: &[TaggedSentence],
    format: TagFormat,
    device: &Device,
) -> Result<TagEvaluation, RunError> {
    let tokens: Vec<Vec<String>> = sentences.iter().map(|s| s.tokens.clone()).collect();
    let predicted = tag_sentences(model, encoder, batcher, &tokens, device)?;
    let gold: Vec<Vec<String>> = sentences.iter().map(|s| s.tags.clone()).collect();
    let total: usize = gold.iter().map(Vec::len).sum();
    let correct: usize = gold
        .iter()
        .zip(&predicted)
        .map(|(g, p)| g.iter().zip(p).filter(|(a, b)| a == b).count())
        .sum();
    let metric_error = |error: seqmodel_metrics::Error| RunError::Task(error.to_string());
    let entities = match format {
        TagFormat::Upos => None,
        TagFormat::Iob2 => {
            let mut reports = Vec::with_capacity(2);
            for mode in [ChunkMode::Default, ChunkMode::Strict(Scheme::Iob2)] {
                let mut accumulator = EntityAccumulator::new(mode);
                accumulator
                    .update(&gold, &predicted)
                    .map_err(metric_error)?;
                reports.push(accumulator.compute().map_err(metric_error)?);
            }
            let strict = reports.pop();
            let default = reports.pop();
            default.zip(strict).map(|(d, s)| [d, s])
        }
    };
    Ok(TagEvaluation {
        sentences: sentences.len(),
        tokens: total,
        accuracy: correct as f64 / total.max(1) as f64,
        entities,
    })
}

/// Prints an evaluation (for `eval` and the end of `train`).
pub fn print(name: &str, evaluation: &TagEvaluation) {
    println!(
        "{name}: {} sentences, {} tokens",
        evaluation.sentences, evaluation.tokens
    );
    println!("token accuracy  {:.2} %", evaluation.accuracy * 100.0);
    if let Some(reports) = &evaluation.entities {
        for (mode, report) in ["default", "strict IOB2"].iter().zip(reports) {
            println!(
                "entities ({mode}): P {:.2}  R {:.2}  F1 {:.2}",
                report.micro.precision * 100.0,
                report.micro.recall * 100.0,
                report.micro.f_score * 100.0
            );
            for (kind, scores) in &report.per_type {
                println!(
                    "  {kind:<10} P {:>6.2}  R {:>6.2}  F1 {:>6.2}  support {}",
                    scores.precision * 100.0,
                    scores.recall * 100.0,
                    scores.f_score * 100.0,
                    scores.support
                );
            }
        }
    }
}

/// What `report.md` is made of.
#[derive(Debug)]
pub struct TagReportInputs<'a> {
    /// The run's config.
    pub config: &'a TagRunConfig,
    /// Every epoch's metrics.
    pub epochs: &'a [EpochRecord],
    /// The epoch whose weights were kept.
    pub epoch: usize,
    /// Test scores.
    pub test: &'a TagEvaluation,
    /// Parameter count.
    pub parameters: usize,
    /// Words, characters, tags.
    pub vocab_sizes: [usize; 3],
    /// Train, valid, test sentences.
    pub split_sizes: [usize; 3],
    /// The run folder.
    pub dir: &'a Path,
}

/// `report.md` as text.
pub fn render(inputs: &TagReportInputs<'_>) -> String {
    let config = inputs.config;
    let mut md = String::new();
    let [train, valid, test] = inputs.split_sizes;
    let [words, chars, tags] = inputs.vocab_sizes;
    let _ = writeln!(md, "# tag {}\n", config.data.source);
    let _ = writeln!(
        md,
        "- data: {train} / {valid} / {test} sentences (train / valid / test), {tags} tags, \
         {words} words, {chars} characters"
    );
    let _ = writeln!(
        md,
        "- model: word {} + chars {} ({}) + casing {} → {} {} × {} → tags; {} parameters",
        config.model.embedding_dim,
        config.model.chars.kind.name(),
        config.model.chars.output_size(),
        config.model.casing_dim,
        if config.model.encoder.bidirectional {
            "bi"
        } else {
            ""
        },
        config.model.encoder.kind,
        config.model.encoder.hidden_size,
        inputs.parameters
    );
    let seconds: Vec<f64> = inputs
        .epochs
        .iter()
        .map(|r| r.train_seconds.unwrap_or(r.seconds))
        .collect();
    let _ = writeln!(
        md,
        "- training: {} epochs, batch {}, {} backend; median {:.2} s per epoch (training part); \
         weights of epoch {} (best validation {})\n",
        inputs.epochs.len(),
        config.train.batch_size,
        config.backend,
        median(&seconds).unwrap_or(f64::NAN),
        inputs.epoch,
        config.train.monitor.metric
    );
    let _ = writeln!(md, "## Test\n");
    let _ = writeln!(
        md,
        "Token accuracy: **{:.2} %** ({} tokens, {} sentences)\n",
        inputs.test.accuracy * 100.0,
        inputs.test.tokens,
        inputs.test.sentences
    );
    if let Some(reports) = &inputs.test.entities {
        for (mode, report) in ["seqeval default", "seqeval strict, IOB2"]
            .iter()
            .zip(reports)
        {
            let _ = writeln!(md, "Entities ({mode}):\n");
            let _ = writeln!(md, "| type | precision | recall | F1 | support |");
            let _ = writeln!(md, "|---|---|---|---|---|");
            for (kind, s) in &report.per_type {
                let _ = writeln!(
                    md,
                    "| {kind} | {:.2} | {:.2} | {:.2} | {} |",
                    s.precision * 100.0,
                    s.recall * 100.0,
                    s.f_score * 100.0,
                    s.support
                );
            }
            let m = &report.micro;
            let _ = writeln!(
                md,
                "| **micro** | {:.2} | {:.2} | **{:.2}** | {} |\n",
                m.precision * 100.0,
                m.recall * 100.0,
                m.f_score * 100.0,
                m.support
            );
        }
    }
    md.push_str(&epochs_table(inputs.epochs));
    let _ = writeln!(
        md,
        "\nReproduce: `cargo xtask train --config {}/config.json --out DIR`",
        inputs.dir.display()
    );
    md
}

/// Writes `report.md` into the run folder.
pub fn write(inputs: &TagReportInputs<'_>) -> Result<(), RunError> {
    let path = inputs.dir.join(REPORT_FILE);
    write_atomic(&path, render(inputs).as_bytes()).map_err(|error| RunError::io(&path, error))
}
