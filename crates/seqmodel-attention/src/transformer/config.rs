//! Configuration of the [`TransformerSeq2Seq`] encoder–decoder.

use burn::config::Config;
use burn::nn::{DropoutConfig, EmbeddingConfig, Initializer, LayerNormConfig, LinearConfig};
use burn::tensor::Device;

use super::decoder_layer::CachedDecoderLayer;
use super::encoder::{SelfAttentionEncoderConfig, check_transformer_sizes};
use super::model::TransformerSeq2Seq;
use crate::error::AttentionError;

const CONFIG: &str = "TransformerSeq2SeqConfig";

/// Configuration of a [`TransformerSeq2Seq`]: the vocabulary sizes and `<bos>`/`<eos>` ids are
/// required (`new`), every other field has a default (`with_*`). Its JSON (Burn's `Config`
/// serde) holds every field: Burn fills in no default when reading.
///
/// ```
/// use seqmodel_attention::TransformerSeq2SeqConfig;
///
/// let config = TransformerSeq2SeqConfig::new(30, 40, 1, 2).with_d_model(64);
/// assert_eq!(config.num_encoder_layers, 2); // the default
/// let json = serde_json::to_string(&config)?;
/// assert!(json.contains(r#""d_model":64"#));
/// assert_eq!(serde_json::from_str::<TransformerSeq2SeqConfig>(&json)?, config);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Config, Debug, PartialEq)]
pub struct TransformerSeq2SeqConfig {
    /// Source vocabulary size.
    pub source_vocab_size: usize,
    /// Target vocabulary size.
    pub target_vocab_size: usize,
    /// `<bos>` id of the target vocabulary (the decoder's first input).
    pub bos_id: usize,
    /// `<eos>` id of the target vocabulary (decoding stops there).
    pub eos_id: usize,
    /// Model width `d` (even, a multiple of `num_heads`).
    #[config(default = 128)]
    pub d_model: usize,
    /// Attention heads of every attention.
    #[config(default = 4)]
    pub num_heads: usize,
    /// Encoder layers.
    #[config(default = 2)]
    pub num_encoder_layers: usize,
    /// Decoder layers.
    #[config(default = 2)]
    pub num_decoder_layers: usize,
    /// Hidden width of the feed-forward blocks.
    #[config(default = 512)]
    pub d_ff: usize,
    /// Dropout on embeddings, attention weights, feed-forward blocks and residual branches
    /// (training only).
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Pre-norm layers (layer norm before each block, and after each stack) instead of
    /// Vaswani's post-norm.
    #[config(default = true)]
    pub norm_first: bool,
    /// Tie the output projection to the target embedding (logits `= h · Eᵀ`, no bias).
    #[config(default = false)]
    pub tie_output: bool,
    /// Label smoothing `ε` of the loss (PyTorch's `CrossEntropyLoss(label_smoothing=ε)`).
    #[config(default = 0.0)]
    pub label_smoothing: f64,
}

impl TransformerSeq2SeqConfig {
    /// Checks every size, naming the field and the fix.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field, message: String| AttentionError::Config {
            config: CONFIG,
            field,
            message,
        };
        for (field, value) in [
            ("source_vocab_size", self.source_vocab_size),
            ("target_vocab_size", self.target_vocab_size),
            ("num_encoder_layers", self.num_encoder_layers),
            ("num_decoder_layers", self.num_decoder_layers),
        ] {
            if value == 0 {
                return Err(bad(field, "must be at least 1".into()));
            }
        }
        check_transformer_sizes(
            CONFIG,
            self.d_model,
            self.num_heads,
            self.d_ff,
            self.dropout,
        )?;
        for (field, id) in [("bos_id", self.bos_id), ("eos_id", self.eos_id)] {
            if id >= self.target_vocab_size {
                return Err(bad(
                    field,
                    format!(
                        "is {id} but the target vocabulary has {} ids",
                        self.target_vocab_size
                    ),
                ));
            }
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(bad(
                "label_smoothing",
                format!("is {} but must be in [0, 1)", self.label_smoothing),
            ));
        }
        Ok(())
    }

    /// The encoder stack's configuration.
    pub fn encoder(&self) -> SelfAttentionEncoderConfig {
        SelfAttentionEncoderConfig::new(self.d_model)
            .with_num_heads(self.num_heads)
            .with_num_layers(self.num_encoder_layers)
            .with_d_ff(self.d_ff)
            .with_dropout(self.dropout)
            .with_norm_first(self.norm_first)
    }

    /// Builds the model on `device`. Embeddings start as `N(0, 1/d)` (times `√d` on use: unit
    /// variance, and logits of a tied output start small).
    pub fn init(&self, device: &Device) -> crate::Result<TransformerSeq2Seq> {
        self.validate()?;
        let d = self.d_model;
        let embedding = |vocab| {
            EmbeddingConfig::new(vocab, d)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 1.0 / (d as f64).sqrt(),
                })
                .init(device)
        };
        let layers = (0..self.num_decoder_layers)
            .map(|_| {
                CachedDecoderLayer::new(
                    d,
                    self.num_heads,
                    self.d_ff,
                    self.dropout,
                    self.norm_first,
                    device,
                )
            })
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(TransformerSeq2Seq {
            source_embedding: embedding(self.source_vocab_size),
            target_embedding: embedding(self.target_vocab_size),
            encoder: self.encoder().init(device)?,
            decoder_layers: layers,
            decoder_norm: self
                .norm_first
                .then(|| LayerNormConfig::new(d).init(device)),
            output: (!self.tie_output)
                .then(|| LinearConfig::new(d, self.target_vocab_size).init(device)),
            dropout: DropoutConfig::new(self.dropout).init(),
            d_model: d,
            bos_id: self.bos_id,
            eos_id: self.eos_id,
            label_smoothing: self.label_smoothing,
        })
    }
}
