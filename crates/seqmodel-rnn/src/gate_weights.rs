//! The fused gate parameters every cell has: PyTorch's `weight_ih`, `weight_hh`, `bias_ih`,
//! `bias_hh` of one layer and direction.

use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};

use crate::Result;
use crate::state_dict::{ParamSink, ParamSource};

/// Fused gate weights of one layer and direction, laid out exactly as in PyTorch's state dict.
///
/// Notation: `G` gates, `H` hidden size, `In` input features, `Hout` hidden-state width.
#[derive(Module, Debug)]
pub struct GateWeights {
    /// `weight_ih_l{k}`: `[G * H, In]`, gate blocks stacked in PyTorch's order.
    pub weight_ih: Param<Tensor<2>>,
    /// `weight_hh_l{k}`: `[G * H, Hout]`.
    pub weight_hh: Param<Tensor<2>>,
    /// `bias_ih_l{k}`: `[G * H]` (absent when the layer has `bias = false`).
    pub bias_ih: Option<Param<Tensor<1>>>,
    /// `bias_hh_l{k}`: `[G * H]` (absent when the layer has `bias = false`).
    pub bias_hh: Option<Param<Tensor<1>>>,
}

/// The shape of one layer direction's fused gate weights. Named fields, so that no two sizes
/// can be swapped: `GateWeightsConfig { gates: 4, input_size, hidden_size, hidden_out, bias }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateWeightsConfig {
    /// Fused gates `G` (a cell's [`crate::Cell::GATES`]).
    pub gates: usize,
    /// Input features `In`.
    pub input_size: usize,
    /// Width of each gate `H`.
    pub hidden_size: usize,
    /// Width of the recurrent input `Hout` (`proj_size` for a projected LSTM, else `H`).
    pub hidden_out: usize,
    /// Whether there are `bias_ih` and `bias_hh`.
    pub bias: bool,
}

impl GateWeightsConfig {
    /// Weights with PyTorch's default initialisation: every entry from `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// Fails with [`crate::Error::InvalidConfig`] naming the field when a size is 0.
    pub fn init(&self, device: &Device) -> Result<GateWeights> {
        let config = "GateWeightsConfig";
        require_positive(config, "gates", self.gates)?;
        require_positive(config, "input_size", self.input_size)?;
        require_positive(config, "hidden_size", self.hidden_size)?;
        require_positive(config, "hidden_out", self.hidden_out)?;
        let bound = 1.0 / (self.hidden_size as f64).sqrt();
        let uniform = Distribution::Uniform(-bound, bound);
        let rows = self.gates * self.hidden_size;
        let bias_param = || Param::from_tensor(Tensor::random([rows], uniform, device));
        Ok(GateWeights {
            weight_ih: Param::from_tensor(Tensor::random([rows, self.input_size], uniform, device)),
            weight_hh: Param::from_tensor(Tensor::random([rows, self.hidden_out], uniform, device)),
            bias_ih: self.bias.then(bias_param),
            bias_hh: self.bias.then(bias_param),
        })
    }
}

/// `Ok` if `value >= 1`, else [`crate::Error::InvalidConfig`] naming `config.field`.
pub(crate) fn require_positive(
    config: &'static str,
    field: &'static str,
    value: usize,
) -> Result<()> {
    if value == 0 {
        return Err(crate::Error::InvalidConfig {
            config,
            field,
            reason: "must be at least 1, found 0".to_string(),
        });
    }
    Ok(())
}

impl GateWeights {
    /// `W^T` of each gate block of `weight` (`[G * H, cols]`): `G x [cols, H]`, each
    /// materialised row-major (flex's GEMM was 1.5-4x slower on a transposed operand in our
    /// measurements; the copy is made once per sequence, not per step).
    pub fn transposed_gates(weight: &Param<Tensor<2>>, gates: usize) -> Vec<Tensor<2>> {
        let weight = weight.val();
        let h = weight.dims()[0] / gates;
        (0..gates)
            .map(|k| contiguous(weight.clone().narrow(0, k * h, h).transpose()))
            .collect()
    }

    /// Per-gate input projections `x W_ih^T + bias`: `input: [n, In]` -> `G x [n, H]`.
    /// `bias`: `[G * H]`, added to every row.
    pub fn project(
        &self,
        input: Tensor<2>,
        gates: usize,
        bias: Option<Tensor<1>>,
    ) -> Vec<Tensor<2>> {
        let h = self.weight_ih.val().dims()[0] / gates;
        Self::transposed_gates(&self.weight_ih, gates)
            .into_iter()
            .enumerate()
            .map(|(k, w_t)| {
                let projected = input.clone().matmul(w_t);
                match &bias {
                    Some(b) => projected + b.clone().narrow(0, k * h, h).unsqueeze_dim::<2>(0),
                    None => projected,
                }
            })
            .collect()
    }

    /// `b_ih + b_hh`: `[G * H]`, or `None` without biases.
    pub fn summed_bias(&self) -> Option<Tensor<1>> {
        match (&self.bias_ih, &self.bias_hh) {
            (Some(ih), Some(hh)) => Some(ih.val() + hh.val()),
            _ => None,
        }
    }

    /// Replace every parameter with the state dict's `weight_ih{suffix}` etc.
    pub(crate) fn load(self, source: &mut ParamSource<'_>, suffix: &str) -> Result<Self> {
        Ok(Self {
            weight_ih: source.take2(self.weight_ih, &format!("weight_ih{suffix}"))?,
            weight_hh: source.take2(self.weight_hh, &format!("weight_hh{suffix}"))?,
            bias_ih: match self.bias_ih {
                Some(p) => Some(source.take1(p, &format!("bias_ih{suffix}"))?),
                None => None,
            },
            bias_hh: match self.bias_hh {
                Some(p) => Some(source.take1(p, &format!("bias_hh{suffix}"))?),
                None => None,
            },
        })
    }

    /// Write every parameter under PyTorch's name with `suffix` (e.g. `_l0_reverse`).
    pub(crate) fn save(&self, sink: &mut ParamSink<'_>, suffix: &str) {
        sink.put(&format!("weight_ih{suffix}"), self.weight_ih.val());
        sink.put(&format!("weight_hh{suffix}"), self.weight_hh.val());
        if let Some(b) = &self.bias_ih {
            sink.put(&format!("bias_ih{suffix}"), b.val());
        }
        if let Some(b) = &self.bias_hh {
            sink.put(&format!("bias_hh{suffix}"), b.val());
        }
    }

    /// Every parameter tensor with its PyTorch name (suffix appended).
    pub(crate) fn named(&self, suffix: &str, out: &mut Vec<(String, NamedParam)>) {
        out.push((
            format!("weight_ih{suffix}"),
            NamedParam::Matrix(self.weight_ih.val()),
        ));
        out.push((
            format!("weight_hh{suffix}"),
            NamedParam::Matrix(self.weight_hh.val()),
        ));
        if let Some(b) = &self.bias_ih {
            out.push((format!("bias_ih{suffix}"), NamedParam::Vector(b.val())));
        }
        if let Some(b) = &self.bias_hh {
            out.push((format!("bias_hh{suffix}"), NamedParam::Vector(b.val())));
        }
    }
}

/// `tensor` with its values laid out row-major: reshaping a transposed view to one dimension
/// cannot be a view, so every backend copies it; the reshape back is a view.
pub(crate) fn contiguous(tensor: Tensor<2>) -> Tensor<2> {
    let [rows, cols] = tensor.dims();
    tensor.reshape([rows * cols]).reshape([rows, cols])
}

/// A parameter tensor as listed by `named_parameters` (weights are matrices, biases vectors).
#[derive(Debug, Clone)]
pub enum NamedParam {
    /// A weight: `[rows, columns]`.
    Matrix(Tensor<2>),
    /// A bias: `[rows]`.
    Vector(Tensor<1>),
}

impl NamedParam {
    /// The shape of the tensor.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            NamedParam::Matrix(t) => t.dims().to_vec(),
            NamedParam::Vector(t) => t.dims().to_vec(),
        }
    }

    /// The tensor's values, row-major, as `f32`.
    pub fn to_f32_vec(&self) -> Vec<f32> {
        let data = match self {
            NamedParam::Matrix(t) => t.to_data(),
            NamedParam::Vector(t) => t.to_data(),
        };
        data.try_into_vec_as::<f32>().unwrap_or_default()
    }
}
