//! Backpropagation through time over the activations saved by [`super::forward`]: the reverse
//! time loop of each row block, then the weight gradients and the input gradient as large
//! products.

use std::ops::Range;

use rayon::prelude::*;

use super::gates::{
    GruBackPtrs, LstmBackPtrs, RnnBackPtrs, gru_back_span, lstm_back_span, rnn_back_span,
};
use super::threads::{row_blocks, split_rows};
use super::{CellKind, Dims, GateMath, Grads, Inputs, Needs, Saved, check_inputs};
use crate::fused::matmul::{
    PackedMatrix, TiledProduct, parallel_product, parallel_product_strided,
};
use crate::fused::scratch;
use crate::fused::simd::{Isa, Portable, with_isa};
use crate::rnn_cell::Nonlinearity;

/// One row block's share of the gradients.
struct BackwardBlock<'a> {
    rows: Range<usize>,
    d_xp: &'a mut [f32],
    /// GRU only: the gradient of `h W_hh^T + [0, 0, b_hn]` (differs from `d_xp` in the n part).
    d_gh: &'a mut [f32],
    d_h0: &'a mut [f32],
    d_c0: &'a mut [f32],
    /// This block's share of the bias gradient (column sums of its `d_xp` rows), summed
    /// while the rows are written; empty when the bias needs no gradient.
    d_bias: Vec<f32>,
    /// GRU: this block's share of the `b_hn` gradient (sums of the n part of `d_gh`); empty
    /// when not needed.
    d_b_hn: Vec<f32>,
}

/// Backpropagation through time: the gradients of every input of [`forward`] given the gradient
/// `d_out: [B*T + S*B, H]` of its packed output and the [`Saved`] of a `train` forward run.
pub fn backward(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    inputs: &Inputs<'_>,
    saved: &Saved,
    d_out: &[f32],
    needs: Needs,
) -> Grads {
    let Dims {
        batch,
        time,
        hidden,
        ..
    } = dims;
    let gh = kind.gates() * hidden;
    check_inputs(kind, dims, inputs);
    assert_eq!(
        d_out.len(),
        batch * (time + kind.state_rows()) * hidden,
        "d_out: [B*T + S*B, H]"
    );
    assert_eq!(
        saved.hprev.len(),
        batch * time * hidden,
        "saved by a train forward run"
    );
    let zeros = |need: bool, n: usize| if need { vec![0.0; n] } else { Vec::new() };
    let mut grads = Grads {
        x: Vec::new(),
        w_ih: zeros(needs.w_ih, gh * dims.input),
        bias: zeros(needs.bias, gh),
        w_hh: zeros(needs.w_hh, gh * hidden),
        b_hn: zeros(needs.b_hn, hidden),
        h0: vec![0.0; batch * hidden],
        c0: vec![0.0; batch * hidden],
    };
    // Both written in full by the blocks (zeros at padded steps), so recycled buffers do.
    let mut d_xp = scratch::take(batch * time * gh);
    let mut d_gh = if kind.is_gru() {
        scratch::take(batch * time * gh)
    } else {
        Vec::new()
    };
    let w = PackedMatrix::rows(inputs.w_hh, gh, hidden, isa);
    let blocks = row_blocks(batch, gh * hidden);
    let mut d_xps = split_rows(&mut d_xp, time * gh, &blocks).into_iter();
    let mut d_ghs = split_rows(&mut d_gh, time * gh, &blocks).into_iter();
    let mut d_h0s = split_rows(&mut grads.h0, hidden, &blocks).into_iter();
    let mut d_c0s = split_rows(&mut grads.c0, hidden, &blocks).into_iter();
    let jobs: Vec<BackwardBlock<'_>> = blocks
        .iter()
        .map(|rows| BackwardBlock {
            rows: rows.clone(),
            d_xp: d_xps.next().unwrap_or_default(),
            d_gh: d_ghs.next().unwrap_or_default(),
            d_h0: d_h0s.next().unwrap_or_default(),
            d_c0: d_c0s.next().unwrap_or_default(),
            d_bias: zeros(needs.bias, gh),
            d_b_hn: zeros(kind.is_gru() && needs.b_hn, hidden),
        })
        .collect();
    let run = |job: &mut BackwardBlock<'_>| {
        backward_block_isa(isa, kind, dims, inputs.lengths, saved, d_out, &w, job)
    };
    let mut jobs = jobs;
    if jobs.len() == 1 {
        jobs.iter_mut().for_each(run);
    } else {
        jobs.par_iter_mut().for_each(run);
    }
    for job in &jobs {
        add_to(&mut grads.bias, &job.d_bias);
        add_to(&mut grads.b_hn, &job.d_b_hn);
    }
    drop(jobs);
    drop((d_xps, d_ghs, d_h0s, d_c0s));

    // dW_hh [gh, H] = d_gh^T [gh, B*T] x h_prev [B*T, H] and dW_ih [gh, In] = d_xp^T x: for
    // an LSTM or RNN `d_gh` is `d_xp`, so one product against `[h_prev | x]` gives both.
    let rows = batch * time;
    let input = dims.input;
    {
        let Grads { w_hh, w_ih, .. } = &mut grads;
        let hh = needs
            .w_hh
            .then_some((&saved.hprev[..], hidden, &mut w_hh[..]));
        let ih = needs.w_ih.then_some((inputs.x, input, &mut w_ih[..]));
        if kind.is_gru() {
            if let Some(part) = hh {
                weight_gradients(isa, &d_gh, gh, &mut [part]);
            }
            if let Some(part) = ih {
                weight_gradients(isa, &d_xp, gh, &mut [part]);
            }
        } else {
            let mut parts: Vec<_> = hh.into_iter().chain(ih).collect();
            if !parts.is_empty() {
                weight_gradients(isa, &d_xp, gh, &mut parts);
            }
        }
    }
    // The input projection: dx = d_xp W_ih (d_bias, the column sums of d_xp, was summed by
    // the blocks).
    if needs.x {
        let w_ih = PackedMatrix::rows(inputs.w_ih, gh, input, isa);
        let xs = w_ih.padded_n();
        let mut dx = vec![0.0f32; rows * xs];
        parallel_product(isa, &d_xp, gh, &w_ih, &mut dx, xs);
        if xs != input {
            for r in 0..rows {
                dx.copy_within(r * xs..r * xs + input, r * input);
            }
            dx.truncate(rows * input);
        }
        grads.x = dx;
    }
    scratch::give(d_xp);
    scratch::give(d_gh);
    grads
}

/// `acc += v` elementwise (nothing for an empty `v`).
fn add_to(acc: &mut [f32], v: &[f32]) {
    for (a, v) in acc.iter_mut().zip(v) {
        *a += v;
    }
}

/// `out_i [m, n_i] = d^T x v_i` for row-major `d: [rows, m]` and every part
/// `(v_i: [rows, n_i], n_i, out_i)`: the gradients of weights from the gradients `d` of their
/// products and their inputs `v_i`. One product against `[v_1 | v_2 | ..]` (packed once),
/// so `d`, read transposed through the strides, is packed once for all parts.
fn weight_gradients(isa: Isa, d: &[f32], m: usize, parts: &mut [(&[f32], usize, &mut [f32])]) {
    let n: usize = parts.iter().map(|p| p.1).sum();
    let rows = parts.first().map_or(0, |p| p.0.len() / p.1.max(1));
    for (v, width, out) in parts.iter() {
        assert!(
            v.len() == rows * width && out.len() == m * width && d.len() >= rows * m,
            "weight_gradients: operand sizes"
        );
    }
    if rows == 0 || m == 0 || n == 0 {
        for (_, _, out) in parts.iter_mut() {
            out.fill(0.0);
        }
        return;
    }
    let sources: Vec<(&[f32], usize)> = parts.iter().map(|p| (p.0, p.1)).collect();
    let packed = PackedMatrix::rows_concat(&sources, rows, isa);
    let ldc = packed.padded_n();
    if let [(_, width, out)] = parts
        && ldc == *width
    {
        parallel_product_strided(isa, d, m, (1, m), &packed, out, ldc);
        return;
    }
    let mut wide = scratch::take(m * ldc);
    parallel_product_strided(isa, d, m, (1, m), &packed, &mut wide, ldc);
    let mut offset = 0;
    for (_, width, out) in parts.iter_mut() {
        for (row, wide) in out.chunks_exact_mut(*width).zip(wide.chunks_exact(ldc)) {
            row.copy_from_slice(&wide[offset..offset + *width]);
        }
        offset += *width;
    }
    scratch::give(wide);
}

/// Run one row block's reverse time loop under `isa`.
#[allow(clippy::too_many_arguments)]
fn backward_block_isa(
    isa: Isa,
    kind: CellKind,
    dims: Dims,
    lengths: &[usize],
    saved: &Saved,
    d_out: &[f32],
    w: &PackedMatrix,
    job: &mut BackwardBlock<'_>,
) {
    with_isa!(isa, fn(
        kind: CellKind,
        dims: Dims,
        lengths: &[usize],
        saved: &Saved,
        d_out: &[f32],
        w: &PackedMatrix,
        job: &mut BackwardBlock<'_>,
    ) {
        // SAFETY: `S` runs under its own instruction set here, and `w` was packed for `isa`
        // (`S`'s set) by `backward`.
        unsafe { backward_block::<S>(kind, dims, lengths, saved, d_out, w, job) }
    })
}

/// The reverse time loop of one row block.
///
/// # Safety
/// `S` must be supported by the running code; `w` packed for `S`'s instruction set
/// (`W_hh` as `[G*H, H]` rows); `saved`, `d_out` and `job` sized for `dims` and `kind` as
/// [`backward`] makes them (checked there, and by the `kernel_check!`s below).
#[inline(always)]
unsafe fn backward_block<S: TiledProduct>(
    kind: CellKind,
    dims: Dims,
    lengths: &[usize],
    saved: &Saved,
    d_out: &[f32],
    w: &PackedMatrix,
    job: &mut BackwardBlock<'_>,
) {
    let Dims {
        batch,
        time,
        hidden,
        ..
    } = dims;
    let h_ = hidden;
    let gh = kind.gates() * h_;
    let sg = kind.saved_gates() * h_;
    let b0 = job.rows.start;
    let m = job.rows.len();
    let np = w.padded_n();
    let out_row = time * h_;
    kernel_check_eq!(w.shape(), (gh, h_), "W_hh rows: [G*H, H]");
    kernel_check!(job.rows.end <= lengths.len() && job.rows.end <= batch);
    kernel_check_eq!(job.d_xp.len(), m * time * gh, "d_xp rows: [m, T, G*H]");
    kernel_check!(!kind.is_gru() || job.d_gh.len() == m * time * gh);
    kernel_check_eq!(job.d_h0.len(), m * h_, "d_h0 rows: [m, H]");
    kernel_check!(!kind.has_cell() || job.d_c0.len() == m * h_);
    kernel_check_eq!(d_out.len(), batch * (time + kind.state_rows()) * h_);
    kernel_check!(saved.act.len() == batch * time * sg && saved.hprev.len() == batch * out_row);
    let lengths = &lengths[job.rows.clone()];
    // Carried gradients of the state, initialised from the gradients of h_n (and c_n).
    let mut dh = vec![0.0f32; m * h_];
    let mut dc = vec![0.0f32; if kind.has_cell() { m * h_ } else { 0 }];
    let states = batch * out_row;
    dh.copy_from_slice(&d_out[states + b0 * h_..][..m * h_]);
    if kind.has_cell() {
        dc.copy_from_slice(&d_out[states + (batch + b0) * h_..][..m * h_]);
    }
    let mut direct = vec![0.0f32; if kind.is_gru() { m * h_ } else { 0 }];
    let mut dh_prev = vec![0.0f32; m * np];
    let mut scratch = Vec::new();
    let mut live_d = Vec::new();
    for s in (0..time).rev() {
        let t = dims.step(s);
        if lengths.iter().all(|&l| l <= t) {
            for r in 0..m {
                let local = r * time + t;
                job.d_xp[local * gh..][..gh].fill(0.0);
                if kind.is_gru() {
                    job.d_gh[local * gh..][..gh].fill(0.0);
                }
            }
            continue;
        }
        for (r, &len) in lengths.iter().enumerate() {
            if len <= t {
                let local = r * time + t;
                job.d_xp[local * gh..][..gh].fill(0.0);
                if kind.is_gru() {
                    job.d_gh[local * gh..][..gh].fill(0.0);
                }
                continue;
            }
            let b = b0 + r;
            let bt = b * time + t;
            let local = r * time + t;
            let dout = &d_out[b * out_row + t * h_..][..h_];
            let act = &saved.act[bt * sg..][..sg];
            let hprev = &saved.hprev[bt * h_..][..h_];
            let dx = &mut job.d_xp[local * gh..][..gh];
            // SAFETY: every slice above has the length the row functions read or write.
            unsafe {
                match kind.math() {
                    GateMath::Lstm => {
                        let p = LstmBackPtrs {
                            dh: dh[r * h_..].as_ptr(),
                            dc: dc[r * h_..].as_mut_ptr(),
                            dout: dout.as_ptr(),
                            act: act.as_ptr(),
                            tanh_cell: saved.tanh_cell[bt * h_..][..h_].as_ptr(),
                            cprev: saved.cprev[bt * h_..][..h_].as_ptr(),
                            dx: dx.as_mut_ptr(),
                        };
                        let main = h_ / S::LANES * S::LANES;
                        lstm_back_span::<S>(h_, 0, main, &p);
                        lstm_back_span::<Portable>(h_, main, h_, &p);
                    }
                    GateMath::Gru => {
                        let dgr = &mut job.d_gh[local * gh..][..gh];
                        let p = GruBackPtrs {
                            dh: dh[r * h_..].as_ptr(),
                            dout: dout.as_ptr(),
                            act: act.as_ptr(),
                            hprev: hprev.as_ptr(),
                            dx: dx.as_mut_ptr(),
                            dg: dgr.as_mut_ptr(),
                            direct: direct[r * h_..].as_mut_ptr(),
                        };
                        let main = h_ / S::LANES * S::LANES;
                        gru_back_span::<S>(h_, 0, main, &p);
                        gru_back_span::<Portable>(h_, main, h_, &p);
                        if !job.d_b_hn.is_empty() {
                            for (acc, v) in job.d_b_hn.iter_mut().zip(&dgr[2 * h_..]) {
                                *acc += v;
                            }
                        }
                    }
                    GateMath::Rnn(nonlinearity) => {
                        let relu = nonlinearity == Nonlinearity::Relu;
                        let p = RnnBackPtrs {
                            dh: dh[r * h_..].as_ptr(),
                            dout: dout.as_ptr(),
                            act: act.as_ptr(),
                            dx: dx.as_mut_ptr(),
                        };
                        let main = h_ / S::LANES * S::LANES;
                        rnn_back_span::<S>(relu, 0, main, &p);
                        rnn_back_span::<Portable>(relu, main, h_, &p);
                    }
                }
            }
            // A plain loop: vectorised under this function's target features.
            for (acc, v) in job.d_bias.iter_mut().zip(dx.iter()) {
                *acc += v;
            }
        }
        // The gradients of this step's recurrent products, read in place: row `r` at
        // `(r * T + t) * G*H` of `d_gh` (GRU) or `d_xp` (the same values for LSTM and RNN);
        // rows without a step `t` are 0.
        let d_rec = if kind.is_gru() { &job.d_gh } else { &job.d_xp };
        // As in the forward pass: when some rows have no step `t`, the product runs on the
        // live rows only, copied side by side (their values are unchanged).
        let live = lengths.iter().filter(|&&l| l > t).count();
        let (rows, stride) = if live == m {
            // SAFETY: row 0 of step `t` lies in `d_rec` (`m x T x G*H`).
            (unsafe { d_rec.as_ptr().add(t * gh) }, time * gh)
        } else {
            live_d.clear();
            for (r, &len) in lengths.iter().enumerate() {
                if len > t {
                    live_d.extend_from_slice(&d_rec[(r * time + t) * gh..][..gh]);
                }
            }
            (live_d.as_ptr(), gh)
        };
        // SAFETY: `rows` holds `live` rows of `G*H` at stride `stride` (`d_rec` at `T * G*H`
        // from `t * G*H`, or `live_d`); `dh_prev` is `m x np` with `live <= m`.
        unsafe {
            S::product(
                live,
                rows,
                (stride, 1),
                w,
                dh_prev.as_mut_ptr(),
                np,
                &mut scratch,
            )
        };
        // Row `r`'s product is row `rank` of `dh_prev`: its rank among the live rows.
        let mut rank = 0;
        for (r, &len) in lengths.iter().enumerate() {
            if len <= t {
                continue;
            }
            let product_row = rank;
            rank += 1;
            let dhr = &mut dh[r * h_..][..h_];
            dhr.copy_from_slice(&dh_prev[product_row * np..][..h_]);
            if kind.is_gru() {
                for (d, z) in dhr.iter_mut().zip(&direct[r * h_..][..h_]) {
                    *d += z;
                }
            }
        }
    }
    job.d_h0.copy_from_slice(&dh);
    if kind.has_cell() {
        job.d_c0.copy_from_slice(&dc);
    }
}
