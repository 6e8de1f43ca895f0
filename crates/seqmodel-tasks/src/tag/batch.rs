//! From sentences to tensors: [`TagEncoder`] (words, characters, casing and tags to ids) and
//! [`TagBatcher`] (a padded [`TagBatch`]).

use std::collections::HashMap;

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor, TensorData};
use seqmodel_data::{LabelSet, SequenceLengths, TaggedSentence, Vocab, VocabConfig};

use super::casing::Casing;
use crate::error::{Result, TaskError};

/// One sentence as ids, every vector one entry per token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagItem {
    /// Lower-cased word ids.
    pub words: Vec<usize>,
    /// Each word's character ids (original case), `0` never among them.
    pub chars: Vec<Vec<usize>>,
    /// Casing ids ([`Casing::id`]).
    pub casing: Vec<usize>,
    /// Tag ids; empty when the tags are unknown (prediction).
    pub tags: Vec<usize>,
}

/// The vocabularies of a tagger: lower-cased words, characters and tags.
#[derive(Debug, Clone, PartialEq)]
pub struct TagEncoder {
    /// Lower-cased words; `<pad>` 0, `<unk>` 1.
    pub words: Vocab,
    /// Characters as one-character tokens; `<pad>` 0, `<unk>` 1.
    pub chars: Vocab,
    /// Tag names, sorted.
    pub tags: LabelSet,
}

impl TagEncoder {
    /// Builds the vocabularies from training sentences: words (lower-cased) seen at least
    /// `min_freq` times, every character seen, and every tag of `tag_sentences` (the baseline
    /// takes the tags of its train and valid sentences together).
    ///
    /// # Errors
    /// A `min_freq` of 0 (from seqmodel-data, naming the field).
    pub fn fit(
        train: &[TaggedSentence],
        tag_sentences: &[TaggedSentence],
        min_freq: usize,
    ) -> Result<Self> {
        let words = VocabConfig::default()
            .with_bos_eos(false)
            .with_min_freq(min_freq)
            .build(
                train
                    .iter()
                    .map(|s| s.tokens.iter().map(|t| t.to_lowercase())),
            )?;
        let chars = VocabConfig::default().with_bos_eos(false).build(
            train
                .iter()
                .map(|s| s.tokens.iter().flat_map(|t| t.chars().map(String::from))),
        )?;
        let tags = LabelSet::sorted(
            train
                .iter()
                .chain(tag_sentences)
                .flat_map(|s| s.tags.iter()),
        );
        Ok(Self { words, chars, tags })
    }

    /// The ids of `tokens` (and of `tags` when given: one per token, each in the tag set).
    ///
    /// # Errors
    /// An empty sentence, a tag count that differs from the token count, or a tag the tag set
    /// does not have.
    pub fn encode<S: AsRef<str>>(&self, tokens: &[S], tags: Option<&[String]>) -> Result<TagItem> {
        if tokens.is_empty() {
            return Err(TaskError::InvalidConfig {
                config: "TagEncoder",
                field: "tokens".into(),
                reason: "the sentence is empty; give at least one token".into(),
            });
        }
        let tags = match tags {
            None => Vec::new(),
            Some(tags) if tags.len() != tokens.len() => {
                return Err(TaskError::InvalidConfig {
                    config: "TagEncoder",
                    field: "tags".into(),
                    reason: format!(
                        "{} tags for {} tokens; give one tag per token",
                        tags.len(),
                        tokens.len()
                    ),
                });
            }
            Some(tags) => tags
                .iter()
                .map(|t| self.tags.id(t))
                .collect::<std::result::Result<_, _>>()?,
        };
        let tokens: Vec<&str> = tokens.iter().map(AsRef::as_ref).collect();
        Ok(TagItem {
            words: self.words.encode(tokens.iter().map(|t| t.to_lowercase())),
            chars: tokens
                .iter()
                .map(|t| {
                    let mut buffer = [0u8; 4];
                    self.chars
                        .encode(t.chars().map(|c| c.encode_utf8(&mut buffer).to_string()))
                })
                .collect(),
            casing: tokens.iter().map(|t| Casing::of(t).id()).collect(),
            tags,
        })
    }

    /// [`Self::encode`] for a labelled sentence.
    pub fn encode_sentence(&self, sentence: &TaggedSentence) -> Result<TagItem> {
        self.encode(&sentence.tokens, Some(&sentence.tags))
    }
}

/// A padded batch of sentences (padding on the right).
///
/// Character features are computed once per distinct word of the batch: `char_words` holds
/// each distinct word's characters (row 0 is the empty word of padding positions), and
/// `char_index` says which row each position reads.
#[derive(Debug, Clone)]
pub struct TagBatch {
    /// Word ids, `[batch, time]`, 0 at padding.
    pub words: Tensor<2, Int>,
    /// Character ids of the distinct words, `[types, max_chars]`, 0 after each word's
    /// characters; row 0 is all 0 (the padding word).
    pub char_words: Tensor<2, Int>,
    /// Characters per distinct word, `[types]` (row 0: 0).
    pub char_lengths: Vec<usize>,
    /// The `char_words` row of every position, `[batch * time]` row-major (0 at padding).
    pub char_index: Tensor<1, Int>,
    /// Casing ids, `[batch, time]`, 0 at padding.
    pub casing: Tensor<2, Int>,
    /// Tag ids, `[batch, time]`, `-1` at padding (and everywhere when the tags are unknown).
    pub tags: Tensor<2, Int>,
    /// Tokens per sentence.
    pub lengths: SequenceLengths,
}

/// Pads [`TagItem`]s into a [`TagBatch`], keeping at most `max_word_chars` characters of a word.
#[derive(Debug, Clone, Copy)]
pub struct TagBatcher {
    max_word_chars: usize,
}

impl Default for TagBatcher {
    /// Words keep up to 32 characters.
    fn default() -> Self {
        Self { max_word_chars: 32 }
    }
}

impl TagBatcher {
    /// A batcher keeping the first `max_word_chars` characters of each word (at least 1).
    pub fn new(max_word_chars: usize) -> Self {
        Self {
            max_word_chars: max_word_chars.max(1),
        }
    }
}

impl Batcher<TagItem, TagBatch> for TagBatcher {
    fn batch(&self, items: Vec<TagItem>, device: &Device) -> TagBatch {
        let batch = items.len();
        let time = items
            .iter()
            .map(|i| i.words.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut words = vec![0i64; batch * time];
        let mut casing = vec![0i64; batch * time];
        let mut tags = vec![-1i64; batch * time];
        let mut char_index = vec![0i64; batch * time];
        // Distinct character sequences in order of first appearance; row 0 is the empty word.
        let mut types: Vec<&[usize]> = vec![&[]];
        let mut rows: HashMap<&[usize], usize> = HashMap::from([(&[][..], 0)]);
        for (b, item) in items.iter().enumerate() {
            for t in 0..item.words.len() {
                let at = b * time + t;
                words[at] = item.words[t] as i64;
                casing[at] = item.casing.get(t).map_or(0, |&c| c as i64);
                if let Some(&tag) = item.tags.get(t) {
                    tags[at] = tag as i64;
                }
                let chars = item.chars.get(t).map_or(&[][..], Vec::as_slice);
                let chars = &chars[..chars.len().min(self.max_word_chars)];
                let row = *rows.entry(chars).or_insert_with(|| {
                    types.push(chars);
                    types.len() - 1
                });
                char_index[at] = row as i64;
            }
        }
        let max_chars = types.iter().map(|c| c.len()).max().unwrap_or(0).max(1);
        let mut char_words = vec![0i64; types.len() * max_chars];
        for (row, chars) in types.iter().enumerate() {
            for (c, &id) in chars.iter().enumerate() {
                char_words[row * max_chars + c] = id as i64;
            }
        }
        let lengths = items.iter().map(|i| i.words.len()).collect();
        TagBatch {
            words: Tensor::from_data(TensorData::new(words, [batch, time]), device),
            char_words: Tensor::from_data(
                TensorData::new(char_words, [types.len(), max_chars]),
                device,
            ),
            char_lengths: types.iter().map(|c| c.len()).collect(),
            char_index: Tensor::from_data(TensorData::new(char_index, [batch * time]), device),
            casing: Tensor::from_data(TensorData::new(casing, [batch, time]), device),
            tags: Tensor::from_data(TensorData::new(tags, [batch, time]), device),
            lengths: SequenceLengths::right(lengths),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(tokens: &[&str], tags: &[&str]) -> TaggedSentence {
        TaggedSentence::new(
            tokens.iter().map(|s| s.to_string()).collect(),
            tags.iter().map(|s| s.to_string()).collect(),
        )
        .expect("one tag per token")
    }

    #[test]
    fn encodes_and_pads_every_field() {
        let train = [
            sentence(&["The", "cat"], &["DET", "NOUN"]),
            sentence(&["the", "Dog", "ran"], &["DET", "NOUN", "VERB"]),
        ];
        let encoder = TagEncoder::fit(&train, &[], 2).expect("fits");
        // Only "the" is seen twice (lower-cased); the others are <unk>.
        assert_eq!(encoder.words.len(), 3);
        assert_eq!(encoder.tags.names(), ["DET", "NOUN", "VERB"]);
        let items: Vec<TagItem> = train
            .iter()
            .map(|s| encoder.encode_sentence(s).expect("known tags"))
            .collect();
        assert_eq!(items[0].words, [2, 1]);
        assert_eq!(items[1].casing, [1, 5, 1]);
        let batch = TagBatcher::new(2).batch(items, &Device::flex());
        assert_eq!(batch.words.dims(), [2, 3]);
        assert_eq!(batch.lengths.as_slice(), [2, 3]);
        // Cut to 2 characters: "Th", "ca", "th", "Do", "ra" and the empty padding word.
        assert_eq!(batch.char_words.dims(), [6, 2]);
        assert_eq!(batch.char_lengths, [0, 2, 2, 2, 2, 2]);
        let index: Vec<i64> = batch.char_index.to_data().iter::<i64>().collect();
        assert_eq!(index, [1, 2, 0, 3, 4, 5]);
        let tags: Vec<i64> = batch.tags.to_data().iter::<i64>().collect();
        assert_eq!(tags, [0, 1, -1, 0, 1, 2]);
        let chars: Vec<i64> = batch.char_words.to_data().iter::<i64>().collect();
        assert!(chars[..2].iter().all(|&c| c == 0), "{chars:?}");
        assert!(chars[2..].iter().all(|&c| c > 1), "{chars:?}");
        // A word seen twice is one row.
        let again = encoder.encode(&["the", "the"], None).expect("encodes");
        let batch = TagBatcher::default().batch(vec![again], &Device::flex());
        assert_eq!(batch.char_lengths, [0, 3]);
        assert_eq!(batch.lengths.as_slice(), [2]);
    }

    #[test]
    fn bad_sentences_are_errors() {
        let train = [sentence(&["a"], &["X"])];
        let encoder = TagEncoder::fit(&train, &[], 1).expect("fits");
        let empty: [&str; 0] = [];
        assert!(encoder.encode(&empty, None).is_err());
        let err = encoder
            .encode(&["a", "b"], Some(&["X".to_string()]))
            .expect_err("count");
        assert!(err.to_string().contains("1 tags for 2 tokens"), "{err}");
        assert!(encoder.encode(&["a"], Some(&["Y".to_string()])).is_err());
        let item = encoder
            .encode(&["zz"], None)
            .expect("unknown words are fine");
        assert_eq!(item.words, [1]);
        assert!(item.tags.is_empty());
    }
}
