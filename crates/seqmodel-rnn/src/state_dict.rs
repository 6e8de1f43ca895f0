//! PyTorch state dicts as safetensors files: read, write, and load into / save from a layer.
//!
//! In Python, `safetensors.torch.save_file(model.rnn.state_dict(), "rnn.safetensors")` writes a
//! file [`StateDict::read`] reads, and `model.rnn.load_state_dict(load_file("out.safetensors"))`
//! accepts what [`StateDict::write`] writes. Keys are PyTorch's (`weight_ih_l0`,
//! `bias_hh_l1_reverse`, `weight_hr_l0`, ...), optionally under a prefix such as `encoder.rnn.`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{DType, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::{Error, Result};

/// Named tensors (and string metadata) as in a safetensors file: a PyTorch `state_dict`.
#[derive(Debug, Clone, Default)]
pub struct StateDict {
    source_name: String,
    tensors: BTreeMap<String, TensorData>,
    metadata: BTreeMap<String, String>,
}

impl StateDict {
    /// An empty state dict (its errors name it `<memory>`).
    pub fn new() -> Self {
        Self {
            source_name: "<memory>".to_string(),
            ..Self::default()
        }
    }

    /// Read a `.safetensors` file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path.display().to_string())
    }

    /// Parse the bytes of a safetensors file; `source_name` is what errors call it.
    pub fn from_bytes(bytes: &[u8], source_name: impl Into<String>) -> Result<Self> {
        let source_name = source_name.into();
        let invalid = |e: safetensors::SafeTensorError| Error::Safetensors {
            source_name: source_name.clone(),
            message: e.to_string(),
        };
        let parsed = SafeTensors::deserialize(bytes).map_err(invalid)?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
        let mut tensors = BTreeMap::new();
        for (name, view) in parsed.tensors() {
            let dtype = match view.dtype() {
                Dtype::F32 => DType::F32,
                Dtype::F64 => DType::F64,
                Dtype::F16 => DType::F16,
                Dtype::BF16 => DType::BF16,
                Dtype::I32 => DType::I32,
                Dtype::I64 => DType::I64,
                other => {
                    return Err(Error::UnsupportedDtype {
                        source_name,
                        key: name,
                        dtype: format!("{other:?}"),
                    });
                }
            };
            let data =
                TensorData::from_bytes_vec(view.data().to_vec(), view.shape().to_vec(), dtype);
            tensors.insert(name, data);
        }
        let metadata = header
            .metadata()
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Self {
            source_name,
            tensors,
            metadata,
        })
    }

    /// The bytes of a safetensors file holding every tensor and the metadata.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut views = Vec::with_capacity(self.tensors.len());
        for (name, data) in &self.tensors {
            let dtype = match data.dtype() {
                DType::F64 => Dtype::F64,
                DType::F16 => Dtype::F16,
                DType::BF16 => Dtype::BF16,
                DType::I64 => Dtype::I64,
                DType::I32 => Dtype::I32,
                DType::F32 => Dtype::F32,
                other => {
                    return Err(Error::UnsupportedDtype {
                        source_name: self.source_name.clone(),
                        key: name.clone(),
                        dtype: format!("{other:?}"),
                    });
                }
            };
            let view =
                safetensors::tensor::TensorView::new(dtype, data.shape().to_vec(), data.as_bytes())
                    .map_err(|e| Error::Safetensors {
                        source_name: self.source_name.clone(),
                        message: e.to_string(),
                    })?;
            views.push((name.clone(), view));
        }
        let metadata: Option<HashMap<String, String>> = (!self.metadata.is_empty()).then(|| {
            self.metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        safetensors::serialize(views, metadata).map_err(|e| Error::Safetensors {
            source_name: self.source_name.clone(),
            message: e.to_string(),
        })
    }

    /// Write a `.safetensors` file.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        std::fs::write(path, bytes).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// What errors call this state dict (the file path it was read from, or `<memory>`).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The tensor stored under `key`.
    pub fn get(&self, key: &str) -> Option<&TensorData> {
        self.tensors.get(key)
    }

    /// Store `data` under `key` (replacing any previous one).
    pub fn insert(&mut self, key: impl Into<String>, data: TensorData) {
        self.tensors.insert(key.into(), data);
    }

    /// Remove and return the tensor under `key`.
    pub fn remove(&mut self, key: &str) -> Option<TensorData> {
        self.tensors.remove(key)
    }

    /// Keep only the keys for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.tensors.retain(|k, _| keep(k));
    }

    /// Every key, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether it holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// The file's string metadata (safetensors `__metadata__`).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Set one metadata entry.
    pub fn set_metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.insert(key.into(), value.into());
    }
}

/// Hands a layer's parameters their values from a state dict, key by key, and remembers which
/// keys under the prefix were used so that leftovers are reported ([`Self::finish`]).
///
/// Every seqmodel module that imports PyTorch parameters loads through this: a missing key, a
/// wrong shape or a non-float tensor is an [`Error`] naming the source and the full key.
pub struct ParamSource<'a> {
    dict: &'a StateDict,
    prefix: &'a str,
    used: BTreeSet<String>,
}

impl<'a> ParamSource<'a> {
    /// Reads keys `prefix + name` of `dict`.
    pub fn new(dict: &'a StateDict, prefix: &'a str) -> Self {
        Self {
            dict,
            prefix,
            used: BTreeSet::new(),
        }
    }

    /// The float tensor under `prefix + name`, which must have shape `expected`; the key
    /// counts as used.
    pub fn data(&mut self, name: &str, expected: &[usize]) -> Result<TensorData> {
        let key = format!("{}{name}", self.prefix);
        let data = self.dict.get(&key).ok_or_else(|| Error::MissingKey {
            source_name: self.dict.source_name.clone(),
            key: key.clone(),
            expected: expected.to_vec(),
        })?;
        let found = data.shape().to_vec();
        if found != expected {
            return Err(Error::ShapeMismatch {
                source_name: self.dict.source_name.clone(),
                key,
                expected: expected.to_vec(),
                found,
            });
        }
        if !matches!(
            data.dtype(),
            DType::F32 | DType::F64 | DType::F16 | DType::BF16
        ) {
            return Err(Error::UnsupportedDtype {
                source_name: self.dict.source_name.clone(),
                key,
                dtype: format!("{:?} (a parameter must be a float tensor)", data.dtype()),
            });
        }
        self.used.insert(key);
        Ok(data.clone())
    }

    /// The value for a weight parameter `name` (without prefix), stored in the layout of
    /// `param`.
    pub fn take2(&mut self, param: Param<Tensor<2>>, name: &str) -> Result<Param<Tensor<2>>> {
        let current = param.val();
        let data = self.data(name, &current.dims())?;
        Ok(param.map(|old| replace_value(old, data)))
    }

    /// The value for a bias parameter `name` (without prefix).
    pub fn take1(&mut self, param: Param<Tensor<1>>, name: &str) -> Result<Param<Tensor<1>>> {
        let current = param.val();
        let data = self.data(name, &current.dims())?;
        Ok(param.map(|old| replace_value(old, data)))
    }

    /// A Burn `Linear` from PyTorch's `nn.Linear` keys `name.weight` (`[out, in]`, transposed
    /// to Burn's `[in, out]`) and, if the layer has a bias, `name.bias`.
    pub fn take_linear(&mut self, mut linear: Linear, name: &str) -> Result<Linear> {
        let [d_in, d_out] = linear.weight.val().dims();
        let data = self.data(&format!("{name}.weight"), &[d_out, d_in])?;
        let transposed = transpose_matrix(&data, d_out, d_in);
        linear.weight = linear.weight.map(|old| replace_value(old, transposed));
        linear.bias = match linear.bias {
            Some(bias) => Some(self.take1(bias, &format!("{name}.bias"))?),
            None => None,
        };
        Ok(linear)
    }

    /// Fails on the first key under the prefix that no parameter took.
    pub fn finish(self) -> Result<()> {
        for (key, data) in &self.dict.tensors {
            if key.starts_with(self.prefix) && !self.used.contains(key) {
                return Err(Error::UnexpectedKey {
                    source_name: self.dict.source_name.clone(),
                    key: key.clone(),
                    found: data.shape().to_vec(),
                });
            }
        }
        Ok(())
    }
}

/// `data`, a row-major `[rows, cols]` float matrix, as its `[cols, rows]` transpose in `f32`.
pub fn transpose_matrix(data: &TensorData, rows: usize, cols: usize) -> TensorData {
    let values: Vec<f32> = data.iter::<f32>().collect();
    let mut out = vec![0.0f32; rows * cols];
    for (r, row) in values.chunks(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    TensorData::new(out, [cols, rows])
}

/// A tensor holding `data`, on `old`'s device and in its dtype, tracked like `old`.
pub fn replace_value<const D: usize>(old: Tensor<D>, data: TensorData) -> Tensor<D> {
    let tensor = Tensor::<D>::from_data(data.convert_dtype(old.dtype()), &old.device());
    if old.is_require_grad() {
        tensor.require_grad()
    } else {
        tensor
    }
}

/// Collects a layer's parameters under their PyTorch names (prefix prepended).
pub struct ParamSink<'a> {
    dict: &'a mut StateDict,
    prefix: &'a str,
}

impl<'a> ParamSink<'a> {
    /// Writes keys `prefix + name` into `dict`.
    pub fn new(dict: &'a mut StateDict, prefix: &'a str) -> Self {
        Self { dict, prefix }
    }

    /// Stores `value` under `prefix + name`, as it is laid out.
    pub fn put<const D: usize>(&mut self, name: &str, value: Tensor<D>) {
        self.dict
            .insert(format!("{}{name}", self.prefix), value.into_data());
    }

    /// Stores a Burn `Linear` as PyTorch's `nn.Linear`: `name.weight` `[out, in]` and, if
    /// present, `name.bias`.
    pub fn put_linear(&mut self, name: &str, linear: &Linear) {
        let [d_in, d_out] = linear.weight.val().dims();
        let data = transpose_matrix(&linear.weight.val().into_data(), d_in, d_out);
        self.dict
            .insert(format!("{}{name}.weight", self.prefix), data);
        if let Some(bias) = &linear.bias {
            self.put(&format!("{name}.bias"), bias.val());
        }
    }
}
