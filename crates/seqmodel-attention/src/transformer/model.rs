//! The Transformer encoder–decoder: teacher-forced forward over a whole target, and cached
//! step-by-step decoding for [`crate::decode`].

use burn::module::Module;
use burn::nn::{Dropout, Embedding, LayerNorm, Linear};
use burn::tensor::{Bool, Int, Tensor};
use seqmodel_data::PaddedBatch;

use super::decoder_layer::CachedDecoderLayer;
use super::encoder::SelfAttentionEncoder;
use super::positions::sinusoidal_positions;
use crate::multi_head::HeadKeys;
use crate::seq2seq::Seq2SeqOutput;
use crate::step_decoder::{DecodedStep, SelectRows, StepDecoder};

/// What the encoder hands the decoder: its states and, per decoder layer, those states
/// projected into that layer's cross-attention keys and values (once per sentence).
#[derive(Debug, Clone)]
pub struct TransformerMemory {
    /// Encoder states `[batch, source_time, d]`, 0 at padding.
    pub states: Tensor<3>,
    /// `[batch, source_time]`, `true` = padding.
    pub padding_mask: Tensor<2, Bool>,
    /// Per decoder layer: cross-attention keys and values `[batch, heads, source_time, d / h]`.
    pub cross: Vec<HeadKeys>,
}

impl SelectRows for TransformerMemory {
    fn select_rows(self, rows: Tensor<1, Int>) -> Self {
        Self {
            states: self.states.select(0, rows.clone()),
            padding_mask: self.padding_mask.select(0, rows.clone()),
            cross: self
                .cross
                .into_iter()
                .map(|kv| kv.select_rows(rows.clone()))
                .collect(),
        }
    }
}

/// The decoder's cache between steps: per layer, the projected self-attention keys and values
/// of the steps so far (`[batch, heads, steps, d / h]`), and the next position.
#[derive(Debug, Clone)]
pub struct TransformerState {
    /// Per decoder layer (empty before the first step).
    pub layers: Vec<HeadKeys>,
    /// Steps taken: the position of the next token.
    pub position: usize,
}

impl SelectRows for TransformerState {
    fn select_rows(self, rows: Tensor<1, Int>) -> Self {
        Self {
            layers: self
                .layers
                .into_iter()
                .map(|kv| kv.select_rows(rows.clone()))
                .collect(),
            position: self.position,
        }
    }
}

/// A Transformer encoder–decoder (Vaswani et al. 2017): token embeddings scaled by `√d` plus
/// sinusoidal positions; an encoder of Burn's `TransformerEncoder` layers with the source's
/// key padding mask; decoder layers with causal self-attention and cross-attention masked on
/// the source's padding ([`CachedDecoderLayer`]); an output projection, optionally tied to the
/// target embedding.
///
/// Targets are right-padded (as the batchers pad them): the causal mask alone keeps a real
/// position from seeing padding, and the loss skips padded positions.
#[derive(Module, Debug)]
pub struct TransformerSeq2Seq {
    /// Source token vectors `[source_vocab, d]`.
    pub source_embedding: Embedding,
    /// Target token vectors `[target_vocab, d]`.
    pub target_embedding: Embedding,
    /// The encoder stack (positions added inside).
    pub encoder: SelfAttentionEncoder,
    /// The decoder layers.
    pub decoder_layers: Vec<CachedDecoderLayer>,
    /// Final layer norm of the decoder (pre-norm layers only).
    pub decoder_norm: Option<LayerNorm>,
    /// `[d] → [target_vocab]` (`None`: tied to the target embedding, `h · Eᵀ`).
    pub output: Option<Linear>,
    /// Dropout on the target embeddings plus positions.
    pub dropout: Dropout,
    /// Model width `d`.
    pub d_model: usize,
    /// `<bos>` id.
    pub bos_id: usize,
    /// `<eos>` id.
    pub eos_id: usize,
    /// Label smoothing of the loss.
    pub label_smoothing: f64,
}

impl TransformerSeq2Seq {
    fn scale(&self) -> f64 {
        (self.d_model as f64).sqrt()
    }

    /// Encodes `source` and projects the states into every decoder layer's cross-attention
    /// keys and values.
    pub fn encode(&self, source: &PaddedBatch) -> crate::Result<TransformerMemory> {
        let embedded = self.source_embedding.forward(source.ids.clone()) * self.scale();
        let states = self.encoder.forward(embedded, source.lengths())?;
        let cross = self
            .decoder_layers
            .iter()
            .map(|layer| {
                layer
                    .cross_attn
                    .project_keys(states.clone(), states.clone())
            })
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(TransformerMemory {
            states,
            padding_mask: source.mask.clone(),
            cross,
        })
    }

    /// `h` `[batch, q, d]` after the last layer → logits `[batch, q, vocab]`.
    fn logits(&self, h: Tensor<3>) -> Tensor<3> {
        let h = match &self.decoder_norm {
            Some(norm) => norm.forward(h),
            None => h,
        };
        match &self.output {
            Some(linear) => linear.forward(h),
            None => {
                let [batch, q, d] = h.dims();
                let table = self.target_embedding.weight.val();
                h.reshape([batch * q, d])
                    .matmul(table.transpose())
                    .reshape([batch, q, self.target_embedding.weight.dims()[0]])
            }
        }
    }

    /// Teacher-forced logits for `decoder_input` (`<bos>` + target, right-padded,
    /// `[batch, target_time]`) and the last layer's cross-attention weights averaged over
    /// heads (`[batch, target_time, source_time]`).
    pub fn forward(
        &self,
        source: &PaddedBatch,
        decoder_input: Tensor<2, Int>,
    ) -> crate::Result<Seq2SeqOutput> {
        let memory = self.encode(source)?;
        let [_, time] = decoder_input.dims();
        let device = decoder_input.device();
        let positions: Vec<usize> = (0..time).collect();
        let mut x = self.dropout.forward(
            self.target_embedding.forward(decoder_input) * self.scale()
                + sinusoidal_positions(&positions, self.d_model, &device).unsqueeze_dim::<3>(0),
        );
        let mut weights = None;
        for (layer, cross) in self.decoder_layers.iter().zip(&memory.cross) {
            let out = layer.forward(x, cross, &memory.padding_mask)?;
            x = out.output;
            weights = Some(out.cross_weights);
        }
        Ok(Seq2SeqOutput {
            logits: self.logits(x),
            weights: weights.map(|w| w.mean_dim(1).squeeze_dim::<3>(1)),
        })
    }

    /// Mean token cross-entropy over the real target positions, label-smoothed
    /// ([`crate::masked_cross_entropy`]).
    ///
    /// # Shapes
    /// `logits` `[batch, time, vocab]`, `target` ids `[batch, time]` with its padding mask.
    pub fn loss(&self, logits: Tensor<3>, target: &PaddedBatch) -> Tensor<1> {
        crate::loss::masked_cross_entropy(logits, target, self.label_smoothing)
    }
}

impl StepDecoder for TransformerSeq2Seq {
    type Memory = TransformerMemory;
    type State = TransformerState;

    fn bos_id(&self) -> usize {
        self.bos_id
    }

    fn eos_id(&self) -> usize {
        self.eos_id
    }

    fn start(&self, source: &PaddedBatch) -> crate::Result<(TransformerMemory, TransformerState)> {
        Ok((
            self.encode(source)?,
            TransformerState {
                layers: Vec::new(),
                position: 0,
            },
        ))
    }

    /// One position through every layer, each attending to its cached keys and values: the
    /// cost grows with the prefix, the prefix is never recomputed.
    fn decode_step(
        &self,
        tokens: Tensor<1, Int>,
        state: TransformerState,
        memory: &TransformerMemory,
    ) -> crate::Result<DecodedStep<TransformerState>> {
        let device = tokens.device();
        let mut x = self.dropout.forward(
            self.target_embedding.forward(tokens.unsqueeze_dim::<2>(1)) * self.scale()
                + sinusoidal_positions(&[state.position], self.d_model, &device)
                    .unsqueeze_dim::<3>(0),
        );
        let mut caches = state.layers.into_iter();
        let mut layers = Vec::with_capacity(self.decoder_layers.len());
        let mut weights = None;
        for (layer, cross) in self.decoder_layers.iter().zip(&memory.cross) {
            let (out, cache) = layer.step(x, caches.next(), cross, &memory.padding_mask)?;
            x = out.output;
            weights = Some(out.cross_weights);
            layers.push(cache);
        }
        let logits = self.logits(x).squeeze_dim::<2>(1);
        Ok(DecodedStep {
            logits,
            weights: weights.map(|w| w.mean_dim(1).squeeze_dim::<3>(1).squeeze_dim::<2>(1)),
            state: TransformerState {
                layers,
                position: state.position + 1,
            },
        })
    }
}
