//! Classification metrics for burn-train's metric plumbing, computed by seqmodel-metrics
//! (scikit-learn's definitions), so that what the terminal UI, `metrics.jsonl` and a later
//! `eval` report are one computation.

use burn::tensor::{Int, Tensor, TensorReadError};
use burn::train::ClassificationOutput;
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};
use seqmodel_metrics::{Average, ClassificationAccumulator, PrfConfig};
use std::sync::Arc;

/// The input of [`ClassMetric`]: one batch's class scores and gold labels.
pub struct ClassLabels {
    /// Class scores (logits or probabilities), `[batch, classes]`; the prediction is the argmax.
    pub scores: Tensor<2>,
    /// Gold class indices, `[batch]`.
    pub targets: Tensor<1, Int>,
}

impl Adaptor<ClassLabels> for ClassificationOutput {
    fn adapt(&self) -> ClassLabels {
        ClassLabels {
            scores: self.output.clone(),
            targets: self.targets.clone(),
        }
    }
}

/// Which score a [`ClassMetric`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassScore {
    /// Fraction of correct predictions, in percent.
    Accuracy,
    /// Unweighted mean of the per-class F1 over the classes present in gold or predictions
    /// (scikit-learn `f1_score(average="macro", zero_division=0)`), in percent.
    MacroF1,
}

impl ClassScore {
    /// The metric's name in burn-train and in `metrics.jsonl`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::MacroF1 => "macro_f1",
        }
    }
}

/// An epoch-level classification score accumulated over every batch of the epoch (not a mean
/// of per-batch scores, which macro-F1 is not).
#[derive(Clone)]
pub struct ClassMetric {
    score: ClassScore,
    name: MetricName,
    accumulator: ClassificationAccumulator<i64>,
}

impl ClassMetric {
    /// A metric reporting `score`.
    pub fn new(score: ClassScore) -> Self {
        Self {
            score,
            name: Arc::new(score.name().to_string()),
            accumulator: ClassificationAccumulator::new(),
        }
    }

    /// The score over everything seen since the last `clear`, in percent; `None` before the
    /// first example.
    pub fn current(&self) -> Option<f64> {
        if self.accumulator.is_empty() {
            return None;
        }
        let value = match self.score {
            ClassScore::Accuracy => self.accumulator.accuracy().ok()?,
            ClassScore::MacroF1 => {
                // All labels seen, 0/0 = 0, β = 1: scikit-learn's defaults.
                let config = PrfConfig::default();
                self.accumulator
                    .precision_recall_fscore(&Average::Macro, &config)
                    .ok()?
                    .f_score
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

impl Metric for ClassMetric {
    type Input = ClassLabels;

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
        item: &ClassLabels,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let predicted = item
            .scores
            .clone()
            .argmax(1)
            .flatten::<1>(0, 1)
            .try_into_data_as::<i64>()?
            .try_into_vec::<i64>()
            .unwrap_or_default();
        let gold = item
            .targets
            .clone()
            .try_into_data_as::<i64>()?
            .try_into_vec::<i64>()
            .unwrap_or_default();
        // Both come from one batch, so their lengths agree; a mismatch would be a model bug
        // that the accumulator reports by refusing the batch.
        let _ = self.accumulator.update(&gold, &predicted);
        Ok(self.entry())
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.entry())
    }

    fn clear(&mut self) {
        self.accumulator = ClassificationAccumulator::new();
    }
}

impl Numeric for ClassMetric {
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
