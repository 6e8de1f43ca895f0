//! Sequence → sequence: (source, target) text pairs, `<bos>`/`<eos>`, and decoder input = target
//! shifted right (teacher forcing), with shared or separate vocabularies.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::bounds::{cloned_item, get_each};
use crate::error::{Error, Result};
use crate::padding::{PaddedBatch, PaddedIds, PaddingConfig};
use crate::split::{Split, SplitRatios};
use crate::table::{Table, TableFormat};
use crate::tokenizer::Tokenizer;
use crate::vocab::{TokenCounter, Vocab, VocabConfig};

/// A source text and its target text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextPair {
    /// Encoder input.
    pub source: String,
    /// Decoder output.
    pub target: String,
}

/// Whether source and target share one vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VocabSharing {
    /// One vocabulary built from both sides (tied embeddings, copying).
    Shared,
    /// One vocabulary per side.
    Separate,
}

/// Text pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seq2SeqDataset {
    pairs: Vec<TextPair>,
}

impl Seq2SeqDataset {
    /// Wraps pairs.
    pub fn new(pairs: Vec<TextPair>) -> Self {
        Self { pairs }
    }

    /// Pairs from two named columns of a table; empty cells are errors naming the line.
    pub fn from_table(table: &Table, source_column: &str, target_column: &str) -> Result<Self> {
        let sources = table.nonempty_text_column(source_column)?;
        let targets = table.nonempty_text_column(target_column)?;
        Ok(Self::new(
            sources
                .into_iter()
                .zip(targets)
                .map(|(s, t)| TextPair {
                    source: s.to_string(),
                    target: t.to_string(),
                })
                .collect(),
        ))
    }

    /// Reads a TSV file with a header and takes the pairs from the named columns.
    pub fn read_tsv(
        path: impl AsRef<Path>,
        source_column: &str,
        target_column: &str,
    ) -> Result<Self> {
        Self::from_table(
            &Table::read(path, TableFormat::tsv())?,
            source_column,
            target_column,
        )
    }

    /// The pairs.
    pub fn pairs(&self) -> &[TextPair] {
        &self.pairs
    }

    /// Seeded random `[train, valid, test]` split.
    pub fn split(&self, ratios: SplitRatios, seed: u64) -> [Self; 3] {
        Split::random(self.pairs.len(), ratios, seed)
            .select(&self.pairs)
            .map(Self::new)
    }

    /// Source and target vocabularies (use the training split only). With
    /// [`VocabSharing::Shared`] both are the same `Arc`. `config.bos_eos` must be on.
    pub fn build_vocabs(
        &self,
        source_tokenizer: &dyn Tokenizer,
        target_tokenizer: &dyn Tokenizer,
        config: &VocabConfig,
        sharing: VocabSharing,
    ) -> Result<(Arc<Vocab>, Arc<Vocab>)> {
        if !config.bos_eos {
            return Err(Error::Config {
                config: "VocabConfig",
                field: "bos_eos",
                reason: "sequence-to-sequence vocabularies need <bos> and <eos>".into(),
            });
        }
        let mut source = TokenCounter::default();
        let mut target = TokenCounter::default();
        for pair in &self.pairs {
            source.add(source_tokenizer.tokenize(&pair.source));
            let counter = match sharing {
                VocabSharing::Shared => &mut source,
                VocabSharing::Separate => &mut target,
            };
            counter.add(target_tokenizer.tokenize(&pair.target));
        }
        let source = Arc::new(source.build(config)?);
        let target = match sharing {
            VocabSharing::Shared => Arc::clone(&source),
            VocabSharing::Separate => Arc::new(target.build(config)?),
        };
        Ok((source, target))
    }
}

impl Dataset<TextPair> for Seq2SeqDataset {
    /// The pair at `index`; past the end, an [`Error::IndexOutOfBounds`] inside the
    /// `DatasetError`.
    fn get(&self, index: usize) -> std::result::Result<TextPair, DatasetError> {
        cloned_item(&self.pairs, index, "Seq2SeqDataset")
    }

    fn get_many(&self, indexes: Vec<usize>) -> std::result::Result<Vec<TextPair>, DatasetError> {
        get_each(self, indexes)
    }

    fn len(&self) -> usize {
        self.pairs.len()
    }
}

/// A batch for an encoder–decoder.
///
/// For a target `y1 … yn`: `decoder_input = <bos> y1 … yn` and `decoder_target = y1 … yn <eos>`,
/// so `decoder_input[t + 1] == decoder_target[t]` and both share one mask.
#[derive(Debug, Clone)]
pub struct Seq2SeqBatch {
    /// Source ids `[batch, src_time]` with mask and lengths.
    pub source: PaddedBatch,
    /// Decoder input `[batch, tgt_time]` (target shifted right, starting with `<bos>`).
    pub decoder_input: PaddedBatch,
    /// Decoder target `[batch, tgt_time]` (target followed by `<eos>`).
    pub decoder_target: PaddedBatch,
}

/// Host-side ids of a [`Seq2SeqBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seq2SeqIds {
    /// Padded source ids.
    pub source: PaddedIds,
    /// Padded decoder input.
    pub decoder_input: PaddedIds,
    /// Padded decoder target.
    pub decoder_target: PaddedIds,
}

/// Tokenises, encodes and pads [`TextPair`]s.
///
/// ```
/// use std::sync::Arc;
/// use burn::data::dataloader::batcher::Batcher;
/// use burn::tensor::Device;
/// use seqmodel_data::*;
///
/// let data = Seq2SeqDataset::new(vec![TextPair { source: "hi".into(), target: "HH AY1".into() }]);
/// let (src_tok, tgt_tok) = (Arc::new(CharTokenizer::default()), Arc::new(SymbolTokenizer));
/// let (src_vocab, tgt_vocab) = data.build_vocabs(
///     src_tok.as_ref(), tgt_tok.as_ref(), &VocabConfig::default(), VocabSharing::Separate)?;
/// let batcher = Seq2SeqBatcher::new(src_tok, tgt_tok, src_vocab, tgt_vocab, PaddingConfig::default())?;
/// let ids = batcher.encode(data.pairs());
/// assert_eq!(ids.decoder_input.ids, vec![2, 4, 5]);  // <bos> HH AY1
/// assert_eq!(ids.decoder_target.ids, vec![4, 5, 3]); // HH AY1 <eos>
/// let batch = batcher.batch(data.pairs().to_vec(), &Device::flex());
/// assert_eq!(batch.source.ids.dims(), [1, 2]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Seq2SeqBatcher {
    source_tokenizer: Arc<dyn Tokenizer>,
    target_tokenizer: Arc<dyn Tokenizer>,
    source_vocab: Arc<Vocab>,
    target_vocab: Arc<Vocab>,
    source_padding: PaddingConfig,
    target_padding: PaddingConfig,
    source_bos_eos: bool,
    bos: usize,
    eos: usize,
}

impl Seq2SeqBatcher {
    /// A batcher; `padding` applies to both sides (`max_len` counts `<bos>`/`<eos>`). Fails when
    /// the target vocabulary has no `<bos>`/`<eos>` or `padding` is invalid
    /// ([`PaddingConfig::validate`]).
    pub fn new(
        source_tokenizer: Arc<dyn Tokenizer>,
        target_tokenizer: Arc<dyn Tokenizer>,
        source_vocab: Arc<Vocab>,
        target_vocab: Arc<Vocab>,
        padding: PaddingConfig,
    ) -> Result<Self> {
        let (bos, eos) = target_vocab.require_bos_eos()?;
        padding.validate()?;
        Ok(Self {
            source_tokenizer,
            target_tokenizer,
            source_vocab,
            target_vocab,
            source_padding: padding.clone(),
            target_padding: padding,
            source_bos_eos: false,
            bos,
            eos,
        })
    }

    /// Uses a different padding for the target side. Fails when `padding` is invalid
    /// ([`PaddingConfig::validate`]).
    pub fn with_target_padding(mut self, padding: PaddingConfig) -> Result<Self> {
        padding.validate()?;
        self.target_padding = padding;
        Ok(self)
    }

    /// Wraps source sequences in `<bos>` … `<eos>` too (the source vocabulary must have them).
    pub fn with_source_bos_eos(mut self) -> Result<Self> {
        self.source_vocab.require_bos_eos()?;
        self.source_bos_eos = true;
        Ok(self)
    }

    /// The source vocabulary.
    pub fn source_vocab(&self) -> &Vocab {
        &self.source_vocab
    }

    /// The target vocabulary.
    pub fn target_vocab(&self) -> &Vocab {
        &self.target_vocab
    }

    /// The host-side work of a batch: tokenise, encode, shift, pad.
    pub fn encode(&self, pairs: &[TextPair]) -> Seq2SeqIds {
        let mut sources = Vec::with_capacity(pairs.len());
        let mut inputs = Vec::with_capacity(pairs.len());
        let mut targets = Vec::with_capacity(pairs.len());
        for pair in pairs {
            let mut source = Vec::new();
            if self.source_bos_eos {
                source.push(self.bos_of(&self.source_vocab));
            }
            source.extend(
                self.source_vocab
                    .encode(self.source_tokenizer.tokenize(&pair.source)),
            );
            if self.source_bos_eos {
                source.push(self.eos_of(&self.source_vocab));
            }
            sources.push(source);
            let target = self
                .target_vocab
                .encode(self.target_tokenizer.tokenize(&pair.target));
            let mut input = Vec::with_capacity(target.len() + 1);
            input.push(self.bos);
            input.extend_from_slice(&target);
            let mut output = target;
            output.push(self.eos);
            inputs.push(input);
            targets.push(output);
        }
        Seq2SeqIds {
            source: self.source_padding.pad_valid(&sources),
            decoder_input: self.target_padding.pad_valid(&inputs),
            decoder_target: self.target_padding.pad_valid(&targets),
        }
    }

    fn bos_of(&self, vocab: &Vocab) -> usize {
        vocab.bos_id().unwrap_or(self.bos)
    }

    fn eos_of(&self, vocab: &Vocab) -> usize {
        vocab.eos_id().unwrap_or(self.eos)
    }
}

impl Batcher<TextPair, Seq2SeqBatch> for Seq2SeqBatcher {
    fn batch(&self, items: Vec<TextPair>, device: &Device) -> Seq2SeqBatch {
        let ids = self.encode(&items);
        Seq2SeqBatch {
            source: ids.source.to_batch(device),
            decoder_input: ids.decoder_input.to_batch(device),
            decoder_target: ids.decoder_target.to_batch(device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::testing::assert_get_past_end_is_an_error;
    use crate::padding::TruncateSide;
    use crate::tokenizer::WhitespaceTokenizer;

    fn pairs() -> Seq2SeqDataset {
        Seq2SeqDataset::new(vec![
            TextPair {
                source: "a b".into(),
                target: "x y z".into(),
            },
            TextPair {
                source: "b".into(),
                target: "a".into(),
            },
        ])
    }

    #[test]
    fn shared_vocab_is_one_arc_with_both_sides() {
        let t = WhitespaceTokenizer::default();
        let (s, g) = pairs()
            .build_vocabs(&t, &t, &VocabConfig::default(), VocabSharing::Shared)
            .unwrap();
        assert!(Arc::ptr_eq(&s, &g));
        assert!(s.contains("x") && s.contains("a"));
        let (s, g) = pairs()
            .build_vocabs(&t, &t, &VocabConfig::default(), VocabSharing::Separate)
            .unwrap();
        assert!(!s.contains("x") && g.contains("x"));
        assert!(
            pairs()
                .build_vocabs(
                    &t,
                    &t,
                    &VocabConfig::default().with_bos_eos(false),
                    VocabSharing::Shared
                )
                .is_err()
        );
    }

    /// `get(len())` used to panic (slice indexing); now it is an error naming the dataset.
    #[test]
    fn get_past_the_end_is_an_error() {
        assert_get_past_end_is_an_error(&pairs(), "Seq2SeqDataset");
    }

    #[test]
    fn batcher_rejects_a_zero_max_len_on_either_side() {
        let t = Arc::new(WhitespaceTokenizer::default());
        let (s, g) = pairs()
            .build_vocabs(
                t.as_ref(),
                t.as_ref(),
                &VocabConfig::default(),
                VocabSharing::Separate,
            )
            .unwrap();
        let zero = PaddingConfig::default().with_max_len(0);
        let err = Seq2SeqBatcher::new(t.clone(), t.clone(), s.clone(), g.clone(), zero.clone())
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config {
                    config: "PaddingConfig",
                    ..
                }
            ),
            "{err}"
        );
        let err = Seq2SeqBatcher::new(t.clone(), t, s, g, PaddingConfig::default())
            .unwrap()
            .with_target_padding(zero)
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config {
                    config: "PaddingConfig",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn decoder_input_is_target_shifted_right_even_when_truncated() {
        let t = Arc::new(WhitespaceTokenizer::default());
        let (s, g) = pairs()
            .build_vocabs(
                t.as_ref(),
                t.as_ref(),
                &VocabConfig::default(),
                VocabSharing::Separate,
            )
            .unwrap();
        for truncate in [TruncateSide::End, TruncateSide::Start] {
            let padding = PaddingConfig::default()
                .with_max_len(3)
                .with_truncate(truncate);
            let batcher = Seq2SeqBatcher::new(t.clone(), t.clone(), s.clone(), g.clone(), padding)
                .unwrap()
                .with_source_bos_eos()
                .unwrap();
            let ids = batcher.encode(pairs().pairs());
            let inputs = ids.decoder_input.unpad();
            let targets = ids.decoder_target.unpad();
            for (input, target) in inputs.iter().zip(&targets) {
                assert_eq!(input.len(), target.len());
                assert_eq!(&input[1..], &target[..target.len() - 1]);
            }
            assert_eq!(ids.decoder_input.lengths, ids.decoder_target.lengths);
            assert_eq!(ids.source.unpad()[1], vec![2, s.id("b"), 3]);
        }
    }
}
