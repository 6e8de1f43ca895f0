//! Multi-head attention (Vaswani et al. 2017) with PyTorch's `nn.MultiheadAttention`
//! parameters, exact zero weight on masked keys, and per-head weights.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use seqmodel_rnn::{ParamSink, ParamSource, StateDict, replace_value, transpose_matrix};

use crate::attention::{Attended, Attention, check_inputs, masked_softmax, score_mask};
use crate::error::AttentionError;
use crate::step_decoder::SelectRows;

const MODULE: &str = "MultiHeadAttention";

/// Configuration of [`MultiHeadAttention`].
#[derive(Config, Debug, PartialEq)]
pub struct MultiHeadAttentionConfig {
    /// Model width `d` (queries, keys, values and output); a multiple of `num_heads`.
    pub d_model: usize,
    /// Number of heads `h`; each attends in `d / h` dimensions.
    pub num_heads: usize,
    /// Dropout on the attention weights while training (PyTorch's `dropout`).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Whether the four projections have biases (PyTorch's `bias`).
    #[config(default = true)]
    pub bias: bool,
}

impl MultiHeadAttentionConfig {
    /// Checks the sizes: `d_model` a positive multiple of `num_heads`, dropout in `[0, 1)`.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field, message: String| AttentionError::Config {
            config: "MultiHeadAttentionConfig",
            field,
            message,
        };
        if self.num_heads == 0 {
            return Err(bad("num_heads", "must be at least 1".into()));
        }
        if self.d_model == 0 || !self.d_model.is_multiple_of(self.num_heads) {
            return Err(bad(
                "d_model",
                format!(
                    "is {} but must be a positive multiple of num_heads ({})",
                    self.d_model, self.num_heads
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(bad(
                "dropout",
                format!("is {} but must be in [0, 1)", self.dropout),
            ));
        }
        Ok(())
    }

    /// Builds the module on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<MultiHeadAttention> {
        self.validate()?;
        let linear = || {
            LinearConfig::new(self.d_model, self.d_model)
                .with_bias(self.bias)
                .init(device)
        };
        Ok(MultiHeadAttention {
            query: linear(),
            key: linear(),
            value: linear(),
            output: linear(),
            dropout: DropoutConfig::new(self.dropout).init(),
            num_heads: self.num_heads,
        })
    }
}

/// What [`MultiHeadAttention::forward`] returns.
#[derive(Debug, Clone)]
pub struct MultiHeadAttended {
    /// Output: `[batch, q, d]`.
    pub context: Tensor<3>,
    /// Each head's weights: `[batch, heads, q, k]` (before dropout), exactly 0 on masked keys.
    pub head_weights: Tensor<4>,
}

impl MultiHeadAttended {
    /// The weights averaged over heads, `[batch, q, k]` (PyTorch's default
    /// `average_attn_weights=True`).
    pub fn mean_weights(&self) -> Tensor<3> {
        self.head_weights.clone().mean_dim(1).squeeze_dim::<3>(1)
    }
}

/// Keys and values projected and split into heads ([`MultiHeadAttention::project_keys`]):
/// `keys` and `values` `[batch, heads, k, d / heads]`.
#[derive(Debug, Clone)]
pub struct HeadKeys {
    /// Projected keys `[batch, heads, k, d / heads]`.
    pub keys: Tensor<4>,
    /// Projected values `[batch, heads, k, d / heads]`.
    pub values: Tensor<4>,
}

impl HeadKeys {
    /// Number of keys `k`.
    pub fn len(&self) -> usize {
        self.keys.dims()[2]
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `self`'s keys followed by `next`'s (same batch and heads): a decoder's cache growing
    /// by one step.
    pub fn cat(self, next: HeadKeys) -> HeadKeys {
        HeadKeys {
            keys: Tensor::cat(vec![self.keys, next.keys], 2),
            values: Tensor::cat(vec![self.values, next.values], 2),
        }
    }
}

impl SelectRows for HeadKeys {
    fn select_rows(self, rows: Tensor<1, Int>) -> Self {
        HeadKeys {
            keys: self.keys.select(0, rows.clone()),
            values: self.values.select(0, rows),
        }
    }
}

/// Multi-head attention: queries, keys and values projected, split into `h` heads of
/// `d / h` features, scaled dot-product attention in each, heads concatenated and projected.
///
/// Parameters map one to one onto PyTorch's `nn.MultiheadAttention` (same `d` for queries,
/// keys and values): `in_proj_weight` `[3d, d]` is the query, key and value projections
/// stacked; `out_proj` is the output projection ([`Self::load_state_dict`],
/// [`Self::state_dict`]).
#[derive(Module, Debug)]
pub struct MultiHeadAttention {
    /// Query projection `[d] → [d]`.
    pub query: Linear,
    /// Key projection `[d] → [d]`.
    pub key: Linear,
    /// Value projection `[d] → [d]`.
    pub value: Linear,
    /// Output projection `[d] → [d]`.
    pub output: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Number of heads.
    pub num_heads: usize,
}

impl MultiHeadAttention {
    /// Model width `d`.
    pub fn d_model(&self) -> usize {
        self.query.weight.dims()[0]
    }

    /// Attend, with an optional key padding mask `[batch, k]` and attention mask `[q, k]`
    /// (`true` = masked; e.g. [`crate::causal_mask`]).
    ///
    /// # Shapes
    /// `query` `[batch, q, d]`, `key` and `value` `[batch, k, d]` → [`MultiHeadAttended`].
    pub fn forward(
        &self,
        query: Tensor<3>,
        key: Tensor<3>,
        value: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
        attn_mask: Option<Tensor<2, Bool>>,
    ) -> crate::Result<MultiHeadAttended> {
        let d = self.d_model();
        check_inputs(MODULE, &query, &key, &value, Some(d), Some(d))?;
        let heads = self.project_keys(key, value)?;
        self.attend_heads(query, &heads, key_padding_mask, attn_mask)
    }

    /// Keys and values through their projections, split into heads: what
    /// [`Self::attend_heads`] attends over. A decoder projects its memory once per sentence
    /// and its own past steps once each ([`HeadKeys::cat`]), instead of at every step.
    ///
    /// # Shapes
    /// `key` and `value` `[batch, k, d]` → [`HeadKeys`] `[batch, heads, k, d / heads]`.
    pub fn project_keys(&self, key: Tensor<3>, value: Tensor<3>) -> crate::Result<HeadKeys> {
        let d = self.d_model();
        let [batch, k, dk] = key.dims();
        if dk != d {
            return Err(AttentionError::Shape {
                module: MODULE,
                what: "keys",
                found: key.dims().to_vec(),
                expected: format!("[batch, k, {d}] (d_model features)"),
            });
        }
        if value.dims() != [batch, k, d] {
            return Err(AttentionError::Shape {
                module: MODULE,
                what: "values",
                found: value.dims().to_vec(),
                expected: format!("[{batch}, {k}, {d}] (one value per key, d_model features)"),
            });
        }
        let h = self.num_heads;
        let heads = |x: Tensor<3>| x.reshape([batch, k, h, d / h]).swap_dims(1, 2);
        Ok(HeadKeys {
            keys: heads(self.key.forward(key)),
            values: heads(self.value.forward(value)),
        })
    }

    /// Attend over keys and values already projected ([`Self::project_keys`]), with an
    /// optional key padding mask `[batch, k]` and attention mask `[q, k]` (`true` = masked).
    ///
    /// # Shapes
    /// `query` `[batch, q, d]`, `heads` `[batch, heads, k, d / heads]` →
    /// [`MultiHeadAttended`].
    pub fn attend_heads(
        &self,
        query: Tensor<3>,
        heads: &HeadKeys,
        key_padding_mask: Option<Tensor<2, Bool>>,
        attn_mask: Option<Tensor<2, Bool>>,
    ) -> crate::Result<MultiHeadAttended> {
        let d = self.d_model();
        let h = self.num_heads;
        let [batch, q, dq] = query.dims();
        if dq != d {
            return Err(AttentionError::Shape {
                module: MODULE,
                what: "query",
                found: query.dims().to_vec(),
                expected: format!("[batch, q, {d}] (d_model features)"),
            });
        }
        let [kb, kh, k, kd] = heads.keys.dims();
        if kb != batch || kh != h || kd != d / h || heads.values.dims() != [kb, kh, k, kd] {
            return Err(AttentionError::Shape {
                module: MODULE,
                what: "projected keys",
                found: heads.keys.dims().to_vec(),
                expected: format!("[{batch}, {h}, k, {}] (the query's batch, heads)", d / h),
            });
        }
        let mask = score_mask(MODULE, [batch, q, k], key_padding_mask, attn_mask)?;
        let qh = self
            .query
            .forward(query)
            .reshape([batch, q, h, d / h])
            .swap_dims(1, 2)
            .reshape([batch * h, q, d / h]);
        let kh = heads.keys.clone().reshape([batch * h, k, d / h]);
        let vh = heads.values.clone().reshape([batch * h, k, d / h]);
        let scores = qh.matmul(kh.swap_dims(1, 2)) / ((d / h) as f64).sqrt();
        let mask = mask.map(|m| {
            m.unsqueeze_dim::<4>(1)
                .expand([batch, h, q, k])
                .reshape([batch * h, q, k])
        });
        let weights = masked_softmax(scores, mask);
        let context = self
            .dropout
            .forward(weights.clone())
            .matmul(vh)
            .reshape([batch, h, q, d / h])
            .swap_dims(1, 2)
            .reshape([batch, q, d]);
        Ok(MultiHeadAttended {
            context: self.output.forward(context),
            head_weights: weights.reshape([batch, h, q, k]),
        })
    }

    /// Takes the parameters of a PyTorch `nn.MultiheadAttention` from `dict`, keys under
    /// `prefix`: `in_proj_weight` `[3d, d]`, `in_proj_bias` `[3d]` (with bias),
    /// `out_proj.weight`, `out_proj.bias`. Strict: a missing, extra or misshaped key is an
    /// error naming it.
    pub fn load_state_dict(mut self, dict: &StateDict, prefix: &str) -> crate::Result<Self> {
        let mut source = ParamSource::new(dict, prefix);
        take_in_proj(
            &mut source,
            "",
            [&mut self.query, &mut self.key, &mut self.value],
        )?;
        self.output = source.take_linear(self.output, "out_proj")?;
        source.finish()?;
        Ok(self)
    }

    /// The parameters under PyTorch's `nn.MultiheadAttention` names (keys under `prefix`).
    pub fn state_dict(&self, prefix: &str) -> StateDict {
        let mut dict = StateDict::new();
        let mut sink = ParamSink::new(&mut dict, prefix);
        put_in_proj(&mut sink, "", [&self.query, &self.key, &self.value]);
        sink.put_linear("out_proj", &self.output);
        dict
    }
}

/// Sets the query, key and value projections (`d → d` each) from PyTorch's packed
/// `{name}in_proj_weight` `[3d, d]` and, when they have biases, `{name}in_proj_bias` `[3d]`.
pub(crate) fn take_in_proj(
    source: &mut ParamSource<'_>,
    name: &str,
    linears: [&mut Linear; 3],
) -> crate::Result<()> {
    let d = linears[0].weight.dims()[0];
    let weight: Vec<f32> = source
        .data(&format!("{name}in_proj_weight"), &[3 * d, d])?
        .iter::<f32>()
        .collect();
    let bias: Option<Vec<f32>> = if linears[0].bias.is_some() {
        Some(
            source
                .data(&format!("{name}in_proj_bias"), &[3 * d])?
                .iter::<f32>()
                .collect(),
        )
    } else {
        None
    };
    for (i, linear) in linears.into_iter().enumerate() {
        let rows = TensorData::new(weight[i * d * d..(i + 1) * d * d].to_vec(), [d, d]);
        let transposed = transpose_matrix(&rows, d, d);
        linear.weight = linear
            .weight
            .clone()
            .map(|old| replace_value(old, transposed));
        if let (Some(b), Some(all)) = (linear.bias.clone(), &bias) {
            let part = TensorData::new(all[i * d..(i + 1) * d].to_vec(), [d]);
            linear.bias = Some(b.map(|old| replace_value(old, part)));
        }
    }
    Ok(())
}

/// Writes the query, key and value projections as PyTorch's packed `{name}in_proj_weight`
/// `[3d, d]` and, with biases, `{name}in_proj_bias` `[3d]`.
pub(crate) fn put_in_proj(sink: &mut ParamSink<'_>, name: &str, linears: [&Linear; 3]) {
    let d = linears[0].weight.dims()[0];
    let mut weight = Vec::with_capacity(3 * d * d);
    let mut bias = Vec::with_capacity(3 * d);
    for linear in linears {
        let rows = transpose_matrix(&linear.weight.val().into_data(), d, d);
        weight.extend(rows.iter::<f32>());
        if let Some(b) = &linear.bias {
            bias.extend(b.val().into_data().iter::<f32>());
        }
    }
    let device = linears[0].weight.val().device();
    sink.put(
        &format!("{name}in_proj_weight"),
        Tensor::<2>::from_data(TensorData::new(weight, [3 * d, d]), &device),
    );
    if !bias.is_empty() {
        sink.put(
            &format!("{name}in_proj_bias"),
            Tensor::<1>::from_data(TensorData::new(bias, [3 * d]), &device),
        );
    }
}

impl Attention for MultiHeadAttention {
    /// Multi-head attention with the weights averaged over heads.
    fn attend(
        &self,
        query: Tensor<3>,
        keys: Tensor<3>,
        values: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
    ) -> crate::Result<Attended> {
        let out = self.forward(query, keys, values, key_padding_mask, None)?;
        Ok(Attended {
            weights: out.mean_weights(),
            context: out.context,
        })
    }
}

/// The causal mask of `len` positions: `[len, len]`, `true` above the diagonal (position `i`
/// may not attend to `j > i`).
pub fn causal_mask(len: usize, device: &Device) -> Tensor<2, Bool> {
    let values: Vec<bool> = (0..len)
        .flat_map(|i| (0..len).map(move |j| j > i))
        .collect();
    Tensor::<2, Bool>::from_data(TensorData::new(values, [len, len]), device)
}
