//! burn-train's step traits for [`SequenceTagger`].

use burn::train::{InferenceStep, SequenceOutput, TrainOutput, TrainStep};

use super::batch::TagBatch;
use super::model::SequenceTagger;

const STEP_INVARIANT: &str = "SequenceTagger step: the batch does not fit the model (batcher and \
                              model must share one TagEncoder)";

impl TrainStep for SequenceTagger {
    type Input = TagBatch;
    type Output = SequenceOutput;

    fn step(&self, batch: TagBatch) -> TrainOutput<SequenceOutput> {
        let item = self
            .sequence_output(batch)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for SequenceTagger {
    type Input = TagBatch;
    type Output = SequenceOutput;

    fn step(&self, batch: TagBatch) -> SequenceOutput {
        self.sequence_output(batch)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"))
    }
}
