//! A seq2seq run's complete configuration (`config.json`, `"task": "seq2seq"`): `cargo xtask
//! train --config runs/NAME/config.json` reproduces the run.

use std::path::Path;

use seqmodel_attention::{BeamSearchConfig, DecoderAttentionKind};
use seqmodel_tasks::TranslatorConfig;
use seqmodel_train::device::BackendName;
use seqmodel_train::{MonitorConfig, MonitorMode, OptimizerConfig, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::run::config::TaskName;
use crate::run::error::RunError;

/// The bundled data sets of the seq2seq task.
pub const BUNDLED: &[&str] = &["cmudict", "bible-en-es"];

/// Everything a seq2seq run depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seq2SeqRunConfig {
    /// Always `seq2seq`.
    pub task: TaskName,
    /// The backend the run trains on (`flex`, `ndarray`, `wgpu`).
    pub backend: String,
    /// Devices to train on data-parallel (1: one device).
    #[serde(default = "one")]
    pub devices: usize,
    /// Where the pairs come from, how they are tokenised and split.
    pub data: Seq2SeqDataConfig,
    /// The encoder–decoder.
    pub model: TranslatorConfig,
    /// How the test split is decoded and shown.
    #[serde(default)]
    pub decode: DecodeConfig,
    /// The training loop.
    pub train: TrainConfig,
}

fn one() -> usize {
    1
}

/// How text becomes tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Characters (grapheme clusters), whitespace dropped: a word's letters.
    Chars,
    /// Unicode words and punctuation marks.
    Words,
    /// Space-separated symbols taken as written (phonemes).
    Symbols,
}

impl TokenKind {
    /// What goes between tokens when decoded ids become text.
    pub fn separator(self) -> &'static str {
        match self {
            Self::Chars => "",
            Self::Words | Self::Symbols => " ",
        }
    }

    /// The name in configs and flags.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chars => "chars",
            Self::Words => "words",
            Self::Symbols => "symbols",
        }
    }
}

impl std::str::FromStr for TokenKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        [Self::Chars, Self::Words, Self::Symbols]
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                format!("unknown token kind \"{name}\": expected chars, words or symbols")
            })
    }
}

/// Where the pairs come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seq2SeqDataConfig {
    /// `cmudict` (word → phonemes), `bible-en-es` (English → Spanish verses), or a TSV/CSV file
    /// with a header row.
    pub source: String,
    /// A file's source column.
    #[serde(default = "source_column")]
    pub source_column: String,
    /// A file's target column.
    #[serde(default = "target_column")]
    pub target_column: String,
    /// How the source side is tokenised.
    pub source_tokens: TokenKind,
    /// How the target side is tokenised.
    pub target_tokens: TokenKind,
    /// Lower-case both sides before tokenising.
    #[serde(default)]
    pub lowercase: bool,
    /// Tokens seen fewer times in the training split become `<unk>`.
    #[serde(default = "one")]
    pub min_freq: usize,
    /// Training pairs with more source or target tokens than this are left out (and counted).
    #[serde(default = "max_train_tokens")]
    pub max_train_tokens: usize,
    /// How the pairs are split.
    #[serde(default)]
    pub split: Seq2SeqSplit,
}

fn source_column() -> String {
    "source".into()
}
fn target_column() -> String {
    "target".into()
}
fn max_train_tokens() -> usize {
    100
}

/// How the pairs are split into train, validation and test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum Seq2SeqSplit {
    /// cmudict only: the PyTorch baseline's word split (`data/cmudict/split-seed0.tsv`, 20,000 /
    /// 2,000 / 2,000 words). Training uses every pronunciation of a train word; validation the
    /// first-listed one; the test report scores against the first-listed one and the closest.
    Baseline,
    /// The pairs shuffled with `seed` and cut into these fractions.
    Random {
        /// Train fraction.
        train: f64,
        /// Validation fraction.
        valid: f64,
        /// Test fraction.
        test: f64,
        /// Seed of the shuffle.
        seed: u64,
    },
}

impl Default for Seq2SeqSplit {
    fn default() -> Self {
        Self::Random {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
            seed: 0,
        }
    }
}

/// How the test split is decoded and shown in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeConfig {
    /// Beam width of the beam-search row of the report (1 leaves it out).
    pub beam_width: usize,
    /// GNMT length penalty `α` of beam search.
    pub length_penalty: f64,
    /// Attention heatmaps drawn for the first test examples.
    pub heatmaps: usize,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self {
            beam_width: 5,
            length_penalty: 0.0,
            heatmaps: 4,
        }
    }
}

impl DecodeConfig {
    /// The beam search of the report.
    pub fn beam(&self) -> BeamSearchConfig {
        BeamSearchConfig::new(self.beam_width).with_length_penalty(self.length_penalty)
    }
}

impl Seq2SeqRunConfig {
    /// The default run on `source`.
    ///
    /// - `cmudict`: the PyTorch baseline's recipe (`bench/tasks/task3_g2p.py`): characters →
    ///   phonemes, its word split, the default [`TranslatorConfig`], Adam 1e-3, batch 64,
    ///   global-norm clipping at 5, 15 epochs, the epoch of lowest validation phoneme error
    ///   rate kept.
    /// - `bible-en-es` and files: words → words (case kept), words seen once are `<unk>`,
    ///   a random 80/10/10 split, embeddings and encoder of 128 (decoder 256), dropout 0.3,
    ///   up to 100 generated tokens, 10 epochs, the epoch of highest validation BLEU kept.
    pub fn for_source(source: &str) -> Self {
        let g2p = source == "cmudict";
        let adam = OptimizerConfig::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        };
        let (data, model, epochs, monitor) = if g2p {
            (
                Seq2SeqDataConfig {
                    source: source.into(),
                    source_column: source_column(),
                    target_column: target_column(),
                    source_tokens: TokenKind::Chars,
                    target_tokens: TokenKind::Symbols,
                    lowercase: false,
                    min_freq: 1,
                    max_train_tokens: max_train_tokens(),
                    split: Seq2SeqSplit::Baseline,
                },
                TranslatorConfig::default(),
                15,
                MonitorConfig {
                    metric: "error_rate".into(),
                    mode: MonitorMode::Min,
                },
            )
        } else {
            (
                Seq2SeqDataConfig {
                    source: source.into(),
                    source_column: if source == "bible-en-es" {
                        "en".into()
                    } else {
                        source_column()
                    },
                    target_column: if source == "bible-en-es" {
                        "es".into()
                    } else {
                        target_column()
                    },
                    source_tokens: TokenKind::Words,
                    target_tokens: TokenKind::Words,
                    lowercase: false,
                    min_freq: 2,
                    max_train_tokens: max_train_tokens(),
                    split: Seq2SeqSplit::default(),
                },
                TranslatorConfig {
                    embedding_dim: 128,
                    hidden_size: 128,
                    attention: DecoderAttentionKind::General,
                    dropout: 0.3,
                    max_decode_len: 100,
                    ..TranslatorConfig::default()
                },
                10,
                MonitorConfig {
                    metric: "bleu".into(),
                    mode: MonitorMode::Max,
                },
            )
        };
        Self {
            task: TaskName::Seq2seq,
            backend: "flex".into(),
            devices: 1,
            data,
            model,
            decode: DecodeConfig::default(),
            train: TrainConfig {
                epochs,
                batch_size: 64,
                seed: 0,
                optimizer: adam,
                clip_grad_norm: Some(5.0),
                monitor,
                ..TrainConfig::default()
            },
        }
    }

    /// Reads a config file: a complete one, or a partial one over the default of its data
    /// (`cmudict` if it names none; unknown fields are refused).
    pub fn read(path: &Path) -> Result<Self, RunError> {
        let config: Self = crate::run::config::parse_json_over(path, |source| {
            Self::for_source(source.unwrap_or("cmudict"))
        })?;
        config.validate(path)?;
        Ok(config)
    }

    /// Checks what can be checked before any data is read.
    pub fn validate(&self, origin: &Path) -> Result<(), RunError> {
        let bad = |field: &str, message: String| RunError::ConfigValue {
            origin: origin.to_path_buf(),
            field: field.to_string(),
            message,
        };
        if self.task != TaskName::Seq2seq {
            return Err(bad(
                "task",
                format!("this is a seq2seq config, not a {} one", self.task.as_str()),
            ));
        }
        self.backend()
            .map_err(|error| bad("backend", error.to_string()))?;
        if self.devices == 0 {
            return Err(bad("devices", "must be at least 1".into()));
        }
        if self.data.min_freq == 0 {
            return Err(bad(
                "data.min_freq",
                "must be at least 1 (1 keeps every training token)".into(),
            ));
        }
        if self.data.max_train_tokens == 0 {
            return Err(bad(
                "data.max_train_tokens",
                "must be at least 1 (100 keeps nearly every sentence)".into(),
            ));
        }
        match self.data.split {
            Seq2SeqSplit::Random {
                train, valid, test, ..
            } => {
                seqmodel_data::SplitRatios::new(train, valid, test)
                    .map_err(|error| bad("data.split", error.to_string()))?;
            }
            Seq2SeqSplit::Baseline if self.data.source != "cmudict" => {
                return Err(bad(
                    "data.split",
                    format!(
                        "the baseline split exists only for cmudict; use {{\"kind\": \
                         \"random\", ...}} for `{}`",
                        self.data.source
                    ),
                ));
            }
            Seq2SeqSplit::Baseline => {}
        }
        self.decode
            .beam()
            .validate()
            .map_err(|error| bad("decode.beam_width", error.to_string()))?;
        self.train
            .validate()
            .map_err(|error| RunError::Train(error.to_string()))?;
        self.model
            .validate()
            .map_err(|error| bad("model", error.to_string()))?;
        Ok(())
    }

    /// The backend, parsed.
    pub fn backend(&self) -> Result<BackendName, seqmodel_train::DeviceError> {
        self.backend.parse()
    }

    /// The config as pretty JSON.
    pub fn to_json(&self) -> String {
        // Strings, numbers, options and plain enums always serialise.
        serde_json::to_string_pretty(self).expect("Seq2SeqRunConfig serialises to JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_pick_the_metric_by_source() {
        for source in ["cmudict", "bible-en-es", "pairs.tsv"] {
            let config = Seq2SeqRunConfig::for_source(source);
            config.validate(Path::new("x")).expect("valid default");
            let back: Seq2SeqRunConfig = serde_json::from_str(&config.to_json()).expect("parses");
            assert_eq!(back, config);
        }
        let g2p = Seq2SeqRunConfig::for_source("cmudict");
        assert_eq!(g2p.train.monitor.metric, "error_rate");
        assert_eq!(g2p.data.target_tokens, TokenKind::Symbols);
        assert_eq!(
            Seq2SeqRunConfig::for_source("bible-en-es")
                .data
                .source_column,
            "en"
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        let mut config = Seq2SeqRunConfig::for_source("pairs.tsv");
        config.data.split = Seq2SeqSplit::Baseline;
        let error = config
            .validate(Path::new("c.json"))
            .expect_err("baseline on a file");
        assert!(error.to_string().contains("`data.split`"), "{error}");
        let mut config = Seq2SeqRunConfig::for_source("cmudict");
        config.decode.beam_width = 0;
        let error = config.validate(Path::new("c.json")).expect_err("beam 0");
        assert!(error.to_string().contains("decode.beam_width"), "{error}");
        assert!("bytes".parse::<TokenKind>().is_err());
    }
}
