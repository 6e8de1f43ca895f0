//! The LSTM cell in PyTorch's formulation, gates fused in the order i, f, g, o, with an
//! optional projection of the hidden state (`proj_size`, `h = W_hr (o * tanh(c))`).

use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Tensor};

use crate::cell::{Cell, CellState, split_gates};
use crate::gate_weights::{GateWeights, GateWeightsConfig, require_positive};
use crate::lstm_layer_norm::LstmLayerNorm;

/// One layer and direction of an LSTM (4 gates, i f g o).
///
/// `c' = f * c + i * g`, `h' = o * tanh(c')` (then `h' = h' W_hr^T` with a projection), where
/// `i, f, o = sigmoid(..)`, `g = tanh(..)` of `W_ih x + b_ih + W_hh h + b_hh`.
/// State: hidden `[batch, Hout]`, cell `[batch, H]`.
#[derive(Module, Debug)]
pub struct LstmCell {
    /// `weight_ih` `[4H, In]`, `weight_hh` `[4H, Hout]`, `bias_ih`, `bias_hh` `[4H]`.
    pub weights: GateWeights,
    /// `weight_hr` `[proj_size, H]` when the layer has `proj_size > 0`.
    pub weight_hr: Option<Param<Tensor<2>>>,
    /// Layer normalisation of the gates and the cell state (Ba et al. 2016) when the layer
    /// has `layer_norm: true`; see [`LstmLayerNorm`] for the formulas.
    pub layer_norm: Option<LstmLayerNorm>,
    /// Hidden size `H`.
    pub hidden_size: usize,
}

/// The shape of an [`LstmCell`]. Named fields, so that no two sizes can be swapped:
/// `LstmCellConfig { input_size: 8, hidden_size: 16, proj_size: 0, bias: true,
/// layer_norm: false }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmCellConfig {
    /// Input features `In`.
    pub input_size: usize,
    /// Hidden size `H` (width of each gate and of the cell state).
    pub hidden_size: usize,
    /// Width of the projected hidden state (`0` = no projection, `Hout = H`).
    pub proj_size: usize,
    /// Whether there are `bias_ih` and `bias_hh`.
    pub bias: bool,
    /// Layer-normalise the gates and the cell state ([`LstmLayerNorm`]).
    pub layer_norm: bool,
}

impl LstmCellConfig {
    /// A cell with PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// Fails with [`crate::Error::InvalidConfig`] naming the field when a size is 0 or
    /// `proj_size >= hidden_size`.
    pub fn init(&self, device: &Device) -> crate::Result<LstmCell> {
        require_positive("LstmCellConfig", "input_size", self.input_size)?;
        require_positive("LstmCellConfig", "hidden_size", self.hidden_size)?;
        if self.proj_size >= self.hidden_size {
            return Err(crate::Error::InvalidConfig {
                config: "LstmCellConfig",
                field: "proj_size",
                reason: format!(
                    "must be smaller than hidden_size ({}), found {}",
                    self.hidden_size, self.proj_size
                ),
            });
        }
        let hidden_out = if self.proj_size > 0 {
            self.proj_size
        } else {
            self.hidden_size
        };
        let bound = 1.0 / (self.hidden_size as f64).sqrt();
        let weights = GateWeightsConfig {
            gates: LstmCell::GATES,
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            hidden_out,
            bias: self.bias,
        }
        .init(device)?;
        Ok(LstmCell {
            weights,
            weight_hr: (self.proj_size > 0).then(|| {
                Param::from_tensor(Tensor::random(
                    [self.proj_size, self.hidden_size],
                    Distribution::Uniform(-bound, bound),
                    device,
                ))
            }),
            layer_norm: self
                .layer_norm
                .then(|| LstmLayerNorm::new(self.hidden_size, device)),
            hidden_size: self.hidden_size,
        })
    }
}

/// What [`LstmCell`] prepares once per sequence.
#[derive(Debug, Clone)]
pub struct LstmPrepared {
    /// `W_hh^T` of each gate (i, f, g, o): `4 x [Hout, H]`, contiguous.
    pub w_hh_t: Vec<Tensor<2>>,
    /// `W_hr^T`: `[H, proj_size]`, contiguous.
    pub w_hr_t: Option<Tensor<2>>,
}

impl Cell for LstmCell {
    type Prepared = LstmPrepared;

    const GATES: usize = 4;

    const HAS_CELL_STATE: bool = true;

    fn input_size(&self) -> usize {
        self.weights.weight_ih.val().dims()[1]
    }

    fn hidden_size(&self) -> usize {
        self.hidden_size
    }

    fn output_size(&self) -> usize {
        match &self.weight_hr {
            Some(w) => w.val().dims()[0],
            None => self.hidden_size,
        }
    }

    fn project_input(&self, input: Tensor<2>) -> Vec<Tensor<2>> {
        let Some(norm) = &self.layer_norm else {
            return self
                .weights
                .project(input, Self::GATES, self.weights.summed_bias());
        };
        // LN(W_ih,k x; γ_ih,k) + b_ih,k + b_hh,k: the biases after the normalisation.
        let bias = self.weights.summed_bias();
        let h = self.hidden_size;
        self.weights
            .project(input, Self::GATES, None)
            .into_iter()
            .enumerate()
            .map(|(k, v)| {
                let v = LstmLayerNorm::gate(&norm.ih_weight, k, v);
                match &bias {
                    Some(b) => v + b.clone().narrow(0, k * h, h).unsqueeze_dim::<2>(0),
                    None => v,
                }
            })
            .collect()
    }

    fn prepare(&self) -> LstmPrepared {
        LstmPrepared {
            w_hh_t: GateWeights::transposed_gates(&self.weights.weight_hh, Self::GATES),
            w_hr_t: self
                .weight_hr
                .as_ref()
                .map(|w| crate::gate_weights::contiguous(w.val().transpose())),
        }
    }

    fn step(
        &self,
        prepared: &LstmPrepared,
        projected_input: Vec<Tensor<2>>,
        state: &CellState,
    ) -> CellState {
        let [x_i, x_f, x_g, x_o] = split_gates(projected_input);
        let [w_i, w_f, w_g, w_o] = [0, 1, 2, 3].map(|k| prepared.w_hh_t[k].clone());
        let recurrent = |k: usize, w: Tensor<2>| {
            let v = state.hidden.clone().matmul(w);
            match &self.layer_norm {
                Some(norm) => LstmLayerNorm::gate(&norm.hh_weight, k, v),
                None => v,
            }
        };
        let input_gate = sigmoid(recurrent(0, w_i) + x_i);
        let forget_gate = sigmoid(recurrent(1, w_f) + x_f);
        let candidate = (recurrent(2, w_g) + x_g).tanh();
        let output_gate = sigmoid(recurrent(3, w_o) + x_o);
        let cell = match &state.cell {
            Some(c) => forget_gate * c.clone() + input_gate * candidate,
            None => input_gate * candidate,
        };
        let squashed = match &self.layer_norm {
            Some(norm) => norm.cell(cell.clone()).tanh(),
            None => cell.clone().tanh(),
        };
        let hidden = output_gate * squashed;
        let hidden = match &prepared.w_hr_t {
            Some(w_hr_t) => hidden.matmul(w_hr_t.clone()),
            None => hidden,
        };
        CellState {
            hidden,
            cell: Some(cell),
        }
    }

    fn run_fused(
        &self,
        input: &Tensor<3>,
        initial: &CellState,
        lengths: Option<&[usize]>,
        direction: crate::cell::Direction,
    ) -> Result<(Tensor<3>, CellState), crate::FusedUnavailable> {
        if self.layer_norm.is_some() {
            return Err(crate::FusedUnavailable::LayerNorm);
        }
        if let Some(w_hr) = &self.weight_hr {
            return Err(crate::FusedUnavailable::Projection {
                proj_size: w_hr.val().dims()[0],
            });
        }
        let call = crate::fused::FusedCall {
            kind: crate::fused::CellKind::of::<Self>(crate::fused::GateMath::Lstm),
            weight_ih: self.weights.weight_ih.val(),
            weight_hh: self.weights.weight_hh.val(),
            input_bias: self.weights.summed_bias(),
            b_hn: None,
            lengths,
        };
        crate::fused::run(call, input, initial, direction)
    }
}

impl crate::driver::CellParams for LstmCell {
    fn load_params(
        self,
        source: &mut crate::state_dict::ParamSource<'_>,
        suffix: &str,
    ) -> crate::Result<Self> {
        let weights = self.weights.load(source, suffix)?;
        let weight_hr = match self.weight_hr {
            Some(w) => Some(source.take2(w, &format!("weight_hr{suffix}"))?),
            None => None,
        };
        let layer_norm = match self.layer_norm {
            Some(norm) => Some(norm.load(source, suffix)?),
            None => None,
        };
        Ok(Self {
            weights,
            weight_hr,
            layer_norm,
            hidden_size: self.hidden_size,
        })
    }

    fn save_params(&self, sink: &mut crate::state_dict::ParamSink<'_>, suffix: &str) {
        self.weights.save(sink, suffix);
        if let Some(w) = &self.weight_hr {
            sink.put(&format!("weight_hr{suffix}"), w.val());
        }
        if let Some(norm) = &self.layer_norm {
            norm.save(sink, suffix);
        }
    }

    fn named_params(&self, suffix: &str, out: &mut Vec<(String, crate::NamedParam)>) {
        self.weights.named(suffix, out);
        if let Some(w) = &self.weight_hr {
            out.push((
                format!("weight_hr{suffix}"),
                crate::NamedParam::Matrix(w.val()),
            ));
        }
        if let Some(norm) = &self.layer_norm {
            for (name, value) in norm.named_tensors(suffix) {
                out.push((name, crate::NamedParam::Vector(value)));
            }
        }
    }
}
