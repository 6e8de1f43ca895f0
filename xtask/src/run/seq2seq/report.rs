//! Decoding and scoring a seq2seq model on examples (greedy and beam search; token error rate
//! and exact match against the primary and the closest reference; BLEU and chrF), the score by
//! source length, attention heatmaps, and the run's `report.md`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::Device;
use seqmodel_attention::{BeamSearchConfig, Hypothesis};
use seqmodel_data::{Seq2SeqBatcher, TextPair, Tokenizer, Vocab};
use seqmodel_metrics::{
    Accumulator, BleuConfig, ChrfConfig, ErrorRateAccumulator, corpus_bleu, corpus_chrf,
};
use seqmodel_tasks::{Architecture, Translator, TranslatorConfig};
use seqmodel_train::{EpochRecord, plot_attention, write_atomic};

use super::config::{Seq2SeqRunConfig, TokenKind};
use super::data::Example;
use crate::run::error::RunError;
use crate::run::report::{REPORT_FILE, epochs_table, median};

/// Sentences per decoding batch (beam search multiplies the rows by its width).
const DECODE_BATCH: usize = 128;
/// Examples listed in the report.
const LISTED: usize = 12;
/// File of every test example with its decodings.
pub const PREDICTIONS_FILE: &str = "test-predictions.tsv";

/// What decoding needs besides the model: the batcher (tokenisers and vocabularies) and the
/// target side's tokens and separator.
pub struct Decoding<'a> {
    /// Encodes sources.
    pub batcher: &'a Seq2SeqBatcher,
    /// The source tokeniser (for lengths and heatmap labels).
    pub source_tokenizer: &'a dyn Tokenizer,
    /// The target tokeniser (references are scored as its tokens).
    pub target_tokenizer: &'a dyn Tokenizer,
    /// How target tokens are joined back into text.
    pub target_tokens: TokenKind,
    /// The device the model lives on.
    pub device: &'a Device,
}

impl Decoding<'_> {
    fn vocab(&self) -> &Vocab {
        self.batcher.target_vocab()
    }

    /// The target tokens of `ids` (`<unk>` for an id without a name).
    pub fn tokens(&self, ids: &[usize]) -> Vec<String> {
        ids.iter()
            .map(|&id| self.vocab().token(id).unwrap_or("<unk>").to_string())
            .collect()
    }

    /// The text of `ids`.
    pub fn text(&self, ids: &[usize]) -> String {
        self.tokens(ids).join(self.target_tokens.separator())
    }

    /// Greedy hypotheses (`beam = None`) or the best beam hypothesis of every source, in order.
    pub fn decode(
        &self,
        model: &Translator,
        sources: &[String],
        beam: Option<&BeamSearchConfig>,
    ) -> Result<Vec<Hypothesis>, RunError> {
        let mut out = Vec::with_capacity(sources.len());
        for chunk in sources.chunks(DECODE_BATCH) {
            let pairs: Vec<TextPair> = chunk
                .iter()
                .map(|s| TextPair {
                    source: s.clone(),
                    target: String::new(),
                })
                .collect();
            let batch = self.batcher.batch(pairs, self.device);
            match beam {
                None => out.extend(model.greedy(&batch.source)?),
                Some(beam) => {
                    for mut nbest in model.beam_search(&batch.source, beam)? {
                        if nbest.is_empty() {
                            return Err(RunError::Task(
                                "beam search returned no hypothesis for a sentence".into(),
                            ));
                        }
                        out.push(nbest.swap_remove(0));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Scores of one decoding of a test set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Token error rate against the first-listed reference (fraction).
    pub error_rate: f64,
    /// Exact match against the first-listed reference (fraction).
    pub exact: f64,
    /// Token error rate against the closest reference.
    pub error_rate_any: f64,
    /// Exact match against any reference.
    pub exact_any: f64,
    /// sacrebleu corpus BLEU of the texts (all references).
    pub bleu: f64,
    /// sacrebleu corpus chrF of the texts (all references).
    pub chrf: f64,
    /// Sentences decoded per second.
    pub sentences_per_second: f64,
}

/// One length bucket of the greedy decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct LengthRow {
    /// Source tokens, `lo..=hi`.
    pub lo: usize,
    /// Upper end of the bucket.
    pub hi: usize,
    /// Examples in the bucket.
    pub count: usize,
    /// Token error rate against the closest reference.
    pub error_rate: f64,
    /// Exact match against any reference.
    pub exact: f64,
}

/// One decoded test example.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The example.
    pub example: Example,
    /// Greedy output text.
    pub greedy: String,
    /// Beam output text (when a beam was run).
    pub beam: Option<String>,
}

/// Everything the report shows about a test set.
#[derive(Debug, Clone)]
pub struct Seq2SeqEvaluation {
    /// Examples scored.
    pub examples: usize,
    /// Greedy decoding.
    pub greedy: Scores,
    /// Beam search (width > 1).
    pub beam: Option<(usize, Scores)>,
    /// Greedy scores by source length.
    pub by_length: Vec<LengthRow>,
    /// Every example with its decodings.
    pub decoded: Vec<Decoded>,
}

fn metric_error(error: seqmodel_metrics::Error) -> RunError {
    RunError::Task(error.to_string())
}

/// Scores `hyps` (token ids) against the examples' references.
fn score(
    decoding: &Decoding<'_>,
    examples: &[Example],
    hyps: &[Hypothesis],
    seconds: f64,
) -> Result<Scores, RunError> {
    let hyp_tokens: Vec<Vec<String>> = hyps.iter().map(|h| decoding.tokens(&h.tokens)).collect();
    let refs: Vec<Vec<Vec<String>>> = examples
        .iter()
        .map(|e| {
            e.references
                .iter()
                .map(|r| decoding.target_tokenizer.tokenize(r))
                .collect()
        })
        .collect();
    let primary: Vec<Vec<String>> = refs.iter().map(|r| r[0].clone()).collect();
    let mut first = ErrorRateAccumulator::new();
    first.update(&hyp_tokens, &primary).map_err(metric_error)?;
    let first = first.compute().map_err(metric_error)?;
    let mut any = ErrorRateAccumulator::new();
    any.update_closest(&hyp_tokens, &refs)
        .map_err(metric_error)?;
    let any = any.compute().map_err(metric_error)?;
    let sep = decoding.target_tokens.separator();
    let hyp_text: Vec<String> = hyp_tokens.iter().map(|t| t.join(sep)).collect();
    // References as the tokeniser sees them, joined the way hypotheses are: both sides of BLEU
    // and chrF are then written the same way.
    let ref_text: Vec<Vec<String>> = refs
        .iter()
        .map(|rs| rs.iter().map(|r| r.join(sep)).collect())
        .collect();
    let bleu = corpus_bleu(&hyp_text, &ref_text, &BleuConfig::corpus()).map_err(metric_error)?;
    let chrf = corpus_chrf(&hyp_text, &ref_text, &ChrfConfig::chrf()).map_err(metric_error)?;
    Ok(Scores {
        error_rate: first.error_rate,
        exact: first.exact_match,
        error_rate_any: any.error_rate,
        exact_any: any.exact_match,
        bleu: bleu.score,
        chrf: chrf.score,
        sentences_per_second: examples.len() as f64 / seconds.max(1e-9),
    })
}

/// Decodes `examples` greedily (and with `beam` when its width exceeds 1) and scores them.
///
/// # Errors
/// No example; an example whose source has no token (it cannot be encoded).
pub fn evaluate(
    model: &Translator,
    decoding: &Decoding<'_>,
    examples: &[Example],
    beam: &BeamSearchConfig,
) -> Result<Seq2SeqEvaluation, RunError> {
    if examples.is_empty() {
        return Err(RunError::Data("no examples to score".into()));
    }
    if let Some(e) = examples
        .iter()
        .find(|e| decoding.source_tokenizer.tokenize(&e.source).is_empty())
    {
        return Err(RunError::Data(format!(
            "the source \"{}\" has no token to encode; remove it or fix its text",
            e.source
        )));
    }
    let sources: Vec<String> = examples.iter().map(|e| e.source.clone()).collect();
    let started = Instant::now();
    let greedy_hyps = decoding.decode(model, &sources, None)?;
    let greedy = score(
        decoding,
        examples,
        &greedy_hyps,
        started.elapsed().as_secs_f64(),
    )?;
    let beam_hyps = if beam.width > 1 {
        let started = Instant::now();
        let hyps = decoding.decode(model, &sources, Some(beam))?;
        let scores = score(decoding, examples, &hyps, started.elapsed().as_secs_f64())?;
        Some((hyps, scores))
    } else {
        None
    };
    let by_length = by_length(decoding, examples, &greedy_hyps)?;
    let decoded = examples
        .iter()
        .enumerate()
        .map(|(i, e)| Decoded {
            example: e.clone(),
            greedy: decoding.text(&greedy_hyps[i].tokens),
            beam: beam_hyps
                .as_ref()
                .map(|(hyps, _)| decoding.text(&hyps[i].tokens)),
        })
        .collect();
    Ok(Seq2SeqEvaluation {
        examples: examples.len(),
        greedy,
        beam: beam_hyps.map(|(_, scores)| (beam.width, scores)),
        by_length,
        decoded,
    })
}

/// Greedy scores in five buckets of source length, each holding about a fifth of the examples.
fn by_length(
    decoding: &Decoding<'_>,
    examples: &[Example],
    hyps: &[Hypothesis],
) -> Result<Vec<LengthRow>, RunError> {
    let lengths: Vec<usize> = examples
        .iter()
        .map(|e| decoding.source_tokenizer.tokenize(&e.source).len())
        .collect();
    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    let mut edges: Vec<usize> = (1..5).map(|q| sorted[q * sorted.len() / 5]).collect();
    edges.dedup();
    let mut rows = Vec::new();
    let mut lo = sorted[0];
    for hi in edges
        .iter()
        .map(|&e| e.saturating_sub(1))
        .chain([sorted[sorted.len() - 1]])
    {
        if hi < lo {
            continue;
        }
        let members: Vec<usize> = (0..examples.len())
            .filter(|&i| (lo..=hi).contains(&lengths[i]))
            .collect();
        if !members.is_empty() {
            let picked: Vec<Example> = members.iter().map(|&i| examples[i].clone()).collect();
            let picked_hyps: Vec<Hypothesis> = members.iter().map(|&i| hyps[i].clone()).collect();
            let scores = score(decoding, &picked, &picked_hyps, 1.0)?;
            rows.push(LengthRow {
                lo,
                hi,
                count: members.len(),
                error_rate: scores.error_rate_any,
                exact: scores.exact_any,
            });
        }
        lo = hi + 1;
    }
    Ok(rows)
}

/// Draws `attention-N.png` heatmaps of the greedy decoding of the first `count` examples;
/// returns the files written (none when the model has no attention).
pub fn draw_heatmaps(
    model: &Translator,
    decoding: &Decoding<'_>,
    examples: &[Example],
    count: usize,
    dir: &Path,
) -> Result<Vec<String>, RunError> {
    let examples = &examples[..count.min(examples.len())];
    let sources: Vec<String> = examples.iter().map(|e| e.source.clone()).collect();
    let hyps = decoding.decode(model, &sources, None)?;
    let mut files = Vec::new();
    for (i, (example, hyp)) in examples.iter().zip(&hyps).enumerate() {
        if hyp.attention.is_empty() {
            continue;
        }
        let source = decoding.source_tokenizer.tokenize(&example.source);
        let mut target = decoding.tokens(&hyp.tokens);
        if hyp.finished {
            target.push("</s>".into());
        }
        let name = format!("attention-{}.png", i + 1);
        let rows: Vec<Vec<f32>> = hyp
            .attention
            .iter()
            .map(|row| row.iter().map(|w| w.clamp(0.0, 1.0)).collect())
            .collect();
        plot_attention(
            &source,
            &target,
            &rows,
            &format!("{} → {}", example.source, decoding.text(&hyp.tokens)),
            &dir.join(&name),
        )
        .map_err(|error| RunError::Train(error.to_string()))?;
        files.push(name);
    }
    Ok(files)
}

/// Prints an evaluation (for `eval` and the end of `train`).
pub fn print(name: &str, evaluation: &Seq2SeqEvaluation, words: bool) {
    println!("{name}: {} examples", evaluation.examples);
    let rows = std::iter::once(("greedy".to_string(), evaluation.greedy)).chain(
        evaluation
            .beam
            .map(|(width, s)| (format!("beam {width}"), s)),
    );
    for (label, s) in rows {
        print!(
            "{label:<8} error rate {:.2} % (closest reference {:.2} %)  exact {:.2} % ({:.2} %)",
            s.error_rate * 100.0,
            s.error_rate_any * 100.0,
            s.exact * 100.0,
            s.exact_any * 100.0
        );
        if words {
            print!("  BLEU {:.2}  chrF {:.2}", s.bleu, s.chrf);
        }
        println!("  {:.0} sentences/s", s.sentences_per_second);
    }
}

/// Writes every test example with its decodings (`source, greedy, beam, references`).
pub fn write_predictions(evaluation: &Seq2SeqEvaluation, dir: &Path) -> Result<(), RunError> {
    let mut tsv = String::from("source\tgreedy\tbeam\treferences\n");
    for d in &evaluation.decoded {
        let _ = writeln!(
            tsv,
            "{}\t{}\t{}\t{}",
            d.example.source,
            d.greedy,
            d.beam.as_deref().unwrap_or(""),
            d.example.references.join(" | ")
        );
    }
    let path = dir.join(PREDICTIONS_FILE);
    write_atomic(&path, tsv.as_bytes()).map_err(|error| RunError::io(&path, error))
}

/// What `report.md` is made of.
#[derive(Debug)]
pub struct Seq2SeqReportInputs<'a> {
    /// The run's config.
    pub config: &'a Seq2SeqRunConfig,
    /// Every epoch's metrics.
    pub epochs: &'a [EpochRecord],
    /// The epoch whose weights were kept.
    pub epoch: usize,
    /// Test scores.
    pub test: &'a Seq2SeqEvaluation,
    /// Parameter count.
    pub parameters: usize,
    /// Source and target vocabulary sizes.
    pub vocab_sizes: [usize; 2],
    /// Train pairs, valid pairs, test examples.
    pub split_sizes: [usize; 3],
    /// Training pairs left out for their length.
    pub skipped: usize,
    /// The heatmap files.
    pub heatmaps: &'a [String],
    /// The run folder.
    pub dir: &'a Path,
}

/// One line on the model's architecture and sizes.
pub fn describe_model(m: &TranslatorConfig) -> String {
    match m.architecture {
        Architecture::Rnn => {
            let cell = format!("{:?}", m.cell).to_lowercase();
            format!(
                "embeddings {}, {}{cell} {} × {} layer(s) encoder → {cell} decoder of {}, \
                 attention {:?}, input feeding {}, bridge {:?}",
                m.embedding_dim,
                if m.bidirectional { "bi" } else { "" },
                m.hidden_size,
                m.num_layers,
                m.decoder_hidden_size(),
                m.attention,
                m.input_feeding,
                m.bridge,
            )
        }
        Architecture::Transformer => {
            let t = &m.transformer;
            format!(
                "Transformer, width {}, {} heads, {} + {} layers, feed-forward {}, {}",
                t.d_model,
                t.num_heads,
                t.encoder_layers,
                t.decoder_layers,
                t.d_ff,
                if t.norm_first {
                    "pre-norm"
                } else {
                    "post-norm"
                }
            )
        }
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}", x * 100.0)
}

/// `report.md` as text.
pub fn render(inputs: &Seq2SeqReportInputs<'_>) -> String {
    let config = inputs.config;
    let m = &config.model;
    let words = config.data.target_tokens == TokenKind::Words;
    let mut md = String::new();
    let [train, valid, test] = inputs.split_sizes;
    let [src_vocab, tgt_vocab] = inputs.vocab_sizes;
    let _ = writeln!(md, "# seq2seq {}\n", config.data.source);
    let _ = writeln!(
        md,
        "- data: {train} training pairs ({} left out as longer than {} tokens), {valid} \
         validation pairs, {test} test examples; {} → {}; vocabularies {src_vocab} → {tgt_vocab}",
        inputs.skipped,
        config.data.max_train_tokens,
        config.data.source_tokens.name(),
        config.data.target_tokens.name()
    );
    let _ = writeln!(
        md,
        "- model: {}; {} parameters",
        describe_model(m),
        inputs.parameters
    );
    let seconds: Vec<f64> = inputs
        .epochs
        .iter()
        .map(|r| r.train_seconds.unwrap_or(r.seconds))
        .collect();
    let _ = writeln!(
        md,
        "- training: {} epochs, batch {}, seed {}, {} backend; median {:.2} s per epoch \
         (training part); weights of epoch {} (best validation {})\n",
        inputs.epochs.len(),
        config.train.batch_size,
        config.train.seed,
        config.backend,
        median(&seconds).unwrap_or(f64::NAN),
        inputs.epoch,
        config.train.monitor.metric
    );
    let t = inputs.test;
    let _ = writeln!(md, "## Test ({} examples)\n", t.examples);
    let _ = write!(
        md,
        "| decoding | error rate | exact match | error rate, closest ref. | exact, any ref. |"
    );
    if words {
        let _ = write!(md, " BLEU | chrF |");
    }
    let _ = writeln!(md, " sentences/s |");
    let _ = writeln!(md, "|{}", "---|".repeat(if words { 8 } else { 6 }));
    let rows = std::iter::once(("greedy".to_string(), t.greedy))
        .chain(t.beam.map(|(w, s)| (format!("beam {w}"), s)));
    for (label, s) in rows {
        let _ = write!(
            md,
            "| {label} | {} % | {} % | {} % | {} % |",
            pct(s.error_rate),
            pct(s.exact),
            pct(s.error_rate_any),
            pct(s.exact_any)
        );
        if words {
            let _ = write!(md, " {:.2} | {:.2} |", s.bleu, s.chrf);
        }
        let _ = writeln!(md, " {:.0} |", s.sentences_per_second);
    }
    let _ = writeln!(
        md,
        "\nError rate = Σ Levenshtein edits / Σ reference tokens (phoneme error rate for G2P); \
         exact match = word accuracy. \"closest ref.\" scores each example against the nearest \
         of its references.\n"
    );
    let _ = writeln!(md, "### Greedy, by source length\n");
    let _ = writeln!(md, "| source tokens | examples | error rate | exact |");
    let _ = writeln!(md, "|---|---|---|---|");
    for row in &t.by_length {
        let _ = writeln!(
            md,
            "| {}–{} | {} | {} % | {} % |",
            row.lo,
            row.hi,
            row.count,
            pct(row.error_rate),
            pct(row.exact)
        );
    }
    let _ = writeln!(md, "\n### Examples\n");
    let _ = writeln!(md, "| source | reference | greedy | beam |");
    let _ = writeln!(md, "|---|---|---|---|");
    for d in t.decoded.iter().take(LISTED) {
        let cell = |s: &str| s.replace('|', "\\|");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            cell(&d.example.source),
            cell(&d.example.references[0]),
            cell(&d.greedy),
            cell(d.beam.as_deref().unwrap_or("–"))
        );
    }
    if !inputs.heatmaps.is_empty() {
        let _ = writeln!(md, "\n### Attention\n");
        for file in inputs.heatmaps {
            let _ = writeln!(md, "![{file}]({file})");
        }
    }
    let _ = writeln!(md);
    md.push_str(&epochs_table(inputs.epochs));
    let _ = writeln!(
        md,
        "\nEvery test decoding: `{PREDICTIONS_FILE}`. Reproduce: `cargo xtask train --config \
         {}/config.json --out DIR`",
        inputs.dir.display()
    );
    md
}

/// Writes `report.md` into the run folder.
pub fn write(inputs: &Seq2SeqReportInputs<'_>) -> Result<(), RunError> {
    let path = inputs.dir.join(REPORT_FILE);
    write_atomic(&path, render(inputs).as_bytes()).map_err(|error| RunError::io(&path, error))
}
