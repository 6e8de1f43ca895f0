//! A tag run's complete configuration (`config.json`, `"task": "tag"`): `cargo xtask train
//! --config runs/NAME/config.json` reproduces the run.

use std::path::Path;

use seqmodel_tasks::TaggerConfig;
use seqmodel_train::device::BackendName;
use seqmodel_train::{MonitorConfig, MonitorMode, OptimizerConfig, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::run::config::TaskName;
use crate::run::error::RunError;

/// The bundled data sets of the tag task.
pub const BUNDLED: &[&str] = &["ud-ewt", "uner-ewt"];

/// Everything a tag run depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRunConfig {
    /// Always `tag`.
    pub task: TaskName,
    /// The backend the run trains on (`flex`, `ndarray`, `wgpu`).
    pub backend: String,
    /// Devices to train on data-parallel (1: one device).
    #[serde(default = "one")]
    pub devices: usize,
    /// Where the sentences come from and how they are split.
    pub data: TagDataConfig,
    /// The tagger.
    pub model: TaggerConfig,
    /// The training loop.
    pub train: TrainConfig,
}

/// Where the sentences come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagDataConfig {
    /// `ud-ewt` (UPOS), `uner-ewt` (NER), a `.conllu` file (UPOS column) or a two-column IOB2
    /// file (token, whitespace, tag; a blank line between sentences).
    pub source: String,
    /// How the sentences are split.
    #[serde(default)]
    pub split: TagSplit,
    /// Words (lower-cased) seen fewer times than this in the training split become `<unk>`.
    #[serde(default = "two")]
    pub min_freq: usize,
    /// Characters of a word the character features read (the rest are cut).
    #[serde(default = "thirty_two")]
    pub max_word_chars: usize,
}

fn one() -> usize {
    1
}
fn two() -> usize {
    2
}
fn thirty_two() -> usize {
    32
}

/// How the sentences are split into train, validation and test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum TagSplit {
    /// The PyTorch baseline's (`bench/tasks/task2_tagging.py`): train and valid from the bundled
    /// dev file (`split-seed0.tsv`: numpy `RandomState(0)`, 10 % valid), test = the test file.
    Baseline,
    /// One file shuffled with `seed` and cut into these fractions.
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

impl Default for TagSplit {
    fn default() -> Self {
        Self::Random {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
            seed: 0,
        }
    }
}

/// The layout of a tag data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagFormat {
    /// CoNLL-U, the UPOS column: token accuracy.
    Upos,
    /// IOB2 entity tags: token accuracy and seqeval entity F1.
    Iob2,
}

impl TagFormat {
    /// The format of `source`: `ud-ewt` and `.conllu` files are CoNLL-U, the rest IOB2.
    pub fn of(source: &str) -> Self {
        let conllu = source == "ud-ewt"
            || Path::new(source)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("conllu"));
        if conllu { Self::Upos } else { Self::Iob2 }
    }

    /// The validation metric that picks the best epoch.
    pub fn monitor(self) -> &'static str {
        match self {
            Self::Upos => "accuracy",
            Self::Iob2 => "entity_f1",
        }
    }
}

impl TagRunConfig {
    /// The default run on `source`: the baseline's recipe (Adam 1e-3, batch 32 sentences, 40
    /// epochs, the best validation epoch kept) with the default tagger (char-CNN features).
    pub fn for_source(source: &str) -> Self {
        let format = TagFormat::of(source);
        Self {
            task: TaskName::Tag,
            backend: "flex".into(),
            devices: 1,
            data: TagDataConfig {
                source: source.to_string(),
                split: if BUNDLED.contains(&source) {
                    TagSplit::Baseline
                } else {
                    TagSplit::default()
                },
                min_freq: 2,
                max_word_chars: 32,
            },
            model: TaggerConfig::default(),
            train: TrainConfig {
                epochs: 40,
                batch_size: 32,
                seed: 0,
                optimizer: OptimizerConfig::Adam {
                    lr: 1e-3,
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                    weight_decay: 0.0,
                },
                monitor: MonitorConfig {
                    metric: format.monitor().into(),
                    mode: MonitorMode::Max,
                },
                ..TrainConfig::default()
            },
        }
    }

    /// Reads a config file: a complete one, or a partial one over the default of its data
    /// (`ud-ewt` if it names none; unknown fields are refused).
    pub fn read(path: &Path) -> Result<Self, RunError> {
        let config: Self = crate::run::config::parse_json_over(path, |source| {
            Self::for_source(source.unwrap_or("ud-ewt"))
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
        if self.task != TaskName::Tag {
            return Err(bad(
                "task",
                format!("this is a tag config, not a {} one", self.task.as_str()),
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
                "must be at least 1 (1 keeps every training word)".into(),
            ));
        }
        if self.data.max_word_chars == 0 {
            return Err(bad(
                "data.max_word_chars",
                "must be at least 1 (32 keeps nearly every word whole)".into(),
            ));
        }
        match self.data.split {
            TagSplit::Random {
                train, valid, test, ..
            } => {
                seqmodel_data::SplitRatios::new(train, valid, test)
                    .map_err(|error| bad("data.split", error.to_string()))?;
            }
            TagSplit::Baseline if !BUNDLED.contains(&self.data.source.as_str()) => {
                return Err(bad(
                    "data.split",
                    format!(
                        "the baseline split exists only for the bundled data sets ({}); use \
                         {{\"kind\": \"random\", ...}} for `{}`",
                        BUNDLED.join(", "),
                        self.data.source
                    ),
                ));
            }
            TagSplit::Baseline => {}
        }
        self.train
            .validate()
            .map_err(|error| RunError::Train(error.to_string()))?;
        self.model
            .validate(3, 3, 1)
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
        serde_json::to_string_pretty(self).expect("TagRunConfig serialises to JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_pick_the_metric_by_format() {
        for source in ["ud-ewt", "uner-ewt", "my.conllu", "ner.txt"] {
            let config = TagRunConfig::for_source(source);
            config.validate(Path::new("x")).expect("valid default");
            let back: TagRunConfig = serde_json::from_str(&config.to_json()).expect("parses");
            assert_eq!(back, config);
        }
        assert_eq!(
            TagRunConfig::for_source("ud-ewt").train.monitor.metric,
            "accuracy"
        );
        assert_eq!(
            TagRunConfig::for_source("ner.txt").train.monitor.metric,
            "entity_f1"
        );
        assert_eq!(TagFormat::of("x/y.CONLLU"), TagFormat::Upos);
    }

    #[test]
    fn bad_values_name_the_field() {
        let mut config = TagRunConfig::for_source("ner.txt");
        config.data.split = TagSplit::Baseline;
        let error = config
            .validate(Path::new("c.json"))
            .expect_err("baseline on a file");
        assert!(error.to_string().contains("`data.split`"), "{error}");
        let mut config = TagRunConfig::for_source("ud-ewt");
        config.model.chars.kernel_size = 2;
        let error = config
            .validate(Path::new("c.json"))
            .expect_err("even kernel");
        assert!(error.to_string().contains("chars.kernel_size"), "{error}");
    }
}
