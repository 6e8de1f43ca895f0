//! The fused CubeCL forward kernel on wgpu gives the values of the reference path (generic
//! Burn ops) on the same device, for every fused cell kind, both directions, stacked layers,
//! initial states, padding (including an empty sequence) and a hidden size wider than one
//! cube's units.
//!
//! Skipped with a message when no wgpu adapter exists, unless `SEQMODEL_REQUIRE_WGPU=1`.
//! Shapes stay tiny: a software driver (lavapipe) compiles every kernel it runs.
#![cfg(feature = "wgpu")]

mod common;

use burn::tensor::Device;
use common::{AnyLayer, Kind, Spec, lengths, max_abs_diff, tensor3, to_vec, values};
use seqmodel_device::test_support::wgpu_for_tests;
use seqmodel_rnn::{Execution, uses_fused_kernel};

const TOLERANCE: f32 = 1e-4;

/// The four cell kinds the fused kernel runs.
const FUSED_KINDS: [Kind; 4] = [Kind::RnnTanh, Kind::RnnRelu, Kind::Lstm, Kind::Gru];

/// A copy of `layer` (same weights) running with `execution`.
fn with_execution(layer: &AnyLayer, execution: Execution) -> AnyLayer {
    match layer {
        AnyLayer::Rnn(l) => {
            let mut l = l.clone();
            l.execution = execution;
            AnyLayer::Rnn(l)
        }
        AnyLayer::Lstm(l) => {
            let mut l = l.clone();
            l.execution = execution;
            AnyLayer::Lstm(l)
        }
        AnyLayer::Gru(l) => {
            let mut l = l.clone();
            l.execution = execution;
            AnyLayer::Gru(l)
        }
    }
}

fn execution(layer: &AnyLayer) -> Execution {
    match layer {
        AnyLayer::Rnn(l) => l.execution,
        AnyLayer::Lstm(l) => l.execution,
        AnyLayer::Gru(l) => l.execution,
    }
}

/// One comparison: a spec, a batch, its lengths, and whether initial states are given.
struct Case {
    spec: Spec,
    batch: usize,
    time: usize,
    lens: Vec<i64>,
    initial: bool,
}

/// The packed results of a forward: output, then `h_n`, then `c_n`.
struct Results {
    output: Vec<f32>,
    state: Vec<f32>,
}

fn run(layer: &AnyLayer, case: &Case, seed: u64, device: &Device) -> Results {
    let Case {
        spec, batch, time, ..
    } = case;
    let (batch, time) = (*batch, *time);
    let n = spec.layers * spec.directions();
    let x = values(seed, batch * time * spec.input, 1.0);
    let (h0, c0) = if case.initial {
        let h0 = tensor3(
            values(seed + 1, n * batch * spec.hidden_out(), 0.5),
            [n, batch, spec.hidden_out()],
            device,
        );
        let c0 = spec.has_cell().then(|| {
            tensor3(
                values(seed + 2, n * batch * spec.hidden, 0.5),
                [n, batch, spec.hidden],
                device,
            )
        });
        (Some(h0), c0)
    } else {
        (None, None)
    };
    let out = layer.forward(
        tensor3(x, [batch, time, spec.input], device),
        Some(&lengths(&case.lens)),
        h0,
        c0,
    );
    let mut state = to_vec(out.h_n);
    if let Some(c) = out.c_n {
        state.extend(to_vec(c));
    }
    Results {
        output: to_vec(out.output),
        state,
    }
}

/// Compare fused and reference on `device` for every fused kind; returns how many ran.
fn compare(case: &Case, device: &Device) -> usize {
    let mut compared = 0;
    for (i, kind) in FUSED_KINDS.into_iter().enumerate() {
        let spec = Spec { kind, ..case.spec };
        let case = Case {
            spec,
            lens: case.lens.clone(),
            ..*case
        };
        let fused = AnyLayer::build(spec, device);
        assert_eq!(execution(&fused), Execution::Auto);
        let reference = with_execution(&fused, Execution::Reference);
        let seed = 100 + 10 * i as u64;
        let want = run(&reference, &case, seed, device);
        let got = run(&fused, &case, seed, device);

        let diff = max_abs_diff(&want.output, &got.output);
        assert!(
            diff <= TOLERANCE,
            "{kind:?} {:?}: outputs differ by {diff:e}",
            case.spec
        );
        let diff = max_abs_diff(&want.state, &got.state);
        assert!(
            diff <= TOLERANCE,
            "{kind:?} {:?}: final states differ by {diff:e}",
            case.spec
        );

        // Padded steps are exactly 0 in the fused output, in every direction.
        let width = spec.directions() * spec.hidden_out();
        for (b, &len) in case.lens.iter().enumerate() {
            for t in len as usize..case.time {
                let row = &got.output[(b * case.time + t) * width..][..width];
                assert!(
                    row.iter().all(|&v| v == 0.0),
                    "{kind:?}: sequence {b} step {t} (length {len}) is padding but not 0: {row:?}"
                );
            }
        }
        // The values are not trivially 0 (the comparison above means something).
        assert!(
            got.output.iter().any(|&v| v.abs() > 1e-3),
            "{kind:?}: the fused output is all zeros"
        );
        compared += 1;
    }
    compared
}

#[test]
fn fused_kernel_matches_the_reference_path_on_wgpu() {
    let Some(device) = wgpu_for_tests("fused_kernel_matches_the_reference_path_on_wgpu") else {
        return;
    };
    assert!(
        uses_fused_kernel(Execution::Auto, &device),
        "wgpu without autodiff must run the fused kernel"
    );
    assert!(
        !uses_fused_kernel(Execution::Auto, &device.clone().autodiff()),
        "training on wgpu takes the reference path"
    );
    let cases = [
        // Two stacked bidirectional layers, padding, initial states.
        Case {
            spec: Spec {
                kind: Kind::Lstm,
                input: 3,
                hidden: 4,
                layers: 2,
                bidirectional: true,
            },
            batch: 3,
            time: 5,
            lens: vec![5, 2, 4],
            initial: true,
        },
        // An odd hidden size, an empty sequence, zero initial states, reverse direction too.
        Case {
            spec: Spec {
                kind: Kind::Lstm,
                input: 2,
                hidden: 33,
                layers: 1,
                bidirectional: true,
            },
            batch: 4,
            time: 6,
            lens: vec![6, 0, 1, 3],
            initial: false,
        },
        // A single sequence, one direction.
        Case {
            spec: Spec {
                kind: Kind::Lstm,
                input: 3,
                hidden: 7,
                layers: 1,
                bidirectional: false,
            },
            batch: 1,
            time: 4,
            lens: vec![3],
            initial: true,
        },
    ];
    let mut compared = 0;
    for case in &cases {
        compared += compare(case, &device);
    }
    println!("compared {compared} fused/reference pairs on wgpu");
    assert_eq!(compared, cases.len() * FUSED_KINDS.len());
}

/// A hidden size above the 256 units of one cube (units loop over several columns each), and
/// a batch split over two cubes of four sequences, the second only partly filled.
#[test]
fn fused_kernel_covers_hidden_sizes_wider_than_a_cube() {
    let Some(device) = wgpu_for_tests("fused_kernel_covers_hidden_sizes_wider_than_a_cube") else {
        return;
    };
    let case = Case {
        spec: Spec {
            kind: Kind::Gru,
            input: 2,
            hidden: 300,
            layers: 1,
            bidirectional: false,
        },
        batch: 5,
        time: 3,
        lens: vec![3, 2, 0, 3, 1],
        initial: true,
    };
    let compared = compare(&case, &device);
    assert_eq!(compared, FUSED_KINDS.len());
}
