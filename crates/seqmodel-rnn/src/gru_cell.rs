//! The GRU cell in PyTorch's formulation, gates fused in the order r, z, n.

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};

use crate::cell::{Cell, CellState};
use crate::gate_weights::GateWeights;

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

impl GruCell {
    /// A cell with PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))`.
    pub fn new(input_size: usize, hidden_size: usize, bias: bool, device: &Device) -> Self {
        Self {
            weights: GateWeights::init(3, hidden_size, input_size, hidden_size, bias, device),
            hidden_size,
        }
    }
}

/// What [`GruCell`] prepares once per sequence.
#[derive(Debug, Clone)]
pub struct GruPrepared {
    /// `W_hh^T`: `[H, 3H]`.
    pub w_hh_t: Tensor<2>,
    /// `b_hh` as a row: `[1, 3H]` (it cannot be folded into the input projection, since `b_hn`
    /// sits inside `r * (W_hn h + b_hn)`).
    pub b_hh: Option<Tensor<2>>,
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

    fn project_input(&self, input: Tensor<2>) -> Tensor<2> {
        self.weights
            .project(input, self.weights.bias_ih.as_ref().map(|b| b.val()))
    }

    fn prepare(&self) -> GruPrepared {
        GruPrepared {
            w_hh_t: self.weights.weight_hh.val().transpose(),
            b_hh: self
                .weights
                .bias_hh
                .as_ref()
                .map(|b| b.val().unsqueeze_dim::<2>(0)),
        }
    }

    fn step(
        &self,
        prepared: &GruPrepared,
        projected_input: Tensor<2>,
        state: &CellState,
    ) -> CellState {
        let h = self.hidden_size;
        let recurrent = state.hidden.clone().matmul(prepared.w_hh_t.clone());
        let recurrent = match &prepared.b_hh {
            Some(b) => recurrent + b.clone(),
            None => recurrent,
        };
        let reset_update = sigmoid(
            projected_input.clone().narrow(1, 0, 2 * h) + recurrent.clone().narrow(1, 0, 2 * h),
        );
        let reset = reset_update.clone().narrow(1, 0, h);
        let update = reset_update.narrow(1, h, h);
        let candidate =
            (projected_input.narrow(1, 2 * h, h) + reset * recurrent.narrow(1, 2 * h, h)).tanh();
        // h' = (1 - z) * n + z * h = n + z * (h - n)
        let hidden = candidate.clone() + update * (state.hidden.clone() - candidate);
        CellState { hidden, cell: None }
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
