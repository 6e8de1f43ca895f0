//! The LSTM cell in PyTorch's formulation, gates fused in the order i, f, g, o, with an
//! optional projection of the hidden state (`proj_size`, `h = W_hr (o * tanh(c))`).

use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Distribution, Tensor};

use crate::cell::{Cell, CellState, split_gates};
use crate::gate_weights::GateWeights;

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
    /// Hidden size `H`.
    pub hidden_size: usize,
}

impl LstmCell {
    /// A cell with PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))`;
    /// `proj_size = 0` means no projection.
    pub fn new(
        input_size: usize,
        hidden_size: usize,
        proj_size: usize,
        bias: bool,
        device: &Device,
    ) -> Self {
        let hidden_out = if proj_size > 0 {
            proj_size
        } else {
            hidden_size
        };
        let bound = 1.0 / (hidden_size as f64).sqrt();
        Self {
            weights: GateWeights::init(4, hidden_size, input_size, hidden_out, bias, device),
            weight_hr: (proj_size > 0).then(|| {
                Param::from_tensor(Tensor::random(
                    [proj_size, hidden_size],
                    Distribution::Uniform(-bound, bound),
                    device,
                ))
            }),
            hidden_size,
        }
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

    fn has_cell_state(&self) -> bool {
        true
    }

    fn project_input(&self, input: Tensor<2>) -> Vec<Tensor<2>> {
        self.weights.project(input, 4, self.weights.summed_bias())
    }

    fn prepare(&self) -> LstmPrepared {
        LstmPrepared {
            w_hh_t: GateWeights::transposed_gates(&self.weights.weight_hh, 4),
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
        let gate = |w: Tensor<2>, x: Tensor<2>| state.hidden.clone().matmul(w) + x;
        let input_gate = sigmoid(gate(w_i, x_i));
        let forget_gate = sigmoid(gate(w_f, x_f));
        let candidate = gate(w_g, x_g).tanh();
        let output_gate = sigmoid(gate(w_o, x_o));
        let cell = match &state.cell {
            Some(c) => forget_gate * c.clone() + input_gate * candidate,
            None => input_gate * candidate,
        };
        let hidden = output_gate * cell.clone().tanh();
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
    ) -> Option<(Tensor<3>, CellState)> {
        if self.weight_hr.is_some() {
            return None; // The fused kernel has no projection.
        }
        let call = crate::fused::FusedCall {
            kind: crate::fused::CellKind::Lstm,
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
        Ok(Self {
            weights,
            weight_hr,
            hidden_size: self.hidden_size,
        })
    }

    fn save_params(&self, sink: &mut crate::state_dict::ParamSink<'_>, suffix: &str) {
        self.weights.save(sink, suffix);
        if let Some(w) = &self.weight_hr {
            sink.put(&format!("weight_hr{suffix}"), w.val());
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
    }
}
