//! Sequence-to-sequence metrics for burn-train's metric plumbing, computed on *decoded*
//! output: token error rate and exact match (seqmodel-metrics' [`ErrorRateAccumulator`]),
//! sacrebleu's corpus BLEU and chrF, accumulated over a whole epoch.
//!
//! The input is burn-train's `SequenceOutput` whose `predictions` hold the decoded ids
//! `[batch, decoded_time]` (a model's validation step decodes, e.g. greedily) and whose
//! `targets` hold the gold ids `[batch, target_time]`. In both, a row ends at its first
//! negative id (padding) or at `eos`, neither of which counts as a token.

use std::sync::Arc;

use burn::tensor::{Int, Tensor, TensorReadError};
use burn::train::SequenceOutput;
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};
use seqmodel_metrics::{
    Accumulator, BleuAccumulator, BleuConfig, ChrfAccumulator, ChrfConfig, ErrorRateAccumulator,
};

/// The input of [`Seq2SeqMetric`]: one batch's decoded and gold ids.
pub struct DecodedIds {
    /// Decoded ids, `[batch, decoded_time]`.
    pub predicted: Tensor<2, Int>,
    /// Gold ids, `[batch, target_time]`.
    pub targets: Tensor<2, Int>,
}

impl Adaptor<DecodedIds> for SequenceOutput {
    /// The decoded `predictions` (the logits' argmax when a step did not decode).
    fn adapt(&self) -> DecodedIds {
        let predicted = match &self.predictions {
            Some(predicted) => predicted.clone(),
            None => self.logits.clone().argmax(2).squeeze_dim::<2>(2),
        };
        DecodedIds {
            predicted,
            targets: self.targets.clone(),
        }
    }
}

/// Which score a [`Seq2SeqMetric`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seq2SeqScore {
    /// Σ edit distance / Σ reference tokens, in percent (phoneme error rate for G2P); lower is
    /// better.
    ErrorRate,
    /// Sentences decoded exactly, in percent (word accuracy for G2P).
    ExactMatch,
    /// sacrebleu's corpus BLEU (13a tokeniser) of the detokenised text.
    Bleu,
    /// sacrebleu's corpus chrF of the detokenised text.
    Chrf,
}

impl Seq2SeqScore {
    /// The metric's name in burn-train and in `metrics.jsonl`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ErrorRate => "error_rate",
            Self::ExactMatch => "exact_match",
            Self::Bleu => "bleu",
            Self::Chrf => "chrf",
        }
    }

    /// Whether a higher value is better (all but the error rate).
    pub fn higher_is_better(self) -> bool {
        self != Self::ErrorRate
    }
}

/// How ids become text for BLEU and chrF: `names[id]` joined by `separator`.
#[derive(Debug, Clone)]
pub struct Detokenizer {
    /// `names[id]` is the text of token id `id` (an id without one is `<unk>`).
    pub names: Arc<[String]>,
    /// What goes between tokens (`" "` for words and phonemes, `""` for characters).
    pub separator: String,
    /// The end-of-sequence id: a row ends there.
    pub eos: usize,
    /// The unknown-token id, if any: in *references* it stands for a word the vocabulary lacks,
    /// which no hypothesis can have produced, so it never matches (not even a hypothesis's own
    /// `<unk>`); without this, `<unk>` against `<unk>` would inflate every score.
    pub unk: Option<usize>,
}

/// What a reference's unknown token becomes: an id no vocabulary has.
const UNMATCHABLE: usize = usize::MAX;

impl Detokenizer {
    /// The tokens of a row: up to its first negative id or `eos`.
    pub fn tokens(&self, row: &[i64]) -> Vec<usize> {
        row.iter()
            .map_while(|&id| usize::try_from(id).ok().filter(|&id| id != self.eos))
            .collect()
    }

    /// The tokens of a reference row: as [`Self::tokens`], its unknown tokens made unmatchable.
    pub fn reference_tokens(&self, row: &[i64]) -> Vec<usize> {
        let mut tokens = self.tokens(row);
        if let Some(unk) = self.unk {
            for t in &mut tokens {
                if *t == unk {
                    *t = UNMATCHABLE;
                }
            }
        }
        tokens
    }

    /// The text of `tokens` (an id without a name, such as a reference's unknown word, is
    /// `<unknown-word>`).
    pub fn text(&self, tokens: &[usize]) -> String {
        tokens
            .iter()
            .map(|&id| self.names.get(id).map_or("<unknown-word>", String::as_str))
            .collect::<Vec<_>>()
            .join(&self.separator)
    }
}

/// The running state of one score.
#[derive(Clone)]
enum Running {
    Edits(ErrorRateAccumulator),
    Bleu(BleuAccumulator),
    Chrf(ChrfAccumulator),
}

/// An epoch-level score of decoded sequences, accumulated over every batch of the epoch (a
/// corpus score, not a mean of per-batch scores).
#[derive(Clone)]
pub struct Seq2SeqMetric {
    score: Seq2SeqScore,
    name: MetricName,
    detokenizer: Detokenizer,
    running: Running,
    sentences: usize,
}

impl Seq2SeqMetric {
    /// A metric reporting `score`, reading ids through `detokenizer`.
    pub fn new(score: Seq2SeqScore, detokenizer: Detokenizer) -> Self {
        let running = match score {
            Seq2SeqScore::ErrorRate | Seq2SeqScore::ExactMatch => {
                Running::Edits(ErrorRateAccumulator::new())
            }
            Seq2SeqScore::Bleu => Running::Bleu(
                BleuAccumulator::new(BleuConfig::corpus())
                    .expect("sacrebleu's corpus defaults are a valid BLEU config"),
            ),
            Seq2SeqScore::Chrf => Running::Chrf(
                ChrfAccumulator::new(ChrfConfig::chrf())
                    .expect("sacrebleu's chrF defaults are a valid chrF config"),
            ),
        };
        Self {
            score,
            name: Arc::new(score.name().to_string()),
            detokenizer,
            running,
            sentences: 0,
        }
    }

    /// Adds one batch given as row-major id vectors: `predicted` `[batch, predicted_time]`,
    /// `targets` `[batch, target_time]`.
    pub fn add(&mut self, predicted: &[i64], predicted_time: usize, targets: &[i64], time: usize) {
        let rows = |ids: &[i64], time: usize, reference: bool| -> Vec<Vec<usize>> {
            if time == 0 {
                return Vec::new();
            }
            ids.chunks(time)
                .map(|row| {
                    if reference {
                        self.detokenizer.reference_tokens(row)
                    } else {
                        self.detokenizer.tokens(row)
                    }
                })
                .collect()
        };
        let gold = rows(targets, time, true);
        let mut hyps = rows(predicted, predicted_time, false);
        // A decoder that produced nothing for the whole batch gives time 0: empty hypotheses.
        hyps.resize(gold.len(), Vec::new());
        self.sentences += gold.len();
        // The slices are aligned by construction, and BLEU/chrF accept any strings, so the
        // accumulators cannot fail here.
        let detokenizer = &self.detokenizer;
        match &mut self.running {
            Running::Edits(acc) => {
                let _ = acc.update(&hyps, &gold);
            }
            Running::Bleu(acc) => {
                let (h, r) = texts(detokenizer, &hyps, &gold);
                let _ = acc.update(&h, &r);
            }
            Running::Chrf(acc) => {
                let (h, r) = texts(detokenizer, &hyps, &gold);
                let _ = acc.update(&h, &r);
            }
        }
    }

    /// The score over everything seen since the last `clear`, in percent (BLEU and chrF on
    /// their usual 0–100 scale); `None` before the first sentence.
    pub fn current(&self) -> Option<f64> {
        if self.sentences == 0 {
            return None;
        }
        match &self.running {
            Running::Edits(acc) => {
                let score = acc.compute().ok()?;
                Some(
                    100.0
                        * match self.score {
                            Seq2SeqScore::ExactMatch => score.exact_match,
                            _ => score.error_rate,
                        },
                )
            }
            Running::Bleu(acc) => acc.compute().ok().map(|s| s.score),
            Running::Chrf(acc) => acc.compute().ok().map(|s| s.score),
        }
    }

    fn entry(&self) -> SerializedEntry {
        match self.current() {
            Some(value) => SerializedEntry::new(format!("{value:.2}"), value.to_string()),
            None => SerializedEntry::not_available(Some("%")),
        }
    }
}

/// Hypothesis texts and one reference text per sentence.
fn texts(
    detokenizer: &Detokenizer,
    hyps: &[Vec<usize>],
    gold: &[Vec<usize>],
) -> (Vec<String>, Vec<Vec<String>>) {
    (
        hyps.iter().map(|h| detokenizer.text(h)).collect(),
        gold.iter().map(|g| vec![detokenizer.text(g)]).collect(),
    )
}

fn host_ids(tensor: &Tensor<2, Int>) -> Result<(Vec<i64>, usize), TensorReadError> {
    let [_, time] = tensor.dims();
    let ids = tensor
        .clone()
        .try_into_data_as::<i64>()?
        .try_into_vec::<i64>()
        .unwrap_or_default();
    Ok((ids, time))
}

impl Metric for Seq2SeqMetric {
    type Input = DecodedIds;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        MetricAttributes::Numeric(NumericAttributes {
            unit: Some("%".to_string()),
            higher_is_better: self.score.higher_is_better(),
        })
    }

    fn update(
        &mut self,
        item: &DecodedIds,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let (predicted, predicted_time) = host_ids(&item.predicted)?;
        let (targets, time) = host_ids(&item.targets)?;
        self.add(&predicted, predicted_time, &targets, time);
        Ok(self.entry())
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.entry())
    }

    fn clear(&mut self) {
        *self = Self::new(self.score, self.detokenizer.clone());
    }
}

impl Numeric for Seq2SeqMetric {
    fn value(&self) -> Option<NumericEntry> {
        self.current().map(NumericEntry::Value)
    }

    fn running_value(&self) -> Option<NumericEntry> {
        self.current().map(NumericEntry::Value)
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(self.current().unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids: 0 = `<eos>`, 1.. = "a".."d".
    fn detok(separator: &str) -> Detokenizer {
        Detokenizer {
            names: ["<eos>", "a", "b", "c", "d"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            separator: separator.to_string(),
            eos: 0,
            unk: None,
        }
    }

    /// Two sentences. Gold (time 4, `-1` padding): [a b c <eos>] [d <eos> -1 -1].
    /// Decoded (time 3): [a c <eos>] [d <eos> b] — tokens after `<eos>` never count.
    /// Edits: a c vs a b c = 1 deletion; d vs d = 0 → 1 / 4 tokens = 25 %, exact 1 of 2.
    fn batch(metric: &mut Seq2SeqMetric) {
        let predicted = [1, 3, 0, 4, 0, 2];
        let targets = [1, 2, 3, 0, 4, 0, -1, -1];
        metric.add(&predicted, 3, &targets, 4);
    }

    #[test]
    fn error_rate_and_exact_match_by_hand() {
        let mut per = Seq2SeqMetric::new(Seq2SeqScore::ErrorRate, detok(" "));
        assert_eq!(per.current(), None);
        batch(&mut per);
        assert_eq!(per.current(), Some(25.0));
        let mut exact = Seq2SeqMetric::new(Seq2SeqScore::ExactMatch, detok(" "));
        batch(&mut exact);
        assert_eq!(exact.current(), Some(50.0));
        // The epoch accumulates; clear starts over.
        batch(&mut per);
        assert_eq!(per.current(), Some(25.0));
        per.clear();
        assert_eq!(per.current(), None);
    }

    /// BLEU and chrF equal seqmodel-metrics' corpus functions on the detokenised text.
    #[test]
    fn bleu_and_chrf_score_the_detokenised_text() {
        let hyps = ["a c", "d"];
        let refs = [["a b c"], ["d"]];
        let bleu = seqmodel_metrics::corpus_bleu(&hyps, &refs, &BleuConfig::corpus())
            .expect("valid")
            .score;
        let chrf = seqmodel_metrics::corpus_chrf(&hyps, &refs, &ChrfConfig::chrf())
            .expect("valid")
            .score;
        let mut b = Seq2SeqMetric::new(Seq2SeqScore::Bleu, detok(" "));
        batch(&mut b);
        assert_eq!(b.current(), Some(bleu));
        let mut c = Seq2SeqMetric::new(Seq2SeqScore::Chrf, detok(" "));
        batch(&mut c);
        assert_eq!(c.current(), Some(chrf));
        assert_eq!(detok("").text(&[1, 2, 9]), "ab<unknown-word>");
    }

    /// A reference's unknown word (id 4 taken as `<unk>` here) never matches, not even the
    /// hypothesis's own unknown token: gold [a <unk>] against decoded [a <unk>] is one
    /// substitution in two.
    #[test]
    fn unknown_reference_words_never_match() {
        let detokenizer = Detokenizer {
            unk: Some(4),
            ..detok(" ")
        };
        let mut per = Seq2SeqMetric::new(Seq2SeqScore::ErrorRate, detokenizer);
        per.add(&[1, 4, 0], 3, &[1, 4, 0], 3);
        assert_eq!(per.current(), Some(50.0));
    }

    /// A batch the decoder left empty (time 0) scores every sentence as empty.
    #[test]
    fn empty_decoding_counts_every_reference_token_as_an_error() {
        let mut per = Seq2SeqMetric::new(Seq2SeqScore::ErrorRate, detok(" "));
        per.add(&[], 0, &[1, 2, 0], 3);
        assert_eq!(per.current(), Some(100.0));
    }
}
