//! The small per-step matrix product of the fused CPU kernels, `c = a x P`, against a weight
//! matrix `P` packed once per call in column blocks that match the instruction set's register
//! tile.
//!
//! Shapes: `a: [m, k]` (any strides: rows are packed per tile), `P: [k, n]` packed, `c: [m, n_padded]` (row stride
//! `ldc`). `m` is a handful of batch rows, so the tile is `MR` rows by `NV` vectors: the `k` loop
//! keeps `MR * NV` accumulators in registers, loads `NV` vectors of `P` and broadcasts `MR`
//! values of `a` per step.
//!
//! [`parallel_product`] and [`parallel_product_strided`] run the same product on many rows
//! (the input projections, the weight gradients), rows split across threads.

use rayon::prelude::*;

use super::simd::{Isa, Portable, Simd, with_isa};

/// A `[k, n]` matrix in column blocks of `width` columns: block `j` holds columns
/// `j * width .. (j + 1) * width` of every row, row after row, zero past column `n`.
#[derive(Debug, PartialEq)]
pub(crate) struct PackedMatrix {
    k: usize,
    n: usize,
    width: usize,
    data: Vec<f32>,
}

impl PackedMatrix {
    /// A packing of a `[k, n]` matrix in blocks of `width` (buffer from the pool) whose padding
    /// columns (past `n`, in the last block) are zero; the caller writes every other entry.
    fn zero_padded(k: usize, n: usize, width: usize) -> Self {
        let blocks = n.div_ceil(width);
        let mut data = super::scratch::take(blocks * k * width);
        if !n.is_multiple_of(width) {
            data[(blocks - 1) * k * width..].fill(0.0);
        }
        Self { k, n, width, data }
    }

    /// `P = W^T` for a row-major `w: [n, k]` (PyTorch's `weight_hh` `[G*H, H]` gives the
    /// forward product `h W_hh^T`): each row of `w` becomes one column of a block.
    pub fn transposed(w: &[f32], n: usize, k: usize, isa: Isa) -> Self {
        assert_eq!(w.len(), n * k, "transposed: w is [n, k]");
        let mut p = Self::zero_padded(k, n, tile_width(isa));
        let width = p.width;
        // Block by block, writing each block in order and reading its `width` rows of `w`
        // side by side.
        for (block, dst) in p.data.chunks_exact_mut(k * width).enumerate() {
            let j0 = block * width;
            let cols = width.min(n - j0);
            for (kk, dst) in dst.chunks_exact_mut(width).enumerate() {
                for (c, dst) in dst[..cols].iter_mut().enumerate() {
                    *dst = w[(j0 + c) * k + kk];
                }
            }
        }
        p
    }

    /// `P = W` for a row-major `w: [k, n]` (`weight_hh` as `[G*H, H]` gives the backward
    /// product `dgates W_hh`): each row of `w` is copied in `width`-wide pieces.
    pub fn rows(w: &[f32], k: usize, n: usize, isa: Isa) -> Self {
        Self::rows_concat(&[(w, n)], k, isa)
    }

    /// `P = [W_1 | W_2 | ..]` for row-major parts `w_i: [k, n_i]` (given as `(w_i, n_i)`): the
    /// rows of all parts side by side, as [`PackedMatrix::rows`] of their concatenation.
    pub fn rows_concat(parts: &[(&[f32], usize)], k: usize, isa: Isa) -> Self {
        let n = parts.iter().map(|p| p.1).sum();
        for (w, width) in parts {
            assert_eq!(w.len(), k * width, "rows_concat: each part is [k, n_i]");
        }
        let mut p = Self::zero_padded(k, n, tile_width(isa));
        let width = p.width;
        for kk in 0..k {
            let mut col = 0;
            for (w, part_n) in parts {
                // This row of the part, in pieces that stay inside one block each.
                let mut row = &w[kk * part_n..][..*part_n];
                while !row.is_empty() {
                    let (block, within) = (col / width, col % width);
                    let len = row.len().min(width - within);
                    let at = block * k * width + kk * width + within;
                    p.data[at..at + len].copy_from_slice(&row[..len]);
                    row = &row[len..];
                    col += len;
                }
            }
        }
        p
    }

    /// Depth `k` (rows of `P`).
    pub fn k(&self) -> usize {
        self.k
    }

    /// `(k, n)`: the shape of `P`.
    pub fn shape(&self) -> (usize, usize) {
        (self.k, self.n)
    }

    /// Columns of `c` a product writes: `n` rounded up to whole blocks.
    pub fn padded_n(&self) -> usize {
        self.n.div_ceil(self.width) * self.width
    }
}

/// Depth of one pass over the packed operands (see `product`).
const KC: usize = 128;

impl Drop for PackedMatrix {
    fn drop(&mut self) {
        super::scratch::give(std::mem::take(&mut self.data));
    }
}

/// Register tile per instruction set: (rows `MR`, vectors `NV`).
const AVX512_TILE: (usize, usize) = (8, 2);
const AVX2_TILE: (usize, usize) = (6, 2);
const PORTABLE_TILE: (usize, usize) = (4, 4);

/// Columns per packed block for `isa`: `NV * LANES`.
pub(crate) fn tile_width(isa: Isa) -> usize {
    match isa {
        Isa::Avx512 => AVX512_TILE.1 * 16,
        Isa::Avx2 => AVX2_TILE.1 * 8,
        Isa::Portable => PORTABLE_TILE.1,
    }
}

/// One `MR x (NV * LANES)` tile: `c[r, ..] = a[r, ..k] x block` for `r < MR`, with `a` packed
/// k-major (`ap[kk * MR + r] = a[r, kk]`) so the broadcasts of one `kk` are adjacent.
///
/// # Safety
/// `ap` valid for `k * MR` values, `block` for `k * NV * LANES`, `c` for `MR` rows of
/// `NV * LANES` (stride `ldc`); `S` supported by the running code.
#[inline(always)]
unsafe fn tile<S: Simd, const MR: usize, const NV: usize>(
    k: usize,
    ap: *const f32,
    block: *const f32,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    kernel_check!(!ap.is_null() && !block.is_null() && !c.is_null());
    kernel_check!(MR <= 1 || ldc >= NV * S::LANES, "tile rows overlap");
    unsafe {
        let mut acc = [[S::splat(0.0); NV]; MR];
        if accumulate {
            for (r, acc) in acc.iter_mut().enumerate() {
                for (v, acc) in acc.iter_mut().enumerate() {
                    *acc = S::load(c.add(r * ldc + v * S::LANES));
                }
            }
        }
        let width = NV * S::LANES;
        for kk in 0..k {
            let p = block.add(kk * width);
            let a = ap.add(kk * MR);
            let mut w = [S::splat(0.0); NV];
            for (v, w) in w.iter_mut().enumerate() {
                *w = S::load(p.add(v * S::LANES));
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = S::splat(*a.add(r));
                for v in 0..NV {
                    acc[v] = S::mul_add(x, w[v], acc[v]);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            for (v, acc) in acc.iter().enumerate() {
                S::store(c.add(r * ldc + v * S::LANES), *acc);
            }
        }
    }
}

/// Copy `rows` rows of `a` (element `(r, kk)` at `a[r * rs + kk * cs]`) k-major into `ap`
/// (`ap[kk * rows + r]`). A transposed operand (`rs == 1`) goes through [`pack_transposed`].
///
/// # Safety
/// `a` valid for every `(r, kk)` with `r < rows`, `kk < k`; `ap` for `k * rows` values.
#[inline(always)]
unsafe fn pack_rows(k: usize, a: *const f32, (rs, cs): (usize, usize), rows: usize, ap: *mut f32) {
    kernel_check!(!a.is_null() && !ap.is_null());
    kernel_check!(rows <= 16, "one tile of rows");
    unsafe {
        if cs == 1 {
            // Row-major: write `ap` in order, reading the rows side by side (in row-outer
            // order the compiler turned the writes into AVX-512 scatters, seen in the profile).
            for kk in 0..k {
                let dst = ap.add(kk * rows);
                for r in 0..rows {
                    *dst.add(r) = *a.add(r * rs + kk);
                }
            }
        } else {
            for kk in 0..k {
                for r in 0..rows {
                    *ap.add(kk * rows + r) = *a.add(r * rs + kk * cs);
                }
            }
        }
    }
}

/// [`pack_rows`] for every tile of a transposed operand (`a(r, kk) = a[r + kk * cs]`, e.g. the
/// gradients of a product read as their transpose for a weight gradient): one pass over `kk`,
/// reading the `m` adjacent values of each `kk` once, in order, and copying whole tiles with a
/// fixed-size copy. (Packing one tile at a time read each line of `a` twice, `cs` floats apart
/// — often 4 KB, one L1 set — and called `memcpy` for every 8 values.)
///
/// # Safety
/// `a` valid for `r + kk * cs` with `r < m`, `kk < k`; `ap` for `m.next_multiple_of(MR) * k`.
#[inline(always)]
unsafe fn pack_transposed<const MR: usize>(
    m: usize,
    k: usize,
    a: *const f32,
    cs: usize,
    ap: *mut f32,
) {
    kernel_check!(!a.is_null() && !ap.is_null());
    let full = m / MR * MR;
    let rest = m - full;
    unsafe {
        for kk in 0..k {
            let src = a.add(kk * cs);
            let mut r = 0;
            while r < full {
                std::ptr::copy_nonoverlapping(src.add(r), ap.add(r * k + kk * MR), MR);
                r += MR;
            }
            for i in 0..rest {
                *ap.add(full * k + kk * rest + i) = *src.add(full + i);
            }
        }
    }
}

/// `c[r, ..padded_n] = a[r, ..k] x P` for `r < m`: rows in tiles of `MR` (the last one
/// smaller), each tile's rows packed k-major into `scratch` once, then multiplied with every
/// column block.
///
/// # Safety
/// `a`: `m x p.k`, element `(r, kk)` at `a[r * lda.0 + kk * lda.1]`; `c`: `m` rows of
/// `p.padded_n()` (stride `ldc`);
/// `p` packed for the instruction set of `S`; `S` supported by the running code.
#[inline(always)]
unsafe fn product<S: Simd, const MR: usize, const NV: usize>(
    m: usize,
    a: *const f32,
    lda: (usize, usize),
    p: &PackedMatrix,
    c: *mut f32,
    ldc: usize,
    scratch: &mut Vec<f32>,
) {
    kernel_check_eq!(p.width, NV * S::LANES);
    kernel_check!(
        MR <= 16,
        "the remainder dispatch covers tiles of up to 16 rows"
    );
    let k = p.k;
    let blocks = p.n.div_ceil(p.width);
    scratch.resize(m.next_multiple_of(MR) * k, 0.0);
    let ap = scratch.as_mut_ptr();
    // SAFETY: the caller's bounds; tiles stay inside `a`, `c`, the packed data and `scratch`.
    unsafe {
        if lda.0 == 1 {
            pack_transposed::<MR>(m, k, a, lda.1, ap);
        } else {
            let mut r = 0;
            while r < m {
                let rows = MR.min(m - r);
                pack_rows(k, a.add(r * lda.0), lda, rows, ap.add(r * k));
                r += rows;
            }
        }
        // k in chunks of KC: a chunk of one column block (KC x width) and of the packed rows
        // (m x KC) stay in L1 while every row tile passes over them.
        let mut k0 = 0;
        while k0 < k {
            let kc = KC.min(k - k0);
            let acc = k0 > 0;
            for block in 0..blocks {
                let panel = p.data.as_ptr().add(block * k * p.width + k0 * p.width);
                let c = c.add(block * p.width);
                let mut r = 0;
                while r + MR <= m {
                    let ap = ap.add(r * k + k0 * MR);
                    tile::<S, MR, NV>(kc, ap, panel, c.add(r * ldc), ldc, acc);
                    r += MR;
                }
                let rows = m - r;
                let (ap, c) = (ap.add(r * k + k0 * rows), c.add(r * ldc));
                // The last, smaller tile (rows < MR <= 16).
                macro_rules! rest {
                    ($($n:literal)*) => {
                        match rows {
                            $($n => tile::<S, $n, NV>(kc, ap, panel, c, ldc, acc),)*
                            _ => {}
                        }
                    };
                }
                rest!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
            }
            k0 += kc;
        }
    }
}

/// Entry point for kernels already running under `S`'s instruction set.
pub(crate) trait TiledProduct: Simd {
    /// `c[r, ..padded_n] = a[r, ..k] x P` for `r < m` (see [`product`]).
    ///
    /// # Safety
    /// As [`product`].
    unsafe fn product(
        m: usize,
        a: *const f32,
        lda: (usize, usize),
        p: &PackedMatrix,
        c: *mut f32,
        ldc: usize,
        scratch: &mut Vec<f32>,
    );
}

impl TiledProduct for Portable {
    #[inline(always)]
    unsafe fn product(
        m: usize,
        a: *const f32,
        lda: (usize, usize),
        p: &PackedMatrix,
        c: *mut f32,
        ldc: usize,
        scratch: &mut Vec<f32>,
    ) {
        unsafe {
            product::<Portable, { PORTABLE_TILE.0 }, { PORTABLE_TILE.1 }>(
                m, a, lda, p, c, ldc, scratch,
            )
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl TiledProduct for super::simd::Avx2 {
    #[inline(always)]
    unsafe fn product(
        m: usize,
        a: *const f32,
        lda: (usize, usize),
        p: &PackedMatrix,
        c: *mut f32,
        ldc: usize,
        scratch: &mut Vec<f32>,
    ) {
        unsafe { product::<Self, { AVX2_TILE.0 }, { AVX2_TILE.1 }>(m, a, lda, p, c, ldc, scratch) }
    }
}

#[cfg(target_arch = "x86_64")]
impl TiledProduct for super::simd::Avx512 {
    #[inline(always)]
    unsafe fn product(
        m: usize,
        a: *const f32,
        lda: (usize, usize),
        p: &PackedMatrix,
        c: *mut f32,
        ldc: usize,
        scratch: &mut Vec<f32>,
    ) {
        unsafe {
            product::<Self, { AVX512_TILE.0 }, { AVX512_TILE.1 }>(m, a, lda, p, c, ldc, scratch)
        }
    }
}

/// [`TiledProduct::product`] under `isa`, from code compiled for no particular set.
///
/// # Safety
/// `a` valid for every `(r, kk)` with `r < m`, `kk < p.k()` at `a[r * lda.0 + kk * lda.1]`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn product_isa(
    isa: Isa,
    m: usize,
    a: *const f32,
    lda: (usize, usize),
    p: &PackedMatrix,
    c: &mut [f32],
    ldc: usize,
    scratch: &mut Vec<f32>,
) {
    assert!(c.len() >= m * ldc && ldc >= p.padded_n() && m > 0);
    let c = c.as_mut_ptr();
    with_isa!(isa, fn(
        m: usize,
        a: *const f32,
        lda: (usize, usize),
        p: &PackedMatrix,
        c: *mut f32,
        ldc: usize,
        scratch: &mut Vec<f32>,
    ) {
        // SAFETY: `S` runs under its own instruction set here; bounds from the caller of
        // `product_isa` and asserted there.
        unsafe { <S as TiledProduct>::product(m, a, lda, p, c, ldc, scratch) }
    })
}

/// `c[r, ..ldc] = a[r, ..k] x P` for every row of a row-major `a: [rows, k]`, rows split
/// across threads.
pub(crate) fn parallel_product(
    isa: Isa,
    a: &[f32],
    k: usize,
    p: &PackedMatrix,
    c: &mut [f32],
    ldc: usize,
) {
    if k == 0 {
        return;
    }
    let rows = a.len() / k;
    parallel_product_strided(isa, a, rows, (k, 1), p, c, ldc);
}

/// `c[r, ..ldc] = a(r, ..) x P` for `r < m`, where `a(r, kk) = a[r * rs + kk * cs]` (so
/// `(1, m)` reads a row-major `[k, m]` matrix as its transpose), rows split across threads.
pub(crate) fn parallel_product_strided(
    isa: Isa,
    a: &[f32],
    m: usize,
    (rs, cs): (usize, usize),
    p: &PackedMatrix,
    c: &mut [f32],
    ldc: usize,
) {
    let k = p.k();
    if m == 0 || k == 0 {
        return;
    }
    assert!(
        (m - 1) * rs + (k - 1) * cs < a.len() && c.len() >= m * ldc && ldc >= p.padded_n(),
        "parallel_product: operands too small"
    );
    /// Rows per task: enough to amortise a task, few enough to balance two busy cores.
    const ROWS_PER_TASK: usize = 64;
    let tasks: Vec<(usize, &mut [f32])> = c[..m * ldc]
        .chunks_mut(ROWS_PER_TASK * ldc)
        .enumerate()
        .map(|(i, c)| (i * ROWS_PER_TASK, c))
        .collect();
    let run = |(r0, c): (usize, &mut [f32])| {
        let rows = c.len() / ldc;
        let mut scratch = Vec::new();
        // SAFETY: rows r0..r0+rows of `a` are in bounds (asserted above for every row < m).
        unsafe {
            product_isa(
                isa,
                rows,
                a.as_ptr().add(r0 * rs),
                (rs, cs),
                p,
                c,
                ldc,
                &mut scratch,
            )
        };
    };
    if tasks.len() == 1 {
        tasks.into_iter().for_each(run);
    } else {
        tasks.into_par_iter().for_each(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], m: usize, k: usize, w: &[f32], n: usize) -> Vec<f32> {
        // w: [n, k] (PyTorch layout), result a W^T: [m, n]
        let mut c = vec![0.0f32; m * n];
        for r in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for kk in 0..k {
                    s += a[r * k + kk] as f64 * w[j * k + kk] as f64;
                }
                c[r * n + j] = s as f32;
            }
        }
        c
    }

    fn run(isa: Isa, m: usize, k: usize, p: &PackedMatrix, a: &[f32], c: &mut [f32]) {
        // SAFETY: `a` is m x k row-major; `c` is sized by the callers.
        unsafe {
            product_isa(
                isa,
                m,
                a.as_ptr(),
                (k, 1),
                p,
                c,
                p.padded_n(),
                &mut Vec::new(),
            )
        }
    }

    #[test]
    fn concatenated_rows_pack_as_one_matrix() {
        // Parts that end inside a block, and an empty part.
        let k = 5;
        let parts_n = [7usize, 0, 30, 3];
        let parts: Vec<Vec<f32>> = parts_n
            .iter()
            .enumerate()
            .map(|(p, &n)| (0..k * n).map(|i| (p * 1000 + i) as f32).collect())
            .collect();
        let n: usize = parts_n.iter().sum();
        let whole: Vec<f32> = (0..k)
            .flat_map(|kk| {
                parts
                    .iter()
                    .zip(parts_n)
                    .flat_map(move |(w, pn)| w[kk * pn..(kk + 1) * pn].to_vec())
            })
            .collect();
        let isas = Isa::supported_for_test("concatenated_rows_pack_as_one_matrix");
        for &isa in &isas {
            let sources: Vec<(&[f32], usize)> = parts
                .iter()
                .zip(parts_n)
                .map(|(w, pn)| (&w[..], pn))
                .collect();
            let concat = PackedMatrix::rows_concat(&sources, k, isa);
            let reference = PackedMatrix::transposed(&transpose(&whole, k, n), n, k, isa);
            assert_eq!(concat, reference, "{isa:?}");
        }
        println!("checked {} parts on {:?}", parts_n.len(), isas);
    }

    /// `[rows, cols]` row-major to `[cols, rows]`.
    fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        (0..cols * rows)
            .map(|i| w[(i % rows) * cols + i / rows])
            .collect()
    }

    #[test]
    fn strided_operands_give_the_same_product() {
        // Several full tiles and a smaller last one on every set, `k` over two chunks.
        let (m, k, n) = (37, 150, 21);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0)
            .collect();
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 5 % 13) as f32 - 6.0) / 4.0)
            .collect();
        let want = naive(&a, m, k, &w, n);
        // The same `a` stored transposed ([k, m]) and spread out (every other value).
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        let spread: Vec<f32> = (0..2 * m * k)
            .map(|i| if i % 2 == 0 { a[i / 2] } else { f32::NAN })
            .collect();
        let mut checked = 0;
        let isas = Isa::supported_for_test("strided_operands_give_the_same_product");
        for &isa in &isas {
            let p = PackedMatrix::transposed(&w, n, k, isa);
            let ldc = p.padded_n();
            for (name, data, strides) in
                [("transposed", &at, (1, m)), ("spread", &spread, (2 * k, 2))]
            {
                let mut c = vec![f32::NAN; m * ldc];
                // SAFETY: every (r, kk) of the strided view is inside `data`; `c` is m x ldc.
                unsafe {
                    product_isa(
                        isa,
                        m,
                        data.as_ptr(),
                        strides,
                        &p,
                        &mut c,
                        ldc,
                        &mut Vec::new(),
                    )
                };
                for r in 0..m {
                    for j in 0..n {
                        let (got, want) = (c[r * ldc + j], want[r * n + j]);
                        assert!(
                            (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                            "{isa:?} {name} [{r},{j}]: {got} vs {want}"
                        );
                    }
                }
                checked += 1;
            }
        }
        println!("checked {checked} strided products on {:?}", isas);
        assert!(checked >= 2);
    }

    #[test]
    fn every_isa_matches_a_naive_product_on_awkward_shapes() {
        let isas = Isa::supported_for_test("every_isa_matches_a_naive_product_on_awkward_shapes");
        for &isa in &isas {
            for &(m, k, n) in &[
                (1, 1, 1),
                (3, 5, 7),
                (8, 16, 32),
                (9, 13, 33),
                (17, 40, 100),
            ] {
                let a: Vec<f32> = (0..m * k)
                    .map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0)
                    .collect();
                let w: Vec<f32> = (0..n * k)
                    .map(|i| ((i * 5 % 13) as f32 - 6.0) / 4.0)
                    .collect();
                let want = naive(&a, m, k, &w, n);
                let p = PackedMatrix::transposed(&w, n, k, isa);
                let mut c = vec![f32::NAN; m * p.padded_n()];
                run(isa, m, k, &p, &a, &mut c);
                for r in 0..m {
                    for j in 0..n {
                        let (got, want) = (c[r * p.padded_n() + j], want[r * n + j]);
                        assert!(
                            (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                            "{isa:?} m{m} k{k} n{n} [{r},{j}]: {got} vs {want}"
                        );
                    }
                }
                // The same matrix packed from rows: W^T given as [k, n] row-major.
                let wt: Vec<f32> = (0..k * n).map(|i| w[(i % n) * k + i / n]).collect();
                let q = PackedMatrix::rows(&wt, k, n, isa);
                assert_eq!(p.data, q.data, "{isa:?}: both packings agree");
            }
        }
    }
}
