//! [`ClassifierConfig`]: the classifier's architecture, its validation and its construction.

use burn::module::Param;
use burn::nn::{DropoutConfig, Embedding, LinearConfig};
use burn::tensor::{Device, Distribution, Tensor};
use seqmodel_data::AlignedEmbeddings;
use serde::{Deserialize, Serialize};

use super::TextClassifier;
use crate::encoder::{Encoder, EncoderConfig, EncoderKind, check_probability};
use crate::error::{Result, TaskError};
use crate::pooling::{AttentionPoolingConfig, Pooling};

/// The names [`ClassifierConfig::pytorch_recipe`] knows: the models of the PyTorch benchmark
/// `task1_sentiment.py`.
pub const PYTORCH_RECIPES: [&str; 4] = ["bilstm", "lstm", "gru", "rnn"];

/// Architecture of a [`TextClassifier`]: token ids → embedding (+ dropout) → encoder →
/// pooling → dropout → linear layer to the classes.
///
/// Serde: every field optional (missing ones take the defaults), unknown fields rejected. The
/// defaults are the PyTorch benchmark's `bilstm` recipe (`task1_sentiment.py`): embedding 128
/// with dropout 0.5, a one-layer bidirectional LSTM of 128 units per direction, max pooling,
/// dropout 0.5 before the output layer.
///
/// ```
/// use seqmodel_tasks::{ClassifierConfig, EncoderKind, Pooling};
///
/// let config: ClassifierConfig =
///     serde_json::from_str(r#"{"encoder": {"kind": "gru", "bidirectional": false}, "pooling": "last"}"#)?;
/// assert_eq!(config.encoder.kind, EncoderKind::Gru);
/// assert_eq!(config.encoder.hidden_size, 128); // the default
/// assert_eq!(config.pooling, Pooling::Last);
/// assert_eq!(config, ClassifierConfig::pytorch_recipe("gru").expect("a recipe"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// Width of the token vectors `E` (at least 1; with pretrained vectors, their width).
    pub embedding_dim: usize,
    /// Dropout on the token vectors, in `[0, 1)` (only while training).
    pub embedding_dropout: f64,
    /// The encoder and its sizes.
    pub encoder: EncoderConfig,
    /// How the encoder's steps become one vector.
    pub pooling: Pooling,
    /// Dropout on the pooled vector before the output layer, in `[0, 1)`.
    pub feature_dropout: f64,
}

impl Default for ClassifierConfig {
    /// The PyTorch `bilstm` recipe (see the type's documentation).
    fn default() -> Self {
        Self {
            embedding_dim: 128,
            embedding_dropout: 0.5,
            encoder: EncoderConfig::default(),
            pooling: Pooling::Max,
            feature_dropout: 0.5,
        }
    }
}

impl ClassifierConfig {
    /// The configuration of one model of the PyTorch benchmark `task1_sentiment.py`
    /// (`RNNClassifier`, embedding and hidden size 128, dropout 0.5): `bilstm` is a
    /// bidirectional LSTM with max pooling, `lstm`, `gru` and `rnn` one direction with the
    /// final state (`h[-1]`). A PyTorch state dict of that model loads into the classifier
    /// this builds ([`TextClassifier::load_state_dict`]).
    ///
    /// Fails with [`TaskError::UnknownName`] listing [`PYTORCH_RECIPES`].
    pub fn pytorch_recipe(name: &str) -> Result<Self> {
        let (kind, bidirectional, pooling) = match name {
            "bilstm" => (EncoderKind::Lstm, true, Pooling::Max),
            "lstm" => (EncoderKind::Lstm, false, Pooling::Last),
            "gru" => (EncoderKind::Gru, false, Pooling::Last),
            "rnn" => (EncoderKind::Rnn, false, Pooling::Last),
            _ => {
                return Err(TaskError::UnknownName {
                    what: "recipe",
                    found: name.to_string(),
                    valid: PYTORCH_RECIPES.to_vec(),
                });
            }
        };
        Ok(Self {
            encoder: EncoderConfig::new(kind).with_bidirectional(bidirectional),
            pooling,
            ..Self::default()
        })
    }

    /// Sets the width of the token vectors.
    pub fn with_embedding_dim(mut self, embedding_dim: usize) -> Self {
        self.embedding_dim = embedding_dim;
        self
    }

    /// Sets the dropout on the token vectors.
    pub fn with_embedding_dropout(mut self, dropout: f64) -> Self {
        self.embedding_dropout = dropout;
        self
    }

    /// Sets the encoder.
    pub fn with_encoder(mut self, encoder: EncoderConfig) -> Self {
        self.encoder = encoder;
        self
    }

    /// Sets the pooling.
    pub fn with_pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }

    /// Sets the dropout before the output layer.
    pub fn with_feature_dropout(mut self, dropout: f64) -> Self {
        self.feature_dropout = dropout;
        self
    }

    /// Width of the pooled features (the output layer's input): the encoder's `D * H`.
    pub fn feature_size(&self) -> usize {
        self.encoder.output_size()
    }

    /// Checks that a model with `vocab_size` tokens and `num_classes` classes can be built.
    ///
    /// Every error is a [`TaskError::InvalidConfig`] naming the field
    /// (`ClassifierConfig.encoder.hidden_size`, `ClassifierConfig.vocab_size`, ...) and the fix.
    /// Once this passes, every forward pass on a batch whose ids are below `vocab_size` runs
    /// without a shape error: the embedding width is the encoder's input width and the
    /// encoder's `D * H` is the output layer's input width by construction.
    pub fn validate(&self, vocab_size: usize, num_classes: usize) -> Result<()> {
        let invalid = |field: &str, reason: String| TaskError::InvalidConfig {
            config: "ClassifierConfig",
            field: field.to_string(),
            reason,
        };
        if self.embedding_dim == 0 {
            return Err(invalid(
                "embedding_dim",
                "is 0; set it to at least 1 (the PyTorch recipes use 128)".into(),
            ));
        }
        check_probability(self.embedding_dropout)
            .map_err(|reason| invalid("embedding_dropout", reason))?;
        self.encoder.check("ClassifierConfig", "encoder.")?;
        check_probability(self.feature_dropout)
            .map_err(|reason| invalid("feature_dropout", reason))?;
        if vocab_size < 2 {
            return Err(invalid(
                "vocab_size",
                format!(
                    "the vocabulary has {vocab_size} token(s), at least 2 are needed (<pad> and \
                     one word); build it from non-empty training texts"
                ),
            ));
        }
        if num_classes < 2 {
            return Err(invalid(
                "num_classes",
                format!(
                    "the data has {num_classes} class(es), a classifier needs at least 2; check \
                     the label column"
                ),
            ));
        }
        Ok(())
    }

    /// Build a classifier with a fresh embedding drawn from `N(0, 1)` (PyTorch's
    /// `nn.Embedding`), row `pad_id` zero, trainable.
    ///
    /// Fails as [`Self::validate`] does, or when `pad_id >= vocab_size`.
    pub fn init(
        &self,
        vocab_size: usize,
        num_classes: usize,
        pad_id: usize,
        device: &Device,
    ) -> Result<TextClassifier> {
        self.validate(vocab_size, num_classes)?;
        check_pad_id(pad_id, vocab_size)?;
        let weight = Tensor::<2>::random(
            [vocab_size, self.embedding_dim],
            Distribution::Normal(0.0, 1.0),
            device,
        )
        .slice_fill([pad_id..pad_id + 1, 0..self.embedding_dim], 0.0);
        let embedding = Embedding {
            weight: Param::from_tensor(weight),
        };
        self.build(embedding, vocab_size, num_classes, pad_id, device)
    }

    /// Build a classifier whose embedding holds pretrained vectors aligned to the vocabulary
    /// (GloVe / word2vec, see [`seqmodel_data::PretrainedEmbeddings::align`]); with
    /// `trainable = false` it is frozen: it gets no gradient and no optimiser changes it.
    ///
    /// The vocabulary size is `embeddings.rows`; `embedding_dim` must equal `embeddings.dim`
    /// (else [`TaskError::InvalidConfig`] saying which width to set).
    pub fn init_with_embeddings(
        &self,
        embeddings: &AlignedEmbeddings,
        trainable: bool,
        num_classes: usize,
        pad_id: usize,
        device: &Device,
    ) -> Result<TextClassifier> {
        if embeddings.dim != self.embedding_dim {
            return Err(TaskError::InvalidConfig {
                config: "ClassifierConfig",
                field: "embedding_dim".into(),
                reason: format!(
                    "is {} but the pretrained vectors have {} dimensions; set embedding_dim to {}",
                    self.embedding_dim, embeddings.dim, embeddings.dim
                ),
            });
        }
        self.validate(embeddings.rows, num_classes)?;
        check_pad_id(pad_id, embeddings.rows)?;
        let embedding = embeddings.init_embedding(device, trainable);
        self.build(embedding, embeddings.rows, num_classes, pad_id, device)
    }

    /// Everything after the embedding, on a validated configuration.
    fn build(
        &self,
        embedding: Embedding,
        vocab_size: usize,
        num_classes: usize,
        pad_id: usize,
        device: &Device,
    ) -> Result<TextClassifier> {
        let encoder = Encoder::init(&self.encoder, self.embedding_dim, device)?;
        let features = encoder.output_size();
        let attention = (self.pooling == Pooling::Attention)
            .then(|| AttentionPoolingConfig::new(features).init(device));
        Ok(TextClassifier {
            embedding,
            embedding_dropout: DropoutConfig::new(self.embedding_dropout).init(),
            encoder,
            attention,
            feature_dropout: DropoutConfig::new(self.feature_dropout).init(),
            output: LinearConfig::new(features, num_classes).init(device),
            pooling: self.pooling,
            vocab_size,
            num_classes,
            pad_id,
        })
    }
}

fn check_pad_id(pad_id: usize, vocab_size: usize) -> Result<()> {
    if pad_id >= vocab_size {
        return Err(TaskError::InvalidConfig {
            config: "ClassifierConfig",
            field: "pad_id".into(),
            reason: format!(
                "is {pad_id} but the vocabulary has {vocab_size} tokens; use the vocabulary's \
                 <pad> id (0)"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(config: &ClassifierConfig, vocab: usize, classes: usize) -> String {
        config
            .validate(vocab, classes)
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn defaults_are_the_pytorch_bilstm_recipe() {
        let config = ClassifierConfig::default();
        assert_eq!(
            config,
            ClassifierConfig::pytorch_recipe("bilstm").expect("recipe")
        );
        assert_eq!(config.embedding_dim, 128);
        assert_eq!(config.encoder.kind, EncoderKind::Lstm);
        assert!(config.encoder.bidirectional);
        assert_eq!(config.feature_size(), 256);
        assert_eq!(config.pooling, Pooling::Max);
        assert_eq!(
            (config.embedding_dropout, config.feature_dropout),
            (0.5, 0.5)
        );
        let err = ClassifierConfig::pytorch_recipe("cnn").expect_err("no such recipe");
        assert_eq!(
            err.to_string(),
            "unknown recipe \"cnn\": expected one of bilstm, lstm, gru, rnn"
        );
    }

    #[test]
    fn validation_names_the_field_and_the_fix() {
        let ok = ClassifierConfig::default();
        ok.validate(10, 2).expect("valid");
        let hidden = ok
            .clone()
            .with_encoder(EncoderConfig::default().with_hidden_size(0));
        assert_eq!(
            error(&hidden, 10, 2),
            "ClassifierConfig.encoder.hidden_size: is 0; set it to at least 1 (the PyTorch \
             recipes use 128)"
        );
        let dropout = ok.clone().with_feature_dropout(1.0);
        assert_eq!(
            error(&dropout, 10, 2),
            "ClassifierConfig.feature_dropout: must be in [0, 1), found 1; 0 disables dropout, \
             0.5 drops half the units"
        );
        let dropout = ok.clone().with_embedding_dropout(-0.1);
        assert!(error(&dropout, 10, 2).starts_with("ClassifierConfig.embedding_dropout:"));
        let dropout = ok
            .clone()
            .with_encoder(EncoderConfig::default().with_dropout(f64::NAN));
        assert!(error(&dropout, 10, 2).starts_with("ClassifierConfig.encoder.dropout:"));
        assert!(
            error(&ok.clone().with_embedding_dim(0), 10, 2)
                .starts_with("ClassifierConfig.embedding_dim: is 0")
        );
        assert_eq!(
            error(&ok, 1, 2),
            "ClassifierConfig.vocab_size: the vocabulary has 1 token(s), at least 2 are needed \
             (<pad> and one word); build it from non-empty training texts"
        );
        assert!(
            error(&ok, 10, 1).starts_with("ClassifierConfig.num_classes: the data has 1 class(es)")
        );
        let err = ok
            .init(10, 2, 10, &Device::flex())
            .expect_err("pad id outside the vocabulary");
        assert!(
            err.to_string()
                .starts_with("ClassifierConfig.pad_id: is 10"),
            "{err}"
        );
    }

    #[test]
    fn serde_round_trip_and_unknown_fields() {
        let config = ClassifierConfig::pytorch_recipe("rnn")
            .expect("recipe")
            .with_pooling(Pooling::Attention)
            .with_encoder(
                EncoderConfig::new(EncoderKind::Gru)
                    .with_num_layers(2)
                    .with_dropout(0.25),
            );
        let json = serde_json::to_string(&config).expect("serialises");
        let back: ClassifierConfig = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, config);
        let empty: ClassifierConfig = serde_json::from_str("{}").expect("all defaults");
        assert_eq!(empty, ClassifierConfig::default());
        let err = serde_json::from_str::<ClassifierConfig>(r#"{"pooling": "sum"}"#)
            .expect_err("unknown pooling");
        assert!(err.to_string().contains("unknown variant `sum`"), "{err}");
        let err = serde_json::from_str::<ClassifierConfig>(r#"{"encoder": {"layers": 2}}"#)
            .expect_err("unknown field");
        assert!(err.to_string().contains("unknown field `layers`"), "{err}");
    }

    /// The embedding starts with a zero `<pad>` row (PyTorch's `padding_idx`), and only the
    /// attention pooling has scorer parameters.
    #[test]
    fn init_zeroes_the_pad_row_and_adds_a_scorer_only_for_attention() {
        let device = Device::flex();
        let config = ClassifierConfig::default()
            .with_embedding_dim(4)
            .with_encoder(EncoderConfig::default().with_hidden_size(3));
        let model = config.init(7, 3, 2, &device).expect("valid");
        let weight = model
            .embedding
            .weight
            .val()
            .into_data()
            .try_to_vec_as::<f32>()
            .expect("f32");
        assert!(weight[8..12].iter().all(|&v| v == 0.0), "{weight:?}");
        assert!(weight[..8].iter().any(|&v| v != 0.0), "{weight:?}");
        assert!(model.attention.is_none());
        let with_attention = config
            .with_pooling(Pooling::Attention)
            .init(7, 3, 0, &device)
            .expect("valid");
        assert!(with_attention.attention.is_some());
    }
}
