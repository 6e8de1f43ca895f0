//! Character features of each word: a char-CNN or a char-BiLSTM over the word's characters,
//! one vector per word, computed from the real characters only (character padding and padding
//! words never change a real word's vector).

use burn::module::{Module, Param};
use burn::nn::{Embedding, Linear, LinearConfig};
use burn::tensor::{Device, Distribution, Int, Tensor};
use seqmodel_data::SequenceLengths;
use seqmodel_rnn::FastDropout;

use super::config::{CharConfig, CharKind};
use crate::encoder::{Encoder, EncoderConfig, EncoderKind};
use crate::error::Result;

/// Character id 0 is padding.
const CHAR_PAD: i64 = 0;

/// A word's characters embedded, then a width-`k` convolution (zero padding at both ends of
/// the word, `k / 2` characters each) and the maximum over the word's characters (Ma & Hovy
/// 2016). The convolution is one linear layer over each window of `k` embeddings laid side by
/// side (`[k * embedding_dim] -> [filters]`), which is what a `Conv1d` computes.
#[derive(Module, Debug)]
pub struct CharCnn {
    /// Character embeddings, `[chars, embedding_dim]`; row 0 (padding) stays unused.
    pub embedding: Embedding,
    /// The filters: `[kernel_size * embedding_dim] -> [filters]`, window position-major.
    pub conv: Linear,
    /// Characters per window (odd).
    pub kernel_size: usize,
}

impl CharCnn {
    /// Features per word: the number of filters.
    pub fn output_size(&self) -> usize {
        self.conv.weight.val().dims()[1]
    }

    /// # Shapes
    /// - `chars`: `[words, max_chars]` character ids, 0 after each word's last character
    /// - output: `[words, filters]`; exactly 0 for a word without characters
    fn forward(&self, chars: Tensor<2, Int>, dropout: &FastDropout) -> Tensor<2> {
        let [words, max_chars] = chars.dims();
        let device = chars.device();
        let valid = chars.clone().not_equal_elem(CHAR_PAD);
        let embedded = self.embedding.forward(chars);
        let dim = embedded.dims()[2];
        // Padding characters embed to 0, so the convolution sees zero padding past a word's end
        // whatever the batch's longest word is.
        let embedded = dropout.forward(embedded * valid.clone().float().unsqueeze_dim::<3>(2));
        let half = self.kernel_size / 2;
        let zeros = Tensor::<3>::zeros([words, half, dim], &device);
        let padded = Tensor::cat(vec![zeros.clone(), embedded, zeros], 1);
        let windows = Tensor::cat(
            (0..self.kernel_size)
                .map(|offset| padded.clone().narrow(1, offset, max_chars))
                .collect(),
            2,
        );
        let filters = self.output_size();
        let scores = self.conv.forward(windows);
        let invalid = valid.clone().bool_not().unsqueeze_dim::<3>(2);
        let pooled = scores
            .mask_fill(
                invalid.expand([words, max_chars, filters]),
                f32::NEG_INFINITY,
            )
            .max_dim(1)
            .squeeze_dim::<2>(1);
        let empty = valid
            .int()
            .sum_dim(1)
            .equal_elem(0)
            .expand([words, filters]);
        pooled.mask_fill(empty, 0.0)
    }
}

/// A bidirectional LSTM over each word's characters (the task's LSTM encoder); a word's
/// features are the forward direction's state after its last character and the reverse
/// direction's after its first (Lample et al. 2016).
#[derive(Module, Debug)]
pub struct CharLstm {
    /// Character embeddings, `[chars, embedding_dim]`.
    pub embedding: Embedding,
    /// The BiLSTM over the characters.
    pub lstm: Encoder,
}

impl CharLstm {
    /// Features per word: `2 * hidden_size`.
    pub fn output_size(&self) -> usize {
        self.lstm.output_size()
    }

    /// # Shapes
    /// - `chars`: `[words, max_chars]` character ids, 0 after each word's last character
    /// - `lengths`: `[words]` characters per word
    /// - output: `[words, 2 * hidden]`; exactly 0 for a word without characters
    fn forward(
        &self,
        chars: Tensor<2, Int>,
        lengths: &[usize],
        dropout: &FastDropout,
    ) -> Result<Tensor<2>> {
        let device = chars.device();
        let embedded = dropout.forward(self.embedding.forward(chars));
        // A padding word runs over one (zero-id) character and is zeroed below: the kernel then
        // never sees an empty sequence.
        let clamped: Vec<usize> = lengths.iter().map(|&n| n.max(1)).collect();
        let encoded = self
            .lstm
            .encode(embedded, &SequenceLengths::right(clamped))?;
        let words = lengths.len();
        let empty: Vec<bool> = lengths.iter().map(|&n| n == 0).collect();
        let empty = Tensor::<1, burn::tensor::Bool>::from_data(
            burn::tensor::TensorData::new(empty, [words]),
            &device,
        )
        .unsqueeze_dim::<2>(1)
        .expand([words, self.output_size()]);
        Ok(encoded.last.mask_fill(empty, 0.0))
    }
}

/// The character features a tagger holds: the module of [`CharConfig::kind`].
// `CharLstm` holds an `Encoder`, whose Transformer kind makes it large; built once, borrowed.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum CharFeatures {
    /// See [`CharCnn`].
    Cnn(CharCnn),
    /// See [`CharLstm`].
    Lstm(CharLstm),
}

impl CharFeatures {
    /// The module `config.kind` names for a character vocabulary of `chars` ids (`None` for
    /// [`CharKind::None`]). The config must have passed `TaggerConfig::validate`.
    pub(crate) fn init(config: &CharConfig, chars: usize, device: &Device) -> Result<Option<Self>> {
        let embedding = || {
            let weight = Tensor::<2>::random(
                [chars, config.embedding_dim],
                Distribution::Normal(0.0, 1.0),
                device,
            );
            Embedding {
                weight: Param::from_tensor(weight),
            }
        };
        Ok(match config.kind {
            CharKind::None => None,
            CharKind::Cnn => Some(Self::Cnn(CharCnn {
                embedding: embedding(),
                conv: LinearConfig::new(
                    config.kernel_size * config.embedding_dim,
                    config.hidden_size,
                )
                .init(device),
                kernel_size: config.kernel_size,
            })),
            CharKind::Lstm => {
                let encoder = EncoderConfig::new(EncoderKind::Lstm)
                    .with_hidden_size(config.hidden_size)
                    .with_bidirectional(true);
                Some(Self::Lstm(CharLstm {
                    embedding: embedding(),
                    lstm: Encoder::init(&encoder, config.embedding_dim, device)?,
                }))
            }
        })
    }

    /// Features per word.
    pub fn output_size(&self) -> usize {
        match self {
            Self::Cnn(cnn) => cnn.output_size(),
            Self::Lstm(lstm) => lstm.output_size(),
        }
    }

    /// One vector per position, computed once per distinct word.
    ///
    /// # Shapes
    /// - `char_words`: `[types, max_chars]` character ids of the distinct words, 0 at padding
    /// - `lengths`: `[types]` characters per distinct word
    /// - `index`: `[batch * time]` the row of `char_words` of each position
    /// - output: `[batch, time, output_size]`, 0 where the row is the empty word
    pub fn forward(
        &self,
        char_words: Tensor<2, Int>,
        lengths: &[usize],
        index: Tensor<1, Int>,
        [batch, time]: [usize; 2],
        dropout: &FastDropout,
    ) -> Result<Tensor<3>> {
        let features = match self {
            Self::Cnn(cnn) => cnn.forward(char_words, dropout),
            Self::Lstm(lstm) => lstm.forward(char_words, lengths, dropout)?,
        };
        Ok(features
            .select(0, index)
            .reshape([batch, time, self.output_size()]))
    }
}
