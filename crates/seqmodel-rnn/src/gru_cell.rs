//! The GRU cell in PyTorch's formulation, gates fused in the order r, z, n.

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};

use crate::cell::{Cell, CellState, split_gates};
use crate::gate_weights::{GateWeights, GateWeightsConfig, require_positive};

/// One layer and direction of a GRU (3 gates, r z n), exactly PyTorch's equations:
///
/// `r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)`, `z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)`,
/// `n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`, `h' = (1 - z) * n + z * h`.
/// State: hidden `[batch, H]`.
#[derive(Module, Debug)]
pub struct GruCell {
    /// `weight_ih` `[3H, In]`, `weight_hh` `[3H, H]`, `bias_ih`, `bias_hh` `[3H]`.
    pub weights: GateWeights,
    /// Hidden size `H`.
    pub hidden_size: usize,
}

/// The shape of a [`GruCell`]. Named fields, so that no two sizes can be swapped:
/// `GruCellConfig { input_size: 8, hidden_size: 16, bias: true }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GruCellConfig {
    /// Input features `In`.
    pub input_size: usize,
    /// Hidden size `H`.
    pub hidden_size: usize,
    /// Whether there are `bias_ih` and `bias_hh`.
    pub bias: bool,
}

impl GruCellConfig {
    /// A cell with PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// Fails with [`crate::Error::InvalidConfig`] naming the field when a size is 0.
    pub fn init(&self, device: &Device) -> crate::Result<GruCell> {
        require_positive("GruCellConfig", "input_size", self.input_size)?;
        require_positive("GruCellConfig", "hidden_size", self.hidden_size)?;
        let weights = GateWeightsConfig {
            gates: GruCell::GATES,
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            hidden_out: self.hidden_size,
            bias: self.bias,
        }
        .init(device)?;
        Ok(GruCell {
            weights,
            hidden_size: self.hidden_size,
        })
    }
}

impl GruCell {
    /// The biases split at the reset gate: `b_ih + (b_hr, b_hz, 0)` (`[3H]`, outside the
    /// recurrence, added to the input projections) and `b_hn` (`[H]`, inside the reset product
    /// `r * (W_hn h + b_hn)`); `None` without biases.
    fn split_bias(&self) -> Option<(Tensor<1>, Tensor<1>)> {
        let (ih, hh) = (
            self.weights.bias_ih.as_ref()?,
            self.weights.bias_hh.as_ref()?,
        );
        let h = self.hidden_size;
        let hh = hh.val();
        let rz = hh.clone().narrow(0, 0, 2 * h);
        let b_hn = hh.narrow(0, 2 * h, h);
        let outside = ih.val() + Tensor::cat(vec![rz, b_hn.zeros_like()], 0);
        Some((outside, b_hn))
    }
}

/// What [`GruCell`] prepares once per sequence.
#[derive(Debug, Clone)]
pub struct GruPrepared {
    /// `W_hh^T` of each gate (r, z, n): `3 x [H, H]`, contiguous.
    pub w_hh_t: Vec<Tensor<2>>,
    /// `b_hn` as a row: `[1, H]` (unlike `b_hr` and `b_hz` it cannot be folded into the input
    /// projection, since it sits inside `r * (W_hn h + b_hn)`).
    pub b_hn: Option<Tensor<2>>,
}

impl Cell for GruCell {
    type Prepared = GruPrepared;

    const GATES: usize = 3;

    fn input_size(&self) -> usize {
        self.weights.weight_ih.val().dims()[1]
    }

    fn hidden_size(&self) -> usize {
        self.hidden_size
    }

    fn output_size(&self) -> usize {
        self.hidden_size
    }

    fn project_input(&self, input: Tensor<2>) -> Vec<Tensor<2>> {
        self.weights.project(
            input,
            Self::GATES,
            self.split_bias().map(|(outside, _)| outside),
        )
    }

    fn prepare(&self) -> GruPrepared {
        let h = self.hidden_size;
        GruPrepared {
            w_hh_t: GateWeights::transposed_gates(&self.weights.weight_hh, Self::GATES),
            b_hn: self
                .weights
                .bias_hh
                .as_ref()
                .map(|b| b.val().narrow(0, 2 * h, h).unsqueeze_dim::<2>(0)),
        }
    }

    fn step(
        &self,
        prepared: &GruPrepared,
        projected_input: Vec<Tensor<2>>,
        state: &CellState,
    ) -> CellState {
        let [x_r, x_z, x_n] = split_gates(projected_input);
        let [w_r, w_z, w_n] = [0, 1, 2].map(|k| prepared.w_hh_t[k].clone());
        let reset = sigmoid(state.hidden.clone().matmul(w_r) + x_r);
        let update = sigmoid(state.hidden.clone().matmul(w_z) + x_z);
        let recurrent_n = state.hidden.clone().matmul(w_n);
        let recurrent_n = match &prepared.b_hn {
            Some(b) => recurrent_n + b.clone(),
            None => recurrent_n,
        };
        let candidate = (reset * recurrent_n + x_n).tanh();
        // h' = (1 - z) * n + z * h = n + z * (h - n)
        let hidden = candidate.clone() + update * (state.hidden.clone() - candidate);
        CellState { hidden, cell: None }
    }

    fn run_fused(
        &self,
        input: &Tensor<3>,
        initial: &CellState,
        lengths: Option<&[usize]>,
        direction: crate::cell::Direction,
    ) -> Result<(Tensor<3>, CellState), crate::FusedUnavailable> {
        let (input_bias, b_hn) = self.split_bias().unzip();
        let call = crate::fused::FusedCall {
            kind: crate::fused::CellKind::of::<Self>(crate::fused::GateMath::Gru),
            weight_ih: self.weights.weight_ih.val(),
            weight_hh: self.weights.weight_hh.val(),
            input_bias,
            b_hn,
            lengths,
        };
        crate::fused::run(call, input, initial, direction)
    }
}

impl crate::driver::CellParams for GruCell {
    fn load_params(
        self,
        source: &mut crate::state_dict::ParamSource<'_>,
        suffix: &str,
    ) -> crate::Result<Self> {
        Ok(Self {
            weights: self.weights.load(source, suffix)?,
            ..self
        })
    }

    fn save_params(&self, sink: &mut crate::state_dict::ParamSink<'_>, suffix: &str) {
        self.weights.save(sink, suffix);
    }

    fn named_params(&self, suffix: &str, out: &mut Vec<(String, crate::NamedParam)>) {
        self.weights.named(suffix, out);
    }
}
