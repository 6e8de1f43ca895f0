//! One Transformer decoder layer — causal self-attention, cross-attention over the encoder's
//! states, feed-forward — that runs a whole teacher-forced target at once or one step at a
//! time from a cache of its own keys and values.
//!
//! Why not Burn's `TransformerDecoderLayer`: its autoregressive cache
//! (`TransformerDecoderAutoregressiveCache`) keeps each sub-layer's *outputs* in private
//! fields, so beam search cannot reorder its rows; it needs the whole target prefix as input
//! at every step; and it drops the cross-attention weights the heatmaps and hypotheses
//! report. This layer uses seqmodel's [`MultiHeadAttention`] (exact zero weight on padding,
//! per-head weights, keys projected once: [`MultiHeadAttention::project_keys`]) with Burn's
//! `LayerNorm`, `PositionWiseFeedForward` and `Dropout`, and keeps as cache the projected keys
//! and values of the steps so far ([`HeadKeys`]), which [`crate::SelectRows`] reorders.

use burn::module::Module;
use burn::nn::transformer::{PositionWiseFeedForward, PositionWiseFeedForwardConfig};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Tensor};

use crate::multi_head::{HeadKeys, MultiHeadAttention, MultiHeadAttentionConfig, causal_mask};

/// What a decoder layer hands on: its output and its cross-attention weights.
#[derive(Debug, Clone)]
pub struct DecoderLayerOutput {
    /// `[batch, q, d]`.
    pub output: Tensor<3>,
    /// Cross-attention weights per head: `[batch, heads, q, source_time]`, 0 at the source's
    /// padding.
    pub cross_weights: Tensor<4>,
}

/// A Transformer decoder layer (Vaswani et al. 2017, §3.1), pre- or post-norm.
#[derive(Module, Debug)]
pub struct CachedDecoderLayer {
    /// Causal self-attention over the target.
    pub self_attn: MultiHeadAttention,
    /// Attention over the encoder's states.
    pub cross_attn: MultiHeadAttention,
    /// Position-wise feed-forward block.
    pub feed_forward: PositionWiseFeedForward,
    /// Layer norm of the self-attention block.
    pub norm_self: LayerNorm,
    /// Layer norm of the cross-attention block.
    pub norm_cross: LayerNorm,
    /// Layer norm of the feed-forward block.
    pub norm_ff: LayerNorm,
    /// Dropout on each block's output (training only).
    pub dropout: Dropout,
    /// Normalise before each block (pre-norm) instead of after the residual sum.
    pub norm_first: bool,
}

impl CachedDecoderLayer {
    /// A layer of width `d_model` with `num_heads` heads and a `d_ff`-wide feed-forward block
    /// (sizes checked by the caller's configuration).
    pub(crate) fn new(
        d_model: usize,
        num_heads: usize,
        d_ff: usize,
        dropout: f64,
        norm_first: bool,
        device: &Device,
    ) -> crate::Result<Self> {
        let attention = || {
            MultiHeadAttentionConfig::new(d_model, num_heads)
                .with_dropout(dropout)
                .init(device)
        };
        let norm = || LayerNormConfig::new(d_model).init(device);
        Ok(Self {
            self_attn: attention()?,
            cross_attn: attention()?,
            feed_forward: PositionWiseFeedForwardConfig::new(d_model, d_ff)
                .with_dropout(dropout)
                .init(device),
            norm_self: norm(),
            norm_cross: norm(),
            norm_ff: norm(),
            dropout: DropoutConfig::new(dropout).init(),
            norm_first,
        })
    }

    /// `x + dropout(block(norm(x)))` (pre-norm) or `norm(x + dropout(block(x)))` (post-norm).
    fn residual<T>(
        &self,
        x: Tensor<3>,
        norm: &LayerNorm,
        block: impl FnOnce(Tensor<3>) -> crate::Result<(Tensor<3>, T)>,
    ) -> crate::Result<(Tensor<3>, T)> {
        if self.norm_first {
            let (y, extra) = block(norm.forward(x.clone()))?;
            Ok((x + self.dropout.forward(y), extra))
        } else {
            let (y, extra) = block(x.clone())?;
            Ok((norm.forward(x + self.dropout.forward(y)), extra))
        }
    }

    /// The cross-attention and feed-forward blocks, shared by [`Self::forward`] and
    /// [`Self::step`].
    fn cross_and_feed_forward(
        &self,
        x: Tensor<3>,
        memory: &HeadKeys,
        memory_mask: &Tensor<2, Bool>,
    ) -> crate::Result<DecoderLayerOutput> {
        let (x, cross_weights) = self.residual(x, &self.norm_cross, |h| {
            let out = self
                .cross_attn
                .attend_heads(h, memory, Some(memory_mask.clone()), None)?;
            Ok((out.context, out.head_weights))
        })?;
        let (output, ()) =
            self.residual(x, &self.norm_ff, |h| Ok((self.feed_forward.forward(h), ())))?;
        Ok(DecoderLayerOutput {
            output,
            cross_weights,
        })
    }

    /// A whole target at once, each position attending to itself and the positions before it.
    ///
    /// # Shapes
    /// `x` `[batch, time, d]`, `memory` the cross-attention's projected encoder states
    /// `[batch, heads, source_time, d / heads]`, `memory_mask` `[batch, source_time]`
    /// (`true` = padding) → [`DecoderLayerOutput`] with `q = time`.
    pub fn forward(
        &self,
        x: Tensor<3>,
        memory: &HeadKeys,
        memory_mask: &Tensor<2, Bool>,
    ) -> crate::Result<DecoderLayerOutput> {
        let time = x.dims()[1];
        let causal = causal_mask(time, &x.device());
        let (x, ()) = self.residual(x, &self.norm_self, |h| {
            let own = self.self_attn.project_keys(h.clone(), h.clone())?;
            let out = self.self_attn.attend_heads(h, &own, None, Some(causal))?;
            Ok((out.context, ()))
        })?;
        self.cross_and_feed_forward(x, memory, memory_mask)
    }

    /// One step: `x` `[batch, 1, d]` (the newest position) attends to `cache` (this layer's
    /// projected keys and values of the earlier positions, `None` at the first step) and
    /// itself; returns the output and the cache grown by this step. Equals the last position
    /// of [`Self::forward`] over the whole prefix, at the cost of one position.
    pub fn step(
        &self,
        x: Tensor<3>,
        cache: Option<HeadKeys>,
        memory: &HeadKeys,
        memory_mask: &Tensor<2, Bool>,
    ) -> crate::Result<(DecoderLayerOutput, HeadKeys)> {
        let (x, cache) = self.residual(x, &self.norm_self, |h| {
            let own = self.self_attn.project_keys(h.clone(), h.clone())?;
            let cache = match cache {
                Some(cache) => cache.cat(own),
                None => own,
            };
            let out = self.self_attn.attend_heads(h, &cache, None, None)?;
            Ok((out.context, cache))
        })?;
        Ok((self.cross_and_feed_forward(x, memory, memory_mask)?, cache))
    }
}
