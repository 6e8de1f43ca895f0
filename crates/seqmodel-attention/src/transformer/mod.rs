//! The Transformer encoder–decoder (Vaswani et al. 2017, "Attention Is All You Need"):
//! embeddings scaled by `√d` plus sinusoidal positions ([`sinusoidal_positions`]), an encoder
//! of Burn's `TransformerEncoder` layers ([`SelfAttentionEncoder`], also the `transformer`
//! encoder of seqmodel-tasks), decoder layers with causal self-attention and cross-attention
//! that decode step by step from a cache of their keys and values ([`CachedDecoderLayer`]),
//! and the model ([`TransformerSeq2Seq`], [`TransformerSeq2SeqConfig`]) with burn-train's
//! step traits.

mod config;
mod decoder_layer;
mod encoder;
mod model;
mod positions;
mod step;

pub use config::TransformerSeq2SeqConfig;
pub use decoder_layer::{CachedDecoderLayer, DecoderLayerOutput};
pub use encoder::{SelfAttentionEncoder, SelfAttentionEncoderConfig};
pub use model::{TransformerMemory, TransformerSeq2Seq, TransformerState};
pub use positions::{add_positions, sinusoidal_positions};
