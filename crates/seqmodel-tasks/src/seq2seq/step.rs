//! burn-train's step traits for [`Translator`]: teacher-forced training, and validation that
//! scores decoded output.

use burn::train::{InferenceStep, SequenceOutput, TrainOutput, TrainStep};
use seqmodel_data::Seq2SeqBatch;

use super::Translator;

/// Steps cannot return errors: the sizes were checked when the model was built, so a failure
/// here is a batch from other vocabularies than the model's, a caller's wiring mistake.
const STEP_INVARIANT: &str = "Translator step: the batch does not fit the model (batcher and \
                              model must share their vocabularies)";

impl TrainStep for Translator {
    type Input = Seq2SeqBatch;
    type Output = SequenceOutput;

    /// Teacher forcing (or scheduled sampling, as configured), the masked loss, backward.
    fn step(&self, batch: Seq2SeqBatch) -> TrainOutput<SequenceOutput> {
        let item = self
            .model
            .sequence_output(batch, true)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Translator {
    type Input = Seq2SeqBatch;
    type Output = SequenceOutput;

    /// The teacher-forced loss, and the greedy decoding of the sources in `predictions`
    /// (`[batch, decoded]`, `<eos>` then `-1` after each hypothesis) for the decoded-output
    /// metrics (seqmodel-train's `Seq2SeqMetric`).
    fn step(&self, batch: Seq2SeqBatch) -> SequenceOutput {
        let decoded = self
            .greedy_ids(&batch.source)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        let mut output = self
            .model
            .sequence_output(batch, false)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        output.predictions = Some(decoded);
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// burn-train's `Learner` takes any `LearnerModel` (both steps, `Module`, `Display`).
    #[test]
    fn translator_is_a_learner_model() {
        fn learner_model<M: burn::train::LearnerModel>() {}
        learner_model::<Translator>();
    }
}
