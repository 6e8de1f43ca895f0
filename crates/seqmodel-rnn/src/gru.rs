//! Multi-layer, bidirectional, variable-length GRU, identical to PyTorch's `nn.GRU`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Tensor};

use crate::driver::{self, LayerSpec, RecurrentOutput, StepOutput, cell_input_size, check_common};
use crate::{Execution, GruCell, GruCellConfig, NamedParam, SequenceLengths, StateDict};

/// Configuration of a [`Gru`] (PyTorch's `nn.GRU` arguments, always `batch_first`).
#[derive(Config, Debug)]
pub struct GruConfig {
    /// The fused kernel where one applies, or always the reference path (see [`Execution`]).
    #[config(default = "Execution::Auto")]
    pub execution: Execution,
    /// Features of each input step `I`.
    pub input_size: usize,
    /// Hidden size `H`.
    pub hidden_size: usize,
    /// Number of stacked layers `L`.
    #[config(default = 1)]
    pub num_layers: usize,
    /// Run a second, reverse direction and concatenate its outputs (`D = 2`).
    #[config(default = false)]
    pub bidirectional: bool,
    /// Add each layer's input to its output from the second layer on (residual stacks; the
    /// widths match there). Off by default: PyTorch has no such option.
    #[config(default = false)]
    pub residual: bool,
    /// Dropout probability on each layer's output except the last (only in training).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Whether the cells have `bias_ih` and `bias_hh`.
    #[config(default = true)]
    pub bias: bool,
}

/// A multi-layer, optionally bidirectional GRU over `[batch, time, input_size]` batches.
///
/// Gates fused in PyTorch's order (r, z, n), with `b_hn` inside `r * (W_hn h + b_hn)`;
/// parameters named and shaped as PyTorch's state dict. Built by [`GruConfig::init`].
#[derive(Module, Debug)]
pub struct Gru {
    /// One cell per layer and direction, index `layer * directions + direction`.
    pub cells: Vec<GruCell>,
    /// Dropout between layers.
    pub dropout: Dropout,
    /// Input features `I`.
    pub input_size: usize,
    /// Hidden size `H`.
    pub hidden_size: usize,
    /// Number of layers `L`.
    pub num_layers: usize,
    /// Whether there is a reverse direction.
    pub bidirectional: bool,
    /// Whether layers from the second on add their input to their output.
    pub residual: bool,
    /// Fused kernel or reference path (not a parameter; not saved in records).
    #[module(skip)]
    pub execution: Execution,
}

impl GruConfig {
    /// Build the layer with PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// Fails with [`crate::Error::InvalidConfig`] naming the field when a size is 0 or
    /// `dropout` is not in `[0, 1)`.
    pub fn init(&self, device: &Device) -> crate::Result<Gru> {
        check_common(
            "GruConfig",
            self.input_size,
            self.hidden_size,
            self.num_layers,
            self.dropout,
        )?;
        let mut gru = Gru {
            cells: Vec::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            bidirectional: self.bidirectional,
            execution: self.execution,
            residual: self.residual,
        };
        let spec = gru.spec();
        gru.cells = (0..self.num_layers * spec.directions())
            .map(|k| {
                GruCellConfig {
                    input_size: cell_input_size(&spec, k),
                    hidden_size: self.hidden_size,
                    bias: self.bias,
                }
                .init(device)
            })
            .collect::<crate::Result<_>>()?;
        Ok(gru)
    }
}

impl Gru {
    fn spec(&self) -> LayerSpec {
        LayerSpec {
            name: "Gru",
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            hidden_out: self.hidden_size,
            num_layers: self.num_layers,
            bidirectional: self.bidirectional,
            execution: self.execution,
            residual: self.residual,
        }
    }

    /// Width of the output's last dimension: `directions * hidden_size`.
    pub fn output_size(&self) -> usize {
        self.spec().directions() * self.hidden_size
    }

    /// Run over a batch of sequences.
    ///
    /// # Shapes
    /// - `input`: `[batch, time, input_size]`
    /// - `lengths`: `[batch]` real steps per sequence and the padding side (`None` = all `time`);
    ///   each in `0..=time` (else [`crate::Error::Lengths`]); left padding gives the same
    ///   outputs at the real positions as right padding
    /// - `h0`: `[num_layers * directions, batch, hidden_size]` (`None` = zeros)
    /// - output: `[batch, time, directions * hidden_size]`, exactly 0 past each length
    /// - state `h_n`: as `h0`, at each sequence's own last valid step
    ///
    /// ```
    /// use burn::tensor::{Device, Tensor};
    /// use seqmodel_rnn::GruConfig;
    ///
    /// let device = Device::flex();
    /// let gru = GruConfig::new(8, 16).with_num_layers(2).init(&device)?;
    /// let out = gru.forward(Tensor::<3>::zeros([4, 6, 8], &device), None, None)?;
    /// assert_eq!(out.output.dims(), [4, 6, 16]);
    /// assert_eq!(out.state.dims(), [2, 4, 16]);
    /// # Ok::<(), seqmodel_rnn::Error>(())
    /// ```
    pub fn forward(
        &self,
        input: Tensor<3>,
        lengths: Option<&SequenceLengths>,
        h0: Option<Tensor<3>>,
    ) -> crate::Result<RecurrentOutput<Tensor<3>>> {
        let (output, h_n, _) = driver::forward_layers(
            &self.spec(),
            &self.cells,
            &self.dropout,
            input,
            lengths,
            h0,
            None,
        )?;
        Ok(RecurrentOutput { output, state: h_n })
    }

    /// Advance one time step (for decoders); one-direction layers only.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_size]`; `h`: `[num_layers, batch, hidden_size]` (`None` = zeros)
    /// - output: `[batch, hidden_size]`, and the new `h`
    pub fn step(
        &self,
        input: Tensor<2>,
        h: Option<Tensor<3>>,
    ) -> crate::Result<StepOutput<Tensor<3>>> {
        let (output, h, _) =
            driver::step_layers(&self.spec(), &self.cells, &self.dropout, input, h, None)?;
        Ok(StepOutput { output, state: h })
    }

    /// Load a PyTorch `nn.GRU` state dict whose keys start with `prefix`. Strict: a missing
    /// key, an extra key under `prefix` or a wrong shape is an error naming the key.
    pub fn load_state_dict(self, dict: &StateDict, prefix: &str) -> crate::Result<Self> {
        let spec = self.spec();
        let cells = driver::load_cells(&spec, self.cells, dict, prefix)?;
        Ok(Self { cells, ..self })
    }

    /// The parameters as a state dict PyTorch's `nn.GRU.load_state_dict` accepts.
    pub fn state_dict(&self, prefix: &str) -> StateDict {
        driver::save_cells(&self.spec(), &self.cells, prefix)
    }

    /// Every parameter with its PyTorch name, in PyTorch's `named_parameters()` order.
    pub fn named_parameters(&self) -> Vec<(String, NamedParam)> {
        driver::named_cells(&self.spec(), &self.cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// All weights 0 and every bias 0 except `b_hz` = large: z = sigmoid(large) = 1, so
    /// h' = (1 - z) * n + z * h = h: the state never changes.
    /// With all biases 0 instead: r = z = 0.5, n = tanh(0) = 0, so h' = 0.5 * h.
    #[test]
    fn update_gate_keeps_or_halves_the_state() {
        let device = Device::flex();
        let gru = GruConfig::new(2, 2).init(&device).expect("valid config");
        let mut dict = StateDict::new();
        for (name, p) in gru.named_parameters() {
            let dims = p.dims();
            let n = dims.iter().product::<usize>();
            dict.insert(name, TensorData::new(vec![0.0f32; n], dims));
        }
        let h0 = Tensor::<3>::from_data([[[0.8, -0.4]]], &device);
        let input = Tensor::<3>::ones([1, 3, 2], &device);
        let halving = gru.clone().load_state_dict(&dict, "").expect("loads");
        let out = halving
            .forward(input.clone(), None, Some(h0.clone()))
            .expect("forward");
        let h = out.state.into_data().try_to_vec_as::<f32>().expect("f32");
        assert!(
            (h[0] - 0.1).abs() < 1e-6 && (h[1] + 0.05).abs() < 1e-6,
            "{h:?}"
        );

        dict.insert(
            "bias_hh_l0",
            TensorData::new(vec![0.0f32, 0.0, 50.0, 50.0, 0.0, 0.0], [6]),
        );
        let keeping = gru.load_state_dict(&dict, "").expect("loads");
        let out = keeping.forward(input, None, Some(h0)).expect("forward");
        let h = out.state.into_data().try_to_vec_as::<f32>().expect("f32");
        assert!(
            (h[0] - 0.8).abs() < 1e-6 && (h[1] + 0.4).abs() < 1e-6,
            "{h:?}"
        );
    }

    #[test]
    fn step_by_step_equals_forward() {
        let device = Device::flex();
        let gru = GruConfig::new(3, 4)
            .with_num_layers(2)
            .init(&device)
            .expect("valid config");
        let input = Tensor::<3>::random([2, 3, 3], burn::tensor::Distribution::Default, &device);
        let full = gru.forward(input.clone(), None, None).expect("forward");
        let mut h = None;
        for t in 0..3 {
            let step = gru
                .step(input.clone().narrow(1, t, 1).reshape([2, 3]), h)
                .expect("step");
            let expected = full.output.clone().narrow(1, t, 1).reshape([2, 4]);
            let diff = (step.output - expected).abs().max().into_scalar::<f32>();
            assert!(diff < 1e-6, "step {t}: max diff {diff}");
            h = Some(step.state);
        }
    }
}
