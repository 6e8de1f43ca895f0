//! Synced sequence labelling: one tag per token (part of speech, named entities).

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::bounds::{cloned_item, get_each};
use crate::conll::TaggedSentence;
use crate::error::{Error, Result};
use crate::iob::iob2_entities;
use crate::labels::LabelSet;
use crate::normalize::Normalizer;
use crate::padding::{PaddedBatch, PaddingConfig};
use crate::split::{Split, SplitRatios};
use crate::vocab::{Vocab, VocabConfig};

/// Tagged sentences (as read by [`crate::parse_conllu`] or [`crate::parse_columns`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggingDataset {
    sentences: Vec<TaggedSentence>,
}

impl TaggingDataset {
    /// Wraps sentences.
    pub fn new(sentences: Vec<TaggedSentence>) -> Self {
        Self { sentences }
    }

    /// The sentences.
    pub fn sentences(&self) -> &[TaggedSentence] {
        &self.sentences
    }

    /// Total number of tokens.
    pub fn num_tokens(&self) -> usize {
        self.sentences.iter().map(TaggedSentence::len).sum()
    }

    /// The distinct tags, sorted.
    pub fn tag_set(&self) -> LabelSet {
        LabelSet::sorted(self.sentences.iter().flat_map(|s| s.tags.iter()))
    }

    /// Number of IOB2 entities of each type, sorted by type.
    pub fn entity_counts(&self) -> Vec<(String, usize)> {
        let mut counts = std::collections::BTreeMap::new();
        for s in &self.sentences {
            for span in iob2_entities(&s.tags) {
                *counts.entry(span.label).or_insert(0) += 1;
            }
        }
        counts.into_iter().collect()
    }

    /// A vocabulary of the (normalised) tokens (use the training split only).
    pub fn build_vocab(&self, normalizer: &Normalizer, config: &VocabConfig) -> Result<Vocab> {
        config.build(
            self.sentences
                .iter()
                .map(|s| s.tokens.iter().map(|t| normalizer.apply(t))),
        )
    }

    /// Seeded random `[train, valid, test]` split of the sentences.
    pub fn split(&self, ratios: SplitRatios, seed: u64) -> [Self; 3] {
        Split::random(self.sentences.len(), ratios, seed)
            .select(&self.sentences)
            .map(Self::new)
    }

    /// Encodes every sentence: tokens through `vocab` (after `normalizer`; unknown → `<unk>`),
    /// tags through `tags` (an unknown tag is an error: build the tag set from all splits).
    pub fn encode(
        &self,
        vocab: &Vocab,
        tags: &LabelSet,
        normalizer: &Normalizer,
    ) -> Result<Vec<TaggedIds>> {
        self.sentences
            .iter()
            .map(|s| {
                TaggedIds::new(
                    vocab.encode(s.tokens.iter().map(|t| normalizer.apply(t))),
                    s.tags
                        .iter()
                        .map(|t| tags.id(t))
                        .collect::<Result<Vec<_>>>()?,
                )
            })
            .collect()
    }
}

impl Dataset<TaggedSentence> for TaggingDataset {
    /// The sentence at `index`; past the end, an [`Error::IndexOutOfBounds`](crate::Error)
    /// inside the `DatasetError`.
    fn get(&self, index: usize) -> std::result::Result<TaggedSentence, DatasetError> {
        cloned_item(&self.sentences, index, "TaggingDataset")
    }

    fn get_many(
        &self,
        indexes: Vec<usize>,
    ) -> std::result::Result<Vec<TaggedSentence>, DatasetError> {
        get_each(self, indexes)
    }

    fn len(&self) -> usize {
        self.sentences.len()
    }
}

/// An encoded sentence: token ids and tag ids of the same length.
///
/// The fields are private so that the lengths always agree: [`TaggedIds::new`] checks them, and
/// so does deserialising. (A batcher cannot return an error, so a mismatch found there could
/// only be hidden: cut, or padded with tag 0 at real positions.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedTaggedIds")]
pub struct TaggedIds {
    tokens: Vec<usize>,
    tags: Vec<usize>,
}

/// The serialised form of [`TaggedIds`], checked by `TaggedIds::new` on the way in.
#[derive(Deserialize)]
struct UncheckedTaggedIds {
    tokens: Vec<usize>,
    tags: Vec<usize>,
}

impl TryFrom<UncheckedTaggedIds> for TaggedIds {
    type Error = Error;

    fn try_from(ids: UncheckedTaggedIds) -> Result<Self> {
        Self::new(ids.tokens, ids.tags)
    }
}

impl TaggedIds {
    /// Token ids and their tag ids, one tag per token (otherwise an [`Error::Config`] naming
    /// `TaggedIds::new`).
    pub fn new(tokens: Vec<usize>, tags: Vec<usize>) -> Result<Self> {
        if tokens.len() != tags.len() {
            return Err(Error::Config {
                config: "TaggedIds::new",
                field: "tags",
                reason: format!(
                    "{} tags for {} tokens; give exactly one tag per token",
                    tags.len(),
                    tokens.len()
                ),
            });
        }
        Ok(Self { tokens, tags })
    }

    /// Token ids.
    pub fn tokens(&self) -> &[usize] {
        &self.tokens
    }

    /// Tag ids, one per token.
    pub fn tags(&self) -> &[usize] {
        &self.tags
    }
}

/// A batch for tagging.
#[derive(Debug, Clone)]
pub struct TaggingBatch {
    /// Token ids `[batch, time]`, mask `[batch, time]` (`true` = padding) and lengths.
    pub tokens: PaddedBatch,
    /// Tag ids `[batch, time]`, aligned with the tokens. Padding positions hold 0 — a real tag
    /// id, so losses and metrics must skip them with `tokens.mask`.
    pub tags: Tensor<2, Int>,
}

/// Pads token and tag ids identically (same side, same truncation).
///
/// ```
/// use burn::data::dataloader::batcher::Batcher;
/// use burn::tensor::Device;
/// use seqmodel_data::{PaddingConfig, TaggedIds, TaggingBatcher};
///
/// let batcher = TaggingBatcher::new(PaddingConfig::default())?;
/// let items = vec![
///     TaggedIds::new(vec![5, 6, 7], vec![1, 0, 2])?,
///     TaggedIds::new(vec![8], vec![3])?,
/// ];
/// let batch = batcher.batch(items, &Device::flex());
/// assert_eq!(batch.tags.dims(), [2, 3]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TaggingBatcher {
    padding: Arc<PaddingConfig>,
}

impl TaggingBatcher {
    /// A batcher with this padding. Fails when `padding` is invalid
    /// ([`PaddingConfig::validate`]).
    pub fn new(padding: PaddingConfig) -> Result<Self> {
        padding.validate()?;
        Ok(Self {
            padding: Arc::new(padding),
        })
    }
}

impl Batcher<TaggedIds, TaggingBatch> for TaggingBatcher {
    fn batch(&self, items: Vec<TaggedIds>, device: &Device) -> TaggingBatch {
        let tokens: Vec<&[usize]> = items.iter().map(|i| i.tokens.as_slice()).collect();
        let padded = self.padding.pad_valid(&tokens);
        let tag_padding = PaddingConfig {
            pad_id: 0,
            ..(*self.padding).clone()
        };
        // `TaggedIds` holds one tag per token, so both pad to the same shape.
        let tags: Vec<&[usize]> = items.iter().map(|i| i.tags.as_slice()).collect();
        let tag_ids = tag_padding.pad_valid(&tags);
        TaggingBatch {
            tokens: padded.to_batch(device),
            tags: Tensor::from_data(
                TensorData::new(tag_ids.ids, [tag_ids.batch, tag_ids.time]),
                device,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::testing::assert_get_past_end_is_an_error;
    use crate::padding::PadSide;

    fn data() -> TaggingDataset {
        TaggingDataset::new(vec![
            TaggedSentence::new(
                vec!["New".into(), "York".into(), "is".into()],
                vec!["B-LOC".into(), "I-LOC".into(), "O".into()],
            )
            .unwrap(),
            TaggedSentence::new(vec!["Bob".into()], vec!["B-PER".into()]).unwrap(),
        ])
    }

    #[test]
    fn counts_tags_and_entities() {
        let d = data();
        assert_eq!(d.num_tokens(), 4);
        assert_eq!(d.tag_set().names(), ["B-LOC", "B-PER", "I-LOC", "O"]);
        assert_eq!(
            d.entity_counts(),
            vec![("LOC".to_string(), 1), ("PER".to_string(), 1)]
        );
    }

    #[test]
    fn encode_then_batch_keeps_tokens_and_tags_aligned() {
        let d = data();
        let norm = Normalizer::default().lowercase();
        let vocab = d.build_vocab(&norm, &VocabConfig::default()).unwrap();
        let tags = d.tag_set();
        let encoded = d.encode(&vocab, &tags, &norm).unwrap();
        assert_eq!(encoded[0].tags(), [0, 2, 3]);
        let batcher =
            TaggingBatcher::new(PaddingConfig::default().with_side(PadSide::Left)).unwrap();
        let batch = batcher.batch(encoded, &Device::flex());
        let tag_ids: Vec<i64> = batch.tags.to_data().iter::<i64>().collect();
        assert_eq!(tag_ids, vec![0, 2, 3, 0, 0, 1]);
        let mask: Vec<bool> = batch.tokens.mask.to_data().iter::<bool>().collect();
        assert_eq!(mask, vec![false, false, false, true, true, false]);
    }

    /// `get(len())` used to panic (slice indexing); now it is an error naming the dataset.
    #[test]
    fn get_past_the_end_is_an_error() {
        assert_get_past_end_is_an_error(&data(), "TaggingDataset");
        assert_get_past_end_is_an_error(&TaggingDataset::new(Vec::new()), "TaggingDataset");
    }

    /// The batcher used to cut a longer tag list and pad a shorter one with tag 0 at real
    /// token positions; mismatched ids are now refused where they are made.
    #[test]
    fn tagged_ids_need_one_tag_per_token() {
        let err = TaggedIds::new(vec![5, 6, 7], vec![1, 0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "TaggedIds::new: invalid tags: 2 tags for 3 tokens; give exactly one tag per token"
        );
        assert!(serde_json::from_str::<TaggedIds>(r#"{"tokens": [1], "tags": []}"#).is_err());
        let ids: TaggedIds = serde_json::from_str(r#"{"tokens": [1], "tags": [4]}"#).unwrap();
        assert_eq!((ids.tokens(), ids.tags()), (&[1][..], &[4][..]));
    }

    #[test]
    fn batcher_rejects_a_zero_max_len() {
        let err = TaggingBatcher::new(PaddingConfig::default().with_max_len(0)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("PaddingConfig: invalid max_len:"),
            "{err}"
        );
        assert!(matches!(err, Error::Config { .. }));
    }

    #[test]
    fn unknown_tag_is_an_error() {
        let d = data();
        let vocab = d
            .build_vocab(&Normalizer::default(), &VocabConfig::default())
            .unwrap();
        let tags = LabelSet::new(["O"]).unwrap();
        assert!(d.encode(&vocab, &tags, &Normalizer::default()).is_err());
    }
}
