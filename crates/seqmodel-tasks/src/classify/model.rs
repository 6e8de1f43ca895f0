//! [`TextClassifier`]: the module and its forward pass.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Dropout, Embedding, Linear};
use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor};
use burn::train::ClassificationOutput;
use seqmodel_data::{PaddedBatch, SequenceLengths, TextClassificationBatch};

use crate::encoder::Encoder;
use crate::error::{Result, TaskError};
use crate::pooling::{AttentionPooling, Pooling};

/// A text classifier: token ids → [`Embedding`] → dropout → [`Encoder`] → [`Pooling`] →
/// dropout → [`Linear`] → class logits. Built by [`crate::ClassifierConfig::init`] (or
/// `init_with_embeddings`).
///
/// Parameters, by field and by their PyTorch state-dict name (see
/// [`TextClassifier::state_dict`]; `F` is the encoder's `D * H`):
///
/// | field | PyTorch name | shape (PyTorch layout) |
/// |---|---|---|
/// | `embedding.weight` | `emb.weight` | `[vocab, E]` |
/// | `encoder` | `rnn.weight_ih_l0`, `rnn.weight_hh_l0`, `rnn.bias_ih_l0`, `rnn.bias_hh_l0`, `…_reverse`, `…_l1` | as `nn.LSTM` / `nn.GRU` / `nn.RNN` |
/// | `attention` (only with [`Pooling::Attention`]) | `pool.proj.weight`, `pool.proj.bias`, `pool.score.weight` | `[F, F]`, `[F]`, `[1, F]` |
/// | `output.weight` | `fc.weight` | `[classes, F]` (Burn stores `[F, classes]`) |
/// | `output.bias` | `fc.bias` | `[classes]` |
///
/// Dropout acts only while training (an autodiff device, not after [`Module::valid`]).
#[derive(Module, Debug)]
pub struct TextClassifier {
    /// Token vectors, `[vocab_size, E]`; row `pad_id` starts at zero.
    pub embedding: Embedding,
    /// Dropout on the token vectors.
    pub embedding_dropout: Dropout,
    /// The sequence encoder.
    pub encoder: Encoder,
    /// The attention scorer, present exactly when `pooling` is [`Pooling::Attention`].
    pub attention: Option<AttentionPooling>,
    /// Dropout on the pooled features.
    pub feature_dropout: Dropout,
    /// Features to class logits: `[F] -> [num_classes]`.
    pub output: Linear,
    /// How the encoder's steps become one vector (not a parameter).
    #[module(skip)]
    pub pooling: Pooling,
    /// Number of token ids the embedding covers.
    pub vocab_size: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// The `<pad>` id.
    pub pad_id: usize,
}

impl TextClassifier {
    /// Class logits for a padded batch.
    ///
    /// # Shapes
    /// - `tokens.ids`: `[batch, time]`, each id below `vocab_size`; either padding side
    /// - output: `[batch, num_classes]`
    ///
    /// Reads the ids back to the host once to check them: an id outside the vocabulary is
    /// [`TaskError::OutOfRange`], an empty batch [`TaskError::InvalidConfig`] on `batch`.
    pub fn forward(&self, tokens: &PaddedBatch) -> Result<Tensor<2>> {
        self.forward_ids(tokens.ids.clone(), tokens.lengths())
    }

    /// Class probabilities (softmax of [`Self::forward`]): `[batch, num_classes]`, rows sum
    /// to 1.
    pub fn probabilities(&self, tokens: &PaddedBatch) -> Result<Tensor<2>> {
        Ok(softmax(self.forward(tokens)?, 1))
    }

    /// [`Self::forward`] on ids `[batch, time]` and their lengths (each in `0..=time`).
    pub fn forward_ids(&self, ids: Tensor<2, Int>, lengths: &SequenceLengths) -> Result<Tensor<2>> {
        let [batch, time] = ids.dims();
        if batch == 0 {
            return Err(TaskError::InvalidConfig {
                config: "TextClassifier",
                field: "batch".into(),
                reason: "is empty; pass at least one text".into(),
            });
        }
        lengths.validate(batch, time)?;
        check_range(
            "token id",
            ids.to_data().iter::<i64>(),
            self.vocab_size,
            TOKEN_FIX,
        )?;
        let embedded = self.embedding_dropout.forward(self.embedding.forward(ids));
        let encoded = self.encoder.encode(embedded, lengths)?;
        let features = self
            .pooling
            .pool(encoded, lengths, self.attention.as_ref())?;
        Ok(self.output.forward(self.feature_dropout.forward(features)))
    }

    /// Logits, targets and mean cross-entropy loss of a batch: what burn-train's
    /// `TrainStep`/`InferenceStep` return (loss `[1]`, output `[batch, classes]`, targets
    /// `[batch]`).
    ///
    /// Fails as [`Self::forward`] does, or with [`TaskError::OutOfRange`] when a label is not
    /// below `num_classes`.
    pub fn classification_output(
        &self,
        batch: TextClassificationBatch,
    ) -> Result<ClassificationOutput> {
        check_range(
            "label",
            batch.labels.to_data().iter::<i64>(),
            self.num_classes,
            LABEL_FIX,
        )?;
        let logits = self.forward(&batch.tokens)?;
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.labels.clone());
        Ok(ClassificationOutput::new(loss, logits, batch.labels))
    }
}

const TOKEN_FIX: &str =
    "encode the texts with the vocabulary the model was built with (vocab_size = vocab.len())";
const LABEL_FIX: &str = "use the label set the model was built with (num_classes = labels.len())";

/// `Ok` when every value is in `0..limit`, else the first one outside.
fn check_range(
    what: &'static str,
    mut values: impl Iterator<Item = i64>,
    limit: usize,
    fix: &'static str,
) -> Result<()> {
    match values.find(|&v| !usize::try_from(v).is_ok_and(|v| v < limit)) {
        None => Ok(()),
        Some(found) => Err(TaskError::OutOfRange {
            what,
            found,
            limit,
            fix,
        }),
    }
}
