//! The Quasi-RNN's one-op kernel on flex (`Execution::Fused`: one packed GEMM for every gate
//! of every step, then a host pass) against the reference path (`Execution::Reference`: Burn
//! matmuls and the log-depth scan, itself checked by hand cases and finite differences):
//! outputs, final states and the gradients of the input, `c0`, every weight and every bias
//! agree, on shapes the kernel handles specially — batch 1, one step, hidden sizes that are no
//! multiple of the register tile (16 or 32 columns) or of the vector width, zero-length and
//! padded rows on either side, both windows, every pooling, two residual bidirectional layers.

mod common;

use burn::tensor::{Device, Tensor};
use common::{max_abs_diff, tensor3, to_vec, values};
use proptest::prelude::*;
use seqmodel_rnn::{
    Error, Execution, FusedUnavailable, Qrnn, QrnnConfig, QrnnPooling, SequenceLengths,
};

const TOLERANCE: f32 = 2e-5;

/// One layer's shape and options.
#[derive(Debug, Clone)]
struct Case {
    batch: usize,
    time: usize,
    input: usize,
    hidden: usize,
    window: usize,
    pooling: QrnnPooling,
    bidirectional: bool,
    layers: usize,
    lengths: Option<SequenceLengths>,
    seed: u64,
}

/// Output, state, and the gradients of input, `c0` and every parameter (in `gates` order:
/// weight, bias), all flattened.
/// The device RNG is process-wide and the tests of this file run in parallel: every test seeds
/// and initialises under this lock, so both executions of a case get the same weights.
fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RNG.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn run(case: &Case, execution: Execution) -> Vec<(String, Vec<f32>)> {
    let device = Device::flex().autodiff();
    // The same weights for both paths.
    let serial = rng_lock();
    device.seed(case.seed);
    let config = QrnnConfig::new(case.input, case.hidden)
        .with_window(case.window)
        .with_pooling(case.pooling)
        .with_bidirectional(case.bidirectional)
        .with_num_layers(case.layers)
        .with_residual(case.layers > 1);
    let qrnn: Qrnn = config
        .with_execution(execution)
        .init(&device)
        .expect("valid config");
    drop(serial);
    let (b, t) = (case.batch, case.time);
    let cells = case.layers * if case.bidirectional { 2 } else { 1 };
    let x = tensor3(
        values(case.seed, b * t * case.input, 1.5),
        [b, t, case.input],
        &device,
    )
    .require_grad();
    let c0 = tensor3(
        values(case.seed ^ 1, cells * b * case.hidden, 1.0),
        [cells, b, case.hidden],
        &device,
    )
    .require_grad();
    let out = qrnn
        .forward(x.clone(), case.lengths.as_ref(), Some(c0.clone()))
        .expect("forward");
    let w_out = tensor3(
        values(case.seed ^ 2, b * t * qrnn.output_size(), 1.0),
        out.output.dims(),
        &device,
    );
    let w_state = tensor3(
        values(case.seed ^ 3, cells * b * case.hidden, 1.0),
        out.state.dims(),
        &device,
    );
    let loss = (out.output.clone() * w_out).sum() + (out.state.clone() * w_state).sum();
    let grads = loss.backward();
    let flat = |t: Tensor<3>| to_vec(t.inner());
    let mut all = vec![
        ("output".to_string(), flat(out.output)),
        ("state".to_string(), flat(out.state)),
        (
            "d input".to_string(),
            to_vec(x.grad(&grads).expect("input gradient")),
        ),
        (
            "d c0".to_string(),
            to_vec(c0.grad(&grads).expect("c0 gradient")),
        ),
    ];
    for (k, gates) in qrnn.gates.iter().enumerate() {
        let w = gates.weight.grad(&grads).expect("weight gradient");
        let bias = gates.bias.grad(&grads).expect("bias gradient");
        all.push((format!("d weight {k}"), to_vec(w.unsqueeze())));
        all.push((format!("d bias {k}"), to_vec(bias.unsqueeze())));
    }
    all
}

fn assert_same(case: &Case) {
    let fused = run(case, Execution::Fused);
    let reference = run(case, Execution::Reference);
    for ((name, a), (_, b)) in fused.iter().zip(&reference) {
        let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        let diff = max_abs_diff(a, b);
        assert!(
            diff <= TOLERANCE * scale,
            "{name} differs by {diff} (scale {scale}) in {case:?}"
        );
    }
}

fn case(batch: usize, time: usize, input: usize, hidden: usize) -> Case {
    Case {
        batch,
        time,
        input,
        hidden,
        window: 2,
        pooling: QrnnPooling::Fo,
        bidirectional: false,
        layers: 1,
        lengths: None,
        seed: 7,
    }
}

/// Every pooling and window, one and two directions, on batch 1 with one step, and on hidden
/// sizes around the AVX-512 tile (33 = 32 + 1) and below one vector (5).
#[test]
fn fused_matches_reference_on_odd_shapes() {
    for pooling in [QrnnPooling::F, QrnnPooling::Fo, QrnnPooling::Ifo] {
        for window in [1, 2] {
            for bidirectional in [false, true] {
                for (batch, time, input, hidden) in [(1, 1, 3, 5), (1, 6, 4, 33), (3, 5, 7, 17)] {
                    assert_same(&Case {
                        window,
                        pooling,
                        bidirectional,
                        ..case(batch, time, input, hidden)
                    });
                }
            }
        }
    }
}

/// Padded rows (a zero-length one among them) on either side, and two residual layers.
#[test]
fn fused_matches_reference_with_lengths_and_layers() {
    for lengths in [
        SequenceLengths::right(vec![6, 0, 3, 1]),
        SequenceLengths::left(vec![2, 6, 5, 0]),
    ] {
        for window in [1, 2] {
            assert_same(&Case {
                window,
                bidirectional: true,
                layers: 2,
                lengths: Some(lengths.clone()),
                pooling: QrnnPooling::Ifo,
                ..case(4, 6, 3, 9)
            });
        }
    }
}

/// `Execution::Fused` names why the kernel cannot run: another backend, zoneout in training.
#[test]
fn fused_refuses_what_it_cannot_run() {
    let _serial = rng_lock();
    #[allow(deprecated)]
    let device = Device::ndarray();
    let qrnn = QrnnConfig::new(2, 3)
        .with_execution(Execution::Fused)
        .init(&device)
        .expect("valid config");
    let err = qrnn
        .forward(Tensor::zeros([1, 2, 2], &device), None, None)
        .expect_err("no kernel on ndarray");
    assert!(
        matches!(
            err,
            Error::FusedUnavailable {
                layer: "Qrnn",
                reason: FusedUnavailable::Backend { .. }
            }
        ),
        "{err}"
    );
    let device = Device::flex().autodiff();
    let qrnn = QrnnConfig::new(2, 3)
        .with_zoneout(0.1)
        .with_execution(Execution::Fused)
        .init(&device)
        .expect("valid config");
    let err = qrnn
        .forward(Tensor::zeros([1, 2, 2], &device), None, None)
        .expect_err("zoneout while training");
    assert!(err.to_string().contains("zoneout"), "{err}");
    // Inference (no autodiff) runs the kernel with zoneout configured.
    let device = Device::flex();
    let qrnn = QrnnConfig::new(2, 3)
        .with_zoneout(0.1)
        .with_execution(Execution::Fused)
        .init(&device)
        .expect("valid config");
    assert!(
        qrnn.forward(Tensor::zeros([1, 2, 2], &device), None, None)
            .is_ok()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random shapes, options and lengths: the kernel and the reference agree.
    #[test]
    fn fused_matches_reference(
        (batch, time, input, hidden) in (1..4usize, 1..9usize, 1..6usize, 1..40usize),
        window in 1..3usize,
        pooling in prop::sample::select(vec![QrnnPooling::F, QrnnPooling::Fo, QrnnPooling::Ifo]),
        bidirectional in any::<bool>(),
        left in any::<bool>(),
        raw_lengths in prop::collection::vec(0..9usize, 4),
        seed in any::<u64>(),
    ) {
        let lengths: Vec<usize> = raw_lengths[..batch].iter().map(|&l| l.min(time)).collect();
        let lengths = if left { SequenceLengths::left(lengths) } else { SequenceLengths::right(lengths) };
        assert_same(&Case {
            window,
            pooling,
            bidirectional,
            lengths: Some(lengths),
            seed,
            ..case(batch, time, input, hidden)
        });
    }
}

/// Inference (no autodiff; the packed weights are cached between calls) equals the reference
/// path, again on a second call, and again after new weights are loaded into the layer.
#[test]
fn fused_inference_matches_reference_with_cached_and_new_weights() {
    let _serial = rng_lock();
    let device = Device::flex();
    let config = QrnnConfig::new(5, 21).with_bidirectional(true);
    let fused = config
        .clone()
        .with_execution(Execution::Fused)
        .init(&device)
        .expect("valid config");
    let x = tensor3(values(3, 2 * 7 * 5, 1.0), [2, 7, 5], &device);
    let lengths = SequenceLengths::right(vec![7, 4]);
    let check = |fused: &Qrnn| {
        let reference = config
            .clone()
            .with_execution(Execution::Reference)
            .init(&device)
            .expect("valid config")
            .load_state_dict(&fused.state_dict(""), "")
            .expect("same weights");
        let want = reference
            .forward(x.clone(), Some(&lengths), None)
            .expect("forward");
        for _ in 0..2 {
            let got = fused
                .forward(x.clone(), Some(&lengths), None)
                .expect("forward");
            let diff = max_abs_diff(&to_vec(got.output), &to_vec(want.output.clone()));
            assert!(diff <= TOLERANCE, "output differs by {diff}");
            let diff = max_abs_diff(&to_vec(got.state), &to_vec(want.state.clone()));
            assert!(diff <= TOLERANCE, "state differs by {diff}");
        }
    };
    check(&fused);
    let other = config.init(&device).expect("valid config");
    let fused = fused
        .load_state_dict(&other.state_dict(""), "")
        .expect("new weights");
    check(&fused);
}
