//! Synced sequence labelling: one tag per token (part of speech, named entities).

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::conll::TaggedSentence;
use crate::error::Result;
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
                Ok(TaggedIds {
                    tokens: vocab.encode(s.tokens.iter().map(|t| normalizer.apply(t))),
                    tags: s
                        .tags
                        .iter()
                        .map(|t| tags.id(t))
                        .collect::<Result<Vec<_>>>()?,
                })
            })
            .collect()
    }
}

impl Dataset<TaggedSentence> for TaggingDataset {
    fn get(&self, index: usize) -> std::result::Result<TaggedSentence, DatasetError> {
        Ok(self.sentences[index].clone())
    }

    fn len(&self) -> usize {
        self.sentences.len()
    }
}

/// An encoded sentence: token ids and tag ids of the same length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaggedIds {
    /// Token ids.
    pub tokens: Vec<usize>,
    /// Tag ids, one per token.
    pub tags: Vec<usize>,
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
/// let batcher = TaggingBatcher::new(PaddingConfig::default());
/// let items = vec![
///     TaggedIds { tokens: vec![5, 6, 7], tags: vec![1, 0, 2] },
///     TaggedIds { tokens: vec![8], tags: vec![3] },
/// ];
/// let batch = batcher.batch(items, &Device::flex());
/// assert_eq!(batch.tags.dims(), [2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct TaggingBatcher {
    padding: Arc<PaddingConfig>,
}

impl TaggingBatcher {
    /// A batcher with this padding.
    pub fn new(padding: PaddingConfig) -> Self {
        Self {
            padding: Arc::new(padding),
        }
    }
}

impl Batcher<TaggedIds, TaggingBatch> for TaggingBatcher {
    fn batch(&self, items: Vec<TaggedIds>, device: &Device) -> TaggingBatch {
        let tokens: Vec<&[usize]> = items.iter().map(|i| i.tokens.as_slice()).collect();
        let padded = self.padding.pad(&tokens);
        let tag_padding = PaddingConfig {
            pad_id: 0,
            ..(*self.padding).clone()
        };
        // A tag list longer than its tokens is cut to the token count so both stay aligned.
        let tags: Vec<&[usize]> = items
            .iter()
            .map(|i| &i.tags[..i.tags.len().min(i.tokens.len())])
            .collect();
        let tag_ids = tag_padding.pad(&tags);
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
        assert_eq!(encoded[0].tags, vec![0, 2, 3]);
        let batcher = TaggingBatcher::new(PaddingConfig::default().with_side(PadSide::Left));
        let batch = batcher.batch(encoded, &Device::flex());
        let tag_ids: Vec<i64> = batch.tags.to_data().iter::<i64>().collect();
        assert_eq!(tag_ids, vec![0, 2, 3, 0, 0, 1]);
        let mask: Vec<bool> = batch.tokens.mask.to_data().iter::<bool>().collect();
        assert_eq!(mask, vec![false, false, false, true, true, false]);
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
