//! burn-train's step traits for [`TextClassifier`]: what lets a `Learner` train and evaluate it.

use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use seqmodel_data::TextClassificationBatch;

use super::TextClassifier;

/// Why a step cannot fail on the batches burn-train hands it, and what the panic means if it
/// does.
///
/// `TrainStep::step` and `InferenceStep::step` cannot return an error. Every shape inside the
/// model was checked when it was built ([`crate::ClassifierConfig::validate`]: embedding width
/// = encoder input, encoder `D * H` = output-layer input), and a batch from a
/// `TextClassificationBatcher` has lengths that fit its ids. What remains is a batch that does
/// not belong to this model: a token id not below `vocab_size` (a batcher built on another
/// vocabulary), a label not below `num_classes` (another label set), an empty batch. Those are
/// wiring mistakes of the caller, checked up front by whoever builds batcher and model from
/// one vocabulary and one label set; the panic message is the [`crate::TaskError`] naming the
/// value and the fix.
const STEP_INVARIANT: &str = "TextClassifier step: the batch does not fit the model (batcher and \
                              model must share one vocabulary and one label set)";

impl TrainStep for TextClassifier {
    type Input = TextClassificationBatch;
    type Output = ClassificationOutput;

    /// Forward (with dropout on an autodiff device), mean cross-entropy, backward.
    fn step(&self, batch: TextClassificationBatch) -> TrainOutput<ClassificationOutput> {
        let item = self
            .classification_output(batch)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for TextClassifier {
    type Input = TextClassificationBatch;
    type Output = ClassificationOutput;

    /// Forward and mean cross-entropy, no backward.
    fn step(&self, batch: TextClassificationBatch) -> ClassificationOutput {
        self.classification_output(batch)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// burn-train's `Learner` takes any `LearnerModel` (both steps, `Module`, `Display`).
    #[test]
    fn text_classifier_is_a_learner_model() {
        fn learner_model<M: burn::train::LearnerModel>() {}
        learner_model::<TextClassifier>();
    }
}
