//! burn-train's step traits for [`TransformerSeq2Seq`], as for the RNN `Seq2Seq`: a `Learner`
//! trains and evaluates it on seqmodel-data's `Seq2SeqBatch`es.

use burn::train::{InferenceStep, SequenceOutput, TrainOutput, TrainStep};
use seqmodel_data::Seq2SeqBatch;

use super::model::TransformerSeq2Seq;

/// `TrainStep::step` cannot return an error: every size inside the model was checked by
/// [`super::TransformerSeq2SeqConfig::validate`], so what remains is a batch from another
/// vocabulary — a wiring mistake of the caller, named by the panic.
const STEP_INVARIANT: &str = "TransformerSeq2Seq step: the batch does not fit the model \
                              (batcher and model must share their vocabularies)";

impl TransformerSeq2Seq {
    /// Teacher-forced logits, loss and targets of a batch in burn-train's `SequenceOutput`.
    /// Target padding is `-1` in `targets` (metrics skip it) and does not count in the loss.
    pub fn sequence_output(&self, batch: Seq2SeqBatch) -> crate::Result<SequenceOutput> {
        let out = self.forward(&batch.source, batch.decoder_input.ids.clone())?;
        let loss = self.loss(out.logits.clone(), &batch.decoder_target);
        Ok(crate::loss::sequence_output(
            loss,
            out.logits,
            &batch.decoder_target,
        ))
    }
}

impl TrainStep for TransformerSeq2Seq {
    type Input = Seq2SeqBatch;
    type Output = SequenceOutput;

    /// Teacher-forced forward, the masked loss, backward.
    fn step(&self, batch: Seq2SeqBatch) -> TrainOutput<SequenceOutput> {
        let item = self
            .sequence_output(batch)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for TransformerSeq2Seq {
    type Input = Seq2SeqBatch;
    type Output = SequenceOutput;

    /// Teacher-forced forward and loss.
    fn step(&self, batch: Seq2SeqBatch) -> SequenceOutput {
        self.sequence_output(batch)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// burn-train's `Learner` takes any `LearnerModel` (both steps, `Module`, `Display`).
    #[test]
    fn transformer_is_a_learner_model() {
        fn learner_model<M: burn::train::LearnerModel>() {}
        learner_model::<TransformerSeq2Seq>();
    }
}
