//! What a model offers the decoders of [`crate::decode`]: encode a source once, then advance
//! the target one token at a time from a state it carries (the prefix is never re-run), and
//! pick rows of its memory and state (beam search repeats each sentence `width` times and
//! reorders its hypotheses with them).

use burn::tensor::{Int, Tensor};
use seqmodel_data::PaddedBatch;

/// Batch rows that can be picked: `rows` `[n]` are indices into the batch dimension, repeats
/// allowed, and the result has `n` rows in that order.
pub trait SelectRows: Sized {
    /// The rows `rows` of the batch, in that order.
    fn select_rows(self, rows: Tensor<1, Int>) -> Self;
}

/// One step of [`StepDecoder::decode_step`].
#[derive(Debug, Clone)]
pub struct DecodedStep<S> {
    /// Next-token logits: `[batch, vocab]`.
    pub logits: Tensor<2>,
    /// Attention weights over the source at this step: `[batch, source_time]`, 0 at the
    /// source's padding (`None`: the model has none, e.g. an RNN decoder without attention).
    pub weights: Option<Tensor<2>>,
    /// The state after the step.
    pub state: S,
}

/// A model that decodes autoregressively, one target token per step: what [`crate::greedy`],
/// [`crate::BeamSearchConfig::decode`] and [`crate::SamplingConfig::decode`] need.
///
/// Implemented by the RNN [`crate::Seq2Seq`], the [`crate::TransformerSeq2Seq`] and the
/// [`crate::EncoderDecoder`] holding either.
///
/// Contract: for every row, [`Self::decode_step`]'s logits at step `t` equal the logits a
/// teacher-forced forward over the same prefix gives at position `t`; a row's results never
/// depend on the other rows of the batch.
pub trait StepDecoder {
    /// What the encoder hands every step (encoder states, padding mask, precomputed keys).
    type Memory: SelectRows + Clone;
    /// What a step hands the next (recurrent state, or cached keys and values).
    type State: SelectRows + Clone;

    /// `<bos>` id of the target vocabulary: the first step's input.
    fn bos_id(&self) -> usize;

    /// `<eos>` id of the target vocabulary: decoding of a row stops there.
    fn eos_id(&self) -> usize;

    /// Encodes `source` (ids `[batch, source_time]` with padding mask and lengths) and returns
    /// the memory and the state before the first step.
    fn start(&self, source: &PaddedBatch) -> crate::Result<(Self::Memory, Self::State)>;

    /// One step: the previous tokens `[batch]` (`<bos>` first) → next-token logits, attention
    /// weights and the new state.
    fn decode_step(
        &self,
        tokens: Tensor<1, Int>,
        state: Self::State,
        memory: &Self::Memory,
    ) -> crate::Result<DecodedStep<Self::State>>;
}
