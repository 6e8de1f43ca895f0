//! The Quasi-RNN and the temporal convolutional network:
//! - causality of the causal TCN (proptest): changing inputs after `t` never changes outputs
//!   at steps `<= t`;
//! - padding invariance (proptest, both padding sides): a padded batch gives, at each
//!   sequence's real steps, what the sequence alone gives, 0 at its padding, and (QRNN) the
//!   same final state;
//! - bidirectional QRNN consistency (proptest): the reverse direction equals a one-direction
//!   QRNN with the reverse weights run on each sequence's real prefix reversed;
//! - save/load through safetensors bytes, and the same values on every compiled-in device
//!   (flex, ndarray, wgpu when an adapter exists);
//! - each learns, within seconds, to recall the symbol seen `LAG` noise steps earlier.

mod common;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{max_abs_diff, tensor3, to_vec, values};
use proptest::prelude::*;
use seqmodel_device::test_support::test_devices;
use seqmodel_rnn::{
    PadSide, Qrnn, QrnnConfig, QrnnPooling, SequenceLengths, StateDict, Tcn, TcnConfig,
};

const TOLERANCE: f32 = 1e-5;

fn pooling() -> impl Strategy<Value = QrnnPooling> {
    prop::sample::select(vec![QrnnPooling::F, QrnnPooling::Fo, QrnnPooling::Ifo])
}

fn side() -> impl Strategy<Value = PadSide> {
    prop::sample::select(vec![PadSide::Left, PadSide::Right])
}

/// Row `b`'s real steps (`[1, length, width]`) of a `[batch, time, width]` tensor.
fn real_steps(t: &Tensor<3>, b: usize, length: usize, side: PadSide) -> Tensor<3> {
    let time = t.dims()[1];
    let start = if side == PadSide::Left {
        time - length
    } else {
        0
    };
    t.clone().narrow(0, b, 1).narrow(1, start, length)
}

/// Row `b`'s padding steps, which must be exactly 0.
fn padding_is_zero(t: &Tensor<3>, b: usize, length: usize, side: PadSide) -> bool {
    let time = t.dims()[1];
    if length == time {
        return true;
    }
    let start = if side == PadSide::Left { 0 } else { length };
    to_vec(t.clone().narrow(0, b, 1).narrow(1, start, time - length))
        .iter()
        .all(|v| *v == 0.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn causal_tcn_never_looks_ahead(
        (input, hidden, levels, kernel, time) in (1..4usize, 1..5usize, 1..4usize, 1..4usize, 2..12usize),
        cut in 0..11usize,
        seed in any::<u64>(),
    ) {
        let cut = cut % (time - 1); // outputs 0..=cut must not see steps cut+1..
        let device = Device::flex();
        let tcn = TcnConfig::new(input, hidden)
            .with_num_levels(levels)
            .with_kernel_size(kernel)
            .init(&device)
            .expect("valid config");
        let x = values(seed, 2 * time * input, 1.0);
        let mut y = x.clone();
        for (i, v) in y.iter_mut().enumerate() {
            if (i / input) % time > cut {
                *v += 3.0;
            }
        }
        let a = tcn.forward(tensor3(x, [2, time, input], &device), None).expect("forward");
        let b = tcn.forward(tensor3(y, [2, time, input], &device), None).expect("forward");
        let head = |t: Tensor<3>| to_vec(t.narrow(1, 0, cut + 1));
        let diff = max_abs_diff(&head(a), &head(b));
        prop_assert!(diff == 0.0, "output at <= {} changed by {} after a change at > {}", cut, diff, cut);
    }

    #[test]
    fn tcn_padding_never_leaks(
        (input, hidden, levels, kernel, time) in (1..4usize, 1..5usize, 1..4usize, 1..4usize, 1..9usize),
        causal in any::<bool>(),
        side in side(),
        lengths in prop::collection::vec(0..9usize, 1..4),
        seed in any::<u64>(),
    ) {
        let lengths: Vec<usize> = lengths.into_iter().map(|l| l.min(time)).collect();
        let batch = lengths.len();
        let device = Device::flex();
        let tcn = TcnConfig::new(input, hidden)
            .with_num_levels(levels)
            .with_kernel_size(kernel)
            .with_causal(causal)
            .init(&device)
            .expect("valid config");
        // Padding holds garbage: it must not reach any real position.
        let x = tensor3(values(seed, batch * time * input, 5.0), [batch, time, input], &device);
        let out = tcn
            .forward(x.clone(), Some(&SequenceLengths::new(lengths.clone(), side)))
            .expect("forward");
        for (b, &length) in lengths.iter().enumerate() {
            prop_assert!(padding_is_zero(&out, b, length, side), "row {} padding is not 0", b);
            if length == 0 {
                continue;
            }
            let alone = tcn.forward(real_steps(&x, b, length, side), None).expect("forward");
            let diff = max_abs_diff(&to_vec(real_steps(&out, b, length, side)), &to_vec(alone));
            prop_assert!(diff <= TOLERANCE, "row {} differs from the sequence alone by {}", b, diff);
        }
    }

    #[test]
    fn qrnn_padding_never_leaks(
        (input, hidden, layers, window, time) in (1..4usize, 1..5usize, 1..3usize, 1..3usize, 1..9usize),
        bidirectional in any::<bool>(),
        pooling in pooling(),
        side in side(),
        lengths in prop::collection::vec(0..9usize, 1..4),
        seed in any::<u64>(),
    ) {
        let lengths: Vec<usize> = lengths.into_iter().map(|l| l.min(time)).collect();
        let batch = lengths.len();
        let device = Device::flex();
        let qrnn = QrnnConfig::new(input, hidden)
            .with_num_layers(layers)
            .with_window(window)
            .with_bidirectional(bidirectional)
            .with_pooling(pooling)
            .with_residual(layers > 1 && seed % 2 == 0)
            .init(&device)
            .expect("valid config");
        let cells = qrnn.gates.len();
        let x = tensor3(values(seed, batch * time * input, 5.0), [batch, time, input], &device);
        let c0 = tensor3(values(seed ^ 1, cells * batch * hidden, 1.0), [cells, batch, hidden], &device);
        let out = qrnn
            .forward(x.clone(), Some(&SequenceLengths::new(lengths.clone(), side)), Some(c0.clone()))
            .expect("forward");
        for (b, &length) in lengths.iter().enumerate() {
            prop_assert!(padding_is_zero(&out.output, b, length, side), "row {} padding is not 0", b);
            let row_c0 = c0.clone().narrow(1, b, 1);
            let row_state = to_vec(out.state.clone().narrow(1, b, 1));
            if length == 0 {
                let diff = max_abs_diff(&row_state, &to_vec(row_c0));
                prop_assert!(diff == 0.0, "an empty row keeps c0, moved by {}", diff);
                continue;
            }
            let alone = qrnn
                .forward(real_steps(&x, b, length, side), None, Some(row_c0))
                .expect("forward");
            let diff = max_abs_diff(&to_vec(real_steps(&out.output, b, length, side)), &to_vec(alone.output));
            prop_assert!(diff <= TOLERANCE, "row {} output differs from alone by {}", b, diff);
            let diff = max_abs_diff(&row_state, &to_vec(alone.state));
            prop_assert!(diff <= TOLERANCE, "row {} final state differs from alone by {}", b, diff);
        }
    }

    #[test]
    fn qrnn_reverse_direction_reads_the_reversed_prefix(
        (input, hidden, window, time) in (1..4usize, 1..5usize, 1..3usize, 1..9usize),
        pooling in pooling(),
        lengths in prop::collection::vec(1..9usize, 1..4),
        seed in any::<u64>(),
    ) {
        let lengths: Vec<usize> = lengths.into_iter().map(|l| l.min(time)).collect();
        let batch = lengths.len();
        let device = Device::flex();
        let config = QrnnConfig::new(input, hidden).with_window(window).with_pooling(pooling);
        let bi = config.clone().with_bidirectional(true).init(&device).expect("valid config");
        let dict = bi.state_dict("");
        let mut reverse = StateDict::new();
        for name in ["weight", "bias"] {
            let data = dict.get(&format!("{name}_l0_reverse")).expect("reverse weights").clone();
            reverse.insert(format!("{name}_l0"), data);
        }
        let uni = config.init(&device).expect("valid config").load_state_dict(&reverse, "").expect("loads");
        let x = values(seed, batch * time * input, 2.0);
        let out = bi
            .forward(tensor3(x.clone(), [batch, time, input], &device), Some(&SequenceLengths::right(lengths.clone())), None)
            .expect("forward");
        for (b, &length) in lengths.iter().enumerate() {
            // Row b's real prefix, reversed step by step.
            let row = &x[b * time * input..(b * time + length) * input];
            let reversed: Vec<f32> = row.chunks(input).rev().flatten().copied().collect();
            let alone = uni.forward(tensor3(reversed, [1, length, input], &device), None, None).expect("forward");
            let mut expected: Vec<Vec<f32>> = to_vec(alone.output).chunks(hidden).map(<[f32]>::to_vec).collect();
            expected.reverse();
            let got = to_vec(out.output.clone().narrow(0, b, 1).narrow(1, 0, length).narrow(2, hidden, hidden));
            let diff = max_abs_diff(&got, &expected.concat());
            prop_assert!(diff <= TOLERANCE, "row {} reverse half differs by {}", b, diff);
            let state = to_vec(out.state.clone().narrow(0, 1, 1).narrow(1, b, 1));
            let diff = max_abs_diff(&state, &to_vec(alone.state));
            prop_assert!(diff <= TOLERANCE, "row {} reverse final state differs by {}", b, diff);
        }
    }
}

fn qrnn_config() -> QrnnConfig {
    QrnnConfig::new(3, 4)
        .with_num_layers(2)
        .with_bidirectional(true)
        .with_pooling(QrnnPooling::Ifo)
}

fn tcn_config() -> TcnConfig {
    TcnConfig::new(3, 4).with_num_levels(2).with_causal(false)
}

/// Written to safetensors bytes and read back into a fresh layer, the weights give the same
/// outputs; a key missing from the file is an error naming it.
#[test]
fn save_and_load_round_trip() {
    let device = Device::flex();
    let x = || tensor3(values(5, 2 * 6 * 3, 1.0), [2, 6, 3], &device);
    let lengths = SequenceLengths::right(vec![6, 4]);

    let qrnn = qrnn_config().init(&device).expect("valid");
    let bytes = qrnn.state_dict("rnn.").to_bytes().expect("serialises");
    let dict = StateDict::from_bytes(&bytes, "qrnn.safetensors").expect("parses");
    let fresh = qrnn_config().init(&device).expect("valid");
    let loaded = fresh.load_state_dict(&dict, "rnn.").expect("loads");
    let a = qrnn.forward(x(), Some(&lengths), None).expect("forward");
    let b = loaded.forward(x(), Some(&lengths), None).expect("forward");
    assert_eq!(to_vec(a.output), to_vec(b.output));

    let tcn = tcn_config().init(&device).expect("valid");
    let mut dict = tcn.state_dict("");
    let loaded = tcn_config()
        .init(&device)
        .expect("valid")
        .load_state_dict(&dict, "")
        .expect("loads");
    let a = tcn.forward(x(), Some(&lengths)).expect("forward");
    let b = loaded.forward(x(), Some(&lengths)).expect("forward");
    assert_eq!(to_vec(a), to_vec(b));
    dict.remove("blocks.1.conv2.weight_g");
    let err = tcn_config()
        .init(&device)
        .expect("valid")
        .load_state_dict(&dict, "")
        .expect_err("missing key");
    assert!(err.to_string().contains("blocks.1.conv2.weight_g"), "{err}");
}

/// The same weights and inputs give the same values on flex, ndarray and wgpu.
#[test]
fn same_values_on_every_device() {
    let devices = test_devices("qrnn_tcn::same_values_on_every_device");
    assert!(devices.len() >= 2, "need at least flex and ndarray");
    let flex = Device::flex();
    let qrnn = qrnn_config().init(&flex).expect("valid");
    let tcn = tcn_config().init(&flex).expect("valid");
    let (qrnn_dict, tcn_dict) = (qrnn.state_dict(""), tcn.state_dict(""));
    let x = values(9, 3 * 5 * 3, 1.0);
    let lengths = SequenceLengths::left(vec![5, 2, 4]);
    let mut results = Vec::new();
    for (name, device) in &devices {
        let qrnn = qrnn_config()
            .init(device)
            .expect("valid")
            .load_state_dict(&qrnn_dict, "")
            .expect("loads");
        let tcn = tcn_config()
            .init(device)
            .expect("valid")
            .load_state_dict(&tcn_dict, "")
            .expect("loads");
        let input = tensor3(x.clone(), [3, 5, 3], device);
        let q = qrnn
            .forward(input.clone(), Some(&lengths), None)
            .expect("forward");
        let mut all = to_vec(q.output);
        all.extend(to_vec(q.state));
        all.extend(to_vec(tcn.forward(input, Some(&lengths)).expect("forward")));
        results.push((name.to_string(), all));
    }
    for (name, values) in &results[1..] {
        let diff = max_abs_diff(&results[0].1, values);
        assert!(
            diff <= 1e-4,
            "{} and {name} differ by {diff:e}",
            results[0].0
        );
    }
    println!(
        "compared {} devices: {:?}",
        results.len(),
        results.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
}

/// Symbols to remember (one-hot `0..SYMBOLS`), then noise tokens (`SYMBOLS..2 * SYMBOLS`).
const SYMBOLS: usize = 4;
const LAG: usize = 10;
const TIME: usize = LAG + 1;

/// A batch of one-hot sequences `[batch, TIME, 2 * SYMBOLS]`: a symbol at step 0, then `LAG`
/// random noise tokens; the target is the symbol, to be recalled at the last step.
fn recall_batch(seed: &mut u64, batch: usize, device: &Device) -> (Tensor<3>, Tensor<1, Int>) {
    let width = 2 * SYMBOLS;
    let mut x = vec![0.0f32; batch * TIME * width];
    let mut targets = Vec::with_capacity(batch);
    for b in 0..batch {
        for t in 0..TIME {
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let draw = (*seed >> 33) as usize % SYMBOLS;
            let token = if t == 0 { draw } else { SYMBOLS + draw };
            x[(b * TIME + t) * width + token] = 1.0;
            if t == 0 {
                targets.push(draw as i64);
            }
        }
    }
    (
        tensor3(x, [batch, TIME, width], device),
        Tensor::from_data(TensorData::new(targets, [batch]), device),
    )
}

/// Train `model` with Adam on the recall task; return held-out accuracy.
fn fit<M: Module + Clone>(
    mut model: M,
    logits: impl Fn(&M, Tensor<3>) -> Tensor<2>,
    device: &Device,
) -> f32 {
    let mut optim = AdamConfig::new().init();
    let mut seed = 1;
    for _ in 0..250 {
        let (x, y) = recall_batch(&mut seed, 32, device);
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(device)
            .forward(logits(&model, x), y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    let (x, y) = recall_batch(&mut seed, 256, device);
    let predicted = logits(&model, x).argmax(1).reshape([256]);
    predicted.equal(y).int().sum().into_scalar::<i64>() as f32 / 256.0
}

#[derive(Module, Debug)]
struct QrnnRecall {
    qrnn: Qrnn,
    head: Linear,
}

#[derive(Module, Debug)]
struct TcnRecall {
    tcn: Tcn,
    head: Linear,
}

/// The last step's output as `[batch, width]`.
fn last_step(out: Tensor<3>) -> Tensor<2> {
    let [batch, time, width] = out.dims();
    out.narrow(1, time - 1, 1).reshape([batch, width])
}

#[test]
fn qrnn_learns_to_recall_a_symbol_through_noise() {
    let device = Device::flex().autodiff();
    device.seed(7);
    let model = QrnnRecall {
        qrnn: QrnnConfig::new(2 * SYMBOLS, 32)
            .init(&device)
            .expect("valid"),
        head: LinearConfig::new(32, SYMBOLS).init(&device),
    };
    let accuracy = fit(
        model,
        |m, x| {
            m.head.forward(last_step(
                m.qrnn.forward(x, None, None).expect("forward").output,
            ))
        },
        &device,
    );
    assert!(accuracy >= 0.9, "held-out accuracy {accuracy}");
}

#[test]
fn tcn_learns_to_recall_a_symbol_through_noise() {
    let device = Device::flex().autodiff();
    device.seed(7);
    let config = TcnConfig::new(2 * SYMBOLS, 32).with_num_levels(3);
    assert!(
        config.receptive_field() > LAG,
        "the task fits the receptive field"
    );
    let model = TcnRecall {
        tcn: config.init(&device).expect("valid"),
        head: LinearConfig::new(32, SYMBOLS).init(&device),
    };
    let accuracy = fit(
        model,
        |m, x| {
            m.head
                .forward(last_step(m.tcn.forward(x, None).expect("forward")))
        },
        &device,
    );
    assert!(accuracy >= 0.9, "held-out accuracy {accuracy}");
}

/// Mean `|d out_{T-1} / d x_{T-1-offset}|` of a causal TCN (8 inputs, 32 channels, `levels`
/// levels) at initialisation, relative to the same at offset 0, over a few seeds.
fn tcn_gradient_at(levels: usize, time: usize, offsets: &[usize]) -> Vec<f64> {
    let device = Device::flex().autodiff();
    let mut by_offset = vec![0.0f64; time];
    for seed in 1..=6 {
        device.seed(seed);
        let tcn = TcnConfig::new(8, 32)
            .with_num_levels(levels)
            .init(&device)
            .expect("valid");
        let x = tensor3(values(seed, 4 * time * 8, 1.0), [4, time, 8], &device).require_grad();
        let out = tcn.forward(x.clone(), None).expect("forward");
        let grads = out.narrow(1, time - 1, 1).sum().backward();
        let g = to_vec(x.grad(&grads).expect("input gradient"));
        for (i, v) in g.iter().enumerate() {
            by_offset[time - 1 - (i / 8) % time] += f64::from(v.abs());
        }
    }
    offsets
        .iter()
        .map(|&o| by_offset[o] / by_offset[0])
        .collect()
}

/// Why `cargo xtask long-range` sizes the TCN's receptive field to twice the lag: a step near
/// the edge of the field reaches the last output only through the few tap paths whose
/// offsets add up to its distance (with 4 levels of kernel 3, offset 50 of 60 needs the
/// oldest tap of both convolutions at dilations 4 and 8), so its gradient is far weaker than
/// mid-field. Measured: ~4e-4 at offset 50 with 4 levels (field 61) against ~1e-2 with 5
/// (field 125); with 4 levels the copy task at lag 50 stayed at chance for 1,000 steps, with
/// 5 it was solved in 50 (docs/results.md).
#[test]
fn tcn_gradient_fades_at_the_edge_of_its_receptive_field() {
    let edge = tcn_gradient_at(4, 51, &[50, 25]);
    let mid = tcn_gradient_at(5, 51, &[50]);
    assert!(
        edge[0] * 5.0 < edge[1],
        "4 levels: offset 50 (edge) {:.2e} should be far below offset 25 {:.2e}",
        edge[0],
        edge[1]
    );
    assert!(
        edge[0] * 5.0 < mid[0],
        "offset 50: 4 levels {:.2e} should be far below 5 levels {:.2e}",
        edge[0],
        mid[0]
    );
}
