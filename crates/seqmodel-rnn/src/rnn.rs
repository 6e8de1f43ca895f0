//! Multi-layer, bidirectional, variable-length Elman RNN (tanh or ReLU), identical to
//! PyTorch's `nn.RNN`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Tensor};

use crate::driver::{self, LayerSpec, RecurrentOutput, StepOutput, cell_input_size, check_common};
use crate::{
    Execution, NamedParam, Nonlinearity, RnnCell, RnnCellConfig, SequenceLengths, StateDict,
};

/// Configuration of an [`Rnn`] (PyTorch's `nn.RNN` arguments, always `batch_first`).
#[derive(Config, Debug)]
pub struct RnnConfig {
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
    /// tanh (default) or ReLU.
    #[config(default = "Nonlinearity::Tanh")]
    pub nonlinearity: Nonlinearity,
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

/// A multi-layer, optionally bidirectional Elman RNN over `[batch, time, input_size]` batches:
/// `h' = act(W_ih x + b_ih + W_hh h + b_hh)`. Built by [`RnnConfig::init`].
#[derive(Module, Debug)]
pub struct Rnn {
    /// One cell per layer and direction, index `layer * directions + direction`.
    pub cells: Vec<RnnCell>,
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

impl RnnConfig {
    /// Build the layer with PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// Fails with [`crate::Error::InvalidConfig`] naming the field when a size is 0 or
    /// `dropout` is not in `[0, 1)`.
    pub fn init(&self, device: &Device) -> crate::Result<Rnn> {
        check_common(
            "RnnConfig",
            self.input_size,
            self.hidden_size,
            self.num_layers,
            self.dropout,
        )?;
        let mut rnn = Rnn {
            cells: Vec::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            bidirectional: self.bidirectional,
            execution: self.execution,
            residual: self.residual,
        };
        let spec = rnn.spec();
        rnn.cells = (0..self.num_layers * spec.directions())
            .map(|k| {
                RnnCellConfig {
                    input_size: cell_input_size(&spec, k),
                    hidden_size: self.hidden_size,
                    nonlinearity: self.nonlinearity,
                    bias: self.bias,
                }
                .init(device)
            })
            .collect::<crate::Result<_>>()?;
        Ok(rnn)
    }
}

impl Rnn {
    fn spec(&self) -> LayerSpec {
        LayerSpec {
            name: "Rnn",
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
    /// use seqmodel_rnn::{Nonlinearity, RnnConfig};
    ///
    /// let device = Device::flex();
    /// let rnn = RnnConfig::new(8, 16)
    ///     .with_nonlinearity(Nonlinearity::Relu)
    ///     .with_bidirectional(true)
    ///     .init(&device)?;
    /// let out = rnn.forward(Tensor::<3>::zeros([4, 6, 8], &device), None, None)?;
    /// assert_eq!(out.output.dims(), [4, 6, 32]);
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

    /// Load a PyTorch `nn.RNN` state dict whose keys start with `prefix`. Strict: a missing
    /// key, an extra key under `prefix` or a wrong shape is an error naming the key.
    pub fn load_state_dict(self, dict: &StateDict, prefix: &str) -> crate::Result<Self> {
        let spec = self.spec();
        let cells = driver::load_cells(&spec, self.cells, dict, prefix)?;
        Ok(Self { cells, ..self })
    }

    /// The parameters as a state dict PyTorch's `nn.RNN.load_state_dict` accepts.
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

    /// 1 input, H = 1, W_ih = 1, W_hh = -2, biases 0, ReLU, h0 = 0, x = [1, 1]:
    /// h1 = relu(1) = 1, h2 = relu(1 - 2) = 0. With tanh: h1 = tanh(1) = 0.7615942,
    /// h2 = tanh(1 - 2 * 0.7615942) = tanh(-0.5231884) = -0.4801570.
    #[test]
    fn hand_computed_steps() {
        let device = Device::flex();
        let mut dict = StateDict::new();
        dict.insert("weight_ih_l0", TensorData::new(vec![1.0f32], [1, 1]));
        dict.insert("weight_hh_l0", TensorData::new(vec![-2.0f32], [1, 1]));
        dict.insert("bias_ih_l0", TensorData::new(vec![0.0f32], [1]));
        dict.insert("bias_hh_l0", TensorData::new(vec![0.0f32], [1]));
        let input = Tensor::<3>::ones([1, 2, 1], &device);
        for (nonlinearity, expected) in [
            (Nonlinearity::Relu, [1.0, 0.0]),
            (Nonlinearity::Tanh, [0.761_594_2, -0.480_157]),
        ] {
            let rnn = RnnConfig::new(1, 1)
                .with_nonlinearity(nonlinearity)
                .init(&device)
                .expect("valid config")
                .load_state_dict(&dict, "")
                .expect("loads");
            let out = rnn.forward(input.clone(), None, None).expect("forward");
            let got = out.output.into_data().try_to_vec_as::<f32>().expect("f32");
            for (g, e) in got.iter().zip(expected) {
                assert!(
                    (g - e).abs() < 1e-6,
                    "{nonlinearity:?}: {got:?} vs {expected:?}"
                );
            }
        }
    }

    #[test]
    fn state_dict_errors_name_key_and_shapes() {
        let device = Device::flex();
        let rnn = RnnConfig::new(2, 3).init(&device).expect("valid config");
        let mut dict = rnn.state_dict("enc.rnn.");
        let back = rnn.clone().load_state_dict(&dict, "enc.rnn.");
        assert!(back.is_ok());

        dict.insert(
            "enc.rnn.weight_hh_l0",
            TensorData::new(vec![0.0f32; 6], [3, 2]),
        );
        let err = rnn
            .clone()
            .load_state_dict(&dict, "enc.rnn.")
            .expect_err("shape");
        assert_eq!(
            err.to_string(),
            "<memory>: key \"enc.rnn.weight_hh_l0\": expected shape [3, 3], found [3, 2]"
        );

        let mut dict = rnn.state_dict("enc.rnn.");
        dict.remove("enc.rnn.bias_ih_l0");
        let err = rnn
            .clone()
            .load_state_dict(&dict, "enc.rnn.")
            .expect_err("missing");
        assert_eq!(
            err.to_string(),
            "<memory>: missing key \"enc.rnn.bias_ih_l0\" (expected shape [3])"
        );

        let mut dict = rnn.state_dict("enc.rnn.");
        dict.insert(
            "enc.rnn.weight_ih_l1",
            TensorData::new(vec![0.0f32; 9], [3, 3]),
        );
        dict.insert("dec.other", TensorData::new(vec![0.0f32; 2], [2]));
        let err = rnn.load_state_dict(&dict, "enc.rnn.").expect_err("extra");
        assert!(
            err.to_string()
                .contains("unexpected key \"enc.rnn.weight_ih_l1\" (shape [3, 3])"),
            "{err}"
        );
    }
}
