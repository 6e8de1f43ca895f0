//! Layer normalisation inside an LSTM cell (Ba, Kiros, Hinton 2016, "Layer Normalization",
//! section 3.1), an opt-in option of [`crate::Lstm`] (`layer_norm: true`).
//!
//! With `LN(v; γ, β) = γ (v - mean(v)) / sqrt(var(v) + ε) + β` over the `H` features of `v`
//! (`ε = 1e-5`), per gate `k` of i, f, g, o:
//! `gate_k = LN(W_ih,k x; γ_ih,k, 0) + LN(W_hh,k h; γ_hh,k, 0) + b_ih,k + b_hh,k`,
//! `c' = σ(f) c + σ(i) tanh(g)`, `h' = σ(o) tanh(LN(c'; γ_c, β_c))`.
//! Each gate is normalised on its own (as TensorFlow's `LayerNormBasicLSTMCell`; the paper
//! writes one normalisation over the stacked `4H` pre-activations). The biases of the two
//! gate normalisations would duplicate `b_ih` and `b_hh`, so there are none.
//!
//! Parameters (PyTorch has no such layer; names follow its style): `ln_ih_weight_l{k}` and
//! `ln_hh_weight_l{k}` `[4H]` (γ of each gate, stacked i, f, g, o; initialised to 1),
//! `ln_c_weight_l{k}` and `ln_c_bias_l{k}` `[H]` (γ_c = 1, β_c = 0).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

use crate::state_dict::{ParamSink, ParamSource};

/// `ε` of every normalisation.
const EPSILON: f64 = 1e-5;

/// The normalisation parameters of one LSTM layer and direction.
#[derive(Module, Debug)]
pub struct LstmLayerNorm {
    /// `γ` of the input projections, `[4H]` (gates i, f, g, o).
    pub ih_weight: Param<Tensor<1>>,
    /// `γ` of the recurrent projections, `[4H]`.
    pub hh_weight: Param<Tensor<1>>,
    /// `γ_c` of the cell state, `[H]`.
    pub c_weight: Param<Tensor<1>>,
    /// `β_c` of the cell state, `[H]`.
    pub c_bias: Param<Tensor<1>>,
}

/// `(v - mean) / sqrt(var + ε)` over the last dimension of `v: [n, H]`.
pub(crate) fn normalise(v: Tensor<2>) -> Tensor<2> {
    let mean = v.clone().mean_dim(1);
    let centred = v - mean;
    let var = centred.clone().powi_scalar(2).mean_dim(1);
    centred / (var + EPSILON).sqrt()
}

impl LstmLayerNorm {
    /// `γ = 1`, `β_c = 0` for hidden size `hidden`.
    pub fn new(hidden: usize, device: &Device) -> Self {
        let ones = |n: usize| Param::from_tensor(Tensor::ones([n], device));
        Self {
            ih_weight: ones(4 * hidden),
            hh_weight: ones(4 * hidden),
            c_weight: ones(hidden),
            c_bias: Param::from_tensor(Tensor::zeros([hidden], device)),
        }
    }

    /// `LN(v; γ_k, 0)` for gate `k` of `gammas` (`[4H]`): `v: [n, H]`.
    pub(crate) fn gate(gammas: &Param<Tensor<1>>, k: usize, v: Tensor<2>) -> Tensor<2> {
        let h = v.dims()[1];
        normalise(v) * gammas.val().narrow(0, k * h, h).unsqueeze_dim::<2>(0)
    }

    /// `LN(c; γ_c, β_c)`: `c: [n, H]`.
    pub(crate) fn cell(&self, c: Tensor<2>) -> Tensor<2> {
        normalise(c) * self.c_weight.val().unsqueeze_dim::<2>(0)
            + self.c_bias.val().unsqueeze_dim::<2>(0)
    }

    pub(crate) fn load(self, source: &mut ParamSource<'_>, suffix: &str) -> crate::Result<Self> {
        Ok(Self {
            ih_weight: source.take1(self.ih_weight, &format!("ln_ih_weight{suffix}"))?,
            hh_weight: source.take1(self.hh_weight, &format!("ln_hh_weight{suffix}"))?,
            c_weight: source.take1(self.c_weight, &format!("ln_c_weight{suffix}"))?,
            c_bias: source.take1(self.c_bias, &format!("ln_c_bias{suffix}"))?,
        })
    }

    pub(crate) fn save(&self, sink: &mut ParamSink<'_>, suffix: &str) {
        for (name, param) in self.named_tensors(suffix) {
            sink.put(&name, param);
        }
    }

    pub(crate) fn named_tensors(&self, suffix: &str) -> Vec<(String, Tensor<1>)> {
        vec![
            (format!("ln_ih_weight{suffix}"), self.ih_weight.val()),
            (format!("ln_hh_weight{suffix}"), self.hh_weight.val()),
            (format!("ln_c_weight{suffix}"), self.c_weight.val()),
            (format!("ln_c_bias{suffix}"), self.c_bias.val()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[1, 3]`: mean 2, variance 1, so `[-1, 1] / sqrt(1 + 1e-5)` = `±0.999995`;
    /// `[5, 5]`: variance 0, so `[0, 0]`.
    #[test]
    fn normalise_by_hand() {
        let device = Device::flex();
        let v = Tensor::<2>::from_data([[1.0, 3.0], [5.0, 5.0]], &device);
        let got = normalise(v)
            .into_data()
            .try_to_vec_as::<f32>()
            .expect("f32");
        let expected = [-0.999_995, 0.999_995, 0.0, 0.0];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6, "{got:?}");
        }
    }
}
