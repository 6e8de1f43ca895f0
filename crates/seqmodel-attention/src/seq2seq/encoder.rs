//! The source side of an encoder–decoder: token embedding → recurrent layer.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig};
use burn::tensor::{Bool, Device, Int, Tensor};
use seqmodel_data::PaddedBatch;
use seqmodel_rnn::{FastDropout, FastDropoutConfig};

use super::recurrent::{Recurrent, RecurrentConfig, RecurrentKind, RecurrentState};
use crate::error::AttentionError;
use crate::step_decoder::SelectRows;

/// Configuration of an [`RnnEncoder`].
#[derive(Config, Debug, PartialEq)]
pub struct RnnEncoderConfig {
    /// Source vocabulary size.
    pub vocab_size: usize,
    /// Width of the token embedding.
    pub embedding_dim: usize,
    /// Hidden size per direction.
    pub hidden_size: usize,
    /// The recurrent layer.
    #[config(default = "RecurrentKind::Lstm")]
    pub kind: RecurrentKind,
    /// Stacked layers.
    #[config(default = 1)]
    pub num_layers: usize,
    /// Read the source in both directions (outputs `2 * hidden_size` wide).
    #[config(default = true)]
    pub bidirectional: bool,
    /// Dropout on the embeddings and between layers (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl RnnEncoderConfig {
    /// Checks the sizes, naming the field.
    pub fn validate(&self) -> crate::Result<()> {
        for (field, value) in [
            ("vocab_size", self.vocab_size),
            ("embedding_dim", self.embedding_dim),
            ("hidden_size", self.hidden_size),
            ("num_layers", self.num_layers),
        ] {
            if value == 0 {
                return Err(AttentionError::Config {
                    config: "RnnEncoderConfig",
                    field,
                    message: "must be at least 1".into(),
                });
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(AttentionError::Config {
                config: "RnnEncoderConfig",
                field: "dropout",
                message: format!("is {} but must be in [0, 1)", self.dropout),
            });
        }
        Ok(())
    }

    /// Width of the encoder's states: `directions * hidden_size`.
    pub fn output_size(&self) -> usize {
        self.hidden_size * if self.bidirectional { 2 } else { 1 }
    }

    /// Builds the encoder on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<RnnEncoder> {
        self.validate()?;
        Ok(RnnEncoder {
            embedding: EmbeddingConfig::new(self.vocab_size, self.embedding_dim).init(device),
            dropout: FastDropoutConfig::new(self.dropout).init()?,
            rnn: RecurrentConfig::new(self.kind, self.embedding_dim, self.hidden_size)
                .with_num_layers(self.num_layers)
                .with_bidirectional(self.bidirectional)
                .with_dropout(self.dropout)
                .init(device)?,
        })
    }
}

/// What the encoder hands the decoder.
#[derive(Debug, Clone)]
pub struct EncoderOutput {
    /// The last layer's states: `[batch, source_time, D * H]`, 0 at padding.
    pub states: Tensor<3>,
    /// `[batch, source_time]`, `true` = padding (the attention's key padding mask).
    pub padding_mask: Tensor<2, Bool>,
    /// Final states: `[layers * D, batch, H]`, index `layer * D + direction`.
    pub final_state: RecurrentState,
}

impl SelectRows for EncoderOutput {
    fn select_rows(self, rows: Tensor<1, Int>) -> Self {
        Self {
            states: self.states.select(0, rows.clone()),
            padding_mask: self.padding_mask.select(0, rows.clone()),
            final_state: self.final_state.select(rows),
        }
    }
}

/// Token embedding → dropout → recurrent layer, over a padded source batch.
#[derive(Module, Debug)]
pub struct RnnEncoder {
    /// Source token vectors `[vocab, E]`.
    pub embedding: Embedding,
    /// Dropout on the embeddings.
    pub dropout: FastDropout,
    /// The recurrent layer.
    pub rnn: Recurrent,
}

impl RnnEncoder {
    /// Width of the states (`D * H`).
    pub fn output_size(&self) -> usize {
        self.rnn.hidden_size() * if self.rnn.bidirectional() { 2 } else { 1 }
    }

    /// Encodes `source` (ids `[batch, source_time]`, its lengths and padding mask).
    pub fn encode(&self, source: &PaddedBatch) -> crate::Result<EncoderOutput> {
        let embedded = self
            .dropout
            .forward(self.embedding.forward(source.ids.clone()));
        let (states, final_state) = self.rnn.forward(embedded, Some(source.lengths()), None)?;
        Ok(EncoderOutput {
            states,
            padding_mask: source.mask.clone(),
            final_state,
        })
    }
}
