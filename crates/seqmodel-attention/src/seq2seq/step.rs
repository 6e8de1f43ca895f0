//! burn-train's step traits for [`Seq2Seq`]: what lets a `Learner` (seqmodel-train's `fit`)
//! train and evaluate it on seqmodel-data's `Seq2SeqBatch`es.

use burn::train::{InferenceStep, SequenceOutput, TrainOutput, TrainStep};
use seqmodel_data::Seq2SeqBatch;

use super::model::Seq2Seq;

/// `TrainStep::step` cannot return an error: every size inside the model was checked by
/// [`super::Seq2SeqConfig::validate`], so what remains is a batch from another vocabulary (an
/// id not below the vocabulary size) — a wiring mistake of the caller, named by the panic.
const STEP_INVARIANT: &str = "Seq2Seq step: the batch does not fit the model (batcher and model \
                              must share their vocabularies)";

impl Seq2Seq {
    /// Logits, loss and targets of a batch in burn-train's `SequenceOutput`, with
    /// `teacher_forcing` as in [`Seq2Seq::forward_scheduled`]. Target padding is `-1` in
    /// `targets` (metrics skip it) and does not count in the loss.
    pub fn sequence_output(
        &self,
        batch: Seq2SeqBatch,
        teacher_forcing: f64,
    ) -> crate::Result<SequenceOutput> {
        let out = if teacher_forcing >= 1.0 {
            // Full teacher forcing: the decoder stops at each target's end.
            self.forward_padded(&batch.source, &batch.decoder_input)?
        } else {
            self.forward_scheduled(
                &batch.source,
                batch.decoder_input.ids.clone(),
                teacher_forcing,
            )?
        };
        let loss = self.loss(out.logits.clone(), &batch.decoder_target);
        Ok(crate::loss::sequence_output(
            loss,
            out.logits,
            &batch.decoder_target,
        ))
    }
}

impl TrainStep for Seq2Seq {
    type Input = Seq2SeqBatch;
    type Output = SequenceOutput;

    /// Forward with the configured teacher-forcing ratio, the masked loss, backward.
    fn step(&self, batch: Seq2SeqBatch) -> TrainOutput<SequenceOutput> {
        let item = self
            .sequence_output(batch, self.teacher_forcing)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Seq2Seq {
    type Input = Seq2SeqBatch;
    type Output = SequenceOutput;

    /// Teacher-forced forward and loss (validation measures the model on gold prefixes).
    fn step(&self, batch: Seq2SeqBatch) -> SequenceOutput {
        self.sequence_output(batch, 1.0)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// burn-train's `Learner` takes any `LearnerModel` (both steps, `Module`, `Display`).
    #[test]
    fn seq2seq_is_a_learner_model() {
        fn learner_model<M: burn::train::LearnerModel>() {}
        learner_model::<Seq2Seq>();
    }
}
