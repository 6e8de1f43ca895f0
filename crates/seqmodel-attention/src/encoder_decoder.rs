//! One encoder–decoder type for tasks that let the configuration choose the architecture:
//! [`EncoderDecoder`] holds the RNN [`Seq2Seq`] or the [`TransformerSeq2Seq`], built from an
//! [`EncoderDecoderConfig`], and offers what both offer — teacher-forced forward and loss,
//! [`StepDecoder`] for greedy, beam and sampling decoding, burn-train's step traits.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use burn::train::{InferenceStep, SequenceOutput, TrainOutput, TrainStep};
use seqmodel_data::{PaddedBatch, Seq2SeqBatch};
use serde::{Deserialize, Serialize};

use crate::error::AttentionError;
use crate::seq2seq::{DecoderState, EncoderOutput, Seq2Seq, Seq2SeqConfig, Seq2SeqOutput};
use crate::step_decoder::{DecodedStep, SelectRows, StepDecoder};
use crate::transformer::{
    TransformerMemory, TransformerSeq2Seq, TransformerSeq2SeqConfig, TransformerState,
};

const MODULE: &str = "EncoderDecoder";

/// Which encoder–decoder, and its settings. JSON is externally tagged by the kind, in
/// lowercase: `{"rnn": {…Seq2SeqConfig…}}` or `{"transformer": {…TransformerSeq2SeqConfig…}}`,
/// the inner object as Burn's `Config` serde writes it (every field: Burn fills in no default
/// when reading, so build configurations in code with `new` and `with_*`, or from a file this
/// type wrote).
///
/// ```
/// use burn::tensor::Device;
/// use seqmodel_attention::{EncoderDecoderConfig, TransformerSeq2SeqConfig};
///
/// let config = EncoderDecoderConfig::Transformer(
///     TransformerSeq2SeqConfig::new(30, 40, 1, 2).with_d_model(32),
/// );
/// let json = serde_json::to_string(&config)?;
/// assert!(json.starts_with(r#"{"transformer":{"#));
/// let read: EncoderDecoderConfig = serde_json::from_str(&json)?;
/// assert_eq!(read, config);
/// let model = read.init(&Device::flex())?;
/// assert_eq!(model.kind(), "transformer");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncoderDecoderConfig {
    /// The RNN encoder–decoder, with or without attention.
    Rnn(Seq2SeqConfig),
    /// The Transformer.
    Transformer(TransformerSeq2SeqConfig),
}

impl EncoderDecoderConfig {
    /// The kind's name: `"rnn"` or `"transformer"` (its JSON tag).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Rnn(_) => "rnn",
            Self::Transformer(_) => "transformer",
        }
    }

    /// `<bos>` id of the target vocabulary.
    pub fn bos_id(&self) -> usize {
        match self {
            Self::Rnn(c) => c.bos_id,
            Self::Transformer(c) => c.bos_id,
        }
    }

    /// `<eos>` id of the target vocabulary.
    pub fn eos_id(&self) -> usize {
        match self {
            Self::Rnn(c) => c.eos_id,
            Self::Transformer(c) => c.eos_id,
        }
    }

    /// Checks the chosen configuration; errors name its type and field.
    pub fn validate(&self) -> crate::Result<()> {
        match self {
            Self::Rnn(c) => c.validate(),
            Self::Transformer(c) => c.validate(),
        }
    }

    /// Builds the model on `device`, after [`Self::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<EncoderDecoder> {
        Ok(match self {
            Self::Rnn(c) => EncoderDecoder::Rnn(c.init(device)?),
            Self::Transformer(c) => EncoderDecoder::Transformer(c.init(device)?),
        })
    }
}

/// An RNN or Transformer encoder–decoder: the model a task holds when its configuration picks
/// the architecture.
// The variants differ in size (the RNN's tensors are inline), but a model is built once and
// then borrowed: boxing would cost every user a `Box` for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum EncoderDecoder {
    /// The RNN encoder–decoder.
    Rnn(Seq2Seq),
    /// The Transformer.
    Transformer(TransformerSeq2Seq),
}

/// The memory of an [`EncoderDecoder`] (what [`StepDecoder::start`] returns).
// Moved once per decoding step: a copy of a few kilobytes next to a step's tensor work.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum EncoderDecoderMemory {
    /// Of an RNN model.
    Rnn(EncoderOutput),
    /// Of a Transformer.
    Transformer(TransformerMemory),
}

/// The decoder state of an [`EncoderDecoder`] between steps.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum EncoderDecoderState {
    /// Of an RNN model.
    Rnn(DecoderState),
    /// Of a Transformer.
    Transformer(TransformerState),
}

impl SelectRows for EncoderDecoderMemory {
    fn select_rows(self, rows: Tensor<1, Int>) -> Self {
        match self {
            Self::Rnn(m) => Self::Rnn(m.select_rows(rows)),
            Self::Transformer(m) => Self::Transformer(m.select_rows(rows)),
        }
    }
}

impl SelectRows for EncoderDecoderState {
    fn select_rows(self, rows: Tensor<1, Int>) -> Self {
        match self {
            Self::Rnn(s) => Self::Rnn(s.select_rows(rows)),
            Self::Transformer(s) => Self::Transformer(s.select_rows(rows)),
        }
    }
}

impl EncoderDecoder {
    /// The kind's name: `"rnn"` or `"transformer"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Rnn(_) => "rnn",
            Self::Transformer(_) => "transformer",
        }
    }

    /// Teacher-forced logits `[batch, target_time, vocab]` for `decoder_input` (`<bos>` +
    /// target, right-padded, `[batch, target_time]`), with the attention weights
    /// `[batch, target_time, source_time]` (RNN: its attention, `None` without; Transformer:
    /// the last layer's cross-attention averaged over heads).
    pub fn forward(
        &self,
        source: &PaddedBatch,
        decoder_input: Tensor<2, Int>,
    ) -> crate::Result<Seq2SeqOutput> {
        match self {
            Self::Rnn(m) => m.forward(source, decoder_input),
            Self::Transformer(m) => m.forward(source, decoder_input),
        }
    }

    /// The model's masked, label-smoothed loss ([`crate::masked_cross_entropy`]).
    ///
    /// # Shapes
    /// `logits` `[batch, time, vocab]`, `target` ids `[batch, time]` with its padding mask.
    pub fn loss(&self, logits: Tensor<3>, target: &PaddedBatch) -> Tensor<1> {
        match self {
            Self::Rnn(m) => m.loss(logits, target),
            Self::Transformer(m) => m.loss(logits, target),
        }
    }

    /// burn-train's `SequenceOutput` of a batch: with `training`, the RNN model applies its
    /// configured teacher-forcing ratio (scheduled sampling); otherwise every model is fully
    /// teacher-forced. Target padding is `-1` in `targets` and does not count in the loss.
    pub fn sequence_output(
        &self,
        batch: Seq2SeqBatch,
        training: bool,
    ) -> crate::Result<SequenceOutput> {
        match self {
            Self::Rnn(m) => {
                let ratio = if training { m.teacher_forcing } else { 1.0 };
                m.sequence_output(batch, ratio)
            }
            Self::Transformer(m) => m.sequence_output(batch),
        }
    }
}

impl StepDecoder for EncoderDecoder {
    type Memory = EncoderDecoderMemory;
    type State = EncoderDecoderState;

    fn bos_id(&self) -> usize {
        match self {
            Self::Rnn(m) => m.bos_id,
            Self::Transformer(m) => m.bos_id,
        }
    }

    fn eos_id(&self) -> usize {
        match self {
            Self::Rnn(m) => m.eos_id,
            Self::Transformer(m) => m.eos_id,
        }
    }

    fn start(
        &self,
        source: &PaddedBatch,
    ) -> crate::Result<(EncoderDecoderMemory, EncoderDecoderState)> {
        Ok(match self {
            Self::Rnn(m) => {
                let (memory, state) = m.start(source)?;
                (
                    EncoderDecoderMemory::Rnn(memory),
                    EncoderDecoderState::Rnn(state),
                )
            }
            Self::Transformer(m) => {
                let (memory, state) = StepDecoder::start(m, source)?;
                (
                    EncoderDecoderMemory::Transformer(memory),
                    EncoderDecoderState::Transformer(state),
                )
            }
        })
    }

    /// One step of the held model. A memory or state from the other kind is an error.
    fn decode_step(
        &self,
        tokens: Tensor<1, Int>,
        state: EncoderDecoderState,
        memory: &EncoderDecoderMemory,
    ) -> crate::Result<DecodedStep<EncoderDecoderState>> {
        match (self, state, memory) {
            (Self::Rnn(m), EncoderDecoderState::Rnn(s), EncoderDecoderMemory::Rnn(mem)) => {
                let step = m.decode_step(tokens, s, mem)?;
                Ok(DecodedStep {
                    logits: step.logits,
                    weights: step.weights,
                    state: EncoderDecoderState::Rnn(step.state),
                })
            }
            (
                Self::Transformer(m),
                EncoderDecoderState::Transformer(s),
                EncoderDecoderMemory::Transformer(mem),
            ) => {
                let step = m.decode_step(tokens, s, mem)?;
                Ok(DecodedStep {
                    logits: step.logits,
                    weights: step.weights,
                    state: EncoderDecoderState::Transformer(step.state),
                })
            }
            _ => Err(AttentionError::Mismatch {
                module: MODULE,
                message: format!(
                    "a {} model was handed a memory or state of the other kind; pass what its \
                     own `start` returned",
                    self.kind()
                ),
            }),
        }
    }
}

/// `TrainStep::step` cannot return an error: the configuration checked every size, so what
/// remains is a batch from another vocabulary — a wiring mistake, named by the panic.
const STEP_INVARIANT: &str = "EncoderDecoder step: the batch does not fit the model (batcher \
                              and model must share their vocabularies)";

impl TrainStep for EncoderDecoder {
    type Input = Seq2SeqBatch;
    type Output = SequenceOutput;

    /// Forward (the RNN model with its teacher-forcing ratio), masked loss, backward.
    fn step(&self, batch: Seq2SeqBatch) -> TrainOutput<SequenceOutput> {
        let item = self
            .sequence_output(batch, true)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for EncoderDecoder {
    type Input = Seq2SeqBatch;
    type Output = SequenceOutput;

    /// Teacher-forced forward and loss.
    fn step(&self, batch: Seq2SeqBatch) -> SequenceOutput {
        self.sequence_output(batch, false)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RnnDecoderConfig, RnnEncoderConfig};
    use seqmodel_data::PaddingConfig;

    /// burn-train's `Learner` takes any `LearnerModel` (both steps, `Module`, `Display`).
    #[test]
    fn encoder_decoder_is_a_learner_model() {
        fn learner_model<M: burn::train::LearnerModel>() {}
        learner_model::<EncoderDecoder>();
    }

    fn rnn_config() -> EncoderDecoderConfig {
        let encoder = RnnEncoderConfig::new(10, 4, 4);
        let decoder = RnnDecoderConfig::new(12, 4, 8, encoder.output_size());
        EncoderDecoderConfig::Rnn(Seq2SeqConfig::new(encoder, decoder, 1, 2))
    }

    fn transformer_config() -> EncoderDecoderConfig {
        EncoderDecoderConfig::Transformer(
            TransformerSeq2SeqConfig::new(10, 12, 1, 2)
                .with_d_model(8)
                .with_num_heads(2)
                .with_d_ff(16),
        )
    }

    #[test]
    fn configs_round_trip_through_json_tagged_by_kind() {
        for config in [rnn_config(), transformer_config()] {
            let json = serde_json::to_string(&config).expect("serialises");
            assert!(
                json.starts_with(&format!("{{\"{}\":", config.kind())),
                "{json}"
            );
            let back: EncoderDecoderConfig = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, config);
        }
        let error = serde_json::from_str::<EncoderDecoderConfig>(r#"{"cnn": {}}"#)
            .expect_err("unknown kind")
            .to_string();
        assert!(
            error.contains("rnn") && error.contains("transformer"),
            "{error}"
        );
    }

    #[test]
    fn init_validates_the_chosen_config() {
        let device = Device::flex();
        let EncoderDecoderConfig::Transformer(bad) = transformer_config() else {
            unreachable!()
        };
        let error = EncoderDecoderConfig::Transformer(bad.with_num_heads(3))
            .init(&device)
            .expect_err("8 is not a multiple of 3")
            .to_string();
        assert!(error.contains("`d_model`"), "{error}");
    }

    /// Each kind decodes through the enum, and a state from the other kind is an error, not a
    /// panic.
    #[test]
    fn steps_dispatch_and_reject_the_other_kind() {
        let device = Device::flex();
        let source = PaddingConfig::default()
            .pad(&[vec![3, 4, 5], vec![6]])
            .expect("valid")
            .to_batch(&device);
        let rnn = rnn_config().init(&device).expect("valid");
        let transformer = transformer_config().init(&device).expect("valid");
        let tokens = Tensor::<1, Int>::from_data([1, 1], &device);
        for model in [&rnn, &transformer] {
            let (memory, state) = model.start(&source).expect("start");
            let step = model
                .decode_step(tokens.clone(), state, &memory)
                .expect("step");
            assert_eq!(step.logits.dims(), [2, 12], "{}", model.kind());
            assert_eq!(step.weights.expect("weights").dims(), [2, 3]);
        }
        let (memory, state) = rnn.start(&source).expect("start");
        let error = transformer
            .decode_step(tokens, state, &memory)
            .expect_err("an RNN state")
            .to_string();
        assert!(
            error.contains("EncoderDecoder: a transformer model"),
            "{error}"
        );
    }
}
