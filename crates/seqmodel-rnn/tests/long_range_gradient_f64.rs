//! Finite-difference gradient checks in float64 for the long-range encoders: the Quasi-RNN,
//! the temporal convolutional network, and the layer-normalised and residual LSTM (proptest
//! over shapes, lengths, padding side and weights): the autodiff gradient of
//! `loss = sum(output * w) [+ sum(state * v)]` with respect to the input and every parameter
//! entry matches the central difference `(loss(p + e) - loss(p - e)) / 2e`.
//!
//! This binary sets the flex device's default float type to F64 (a per-process setting), so it
//! is a test file of its own.

mod common;

use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use common::values;
use proptest::prelude::*;
use seqmodel_rnn::{
    LstmConfig, NamedParam, PadSide, QrnnConfig, QrnnPooling, SequenceLengths, StateDict, TcnConfig,
};

const EPS: f64 = 1e-6;

/// The flex device with float64 as its default float type.
fn f64_device() -> Device {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    let mut device = Device::flex();
    CONFIGURED.call_once(|| {
        device
            .configure(FloatDType::F64)
            .expect("flex accepts float64 before its first tensor");
    });
    device
}

fn f64s(seed: u64, n: usize, scale: f32) -> Vec<f64> {
    values(seed, n, scale).into_iter().map(f64::from).collect()
}

fn host(t: Tensor<3>) -> Vec<f64> {
    t.into_data()
        .try_into_vec_as::<f64>()
        .expect("float values")
}

/// Either network, as a loss of (parameters, input) and the autodiff gradients of that loss.
trait Checked {
    /// `loss(params, input)` on `device`.
    fn loss(&self, params: &StateDict, input: &TensorData, device: &Device) -> f64;
    /// The gradient of the loss for every key of `params`, and for the input.
    fn gradients(
        &self,
        params: &StateDict,
        input: &TensorData,
        device: &Device,
    ) -> (Vec<(String, Vec<f64>)>, Vec<f64>);
}

fn perturbed(data: &TensorData, i: usize, delta: f64) -> TensorData {
    let mut v = data.clone().try_into_vec_as::<f64>().expect("f64");
    v[i] += delta;
    TensorData::new(v, data.shape().to_vec())
}

/// Compare each analytic gradient entry with the central difference.
fn compare(
    net: &impl Checked,
    params: &StateDict,
    input: &TensorData,
) -> Result<usize, TestCaseError> {
    let device = f64_device();
    let (param_grads, input_grad) = net.gradients(params, input, &device.clone().autodiff());
    let close = |analytic: f64, numeric: f64| {
        (analytic - numeric).abs() <= 1e-6 + 1e-5 * numeric.abs().max(analytic.abs())
    };
    let mut checked = 0;
    for (i, &analytic) in input_grad.iter().enumerate() {
        let up = net.loss(params, &perturbed(input, i, EPS), &device);
        let down = net.loss(params, &perturbed(input, i, -EPS), &device);
        let numeric = (up - down) / (2.0 * EPS);
        prop_assert!(
            close(analytic, numeric),
            "input[{}]: autodiff {} vs finite difference {}",
            i,
            analytic,
            numeric
        );
        checked += 1;
    }
    for (key, grad) in param_grads {
        for (i, &analytic) in grad.iter().enumerate() {
            let loss_at = |delta: f64| {
                let mut p = params.clone();
                let data = p.get(&key).expect("key").clone();
                p.insert(key.clone(), perturbed(&data, i, delta));
                net.loss(&p, input, &device)
            };
            let numeric = (loss_at(EPS) - loss_at(-EPS)) / (2.0 * EPS);
            prop_assert!(
                close(analytic, numeric),
                "{}[{}]: autodiff {} vs finite difference {}",
                key,
                i,
                analytic,
                numeric
            );
            checked += 1;
        }
    }
    Ok(checked)
}

/// A state dict with float64 values for every key of `template`.
fn random_params(template: &StateDict, seed: u64, scale: f32) -> StateDict {
    let mut params = StateDict::new();
    for (k, key) in template.keys().enumerate() {
        let shape = template.get(key).expect("key").shape().to_vec();
        let n = shape.iter().product();
        params.insert(
            key.to_string(),
            TensorData::new(f64s(seed ^ ((k as u64 + 1) * 7919), n, scale), shape),
        );
    }
    params
}

struct QrnnCheck {
    config: QrnnConfig,
    lengths: SequenceLengths,
    w_out: TensorData,
    w_state: TensorData,
}

impl Checked for QrnnCheck {
    fn loss(&self, params: &StateDict, input: &TensorData, device: &Device) -> f64 {
        let qrnn = self
            .config
            .init(device)
            .expect("valid")
            .load_state_dict(params, "")
            .expect("loads");
        let out = qrnn
            .forward(
                Tensor::from_data(input.clone(), device),
                Some(&self.lengths),
                None,
            )
            .expect("forward");
        let loss = (out.output * Tensor::from_data(self.w_out.clone(), device)).sum()
            + (out.state * Tensor::from_data(self.w_state.clone(), device)).sum();
        loss.into_scalar::<f64>()
    }

    fn gradients(
        &self,
        params: &StateDict,
        input: &TensorData,
        device: &Device,
    ) -> (Vec<(String, Vec<f64>)>, Vec<f64>) {
        let qrnn = self
            .config
            .init(device)
            .expect("valid")
            .load_state_dict(params, "")
            .expect("loads");
        let x = Tensor::<3>::from_data(input.clone(), device).require_grad();
        let out = qrnn
            .forward(x.clone(), Some(&self.lengths), None)
            .expect("forward");
        let loss = (out.output * Tensor::from_data(self.w_out.clone(), device)).sum()
            + (out.state * Tensor::from_data(self.w_state.clone(), device)).sum();
        let grads = loss.backward();
        let d = qrnn.directions();
        let mut named = Vec::new();
        for (k, gates) in qrnn.gates.iter().enumerate() {
            let suffix = format!("_l{}{}", k / d, if k % d == 1 { "_reverse" } else { "" });
            let w = gates.weight.grad(&grads).expect("weight gradient");
            let b = gates.bias.grad(&grads).expect("bias gradient");
            named.push((
                format!("weight{suffix}"),
                w.into_data().try_into_vec_as::<f64>().expect("f64"),
            ));
            named.push((
                format!("bias{suffix}"),
                b.into_data().try_into_vec_as::<f64>().expect("f64"),
            ));
        }
        let input_grad = x.grad(&grads).expect("input gradient");
        (named, host(input_grad))
    }
}

struct TcnCheck {
    config: TcnConfig,
    lengths: SequenceLengths,
    w_out: TensorData,
}

impl Checked for TcnCheck {
    fn loss(&self, params: &StateDict, input: &TensorData, device: &Device) -> f64 {
        let tcn = self
            .config
            .init(device)
            .expect("valid")
            .load_state_dict(params, "")
            .expect("loads");
        let out = tcn
            .forward(
                Tensor::from_data(input.clone(), device),
                Some(&self.lengths),
            )
            .expect("forward");
        (out * Tensor::from_data(self.w_out.clone(), device))
            .sum()
            .into_scalar::<f64>()
    }

    fn gradients(
        &self,
        params: &StateDict,
        input: &TensorData,
        device: &Device,
    ) -> (Vec<(String, Vec<f64>)>, Vec<f64>) {
        let tcn = self
            .config
            .init(device)
            .expect("valid")
            .load_state_dict(params, "")
            .expect("loads");
        let x = Tensor::<3>::from_data(input.clone(), device).require_grad();
        let out = tcn
            .forward(x.clone(), Some(&self.lengths))
            .expect("forward");
        let grads = (out * Tensor::from_data(self.w_out.clone(), device))
            .sum()
            .backward();
        let mut named = Vec::new();
        for (l, block) in tcn.blocks.iter().enumerate() {
            let convs = [
                ("conv1", Some(&block.conv1)),
                ("conv2", Some(&block.conv2)),
                ("downsample", block.downsample.as_ref()),
            ];
            for (name, conv) in convs {
                let Some(conv) = conv else { continue };
                let key = |part: &str| format!("blocks.{l}.{name}.{part}");
                let grad3 = |t: Tensor<3>| t.into_data().try_into_vec_as::<f64>().expect("f64");
                let v = grad3(conv.weight.grad(&grads).expect("weight gradient"));
                match &conv.weight_g {
                    Some(g) => {
                        named.push((key("weight_v"), v));
                        named.push((key("weight_g"), grad3(g.grad(&grads).expect("g gradient"))));
                    }
                    None => named.push((key("weight"), v)),
                }
                let b = conv.bias.grad(&grads).expect("bias gradient");
                named.push((
                    key("bias"),
                    b.into_data().try_into_vec_as::<f64>().expect("f64"),
                ));
            }
        }
        let input_grad = x.grad(&grads).expect("input gradient");
        (named, host(input_grad))
    }
}

struct LstmCheck {
    config: LstmConfig,
    lengths: SequenceLengths,
    w_out: TensorData,
    w_h: TensorData,
    w_c: TensorData,
}

impl LstmCheck {
    fn loss_tensor(&self, lstm: &seqmodel_rnn::Lstm, x: Tensor<3>, device: &Device) -> Tensor<1> {
        let out = lstm.forward(x, Some(&self.lengths), None).expect("forward");
        let t = |d: &TensorData| Tensor::<3>::from_data(d.clone(), device);
        (out.output * t(&self.w_out)).sum()
            + (out.state.h * t(&self.w_h)).sum()
            + (out.state.c * t(&self.w_c)).sum()
    }

    fn build(&self, params: &StateDict, device: &Device) -> seqmodel_rnn::Lstm {
        self.config
            .init(device)
            .expect("valid")
            .load_state_dict(params, "")
            .expect("loads")
    }
}

impl Checked for LstmCheck {
    fn loss(&self, params: &StateDict, input: &TensorData, device: &Device) -> f64 {
        let lstm = self.build(params, device);
        self.loss_tensor(&lstm, Tensor::from_data(input.clone(), device), device)
            .into_scalar::<f64>()
    }

    fn gradients(
        &self,
        params: &StateDict,
        input: &TensorData,
        device: &Device,
    ) -> (Vec<(String, Vec<f64>)>, Vec<f64>) {
        let lstm = self.build(params, device);
        let x = Tensor::<3>::from_data(input.clone(), device).require_grad();
        let grads = self.loss_tensor(&lstm, x.clone(), device).backward();
        let named = lstm
            .named_parameters()
            .into_iter()
            .map(|(name, param)| {
                let grad = match param {
                    NamedParam::Matrix(w) => w.grad(&grads).expect("gradient").into_data(),
                    NamedParam::Vector(b) => b.grad(&grads).expect("gradient").into_data(),
                };
                (name, grad.try_into_vec_as::<f64>().expect("f64"))
            })
            .collect();
        (named, host(x.grad(&grads).expect("input gradient")))
    }
}

fn side() -> impl Strategy<Value = PadSide> {
    prop::sample::select(vec![PadSide::Left, PadSide::Right])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn qrnn_gradients_match_finite_differences(
        (input, hidden, layers, window, bidirectional) in (1..3usize, 1..3usize, 1..3usize, 1..3usize, any::<bool>()),
        pooling in prop::sample::select(vec![QrnnPooling::F, QrnnPooling::Fo, QrnnPooling::Ifo]),
        side in side(),
        (time, lengths) in (1..5usize).prop_flat_map(|t| (Just(t), prop::collection::vec(0..=t, 1..3))),
        seed in any::<u64>(),
    ) {
        let device = f64_device();
        let config = QrnnConfig::new(input, hidden)
            .with_num_layers(layers)
            .with_window(window)
            .with_bidirectional(bidirectional)
            .with_pooling(pooling)
            .with_residual(layers > 1);
        let template = config.init(&device).expect("valid").state_dict("");
        let batch = lengths.len();
        let d = if bidirectional { 2 } else { 1 };
        let check = QrnnCheck {
            config,
            lengths: SequenceLengths::new(lengths, side),
            w_out: TensorData::new(f64s(seed ^ 3, batch * time * d * hidden, 1.0), [batch, time, d * hidden]),
            w_state: TensorData::new(f64s(seed ^ 4, layers * d * batch * hidden, 1.0), [layers * d, batch, hidden]),
        };
        let input = TensorData::new(f64s(seed ^ 5, batch * time * input, 1.0), [batch, time, input]);
        let checked = compare(&check, &random_params(&template, seed, 0.8), &input)?;
        prop_assert!(checked > 0);
    }

    #[test]
    fn tcn_gradients_match_finite_differences(
        (input, hidden, levels, kernel) in (1..3usize, 1..3usize, 1..3usize, 1..4usize),
        causal in any::<bool>(),
        weight_norm in any::<bool>(),
        side in side(),
        (time, lengths) in (1..6usize).prop_flat_map(|t| (Just(t), prop::collection::vec(0..=t, 1..3))),
        seed in any::<u64>(),
    ) {
        let device = f64_device();
        let config = TcnConfig::new(input, hidden)
            .with_num_levels(levels)
            .with_kernel_size(kernel)
            .with_causal(causal)
            .with_weight_norm(weight_norm);
        let template = config.init(&device).expect("valid").state_dict("");
        let batch = lengths.len();
        let check = TcnCheck {
            config,
            lengths: SequenceLengths::new(lengths, side),
            w_out: TensorData::new(f64s(seed ^ 3, batch * time * hidden, 1.0), [batch, time, hidden]),
        };
        let mut params = random_params(&template, seed, 0.8);
        // weight_g away from 0 (its sign flips the channel; near 0 the norm is ill-conditioned).
        for key in template.keys().filter(|k| k.ends_with("weight_g")) {
            let data = params.get(key).expect("key").clone();
            let v: Vec<f64> = data.clone().try_into_vec_as::<f64>().expect("f64").iter().map(|g| 0.5 + g.abs()).collect();
            params.insert(key.to_string(), TensorData::new(v, data.shape().to_vec()));
        }
        let input = TensorData::new(f64s(seed ^ 5, batch * time * input, 1.0), [batch, time, input]);
        let checked = compare(&check, &params, &input)?;
        prop_assert!(checked > 0);
    }

    #[test]
    fn layer_norm_and_residual_lstm_gradients_match_finite_differences(
        (input, hidden, layers, bidirectional) in (1..3usize, 2..4usize, 1..3usize, any::<bool>()),
        (layer_norm, residual) in (any::<bool>(), any::<bool>()),
        side in side(),
        (time, lengths) in (1..4usize).prop_flat_map(|t| (Just(t), prop::collection::vec(0..=t, 1..3))),
        seed in any::<u64>(),
    ) {
        let device = f64_device();
        let config = LstmConfig::new(input, hidden)
            .with_num_layers(layers)
            .with_bidirectional(bidirectional)
            .with_layer_norm(layer_norm)
            .with_residual(residual);
        let template = config.init(&device).expect("valid").state_dict("");
        let batch = lengths.len();
        let d = if bidirectional { 2 } else { 1 };
        let n = layers * d;
        let check = LstmCheck {
            config,
            lengths: SequenceLengths::new(lengths, side),
            w_out: TensorData::new(f64s(seed ^ 3, batch * time * d * hidden, 1.0), [batch, time, d * hidden]),
            w_h: TensorData::new(f64s(seed ^ 4, n * batch * hidden, 1.0), [n, batch, hidden]),
            w_c: TensorData::new(f64s(seed ^ 6, n * batch * hidden, 1.0), [n, batch, hidden]),
        };
        let input = TensorData::new(f64s(seed ^ 5, batch * time * input, 1.0), [batch, time, input]);
        let checked = compare(&check, &random_params(&template, seed, 0.8), &input)?;
        prop_assert!(checked > 0);
    }
}
