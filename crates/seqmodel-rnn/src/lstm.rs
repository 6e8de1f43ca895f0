//! Multi-layer, bidirectional, variable-length LSTM, identical to PyTorch's `nn.LSTM`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Tensor};

use crate::driver::{self, LayerSpec, RecurrentOutput, StepOutput, cell_input_size, check_common};
use crate::{Error, Execution, LstmCell, LstmCellConfig, NamedParam, SequenceLengths, StateDict};

/// Configuration of an [`Lstm`] (PyTorch's `nn.LSTM` arguments, always `batch_first`).
#[derive(Config, Debug)]
pub struct LstmConfig {
    /// The fused kernel where one applies, or always the reference path (see [`Execution`]).
    #[config(default = "Execution::Auto")]
    pub execution: Execution,
    /// Features of each input step `I`.
    pub input_size: usize,
    /// Hidden size `H` (width of each of the 4 gates and of the cell state).
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
    /// Width of the projected hidden state `Hout` (`0` = no projection, `Hout = H`).
    #[config(default = 0)]
    pub proj_size: usize,
    /// Layer-normalised cells (Ba et al. 2016; see [`crate::LstmLayerNorm`]). Off by default
    /// (PyTorch has no such option); such a layer runs the reference path (no fused kernel).
    #[config(default = false)]
    pub layer_norm: bool,
}

/// The state of an [`Lstm`], with named parts (no positional `(h, c)` trap).
#[derive(Debug, Clone)]
pub struct LstmState {
    /// Hidden state `h`: `[num_layers * directions, batch, Hout]`.
    pub h: Tensor<3>,
    /// Cell state `c`: `[num_layers * directions, batch, H]`.
    pub c: Tensor<3>,
}

/// A multi-layer, optionally bidirectional LSTM over `[batch, time, input_size]` batches.
///
/// Gates fused in PyTorch's order (i, f, g, o); parameters named and shaped as PyTorch's state
/// dict (see [`Lstm::named_parameters`]). Built by [`LstmConfig::init`].
#[derive(Module, Debug)]
pub struct Lstm {
    /// One cell per layer and direction, index `layer * directions + direction`.
    pub cells: Vec<LstmCell>,
    /// Dropout between layers.
    pub dropout: Dropout,
    /// Input features `I`.
    pub input_size: usize,
    /// Hidden size `H`.
    pub hidden_size: usize,
    /// Projection size (`0` = none).
    pub proj_size: usize,
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

impl LstmConfig {
    /// Build the layer with PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// Fails with [`Error::InvalidConfig`] naming the field when a size is 0, `dropout` is not in
    /// `[0, 1)` or `proj_size >= hidden_size`.
    pub fn init(&self, device: &Device) -> crate::Result<Lstm> {
        check_common(
            "LstmConfig",
            self.input_size,
            self.hidden_size,
            self.num_layers,
            self.dropout,
        )?;
        if self.proj_size >= self.hidden_size {
            return Err(Error::InvalidConfig {
                config: "LstmConfig",
                field: "proj_size",
                reason: format!(
                    "must be smaller than hidden_size ({}), found {}",
                    self.hidden_size, self.proj_size
                ),
            });
        }
        let mut lstm = Lstm {
            cells: Vec::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            proj_size: self.proj_size,
            num_layers: self.num_layers,
            bidirectional: self.bidirectional,
            execution: self.execution,
            residual: self.residual,
        };
        let spec = lstm.spec();
        lstm.cells = (0..self.num_layers * spec.directions())
            .map(|k| {
                LstmCellConfig {
                    input_size: cell_input_size(&spec, k),
                    hidden_size: self.hidden_size,
                    proj_size: self.proj_size,
                    bias: self.bias,
                    layer_norm: self.layer_norm,
                }
                .init(device)
            })
            .collect::<crate::Result<_>>()?;
        Ok(lstm)
    }
}

impl Lstm {
    fn spec(&self) -> LayerSpec {
        LayerSpec {
            name: "Lstm",
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            hidden_out: self.hidden_out(),
            num_layers: self.num_layers,
            bidirectional: self.bidirectional,
            execution: self.execution,
            residual: self.residual,
        }
    }

    /// Width of the hidden state and of each direction's output: `proj_size` if set, else `H`.
    pub fn hidden_out(&self) -> usize {
        if self.proj_size > 0 {
            self.proj_size
        } else {
            self.hidden_size
        }
    }

    /// Width of the output's last dimension: `directions * hidden_out`.
    pub fn output_size(&self) -> usize {
        self.spec().directions() * self.hidden_out()
    }

    /// Run over a batch of sequences.
    ///
    /// # Shapes
    /// - `input`: `[batch, time, input_size]`
    /// - `lengths`: `[batch]` real steps per sequence and the padding side (`None` = all `time`);
    ///   each in `0..=time` (else [`crate::Error::Lengths`]); left padding gives the same
    ///   outputs at the real positions as right padding
    /// - `initial`: `h` `[num_layers * directions, batch, hidden_out]`, `c`
    ///   `[num_layers * directions, batch, hidden_size]` (`None` = zeros)
    /// - output: `[batch, time, directions * hidden_out]`, exactly 0 past each length
    /// - state: `h` and `c` as `initial`, at each sequence's own last valid step
    ///
    /// ```
    /// use burn::tensor::{Device, Tensor};
    /// use seqmodel_rnn::{LstmConfig, SequenceLengths};
    ///
    /// let device = Device::flex();
    /// let lstm = LstmConfig::new(8, 16).with_bidirectional(true).init(&device)?;
    /// let input = Tensor::<3>::zeros([2, 5, 8], &device);
    /// let lengths = SequenceLengths::right(vec![5, 3]);
    /// let out = lstm.forward(input, Some(&lengths), None)?;
    /// assert_eq!(out.output.dims(), [2, 5, 32]);
    /// assert_eq!(out.state.h.dims(), [2, 2, 16]);
    /// # Ok::<(), seqmodel_rnn::Error>(())
    /// ```
    pub fn forward(
        &self,
        input: Tensor<3>,
        lengths: Option<&SequenceLengths>,
        initial: Option<LstmState>,
    ) -> crate::Result<RecurrentOutput<LstmState>> {
        let (h0, c0) = match initial {
            Some(state) => (Some(state.h), Some(state.c)),
            None => (None, None),
        };
        let (output, h, c) = driver::forward_layers(
            &self.spec(),
            &self.cells,
            &self.dropout,
            input,
            lengths,
            h0,
            c0,
        )?;
        let c = c.ok_or_else(|| Error::Unsupported {
            layer: "Lstm",
            reason: "internal: LSTM cells returned no cell state".to_string(),
        })?;
        Ok(RecurrentOutput {
            output,
            state: LstmState { h, c },
        })
    }

    /// Advance one time step (for decoders); one-direction layers only.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_size]`
    /// - `state`: `h` `[num_layers, batch, hidden_out]`, `c` `[num_layers, batch, hidden_size]`
    ///   (`None` = zeros)
    /// - output: `[batch, hidden_out]` (the last layer's `h`), and the new state
    ///
    /// Running `step` over `t = 0..time` gives the same values as one [`Lstm::forward`].
    pub fn step(
        &self,
        input: Tensor<2>,
        state: Option<LstmState>,
    ) -> crate::Result<StepOutput<LstmState>> {
        let (h0, c0) = match state {
            Some(state) => (Some(state.h), Some(state.c)),
            None => (None, None),
        };
        let (output, h, c) =
            driver::step_layers(&self.spec(), &self.cells, &self.dropout, input, h0, c0)?;
        let c = c.ok_or_else(|| Error::Unsupported {
            layer: "Lstm",
            reason: "internal: LSTM cells returned no cell state".to_string(),
        })?;
        Ok(StepOutput {
            output,
            state: LstmState { h, c },
        })
    }

    /// Load a PyTorch `nn.LSTM` state dict whose keys start with `prefix` (e.g. `""` or
    /// `"encoder.rnn."`). Strict: a missing key, an extra key under `prefix` or a wrong shape
    /// is an error naming the key (and both shapes).
    pub fn load_state_dict(self, dict: &StateDict, prefix: &str) -> crate::Result<Self> {
        let spec = self.spec();
        let cells = driver::load_cells(&spec, self.cells, dict, prefix)?;
        Ok(Self { cells, ..self })
    }

    /// The parameters as a state dict PyTorch's `nn.LSTM.load_state_dict` accepts (keys under
    /// `prefix`); write it with [`StateDict::write`].
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

    fn zero_weights(lstm: &Lstm) -> StateDict {
        let mut dict = StateDict::new();
        for (name, param) in lstm.named_parameters() {
            let dims = param.dims();
            let n = dims.iter().product::<usize>();
            dict.insert(name, TensorData::new(vec![0.0f32; n], dims));
        }
        dict
    }

    /// All weights and biases 0: every gate pre-activation is 0, so i = f = o = 0.5, g = 0.
    /// From h0 = 0, c0 = 1: c1 = 0.5 * 1 + 0.5 * 0 = 0.5, h1 = 0.5 * tanh(0.5) = 0.2310586;
    /// c2 = 0.25, h2 = 0.5 * tanh(0.25) = 0.1224593.
    #[test]
    fn zero_weights_halve_the_cell_state() {
        let device = Device::flex();
        let lstm = LstmConfig::new(2, 1).init(&device).expect("valid config");
        let dict = zero_weights(&lstm);
        let lstm = lstm.load_state_dict(&dict, "").expect("loads");
        let state = LstmState {
            h: Tensor::zeros([1, 1, 1], &device),
            c: Tensor::ones([1, 1, 1], &device),
        };
        let input = Tensor::<3>::ones([1, 2, 2], &device);
        let out = lstm.forward(input, None, Some(state)).expect("forward");
        let output = out.output.into_data().try_to_vec_as::<f32>().expect("f32");
        assert!((output[0] - 0.231_058_6).abs() < 1e-6, "{output:?}");
        assert!((output[1] - 0.122_459_3).abs() < 1e-6, "{output:?}");
        let c = out.state.c.into_data().try_to_vec_as::<f32>().expect("f32");
        assert!((c[0] - 0.25).abs() < 1e-7, "{c:?}");
    }

    /// Stepping through time gives what `forward` gives, for a 2-layer projected LSTM.
    #[test]
    fn step_by_step_equals_forward() {
        let device = Device::flex();
        let lstm = LstmConfig::new(3, 5)
            .with_num_layers(2)
            .with_proj_size(2)
            .init(&device)
            .expect("valid config");
        let input = Tensor::<3>::random([2, 4, 3], burn::tensor::Distribution::Default, &device);
        let full = lstm.forward(input.clone(), None, None).expect("forward");
        let mut state = None;
        for t in 0..4 {
            let x = input.clone().narrow(1, t, 1).reshape([2, 3]);
            let step = lstm.step(x, state).expect("step");
            let expected = full.output.clone().narrow(1, t, 1).reshape([2, 2]);
            let diff = (step.output - expected).abs().max().into_scalar::<f32>();
            assert!(diff < 1e-6, "step {t}: max diff {diff}");
            state = Some(step.state);
        }
        let state = state.expect("four steps ran");
        let diff = (state.c - full.state.c).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-6, "final c differs by {diff}");
    }

    #[test]
    fn config_errors_name_the_field() {
        let device = Device::flex();
        let err = LstmConfig::new(3, 4)
            .with_proj_size(4)
            .init(&device)
            .expect_err("proj_size == hidden_size");
        assert_eq!(
            err.to_string(),
            "LstmConfig.proj_size: must be smaller than hidden_size (4), found 4"
        );
        let err = LstmConfig::new(3, 4)
            .with_dropout(1.0)
            .init(&device)
            .expect_err("dropout 1");
        assert!(err.to_string().starts_with("LstmConfig.dropout:"), "{err}");
    }

    #[test]
    fn wrong_input_width_is_an_error() {
        let device = Device::flex();
        let lstm = LstmConfig::new(3, 4).init(&device).expect("valid config");
        let err = lstm
            .forward(Tensor::zeros([2, 5, 7], &device), None, None)
            .expect_err("width 7 != 3");
        assert!(err.to_string().contains("[2, 5, 7]"), "{err}");
        let bi = LstmConfig::new(3, 4)
            .with_bidirectional(true)
            .init(&device)
            .expect("valid config");
        assert!(bi.step(Tensor::zeros([2, 3], &device), None).is_err());
    }

    /// Gradients reach every parameter and are finite.
    #[test]
    fn backward_reaches_every_parameter() {
        let device = Device::flex().autodiff();
        let lstm = LstmConfig::new(3, 4)
            .with_bidirectional(true)
            .with_num_layers(2)
            .init(&device)
            .expect("valid config");
        let input = Tensor::<3>::random([2, 3, 3], burn::tensor::Distribution::Default, &device);
        let out = lstm.forward(input, None, None).expect("forward");
        let grads = out.output.sum().backward();
        for (name, param) in lstm.named_parameters() {
            let NamedParam::Matrix(w) = param else {
                continue;
            };
            let g = w
                .grad(&grads)
                .unwrap_or_else(|| panic!("{name} has no gradient"));
            let g = g.into_data().try_to_vec_as::<f32>().expect("f32");
            assert!(g.iter().all(|v| v.is_finite()), "{name}");
            assert!(g.iter().any(|v| *v != 0.0), "{name} gradient is all zero");
        }
    }

    /// Dropout between layers acts only when training on an autodiff device: in inference two
    /// forwards agree exactly; while training they differ.
    #[test]
    fn dropout_only_in_training() {
        let config = LstmConfig::new(3, 8).with_num_layers(2).with_dropout(0.5);
        let input = |device: &Device| Tensor::<3>::ones([2, 4, 3], device);

        let device = Device::flex();
        let lstm = config.init(&device).expect("valid config");
        let a = lstm.forward(input(&device), None, None).expect("forward");
        let b = lstm.forward(input(&device), None, None).expect("forward");
        let diff = (a.output - b.output).abs().max().into_scalar::<f32>();
        assert_eq!(diff, 0.0, "inference must be deterministic");

        let device = Device::flex().autodiff();
        let lstm = config.init(&device).expect("valid config");
        let a = lstm.forward(input(&device), None, None).expect("forward");
        let b = lstm.forward(input(&device), None, None).expect("forward");
        let diff = (a.output - b.output).abs().max().into_scalar::<f32>();
        assert!(diff > 0.0, "training forwards should drop different units");
    }

    /// Layer norm with H = 1: every normalised gate part is 0 (a 1-wide vector minus its
    /// mean), so the gates are their biases (here 0): i = f = o = 0.5, g = 0; LN(c') = β_c
    /// = 0.3. From c0 = 1: c1 = 0.5, h1 = 0.5 tanh(0.3) = 0.1456563; c2 = 0.25, h2 the same.
    #[test]
    fn layer_norm_by_hand() {
        let device = Device::flex();
        let lstm = LstmConfig::new(2, 1)
            .with_layer_norm(true)
            .init(&device)
            .expect("valid config");
        let mut dict = zero_weights(&lstm);
        dict.insert("ln_c_bias_l0", TensorData::new(vec![0.3f32], [1]));
        let lstm = lstm.load_state_dict(&dict, "").expect("loads");
        let state = LstmState {
            h: Tensor::zeros([1, 1, 1], &device),
            c: Tensor::ones([1, 1, 1], &device),
        };
        let out = lstm
            .forward(Tensor::ones([1, 2, 2], &device), None, Some(state))
            .expect("forward");
        let output = out.output.into_data().try_to_vec_as::<f32>().expect("f32");
        assert!((output[0] - 0.145_656_3).abs() < 1e-6, "{output:?}");
        assert!((output[1] - 0.145_656_3).abs() < 1e-6, "{output:?}");
    }

    /// A layer-normalised LSTM has its four normalisation parameters per cell, gradients
    /// reach them, and `Execution::Fused` refuses it with the reason.
    #[test]
    fn layer_norm_parameters_train_and_refuse_the_fused_kernel() {
        let device = Device::flex().autodiff();
        let lstm = LstmConfig::new(3, 4)
            .with_layer_norm(true)
            .with_bidirectional(true)
            .init(&device)
            .expect("valid config");
        let names: Vec<String> = lstm
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        for name in ["ln_ih_weight_l0", "ln_hh_weight_l0_reverse", "ln_c_bias_l0"] {
            assert!(
                names.iter().any(|n| n == name),
                "{name} missing from {names:?}"
            );
        }
        let input = Tensor::<3>::random([2, 3, 3], burn::tensor::Distribution::Default, &device);
        let out = lstm.forward(input, None, None).expect("forward");
        let grads = (out.output * 1.5).sum().backward();
        let norm = lstm.cells[0].layer_norm.as_ref().expect("layer norm");
        for param in [
            &norm.ih_weight,
            &norm.hh_weight,
            &norm.c_weight,
            &norm.c_bias,
        ] {
            let g = param.grad(&grads).expect("gradient");
            let g = g.into_data().try_to_vec_as::<f32>().expect("f32");
            assert!(
                g.iter().all(|v| v.is_finite()) && g.iter().any(|v| *v != 0.0),
                "{g:?}"
            );
        }
        let fused = LstmConfig::new(3, 4)
            .with_layer_norm(true)
            .with_execution(Execution::Fused)
            .init(&Device::flex())
            .expect("valid config");
        let err = fused
            .forward(Tensor::zeros([1, 2, 3], &Device::flex()), None, None)
            .expect_err("no fused kernel");
        assert!(err.to_string().contains("layer-normalised"), "{err}");
    }

    /// A residual 2-layer LSTM's output is the plain 2-layer output plus the first layer's
    /// output (the second layer's input), with the same weights; `step` agrees with it.
    #[test]
    fn residual_adds_the_layer_input() {
        let device = Device::flex();
        let config = LstmConfig::new(3, 4)
            .with_num_layers(2)
            .with_bidirectional(true);
        let plain = config.init(&device).expect("valid config");
        let dict = plain.state_dict("");
        let residual = config
            .clone()
            .with_residual(true)
            .init(&device)
            .expect("valid config")
            .load_state_dict(&dict, "")
            .expect("same weights");
        let mut first_layer = StateDict::new();
        for key in dict.keys().filter(|k| k.contains("_l0")) {
            first_layer.insert(key, dict.get(key).expect("key").clone());
        }
        let first = LstmConfig::new(3, 4)
            .with_bidirectional(true)
            .init(&device)
            .expect("valid config")
            .load_state_dict(&first_layer, "")
            .expect("layer 0");
        let input = Tensor::<3>::random([2, 5, 3], burn::tensor::Distribution::Default, &device);
        let lengths = SequenceLengths::left(vec![5, 3]);
        let run = |lstm: &Lstm| {
            lstm.forward(input.clone(), Some(&lengths), None)
                .expect("forward")
        };
        let expected = run(&plain).output + run(&first).output;
        let diff = (run(&residual).output - expected)
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-6, "residual output differs by {diff}");

        let uni = LstmConfig::new(3, 4)
            .with_num_layers(3)
            .with_residual(true)
            .init(&device)
            .expect("valid config");
        let full = uni.forward(input.clone(), None, None).expect("forward");
        let mut state = None;
        for t in 0..5 {
            let x = input.clone().narrow(1, t, 1).reshape([2, 3]);
            let step = uni.step(x, state).expect("step");
            let expected = full.output.clone().narrow(1, t, 1).reshape([2, 4]);
            let diff = (step.output - expected).abs().max().into_scalar::<f32>();
            assert!(diff < 1e-6, "step {t}: differs by {diff}");
            state = Some(step.state);
        }
    }
}
