//! [`TaggerConfig`]: the sizes of a [`SequenceTagger`], serde with every field optional.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::SequenceTagger;
use crate::encoder::{EncoderConfig, check_probability};
use crate::error::{Result, TaskError};

/// Which character features a tagger computes per word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CharKind {
    /// None: word embedding and casing only (the PyTorch baseline).
    None,
    /// A convolution over each word's characters, max-pooled (Ma & Hovy 2016).
    Cnn,
    /// A bidirectional LSTM over each word's characters, final states (Lample et al. 2016).
    Lstm,
}

impl CharKind {
    /// Every kind, for error messages and flags.
    pub const ALL: [CharKind; 3] = [CharKind::None, CharKind::Cnn, CharKind::Lstm];

    /// The configuration name (`"cnn"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Cnn => "cnn",
            Self::Lstm => "lstm",
        }
    }
}

impl std::str::FromStr for CharKind {
    type Err = TaskError;

    fn from_str(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| TaskError::UnknownName {
                what: "character features",
                found: name.to_string(),
                valid: Self::ALL.iter().map(|k| k.name()).collect(),
            })
    }
}

/// Character features of a word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CharConfig {
    /// Which features (`none`, `cnn`, `lstm`).
    pub kind: CharKind,
    /// Width of a character embedding.
    pub embedding_dim: usize,
    /// CNN: number of filters; LSTM: hidden units per direction.
    pub hidden_size: usize,
    /// CNN: characters per window (odd, so that windows centre on a character).
    pub kernel_size: usize,
}

impl Default for CharConfig {
    /// A char-CNN: embedding 30, 50 filters of width 3 (Ma & Hovy's sizes).
    fn default() -> Self {
        Self {
            kind: CharKind::Cnn,
            embedding_dim: 30,
            hidden_size: 50,
            kernel_size: 3,
        }
    }
}

impl CharConfig {
    /// Features per word: filters (CNN), `2 * hidden_size` (LSTM), 0 (none).
    pub fn output_size(&self) -> usize {
        match self.kind {
            CharKind::None => 0,
            CharKind::Cnn => self.hidden_size,
            CharKind::Lstm => 2 * self.hidden_size,
        }
    }
}

/// Configuration of a [`SequenceTagger`] (serde: every field optional, unknown fields
/// rejected). The defaults are the PyTorch baseline's recipe (word embedding 100, dropout 0.5,
/// BiLSTM 128 per direction, casing embedding 8) plus a char-CNN.
///
/// ```
/// use seqmodel_tasks::{CharKind, TaggerConfig};
///
/// let config: TaggerConfig = serde_json::from_str(r#"{"chars": {"kind": "lstm"}}"#)?;
/// assert_eq!(config.chars.kind, CharKind::Lstm);
/// assert_eq!(config.input_size(), 100 + 100 + 8); // word + 2 x 50 char + casing
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaggerConfig {
    /// Width of a word embedding (at least 1).
    pub embedding_dim: usize,
    /// Character features.
    pub chars: CharConfig,
    /// Width of the casing embedding; 0 leaves the feature out.
    pub casing_dim: usize,
    /// Dropout on the concatenated word features and on the encoder's output, in `[0, 1)`.
    pub dropout: f64,
    /// The sentence encoder.
    pub encoder: EncoderConfig,
}

impl Default for TaggerConfig {
    fn default() -> Self {
        Self {
            embedding_dim: 100,
            chars: CharConfig::default(),
            casing_dim: 8,
            dropout: 0.5,
            encoder: EncoderConfig::default(),
        }
    }
}

impl TaggerConfig {
    /// Sets the character features' kind.
    pub fn with_chars(mut self, kind: CharKind) -> Self {
        self.chars.kind = kind;
        self
    }

    /// Features per word entering the encoder: word + character + casing.
    pub fn input_size(&self) -> usize {
        self.embedding_dim + self.chars.output_size() + self.casing_dim
    }

    /// Checks every size and probability; errors name the field (`TaggerConfig.chars.kernel_size`)
    /// and say what to set. `words`, `chars` and `tags` are the vocabulary sizes the model is
    /// built for.
    pub fn validate(&self, words: usize, chars: usize, tags: usize) -> Result<()> {
        let invalid = |field: &str, reason: String| TaskError::InvalidConfig {
            config: "TaggerConfig",
            field: field.to_string(),
            reason,
        };
        if self.embedding_dim == 0 {
            return Err(invalid(
                "embedding_dim",
                "is 0; set it to at least 1 (the PyTorch baseline uses 100)".into(),
            ));
        }
        if self.chars.kind != CharKind::None {
            if self.chars.embedding_dim == 0 {
                return Err(invalid(
                    "chars.embedding_dim",
                    "is 0; set it to at least 1 (30 is usual), or chars.kind to \"none\"".into(),
                ));
            }
            if self.chars.hidden_size == 0 {
                return Err(invalid(
                    "chars.hidden_size",
                    "is 0; set it to at least 1 (50 is usual), or chars.kind to \"none\"".into(),
                ));
            }
            if self.chars.kind == CharKind::Cnn && self.chars.kernel_size.is_multiple_of(2) {
                return Err(invalid(
                    "chars.kernel_size",
                    format!(
                        "is {}; use an odd width (3 is usual) so that each window centres on a \
                         character",
                        self.chars.kernel_size
                    ),
                ));
            }
            if chars < 2 {
                return Err(invalid(
                    "char_vocab_size",
                    format!(
                        "the character vocabulary has {chars} entries, at least 2 are needed \
                         (<pad> and one character); build it from non-empty training words"
                    ),
                ));
            }
        }
        check_probability(self.dropout).map_err(|reason| invalid("dropout", reason))?;
        self.encoder.check("TaggerConfig", "encoder.")?;
        if words < 2 {
            return Err(invalid(
                "vocab_size",
                format!(
                    "the vocabulary has {words} token(s), at least 2 are needed (<pad> and \
                     <unk>); build it from non-empty training sentences"
                ),
            ));
        }
        if tags < 1 {
            return Err(invalid(
                "num_tags",
                "the tag set is empty; check the tag column of the training file".into(),
            ));
        }
        Ok(())
    }

    /// Builds the tagger for `words` word ids, `chars` character ids (ignored without character
    /// features) and `tags` tags, with random weights.
    ///
    /// # Errors
    /// [`TaskError::InvalidConfig`] naming the field, from [`Self::validate`].
    pub fn init(
        &self,
        words: usize,
        chars: usize,
        tags: usize,
        device: &Device,
    ) -> Result<SequenceTagger> {
        self.validate(words, chars, tags)?;
        SequenceTagger::build(self, words, chars, tags, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(config: &TaggerConfig) -> String {
        config.validate(10, 10, 3).expect_err("invalid").to_string()
    }

    #[test]
    fn defaults_are_the_baseline_plus_a_char_cnn() {
        let config = TaggerConfig::default();
        assert_eq!(config.embedding_dim, 100);
        assert_eq!(config.casing_dim, 8);
        assert_eq!(config.dropout, 0.5);
        assert_eq!(config.encoder.output_size(), 256);
        assert_eq!(config.chars.kind, CharKind::Cnn);
        assert_eq!(config.input_size(), 158);
        assert_eq!(config.clone().with_chars(CharKind::None).input_size(), 108);
        config.validate(10, 10, 3).expect("valid");
    }

    #[test]
    fn bad_configs_name_the_field() {
        let mut c = TaggerConfig::default();
        c.chars.kernel_size = 4;
        assert_eq!(
            error(&c),
            "TaggerConfig.chars.kernel_size: is 4; use an odd width (3 is usual) so that each \
             window centres on a character"
        );
        let mut c = TaggerConfig::default();
        c.chars.hidden_size = 0;
        assert!(error(&c).starts_with("TaggerConfig.chars.hidden_size: is 0"));
        let c = TaggerConfig {
            dropout: 1.5,
            ..TaggerConfig::default()
        };
        assert!(error(&c).starts_with("TaggerConfig.dropout: must be in [0, 1)"));
        let c = TaggerConfig {
            embedding_dim: 0,
            ..TaggerConfig::default()
        };
        assert!(error(&c).starts_with("TaggerConfig.embedding_dim: is 0"));
        let c = TaggerConfig {
            encoder: EncoderConfig::default().with_hidden_size(0),
            ..TaggerConfig::default()
        };
        assert!(error(&c).starts_with("TaggerConfig.encoder.hidden_size: is 0"));
        let err = TaggerConfig::default()
            .validate(1, 10, 3)
            .expect_err("tiny vocabulary");
        assert!(
            err.to_string().starts_with("TaggerConfig.vocab_size:"),
            "{err}"
        );
        // Without character features the character vocabulary does not matter.
        let mut c = TaggerConfig::default().with_chars(CharKind::None);
        c.chars.kernel_size = 4;
        c.validate(10, 0, 3).expect("chars unused");
        let err = "gru".parse::<CharKind>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown character features \"gru\": expected one of none, cnn, lstm"
        );
    }

    #[test]
    fn serde_rejects_unknown_fields() {
        let err = serde_json::from_str::<TaggerConfig>(r#"{"chars": {"filters": 3}}"#)
            .expect_err("unknown field");
        assert!(err.to_string().contains("unknown field `filters`"), "{err}");
        let back: TaggerConfig =
            serde_json::from_str(&serde_json::to_string(&TaggerConfig::default()).expect("json"))
                .expect("parses");
        assert_eq!(back, TaggerConfig::default());
    }
}
