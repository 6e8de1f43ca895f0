//! Pretrained word vectors in GloVe or word2vec text format, aligned to a [`Vocab`] and turned
//! into a Burn [`Embedding`].

use std::collections::HashMap;
use std::path::Path;

use burn::module::Param;
use burn::nn::Embedding;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result, excerpt};
use crate::rng::SplitMix64;
use crate::source::{numbered_lines, read_bytes, text_of};
use crate::vocab::Vocab;

/// Word vectors read from a text file: `token v1 v2 … vd` per line, optionally after a word2vec
/// header line `count dim`. Tokens may contain spaces (the last `d` fields are the vector).
///
/// ```
/// use std::path::Path;
/// use seqmodel_data::{AlignConfig, PretrainedEmbeddings, VocabConfig};
///
/// let text = b"the 0.1 0.2\ncat 0.3 0.4\n";
/// let vectors = PretrainedEmbeddings::parse(text, Path::new("glove.txt"))?;
/// let vocab = VocabConfig::default().build([["the", "dog"]])?;
/// let aligned = vectors.align(&vocab, &AlignConfig::default());
/// assert_eq!(aligned.coverage.found, 1); // "the" found, "dog" not
/// let embedding = aligned.init_embedding(&burn::tensor::Device::flex(), false);
/// assert_eq!(embedding.weight.dims(), [vocab.len(), 2]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainedEmbeddings {
    tokens: Vec<String>,
    index: HashMap<String, usize>,
    dim: usize,
    vectors: Vec<f32>,
}

impl PretrainedEmbeddings {
    /// Reads a GloVe / word2vec text file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::parse(&read_bytes(path)?, path)
    }

    /// Parses GloVe / word2vec text; `path` names the source in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let text = text_of(bytes, path, "word vectors")?;
        let mut tokens = Vec::new();
        let mut index = HashMap::new();
        let mut vectors = Vec::new();
        let mut dim: Option<usize> = None;
        let mut header: Option<(usize, usize)> = None;
        for (line_no, line) in numbered_lines(text) {
            let fields: Vec<&str> = line.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
            if fields.is_empty() {
                continue;
            }
            if tokens.is_empty()
                && header.is_none()
                && dim.is_none()
                && fields.len() == 2
                && let (Ok(count), Ok(d)) = (fields[0].parse::<usize>(), fields[1].parse::<usize>())
            {
                if d == 0 {
                    return Err(Error::Malformed {
                        at: Location::line(path, line_no),
                        expected: "a word2vec header \"count dim\" with dim >= 1".into(),
                        found: excerpt(line),
                    });
                }
                header = Some((count, d));
                dim = Some(d);
                continue;
            }
            let d = *dim.get_or_insert(fields.len() - 1);
            if d == 0 || fields.len() < d + 1 {
                return Err(Error::ColumnCount {
                    at: Location::line(path, line_no),
                    expected: d.max(1) + 1,
                    found: fields.len(),
                });
            }
            let split = fields.len() - d;
            let token = fields[..split].join(" ");
            let start = vectors.len();
            for (k, field) in fields[split..].iter().enumerate() {
                match field.parse::<f32>() {
                    Ok(v) if v.is_finite() => vectors.push(v),
                    _ => {
                        vectors.truncate(start);
                        return Err(Error::NotANumber {
                            at: Location::at(path, line_no, split + k + 1),
                            column: format!("dimension {}", k + 1),
                            found: excerpt(field),
                        });
                    }
                }
            }
            if index.contains_key(&token) {
                // Keep the first vector of a repeated token (files are sorted by frequency).
                vectors.truncate(start);
                continue;
            }
            index.insert(token.clone(), tokens.len());
            tokens.push(token);
        }
        let Some(dim) = dim else {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
                expected: "word vectors".into(),
            });
        };
        if let Some((count, _)) = header
            && count != tokens.len()
        {
            return Err(Error::Malformed {
                at: Location::line(path, 1),
                expected: format!(
                    "a header count equal to the number of vectors ({})",
                    tokens.len()
                ),
                found: count.to_string(),
            });
        }
        if tokens.is_empty() {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
                expected: "word vectors after the header".into(),
            });
        }
        Ok(Self {
            tokens,
            index,
            dim,
            vectors,
        })
    }

    /// Vector size.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are no vectors (never true after parsing).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The vector of `token`.
    pub fn vector(&self, token: &str) -> Option<&[f32]> {
        self.index
            .get(token)
            .map(|&i| &self.vectors[i * self.dim..(i + 1) * self.dim])
    }

    /// Standard deviation of all vector components (used for random rows).
    pub fn value_std(&self) -> f32 {
        let n = self.vectors.len().max(1) as f64;
        let mean = self.vectors.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = self
            .vectors
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        var.sqrt() as f32
    }

    /// A `[vocab.len(), dim]` weight matrix: found tokens get their vector, others a seeded
    /// random normal row, `<pad>` zeros (if `config.zero_pad`).
    pub fn align(&self, vocab: &Vocab, config: &AlignConfig) -> AlignedEmbeddings {
        let mut rng = SplitMix64::new(config.seed);
        let std = config.unknown_std.unwrap_or_else(|| self.value_std());
        let mut weights = Vec::with_capacity(vocab.len() * self.dim);
        let mut found = Vec::with_capacity(vocab.len());
        let mut coverage = EmbeddingCoverage::default();
        for (id, token) in vocab.tokens().iter().enumerate() {
            let special = vocab.is_special(id);
            if !special {
                coverage.total += 1;
            }
            let mut vector = self.vector(token);
            if vector.is_none() && config.lowercase_fallback && !special {
                vector = self.vector(&token.to_lowercase());
                if vector.is_some() {
                    coverage.lowercase_matches += 1;
                }
            }
            match vector {
                Some(v) if !special => {
                    weights.extend_from_slice(v);
                    coverage.found += 1;
                    found.push(true);
                }
                _ if id == vocab.pad_id() && config.zero_pad => {
                    weights.extend(std::iter::repeat_n(0.0, self.dim));
                    found.push(false);
                }
                _ => {
                    weights.extend((0..self.dim).map(|_| (rng.normal() as f32) * std));
                    found.push(false);
                }
            }
        }
        AlignedEmbeddings {
            weights,
            rows: vocab.len(),
            dim: self.dim,
            found,
            coverage,
        }
    }
}

/// How to align pretrained vectors with a vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignConfig {
    /// Seed of the random rows.
    pub seed: u64,
    /// Try the lowercased token when the token itself is missing.
    pub lowercase_fallback: bool,
    /// Std of random rows; `None` uses the std of the pretrained values.
    pub unknown_std: Option<f32>,
    /// Give `<pad>` a zero row.
    pub zero_pad: bool,
}

impl Default for AlignConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            lowercase_fallback: true,
            unknown_std: None,
            zero_pad: true,
        }
    }
}

/// How many vocabulary tokens (specials excluded) have a pretrained vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EmbeddingCoverage {
    /// Tokens with a vector (lowercase matches included).
    pub found: usize,
    /// Of those, found only through the lowercase fallback.
    pub lowercase_matches: usize,
    /// Non-special tokens.
    pub total: usize,
}

impl EmbeddingCoverage {
    /// `found / total` (1 when there are no tokens).
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.found as f64 / self.total as f64
        }
    }
}

/// Weights aligned to a vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignedEmbeddings {
    /// `[rows, dim]` row-major.
    pub weights: Vec<f32>,
    /// Vocabulary size.
    pub rows: usize,
    /// Vector size.
    pub dim: usize,
    /// Whether row `i` came from the pretrained file.
    pub found: Vec<bool>,
    /// Coverage of the vocabulary.
    pub coverage: EmbeddingCoverage,
}

impl AlignedEmbeddings {
    /// A Burn `Embedding` (`[rows, dim]`) initialised with these weights; `trainable = false`
    /// freezes it (no gradient is computed for it).
    pub fn init_embedding(&self, device: &Device, trainable: bool) -> Embedding {
        let tensor = Tensor::<2>::from_data(
            TensorData::new(self.weights.clone(), [self.rows, self.dim]),
            device,
        );
        Embedding {
            weight: Param::from_tensor(tensor).set_require_grad(trainable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::VocabConfig;
    use burn::tensor::Int;

    #[test]
    fn word2vec_header_and_tokens_with_spaces() {
        let text = b"2 3\nnew york 1 2 3\nthe 4 5 6\n";
        let e = PretrainedEmbeddings::parse(text, Path::new("w")).unwrap();
        assert_eq!(e.dim(), 3);
        assert_eq!(e.vector("new york"), Some(&[1.0f32, 2.0, 3.0][..]));
        let bad_count = b"3 3\nthe 4 5 6\n";
        assert!(PretrainedEmbeddings::parse(bad_count, Path::new("w")).is_err());
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = PretrainedEmbeddings::parse(b"a 1 2\nb 3 x\n", Path::new("g")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "g:2:3: column \"dimension 2\": expected a number, found \"x\""
        );
        let err = PretrainedEmbeddings::parse(b"a 1 2\nb 3\n", Path::new("g")).unwrap_err();
        assert_eq!(err.to_string(), "g:2: expected 3 columns, found 2");
    }

    #[test]
    fn alignment_copies_found_rows_and_reports_coverage() {
        let e = PretrainedEmbeddings::parse(b"cat 1 2\ndog 3 4\n", Path::new("g")).unwrap();
        let vocab = VocabConfig::default()
            .build([["Dog", "cat", "emu"]])
            .unwrap();
        let a = e.align(&vocab, &AlignConfig::default());
        let row = |t: &str| {
            let i = vocab.id(t);
            &a.weights[i * 2..i * 2 + 2]
        };
        assert_eq!(row("cat"), [1.0, 2.0]);
        assert_eq!(row("Dog"), [3.0, 4.0]);
        assert_eq!(row("<pad>"), [0.0, 0.0]);
        assert!(row("emu").iter().all(|v| v.is_finite() && *v != 0.0));
        assert_eq!(
            a.coverage,
            EmbeddingCoverage {
                found: 2,
                lowercase_matches: 1,
                total: 3
            }
        );
        // Same seed, same random rows.
        assert_eq!(a, e.align(&vocab, &AlignConfig::default()));
    }

    #[test]
    fn frozen_embedding_gets_no_gradient_and_trainable_does() {
        let e = PretrainedEmbeddings::parse(b"a 1 2\nb 3 4\n", Path::new("g")).unwrap();
        let vocab = VocabConfig::default().build([["a", "b"]]).unwrap();
        let aligned = e.align(&vocab, &AlignConfig::default());
        let device = Device::flex().autodiff();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(vec![4i64, 5], [1, 2]), &device);
        for trainable in [false, true] {
            let emb = aligned.init_embedding(&device, trainable);
            let scale = Tensor::<3>::ones([1, 2, 2], &device).require_grad();
            let out = emb.forward(ids.clone());
            let values: Vec<f32> = out.to_data().iter::<f32>().collect();
            assert_eq!(values, vec![1.0, 2.0, 3.0, 4.0]);
            let grads = (out * scale.clone()).sum().backward();
            assert!(scale.grad(&grads).is_some());
            assert_eq!(emb.weight.val().grad(&grads).is_some(), trainable);
        }
    }
}
