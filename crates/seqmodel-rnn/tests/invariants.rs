//! Invariants of the recurrent layers on random shapes, lengths and weights (proptest):
//! - garbage after a sequence's length changes nothing for that sequence;
//! - the reverse half of a bidirectional layer equals a one-direction layer (same weights) run
//!   on each sequence reversed within its length;
//! - permuting the batch permutes the results.

mod common;

use burn::tensor::Device;
use common::{AnyLayer, Kind, Spec, lengths, max_abs_diff, tensor3, to_vec, values};
use proptest::prelude::*;
use seqmodel_rnn::StateDict;

/// A layer spec plus a batch: sizes, lengths in `1..=time`, and a seed for all values.
#[derive(Debug, Clone)]
struct Case {
    spec: Spec,
    batch: usize,
    time: usize,
    lengths: Vec<i64>,
    seed: u64,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(common::ALL_KINDS.to_vec())
}

fn case(
    layers: std::ops::Range<usize>,
    bidirectional: Option<bool>,
) -> impl Strategy<Value = Case> {
    let bidirectional = match bidirectional {
        Some(b) => Just(b).boxed(),
        None => any::<bool>().boxed(),
    };
    (
        kind(),
        1..4usize,
        2..5usize,
        layers,
        bidirectional,
        1..5usize,
        1..7usize,
        any::<u64>(),
    )
        .prop_flat_map(
            |(kind, input, hidden, layers, bidirectional, batch, time, seed)| {
                let spec = Spec {
                    kind,
                    input,
                    hidden,
                    layers,
                    bidirectional,
                };
                prop::collection::vec(1..=time as i64, batch).prop_map(move |lengths| Case {
                    spec,
                    batch,
                    time,
                    lengths,
                    seed,
                })
            },
        )
}

const TOLERANCE: f32 = 1e-6;

fn initial_states(
    case: &Case,
    device: &Device,
) -> (burn::tensor::Tensor<3>, Option<burn::tensor::Tensor<3>>) {
    let s = case.spec;
    let n = s.layers * s.directions();
    let h0 = tensor3(
        values(case.seed ^ 0x40, n * case.batch * s.hidden_out(), 0.5),
        [n, case.batch, s.hidden_out()],
        device,
    );
    let c0 = s.has_cell().then(|| {
        tensor3(
            values(case.seed ^ 0xc0, n * case.batch * s.hidden, 0.5),
            [n, case.batch, s.hidden],
            device,
        )
    });
    (h0, c0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn garbage_after_the_length_changes_nothing(case in case(1..3, None)) {
        let device = Device::flex();
        let s = case.spec;
        let layer = AnyLayer::build(s, &device);
        let (b, t, i) = (case.batch, case.time, s.input);
        let clean = values(case.seed, b * t * i, 1.0);
        let mut dirty = clean.clone();
        let garbage = values(case.seed ^ 0x9a, b * t * i, 50.0);
        for bb in 0..b {
            for tt in case.lengths[bb] as usize..t {
                for k in 0..i {
                    let at = (bb * t + tt) * i + k;
                    dirty[at] = garbage[at];
                }
            }
        }
        let lens = lengths(&case.lengths);
        let (h0, c0) = initial_states(&case, &device);
        let a = layer.forward(tensor3(clean, [b, t, i], &device), Some(&lens), Some(h0.clone()), c0.clone());
        let z = layer.forward(tensor3(dirty, [b, t, i], &device), Some(&lens), Some(h0), c0);
        let out_a = to_vec(a.output);
        prop_assert!(max_abs_diff(&out_a, &to_vec(z.output)) <= TOLERANCE, "outputs changed");
        prop_assert!(max_abs_diff(&to_vec(a.h_n), &to_vec(z.h_n)) <= TOLERANCE, "h_n changed");
        if let (Some(ca), Some(cz)) = (a.c_n, z.c_n) {
            prop_assert!(max_abs_diff(&to_vec(ca), &to_vec(cz)) <= TOLERANCE, "c_n changed");
        }
        let width = s.directions() * s.hidden_out();
        for bb in 0..b {
            for tt in case.lengths[bb] as usize..t {
                let row = &out_a[(bb * t + tt) * width..(bb * t + tt + 1) * width];
                prop_assert!(row.iter().all(|v| *v == 0.0), "output not 0 past length at b={} t={}", bb, tt);
            }
        }
    }

    #[test]
    fn reverse_half_is_the_forward_layer_on_reversed_sequences(case in case(1..2, Some(true))) {
        let device = Device::flex();
        let s = case.spec;
        let bi = AnyLayer::build(s, &device);
        // The one-direction layer gets the reverse direction's weights under the plain names.
        let bi_dict = bi.state_dict();
        let mut uni_dict = StateDict::new();
        for key in bi_dict.keys() {
            if let Some(plain) = key.strip_suffix("_reverse") {
                uni_dict.insert(plain, bi_dict.get(key).expect("key").clone());
            }
        }
        let uni_spec = Spec { bidirectional: false, ..s };
        let uni = AnyLayer::from_state_dict(uni_spec, &uni_dict, &device);

        let (b, t, i, h) = (case.batch, case.time, s.input, s.hidden_out());
        let x = values(case.seed, b * t * i, 1.0);
        let mut reversed = x.clone();
        for bb in 0..b {
            let len = case.lengths[bb] as usize;
            for tt in 0..len {
                let (to, from) = ((bb * t + tt) * i, (bb * t + len - 1 - tt) * i);
                reversed[to..to + i].copy_from_slice(&x[from..from + i]);
            }
        }
        let lens = lengths(&case.lengths);
        let both = bi.forward(tensor3(x, [b, t, i], &device), Some(&lens), None, None);
        let one = uni.forward(tensor3(reversed, [b, t, i], &device), Some(&lens), None, None);
        let both_out = to_vec(both.output);
        let one_out = to_vec(one.output);
        for bb in 0..b {
            let len = case.lengths[bb] as usize;
            for tt in 0..len {
                let rev = &both_out[(bb * t + tt) * 2 * h + h..(bb * t + tt + 1) * 2 * h];
                let fwd = &one_out[(bb * t + len - 1 - tt) * h..(bb * t + len - tt) * h];
                prop_assert!(max_abs_diff(rev, fwd) <= TOLERANCE, "b={} t={}: {:?} vs {:?}", bb, tt, rev, fwd);
            }
        }
        let h_both = to_vec(both.h_n);
        prop_assert!(max_abs_diff(&h_both[b * h..], &to_vec(one.h_n)) <= TOLERANCE, "final reverse h");
        if let (Some(c_both), Some(c_one)) = (both.c_n, one.c_n) {
            let c_both = to_vec(c_both);
            prop_assert!(max_abs_diff(&c_both[b * s.hidden..], &to_vec(c_one)) <= TOLERANCE, "final reverse c");
        }
    }

    #[test]
    fn permuting_the_batch_permutes_the_results(case in case(1..3, None), shuffle in any::<u64>()) {
        let device = Device::flex();
        let s = case.spec;
        let layer = AnyLayer::build(s, &device);
        let (b, t, i) = (case.batch, case.time, s.input);
        // A permutation of 0..b from the shuffle seed (sort indices by random keys).
        let keys = values(shuffle, b, 1.0);
        let mut perm: Vec<usize> = (0..b).collect();
        perm.sort_by(|&x, &y| keys[x].total_cmp(&keys[y]));

        let x = values(case.seed, b * t * i, 1.0);
        let (h0, c0) = initial_states(&case, &device);
        let n = s.layers * s.directions();
        let permute_rows = |v: &[f32], outer: usize, row: usize| -> Vec<f32> {
            // v: [outer, b, row] -> rows of the batch axis reordered by perm
            let mut p = Vec::with_capacity(v.len());
            for o in 0..outer {
                for &src in &perm {
                    let at = (o * b + src) * row;
                    p.extend_from_slice(&v[at..at + row]);
                }
            }
            p
        };
        let px = permute_rows(&x, 1, t * i);
        let plen: Vec<i64> = perm.iter().map(|&p| case.lengths[p]).collect();
        let h0v = to_vec(h0.clone());
        let ph0 = tensor3(permute_rows(&h0v, n, s.hidden_out()), [n, b, s.hidden_out()], &device);
        let pc0 = c0.clone().map(|c| tensor3(permute_rows(&to_vec(c), n, s.hidden), [n, b, s.hidden], &device));

        let plain = layer.forward(tensor3(x, [b, t, i], &device), Some(&lengths(&case.lengths)), Some(h0), c0);
        let permuted = layer.forward(tensor3(px, [b, t, i], &device), Some(&lengths(&plen)), Some(ph0), pc0);
        let width = s.directions() * s.hidden_out();
        prop_assert!(
            max_abs_diff(&permute_rows(&to_vec(plain.output), 1, t * width), &to_vec(permuted.output)) <= TOLERANCE,
            "output rows not permuted"
        );
        prop_assert!(
            max_abs_diff(&permute_rows(&to_vec(plain.h_n), n, s.hidden_out()), &to_vec(permuted.h_n)) <= TOLERANCE,
            "h_n rows not permuted"
        );
        if let (Some(c), Some(pc)) = (plain.c_n, permuted.c_n) {
            prop_assert!(
                max_abs_diff(&permute_rows(&to_vec(c), n, s.hidden), &to_vec(pc)) <= TOLERANCE,
                "c_n rows not permuted"
            );
        }
    }
}
