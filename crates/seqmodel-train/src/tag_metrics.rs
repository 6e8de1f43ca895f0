//! Sequence-labelling metrics for burn-train's metric plumbing: token accuracy and seqeval's
//! entity micro-F1 (seqmodel-metrics' [`EntityAccumulator`], default and strict IOB2 modes),
//! accumulated over a whole epoch from burn-train's `SequenceOutput`.
//!
//! Targets mark padding with a negative id (`-1`): those positions are skipped, so a sentence
//! is exactly its real tokens.

use std::sync::Arc;

use burn::tensor::{Int, Tensor, TensorReadError};
use burn::train::SequenceOutput;
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};
use seqmodel_metrics::{Accumulator, ChunkMode, EntityAccumulator, Scheme};

/// The input of [`TagMetric`]: one batch's predicted and gold tag ids.
pub struct TagIds {
    /// Predicted tag ids, `[batch, time]`.
    pub predicted: Tensor<2, Int>,
    /// Gold tag ids, `[batch, time]`; negative at padding positions.
    pub targets: Tensor<2, Int>,
}

impl Adaptor<TagIds> for SequenceOutput {
    fn adapt(&self) -> TagIds {
        let predicted = match &self.predictions {
            Some(predicted) => predicted.clone(),
            None => self.logits.clone().argmax(2).squeeze_dim::<2>(2),
        };
        TagIds {
            predicted,
            targets: self.targets.clone(),
        }
    }
}

/// Which score a [`TagMetric`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagScore {
    /// Fraction of real tokens whose tag is right, in percent.
    Accuracy,
    /// seqeval's entity micro-F1 with its default (CoNLL, lenient) chunking, in percent.
    EntityF1,
    /// seqeval's entity micro-F1 with `mode="strict", scheme=IOB2`, in percent.
    EntityF1Strict,
}

impl TagScore {
    /// The metric's name in burn-train and in `metrics.jsonl`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::EntityF1 => "entity_f1",
            Self::EntityF1Strict => "entity_f1_strict",
        }
    }

    fn chunk_mode(self) -> ChunkMode {
        match self {
            Self::EntityF1Strict => ChunkMode::Strict(Scheme::Iob2),
            Self::Accuracy | Self::EntityF1 => ChunkMode::Default,
        }
    }
}

/// An epoch-level tagging score accumulated over every batch of the epoch (entity F1 is not
/// a mean of per-batch scores).
#[derive(Clone)]
pub struct TagMetric {
    score: TagScore,
    name: MetricName,
    tag_names: Arc<[String]>,
    correct: u64,
    tokens: u64,
    entities: EntityAccumulator,
}

impl TagMetric {
    /// A metric reporting `score`; `tag_names[id]` is the name of tag id `id` (entity scores
    /// read the IOB2 prefixes from them).
    pub fn new(score: TagScore, tag_names: Arc<[String]>) -> Self {
        Self {
            score,
            name: Arc::new(score.name().to_string()),
            tag_names,
            correct: 0,
            tokens: 0,
            entities: EntityAccumulator::new(score.chunk_mode()),
        }
    }

    /// Adds one batch given as row-major `[batch, time]` id vectors (`targets` negative at
    /// padding). A predicted id without a name counts as the tag `O`.
    pub fn add(&mut self, predicted: &[i64], targets: &[i64], time: usize) {
        let time = time.max(1);
        let names = self.tag_names.clone();
        let mut gold_sentences = Vec::new();
        let mut pred_sentences = Vec::new();
        for (pred_row, gold_row) in predicted.chunks(time).zip(targets.chunks(time)) {
            let mut gold = Vec::new();
            let mut pred = Vec::new();
            for (&p, &g) in pred_row.iter().zip(gold_row) {
                if g < 0 {
                    continue;
                }
                self.tokens += 1;
                self.correct += u64::from(p == g);
                if self.score != TagScore::Accuracy {
                    gold.push(tag_name(&names, g));
                    pred.push(tag_name(&names, p));
                }
            }
            if !gold.is_empty() {
                gold_sentences.push(gold);
                pred_sentences.push(pred);
            }
        }
        if self.score != TagScore::Accuracy {
            // Both sides have one tag per real token and every tag name parses in default
            // mode; in strict mode a name without a B/I/O prefix is refused with the batch,
            // which only a tag set that is not IOB2 produces.
            let _ = self.entities.update(&gold_sentences, &pred_sentences);
        }
    }

    /// The score over everything seen since the last `clear`, in percent; `None` before the
    /// first token.
    pub fn current(&self) -> Option<f64> {
        if self.tokens == 0 {
            return None;
        }
        let value = match self.score {
            TagScore::Accuracy => self.correct as f64 / self.tokens as f64,
            TagScore::EntityF1 | TagScore::EntityF1Strict => {
                self.entities.compute().ok()?.micro.f_score
            }
        };
        Some(100.0 * value)
    }

    fn entry(&self) -> SerializedEntry {
        match self.current() {
            Some(value) => SerializedEntry::new(format!("{value:.2}"), value.to_string()),
            None => SerializedEntry::not_available(Some("%")),
        }
    }
}

/// The name of tag `id`, `O` for an id without one.
fn tag_name(names: &[String], id: i64) -> &str {
    usize::try_from(id)
        .ok()
        .and_then(|id| names.get(id))
        .map_or("O", String::as_str)
}

impl Metric for TagMetric {
    type Input = TagIds;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        MetricAttributes::Numeric(NumericAttributes {
            unit: Some("%".to_string()),
            higher_is_better: true,
        })
    }

    fn update(
        &mut self,
        item: &TagIds,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let [_, time] = item.targets.dims();
        let predicted = item
            .predicted
            .clone()
            .try_into_data_as::<i64>()?
            .try_into_vec::<i64>()
            .unwrap_or_default();
        let targets = item
            .targets
            .clone()
            .try_into_data_as::<i64>()?
            .try_into_vec::<i64>()
            .unwrap_or_default();
        self.add(&predicted, &targets, time);
        Ok(self.entry())
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.entry())
    }

    fn clear(&mut self) {
        *self = Self::new(self.score, self.tag_names.clone());
    }
}

impl Numeric for TagMetric {
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
    use burn::tensor::{Device, TensorData};

    fn names() -> Arc<[String]> {
        ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Two sentences, time 4, the second padded after 2 tokens (targets -1, predictions
    /// there deliberately wrong so that counting them would change every score).
    /// Gold:  [B-PER I-PER O B-LOC] [I-LOC O]
    /// Pred:  [B-PER I-PER O O    ] [I-LOC O]
    /// Accuracy: 5 of 6 real tokens. Default mode: gold PER(0..2), LOC(3..4), LOC(0..1) and
    /// pred PER, LOC(0..1) → tp 2, P 2/2, R 2/3, F1 0.8. Strict IOB2: the orphan I-LOC is no
    /// entity on either side → gold {PER, LOC}, pred {PER}: P 1, R 1/2, F1 2/3.
    fn batch(metric: &mut TagMetric) {
        let predicted = [1, 3, 4, 4, 2, 4, 0, 1];
        let targets = [1, 3, 4, 0, 2, 4, -1, -1];
        metric.add(&predicted, &targets, 4);
    }

    #[test]
    fn scores_by_hand_skip_padding() {
        let mut accuracy = TagMetric::new(TagScore::Accuracy, names());
        assert_eq!(accuracy.current(), None);
        batch(&mut accuracy);
        assert!((accuracy.current().expect("seen") - 500.0 / 6.0).abs() < 1e-9);
        let mut f1 = TagMetric::new(TagScore::EntityF1, names());
        batch(&mut f1);
        assert!((f1.current().expect("seen") - 80.0).abs() < 1e-9);
        let mut strict = TagMetric::new(TagScore::EntityF1Strict, names());
        batch(&mut strict);
        assert!((strict.current().expect("seen") - 200.0 / 3.0).abs() < 1e-9);
    }

    /// The epoch's F1 is over all batches together: 2 batches of the same data keep F1 0.8,
    /// and `clear` starts over.
    #[test]
    fn accumulates_over_the_epoch_and_clears() {
        let mut f1 = TagMetric::new(TagScore::EntityF1, names());
        batch(&mut f1);
        batch(&mut f1);
        assert!((f1.current().expect("seen") - 80.0).abs() < 1e-9);
        f1.clear();
        assert_eq!(f1.current(), None);
    }

    fn metadata() -> MetricMetadata {
        MetricMetadata {
            progress: burn::data::dataloader::Progress {
                items_processed: 1,
                items_total: 1,
                unit: None,
            },
            iteration: Some(0),
            lr: None,
        }
    }

    #[test]
    fn update_reads_the_sequence_output_argmax() {
        let device = Device::flex();
        // Logits [1, 2, 5]: argmax tags 1 then 4; target of step 1 is padding.
        let mut logits = vec![0.0f32; 10];
        logits[1] = 5.0;
        logits[5 + 4] = 5.0;
        let output = SequenceOutput {
            loss: Tensor::<1>::zeros([1], &device),
            logits: Tensor::from_data(TensorData::new(logits, [1, 2, 5]), &device),
            predictions: None,
            targets: Tensor::from_data(TensorData::new(vec![1i64, -1], [1, 2]), &device),
        };
        let mut accuracy = TagMetric::new(TagScore::Accuracy, names());
        accuracy
            .update(&output.adapt(), &metadata())
            .expect("readable");
        assert_eq!(accuracy.current(), Some(100.0));
        assert_eq!(accuracy.name().as_str(), "accuracy");
    }
}
