//! Batches padded on the left (`[<pad>, <pad>, a, b]`, [`PadSide::Left`]) through every layer:
//! at each real position the output equals the right-padded batch's output shifted by the
//! padding (and running that sequence alone), padding positions are exactly 0, and the final
//! states are those after each sequence's last real step — on the fused kernel
//! ([`Execution::Fused`], so no silent fallback) and on the reference path, in one and two
//! directions. Lengths larger than the time dimension are an error.

mod common;

use burn::tensor::{Device, Tensor};
use common::{AnyLayer, Forward, Kind, Spec, tensor3, to_vec, values};
use proptest::prelude::*;
use seqmodel_rnn::{Error, Execution, LengthsError, PadSide, SequenceLengths};

/// One layer with the given execution (same weights for every execution).
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

/// A batch of `lengths` sequences over `time` steps, padded on `side` with garbage (the padding
/// content must not matter): `[batch, time, features]`, row-major.
fn padded(
    sequences: &[Vec<f32>],
    features: usize,
    time: usize,
    side: PadSide,
    seed: u64,
) -> Vec<f32> {
    let garbage = values(seed ^ 0xBAD, sequences.len() * time * features, 9.0);
    let mut out = garbage;
    for (b, seq) in sequences.iter().enumerate() {
        let len = seq.len() / features;
        let start = match side {
            PadSide::Right => 0,
            PadSide::Left => time - len,
        };
        out[(b * time + start) * features..][..seq.len()].copy_from_slice(seq);
    }
    out
}

/// `values` of a `[batch, time, width]` tensor at `(b, t, ..)`.
fn at(values: &[f32], time: usize, width: usize, b: usize, t: usize) -> &[f32] {
    &values[(b * time + t) * width..][..width]
}

fn assert_close(a: &[f32], b: &[f32], tolerance: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: sizes");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance,
            "{what}[{i}]: {x} vs {y} (tolerance {tolerance})"
        );
    }
}

/// Run `layer` on `sequences` padded on both sides and check the left-padded results against
/// the right-padded ones, position by position. Returns the right-padded run.
fn check_sides(
    layer: &AnyLayer,
    spec: Spec,
    sequences: &[Vec<f32>],
    time: usize,
    seed: u64,
    device: &Device,
) -> Forward {
    let batch = sequences.len();
    let lens: Vec<usize> = sequences.iter().map(|s| s.len() / spec.input).collect();
    let run = |side: PadSide| {
        let x = padded(sequences, spec.input, time, side, seed);
        let lengths = SequenceLengths::new(lens.clone(), side);
        layer.forward(
            tensor3(x, [batch, time, spec.input], device),
            Some(&lengths),
            None,
            None,
        )
    };
    let right = run(PadSide::Right);
    let left = run(PadSide::Left);
    let width = spec.directions() * spec.hidden_out();
    let (r, l) = (to_vec(right.output.clone()), to_vec(left.output.clone()));
    for (b, &len) in lens.iter().enumerate() {
        let shift = time - len;
        for t in 0..time {
            let got = at(&l, time, width, b, t);
            if t < shift {
                assert!(
                    got.iter().all(|&v| v == 0.0),
                    "left padding (b {b}, t {t}) must output 0, got {got:?}"
                );
            } else {
                let want = at(&r, time, width, b, t - shift);
                assert_close(got, want, 1e-6, &format!("output b {b} t {t}"));
            }
        }
    }
    assert_close(
        &to_vec(left.h_n.clone()),
        &to_vec(right.h_n.clone()),
        1e-6,
        "h_n",
    );
    if let (Some(lc), Some(rc)) = (left.c_n, &right.c_n) {
        assert_close(&to_vec(lc), &to_vec(rc.clone()), 1e-6, "c_n");
    }
    right
}

fn sequences(lens: &[usize], features: usize, seed: u64) -> Vec<Vec<f32>> {
    lens.iter()
        .enumerate()
        .map(|(b, &len)| values(seed.wrapping_add(b as u64), len * features, 1.0))
        .collect()
}

fn spec(kind: Kind, bidirectional: bool) -> Spec {
    Spec {
        kind,
        input: 3,
        hidden: 7,
        layers: 2,
        bidirectional,
    }
}

/// Left = right shifted, and both equal each sequence run alone (no lengths, no padding), for
/// every layer, direction count and path.
#[test]
fn left_padded_batches_equal_right_padded_and_each_sequence_alone() {
    let device = Device::flex();
    let time = 6;
    let lens = [6, 2, 0, 4];
    for kind in [Kind::Lstm, Kind::Gru, Kind::RnnTanh, Kind::RnnRelu] {
        for bidirectional in [false, true] {
            let spec = spec(kind, bidirectional);
            let built = AnyLayer::build(spec, &device);
            let seqs = sequences(&lens, spec.input, 40);
            for execution in [Execution::Fused, Execution::Reference] {
                let layer = with_execution(&built, execution);
                let what = format!("{kind:?} bidirectional={bidirectional} {execution:?}");
                let right = check_sides(&layer, spec, &seqs, time, 1, &device);
                let width = spec.directions() * spec.hidden_out();
                let r = to_vec(right.output);
                let h_n = to_vec(right.h_n);
                let cells = spec.layers * spec.directions();
                for (b, seq) in seqs.iter().enumerate() {
                    let len = lens[b];
                    if len == 0 {
                        continue;
                    }
                    let alone = layer.forward(
                        tensor3(seq.clone(), [1, len, spec.input], &device),
                        None,
                        None,
                        None,
                    );
                    let a = to_vec(alone.output);
                    for t in 0..len {
                        assert_close(
                            at(&r, time, width, b, t),
                            at(&a, len, width, 0, t),
                            1e-5,
                            &format!("{what}: b {b} alone, t {t}"),
                        );
                    }
                    let alone_h = to_vec(alone.h_n);
                    let hw = spec.hidden_out();
                    for k in 0..cells {
                        assert_close(
                            &h_n[(k * lens.len() + b) * hw..][..hw],
                            &alone_h[k * hw..][..hw],
                            1e-5,
                            &format!("{what}: b {b} alone, h_n cell {k}"),
                        );
                    }
                }
            }
        }
    }
}

/// Gradients reach the real positions of a left-padded input exactly as they reach the same
/// positions of the right-padded one (the roll is differentiable), and never the padding.
#[test]
fn left_padding_gradients_follow_the_real_positions() {
    let device = Device::flex().autodiff();
    let time = 5;
    let lens = [5usize, 2, 3];
    for kind in [Kind::Lstm, Kind::Gru] {
        let spec = spec(kind, true);
        let layer = with_execution(&AnyLayer::build(spec, &device), Execution::Fused);
        let seqs = sequences(&lens, spec.input, 7);
        let grad = |side: PadSide| {
            let x = tensor3(
                padded(&seqs, spec.input, time, side, 3),
                [lens.len(), time, spec.input],
                &device,
            )
            .require_grad();
            let lengths = SequenceLengths::new(lens.to_vec(), side);
            let out = layer.forward(x.clone(), Some(&lengths), None, None);
            let loss = out.output.sum() + (out.h_n.clone() * out.h_n).sum();
            let grads = loss.backward();
            to_vec(x.grad(&grads).expect("input gradient"))
        };
        let (r, l) = (grad(PadSide::Right), grad(PadSide::Left));
        for (b, &len) in lens.iter().enumerate() {
            let shift = time - len;
            for t in 0..time {
                let got = at(&l, time, spec.input, b, t);
                if t < shift {
                    assert!(got.iter().all(|&g| g == 0.0), "{kind:?}: padding gradient");
                } else {
                    let want = at(&r, time, spec.input, b, t - shift);
                    assert_close(got, want, 1e-5, &format!("{kind:?}: grad b {b} t {t}"));
                }
            }
        }
    }
}

/// A length larger than the time dimension is an error naming the row, never clamped.
#[test]
fn lengths_past_the_time_dimension_are_errors() {
    let device = Device::flex();
    let lstm = seqmodel_rnn::LstmConfig::new(3, 4)
        .init(&device)
        .expect("valid");
    let input = Tensor::<3>::zeros([2, 5, 3], &device);
    for lengths in [
        SequenceLengths::left(vec![2, 6]),
        SequenceLengths::right(vec![2, 6]),
    ] {
        let err = lstm
            .forward(input.clone(), Some(&lengths), None)
            .expect_err("6 > time 5");
        assert!(
            matches!(
                err,
                Error::Lengths {
                    layer: "Lstm",
                    source: LengthsError::TooLong {
                        row: 1,
                        length: 6,
                        time: 5
                    }
                }
            ),
            "{err}"
        );
    }
    let err = lstm
        .forward(input, Some(&SequenceLengths::right(vec![1])), None)
        .expect_err("one length for two rows");
    assert_eq!(
        err.to_string(),
        "Lstm: lengths: 1 lengths for a batch of 2 sequences: give one length per sequence"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The padding side never changes the outputs at real positions (nor the final states).
    #[test]
    fn padding_side_never_changes_real_outputs(
        kind in prop::sample::select(vec![Kind::Lstm, Kind::Gru, Kind::RnnTanh, Kind::RnnRelu]),
        bidirectional in any::<bool>(),
        fused in any::<bool>(),
        time in 1..8usize,
        raw in prop::collection::vec(0..8usize, 1..5),
        seed in any::<u64>(),
    ) {
        let device = Device::flex();
        let lens: Vec<usize> = raw.iter().map(|&l| l.min(time)).collect();
        let spec = Spec { kind, input: 2, hidden: 5, layers: 1, bidirectional };
        let execution = if fused { Execution::Fused } else { Execution::Reference };
        let layer = with_execution(&AnyLayer::build(spec, &device), execution);
        let seqs = sequences(&lens, spec.input, seed);
        // Panics (with the position and both values) on any difference.
        check_sides(&layer, spec, &seqs, time, seed, &device);
    }
}
