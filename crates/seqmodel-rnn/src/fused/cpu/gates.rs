//! The gate math of one step for one batch row, vectorised over the hidden columns: LSTM, GRU
//! and RNN, forward and backward. Each `*_span` runs columns `j0..j1` (a multiple of
//! `S::LANES` long) through raw pointers gathered in a `*Ptrs` struct; the drivers call it for
//! the vector part of a row with the instruction set's `S` and for the tail with `Portable`.

use super::super::simd::Simd;

pub(super) struct LstmPtrs {
    pub(super) x: *const f32,
    /// The bias outside the recurrence, `[G*H]`.
    pub(super) b: *const f32,
    pub(super) g: *const f32,
    pub(super) h: *mut f32,
    pub(super) c: *mut f32,
    pub(super) out: *mut f32,
    pub(super) act: *mut f32,
    /// `tanh` of the new cell state (training).
    pub(super) tanh_cell: *mut f32,
}

/// LSTM gate math on columns `j0..j1` (a multiple of `S::LANES` long).
///
/// # Safety
/// `S` supported by the running code; `j0 <= j1` with `j1 - j0` a multiple of `S::LANES`;
/// `j1 <= H = h_`; `x`, `g` valid for `4H` reads and `b` for `4H` (gate blocks `H` apart),
/// `h`, `c`, `out` for `H` reads and writes; `act` null or valid for `4H` writes, and then
/// `tanh_cell` valid for `H` writes.
#[inline(always)]
pub(super) unsafe fn lstm_span<S: Simd>(h_: usize, j0: usize, j1: usize, p: &LstmPtrs) {
    kernel_check!(
        j0 <= j1 && (j1 - j0).is_multiple_of(S::LANES),
        "columns {j0}..{j1}: a whole number of vectors"
    );
    kernel_check!(j1 <= h_, "columns past H");
    kernel_check!(!p.x.is_null() && !p.b.is_null() && !p.g.is_null());
    kernel_check!(!p.h.is_null() && !p.c.is_null() && !p.out.is_null());
    kernel_check!(p.act.is_null() || !p.tanh_cell.is_null());
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `4H` (x, g, act) and `H` (h, c, out, cell).
        unsafe {
            let (xs, gs, bs) = (p.x.add(j), p.g.add(j), p.b.add(j));
            // A macro, not a closure: closures do not inherit the caller's target features.
            macro_rules! pre {
                ($q:expr) => {
                    S::add(
                        S::add(S::load(xs.add($q * h_)), S::load(bs.add($q * h_))),
                        S::load(gs.add($q * h_)),
                    )
                };
            }
            let i = S::sigmoid(pre!(0));
            let f = S::sigmoid(pre!(1));
            let g = S::tanh(pre!(2));
            let o = S::sigmoid(pre!(3));
            let c = S::mul_add(f, S::load(p.c.add(j)), S::mul(i, g));
            let tc = S::tanh(c);
            let h = S::mul(o, tc);
            S::store(p.c.add(j), c);
            S::store(p.h.add(j), h);
            S::store(p.out.add(j), h);
            if !p.act.is_null() {
                S::store(p.act.add(j), i);
                S::store(p.act.add(h_ + j), f);
                S::store(p.act.add(2 * h_ + j), g);
                S::store(p.act.add(3 * h_ + j), o);
                S::store(p.tanh_cell.add(j), tc);
            }
        }
        j += S::LANES;
    }
}

pub(super) struct GruPtrs {
    pub(super) x: *const f32,
    /// The bias outside the recurrence, `[G*H]`.
    pub(super) b: *const f32,
    pub(super) g: *const f32,
    pub(super) b_hn: *const f32,
    pub(super) h: *mut f32,
    pub(super) out: *mut f32,
    pub(super) act: *mut f32,
}

/// GRU gate math on columns `j0..j1`: `r, z = sigmoid(x + g)`, `hn = g_n + b_hn`,
/// `n = tanh(x_n + r * hn)`, `h' = (1 - z) n + z h`.
///
/// # Safety
/// `S` supported by the running code; `j0 <= j1` with `j1 - j0` a multiple of `S::LANES`;
/// `j1 <= H = h_`; `x`, `b`, `g` valid for `3H` reads, `b_hn` for `H`; `h`, `out` for `H`
/// reads and writes; `act` null or valid for `4H` writes.
#[inline(always)]
pub(super) unsafe fn gru_span<S: Simd>(h_: usize, j0: usize, j1: usize, p: &GruPtrs) {
    kernel_check!(
        j0 <= j1 && (j1 - j0).is_multiple_of(S::LANES),
        "columns {j0}..{j1}: a whole number of vectors"
    );
    kernel_check!(j1 <= h_, "columns past H");
    kernel_check!(!p.x.is_null() && !p.b.is_null() && !p.g.is_null() && !p.b_hn.is_null());
    kernel_check!(!p.h.is_null() && !p.out.is_null());
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `3H` (x, g), `4H` (act), `H` (the rest).
        unsafe {
            macro_rules! xb {
                ($q:expr) => {
                    S::add(S::load(p.x.add($q * h_ + j)), S::load(p.b.add($q * h_ + j)))
                };
            }
            let r = S::sigmoid(S::add(xb!(0), S::load(p.g.add(j))));
            let z = S::sigmoid(S::add(xb!(1), S::load(p.g.add(h_ + j))));
            let hn = S::add(S::load(p.g.add(2 * h_ + j)), S::load(p.b_hn.add(j)));
            let n = S::tanh(S::mul_add(r, hn, xb!(2)));
            let h_old = S::load(p.h.add(j));
            let one_minus_z = S::sub(S::splat(1.0), z);
            let h = S::mul_add(one_minus_z, n, S::mul(z, h_old));
            S::store(p.h.add(j), h);
            S::store(p.out.add(j), h);
            if !p.act.is_null() {
                S::store(p.act.add(j), r);
                S::store(p.act.add(h_ + j), z);
                S::store(p.act.add(2 * h_ + j), n);
                S::store(p.act.add(3 * h_ + j), hn);
            }
        }
        j += S::LANES;
    }
}

pub(super) struct RnnPtrs {
    pub(super) x: *const f32,
    /// The bias outside the recurrence, `[G*H]`.
    pub(super) b: *const f32,
    pub(super) g: *const f32,
    pub(super) h: *mut f32,
    pub(super) out: *mut f32,
    pub(super) act: *mut f32,
}

/// RNN math on columns `j0..j1`: `h' = tanh(x + g)` or `relu(x + g)`.
///
/// # Safety
/// `S` supported by the running code; `j0 <= j1` with `j1 - j0` a multiple of `S::LANES`;
/// `x`, `b`, `g` valid for `j1` reads; `h`, `out` for `j1` writes; `act` null or valid for
/// `j1` writes.
#[inline(always)]
pub(super) unsafe fn rnn_span<S: Simd>(relu: bool, j0: usize, j1: usize, p: &RnnPtrs) {
    kernel_check!(
        j0 <= j1 && (j1 - j0).is_multiple_of(S::LANES),
        "columns {j0}..{j1}: a whole number of vectors"
    );
    kernel_check!(!p.x.is_null() && !p.b.is_null() && !p.g.is_null());
    kernel_check!(!p.h.is_null() && !p.out.is_null());
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `H` each.
        unsafe {
            let pre = S::add(
                S::add(S::load(p.x.add(j)), S::load(p.b.add(j))),
                S::load(p.g.add(j)),
            );
            let h = if relu { S::relu(pre) } else { S::tanh(pre) };
            S::store(p.h.add(j), h);
            S::store(p.out.add(j), h);
            if !p.act.is_null() {
                S::store(p.act.add(j), h);
            }
        }
        j += S::LANES;
    }
}

pub(super) struct LstmBackPtrs {
    pub(super) dh: *const f32,
    pub(super) dc: *mut f32,
    pub(super) dout: *const f32,
    pub(super) act: *const f32,
    /// `tanh` of the cell state after the step.
    pub(super) tanh_cell: *const f32,
    pub(super) cprev: *const f32,
    pub(super) dx: *mut f32,
}

/// LSTM backward on columns `j0..j1`: from `dh_t = dh + dout` and the carried `dc`, the
/// gradients of the four pre-activations (into `dx` and `dg`) and the new carried `dc`.
///
/// # Safety
/// `S` supported by the running code; `j0 <= j1` with `j1 - j0` a multiple of `S::LANES`;
/// `j1 <= H = h_`; `act` valid for `4H` reads; `dx` for `4H` writes; `dh`, `dout`, `tanh_cell`,
/// `cprev` for `H` reads; `dc` for `H` reads and writes.
#[inline(always)]
pub(super) unsafe fn lstm_back_span<S: Simd>(h_: usize, j0: usize, j1: usize, p: &LstmBackPtrs) {
    kernel_check!(
        j0 <= j1 && (j1 - j0).is_multiple_of(S::LANES),
        "columns {j0}..{j1}: a whole number of vectors"
    );
    kernel_check!(j1 <= h_, "columns past H");
    kernel_check!(!p.dh.is_null() && !p.dc.is_null() && !p.dout.is_null() && !p.act.is_null());
    kernel_check!(!p.tanh_cell.is_null() && !p.cprev.is_null() && !p.dx.is_null());
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `4H` (act, dx, dg) and `H` (the rest).
        unsafe {
            let one = S::splat(1.0);
            let dh = S::add(S::load(p.dh.add(j)), S::load(p.dout.add(j)));
            let i = S::load(p.act.add(j));
            let f = S::load(p.act.add(h_ + j));
            let g = S::load(p.act.add(2 * h_ + j));
            let o = S::load(p.act.add(3 * h_ + j));
            let tc = S::load(p.tanh_cell.add(j));
            let d_o = S::mul(dh, tc);
            let dc = S::mul_add(
                S::mul(dh, o),
                S::sub(one, S::mul(tc, tc)),
                S::load(p.dc.add(j)),
            );
            let d_i = S::mul(dc, g);
            let d_g = S::mul(dc, i);
            let d_f = S::mul(dc, S::load(p.cprev.add(j)));
            S::store(p.dc.add(j), S::mul(dc, f));
            let pre = [
                S::mul(d_i, S::mul(i, S::sub(one, i))),
                S::mul(d_f, S::mul(f, S::sub(one, f))),
                S::mul(d_g, S::sub(one, S::mul(g, g))),
                S::mul(d_o, S::mul(o, S::sub(one, o))),
            ];
            for (q, v) in pre.into_iter().enumerate() {
                S::store(p.dx.add(q * h_ + j), v);
            }
        }
        j += S::LANES;
    }
}

pub(super) struct GruBackPtrs {
    pub(super) dh: *const f32,
    pub(super) dout: *const f32,
    pub(super) act: *const f32,
    pub(super) hprev: *const f32,
    pub(super) dx: *mut f32,
    pub(super) dg: *mut f32,
    pub(super) direct: *mut f32,
}

/// GRU backward on columns `j0..j1`: gradients of the input pre-activations (`dx`), of
/// `h W_hh^T + [0, 0, b_hn]` (`dg`) and the direct path `dh_t * z` to the previous state.
///
/// # Safety
/// `S` supported by the running code; `j0 <= j1` with `j1 - j0` a multiple of `S::LANES`;
/// `j1 <= H = h_`; `act` valid for `4H` reads; `dx`, `dg` for `3H` writes; `dh`, `dout`,
/// `hprev` for `H` reads; `direct` for `H` writes.
#[inline(always)]
pub(super) unsafe fn gru_back_span<S: Simd>(h_: usize, j0: usize, j1: usize, p: &GruBackPtrs) {
    kernel_check!(
        j0 <= j1 && (j1 - j0).is_multiple_of(S::LANES),
        "columns {j0}..{j1}: a whole number of vectors"
    );
    kernel_check!(j1 <= h_, "columns past H");
    kernel_check!(!p.dh.is_null() && !p.dout.is_null() && !p.act.is_null() && !p.hprev.is_null());
    kernel_check!(!p.dx.is_null() && !p.dg.is_null() && !p.direct.is_null());
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `3H` (dx, dg), `4H` (act), `H` (the rest).
        unsafe {
            let one = S::splat(1.0);
            let dh = S::add(S::load(p.dh.add(j)), S::load(p.dout.add(j)));
            let r = S::load(p.act.add(j));
            let z = S::load(p.act.add(h_ + j));
            let n = S::load(p.act.add(2 * h_ + j));
            let hn = S::load(p.act.add(3 * h_ + j));
            let d_n = S::mul(dh, S::sub(one, z));
            let d_z = S::mul(dh, S::sub(S::load(p.hprev.add(j)), n));
            S::store(p.direct.add(j), S::mul(dh, z));
            let n_pre = S::mul(d_n, S::sub(one, S::mul(n, n)));
            let d_hn = S::mul(n_pre, r);
            let r_pre = S::mul(S::mul(n_pre, hn), S::mul(r, S::sub(one, r)));
            let z_pre = S::mul(d_z, S::mul(z, S::sub(one, z)));
            S::store(p.dx.add(j), r_pre);
            S::store(p.dx.add(h_ + j), z_pre);
            S::store(p.dx.add(2 * h_ + j), n_pre);
            S::store(p.dg.add(j), r_pre);
            S::store(p.dg.add(h_ + j), z_pre);
            S::store(p.dg.add(2 * h_ + j), d_hn);
        }
        j += S::LANES;
    }
}

pub(super) struct RnnBackPtrs {
    pub(super) dh: *const f32,
    pub(super) dout: *const f32,
    pub(super) act: *const f32,
    pub(super) dx: *mut f32,
}

/// RNN backward on columns `j0..j1`: `da = dh_t * act'(h_t)`.
///
/// # Safety
/// `S` supported by the running code; `j0 <= j1` with `j1 - j0` a multiple of `S::LANES`;
/// `dh`, `dout`, `act` valid for `j1` reads; `dx` for `j1` writes.
#[inline(always)]
pub(super) unsafe fn rnn_back_span<S: Simd>(relu: bool, j0: usize, j1: usize, p: &RnnBackPtrs) {
    kernel_check!(
        j0 <= j1 && (j1 - j0).is_multiple_of(S::LANES),
        "columns {j0}..{j1}: a whole number of vectors"
    );
    kernel_check!(!p.dh.is_null() && !p.dout.is_null() && !p.act.is_null() && !p.dx.is_null());
    let mut j = j0;
    while j < j1 {
        // SAFETY: the caller's pointers cover `H` each.
        unsafe {
            let dh = S::add(S::load(p.dh.add(j)), S::load(p.dout.add(j)));
            let a = S::load(p.act.add(j));
            let da = if relu {
                S::where_positive(a, dh)
            } else {
                S::mul(dh, S::sub(S::splat(1.0), S::mul(a, a)))
            };
            S::store(p.dx.add(j), da);
        }
        j += S::LANES;
    }
}
