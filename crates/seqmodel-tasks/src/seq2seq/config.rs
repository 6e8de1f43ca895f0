//! [`TranslatorConfig`]: the sizes of a [`Translator`], serde with every field optional.

use burn::tensor::Device;
use seqmodel_attention::{
    BridgeKind, DecoderAttentionKind, EncoderDecoderConfig, RecurrentKind, RnnDecoderConfig,
    RnnEncoderConfig, Seq2SeqConfig, TransformerSeq2SeqConfig,
};
use serde::{Deserialize, Serialize};

use super::Translator;
use crate::encoder::check_probability;
use crate::error::{Result, TaskError};

/// Which encoder–decoder a [`Translator`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// A recurrent encoder and decoder, with or without attention (the fields `cell` to
    /// `bridge` of [`TranslatorConfig`]).
    #[default]
    Rnn,
    /// The Transformer ([`TransformerSettings`]).
    Transformer,
}

/// The Transformer's sizes (used when [`TranslatorConfig::architecture`] is `transformer`;
/// its dropout is [`TranslatorConfig::dropout`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransformerSettings {
    /// Model width (even, a multiple of `num_heads`).
    pub d_model: usize,
    /// Attention heads.
    pub num_heads: usize,
    /// Encoder layers.
    pub encoder_layers: usize,
    /// Decoder layers.
    pub decoder_layers: usize,
    /// Hidden width of the feed-forward blocks.
    pub d_ff: usize,
    /// Layer norm before each block (pre-norm) instead of after (Vaswani's post-norm).
    pub norm_first: bool,
    /// Tie the output projection to the target embedding.
    pub tie_output: bool,
}

impl Default for TransformerSettings {
    /// A small Transformer for two CPU cores: width 128, 4 heads, 2 + 2 layers, feed-forward
    /// 512, pre-norm.
    fn default() -> Self {
        Self {
            d_model: 128,
            num_heads: 4,
            encoder_layers: 2,
            decoder_layers: 2,
            d_ff: 512,
            norm_first: true,
            tie_output: false,
        }
    }
}

/// Configuration of a [`Translator`] (serde: every field optional, unknown fields rejected).
/// The defaults are the PyTorch G2P baseline's (`bench/tasks/task3_g2p.py`): an RNN
/// encoder–decoder with embeddings 64, a BiLSTM encoder of 128 per direction whose final
/// states, concatenated, start a one-layer LSTM decoder of 256 attending with Luong's
/// `general` score (no input feeding), dropout 0.2. `architecture: "transformer"` chooses the
/// Transformer instead ([`TransformerSettings`]).
///
/// ```
/// use seqmodel_tasks::TranslatorConfig;
///
/// let config: TranslatorConfig = serde_json::from_str(r#"{"attention": "none"}"#)?;
/// assert_eq!(config.decoder_hidden_size(), 256); // 2 directions x 128
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranslatorConfig {
    /// RNN or Transformer.
    pub architecture: Architecture,
    /// The Transformer's sizes (read when `architecture` is `transformer`).
    pub transformer: TransformerSettings,
    /// Width of the source and target embeddings (RNN).
    pub embedding_dim: usize,
    /// Recurrent layer of encoder and decoder (`rnn`, `lstm`, `gru`).
    pub cell: RecurrentKind,
    /// Encoder hidden units per direction.
    pub hidden_size: usize,
    /// Stacked layers of encoder and decoder.
    pub num_layers: usize,
    /// Whether the encoder reads both directions.
    pub bidirectional: bool,
    /// The decoder's attention over the encoder states: `none`, `additive`, `dot`, `general`,
    /// `concat`.
    pub attention: DecoderAttentionKind,
    /// Luong input feeding (the previous attentional state joins the next input).
    pub input_feeding: bool,
    /// How the encoder's final states start the decoder: `concat` (decoder size = directions ×
    /// hidden), `linear`, `zeros`.
    pub bridge: BridgeKind,
    /// Dropout on embeddings and decoder outputs, in `[0, 1)`.
    pub dropout: f64,
    /// Label smoothing of the training loss, in `[0, 1)`.
    pub label_smoothing: f64,
    /// Teacher-forcing ratio of a training step, in `[0, 1]` (below 1: scheduled sampling).
    pub teacher_forcing: f64,
    /// Most tokens a decoder generates for one input (validation, evaluation, prediction).
    pub max_decode_len: usize,
}

impl Default for TranslatorConfig {
    fn default() -> Self {
        Self {
            architecture: Architecture::Rnn,
            transformer: TransformerSettings::default(),
            embedding_dim: 64,
            cell: RecurrentKind::Lstm,
            hidden_size: 128,
            num_layers: 1,
            bidirectional: true,
            attention: DecoderAttentionKind::General,
            input_feeding: false,
            bridge: BridgeKind::Concat,
            dropout: 0.2,
            label_smoothing: 0.0,
            teacher_forcing: 1.0,
            max_decode_len: 32,
        }
    }
}

impl TranslatorConfig {
    /// The decoder's hidden size: directions × `hidden_size` (the concatenated final states).
    pub fn decoder_hidden_size(&self) -> usize {
        self.hidden_size * if self.bidirectional { 2 } else { 1 }
    }

    /// Checks the sizes, naming the field and what to set.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &str, reason: String| TaskError::InvalidConfig {
            config: "TranslatorConfig",
            field: field.to_string(),
            reason,
        };
        for (field, value) in [
            ("embedding_dim", self.embedding_dim),
            ("hidden_size", self.hidden_size),
            ("num_layers", self.num_layers),
            ("max_decode_len", self.max_decode_len),
        ] {
            if value == 0 {
                return Err(invalid(field, "is 0; set it to at least 1".into()));
            }
        }
        check_probability(self.dropout).map_err(|reason| invalid("dropout", reason))?;
        check_probability(self.label_smoothing)
            .map_err(|reason| invalid("label_smoothing", reason))?;
        if !(0.0..=1.0).contains(&self.teacher_forcing) {
            return Err(invalid(
                "teacher_forcing",
                format!(
                    "must be in [0, 1], found {}; 1 always feeds the gold previous token",
                    self.teacher_forcing
                ),
            ));
        }
        // The chosen architecture's own checks (head count, widths, ...), on stand-in
        // vocabularies: sizes that cannot work fail before any data is read.
        self.encoder_decoder_config(5, 5, 2, 3).validate()?;
        Ok(())
    }

    /// The encoder–decoder's own configuration for these vocabularies.
    pub fn encoder_decoder_config(
        &self,
        source_vocab: usize,
        target_vocab: usize,
        bos_id: usize,
        eos_id: usize,
    ) -> EncoderDecoderConfig {
        match self.architecture {
            Architecture::Rnn => EncoderDecoderConfig::Rnn(self.rnn_config(
                source_vocab,
                target_vocab,
                bos_id,
                eos_id,
            )),
            Architecture::Transformer => {
                let t = &self.transformer;
                EncoderDecoderConfig::Transformer(
                    TransformerSeq2SeqConfig::new(source_vocab, target_vocab, bos_id, eos_id)
                        .with_d_model(t.d_model)
                        .with_num_heads(t.num_heads)
                        .with_num_encoder_layers(t.encoder_layers)
                        .with_num_decoder_layers(t.decoder_layers)
                        .with_d_ff(t.d_ff)
                        .with_norm_first(t.norm_first)
                        .with_tie_output(t.tie_output)
                        .with_dropout(self.dropout)
                        .with_label_smoothing(self.label_smoothing),
                )
            }
        }
    }

    /// The RNN encoder–decoder's configuration for these vocabularies.
    pub fn rnn_config(
        &self,
        source_vocab: usize,
        target_vocab: usize,
        bos_id: usize,
        eos_id: usize,
    ) -> Seq2SeqConfig {
        let encoder = RnnEncoderConfig::new(source_vocab, self.embedding_dim, self.hidden_size)
            .with_kind(self.cell)
            .with_num_layers(self.num_layers)
            .with_bidirectional(self.bidirectional)
            .with_dropout(self.dropout);
        let decoder = RnnDecoderConfig::new(
            target_vocab,
            self.embedding_dim,
            self.decoder_hidden_size(),
            encoder.output_size(),
        )
        .with_kind(self.cell)
        .with_num_layers(self.num_layers)
        .with_attention(self.attention)
        .with_input_feeding(self.input_feeding)
        .with_dropout(self.dropout);
        Seq2SeqConfig::new(encoder, decoder, bos_id, eos_id)
            .with_bridge(self.bridge)
            .with_label_smoothing(self.label_smoothing)
            .with_teacher_forcing(self.teacher_forcing)
    }

    /// Builds the model for `source_vocab` and `target_vocab` ids, `<bos>` and `<eos>` being
    /// target ids. Fails, naming the field, when the sizes cannot work together.
    pub fn init(
        &self,
        source_vocab: usize,
        target_vocab: usize,
        bos_id: usize,
        eos_id: usize,
        device: &Device,
    ) -> Result<Translator> {
        self.validate()?;
        let model = self
            .encoder_decoder_config(source_vocab, target_vocab, bos_id, eos_id)
            .init(device)?;
        Ok(Translator {
            model,
            max_decode_len: self.max_decode_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build_the_baseline_and_count_its_parameters() {
        use burn::module::Module;
        // PyTorch's task3_g2p.py with 33 source and 73 target ids (its vocabularies): 750,537 parameters with
        // attention (its results file). Our decoder has one bias vector per gate pair like
        // PyTorch's LSTM, so the count must agree exactly.
        let model = TranslatorConfig::default()
            .init(33, 73, 2, 3, &Device::flex())
            .expect("valid");
        assert_eq!(model.num_params(), 750_537);
    }

    #[test]
    fn bad_sizes_name_the_field() {
        let bad = |config: TranslatorConfig| config.validate().expect_err("refused").to_string();
        let zero = TranslatorConfig {
            hidden_size: 0,
            ..TranslatorConfig::default()
        };
        assert!(bad(zero).contains("TranslatorConfig.hidden_size: is 0"));
        let tf = TranslatorConfig {
            teacher_forcing: 1.5,
            ..TranslatorConfig::default()
        };
        assert!(bad(tf).contains("teacher_forcing"));
        let unknown = serde_json::from_str::<TranslatorConfig>(r#"{"hidden": 3}"#);
        assert!(unknown.is_err());
        // Sizes the Transformer cannot use fail at config time, naming the field.
        let heads = TranslatorConfig {
            architecture: Architecture::Transformer,
            transformer: TransformerSettings {
                num_heads: 3,
                ..TransformerSettings::default()
            },
            ..TranslatorConfig::default()
        };
        let error = heads.validate().expect_err("128 is not a multiple of 3");
        assert!(error.to_string().contains("num_heads"), "{error}");
    }

    #[test]
    fn transformer_is_chosen_by_name() {
        let config: TranslatorConfig =
            serde_json::from_str(r#"{"architecture": "transformer", "transformer": {"d_model": 16, "num_heads": 2, "d_ff": 32}}"#)
                .expect("parses");
        let model = config.init(10, 12, 2, 3, &Device::flex()).expect("valid");
        assert_eq!(model.model.kind(), "transformer");
    }
}
