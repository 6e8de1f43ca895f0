//! Sequence → class: texts with one label each, from a CSV/TSV file (columns by name) or from
//! one file per class with one example per line (as rt-polarity).

use std::path::Path;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::bounds::{cloned_item, get_each};
use crate::error::Result;
use crate::labels::LabelSet;
use crate::padding::{PaddedBatch, PaddedIds, PaddingConfig};
use crate::source::{numbered_lines, read_bytes, text_of};
use crate::split::{Split, SplitRatios};
use crate::table::{Table, TableFormat};
use crate::tokenizer::Tokenizer;
use crate::vocab::{Vocab, VocabConfig};

/// One text and its class id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextClassItem {
    /// The raw text.
    pub text: String,
    /// Class id in the dataset's [`LabelSet`].
    pub label: usize,
}

/// Texts with class labels, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextClassificationDataset {
    items: Vec<TextClassItem>,
    labels: LabelSet,
}

impl TextClassificationDataset {
    /// Wraps items whose labels index into `labels` (out-of-range labels are an error).
    pub fn new(items: Vec<TextClassItem>, labels: LabelSet) -> Result<Self> {
        for item in &items {
            labels.name(item.label)?;
        }
        Ok(Self { items, labels })
    }

    /// Texts and labels from two columns of a table; labels get sorted ids. Empty texts or
    /// labels are errors naming the line.
    pub fn from_table(table: &Table, text_column: &str, label_column: &str) -> Result<Self> {
        let texts = table.nonempty_text_column(text_column)?;
        let names = table.nonempty_text_column(label_column)?;
        let names: Vec<&str> = names.into_iter().map(str::trim).collect();
        let labels = LabelSet::sorted(&names);
        let items = texts
            .into_iter()
            .zip(&names)
            .map(|(text, name)| {
                Ok(TextClassItem {
                    text: text.to_string(),
                    label: labels.id(name)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { items, labels })
    }

    /// Reads a CSV/TSV file and takes texts and labels from the named columns.
    pub fn read_table(
        path: impl AsRef<Path>,
        format: TableFormat,
        text_column: &str,
        label_column: &str,
    ) -> Result<Self> {
        Self::from_table(&Table::read(path, format)?, text_column, label_column)
    }

    /// One file per class, one example per non-blank line (trailing whitespace trimmed). Label
    /// ids follow the order of `classes`.
    pub fn read_files_per_class<P: AsRef<Path>>(classes: &[(&str, P)]) -> Result<Self> {
        let mut files = Vec::with_capacity(classes.len());
        for (name, path) in classes {
            files.push((
                *name,
                read_bytes(path.as_ref())?,
                path.as_ref().to_path_buf(),
            ));
        }
        let parts: Vec<(&str, &[u8], &Path)> = files
            .iter()
            .map(|(name, bytes, path)| (*name, bytes.as_slice(), path.as_path()))
            .collect();
        Self::parse_files_per_class(&parts)
    }

    /// [`Self::read_files_per_class`] on in-memory contents: `(label, bytes, name for errors)`.
    pub fn parse_files_per_class(classes: &[(&str, &[u8], &Path)]) -> Result<Self> {
        let labels = LabelSet::new(classes.iter().map(|(name, _, _)| *name))?;
        let mut items = Vec::new();
        for (label, (_, bytes, path)) in classes.iter().enumerate() {
            let text = text_of(bytes, path, "one example per line")?;
            for (_, line) in numbered_lines(text) {
                let line = line.trim_end();
                if !line.trim().is_empty() {
                    items.push(TextClassItem {
                        text: line.to_string(),
                        label,
                    });
                }
            }
        }
        Ok(Self { items, labels })
    }

    /// The examples.
    pub fn items(&self) -> &[TextClassItem] {
        &self.items
    }

    /// The class names.
    pub fn labels(&self) -> &LabelSet {
        &self.labels
    }

    /// Number of examples per class, in id order.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.labels.len()];
        for item in &self.items {
            counts[item.label] += 1;
        }
        counts
    }

    /// A seeded split that keeps class proportions: `[train, valid, test]`.
    pub fn stratified_split(&self, ratios: SplitRatios, seed: u64) -> [Self; 3] {
        let labels: Vec<usize> = self.items.iter().map(|i| i.label).collect();
        let split = Split::stratified(&labels, ratios, seed);
        split.select(&self.items).map(|items| Self {
            items,
            labels: self.labels.clone(),
        })
    }

    /// Builds a vocabulary from the tokenised texts (use the training split only).
    pub fn build_vocab(&self, tokenizer: &dyn Tokenizer, config: &VocabConfig) -> Result<Vocab> {
        config.build(self.items.iter().map(|i| tokenizer.tokenize(&i.text)))
    }
}

impl Dataset<TextClassItem> for TextClassificationDataset {
    /// The item at `index`; past the end, an [`Error::IndexOutOfBounds`](crate::Error)
    /// inside the `DatasetError`.
    fn get(&self, index: usize) -> std::result::Result<TextClassItem, DatasetError> {
        cloned_item(&self.items, index, "TextClassificationDataset")
    }

    fn get_many(
        &self,
        indexes: Vec<usize>,
    ) -> std::result::Result<Vec<TextClassItem>, DatasetError> {
        get_each(self, indexes)
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}

/// A batch for classification.
#[derive(Debug, Clone)]
pub struct TextClassificationBatch {
    /// Token ids `[batch, time]`, mask `[batch, time]` (`true` = padding) and lengths.
    pub tokens: PaddedBatch,
    /// Class ids, `[batch]`.
    pub labels: Tensor<1, Int>,
}

/// Tokenises, encodes and pads [`TextClassItem`]s.
///
/// ```
/// use std::sync::Arc;
/// use burn::data::dataloader::batcher::Batcher;
/// use burn::tensor::Device;
/// use seqmodel_data::*;
///
/// let tokenizer = Arc::new(WhitespaceTokenizer::default());
/// let vocab = Arc::new(VocabConfig::default().build([["good", "film"], ["bad", "film"]])?);
/// let batcher = TextClassificationBatcher::new(tokenizer, vocab, PaddingConfig::default())?;
/// let items = vec![
///     TextClassItem { text: "good film".into(), label: 1 },
///     TextClassItem { text: "bad".into(), label: 0 },
/// ];
/// let batch = batcher.batch(items, &Device::flex());
/// assert_eq!(batch.tokens.ids.dims(), [2, 2]);
/// assert_eq!(batch.tokens.lengths().as_slice(), &[2, 1]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TextClassificationBatcher {
    tokenizer: Arc<dyn Tokenizer>,
    vocab: Arc<Vocab>,
    padding: PaddingConfig,
}

impl TextClassificationBatcher {
    /// A batcher with this tokeniser, vocabulary and padding (its `pad_id` should be the
    /// vocabulary's `<pad>`, 0). Fails when `padding` is invalid ([`PaddingConfig::validate`]).
    pub fn new(
        tokenizer: Arc<dyn Tokenizer>,
        vocab: Arc<Vocab>,
        padding: PaddingConfig,
    ) -> Result<Self> {
        padding.validate()?;
        Ok(Self {
            tokenizer,
            vocab,
            padding,
        })
    }

    /// The host-side work of a batch: tokenise, encode, pad. Returns the padded ids and labels.
    pub fn encode(&self, items: &[TextClassItem]) -> (PaddedIds, Vec<usize>) {
        let ids: Vec<Vec<usize>> = items
            .iter()
            .map(|item| self.vocab.encode(self.tokenizer.tokenize(&item.text)))
            .collect();
        let labels = items.iter().map(|i| i.label).collect();
        (self.padding.pad_valid(&ids), labels)
    }
}

impl Batcher<TextClassItem, TextClassificationBatch> for TextClassificationBatcher {
    fn batch(&self, items: Vec<TextClassItem>, device: &Device) -> TextClassificationBatch {
        let (padded, labels) = self.encode(&items);
        let labels: Vec<i64> = labels.into_iter().map(|l| l as i64).collect();
        let n = labels.len();
        TextClassificationBatch {
            tokens: padded.to_batch(device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::testing::assert_get_past_end_is_an_error;
    use crate::error::Error;
    use crate::tokenizer::WhitespaceTokenizer;

    #[test]
    fn table_columns_by_name_with_sorted_label_ids() {
        let csv = b"id,label,text\n1,pos,great fun\n2,neg,dull\n3,pos,\"fine, really\"\n";
        let table = Table::parse(csv, Path::new("r.csv"), TableFormat::csv()).unwrap();
        let data = TextClassificationDataset::from_table(&table, "text", "label").unwrap();
        assert_eq!(data.labels().names(), ["neg", "pos"]);
        assert_eq!(data.items()[2].text, "fine, really");
        assert_eq!(data.class_counts(), vec![1, 2]);
        assert!(matches!(
            TextClassificationDataset::from_table(&table, "review", "label"),
            Err(Error::MissingColumn { .. })
        ));
    }

    #[test]
    fn empty_text_cell_is_an_error_with_its_line() {
        let csv = b"label,text\npos,ok\nneg,\n";
        let table = Table::parse(csv, Path::new("r.csv"), TableFormat::csv()).unwrap();
        let err = TextClassificationDataset::from_table(&table, "text", "label").unwrap_err();
        assert!(err.to_string().starts_with("r.csv:3:2:"), "{err}");
    }

    #[test]
    fn files_per_class_skip_blank_lines() {
        let neg: &[u8] = b"bad movie \n\nawful \n";
        let pos: &[u8] = b"good \n";
        let data = TextClassificationDataset::parse_files_per_class(&[
            ("neg", neg, Path::new("x.neg")),
            ("pos", pos, Path::new("x.pos")),
        ])
        .unwrap();
        assert_eq!(data.len(), 3);
        assert_eq!(data.items()[0].text, "bad movie");
        assert_eq!(data.get(2).unwrap().label, 1);
    }

    /// `get(len())` used to panic (slice indexing); now it is an error naming the dataset.
    #[test]
    fn get_past_the_end_is_an_error() {
        let neg: &[u8] = b"bad\n";
        let pos: &[u8] = b"good\n";
        let data = TextClassificationDataset::parse_files_per_class(&[
            ("neg", neg, Path::new("x.neg")),
            ("pos", pos, Path::new("x.pos")),
        ])
        .unwrap();
        assert_get_past_end_is_an_error(&data, "TextClassificationDataset");
    }

    #[test]
    fn batcher_rejects_a_zero_max_len() {
        let vocab = Arc::new(VocabConfig::default().build([["a"]]).unwrap());
        let err = TextClassificationBatcher::new(
            Arc::new(WhitespaceTokenizer::default()),
            vocab,
            PaddingConfig::default().with_max_len(0),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::Config {
                config: "PaddingConfig",
                field: "max_len",
                ..
            }
        ));
    }

    #[test]
    fn batcher_encodes_unknown_words_and_labels() {
        let data = TextClassificationDataset::new(
            vec![
                TextClassItem {
                    text: "a b".into(),
                    label: 0,
                },
                TextClassItem {
                    text: "b zzz c".into(),
                    label: 1,
                },
            ],
            LabelSet::new(["x", "y"]).unwrap(),
        )
        .unwrap();
        let tokenizer = Arc::new(WhitespaceTokenizer::default());
        let vocab = data
            .build_vocab(tokenizer.as_ref(), &VocabConfig::default().with_min_freq(2))
            .unwrap();
        assert_eq!(vocab.tokens()[4..], ["b"]);
        let batcher =
            TextClassificationBatcher::new(tokenizer, Arc::new(vocab), PaddingConfig::default())
                .unwrap();
        let batch = batcher.batch(data.items().to_vec(), &Device::flex());
        assert_eq!(batch.tokens.unpad(), vec![vec![1, 4], vec![4, 1, 1]]);
        let labels: Vec<i64> = batch.labels.to_data().iter::<i64>().collect();
        assert_eq!(labels, vec![0, 1]);
    }
}
