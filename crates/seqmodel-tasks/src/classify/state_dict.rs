//! [`TextClassifier`] parameters under PyTorch's names: the state dict of the benchmark's
//! `RNNClassifier` (`task1_sentiment.py`) loads into a classifier of the same architecture, and
//! [`TextClassifier::state_dict`] writes what its `load_state_dict` accepts.

use std::collections::BTreeSet;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{DType, Tensor, TensorData};
use seqmodel_rnn::{Error as RnnError, StateDict};

use super::TextClassifier;
use crate::error::Result;

/// The embedding's key: `[vocab, E]`.
pub const EMBEDDING_KEY: &str = "emb.weight";
/// The prefix of the encoder's keys (`rnn.weight_ih_l0`, ...).
pub const ENCODER_PREFIX: &str = "rnn.";
/// The prefix of the attention scorer's keys (`pool.proj.weight`, `pool.proj.bias`,
/// `pool.score.weight`), present only with attention pooling.
pub const ATTENTION_PREFIX: &str = "pool.";
/// The prefix of the output layer's keys (`fc.weight` `[classes, F]`, `fc.bias`).
pub const OUTPUT_PREFIX: &str = "fc.";

impl TextClassifier {
    /// Every parameter under its PyTorch name (see the table on [`TextClassifier`]), in
    /// PyTorch's layouts (linear weights `[out, in]`); write it with [`StateDict::write`].
    pub fn state_dict(&self) -> StateDict {
        let mut dict = self.encoder.state_dict(ENCODER_PREFIX);
        dict.insert(EMBEDDING_KEY, self.embedding.weight.val().into_data());
        put_linear(&mut dict, OUTPUT_PREFIX, &self.output);
        if let Some(attention) = &self.attention {
            put_linear(
                &mut dict,
                &format!("{ATTENTION_PREFIX}proj."),
                &attention.proj,
            );
            put_linear(
                &mut dict,
                &format!("{ATTENTION_PREFIX}score."),
                &attention.score,
            );
        }
        dict
    }

    /// Take every parameter from a PyTorch state dict with the names of [`Self::state_dict`]
    /// (for instance `RNNClassifier.state_dict()` saved with `safetensors.torch.save_file` and
    /// read with [`StateDict::read`]). Frozen parameters stay frozen.
    ///
    /// Strict: a missing key, a key the model does not have, a wrong shape or a non-float
    /// tensor is an error naming the key (and both shapes).
    pub fn load_state_dict(self, dict: &StateDict) -> Result<Self> {
        let mut keys = Keys {
            dict,
            used: BTreeSet::new(),
        };
        let encoder = self.encoder.load_state_dict(dict, ENCODER_PREFIX)?;
        let mut embedding = self.embedding;
        embedding.weight = keys.matrix(embedding.weight, EMBEDDING_KEY, false)?;
        let output = keys.linear(self.output, OUTPUT_PREFIX)?;
        let attention = match self.attention {
            Some(mut attention) => {
                attention.proj =
                    keys.linear(attention.proj, &format!("{ATTENTION_PREFIX}proj."))?;
                attention.score =
                    keys.linear(attention.score, &format!("{ATTENTION_PREFIX}score."))?;
                Some(attention)
            }
            None => None,
        };
        keys.finish()?;
        Ok(Self {
            embedding,
            encoder,
            attention,
            output,
            ..self
        })
    }
}

/// A Burn `Linear` (`weight` `[in, out]`) as PyTorch's `nn.Linear` (`weight` `[out, in]`).
fn put_linear(dict: &mut StateDict, prefix: &str, linear: &Linear) {
    dict.insert(
        format!("{prefix}weight"),
        linear.weight.val().transpose().into_data(),
    );
    if let Some(bias) = &linear.bias {
        dict.insert(format!("{prefix}bias"), bias.val().into_data());
    }
}

/// Hands parameters their values key by key and remembers which keys were used, so that
/// leftovers (outside the encoder's prefix, which the encoder checks itself) are reported.
struct Keys<'a> {
    dict: &'a StateDict,
    used: BTreeSet<String>,
}

impl Keys<'_> {
    /// The float tensor under `key`, of shape `expected`.
    fn data(&mut self, key: &str, expected: &[usize]) -> Result<TensorData> {
        let source_name = || self.dict.source_name().to_string();
        let data = self.dict.get(key).ok_or_else(|| RnnError::MissingKey {
            source_name: source_name(),
            key: key.to_string(),
            expected: expected.to_vec(),
        })?;
        if data.shape().as_slice() != expected {
            return Err(RnnError::ShapeMismatch {
                source_name: source_name(),
                key: key.to_string(),
                expected: expected.to_vec(),
                found: data.shape().to_vec(),
            }
            .into());
        }
        if !matches!(
            data.dtype(),
            DType::F32 | DType::F64 | DType::F16 | DType::BF16
        ) {
            return Err(RnnError::UnsupportedDtype {
                source_name: source_name(),
                key: key.to_string(),
                dtype: format!("{:?} (a parameter must be a float tensor)", data.dtype()),
            }
            .into());
        }
        self.used.insert(key.to_string());
        Ok(data.clone())
    }

    /// A matrix parameter from `key`; `transposed`: the file holds it as `[cols, rows]`
    /// (PyTorch's `nn.Linear` layout).
    fn matrix(
        &mut self,
        param: Param<Tensor<2>>,
        key: &str,
        transposed: bool,
    ) -> Result<Param<Tensor<2>>> {
        let [rows, cols] = param.val().dims();
        let data = if transposed {
            transpose(self.data(key, &[cols, rows])?, rows, cols)
        } else {
            self.data(key, &[rows, cols])?
        };
        Ok(param.map(|old| replace_value(old, data)))
    }

    /// A vector parameter from `key`.
    fn vector(&mut self, param: Param<Tensor<1>>, key: &str) -> Result<Param<Tensor<1>>> {
        let data = self.data(key, &param.val().dims())?;
        Ok(param.map(|old| replace_value(old, data)))
    }

    /// `prefix` + `weight` (transposed) and, if the layer has one, `bias`.
    fn linear(&mut self, mut linear: Linear, prefix: &str) -> Result<Linear> {
        linear.weight = self.matrix(linear.weight, &format!("{prefix}weight"), true)?;
        linear.bias = match linear.bias {
            Some(bias) => Some(self.vector(bias, &format!("{prefix}bias"))?),
            None => None,
        };
        Ok(linear)
    }

    /// Fail on the first key outside the encoder's prefix that no parameter took.
    fn finish(self) -> Result<()> {
        for key in self.dict.keys() {
            if !key.starts_with(ENCODER_PREFIX) && !self.used.contains(key) {
                let found = self
                    .dict
                    .get(key)
                    .map(|d| d.shape().to_vec())
                    .unwrap_or_default();
                return Err(RnnError::UnexpectedKey {
                    source_name: self.dict.source_name().to_string(),
                    key: key.to_string(),
                    found,
                }
                .into());
            }
        }
        Ok(())
    }
}

/// `data` (`[cols, rows]`, row-major, a float dtype) transposed to `[rows, cols]`, as `f32`.
fn transpose(data: TensorData, rows: usize, cols: usize) -> TensorData {
    // Float to f32 always converts (the dtype was checked by `Keys::data`).
    let values: Vec<f32> = data.iter::<f32>().collect();
    let mut out = vec![0.0f32; rows * cols];
    for (c, row) in values.chunks(rows).enumerate() {
        for (r, &v) in row.iter().enumerate() {
            out[r * cols + c] = v;
        }
    }
    TensorData::new(out, [rows, cols])
}

/// A tensor holding `data`, on `old`'s device and in its dtype, tracked like `old`.
fn replace_value<const D: usize>(old: Tensor<D>, data: TensorData) -> Tensor<D> {
    let tensor = Tensor::<D>::from_data(data.convert_dtype(old.dtype()), &old.device());
    if old.is_require_grad() {
        tensor.require_grad()
    } else {
        tensor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClassifierConfig, EncoderConfig, EncoderKind, Pooling};
    use burn::tensor::Device;

    fn small(kind: EncoderKind, pooling: Pooling) -> TextClassifier {
        ClassifierConfig::default()
            .with_embedding_dim(4)
            .with_encoder(
                EncoderConfig::new(kind)
                    .with_hidden_size(3)
                    .with_num_layers(2),
            )
            .with_pooling(pooling)
            .init(9, 3, 0, &Device::flex())
            .expect("valid config")
    }

    fn same(a: &StateDict, b: &StateDict) {
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for key in a.keys() {
            let (x, y) = (a.get(key).expect("key"), b.get(key).expect("key"));
            assert_eq!(x.shape(), y.shape(), "{key}");
            let x = x.clone().try_into_vec_as::<f32>().expect("f32");
            let y = y.clone().try_into_vec_as::<f32>().expect("f32");
            assert_eq!(x, y, "{key}");
        }
    }

    /// Names and layouts: `fc.weight` is `[classes, F]`, and a state dict moves every value
    /// from one model into another.
    #[test]
    fn state_dict_round_trips_between_two_models() {
        for pooling in [Pooling::Max, Pooling::Attention] {
            let a = small(EncoderKind::Lstm, pooling);
            let dict = a.state_dict();
            assert_eq!(
                dict.get("fc.weight").expect("fc").shape().as_slice(),
                &[3, 6]
            );
            assert_eq!(
                dict.get("emb.weight").expect("emb").shape().as_slice(),
                &[9, 4]
            );
            assert!(dict.get("rnn.weight_hh_l1_reverse").is_some());
            assert_eq!(
                dict.get("pool.score.weight").is_some(),
                pooling == Pooling::Attention
            );
            let b = small(EncoderKind::Lstm, pooling)
                .load_state_dict(&dict)
                .expect("loads");
            same(&dict, &b.state_dict());
        }
    }

    /// `fc.weight` in the file is `[out, in]`; Burn's `Linear` holds `[in, out]`.
    #[test]
    fn output_weight_is_transposed_on_load() {
        let model = small(EncoderKind::Gru, Pooling::Last);
        let mut dict = model.state_dict();
        let values: Vec<f32> = (0..18).map(|v| v as f32).collect();
        dict.insert("fc.weight", TensorData::new(values, [3, 6]));
        let model = model.load_state_dict(&dict).expect("loads");
        let burn = model
            .output
            .weight
            .val()
            .into_data()
            .try_into_vec_as::<f32>()
            .expect("f32");
        // Burn's [6, 3]: element [i, o] = file[o, i] = 6 o + i.
        assert_eq!(burn[0..3], [0.0, 6.0, 12.0]);
        assert_eq!(burn[3..6], [1.0, 7.0, 13.0]);
    }

    #[test]
    fn strict_missing_extra_and_misshaped_keys_are_named() {
        let model = small(EncoderKind::Rnn, Pooling::Last);
        let dict = model.state_dict();

        let mut missing = dict.clone();
        missing.remove("fc.bias");
        let err = small(EncoderKind::Rnn, Pooling::Last)
            .load_state_dict(&missing)
            .expect_err("missing");
        assert_eq!(
            err.to_string(),
            "<memory>: missing key \"fc.bias\" (expected shape [3])"
        );

        let mut extra = dict.clone();
        extra.insert("fc2.weight", TensorData::new(vec![0.0f32; 2], [2]));
        let err = small(EncoderKind::Rnn, Pooling::Last)
            .load_state_dict(&extra)
            .expect_err("extra");
        assert!(
            err.to_string().contains("unexpected key \"fc2.weight\""),
            "{err}"
        );

        let mut extra_rnn = dict.clone();
        extra_rnn.insert("rnn.weight_ih_l5", TensorData::new(vec![0.0f32; 2], [2]));
        let err = small(EncoderKind::Rnn, Pooling::Last)
            .load_state_dict(&extra_rnn)
            .expect_err("extra encoder key");
        assert!(err.to_string().contains("\"rnn.weight_ih_l5\""), "{err}");

        let mut shape = dict.clone();
        shape.insert("emb.weight", TensorData::new(vec![0.0f32; 40], [10, 4]));
        let err = small(EncoderKind::Rnn, Pooling::Last)
            .load_state_dict(&shape)
            .expect_err("wrong shape");
        assert_eq!(
            err.to_string(),
            "<memory>: key \"emb.weight\": expected shape [9, 4], found [10, 4]"
        );

        // A GRU's weights do not fit an LSTM: the gate count differs.
        let err = small(EncoderKind::Lstm, Pooling::Last)
            .load_state_dict(&small(EncoderKind::Gru, Pooling::Last).state_dict())
            .expect_err("GRU into LSTM");
        assert!(err.to_string().contains("rnn.weight_ih_l0"), "{err}");
    }
}
