//! The target side of an encoder–decoder: a recurrent decoder driven one step at a time (or
//! over a whole teacher-forced target at once), with or without attention over the encoder's
//! states, and Luong's input feeding as an option.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Int, Tensor};
use seqmodel_rnn::{FastDropout, FastDropoutConfig, SequenceLengths};
use serde::{Deserialize, Serialize};

use super::encoder::EncoderOutput;
use super::recurrent::{Recurrent, RecurrentConfig, RecurrentKind, RecurrentState};
use crate::additive::{AdditiveAttention, AdditiveAttentionConfig};
use crate::attention::Attention;
use crate::error::AttentionError;
use crate::multiplicative::{LuongAttention, LuongAttentionConfig, LuongScore};
use crate::step_decoder::SelectRows;

/// The attention a decoder uses over the encoder's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DecoderAttentionKind {
    /// No attention: the decoder sees the source only through its initial state.
    None,
    /// Additive (Bahdanau) score.
    Additive,
    /// Luong `dot` score (decoder hidden size = encoder state size).
    Dot,
    /// Luong `general` score.
    #[default]
    General,
    /// Luong `concat` score.
    Concat,
}

/// Configuration of an [`RnnDecoder`].
#[derive(Config, Debug, PartialEq)]
pub struct RnnDecoderConfig {
    /// Target vocabulary size.
    pub vocab_size: usize,
    /// Width of the target token embedding.
    pub embedding_dim: usize,
    /// Hidden size of the decoder.
    pub hidden_size: usize,
    /// Width of the encoder's states it attends over.
    pub encoder_size: usize,
    /// The recurrent layer.
    #[config(default = "RecurrentKind::Lstm")]
    pub kind: RecurrentKind,
    /// Stacked layers.
    #[config(default = 1)]
    pub num_layers: usize,
    /// The attention over the encoder's states.
    #[config(default = "DecoderAttentionKind::General")]
    pub attention: DecoderAttentionKind,
    /// Hidden width of the additive and concat scores (`0`: `hidden_size`).
    #[config(default = 0)]
    pub attention_hidden: usize,
    /// Luong's input feeding: the previous step's attentional vector is concatenated to the
    /// next input (the decoder then runs step by step even when teacher-forced).
    #[config(default = false)]
    pub input_feeding: bool,
    /// Dropout on the embeddings, between layers and before the output layer (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl RnnDecoderConfig {
    /// Checks the sizes against each other, naming the field.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field, message: String| AttentionError::Config {
            config: "RnnDecoderConfig",
            field,
            message,
        };
        for (field, value) in [
            ("vocab_size", self.vocab_size),
            ("embedding_dim", self.embedding_dim),
            ("hidden_size", self.hidden_size),
            ("encoder_size", self.encoder_size),
            ("num_layers", self.num_layers),
        ] {
            if value == 0 {
                return Err(bad(field, "must be at least 1".into()));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(bad(
                "dropout",
                format!("is {} but must be in [0, 1)", self.dropout),
            ));
        }
        if self.attention == DecoderAttentionKind::Dot && self.hidden_size != self.encoder_size {
            return Err(bad(
                "attention",
                format!(
                    "the dot score needs hidden_size ({}) = encoder_size ({}); use general",
                    self.hidden_size, self.encoder_size
                ),
            ));
        }
        if self.input_feeding && self.attention == DecoderAttentionKind::None {
            return Err(bad(
                "input_feeding",
                "feeds the attentional vector back: it needs an attention".into(),
            ));
        }
        Ok(())
    }

    /// Builds the decoder on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<RnnDecoder> {
        self.validate()?;
        let h = self.hidden_size;
        let score_hidden = if self.attention_hidden == 0 {
            h
        } else {
            self.attention_hidden
        };
        let luong = |score| {
            LuongAttentionConfig::new(score, h, self.encoder_size)
                .with_hidden_size(score_hidden)
                .init(device)
                .map(DecoderAttention::Luong)
        };
        let attention = match self.attention {
            DecoderAttentionKind::None => None,
            DecoderAttentionKind::Additive => Some(DecoderAttention::Additive(
                AdditiveAttentionConfig::new(h, self.encoder_size, score_hidden).init(device)?,
            )),
            DecoderAttentionKind::Dot => Some(luong(LuongScore::Dot)?),
            DecoderAttentionKind::General => Some(luong(LuongScore::General)?),
            DecoderAttentionKind::Concat => Some(luong(LuongScore::Concat)?),
        };
        let combine = attention.as_ref().map(|_| {
            LinearConfig::new(self.encoder_size + h, h)
                .with_bias(false)
                .init(device)
        });
        let input_size = self.embedding_dim + if self.input_feeding { h } else { 0 };
        Ok(RnnDecoder {
            embedding: EmbeddingConfig::new(self.vocab_size, self.embedding_dim).init(device),
            dropout: FastDropoutConfig::new(self.dropout).init()?,
            rnn: RecurrentConfig::new(self.kind, input_size, h)
                .with_num_layers(self.num_layers)
                .with_dropout(self.dropout)
                .init(device)?,
            attention,
            combine,
            output: LinearConfig::new(h, self.vocab_size).init(device),
            input_feeding: self.input_feeding,
        })
    }
}

/// The attention module of a decoder.
#[derive(Module, Debug)]
pub enum DecoderAttention {
    /// Additive score.
    Additive(AdditiveAttention),
    /// One of Luong's scores.
    Luong(LuongAttention),
}

impl DecoderAttention {
    fn attend(
        &self,
        query: Tensor<3>,
        memory: Tensor<3>,
        mask: Tensor<2, Bool>,
    ) -> crate::Result<crate::Attended> {
        match self {
            Self::Additive(a) => a.attend(query, memory.clone(), memory, Some(mask)),
            Self::Luong(a) => a.attend(query, memory.clone(), memory, Some(mask)),
        }
    }
}

/// A decoder's state between steps.
#[derive(Debug, Clone)]
pub struct DecoderState {
    /// The recurrent layer's state: `[layers, batch, H]`.
    pub rnn: RecurrentState,
    /// With input feeding, the previous step's attentional vector `[batch, H]` (`None` before
    /// the first step: zeros).
    pub feed: Option<Tensor<2>>,
}

impl DecoderState {
    /// The rows `indices` of the batch (beam search).
    pub fn select(self, indices: Tensor<1, Int>) -> Self {
        Self {
            rnn: self.rnn.select(indices.clone()),
            feed: self.feed.map(|f| f.select(0, indices)),
        }
    }
}

impl SelectRows for DecoderState {
    fn select_rows(self, rows: Tensor<1, Int>) -> Self {
        self.select(rows)
    }
}

/// One decoder step's result.
#[derive(Debug, Clone)]
pub struct DecoderStep {
    /// Next-token logits: `[batch, vocab]`.
    pub logits: Tensor<2>,
    /// Attention weights over the source: `[batch, source_time]` (`None` without attention).
    pub weights: Option<Tensor<2>>,
    /// The state after the step.
    pub state: DecoderState,
}

/// A whole teacher-forced target's result.
#[derive(Debug, Clone)]
pub struct DecoderOutput {
    /// Logits: `[batch, target_time, vocab]`.
    pub logits: Tensor<3>,
    /// Attention weights: `[batch, target_time, source_time]` (`None` without attention).
    pub weights: Option<Tensor<3>>,
}

/// Target embedding → recurrent layer → (attention over the encoder's states, Luong's
/// `h̃ = tanh(W_c [context; h])`) → dropout → vocabulary logits.
#[derive(Module, Debug)]
pub struct RnnDecoder {
    /// Target token vectors `[vocab, E]`.
    pub embedding: Embedding,
    /// Dropout on embeddings and before the output layer.
    pub dropout: FastDropout,
    /// The recurrent layer (one direction).
    pub rnn: Recurrent,
    /// Attention over the encoder's states (`None`: without).
    pub attention: Option<DecoderAttention>,
    /// `W_c`: `[encoder_size + H] → [H]`, present with attention.
    pub combine: Option<Linear>,
    /// `[H] → [vocab]`.
    pub output: Linear,
    /// Whether the attentional vector is fed to the next step.
    pub input_feeding: bool,
}

impl RnnDecoder {
    /// The decoder's hidden size `H`.
    pub fn hidden_size(&self) -> usize {
        self.rnn.hidden_size()
    }

    /// `h` (`[batch, q, H]`) with attention applied: `tanh(W_c [context; h])` and the weights,
    /// or `h` itself without attention.
    fn attend(
        &self,
        h: Tensor<3>,
        memory: &EncoderOutput,
    ) -> crate::Result<(Tensor<3>, Option<Tensor<3>>)> {
        let (Some(attention), Some(combine)) = (&self.attention, &self.combine) else {
            return Ok((h, None));
        };
        let attended = attention.attend(
            h.clone(),
            memory.states.clone(),
            memory.padding_mask.clone(),
        )?;
        let combined =
            seqmodel_rnn::fast_linear(combine, Tensor::cat(vec![attended.context, h], 2));
        let combined = seqmodel_rnn::fast_tanh(combined);
        Ok((combined, Some(attended.weights)))
    }

    /// One step: the previous tokens `[batch]` → next-token logits.
    pub fn step(
        &self,
        tokens: Tensor<1, Int>,
        state: DecoderState,
        memory: &EncoderOutput,
    ) -> crate::Result<DecoderStep> {
        let [batch] = tokens.dims();
        let embedded = self
            .dropout
            .forward(self.embedding.forward(tokens.unsqueeze_dim::<2>(1)))
            .squeeze_dim::<2>(1);
        let input = if self.input_feeding {
            let feed = state
                .feed
                .unwrap_or_else(|| Tensor::zeros([batch, self.hidden_size()], &embedded.device()));
            Tensor::cat(vec![embedded, feed], 1)
        } else {
            embedded
        };
        let (h, rnn) = self.rnn.step(input, Some(state.rnn))?;
        let (attended, weights) = self.attend(h.unsqueeze_dim::<3>(1), memory)?;
        let attended = attended.squeeze_dim::<2>(1);
        let logits =
            seqmodel_rnn::fast_linear(&self.output, self.dropout.forward(attended.clone()));
        Ok(DecoderStep {
            logits,
            weights: weights.map(|w| w.squeeze_dim::<2>(1)),
            state: DecoderState {
                rnn,
                feed: self.input_feeding.then_some(attended),
            },
        })
    }

    /// A whole teacher-forced target: `inputs` `[batch, target_time]` (`<bos>` then the gold
    /// tokens) → logits `[batch, target_time, vocab]`. Without input feeding the recurrent
    /// layer runs over all steps at once; with it, step by step.
    pub fn forward(
        &self,
        inputs: Tensor<2, Int>,
        initial: DecoderState,
        memory: &EncoderOutput,
    ) -> crate::Result<DecoderOutput> {
        self.forward_with_lengths(inputs, None, initial, memory)
    }

    /// [`Self::forward`] told each row's real length (`inputs` padded to `target_time`): the
    /// recurrence stops at each row's last real token, which saves the padded steps' work.
    /// Logits at real positions are those of [`Self::forward`]; past a row's length they are
    /// computed from a recurrent output of 0, for a masked loss to skip.
    /// With input feeding the decoder runs step by step and `lengths` is not needed.
    pub fn forward_with_lengths(
        &self,
        inputs: Tensor<2, Int>,
        lengths: Option<&SequenceLengths>,
        initial: DecoderState,
        memory: &EncoderOutput,
    ) -> crate::Result<DecoderOutput> {
        if self.input_feeding {
            let [_, time] = inputs.dims();
            let mut state = initial;
            let mut logits = Vec::with_capacity(time);
            let mut weights = Vec::with_capacity(time);
            for t in 0..time {
                let tokens = inputs.clone().slice([0..inputs.dims()[0], t..t + 1]);
                let step = self.step(tokens.squeeze_dim::<1>(1), state, memory)?;
                logits.push(step.logits.unsqueeze_dim::<3>(1));
                weights.extend(step.weights.map(|w| w.unsqueeze_dim::<3>(1)));
                state = step.state;
            }
            return Ok(DecoderOutput {
                logits: Tensor::cat(logits, 1),
                weights: (!weights.is_empty()).then(|| Tensor::cat(weights, 1)),
            });
        }
        let embedded = self.dropout.forward(self.embedding.forward(inputs));
        let (h, _) = self.rnn.forward(embedded, lengths, Some(initial.rnn))?;
        let (attended, weights) = self.attend(h, memory)?;
        Ok(DecoderOutput {
            logits: seqmodel_rnn::fast_linear(&self.output, self.dropout.forward(attended)),
            weights,
        })
    }
}
