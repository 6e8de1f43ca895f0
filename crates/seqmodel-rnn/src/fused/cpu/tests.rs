//! The kernels against a plain f64 implementation of the same recurrences, on every
//! instruction set this CPU has, with and without padding, in both directions.
use super::threads::row_blocks;
use super::*;
use crate::fused::simd::Isa;
use crate::rnn_cell::Nonlinearity;

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A plain f64 forward: returns the packed output.
fn reference(kind: CellKind, dims: Dims, inp: &Inputs<'_>) -> Vec<f64> {
    let Dims {
        batch,
        time,
        hidden: h_,
        ..
    } = dims;
    let gh = kind.gates() * h_;
    let sr = kind.state_rows();
    let input = dims.input;
    // xp = x W_ih^T + bias, in f64.
    let xp: Vec<f64> = (0..batch * time)
        .flat_map(|bt| {
            (0..gh).map(move |q| {
                inp.bias[q] as f64
                    + (0..input)
                        .map(|k| inp.x[bt * input + k] as f64 * inp.w_ih[q * input + k] as f64)
                        .sum::<f64>()
            })
        })
        .collect();
    let mut out = vec![0.0f64; batch * (time + sr) * h_];
    for b in 0..batch {
        let mut h: Vec<f64> = inp.h0[b * h_..][..h_].iter().map(|&v| v as f64).collect();
        let mut c: Vec<f64> = if kind.has_cell() {
            inp.c0[b * h_..][..h_].iter().map(|&v| v as f64).collect()
        } else {
            vec![]
        };
        for s in 0..time {
            let t = dims.step(s);
            if t >= inp.lengths[b] {
                continue;
            }
            let x = &xp[(b * time + t) * gh..][..gh];
            let g: Vec<f64> = (0..gh)
                .map(|q| (0..h_).map(|k| inp.w_hh[q * h_ + k] as f64 * h[k]).sum())
                .collect();
            let pre = |q: usize| x[q] + g[q];
            let new_h: Vec<f64> = match kind.math() {
                GateMath::Lstm => (0..h_)
                    .map(|j| {
                        let (i, f) = (sig(pre(j)), sig(pre(h_ + j)));
                        let (gg, o) = (pre(2 * h_ + j).tanh(), sig(pre(3 * h_ + j)));
                        c[j] = f * c[j] + i * gg;
                        o * c[j].tanh()
                    })
                    .collect(),
                GateMath::Gru => (0..h_)
                    .map(|j| {
                        let r = sig(pre(j));
                        let z = sig(pre(h_ + j));
                        let hn = g[2 * h_ + j] + inp.b_hn[j] as f64;
                        let n = (x[2 * h_ + j] + r * hn).tanh();
                        (1.0 - z) * n + z * h[j]
                    })
                    .collect(),
                GateMath::Rnn(Nonlinearity::Tanh) => (0..h_).map(|j| pre(j).tanh()).collect(),
                GateMath::Rnn(Nonlinearity::Relu) => (0..h_).map(|j| pre(j).max(0.0)).collect(),
            };
            h = new_h;
            out[(b * time + t) * h_..][..h_].copy_from_slice(&h);
        }
        out[(batch * time + b) * h_..][..h_].copy_from_slice(&h);
        if kind.has_cell() {
            out[(batch * time + batch + b) * h_..][..h_].copy_from_slice(&c);
        }
    }
    out
}

struct Case {
    kind: CellKind,
    dims: Dims,
    x: Vec<f32>,
    w_ih: Vec<f32>,
    bias: Vec<f32>,
    w_hh: Vec<f32>,
    b_hn: Vec<f32>,
    h0: Vec<f32>,
    c0: Vec<f32>,
    lengths: Vec<usize>,
}

impl Case {
    fn new(kind: CellKind, dims: Dims, lengths: Vec<usize>, seed: u64) -> Case {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut rand = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
                })
                .collect()
        };
        let (b, t, h) = (dims.batch, dims.time, dims.hidden);
        let gh = kind.gates() * h;
        let input = dims.input;
        Case {
            kind,
            dims,
            x: rand(b * t * input, 1.0),
            w_ih: rand(gh * input, 1.2 / (input as f32).sqrt()),
            bias: rand(gh, 0.4),
            w_hh: rand(gh * h, 1.0 / (h as f32).sqrt()),
            b_hn: rand(h, 0.3),
            h0: rand(b * h, 0.5),
            c0: rand(b * h, 0.5),
            lengths,
        }
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs {
            x: &self.x,
            w_ih: &self.w_ih,
            bias: &self.bias,
            w_hh: &self.w_hh,
            b_hn: &self.b_hn,
            h0: &self.h0,
            c0: &self.c0,
            lengths: &self.lengths,
        }
    }

    /// `sum(out * weights)` in f64 with the reference forward, for finite differences.
    fn loss(&self, weights: &[f32]) -> f64 {
        reference(self.kind, self.dims, &self.inputs())
            .iter()
            .zip(weights)
            .map(|(o, w)| o * *w as f64)
            .sum()
    }
}

fn kinds() -> [CellKind; 4] {
    [
        CellKind::of::<crate::LstmCell>(GateMath::Lstm),
        CellKind::of::<crate::GruCell>(GateMath::Gru),
        CellKind::of::<crate::RnnCell>(GateMath::Rnn(Nonlinearity::Tanh)),
        CellKind::of::<crate::RnnCell>(GateMath::Rnn(Nonlinearity::Relu)),
    ]
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, kind) in kinds().into_iter().enumerate() {
        for reverse in [false, true] {
            // H = 19 exercises whole vectors plus a portable tail on every set.
            let dims = Dims {
                batch: 5,
                time: 6,
                hidden: 19,
                input: 7,
                reverse,
            };
            cases.push(Case::new(kind, dims, vec![6, 3, 0, 6, 1], 10 + i as u64));
            let dims = Dims {
                batch: 11,
                time: 4,
                hidden: 32,
                input: 40,
                reverse,
            };
            cases.push(Case::new(kind, dims, vec![4; 11], 20 + i as u64));
        }
    }
    cases
}

#[test]
fn forward_matches_an_f64_reference_on_every_isa() {
    let (cases, isas) = (
        cases(),
        Isa::supported_for_test("forward_matches_an_f64_reference_on_every_isa"),
    );
    println!("checking {} cases on {isas:?}", cases.len());
    for case in cases {
        let want = reference(case.kind, case.dims, &case.inputs());
        for &isa in &isas {
            for train in [false, true] {
                let (got, saved) = forward(isa, case.kind, case.dims, &case.inputs(), train);
                assert_eq!(saved.is_some(), train);
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(g, w)| (*g as f64 - w).abs())
                    .fold(0.0, f64::max);
                assert!(
                    worst < 2e-5,
                    "{:?} {:?} {isa:?}: {worst:e}",
                    case.kind,
                    case.dims
                );
            }
        }
    }
}

#[test]
fn backward_matches_finite_differences_on_every_isa() {
    let cases = cases();
    let isas = Isa::supported_for_test("backward_matches_finite_differences_on_every_isa");
    println!("checking {} cases on {isas:?}", cases.len());
    for case in cases {
        let Dims {
            batch,
            time,
            hidden,
            ..
        } = case.dims;
        let n_out = batch * (time + case.kind.state_rows()) * hidden;
        let weights: Vec<f32> = (0..n_out)
            .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
            .collect();
        for &isa in &isas {
            let (_, saved) = forward(isa, case.kind, case.dims, &case.inputs(), true);
            let saved = saved.expect("train run saves");
            let grads = backward(
                isa,
                case.kind,
                case.dims,
                &case.inputs(),
                &saved,
                &weights,
                Needs::ALL,
            );
            // Central differences in f64 on a sample of every input. A ReLU kink inside
            // the step makes a difference quotient meaningless: where two step sizes
            // disagree the point is skipped (the layer-level proptest checks ReLU exactly).
            let eps = 1e-3f32;
            let check = |name: &str, analytic: &[f32], field: fn(&mut Case) -> &mut Vec<f32>| {
                let mut probe = Case::new(case.kind, case.dims, case.lengths.clone(), 0);
                probe.x = case.x.clone();
                probe.w_ih = case.w_ih.clone();
                probe.bias = case.bias.clone();
                probe.w_hh = case.w_hh.clone();
                probe.b_hn = case.b_hn.clone();
                probe.h0 = case.h0.clone();
                probe.c0 = case.c0.clone();
                let n = field(&mut probe).len();
                let (mut checked, mut kinks) = (0, 0);
                for idx in (0..n).step_by((n / 23).max(1)) {
                    let orig = field(&mut probe)[idx];
                    let mut quotient = |eps: f32| {
                        field(&mut probe)[idx] = orig + eps;
                        let up = probe.loss(&weights);
                        field(&mut probe)[idx] = orig - eps;
                        let down = probe.loss(&weights);
                        field(&mut probe)[idx] = orig;
                        (up - down) / (2.0 * eps as f64)
                    };
                    let numeric = quotient(eps);
                    let tolerance = 2e-3 * (1.0 + numeric.abs());
                    if case.kind.math() == GateMath::Rnn(Nonlinearity::Relu)
                        && (quotient(eps / 4.0) - numeric).abs() > tolerance
                    {
                        kinks += 1;
                        continue;
                    }
                    checked += 1;
                    let got = analytic[idx] as f64;
                    assert!(
                        (got - numeric).abs() < tolerance,
                        "{:?} {:?} {isa:?} d{name}[{idx}]: {got} vs {numeric}",
                        case.kind,
                        case.dims
                    );
                }
                assert!(checked > kinks, "d{name}: too many kinks ({kinks})");
            };
            check("x", &grads.x, |c| &mut c.x);
            check("w_ih", &grads.w_ih, |c| &mut c.w_ih);
            check("bias", &grads.bias, |c| &mut c.bias);
            check("w_hh", &grads.w_hh, |c| &mut c.w_hh);
            check("h0", &grads.h0, |c| &mut c.h0);
            if case.kind.has_cell() {
                check("c0", &grads.c0, |c| &mut c.c0);
            }
            if case.kind.is_gru() {
                check("b_hn", &grads.b_hn, |c| &mut c.b_hn);
            }
        }
    }
}

#[test]
fn row_blocks_cover_the_batch_exactly() {
    for batch in [1, 2, 3, 7, 32, 33] {
        for macs in [1, 1 << 20] {
            let blocks = row_blocks(batch, macs);
            assert_eq!(blocks.first().map(|r| r.start), Some(0));
            assert_eq!(blocks.last().map(|r| r.end), Some(batch));
            assert!(blocks.windows(2).all(|w| w[0].end == w[1].start));
            assert!(blocks.iter().all(|r| !r.is_empty()));
        }
    }
    assert_eq!(row_blocks(64, 1).len(), 1, "tiny work stays on one thread");
}
