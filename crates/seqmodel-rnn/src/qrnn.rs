//! Quasi-recurrent neural network (Bradbury, Merity, Xiong, Socher 2017, "Quasi-Recurrent
//! Neural Networks"): convolutional gates over a window of 1 or 2 steps, then an elementwise
//! recurrence ("pooling") with no matrix product inside the time loop.
//!
//! Per layer and direction, with `x̃_t = [x_{t-1}, x_t]` (window 2; `x_t` alone for window 1,
//! and `x_{-1} = 0`):
//! `z = tanh(W_z x̃ + b_z)`, `f = sigmoid(W_f x̃ + b_f)`, `o = sigmoid(..)`, `i = sigmoid(..)`;
//! - f-pooling: `h_t = c_t = f_t * c_{t-1} + (1 - f_t) * z_t`
//! - fo-pooling: `c_t = f_t * c_{t-1} + (1 - f_t) * z_t`, `h_t = o_t * c_t`
//! - ifo-pooling: `c_t = f_t * c_{t-1} + i_t * z_t`, `h_t = o_t * c_t`
//!
//! On flex (`f32`, [`Execution::Auto`] or [`Execution::Fused`]) each layer direction is one op
//! (the crate's `qrnn_flex` module): one packed GEMM producing every gate of every step, then
//! one host pass squashing the gates and running the pooling, with a handwritten backward.
//! Elsewhere (other backends, other float types, zoneout while training, or
//! [`Execution::Reference`]) the gates are Burn matmuls and the recurrence a log-depth scan over
//! whole tensors (the crate's `scan` module). The reverse direction reads the window the other
//! way (`[x_{t+1}, x_t]`): it is the forward machinery on the time-reversed sequence.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use crate::align::LeftAlignment;
use crate::driver::{RecurrentOutput, check_common};
use crate::fused::{Execution, FusedUnavailable};
use crate::scan::linear_scan;
#[cfg(feature = "flex")]
use crate::squash_flex::{sigmoid, tanh};
use crate::state_dict::{ParamSink, ParamSource, StateDict};
use crate::{Error, PadSide, SequenceLengths};

/// Which recurrence a [`Qrnn`] runs over its gates (the paper's three poolings).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum QrnnPooling {
    /// `h = c = f * c + (1 - f) * z` (gates z, f).
    F,
    /// `c = f * c + (1 - f) * z`, `h = o * c` (gates z, f, o).
    Fo,
    /// `c = f * c + i * z`, `h = o * c` (gates z, f, o, i).
    Ifo,
}

impl QrnnPooling {
    /// Number of gates `G` the convolution produces, stacked in the order z, f, o, i.
    pub fn gates(self) -> usize {
        match self {
            QrnnPooling::F => 2,
            QrnnPooling::Fo => 3,
            QrnnPooling::Ifo => 4,
        }
    }
}

/// Configuration of a [`Qrnn`].
#[derive(Config, Debug)]
pub struct QrnnConfig {
    /// Features of each input step `I`.
    pub input_size: usize,
    /// Hidden size `H` (width of each gate, of `c` and of each direction's output).
    pub hidden_size: usize,
    /// Number of stacked layers `L`.
    #[config(default = 1)]
    pub num_layers: usize,
    /// Run a second, reverse direction and concatenate its outputs (`D = 2`).
    #[config(default = false)]
    pub bidirectional: bool,
    /// Steps each gate convolution sees: 1 (`x_t`) or 2 (`x_{t-1}, x_t`).
    #[config(default = 2)]
    pub window: usize,
    /// The recurrence over the gates.
    #[config(default = "QrnnPooling::Fo")]
    pub pooling: QrnnPooling,
    /// Dropout probability on each layer's output except the last (only in training).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Zoneout probability: in training, each forget gate is set to 1 (the state kept as it
    /// was) with this probability (the paper's regularisation of the pooling).
    #[config(default = 0.0)]
    pub zoneout: f64,
    /// Add each layer's input to its output from the second layer on (their widths are both
    /// `D * H`), as in residual stacks.
    #[config(default = false)]
    pub residual: bool,
    /// The one-op kernel on flex or the reference path (see the module docs); with
    /// [`Execution::Fused`], `forward` fails where the kernel cannot run the call.
    #[config(default = "Execution::Auto")]
    pub execution: Execution,
}

/// The gate convolution of one layer and direction.
#[derive(Module, Debug)]
pub struct QrnnGates {
    /// `weight_l{k}`: `[G * H, window * In]`; gate blocks z, f, o, i; column block `w` of
    /// `window` multiplies `x_{t - (window - 1) + w}` (oldest step first).
    pub weight: Param<Tensor<2>>,
    /// `bias_l{k}`: `[G * H]`.
    pub bias: Param<Tensor<1>>,
}

/// A multi-layer, optionally bidirectional Quasi-RNN over `[batch, time, input_size]` batches.
///
/// Lengths work as in the RNN layers ([`crate::Lstm::forward`]): outputs are exactly 0 past
/// each length, the final state is taken at each sequence's last real step, the reverse
/// direction starts at it, and left-padded batches give the same values at their real
/// positions. Built by [`QrnnConfig::init`].
#[derive(Module, Debug)]
pub struct Qrnn {
    /// One gate convolution per layer and direction, index `layer * directions + direction`.
    pub gates: Vec<QrnnGates>,
    /// Dropout between layers.
    pub dropout: Dropout,
    /// Zoneout of the forget gates (a dropout of `1 - f` whose kept values are not rescaled).
    pub zoneout: Dropout,
    /// Input features `I`.
    pub input_size: usize,
    /// Hidden size `H`.
    pub hidden_size: usize,
    /// Number of layers `L`.
    pub num_layers: usize,
    /// Whether there is a reverse direction.
    pub bidirectional: bool,
    /// Convolution window (1 or 2).
    pub window: usize,
    /// Whether layers from the second on add their input to their output.
    pub residual: bool,
    /// The pooling (not a parameter).
    #[module(skip)]
    pub pooling: QrnnPooling,
    /// One-op kernel or reference path (not a parameter; not saved in records).
    #[module(skip)]
    pub execution: Execution,
}

impl QrnnConfig {
    /// Build the layer; weights from `U(-1/sqrt(window * In), 1/sqrt(window * In))` (PyTorch's
    /// `nn.Linear` default for the gate projection), biases 0.
    ///
    /// Fails with [`Error::InvalidConfig`] naming the field when a size is 0, `window` is not 1
    /// or 2, or `dropout`/`zoneout` is not in `[0, 1)`.
    pub fn init(&self, device: &Device) -> crate::Result<Qrnn> {
        check_common(
            "QrnnConfig",
            self.input_size,
            self.hidden_size,
            self.num_layers,
            self.dropout,
        )?;
        let invalid = |field: &'static str, reason: String| {
            Err(Error::InvalidConfig {
                config: "QrnnConfig",
                field,
                reason,
            })
        };
        if !(1..=2).contains(&self.window) {
            return invalid("window", format!("must be 1 or 2, found {}", self.window));
        }
        if !(0.0..1.0).contains(&self.zoneout) {
            return invalid(
                "zoneout",
                format!(
                    "must be in [0, 1) (the probability of keeping a state unchanged), found {}",
                    self.zoneout
                ),
            );
        }
        let directions = if self.bidirectional { 2 } else { 1 };
        let rows = self.pooling.gates() * self.hidden_size;
        let gates = (0..self.num_layers * directions)
            .map(|k| {
                let width = if k < directions {
                    self.input_size
                } else {
                    directions * self.hidden_size
                };
                let fan_in = self.window * width;
                let bound = 1.0 / (fan_in as f64).sqrt();
                QrnnGates {
                    weight: Param::from_tensor(Tensor::random(
                        [rows, fan_in],
                        Distribution::Uniform(-bound, bound),
                        device,
                    )),
                    bias: Param::from_tensor(Tensor::zeros([rows], device)),
                }
            })
            .collect();
        Ok(Qrnn {
            gates,
            dropout: DropoutConfig::new(self.dropout).init(),
            zoneout: DropoutConfig::new(self.zoneout).init(),
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            bidirectional: self.bidirectional,
            window: self.window,
            residual: self.residual,
            pooling: self.pooling,
            execution: self.execution,
        })
    }
}

impl Qrnn {
    /// Number of directions `D` (1 or 2).
    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Width of the output's last dimension: `directions * hidden_size`.
    pub fn output_size(&self) -> usize {
        self.directions() * self.hidden_size
    }

    /// Run over a batch of sequences.
    ///
    /// # Shapes
    /// - `input`: `[batch, time, input_size]`
    /// - `lengths`: `[batch]` real steps per sequence and the padding side (`None` = all `time`);
    ///   each in `0..=time` (else [`Error::Lengths`])
    /// - `initial`: `c_0` `[num_layers * directions, batch, hidden_size]` (`None` = zeros)
    /// - output: `[batch, time, directions * hidden_size]`, exactly 0 past each length
    /// - state: `c_n` `[num_layers * directions, batch, hidden_size]` at each sequence's last
    ///   real step (for the reverse direction: after its step 0)
    ///
    /// Fails with [`Error::InputShape`] or [`Error::Lengths`] naming the input, and, with
    /// [`Execution::Fused`], with [`Error::FusedUnavailable`] where the one-op kernel cannot
    /// run (not flex, not `f32`, zoneout while training).
    ///
    /// ```
    /// use burn::tensor::{Device, Tensor};
    /// use seqmodel_rnn::{QrnnConfig, SequenceLengths};
    ///
    /// let device = Device::flex();
    /// let qrnn = QrnnConfig::new(8, 16).with_bidirectional(true).init(&device)?;
    /// let out = qrnn.forward(
    ///     Tensor::<3>::ones([2, 5, 8], &device),
    ///     Some(&SequenceLengths::right(vec![5, 3])),
    ///     None,
    /// )?;
    /// assert_eq!(out.output.dims(), [2, 5, 32]);
    /// assert_eq!(out.state.dims(), [2, 2, 16]);
    /// # Ok::<(), seqmodel_rnn::Error>(())
    /// ```
    pub fn forward(
        &self,
        input: Tensor<3>,
        lengths: Option<&SequenceLengths>,
        initial: Option<Tensor<3>>,
    ) -> crate::Result<RecurrentOutput<Tensor<3>>> {
        let [batch, time, features] = input.dims();
        if features != self.input_size || time == 0 || batch == 0 {
            return Err(Error::InputShape {
                layer: "Qrnn",
                what: "input",
                expected: format!(
                    "[batch, time, {}] with batch >= 1 and time >= 1",
                    self.input_size
                ),
                found: input.dims().to_vec(),
            });
        }
        let device = input.device();
        let fused = match (self.execution, self.fused_unavailable(&input)) {
            (Execution::Reference, _) | (Execution::Auto, Some(_)) => false,
            (_, None) => true,
            (Execution::Fused, Some(reason)) => {
                return Err(Error::FusedUnavailable {
                    layer: "Qrnn",
                    reason,
                });
            }
        };
        let cells = self.num_layers * self.directions();
        if let Some(c0) = &initial {
            let expected = [cells, batch, self.hidden_size];
            if c0.dims() != expected {
                return Err(Error::InputShape {
                    layer: "Qrnn",
                    what: "initial state c0",
                    expected: format!("{expected:?} ([num_layers * directions, batch, hidden])"),
                    found: c0.dims().to_vec(),
                });
            }
        }
        let lengths = match lengths {
            Some(lengths) => {
                lengths
                    .validate(batch, time)
                    .map_err(|source| Error::Lengths {
                        layer: "Qrnn",
                        source,
                    })?;
                (!lengths.is_full(time)).then_some(lengths)
            }
            None => None,
        };
        let alignment = lengths
            .filter(|l| l.side() == PadSide::Left)
            .map(|l| LeftAlignment::new(l.as_slice(), time, &device));
        // `[batch, time, 1]`: 1 at real steps, 0 at (trailing, after alignment) padding. The
        // one-op kernel takes the lengths instead.
        let keep = lengths.filter(|_| !fused).map(|l| {
            let values: Vec<f32> = l
                .as_slice()
                .iter()
                .flat_map(|&n| (0..time).map(move |t| if t < n { 1.0 } else { 0.0 }))
                .collect();
            Tensor::<3>::from_data(TensorData::new(values, [batch, time, 1]), &device)
        });
        let mut x = match &alignment {
            Some(alignment) => alignment.to_right(input),
            None => input,
        };
        if let Some(keep) = &keep {
            // x_{t+1} of the reverse window reads the first padding step: it must be 0.
            x = x * keep.clone();
        }
        let steps: Vec<usize> = match lengths {
            Some(lengths) => lengths.as_slice().to_vec(),
            None => vec![time; batch],
        };
        let mut finals = Vec::with_capacity(cells);
        for layer in 0..self.num_layers {
            if layer > 0 {
                x = self.dropout.forward(x);
            }
            let mut outputs = Vec::with_capacity(self.directions());
            for d in 0..self.directions() {
                let k = layer * self.directions() + d;
                let c0 = match &initial {
                    Some(c0) => c0
                        .clone()
                        .narrow(0, k, 1)
                        .reshape([batch, self.hidden_size]),
                    None => Tensor::zeros([batch, self.hidden_size], &device),
                };
                let reverse = d == 1;
                let (h, c_n) = if fused {
                    self.fused_direction(&self.gates[k], x.clone(), &steps, c0, reverse)
                } else {
                    self.direction(&self.gates[k], x.clone(), keep.clone(), c0, reverse)
                };
                outputs.push(h);
                finals.push(c_n);
            }
            let out = if outputs.len() == 1 {
                outputs.remove(0)
            } else {
                Tensor::cat(outputs, 2)
            };
            x = if self.residual && layer > 0 {
                out + x
            } else {
                out
            };
        }
        if let Some(alignment) = &alignment {
            x = alignment.to_left(x);
        }
        Ok(RecurrentOutput {
            output: x,
            state: Tensor::stack(finals, 0),
        })
    }

    /// Why the one-op kernel cannot run on `input` (`None`: it can).
    fn fused_unavailable(&self, input: &Tensor<3>) -> Option<FusedUnavailable> {
        #[cfg(feature = "flex")]
        {
            let device = input.device();
            if !crate::qrnn_flex::applies(&device, input.dtype()) {
                return Some(if input.dtype() != burn::tensor::DType::F32 {
                    FusedUnavailable::DType {
                        dtype: format!("{:?}", input.dtype()),
                    }
                } else {
                    FusedUnavailable::Backend {
                        device: format!("{device:?}"),
                    }
                });
            }
            self.zoneout_active(&device)
                .then_some(FusedUnavailable::Zoneout)
        }
        #[cfg(not(feature = "flex"))]
        {
            let _ = input;
            Some(FusedUnavailable::NotCompiled)
        }
    }

    /// Whether zoneout acts in this call: training on an autodiff device with `zoneout > 0`.
    fn zoneout_active(&self, device: &Device) -> bool {
        self.zoneout.prob > 0.0 && self.zoneout.training.is_enabled() && device.is_autodiff()
    }

    /// [`Qrnn::direction`] as the one-op kernel on flex: right-aligned `x`
    /// `[batch, time, In]` with `lengths` real steps per row.
    #[cfg(feature = "flex")]
    fn fused_direction(
        &self,
        gates: &QrnnGates,
        x: Tensor<3>,
        lengths: &[usize],
        c0: Tensor<2>,
        reverse: bool,
    ) -> (Tensor<3>, Tensor<2>) {
        crate::qrnn_flex::direction(
            x,
            gates.weight.val(),
            gates.bias.val(),
            c0,
            lengths.to_vec(),
            self.pooling,
            self.window,
            reverse,
        )
    }

    /// Never called: without flex, [`Qrnn::fused_unavailable`] always names a reason.
    #[cfg(not(feature = "flex"))]
    fn fused_direction(
        &self,
        gates: &QrnnGates,
        x: Tensor<3>,
        _lengths: &[usize],
        c0: Tensor<2>,
        reverse: bool,
    ) -> (Tensor<3>, Tensor<2>) {
        self.direction(gates, x, None, c0, reverse)
    }

    /// One layer and direction over right-aligned `x` (`[batch, time, In]`, 0 at padding):
    /// returns `h` `[batch, time, H]` (0 at padding) and `c_n` `[batch, H]`.
    fn direction(
        &self,
        gates: &QrnnGates,
        x: Tensor<3>,
        keep: Option<Tensor<3>>,
        c0: Tensor<2>,
        reverse: bool,
    ) -> (Tensor<3>, Tensor<2>) {
        let [batch, time, width] = x.dims();
        let hidden = self.hidden_size;
        let flip = |t: Tensor<3>| if reverse { t.flip([1]) } else { t };
        let x = flip(x);
        let keep = keep.map(flip);
        let windowed = if self.window == 2 {
            let zeros = Tensor::zeros([batch, 1, width], &x.device());
            let previous = if time == 1 {
                zeros
            } else {
                Tensor::cat(vec![zeros, x.clone().narrow(1, 0, time - 1)], 1)
            };
            Tensor::cat(vec![previous, x], 2)
        } else {
            x
        };
        // One matmul per gate on the contiguous row block of the weight: each gate comes out
        // contiguous (column slices of one fused `[.., G * H]` product made the elementwise
        // work 5x slower on flex).
        let rows = windowed.reshape([batch * time, self.window * width]);
        let weight = gates.weight.val();
        let bias = gates.bias.val();
        let gate = |g: usize| {
            let w = weight.clone().narrow(0, g * hidden, hidden);
            let b = bias.clone().narrow(0, g * hidden, hidden);
            (rows.clone().matmul(w.transpose()) + b.unsqueeze::<2>()).reshape([batch, time, hidden])
        };
        let z = tanh(gate(0));
        let f = self.zoneout_forget(sigmoid(gate(1)));
        let (a, b) = match self.pooling {
            QrnnPooling::F | QrnnPooling::Fo => (f.clone(), (f.ones_like() - f) * z),
            QrnnPooling::Ifo => (f, sigmoid(gate(3)) * z),
        };
        // Padding steps are the identity map (a = 1, b = 0): the state stays frozen past a
        // length, and the reverse direction starts from c0 at each sequence's last real step.
        let (a, b) = match &keep {
            Some(keep) => (
                a * keep.clone() + keep.ones_like() - keep.clone(),
                b * keep.clone(),
            ),
            None => (a, b),
        };
        let c = linear_scan(a, b, c0);
        let c_n = c.clone().narrow(1, time - 1, 1).reshape([batch, hidden]);
        let h = match self.pooling {
            QrnnPooling::F => c,
            QrnnPooling::Fo | QrnnPooling::Ifo => sigmoid(gate(2)) * c,
        };
        let h = match &keep {
            Some(keep) => h * keep.clone(),
            None => h,
        };
        (flip(h), c_n)
    }

    /// Zoneout: in training on an autodiff device (as [`Dropout`] decides it), each `f` is set
    /// to 1 with probability `zoneout`; elsewhere `f` is unchanged.
    fn zoneout_forget(&self, f: Tensor<3>) -> Tensor<3> {
        let p = self.zoneout.prob;
        if !self.zoneout_active(&f.device()) {
            return f;
        }
        let zoned = f.random_like(Distribution::Bernoulli(p));
        f.clone() + zoned * (f.ones_like() - f)
    }

    /// PyTorch-style suffix of cell `k` (`_l1`, `_l0_reverse`).
    fn suffix(&self, k: usize) -> String {
        let d = self.directions();
        let reverse = if k % d == 1 { "_reverse" } else { "" };
        format!("_l{}{reverse}", k / d)
    }

    /// The parameters as a state dict (`weight_l0`, `bias_l0`, `weight_l0_reverse`, ...; keys
    /// under `prefix`); write it with [`StateDict::write`].
    pub fn state_dict(&self, prefix: &str) -> StateDict {
        let mut dict = StateDict::new();
        let mut sink = ParamSink::new(&mut dict, prefix);
        for (k, gates) in self.gates.iter().enumerate() {
            let suffix = self.suffix(k);
            sink.put(&format!("weight{suffix}"), gates.weight.val());
            sink.put(&format!("bias{suffix}"), gates.bias.val());
        }
        dict
    }

    /// Load parameters written by [`Qrnn::state_dict`] under `prefix`. Strict: a missing key,
    /// an extra key under `prefix` or a wrong shape is an error naming the key.
    pub fn load_state_dict(self, dict: &StateDict, prefix: &str) -> crate::Result<Self> {
        let mut source = ParamSource::new(dict, prefix);
        let suffixes: Vec<String> = (0..self.gates.len()).map(|k| self.suffix(k)).collect();
        let gates = self
            .gates
            .into_iter()
            .zip(&suffixes)
            .map(|(gates, suffix)| {
                Ok(QrnnGates {
                    weight: source.take2(gates.weight, &format!("weight{suffix}"))?,
                    bias: source.take1(gates.bias, &format!("bias{suffix}"))?,
                })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        source.finish()?;
        Ok(Self { gates, ..self })
    }
}

#[cfg(not(feature = "flex"))]
use burn::tensor::activation::sigmoid;

#[cfg(not(feature = "flex"))]
fn tanh(x: Tensor<3>) -> Tensor<3> {
    x.tanh()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constant_qrnn(pooling: QrnnPooling, window: usize, weight: f32, bias: f32) -> Qrnn {
        let device = Device::flex();
        let qrnn = QrnnConfig::new(1, 1)
            .with_pooling(pooling)
            .with_window(window)
            .init(&device)
            .expect("valid config");
        let rows = pooling.gates();
        let mut dict = StateDict::new();
        dict.insert(
            "weight_l0",
            TensorData::new(vec![weight; rows * window], [rows, window]),
        );
        dict.insert("bias_l0", TensorData::new(vec![bias; rows], [rows]));
        qrnn.load_state_dict(&dict, "").expect("loads")
    }

    fn values(t: Tensor<3>) -> Vec<f32> {
        t.into_data().try_to_vec_as::<f32>().expect("f32")
    }

    /// Weights 0, bias 0: z = tanh(0) = 0, f = o = 0.5. fo-pooling from c0 = 1:
    /// c1 = 0.5 * 1 + 0.5 * 0 = 0.5, h1 = 0.5 * 0.5 = 0.25; c2 = 0.25, h2 = 0.125.
    #[test]
    fn fo_pooling_halves_the_state() {
        let device = Device::flex();
        let qrnn = constant_qrnn(QrnnPooling::Fo, 2, 0.0, 0.0);
        let out = qrnn
            .forward(
                Tensor::ones([1, 2, 1], &device),
                None,
                Some(Tensor::ones([1, 1, 1], &device)),
            )
            .expect("forward");
        assert_eq!(values(out.output), vec![0.25, 0.125]);
        assert_eq!(values(out.state), vec![0.25]);
    }

    /// Window 2, every weight 1, bias 0, f-pooling, input x = [1, 2], c0 = 0:
    /// step 0 sees [x_{-1}, x_0] = [0, 1]: pre-activation 1, z = tanh(1) = 0.7615942,
    /// f = sigmoid(1) = 0.7310586, c0' = (1 - f) z = 0.2689414 * 0.7615942 = 0.2048242.
    /// Step 1 sees [1, 2]: pre-activation 3, z = tanh(3) = 0.9950548, f = sigmoid(3) =
    /// 0.9525741, c1 = 0.9525741 * 0.2048242 + 0.0474259 * 0.9950548 = 0.2423016.
    #[test]
    fn window_two_f_pooling_by_hand() {
        let device = Device::flex();
        let qrnn = constant_qrnn(QrnnPooling::F, 2, 1.0, 0.0);
        let out = qrnn
            .forward(Tensor::from_data([[[1.0], [2.0]]], &device), None, None)
            .expect("forward");
        let got = values(out.output);
        assert!((got[0] - 0.204_824_2).abs() < 1e-6, "{got:?}");
        assert!((got[1] - 0.242_301_6).abs() < 1e-6, "{got:?}");
    }

    /// ifo-pooling, window 1, weights 0, bias 0: z = 0 makes every c = f * c = 0.5^t * c0;
    /// h = 0.5 * c. From c0 = 2: c = 1, 0.5, 0.25 and h = 0.5, 0.25, 0.125.
    #[test]
    fn ifo_pooling_by_hand() {
        let device = Device::flex();
        let qrnn = constant_qrnn(QrnnPooling::Ifo, 1, 0.0, 0.0);
        let out = qrnn
            .forward(
                Tensor::ones([1, 3, 1], &device),
                None,
                Some(Tensor::full([1, 1, 1], 2.0, &device)),
            )
            .expect("forward");
        assert_eq!(values(out.output), vec![0.5, 0.25, 0.125]);
    }

    #[test]
    fn config_errors_name_the_field() {
        let device = Device::flex();
        let err = QrnnConfig::new(3, 4)
            .with_window(3)
            .init(&device)
            .expect_err("window 3");
        assert_eq!(
            err.to_string(),
            "QrnnConfig.window: must be 1 or 2, found 3"
        );
        let err = QrnnConfig::new(3, 4)
            .with_zoneout(1.0)
            .init(&device)
            .expect_err("zoneout 1");
        assert!(err.to_string().starts_with("QrnnConfig.zoneout:"), "{err}");
        let qrnn = QrnnConfig::new(3, 4).init(&device).expect("valid");
        let err = qrnn
            .forward(Tensor::zeros([2, 5, 7], &device), None, None)
            .expect_err("width 7");
        assert!(err.to_string().contains("[2, 5, 7]"), "{err}");
        let err = qrnn
            .forward(
                Tensor::zeros([2, 5, 3], &device),
                Some(&SequenceLengths::right(vec![6, 1])),
                None,
            )
            .expect_err("length 6 > 5");
        assert!(err.to_string().starts_with("Qrnn: lengths:"), "{err}");
    }

    /// Zoneout acts only in training on an autodiff device. In inference the layer equals one
    /// without zoneout, and from c0 = 3 the state decays (f ~ 0.5 over 6 steps); while
    /// training with p = 0.999 almost every f is 1 and the state stays near 3.
    #[test]
    fn zoneout_only_in_training() {
        let config = QrnnConfig::new(2, 8).with_zoneout(0.999);
        let input = |device: &Device| Tensor::<3>::ones([2, 6, 2], device);
        let c0 = |device: &Device| Tensor::<3>::full([1, 2, 8], 3.0, device);
        let mean_move = |state: Tensor<3>| (state - 3.0).abs().mean().into_scalar::<f32>();

        let device = Device::flex();
        let qrnn = config.init(&device).expect("valid");
        let plain = QrnnConfig::new(2, 8)
            .init(&device)
            .expect("valid")
            .load_state_dict(&qrnn.state_dict(""), "")
            .expect("same weights");
        let a = qrnn
            .forward(input(&device), None, Some(c0(&device)))
            .expect("forward");
        let b = plain
            .forward(input(&device), None, Some(c0(&device)))
            .expect("forward");
        let diff = (a.state.clone() - b.state).abs().max().into_scalar::<f32>();
        assert_eq!(diff, 0.0, "inference ignores zoneout");
        let moved = mean_move(a.state);
        assert!(
            moved > 1.0,
            "without zoneout the state decays, moved {moved}"
        );

        let device = Device::flex().autodiff();
        let qrnn = config
            .init(&device)
            .expect("valid")
            .load_state_dict(&qrnn.state_dict(""), "")
            .expect("same weights");
        let out = qrnn
            .forward(input(&device), None, Some(c0(&device)))
            .expect("forward");
        let moved = mean_move(out.state);
        assert!(moved < 0.3, "zoneout 0.999 keeps the state, moved {moved}");
    }

    /// Gradients reach every parameter and are finite (bidirectional, two layers, residual).
    #[test]
    fn backward_reaches_every_parameter() {
        let device = Device::flex().autodiff();
        let qrnn = QrnnConfig::new(3, 4)
            .with_bidirectional(true)
            .with_num_layers(2)
            .with_residual(true)
            .with_pooling(QrnnPooling::Ifo)
            .init(&device)
            .expect("valid config");
        let input = Tensor::<3>::random([2, 5, 3], Distribution::Default, &device);
        let out = qrnn
            .forward(input, Some(&SequenceLengths::right(vec![5, 3])), None)
            .expect("forward");
        let grads = out.output.sum().backward();
        for (k, gates) in qrnn.gates.iter().enumerate() {
            let g = gates
                .weight
                .grad(&grads)
                .unwrap_or_else(|| panic!("cell {k} has no gradient"));
            let g = g.into_data().try_to_vec_as::<f32>().expect("f32");
            assert!(g.iter().all(|v| v.is_finite()), "cell {k}");
            assert!(g.iter().any(|v| *v != 0.0), "cell {k} gradient is all zero");
        }
    }
}
