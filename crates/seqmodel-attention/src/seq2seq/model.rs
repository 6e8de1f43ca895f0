//! The encoder–decoder: encoder, bridge of the final states to the decoder's size, decoder;
//! teacher-forced training with scheduled sampling and a padding-masked, optionally
//! label-smoothed loss.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Distribution, Int, Tensor};
use seqmodel_data::PaddedBatch;
use serde::{Deserialize, Serialize};

use super::decoder::{DecoderOutput, DecoderState, RnnDecoder, RnnDecoderConfig};
use super::encoder::{EncoderOutput, RnnEncoder, RnnEncoderConfig};
use super::recurrent::RecurrentState;
use crate::error::AttentionError;
use crate::step_decoder::{DecodedStep, StepDecoder};

/// How the encoder's final states become the decoder's initial state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BridgeKind {
    /// Both directions' final states of each layer concatenated (`h` and `c`): the decoder's
    /// hidden size must be `directions * encoder hidden`, layers equal.
    #[default]
    Concat,
    /// The concatenation through `tanh(W ·)` to the decoder's size (layers equal).
    Linear,
    /// The decoder starts from zeros (it sees the source through attention only).
    Zeros,
}

/// Configuration of a [`Seq2Seq`] model.
#[derive(Config, Debug, PartialEq)]
pub struct Seq2SeqConfig {
    /// The encoder.
    pub encoder: RnnEncoderConfig,
    /// The decoder (its `encoder_size` = the encoder's `output_size()`).
    pub decoder: RnnDecoderConfig,
    /// `<bos>` id of the target vocabulary (the decoder's first input).
    pub bos_id: usize,
    /// `<eos>` id of the target vocabulary (decoding stops there).
    pub eos_id: usize,
    /// How the final encoder states start the decoder.
    #[config(default = "BridgeKind::Concat")]
    pub bridge: BridgeKind,
    /// Label smoothing `ε` of the loss (PyTorch's `CrossEntropyLoss(label_smoothing=ε)`).
    #[config(default = 0.0)]
    pub label_smoothing: f64,
    /// Teacher-forcing ratio of a training step (1: always the gold previous token; below 1:
    /// scheduled sampling, see [`Seq2Seq::forward_scheduled`]).
    #[config(default = 1.0)]
    pub teacher_forcing: f64,
}

impl Seq2SeqConfig {
    /// Checks every size against the others, naming the field and the fix.
    pub fn validate(&self) -> crate::Result<()> {
        self.encoder.validate()?;
        self.decoder.validate()?;
        let bad = |field, message: String| AttentionError::Config {
            config: "Seq2SeqConfig",
            field,
            message,
        };
        let enc = self.encoder.output_size();
        if self.decoder.encoder_size != enc {
            return Err(bad(
                "decoder.encoder_size",
                format!(
                    "is {} but the encoder's states are {enc} wide (directions × hidden_size)",
                    self.decoder.encoder_size
                ),
            ));
        }
        if self.bridge != BridgeKind::Zeros && self.encoder.num_layers != self.decoder.num_layers {
            return Err(bad(
                "bridge",
                format!(
                    "{:?} maps layer to layer: the encoder has {} layers, the decoder {} (use \
                     \"zeros\" or equal layers)",
                    self.bridge, self.encoder.num_layers, self.decoder.num_layers
                ),
            ));
        }
        if self.bridge == BridgeKind::Concat && self.decoder.hidden_size != enc {
            return Err(bad(
                "bridge",
                format!(
                    "concat gives the decoder states {enc} wide but its hidden_size is {} (use \
                     \"linear\", or hidden_size {enc})",
                    self.decoder.hidden_size
                ),
            ));
        }
        for (field, id) in [("bos_id", self.bos_id), ("eos_id", self.eos_id)] {
            if id >= self.decoder.vocab_size {
                return Err(bad(
                    field,
                    format!(
                        "is {id} but the target vocabulary has {} ids",
                        self.decoder.vocab_size
                    ),
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.teacher_forcing) {
            return Err(bad(
                "teacher_forcing",
                format!("is {} but must be in [0, 1]", self.teacher_forcing),
            ));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(bad(
                "label_smoothing",
                format!("is {} but must be in [0, 1)", self.label_smoothing),
            ));
        }
        Ok(())
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<Seq2Seq> {
        self.validate()?;
        let (h, c) = match self.bridge {
            BridgeKind::Linear => {
                let linear = || {
                    LinearConfig::new(self.encoder.output_size(), self.decoder.hidden_size)
                        .init(device)
                };
                (Some(linear()), Some(linear()))
            }
            _ => (None, None),
        };
        Ok(Seq2Seq {
            encoder: self.encoder.init(device)?,
            decoder: self.decoder.init(device)?,
            bridge_h: h,
            bridge_c: c,
            zero_bridge: self.bridge == BridgeKind::Zeros,
            bos_id: self.bos_id,
            eos_id: self.eos_id,
            label_smoothing: self.label_smoothing,
            teacher_forcing: self.teacher_forcing,
        })
    }
}

/// Logits and attention of a teacher-forced batch.
pub type Seq2SeqOutput = DecoderOutput;

/// An RNN encoder–decoder (Sutskever et al. 2014; with attention, Bahdanau et al. 2015 and
/// Luong et al. 2015).
#[derive(Module, Debug)]
pub struct Seq2Seq {
    /// The encoder.
    pub encoder: RnnEncoder,
    /// The decoder.
    pub decoder: RnnDecoder,
    /// Linear bridge for `h` (present for [`BridgeKind::Linear`]).
    pub bridge_h: Option<Linear>,
    /// Linear bridge for `c` (present for [`BridgeKind::Linear`]).
    pub bridge_c: Option<Linear>,
    /// Whether the decoder starts from zeros.
    pub zero_bridge: bool,
    /// `<bos>` id.
    pub bos_id: usize,
    /// `<eos>` id.
    pub eos_id: usize,
    /// Label smoothing of the loss.
    pub label_smoothing: f64,
    /// Teacher-forcing ratio of a training step.
    pub teacher_forcing: f64,
}

/// `[layers * D, batch, H]` → `[layers, batch, D * H]`, each layer's directions side by side
/// (forward first).
fn merge_directions(x: Tensor<3>, directions: usize) -> Tensor<3> {
    let [ld, batch, h] = x.dims();
    let layers = ld / directions;
    x.reshape([layers, directions, batch, h])
        .swap_dims(1, 2)
        .reshape([layers, batch, directions * h])
}

impl Seq2Seq {
    /// Encodes `source` and returns the memory and the decoder's initial state.
    pub fn start(&self, source: &PaddedBatch) -> crate::Result<(EncoderOutput, DecoderState)> {
        let memory = self.encoder.encode(source)?;
        let directions = if self.encoder.rnn.bidirectional() {
            2
        } else {
            1
        };
        let rnn = if self.zero_bridge {
            let batch = source.batch_size();
            let zeros = Tensor::zeros(
                [
                    self.decoder.rnn.num_layers(),
                    batch,
                    self.decoder.hidden_size(),
                ],
                &memory.states.device(),
            );
            RecurrentState {
                h: zeros.clone(),
                c: self.decoder.rnn.has_cell_state().then_some(zeros),
            }
        } else {
            let merged = memory
                .final_state
                .clone()
                .map(|x| merge_directions(x, directions));
            match (&self.bridge_h, &self.bridge_c) {
                (Some(wh), Some(wc)) => RecurrentState {
                    h: wh.forward(merged.h).tanh(),
                    c: merged.c.map(|c| wc.forward(c).tanh()),
                },
                _ => merged,
            }
        };
        Ok((memory, DecoderState { rnn, feed: None }))
    }

    /// Teacher-forced logits for `decoder_input` (`<bos>` + target, `[batch, target_time]`).
    pub fn forward(
        &self,
        source: &PaddedBatch,
        decoder_input: Tensor<2, Int>,
    ) -> crate::Result<Seq2SeqOutput> {
        let (memory, state) = self.start(source)?;
        self.decoder.forward(decoder_input, state, &memory)
    }

    /// [`Self::forward`] for a padded decoder input (`<bos>` + target): the decoder's
    /// recurrence stops at each row's last real token (see
    /// [`RnnDecoder::forward_with_lengths`]). Logits at real target positions, and so a loss
    /// masked on target padding, are those of [`Self::forward`]; only padded positions differ.
    pub fn forward_padded(
        &self,
        source: &PaddedBatch,
        decoder_input: &PaddedBatch,
    ) -> crate::Result<Seq2SeqOutput> {
        let (memory, state) = self.start(source)?;
        self.decoder.forward_with_lengths(
            decoder_input.ids.clone(),
            Some(decoder_input.lengths()),
            state,
            &memory,
        )
    }

    /// Scheduled sampling (Bengio et al. 2015): step by step, each row's next input is the
    /// gold token with probability `teacher_forcing` and the model's own previous argmax
    /// otherwise (drawn from the device's RNG). `teacher_forcing = 1` equals
    /// [`Self::forward`].
    pub fn forward_scheduled(
        &self,
        source: &PaddedBatch,
        decoder_input: Tensor<2, Int>,
        teacher_forcing: f64,
    ) -> crate::Result<Seq2SeqOutput> {
        if teacher_forcing >= 1.0 {
            return self.forward(source, decoder_input);
        }
        let (memory, mut state) = self.start(source)?;
        let [batch, time] = decoder_input.dims();
        let device = decoder_input.device();
        let mut logits = Vec::with_capacity(time);
        let mut weights = Vec::with_capacity(time);
        let mut previous: Option<Tensor<1, Int>> = None;
        for t in 0..time {
            let gold = decoder_input
                .clone()
                .slice([0..batch, t..t + 1])
                .squeeze_dim::<1>(1);
            let tokens = match previous {
                None => gold,
                Some(own) => {
                    let keep_gold = Tensor::<1>::random(
                        [batch],
                        Distribution::Bernoulli(teacher_forcing),
                        &device,
                    )
                    .equal_elem(1.0);
                    own.mask_where(keep_gold, gold)
                }
            };
            let step = self.decoder.step(tokens, state, &memory)?;
            previous = Some(step.logits.clone().detach().argmax(1).squeeze_dim::<1>(1));
            logits.push(step.logits.unsqueeze_dim::<3>(1));
            weights.extend(step.weights.map(|w| w.unsqueeze_dim::<3>(1)));
            state = step.state;
        }
        Ok(Seq2SeqOutput {
            logits: Tensor::cat(logits, 1),
            weights: (!weights.is_empty()).then(|| Tensor::cat(weights, 1)),
        })
    }

    /// Mean token cross-entropy over the real (unpadded) target positions, label-smoothed by
    /// `label_smoothing` ([`crate::masked_cross_entropy`]):
    /// `(1 − ε)·(−log p_gold) + ε·mean_v(−log p_v)`.
    ///
    /// # Shapes
    /// `logits` `[batch, time, vocab]`, `target` ids `[batch, time]` with its padding mask.
    pub fn loss(&self, logits: Tensor<3>, target: &PaddedBatch) -> Tensor<1> {
        crate::loss::masked_cross_entropy(logits, target, self.label_smoothing)
    }
}

impl StepDecoder for Seq2Seq {
    type Memory = EncoderOutput;
    type State = DecoderState;

    fn bos_id(&self) -> usize {
        self.bos_id
    }

    fn eos_id(&self) -> usize {
        self.eos_id
    }

    fn start(&self, source: &PaddedBatch) -> crate::Result<(EncoderOutput, DecoderState)> {
        Seq2Seq::start(self, source)
    }

    fn decode_step(
        &self,
        tokens: Tensor<1, Int>,
        state: DecoderState,
        memory: &EncoderOutput,
    ) -> crate::Result<DecodedStep<DecoderState>> {
        let step = self.decoder.step(tokens, state, memory)?;
        Ok(DecodedStep {
            logits: step.logits,
            weights: step.weights,
            state: step.state,
        })
    }
}
