//! The forward pass: the input projections of every step (one large product), then the time
//! loop of each row block (one small product and one pass of gate math per step), optionally
//! saving what [`super::backward`] needs.

use std::ops::Range;

use rayon::prelude::*;

use super::gates::{GruPtrs, LstmPtrs, RnnPtrs, gru_span, lstm_span, rnn_span};
use super::threads::{row_blocks, split_rows};
use super::{CellKind, Dims, GateMath, Inputs, Saved, check_inputs};
use crate::fused::matmul::{PackedMatrix, TiledProduct, parallel_product};
use crate::fused::scratch;
use crate::fused::simd::{Isa, Portable, with_isa};
use crate::rnn_cell::Nonlinearity;

/// The recurrence's view of a call: the projected inputs `xp: [B*T, xs]` (row stride `xs`,
/// `x W_ih^T` without the bias) and the rest of [`Inputs`].
struct Recurrence<'a> {
    xp: &'a [f32],
    xs: usize,
    bias: &'a [f32],
    b_hn: &'a [f32],
    h0: &'a [f32],
    c0: &'a [f32],
    lengths: &'a [usize],
}

/// One row block's share of the forward outputs.
struct ForwardBlock<'a> {
    rows: Range<usize>,
    /// The block's output rows, `[m, T, H]`.
    out: &'a mut [f32],
    /// The block's `h_n` and `c_n` rows, `[m, H]` each (`c_n` empty unless LSTM).
    h_n: &'a mut [f32],
    c_n: &'a mut [f32],
    act: &'a mut [f32],
    hprev: &'a mut [f32],
    cprev: &'a mut [f32],
    tanh_cell: &'a mut [f32],
}

/// Run the recurrence. Returns the packed output `[B*T + S*B, H]` and, with `train`, what
/// [`backward`] needs.
pub fn forward(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    inputs: &Inputs<'_>,
    train: bool,
) -> (Vec<f32>, Option<Saved>) {
    forward_prepacked(isa, kind, dims, inputs, train, None)
}

/// `W_ih^T` and `W_hh^T` already packed for the tiled product (e.g. kept between calls).
#[derive(Debug, Clone, Copy)]
pub struct Prepacked<'a> {
    /// `PackedMatrix::transposed(w_ih, G*H, In, isa)`.
    pub w_ih_t: &'a PackedMatrix,
    /// `PackedMatrix::transposed(w_hh, G*H, H, isa)`.
    pub w_hh_t: &'a PackedMatrix,
}

/// [`forward`], with the weights packed by the caller when `prepacked` is given (for the
/// same `isa`; their values must be `inputs.w_ih` and `inputs.w_hh`).
pub fn forward_prepacked(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    inputs: &Inputs<'_>,
    train: bool,
    prepacked: Option<Prepacked<'_>>,
) -> (Vec<f32>, Option<Saved>) {
    let Dims {
        batch,
        time,
        hidden,
        ..
    } = dims;
    let gh = kind.gates() * hidden;
    check_inputs(kind, dims, inputs);
    if let Some(p) = prepacked {
        assert_eq!(
            p.w_ih_t.shape(),
            (dims.input, gh),
            "prepacked W_ih^T: [In, G*H]"
        );
        assert_eq!(p.w_hh_t.shape(), (hidden, gh), "prepacked W_hh^T: [H, G*H]");
    }
    let packed_ih;
    let wih_t = match prepacked {
        Some(p) => p.w_ih_t,
        None => {
            packed_ih = PackedMatrix::transposed(inputs.w_ih, gh, dims.input, isa);
            &packed_ih
        }
    };
    let xs = wih_t.padded_n();
    let mut xp = scratch::take(batch * time * xs);
    parallel_product(isa, inputs.x, dims.input, wih_t, &mut xp, xs);
    let zeros;
    let b_hn = if kind.is_gru() {
        inputs.b_hn
    } else {
        zeros = vec![0.0f32; hidden];
        &zeros[..]
    };
    let rec = Recurrence {
        xp: &xp,
        xs,
        bias: inputs.bias,
        b_hn,
        h0: inputs.h0,
        c0: inputs.c0,
        lengths: inputs.lengths,
    };
    let mut out = vec![0.0; batch * (time + kind.state_rows()) * hidden];
    let (outputs, states) = out.split_at_mut(batch * time * hidden);
    let (h_n, c_n) = states.split_at_mut(batch * hidden);
    let per_step = batch * time * hidden;
    let mut saved = Saved::default();
    if train {
        // Recycled buffers: the forward pass writes every entry the backward pass reads
        // (activations at real steps; `hprev` everywhere, 0 at padded steps).
        saved.act = scratch::take(per_step * kind.saved_gates());
        saved.hprev = scratch::take(per_step);
        if kind.has_cell() {
            saved.cprev = scratch::take(per_step);
            saved.tanh_cell = scratch::take(per_step);
        }
    }
    let packed_hh;
    let wt = match prepacked {
        Some(p) => p.w_hh_t,
        None => {
            packed_hh = PackedMatrix::transposed(inputs.w_hh, gh, hidden, isa);
            &packed_hh
        }
    };
    let blocks = row_blocks(batch, gh * hidden);
    let row = |n: usize| time * n * hidden;
    let mut outs = split_rows(outputs, time * hidden, &blocks).into_iter();
    let mut h_ns = split_rows(h_n, hidden, &blocks).into_iter();
    let mut c_ns = split_rows(c_n, hidden, &blocks).into_iter();
    let mut acts = split_rows(&mut saved.act, row(kind.saved_gates()), &blocks).into_iter();
    let mut hprevs = split_rows(&mut saved.hprev, row(1), &blocks).into_iter();
    let mut cprevs = split_rows(&mut saved.cprev, row(1), &blocks).into_iter();
    let mut cells = split_rows(&mut saved.tanh_cell, row(1), &blocks).into_iter();
    let jobs: Vec<ForwardBlock<'_>> = blocks
        .iter()
        .map(|rows| ForwardBlock {
            rows: rows.clone(),
            out: outs.next().unwrap_or_default(),
            h_n: h_ns.next().unwrap_or_default(),
            c_n: c_ns.next().unwrap_or_default(),
            act: acts.next().unwrap_or_default(),
            hprev: hprevs.next().unwrap_or_default(),
            cprev: cprevs.next().unwrap_or_default(),
            tanh_cell: cells.next().unwrap_or_default(),
        })
        .collect();
    let run =
        |mut job: ForwardBlock<'_>| forward_block_isa(isa, kind, dims, &rec, wt, train, &mut job);
    if jobs.len() == 1 {
        jobs.into_iter().for_each(run);
    } else {
        jobs.into_par_iter().for_each(run);
    }
    scratch::give(xp);
    (out, train.then_some(saved))
}

/// Run one row block under `isa`.
fn forward_block_isa(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    inputs: &Recurrence<'_>,
    wt: &PackedMatrix,
    train: bool,
    job: &mut ForwardBlock<'_>,
) {
    with_isa!(isa, fn(
        kind: CellKind,
        dims: Dims,
        inputs: &Recurrence<'_>,
        wt: &PackedMatrix,
        train: bool,
        job: &mut ForwardBlock<'_>,
    ) {
        // SAFETY: `S` runs under its own instruction set here, and `wt` was packed for `isa`
        // (`S`'s set) by `forward_prepacked`.
        unsafe { forward_block::<S>(kind, dims, inputs, wt, train, job) }
    })
}

/// The time loop of one row block.
///
/// # Safety
/// `S` must be supported by the running code; `wt` packed for `S`'s instruction set
/// (`[H, G*H]`); `inputs` and `job` sized for `dims` and `kind` as [`forward_prepacked`] makes
/// them (checked by `check_inputs`, and by the `kernel_check!`s below).
#[inline(always)]
unsafe fn forward_block<S: TiledProduct>(
    kind: CellKind,
    dims: Dims,
    inputs: &Recurrence<'_>,
    wt: &PackedMatrix,
    train: bool,
    job: &mut ForwardBlock<'_>,
) {
    let Dims { time, hidden, .. } = dims;
    let h_ = hidden;
    let gh = kind.gates() * h_;
    let sg = kind.saved_gates() * h_;
    let b0 = job.rows.start;
    let m = job.rows.len();
    let np = wt.padded_n();
    let out_row = time * h_;
    kernel_check_eq!(wt.shape(), (h_, gh), "W_hh^T: [H, G*H]");
    kernel_check!(inputs.xs >= gh && inputs.xp.len() >= (b0 + m) * time * inputs.xs);
    kernel_check!(job.rows.end <= inputs.lengths.len() && inputs.h0.len() >= (b0 + m) * h_);
    kernel_check_eq!(job.out.len(), m * out_row, "output rows: [m, T, H]");
    kernel_check_eq!(job.h_n.len(), m * h_, "h_n rows: [m, H]");
    kernel_check!(!train || (job.act.len() == m * time * sg && job.hprev.len() == m * out_row));
    kernel_check!(!kind.has_cell() || job.c_n.len() == m * h_);
    kernel_check!(!(train && kind.has_cell()) || job.cprev.len() == m * out_row);
    kernel_check!(!kind.is_gru() || inputs.b_hn.len() == h_);
    let mut h = inputs.h0[b0 * h_..(b0 + m) * h_].to_vec();
    let mut c = if kind.has_cell() {
        inputs.c0[b0 * h_..(b0 + m) * h_].to_vec()
    } else {
        Vec::new()
    };
    let mut gates = vec![0.0f32; m * np];
    let mut scratch = Vec::new();
    // The states of the rows that have step `t`, side by side, when some rows have ended:
    // the recurrent product runs on those rows only (each row's product is the same whichever
    // rows share the tile, so the values do not change; only the padded rows' work is saved).
    let mut live_h = Vec::new();
    let lengths = &inputs.lengths[job.rows.clone()];
    let (b_hn, bias) = (inputs.b_hn, inputs.bias);
    for s in 0..time {
        let t = dims.step(s);
        let live = lengths.iter().filter(|&&l| l > t).count();
        if live == 0 {
            if train {
                for r in 0..m {
                    job.hprev[(r * time + t) * h_..][..h_].fill(0.0);
                }
            }
            continue;
        }
        let states = if live == m {
            h.as_ptr()
        } else {
            live_h.clear();
            for (r, &len) in lengths.iter().enumerate() {
                if len > t {
                    live_h.extend_from_slice(&h[r * h_..][..h_]);
                }
            }
            live_h.as_ptr()
        };
        // SAFETY: `states` is `live x H` (`h`, or the live rows copied into `live_h`),
        // `gates` is `m x np` with `live <= m`.
        unsafe {
            S::product(
                live,
                states,
                (h_, 1),
                wt,
                gates.as_mut_ptr(),
                np,
                &mut scratch,
            )
        };
        // Row `r`'s gates are row `rank` of `gates`: its rank among the live rows (`r` itself
        // when every row is live).
        let mut rank = 0;
        for (r, &len) in lengths.iter().enumerate() {
            if len <= t {
                if train {
                    job.hprev[(r * time + t) * h_..][..h_].fill(0.0);
                }
                continue;
            }
            let gate_row = rank;
            rank += 1;
            let bt = r * time + t;
            let x = &inputs.xp[((b0 + r) * time + t) * inputs.xs..][..gh];
            let g = &gates[gate_row * np..][..gh];
            let hr = &mut h[r * h_..][..h_];
            let out = &mut job.out[r * out_row + t * h_..][..h_];
            let act = if train {
                job.hprev[bt * h_..][..h_].copy_from_slice(hr);
                job.act[bt * sg..][..sg].as_mut_ptr()
            } else {
                std::ptr::null_mut()
            };
            // SAFETY: every slice above has the length the row functions read or write.
            unsafe {
                match kind.math() {
                    GateMath::Lstm => {
                        let cr = &mut c[r * h_..][..h_];
                        let cell = if train {
                            job.cprev[bt * h_..][..h_].copy_from_slice(cr);
                            job.tanh_cell[bt * h_..][..h_].as_mut_ptr()
                        } else {
                            std::ptr::null_mut()
                        };
                        let p = LstmPtrs {
                            x: x.as_ptr(),
                            b: bias.as_ptr(),
                            g: g.as_ptr(),
                            h: hr.as_mut_ptr(),
                            c: cr.as_mut_ptr(),
                            out: out.as_mut_ptr(),
                            act,
                            tanh_cell: cell,
                        };
                        let main = h_ / S::LANES * S::LANES;
                        lstm_span::<S>(h_, 0, main, &p);
                        lstm_span::<Portable>(h_, main, h_, &p);
                    }
                    GateMath::Gru => {
                        let p = GruPtrs {
                            x: x.as_ptr(),
                            b: bias.as_ptr(),
                            g: g.as_ptr(),
                            b_hn: b_hn.as_ptr(),
                            h: hr.as_mut_ptr(),
                            out: out.as_mut_ptr(),
                            act,
                        };
                        let main = h_ / S::LANES * S::LANES;
                        gru_span::<S>(h_, 0, main, &p);
                        gru_span::<Portable>(h_, main, h_, &p);
                    }
                    GateMath::Rnn(nonlinearity) => {
                        let relu = nonlinearity == Nonlinearity::Relu;
                        let p = RnnPtrs {
                            x: x.as_ptr(),
                            b: bias.as_ptr(),
                            g: g.as_ptr(),
                            h: hr.as_mut_ptr(),
                            out: out.as_mut_ptr(),
                            act,
                        };
                        let main = h_ / S::LANES * S::LANES;
                        rnn_span::<S>(relu, 0, main, &p);
                        rnn_span::<Portable>(relu, main, h_, &p);
                    }
                }
            }
        }
    }
    job.h_n.copy_from_slice(&h);
    if kind.has_cell() {
        job.c_n.copy_from_slice(&c);
    }
}
