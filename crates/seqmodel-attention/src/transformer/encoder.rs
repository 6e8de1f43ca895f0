//! The Transformer's encoder stack: sinusoidal positions, then Burn's `TransformerEncoder`
//! layers with the key padding mask, a final layer norm when the layers normalise first, and
//! zeros at padding.

use burn::config::Config;
use burn::module::Module;
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Tensor};
use seqmodel_data::SequenceLengths;

use super::positions::add_positions;
use crate::error::AttentionError;

/// Configuration of a [`SelfAttentionEncoder`].
#[derive(Config, Debug, PartialEq)]
pub struct SelfAttentionEncoderConfig {
    /// Model width `d` (even, a multiple of `num_heads`).
    pub d_model: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub num_heads: usize,
    /// Stacked layers.
    #[config(default = 2)]
    pub num_layers: usize,
    /// Hidden width of each layer's feed-forward block.
    #[config(default = 512)]
    pub d_ff: usize,
    /// Dropout on the input, the attention weights, the feed-forward block and every
    /// residual branch (training only).
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Pre-norm layers (layer norm before each block, and once after the stack) instead of
    /// Vaswani's post-norm: trains without warm-up at the learning rates seqmodel uses.
    #[config(default = true)]
    pub norm_first: bool,
}

/// Checks the sizes every Transformer part shares, naming `config.field`.
pub(crate) fn check_transformer_sizes(
    config: &'static str,
    d_model: usize,
    num_heads: usize,
    d_ff: usize,
    dropout: f64,
) -> crate::Result<()> {
    let bad = |field, message: String| AttentionError::Config {
        config,
        field,
        message,
    };
    if num_heads == 0 {
        return Err(bad("num_heads", "must be at least 1".into()));
    }
    if d_model == 0 || !d_model.is_multiple_of(num_heads) {
        return Err(bad(
            "d_model",
            format!("is {d_model} but must be a positive multiple of num_heads ({num_heads})"),
        ));
    }
    if !d_model.is_multiple_of(2) {
        return Err(bad(
            "d_model",
            format!("is {d_model} but must be even (sinusoidal positions come in sin/cos pairs)"),
        ));
    }
    if d_ff == 0 {
        return Err(bad("d_ff", "must be at least 1".into()));
    }
    if !(0.0..1.0).contains(&dropout) {
        return Err(bad(
            "dropout",
            format!("is {dropout} but must be in [0, 1)"),
        ));
    }
    Ok(())
}

impl SelfAttentionEncoderConfig {
    /// Checks the sizes, naming the field.
    pub fn validate(&self) -> crate::Result<()> {
        check_transformer_sizes(
            "SelfAttentionEncoderConfig",
            self.d_model,
            self.num_heads,
            self.d_ff,
            self.dropout,
        )?;
        if self.num_layers == 0 {
            return Err(AttentionError::Config {
                config: "SelfAttentionEncoderConfig",
                field: "num_layers",
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// Builds the encoder on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<SelfAttentionEncoder> {
        self.validate()?;
        Ok(SelfAttentionEncoder {
            layers: TransformerEncoderConfig::new(
                self.d_model,
                self.d_ff,
                self.num_heads,
                self.num_layers,
            )
            .with_dropout(self.dropout)
            .with_norm_first(self.norm_first)
            .init(device),
            norm: self
                .norm_first
                .then(|| LayerNormConfig::new(self.d_model).init(device)),
            dropout: DropoutConfig::new(self.dropout).init(),
        })
    }
}

/// Positions, dropout, Burn's `TransformerEncoder` layers (self-attention with the key padding
/// mask, feed-forward), and a final layer norm for pre-norm layers.
#[derive(Module, Debug)]
pub struct SelfAttentionEncoder {
    /// The layers.
    pub layers: TransformerEncoder,
    /// The final layer norm (pre-norm layers only).
    pub norm: Option<LayerNorm>,
    /// Dropout on the input plus positions.
    pub dropout: Dropout,
}

impl SelfAttentionEncoder {
    /// Model width `d`.
    pub fn d_model(&self) -> usize {
        self.layers.d_model
    }

    /// Encodes `x` (already embedded; positions are added here).
    ///
    /// # Shapes
    /// `x` `[batch, time, d]`, `lengths` `[batch]` real steps and padding side → `[batch, time,
    /// d]`, exactly 0 at padding. A real step's output does not depend on how much padding
    /// its row has.
    pub fn forward(&self, x: Tensor<3>, lengths: &SequenceLengths) -> crate::Result<Tensor<3>> {
        let [batch, time, d] = x.dims();
        if d != self.d_model() {
            return Err(AttentionError::Shape {
                module: "SelfAttentionEncoder",
                what: "input",
                found: x.dims().to_vec(),
                expected: format!("[batch, time, {}] (d_model features)", self.d_model()),
            });
        }
        let mask = lengths.padding_mask(time, &x.device())?;
        if lengths.len() != batch {
            return Err(AttentionError::Shape {
                module: "SelfAttentionEncoder",
                what: "input",
                found: x.dims().to_vec(),
                expected: format!("[{}, time, d] (one row per length)", lengths.len()),
            });
        }
        let x = self.dropout.forward(add_positions(x, lengths));
        let mut x = self
            .layers
            .forward(TransformerEncoderInput::new(x).mask_pad(mask.clone()));
        if let Some(norm) = &self.norm {
            x = norm.forward(x);
        }
        Ok(x.mask_fill(mask.unsqueeze_dim::<3>(2).expand([batch, time, d]), 0.0))
    }
}
