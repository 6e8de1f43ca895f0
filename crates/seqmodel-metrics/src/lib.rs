//! Evaluation metrics for sequence models, identical to the reference tools:
//!
//! | metric | reference | entry points |
//! |---|---|---|
//! | BLEU | sacrebleu 2.6.0 | [`corpus_bleu`], [`sentence_bleu`], [`BleuAccumulator`] |
//! | chrF / chrF++ | sacrebleu 2.6.0 `CHRF` | [`corpus_chrf`], [`sentence_chrf`], [`ChrfAccumulator`] |
//! | TER | sacrebleu 2.6.0 `TER` | [`corpus_ter`], [`sentence_ter`], [`TerAccumulator`] |
//! | ROUGE-1/2/L/Lsum | rouge-score 0.1.2 (NLTK Porter stemmer) | [`RougeScorer`], [`RougeAccumulator`] |
//! | perplexity | — | [`perplexity_from_log_probs`], [`perplexity_from_logits`], [`PerplexityAccumulator`] |
//! | MAE, MSE, RMSE, MAPE, SMAPE | scikit-learn 1.9 | [`regression_scores`], [`RegressionAccumulator`] |
//! | accuracy, P/R/F, confusion matrix | scikit-learn 1.9 | [`accuracy`], [`precision_recall_fscore`], [`confusion_matrix`], [`ClassificationAccumulator`] |
//! | token error rate (PER/WER), exact match | the G2P definition (Σ edits / Σ reference length) | [`edit_distance`], [`ErrorRateAccumulator`] |
//! | entity-level P/R/F | seqeval 1.2.2 | [`entity_report`], [`extract_entities`], [`EntityAccumulator`] |
//!
//! Every metric has a streaming [`Accumulator`] (`update`, [`Accumulator::compute`],
//! [`Accumulator::merge`]) whose result equals the one-shot function. The crate has no Burn
//! dependency. The `seq-score` binary exposes the metrics on the command line; it and its
//! dependencies (clap, serde_json) are behind the default feature `cli`, so
//! `default-features = false` builds the library alone.
//!
//! ```
//! use seqmodel_metrics::{corpus_bleu, BleuConfig};
//! let bleu = corpus_bleu(&["the cat sat on the mat"], &[["the cat sat on a mat"]], &BleuConfig::corpus())?;
//! println!("{}", bleu.format(1, &BleuConfig::corpus().signature(seqmodel_metrics::RefCount::Fixed(1))));
//! # Ok::<(), seqmodel_metrics::Error>(())
//! ```

mod accumulator;
mod averaging;
mod bleu;
mod bleu_counting;
mod bleu_tokenizer;
mod chrf;
mod classification;
mod edit_distance;
mod entity;
mod error;
mod perplexity;
mod porter;
mod pytext;
mod regression;
mod rouge;
mod ter;
mod ter_edits;
mod ter_tokenizer;

pub use accumulator::Accumulator;

pub use averaging::{ClassScores, ZeroDivision};
pub use bleu::{
    BleuAccumulator, BleuConfig, BleuScore, BleuStats, MAX_SUPPORTED_NGRAM_ORDER, RefCount,
    SACREBLEU_VERSION, SmoothMethod, corpus_bleu, sentence_bleu, transpose_streams,
};
pub use bleu_tokenizer::BleuTokenizer;
pub use chrf::{ChrfAccumulator, ChrfConfig, ChrfScore, corpus_chrf, sentence_chrf};
pub use classification::{
    Average, ClassificationAccumulator, ClassificationReport, PrfConfig, accuracy,
    confusion_matrix, precision_recall_fscore,
};
pub use edit_distance::{ErrorRate, ErrorRateAccumulator, edit_distance};
pub use entity::{
    ChunkMode, Entity, EntityAccumulator, EntityCounts, EntityReport, Scheme, entity_report,
    extract_entities, validate_tag,
};
pub use error::{Error, Result};
pub use perplexity::{
    DEFAULT_IGNORE_INDEX, Perplexity, PerplexityAccumulator, perplexity_from_log_probs,
    perplexity_from_logits,
};
pub use pytext::is_py_space;
pub use regression::{RegressionAccumulator, RegressionScores, regression_scores};
pub use rouge::{RougeAccumulator, RougeScore, RougeScorer, RougeScores, RougeType};
pub use ter::{TerAccumulator, TerConfig, TerScore, corpus_ter, sentence_ter};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Implementation helpers are not public API: each of these imports must fail to compile
/// (`py_split`, `porter_stem`, `rouge_tokenize`, `chrf_words`, `TokenizerScratch`). The
/// public text helper is [`is_py_space`], documented there.
///
/// ```compile_fail
/// use seqmodel_metrics::py_split;
/// ```
///
/// ```compile_fail
/// use seqmodel_metrics::porter_stem;
/// ```
///
/// ```compile_fail
/// use seqmodel_metrics::rouge_tokenize;
/// ```
///
/// ```compile_fail
/// use seqmodel_metrics::chrf_words;
/// ```
///
/// ```compile_fail
/// use seqmodel_metrics::TokenizerScratch;
/// ```
#[cfg(doctest)]
pub struct InternalHelpersArePrivate;
