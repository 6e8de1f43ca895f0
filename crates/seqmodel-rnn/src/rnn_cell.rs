//! The Elman RNN cell: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, `act` = tanh or ReLU.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::cell::{Cell, CellState, split_gates};
use crate::gate_weights::{GateWeights, GateWeightsConfig, require_positive};

/// The nonlinearity of an Elman RNN (PyTorch's `nonlinearity` argument).
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum Nonlinearity {
    /// `tanh` (PyTorch's default).
    Tanh,
    /// `relu`.
    Relu,
}

impl Nonlinearity {
    /// PyTorch's spelling: `"tanh"` or `"relu"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Nonlinearity::Tanh => "tanh",
            Nonlinearity::Relu => "relu",
        }
    }

    fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Nonlinearity::Tanh => x.tanh(),
            Nonlinearity::Relu => relu(x),
        }
    }
}

/// One layer and direction of an Elman RNN (1 gate): `[batch, In]` -> `[batch, H]`.
#[derive(Module, Debug)]
pub struct RnnCell {
    /// `weight_ih` `[H, In]`, `weight_hh` `[H, H]`, `bias_ih`, `bias_hh` `[H]`.
    pub weights: GateWeights,
    /// Hidden size `H`.
    pub hidden_size: usize,
    /// tanh or ReLU.
    #[module(skip)]
    pub nonlinearity: Nonlinearity,
}

/// The shape of an [`RnnCell`]. Named fields, so that no two sizes can be swapped:
/// `RnnCellConfig { input_size: 8, hidden_size: 16, nonlinearity: Nonlinearity::Tanh, bias: true }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RnnCellConfig {
    /// Input features `In`.
    pub input_size: usize,
    /// Hidden size `H`.
    pub hidden_size: usize,
    /// tanh or ReLU.
    pub nonlinearity: Nonlinearity,
    /// Whether there are `bias_ih` and `bias_hh`.
    pub bias: bool,
}

impl RnnCellConfig {
    /// A cell with PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// Fails with [`crate::Error::InvalidConfig`] naming the field when a size is 0.
    pub fn init(&self, device: &Device) -> crate::Result<RnnCell> {
        require_positive("RnnCellConfig", "input_size", self.input_size)?;
        require_positive("RnnCellConfig", "hidden_size", self.hidden_size)?;
        let weights = GateWeightsConfig {
            gates: RnnCell::GATES,
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            hidden_out: self.hidden_size,
            bias: self.bias,
        }
        .init(device)?;
        Ok(RnnCell {
            weights,
            hidden_size: self.hidden_size,
            nonlinearity: self.nonlinearity,
        })
    }
}

impl Cell for RnnCell {
    /// `W_hh^T`: `[H, H]`.
    type Prepared = Tensor<2>;

    const GATES: usize = 1;

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
        self.weights
            .project(input, Self::GATES, self.weights.summed_bias())
    }

    fn prepare(&self) -> Tensor<2> {
        let [w_hh_t] = split_gates(GateWeights::transposed_gates(
            &self.weights.weight_hh,
            Self::GATES,
        ));
        w_hh_t
    }

    fn step(
        &self,
        w_hh_t: &Tensor<2>,
        projected_input: Vec<Tensor<2>>,
        state: &CellState,
    ) -> CellState {
        let [x] = split_gates(projected_input);
        let pre = state.hidden.clone().matmul(w_hh_t.clone()) + x;
        CellState {
            hidden: self.nonlinearity.apply(pre),
            cell: None,
        }
    }

    fn run_fused(
        &self,
        input: &Tensor<3>,
        initial: &CellState,
        lengths: Option<&[usize]>,
        direction: crate::cell::Direction,
    ) -> Result<(Tensor<3>, CellState), crate::FusedUnavailable> {
        let call = crate::fused::FusedCall {
            kind: crate::fused::CellKind::of::<Self>(crate::fused::GateMath::Rnn(
                self.nonlinearity,
            )),
            weight_ih: self.weights.weight_ih.val(),
            weight_hh: self.weights.weight_hh.val(),
            input_bias: self.weights.summed_bias(),
            b_hn: None,
            lengths,
        };
        crate::fused::run(call, input, initial, direction)
    }
}

impl crate::driver::CellParams for RnnCell {
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
