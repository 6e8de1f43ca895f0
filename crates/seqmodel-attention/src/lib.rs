//! # seqmodel-attention
//!
//! Attention for sequence models, one interface for every score function ([`Attention`]):
//! a query `[batch, q, dq]` attends over keys `[batch, k, dk]` with a key padding mask
//! `[batch, k]` (`true` = masked, as everywhere in seqmodel) and returns the context
//! `[batch, q, dv]` and the weights `[batch, q, k]` ([`Attended`]).
//!
//! - [`AdditiveAttention`]: Bahdanau, `vᵀ tanh(W_q q + W_k k + b)`; keys can be projected
//!   once per sequence ([`AdditiveAttention::project_keys`]) for step-by-step decoding.
//! - [`LuongAttention`]: Luong's `dot`, `general` and `concat` scores ([`LuongScore`]).
//! - [`ScaledDotProductAttention`]: `q · k / √d`, with an optional `[q, k]` mask
//!   ([`causal_mask`]).
//! - [`MultiHeadAttention`]: `h` heads, PyTorch `nn.MultiheadAttention` parameters
//!   (import/export), per-head weights.
//!
//! Encoder–decoders, each with teacher-forced training (`forward`, a padding-masked,
//! label-smoothed loss: [`masked_cross_entropy`]) and burn-train's `TrainStep` /
//! `InferenceStep` on seqmodel-data's `Seq2SeqBatch`:
//!
//! - [`Seq2Seq`] ([`seq2seq`]): RNN encoder → bridge → RNN decoder, with or without attention.
//! - [`TransformerSeq2Seq`] ([`transformer`]): scaled embeddings, sinusoidal positions, Burn's
//!   `TransformerEncoder` layers, decoder layers that cache their keys and values.
//! - [`EncoderDecoder`]: either, chosen by an [`EncoderDecoderConfig`]
//!   (`{"rnn": {…}}` / `{"transformer": {…}}`).
//!
//! Decoding ([`decode`]: [`greedy`], [`BeamSearchConfig`], [`SamplingConfig`]) works on any
//! [`StepDecoder`]: encode once ([`StepDecoder::start`]), then one token per step
//! ([`StepDecoder::decode_step`]) from a state whose rows beam search reorders
//! ([`SelectRows`]); no step re-runs the prefix.
//!
//! Invariants, tested for every module: the weights of a row sum to 1 over its unmasked keys;
//! a masked key gets weight exactly 0; a row whose keys are all masked is zeros (context
//! zeros), never NaN. Sizes that cannot work fail at config time with the field's name.
//!
//! ```
//! use burn::tensor::{Bool, Device, Tensor};
//! use seqmodel_attention::{AdditiveAttentionConfig, Attention};
//!
//! let device = Device::flex();
//! let attention = AdditiveAttentionConfig::new(4, 6, 8).init(&device)?;
//! let query = Tensor::<3>::ones([2, 1, 4], &device); // one decoder step
//! let keys = Tensor::<3>::ones([2, 3, 6], &device); // three encoder states
//! let mask = Tensor::<2, Bool>::from_data([[false, false, true], [false, true, true]], &device);
//! let out = attention.attend(query, keys.clone(), keys, Some(mask))?;
//! assert_eq!(out.context.dims(), [2, 1, 6]);
//! let weights: Vec<f32> = out.weights.to_data().iter::<f32>().collect();
//! assert_eq!(weights[2], 0.0); // a masked key
//! assert!((weights[0] + weights[1] - 1.0).abs() < 1e-6);
//! # Ok::<(), seqmodel_attention::AttentionError>(())
//! ```

mod additive;
mod attention;
pub mod decode;
mod encoder_decoder;
mod error;
mod loss;
mod multi_head;
mod multiplicative;
mod scaled_dot;
pub mod seq2seq;
mod step_decoder;
pub mod transformer;

pub use additive::{AdditiveAttention, AdditiveAttentionConfig};
pub use attention::{Attended, Attention, masked_softmax};
pub use decode::{BeamSearchConfig, Hypothesis, SamplingConfig, greedy, length_penalty};
pub use encoder_decoder::{
    EncoderDecoder, EncoderDecoderConfig, EncoderDecoderMemory, EncoderDecoderState,
};
pub use error::{AttentionError, Result};
pub use loss::masked_cross_entropy;
pub use multi_head::{
    HeadKeys, MultiHeadAttended, MultiHeadAttention, MultiHeadAttentionConfig, causal_mask,
};
pub use multiplicative::{LuongAttention, LuongAttentionConfig, LuongScore};
pub use scaled_dot::ScaledDotProductAttention;
pub use seq2seq::{
    BridgeKind, DecoderAttentionKind, RecurrentKind, RnnDecoderConfig, RnnEncoderConfig, Seq2Seq,
    Seq2SeqConfig,
};
pub use step_decoder::{DecodedStep, SelectRows, StepDecoder};
pub use transformer::{
    SelfAttentionEncoder, SelfAttentionEncoderConfig, TransformerSeq2Seq, TransformerSeq2SeqConfig,
};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
