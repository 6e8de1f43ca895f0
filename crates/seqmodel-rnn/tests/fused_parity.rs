//! The fused kernel (flex, forward and handwritten backward) against the reference path
//! (generic Burn ops), on random layers and batches (proptest): every output, final state and
//! gradient (input, initial states, every parameter) agree. Covers every cell kind, both
//! directions, stacked layers, lengths including 0 and full, hidden sizes that are not a
//! multiple of any vector width, and layers without bias.
//!
//! The fused side runs [`Execution::Fused`], which errors instead of falling back: a passing
//! comparison proves that the kernel ran. A projected LSTM (no fused kernel) is refused under
//! `Fused` and falls back under [`Execution::Auto`].

mod common;

use burn::tensor::{Device, Tensor};
use common::{AnyLayer, Kind, Spec, lengths, tensor3, values};
use proptest::prelude::*;
use seqmodel_rnn::{
    Error, Execution, FusedUnavailable, GruConfig, LstmConfig, NamedParam, RnnConfig,
    uses_fused_kernel,
};

#[derive(Debug, Clone)]
struct Case {
    spec: Spec,
    bias: bool,
    batch: usize,
    time: usize,
    lengths: Vec<i64>,
    initial_state: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    let kinds = vec![Kind::Lstm, Kind::Gru, Kind::RnnTanh, Kind::RnnRelu];
    (
        prop::sample::select(kinds),
        1..12usize,
        1..40usize,
        1..3usize,
        any::<bool>(),
        any::<bool>(),
        1..7usize,
        1..9usize,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_flat_map(
            |(kind, input, hidden, layers, bidirectional, bias, batch, time, initial, seed)| {
                let spec = Spec {
                    kind,
                    input,
                    hidden,
                    layers,
                    bidirectional,
                };
                prop::collection::vec(0..=time as i64, batch).prop_map(move |lengths| Case {
                    spec,
                    bias,
                    batch,
                    time,
                    lengths,
                    initial_state: initial,
                    seed,
                })
            },
        )
}

/// A layer of `case` (random PyTorch-style init) on `device`.
fn layer(case: &Case, device: &Device) -> AnyLayer {
    let s = case.spec;
    match s.kind {
        Kind::Lstm => AnyLayer::Lstm(
            LstmConfig::new(s.input, s.hidden)
                .with_num_layers(s.layers)
                .with_bidirectional(s.bidirectional)
                .with_bias(case.bias)
                .init(device)
                .expect("valid config"),
        ),
        Kind::Gru => AnyLayer::Gru(
            GruConfig::new(s.input, s.hidden)
                .with_num_layers(s.layers)
                .with_bidirectional(s.bidirectional)
                .with_bias(case.bias)
                .init(device)
                .expect("valid config"),
        ),
        Kind::LstmProj => unreachable!("projected LSTMs have no fused kernel; not generated"),
        Kind::RnnTanh | Kind::RnnRelu => AnyLayer::Rnn(
            RnnConfig::new(s.input, s.hidden)
                .with_num_layers(s.layers)
                .with_bidirectional(s.bidirectional)
                .with_bias(case.bias)
                .with_nonlinearity(if s.kind == Kind::RnnRelu {
                    seqmodel_rnn::Nonlinearity::Relu
                } else {
                    seqmodel_rnn::Nonlinearity::Tanh
                })
                .init(device)
                .expect("valid config"),
        ),
    }
}

fn with_execution(layer: &AnyLayer, execution: Execution) -> AnyLayer {
    match layer {
        AnyLayer::Lstm(l) => AnyLayer::Lstm(seqmodel_rnn::Lstm {
            execution,
            ..l.clone()
        }),
        AnyLayer::Gru(l) => AnyLayer::Gru(seqmodel_rnn::Gru {
            execution,
            ..l.clone()
        }),
        AnyLayer::Rnn(l) => AnyLayer::Rnn(seqmodel_rnn::Rnn {
            execution,
            ..l.clone()
        }),
    }
}

/// Every value the two paths must agree on: outputs, states, then gradients.
fn run(case: &Case, layer: &AnyLayer, device: &Device) -> Vec<(String, Vec<f32>)> {
    let s = case.spec;
    let (b, t) = (case.batch, case.time);
    let cells = s.layers * s.directions();
    let input = tensor3(
        values(case.seed, b * t * s.input, 1.0),
        [b, t, s.input],
        device,
    )
    .require_grad();
    let state = |salt: u64, width: usize| {
        tensor3(
            values(case.seed ^ salt, cells * b * width, 0.5),
            [cells, b, width],
            device,
        )
        .require_grad()
    };
    let h0 = case.initial_state.then(|| state(1, s.hidden_out()));
    let c0 = (case.initial_state && s.has_cell()).then(|| state(2, s.hidden));
    let lengths = lengths(&case.lengths);
    let out = layer.forward(input.clone(), Some(&lengths), h0.clone(), c0.clone());

    let weights = |salt: u64, dims: [usize; 3]| {
        tensor3(
            values(case.seed ^ salt, dims.iter().product(), 1.0),
            dims,
            device,
        )
    };
    let mut loss = (out.output.clone() * weights(3, out.output.dims())).sum()
        + (out.h_n.clone() * weights(4, out.h_n.dims())).sum();
    if let Some(c_n) = &out.c_n {
        loss = loss + (c_n.clone() * weights(5, c_n.dims())).sum();
    }
    let grads = loss.backward();

    let data = |t: Tensor<3>| common::to_vec(t);
    let mut got = vec![
        ("output".to_string(), data(out.output)),
        ("h_n".to_string(), data(out.h_n)),
    ];
    if let Some(c_n) = out.c_n {
        got.push(("c_n".to_string(), data(c_n)));
    }
    let grad3 = |t: &Tensor<3>| {
        t.grad(&grads)
            .map(|g| g.into_data().try_into_vec_as::<f32>().expect("floats"))
    };
    got.push(("grad input".to_string(), grad3(&input).expect("input grad")));
    if let Some(h0) = &h0 {
        got.push(("grad h0".to_string(), grad3(h0).expect("h0 grad")));
    }
    if let Some(c0) = &c0 {
        got.push(("grad c0".to_string(), grad3(c0).expect("c0 grad")));
    }
    for (name, param) in layer.named_parameters() {
        let g = match &param {
            NamedParam::Matrix(t) => t.grad(&grads).map(|g| g.into_data()),
            NamedParam::Vector(t) => t.grad(&grads).map(|g| g.into_data()),
        };
        let g = g
            .map(|g| g.try_into_vec_as::<f32>().expect("floats"))
            .unwrap_or_default();
        got.push((format!("grad {name}"), g));
    }
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fused_kernel_matches_the_reference_path(case in case()) {
        let device = Device::flex().autodiff();
        prop_assert!(uses_fused_kernel(Execution::Auto, &device));
        let fused = layer(&case, &device);
        let reference = with_execution(&fused, Execution::Reference);
        let fused = with_execution(&fused, Execution::Fused);
        let a = run(&case, &fused, &device);
        let b = run(&case, &reference, &device);
        prop_assert_eq!(a.len(), b.len());
        for ((name, x), (_, y)) in a.iter().zip(&b) {
            prop_assert_eq!(x.len(), y.len(), "{}: sizes", name);
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                prop_assert!(
                    (p - q).abs() <= 2e-5 + 2e-5 * q.abs(),
                    "{}[{}]: fused {} vs reference {} ({:?})", name, i, p, q, case
                );
            }
        }
    }
}

/// Without autodiff (inference), the fused forward gives the reference values too.
#[test]
fn inference_forward_matches_the_reference_path() {
    let device = Device::flex();
    let case = Case {
        spec: Spec {
            kind: Kind::Lstm,
            input: 5,
            hidden: 37,
            layers: 2,
            bidirectional: true,
        },
        bias: true,
        batch: 4,
        time: 9,
        lengths: vec![9, 1, 0, 6],
        initial_state: true,
        seed: 7,
    };
    for kind in [Kind::Lstm, Kind::Gru, Kind::RnnTanh, Kind::RnnRelu] {
        let case = Case {
            spec: Spec { kind, ..case.spec },
            ..case.clone()
        };
        let fused = with_execution(&layer(&case, &device), Execution::Fused);
        let reference = with_execution(&fused, Execution::Reference);
        let input = tensor3(values(3, 4 * 9 * 5, 1.0), [4, 9, 5], &device);
        let lengths = lengths(&case.lengths);
        let a = fused.forward(input.clone(), Some(&lengths), None, None);
        let b = reference.forward(input, Some(&lengths), None, None);
        let diff = common::max_abs_diff(&common::to_vec(a.output), &common::to_vec(b.output));
        assert!(diff < 2e-5, "{kind:?}: outputs differ by {diff}");
        let diff = common::max_abs_diff(&common::to_vec(a.h_n), &common::to_vec(b.h_n));
        assert!(diff < 2e-5, "{kind:?}: h_n differs by {diff}");
    }
}

/// Inference keeps packed weights between calls (keyed by the weights' storage): a repeated
/// call gives the same values, and new weights in the same layer are never served the packing
/// of the old ones.
#[test]
fn inference_after_new_weights_uses_the_new_weights() {
    let device = Device::flex();
    let lstm = LstmConfig::new(6, 19)
        .with_bidirectional(true)
        .with_execution(Execution::Fused)
        .init(&device)
        .expect("valid");
    let input = tensor3(values(8, 3 * 7 * 6, 1.0), [3, 7, 6], &device);
    let run = |lstm: &seqmodel_rnn::Lstm| {
        common::to_vec(
            lstm.forward(input.clone(), None, None)
                .expect("runs")
                .output,
        )
    };
    let first = run(&lstm);
    assert_eq!(run(&lstm), first, "a repeated call (packed weights reused)");

    // The same layer with every weight changed, loaded through a state dict.
    let mut dict = lstm.state_dict("");
    let keys: Vec<String> = dict.keys().map(str::to_string).collect();
    for key in keys {
        let data = dict.get(&key).expect("listed").clone();
        let shape = data.shape().to_vec();
        let changed: Vec<f32> = data
            .try_to_vec::<f32>()
            .expect("f32")
            .iter()
            .map(|v| 0.5 - v)
            .collect();
        dict.insert(key, burn::tensor::TensorData::new(changed, shape));
    }
    let updated = lstm
        .clone()
        .load_state_dict(&dict, "")
        .expect("same shapes");
    let reference = seqmodel_rnn::Lstm {
        execution: Execution::Reference,
        ..updated.clone()
    };
    let fused = run(&updated);
    let want = run(&reference);
    let diff = common::max_abs_diff(&fused, &want);
    assert!(
        diff < 2e-5,
        "new weights: fused and reference differ by {diff}"
    );
    assert!(
        common::max_abs_diff(&fused, &first) > 1e-3,
        "the new weights change the output"
    );
    assert_eq!(
        run(&lstm),
        first,
        "the old layer still gives its own values"
    );
}

/// `Execution::Reference` never takes the fused kernel; other backends (ndarray) have none, and
/// `Execution::Fused` there is an error naming the backend.
#[test]
fn fused_kernel_selection() {
    let flex = Device::flex();
    assert!(uses_fused_kernel(Execution::Auto, &flex));
    assert!(uses_fused_kernel(
        Execution::Fused,
        &flex.clone().autodiff()
    ));
    assert!(!uses_fused_kernel(Execution::Reference, &flex));
    #[allow(deprecated)]
    let ndarray = Device::ndarray();
    assert!(!uses_fused_kernel(Execution::Auto, &ndarray));
    let lstm = LstmConfig::new(3, 4).init(&flex).expect("valid");
    assert_eq!(lstm.execution, Execution::Auto);

    let gru = GruConfig::new(3, 4)
        .with_execution(Execution::Fused)
        .init(&ndarray)
        .expect("valid");
    let input = Tensor::<3>::zeros([2, 3, 3], &ndarray);
    let err = gru
        .forward(input, None, None)
        .expect_err("no kernel on ndarray");
    assert!(
        matches!(
            err,
            Error::FusedUnavailable {
                layer: "Gru",
                reason: FusedUnavailable::Backend { .. }
            }
        ),
        "{err}"
    );
}

/// A projected LSTM (`proj_size > 0`) has no fused kernel: under `Execution::Fused` it is an
/// error naming the projection; under `Execution::Auto` it falls back to the reference path and
/// gives exactly the reference values, with and without autodiff.
#[test]
fn projected_lstm_is_refused_by_fused_and_falls_back_under_auto() {
    for device in [Device::flex(), Device::flex().autodiff()] {
        let auto = LstmConfig::new(4, 9)
            .with_proj_size(5)
            .with_num_layers(2)
            .with_bidirectional(true)
            .init(&device)
            .expect("valid");
        let input = tensor3(values(21, 3 * 6 * 4, 1.0), [3, 6, 4], &device);
        let lens = lengths(&[6, 2, 4]);

        let fused = seqmodel_rnn::Lstm {
            execution: Execution::Fused,
            ..auto.clone()
        };
        let err = fused
            .forward(input.clone(), Some(&lens), None)
            .expect_err("no fused kernel for a projection");
        assert!(
            matches!(
                err,
                Error::FusedUnavailable {
                    layer: "Lstm",
                    reason: FusedUnavailable::Projection { proj_size: 5 }
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("proj_size = 5"), "{err}");

        let reference = seqmodel_rnn::Lstm {
            execution: Execution::Reference,
            ..auto.clone()
        };
        let a = auto
            .forward(input.clone(), Some(&lens), None)
            .expect("falls back");
        let b = reference
            .forward(input, Some(&lens), None)
            .expect("reference");
        assert_eq!(a.output.dims(), [3, 6, 10]);
        assert_eq!(common::to_vec(a.output), common::to_vec(b.output));
        assert_eq!(common::to_vec(a.state.h), common::to_vec(b.state.h));
        assert_eq!(common::to_vec(a.state.c), common::to_vec(b.state.c));
    }
}

/// When the input needs no gradient (a leaf, as the raw features of a first layer usually are)
/// the fused backward skips `dx`; every parameter gradient still matches the reference path.
#[test]
fn parameter_gradients_without_an_input_gradient() {
    let device = Device::flex().autodiff();
    for kind in [Kind::Lstm, Kind::Gru, Kind::RnnTanh] {
        let case = Case {
            spec: Spec {
                kind,
                input: 6,
                hidden: 21,
                layers: 2,
                bidirectional: true,
            },
            bias: true,
            batch: 3,
            time: 5,
            lengths: vec![5, 2, 4],
            initial_state: false,
            seed: 11,
        };
        let fused = with_execution(&layer(&case, &device), Execution::Fused);
        let reference = with_execution(&fused, Execution::Reference);
        let grads_of = |layer: &AnyLayer| {
            let input = tensor3(values(5, 3 * 5 * 6, 1.0), [3, 5, 6], &device);
            let lengths = lengths(&case.lengths);
            let out = layer.forward(input.clone(), Some(&lengths), None, None);
            let weights = tensor3(values(6, 3 * 5 * 42, 1.0), [3, 5, 42], &device);
            let grads = (out.output * weights).sum().backward();
            assert!(
                input.grad(&grads).is_none(),
                "the input is a leaf without gradient"
            );
            layer
                .named_parameters()
                .into_iter()
                .map(|(name, param)| {
                    let g = match &param {
                        NamedParam::Matrix(t) => t.grad(&grads).map(|g| g.into_data()),
                        NamedParam::Vector(t) => t.grad(&grads).map(|g| g.into_data()),
                    };
                    let g = g.unwrap_or_else(|| panic!("{kind:?}: no gradient for {name}"));
                    (name, g.try_into_vec_as::<f32>().expect("floats"))
                })
                .collect::<Vec<_>>()
        };
        for ((name, a), (_, b)) in grads_of(&fused).iter().zip(grads_of(&reference)) {
            let diff = common::max_abs_diff(a, &b);
            assert!(
                diff < 5e-5,
                "{kind:?} {name}: fused and reference differ by {diff}"
            );
        }
    }
}
