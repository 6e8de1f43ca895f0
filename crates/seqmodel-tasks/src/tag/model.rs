//! [`SequenceTagger`]: word + character + casing features → encoder → a tag score per token.

use burn::module::{Module, Param};
use burn::nn::{Embedding, Linear, LinearConfig};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Distribution, Int, Tensor};
use burn::train::SequenceOutput;
use seqmodel_rnn::{FastDropout, FastDropoutConfig};

use super::batch::TagBatch;
use super::casing::CASING_CLASSES;
use super::chars::CharFeatures;
use super::config::TaggerConfig;
use crate::encoder::Encoder;
use crate::error::{Result, TaskError};

/// A sequence tagger: one score per tag at every token.
///
/// Per word, `[word embedding (lower-cased) | character features | casing embedding]`, dropout,
/// the encoder over the sentence, dropout, and a linear layer to the tags. Built by
/// [`TaggerConfig::init`].
#[derive(Module, Debug)]
pub struct SequenceTagger {
    /// Word embeddings, `[words, embedding_dim]`; row 0 (padding) starts at 0.
    pub words: Embedding,
    /// Character features, absent when the config says `none`.
    pub chars: Option<CharFeatures>,
    /// Casing embeddings, `[CASING_CLASSES, casing_dim]`, absent when `casing_dim` is 0.
    pub casing: Option<Embedding>,
    /// Dropout on the word features and on the encoder's output.
    pub dropout: FastDropout,
    /// The sentence encoder.
    pub encoder: Encoder,
    /// Encoder features to tag scores.
    pub output: Linear,
    /// Word ids the model knows.
    pub num_words: usize,
    /// Character ids the model knows (0 without character features).
    pub num_chars: usize,
    /// Tags it scores.
    pub num_tags: usize,
}

impl SequenceTagger {
    pub(crate) fn build(
        config: &TaggerConfig,
        words: usize,
        chars: usize,
        tags: usize,
        device: &Device,
    ) -> Result<Self> {
        let embedding = |rows: usize, dim: usize| {
            let weight = Tensor::<2>::random([rows, dim], Distribution::Normal(0.0, 1.0), device)
                .slice_fill([0..1, 0..dim], 0.0);
            Embedding {
                weight: Param::from_tensor(weight),
            }
        };
        let char_features = CharFeatures::init(&config.chars, chars, device)?;
        let encoder = Encoder::init(&config.encoder, config.input_size(), device)?;
        Ok(Self {
            words: embedding(words, config.embedding_dim),
            num_chars: if char_features.is_some() { chars } else { 0 },
            chars: char_features,
            casing: (config.casing_dim > 0).then(|| embedding(CASING_CLASSES, config.casing_dim)),
            dropout: FastDropoutConfig::new(config.dropout).init()?,
            output: LinearConfig::new(encoder.output_size(), tags).init(device),
            encoder,
            num_words: words,
            num_tags: tags,
        })
    }

    /// Tag scores (logits) for every position; rows at padding positions are meaningless.
    ///
    /// # Shapes
    /// - `batch.words`, `batch.casing`: `[batch, time]`; `batch.char_words`: `[types, chars]`
    /// - output: `[batch, time, num_tags]`
    ///
    /// # Errors
    /// An empty batch, lengths that do not fit `[batch, time]`, or an id outside the model's
    /// vocabularies.
    pub fn forward(&self, batch: &TagBatch) -> Result<Tensor<3>> {
        let [size, time] = batch.words.dims();
        if size == 0 {
            return Err(TaskError::InvalidConfig {
                config: "SequenceTagger",
                field: "batch".into(),
                reason: "is empty; pass at least one sentence".into(),
            });
        }
        batch.lengths.validate(size, time)?;
        check_range("word id", &batch.words, self.num_words, WORD_FIX)?;
        let mut features = vec![self.words.forward(batch.words.clone())];
        if let Some(chars) = &self.chars {
            check_range("character id", &batch.char_words, self.num_chars, CHAR_FIX)?;
            let types = batch.char_words.dims()[0];
            check_range("char_index", &batch.char_index, types, INDEX_FIX)?;
            if batch.char_lengths.len() != types || batch.char_index.dims()[0] != size * time {
                return Err(TaskError::InvalidConfig {
                    config: "TagBatch",
                    field: "char_lengths".into(),
                    reason: format!(
                        "{} lengths for {types} words and {} indices for {size} x {time} \
                         positions; build batches with TagBatcher",
                        batch.char_lengths.len(),
                        batch.char_index.dims()[0]
                    ),
                });
            }
            features.push(chars.forward(
                batch.char_words.clone(),
                &batch.char_lengths,
                batch.char_index.clone(),
                [size, time],
                &self.dropout,
            )?);
        }
        if let Some(casing) = &self.casing {
            check_range("casing id", &batch.casing, CASING_CLASSES, CASING_FIX)?;
            features.push(casing.forward(batch.casing.clone()));
        }
        let input = self.dropout.forward(Tensor::cat(features, 2));
        let encoded = self.encoder.encode(input, &batch.lengths)?;
        Ok(self.output.forward(self.dropout.forward(encoded.sequence)))
    }

    /// The most likely tag of every real token, one vector per sentence.
    ///
    /// # Errors
    /// As [`Self::forward`].
    pub fn predict(&self, batch: &TagBatch) -> Result<Vec<Vec<usize>>> {
        let logits = self.forward(batch)?;
        let [_, time, _] = logits.dims();
        let best: Vec<i64> = logits.argmax(2).into_data().iter::<i64>().collect();
        Ok(batch
            .lengths
            .as_slice()
            .iter()
            .enumerate()
            .map(|(b, &n)| {
                best[b * time..b * time + n]
                    .iter()
                    .map(|&id| id.max(0) as usize)
                    .collect()
            })
            .collect())
    }

    /// Logits, the loss (cross-entropy averaged over real tokens) and the targets, as
    /// burn-train's `SequenceOutput`.
    ///
    /// # Errors
    /// As [`Self::forward`], and a tag id outside `0..num_tags` at a real token.
    pub fn sequence_output(&self, batch: TagBatch) -> Result<SequenceOutput> {
        let logits = self.forward(&batch)?;
        if let Some(found) = batch
            .tags
            .to_data()
            .iter::<i64>()
            .find(|&t| t >= self.num_tags as i64)
        {
            return Err(TaskError::OutOfRange {
                what: "tag id",
                found,
                limit: self.num_tags,
                fix: TAG_FIX,
            });
        }
        let loss = masked_cross_entropy(logits.clone(), batch.tags.clone());
        Ok(SequenceOutput {
            loss,
            logits,
            predictions: None,
            targets: batch.tags,
        })
    }
}

/// Cross-entropy averaged over the positions whose target is not negative.
///
/// # Shapes
/// - `logits`: `[batch, time, tags]`; `targets`: `[batch, time]`, `-1` at padding
/// - output: `[1]` (0 when no position is real)
pub fn masked_cross_entropy(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<1> {
    let [batch, time, _] = logits.dims();
    let real = targets.clone().greater_equal_elem(0).float();
    let picked = log_softmax(logits, 2)
        .gather(2, targets.clamp_min(0).unsqueeze_dim::<3>(2))
        .reshape([batch, time]);
    let count = real.clone().sum().clamp_min(1.0);
    (picked * real).sum().neg() / count
}

const WORD_FIX: &str = "encode the words with the vocabulary the model was built with";
const CHAR_FIX: &str = "encode the characters with the vocabulary the model was built with";
const INDEX_FIX: &str = "build batches with TagBatcher (char_index points into char_words)";
const CASING_FIX: &str = "compute casing ids with Casing::id";
const TAG_FIX: &str = "use the tag set the model was built with (num_tags = tags.len())";

fn check_range<const D: usize>(
    what: &'static str,
    ids: &Tensor<D, Int>,
    limit: usize,
    fix: &'static str,
) -> Result<()> {
    match ids
        .to_data()
        .iter::<i64>()
        .find(|&v| !usize::try_from(v).is_ok_and(|v| v < limit))
    {
        None => Ok(()),
        Some(found) => Err(TaskError::OutOfRange {
            what,
            found,
            limit,
            fix,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// Equal logits over 2 tags give ln 2 at every real token, whatever the padding holds:
    /// the mean over the 3 real tokens is ln 2; a confident right answer at the padding
    /// position (target -1) must not pull it down.
    #[test]
    fn masked_cross_entropy_averages_real_tokens_only() {
        let device = Device::flex();
        let mut values = vec![0.0f32; 8];
        values[6] = 50.0; // batch 1, step 1: padding
        let logits = Tensor::<3>::from_data(TensorData::new(values, [2, 2, 2]), &device);
        let targets =
            Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 1, 1, -1], [2, 2]), &device);
        let loss = masked_cross_entropy(logits, targets).into_scalar::<f32>();
        assert!((loss - std::f32::consts::LN_2).abs() < 1e-6, "{loss}");
    }
}
