//! # seqmodel-tasks
//!
//! Task models built from seqmodel's layers, at the top of the layering (on seqmodel-data and
//! seqmodel-rnn; trained by seqmodel-train through burn-train's step traits).
//!
//! - [`classify`]: text classification. [`ClassifierConfig`] (serde; defaults = the PyTorch
//!   benchmark's BiLSTM + max-pool recipe) builds a [`TextClassifier`]: embedding (fresh, or
//!   pretrained GloVe / word2vec vectors, frozen or not) → encoder → [`Pooling`] (last, mean,
//!   max, attention) → class logits. It implements burn-train's `TrainStep` and
//!   `InferenceStep` on seqmodel-data's `TextClassificationBatch`, and imports / exports
//!   PyTorch state dicts under the names of the benchmark's `RNNClassifier`.
//! - [`tag`]: sequence labelling. [`TaggerConfig`] (serde; defaults = the PyTorch EWT baseline
//!   plus a char-CNN) builds a [`SequenceTagger`]: lower-cased word embedding, character
//!   features (char-CNN or char-BiLSTM, [`CharKind`]) and a casing feature → encoder → a score
//!   per tag at every token, with burn-train steps on [`TagBatch`]es.
//! - [`encoder`]: the encoder chosen by configuration ([`EncoderKind`]: `rnn`, `lstm`, `gru`;
//!   layers, directions, dropout). A new encoder is one file and one table line.
//! - [`forecast`]: time-series forecasting. [`ForecasterConfig`] builds a [`Forecaster`]:
//!   windows `[batch, lookback, inputs]` → encoder → optional additive attention over its
//!   states (last state as query) → `[batch, horizon * targets]`; trained on seqmodel-data's
//!   `WindowBatch` with a mean squared error (burn-train's `RegressionOutput`).
//! - [`seq2seq`]: sequence to sequence (grapheme → phoneme, translation).
//!   [`TranslatorConfig`] (serde; defaults = the PyTorch G2P baseline) builds a [`Translator`]:
//!   seqmodel-attention's encoder–decoder with attention, trained with teacher forcing on
//!   seqmodel-data's `Seq2SeqBatch`; its validation step decodes greedily so that the epoch's
//!   scores (error rate, exact match, BLEU, chrF) are those of decoded output.
//!
//! ```
//! use burn::tensor::Device;
//! use seqmodel_data::PaddingConfig;
//! use seqmodel_tasks::{ClassifierConfig, EncoderConfig, EncoderKind, Pooling};
//!
//! let device = Device::flex();
//! let config = ClassifierConfig::default()
//!     .with_embedding_dim(16)
//!     .with_encoder(EncoderConfig::new(EncoderKind::Gru).with_hidden_size(8))
//!     .with_pooling(Pooling::Attention);
//! let model = config.init(50, 3, 0, &device)?; // vocabulary 50, 3 classes, <pad> = 0
//! let batch = PaddingConfig::default().pad(&[vec![4, 9, 2], vec![7]])?.to_batch(&device);
//! let logits = model.forward(&batch)?;
//! assert_eq!(logits.dims(), [2, 3]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod classify;
pub mod encoder;
mod error;
pub mod forecast;
mod pooling;
pub mod seq2seq;
pub mod tag;

pub use classify::{ClassifierConfig, TextClassifier};
pub use encoder::{Encoded, Encoder, EncoderConfig, EncoderKind, SequenceEncoder};
pub use error::{Result, TaskError};
pub use forecast::{ForecastAttention, Forecaster, ForecasterConfig};
pub use pooling::{AttentionPooling, AttentionPoolingConfig, Pooling};
pub use seq2seq::{Architecture, TransformerSettings, Translator, TranslatorConfig};
pub use seqmodel_rnn::StateDict;
pub use tag::{
    CharConfig, CharKind, SequenceTagger, TagBatch, TagBatcher, TagEncoder, TagItem, TaggerConfig,
};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
