//! [`TranslatorConfig`]: the sizes of a [`Translator`], serde with every field optional.

use burn::tensor::Device;
use seqmodel_attention::{
    BridgeKind, DecoderAttentionKind, RecurrentKind, RnnDecoderConfig, RnnEncoderConfig,
    Seq2SeqConfig,
};
use serde::{Deserialize, Serialize};

use super::Translator;
use crate::encoder::check_probability;
use crate::error::{Result, TaskError};

/// Configuration of a [`Translator`]: an RNN encoder–decoder (serde: every field optional,
/// unknown fields rejected). The defaults are the PyTorch G2P baseline's
/// (`bench/tasks/task3_g2p.py`): embeddings 64, a BiLSTM encoder of 128 per direction whose
/// final states, concatenated, start a one-layer LSTM decoder of 256 attending with Luong's
/// `general` score (no input feeding), dropout 0.2.
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
    /// Width of the source and target embeddings.
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
        Ok(())
    }

    /// The encoder–decoder's own configuration for these vocabularies.
    pub fn seq2seq_config(
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
            .seq2seq_config(source_vocab, target_vocab, bos_id, eos_id)
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
    }
}
