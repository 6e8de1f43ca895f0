//! Vector arithmetic for the fused CPU kernels: one small [`Simd`] trait with an AVX-512, an
//! AVX2 + FMA and a portable (one `f32` per "vector") implementation, and [`Isa`], the
//! instruction set chosen at run time.
//!
//! Kernels are written once, generic over [`Simd`], as `#[inline(always)]` functions; each
//! instruction set gets an entry point compiled with its `#[target_feature]`, so the generic body
//! is inlined and compiled for that set. The portable implementation runs the very same
//! formulas (including the polynomial `exp`), so the three paths agree to a few ulp.

use std::sync::OnceLock;

/// An instruction set the fused CPU kernels are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Plain Rust, one `f32` at a time: runs everywhere.
    Portable,
    /// x86-64 AVX2 with FMA: 8 lanes.
    Avx2,
    /// x86-64 AVX-512F: 16 lanes.
    Avx512,
}

/// The environment variable that caps the instruction set of the fused CPU kernels:
/// `portable`, `avx2` or `avx512` (a set the CPU lacks is never used).
pub const ISA_ENV: &str = "SEQMODEL_RNN_ISA";

impl Isa {
    /// Every instruction set, slowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2, Isa::Avx512];

    /// The name used by [`ISA_ENV`] and in benchmark reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Parse a name written by [`Isa::as_str`].
    pub fn parse(name: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run kernels compiled for `self`.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The best set this CPU supports, capped by [`ISA_ENV`] when it is set (read once).
    pub fn detect() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            let cap = std::env::var(ISA_ENV)
                .ok()
                .and_then(|v| Isa::parse(&v))
                .unwrap_or(Isa::Avx512);
            Isa::ALL
                .into_iter()
                .rev()
                .find(|isa| *isa <= cap && isa.is_supported())
                .unwrap_or(Isa::Portable)
        })
    }

    /// Every set this CPU supports (for tests that compare them).
    pub fn supported() -> Vec<Isa> {
        Isa::ALL
            .into_iter()
            .filter(|isa| isa.is_supported())
            .collect()
    }

    /// [`Isa::supported`] for test `test`, printing the sets it skips because this CPU lacks
    /// them (so a run on an AVX2-only machine says that AVX-512 was not tested).
    #[cfg(test)]
    pub(crate) fn supported_for_test(test: &str) -> Vec<Isa> {
        for isa in Isa::ALL.into_iter().filter(|isa| !isa.is_supported()) {
            println!(
                "{test}: skipped on {} (this CPU does not support it)",
                isa.as_str()
            );
        }
        Isa::supported()
    }
}

/// Run `body` under `isa`'s instruction set: the one place where the `#[target_feature]` entry
/// points are written. The body becomes a function `go(args)` compiled for the set, with `S`
/// naming that set's [`Simd`] implementation, so the `#[inline(always)]` kernels it calls are
/// compiled for the set too. (A closure cannot carry `#[target_feature]`, and a generic
/// entry point would be compiled without it: see `docs/performance.md`, attempt 1.)
///
/// ```text
/// with_isa!(isa, fn(m: usize, job: &mut Job<'_>) {
///     // SAFETY: ...
///     unsafe { kernel::<S>(m, job) }
/// })
/// ```
/// Every argument is passed by name, from variables of the same name at the call site. An
/// `isa` this CPU lacks runs the portable body. The body must uphold its own safety
/// preconditions (it is an `unsafe fn`'s body).
macro_rules! with_isa {
    ($isa:expr, fn($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        match $isa {
            #[cfg(target_arch = "x86_64")]
            $crate::fused::simd::Isa::Avx512
                if $crate::fused::simd::Isa::Avx512.is_supported() =>
            {
                /// # Safety
                /// The CPU supports AVX-512F; the body's own preconditions hold.
                #[target_feature(enable = "avx512f")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn go($($arg: $ty),*) {
                    #[allow(dead_code)]
                    type S = $crate::fused::simd::Avx512;
                    $body
                }
                // SAFETY: AVX-512F is supported (checked above).
                unsafe { go($($arg),*) }
            }
            #[cfg(target_arch = "x86_64")]
            $crate::fused::simd::Isa::Avx2 if $crate::fused::simd::Isa::Avx2.is_supported() => {
                /// # Safety
                /// The CPU supports AVX2 and FMA; the body's own preconditions hold.
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn go($($arg: $ty),*) {
                    #[allow(dead_code)]
                    type S = $crate::fused::simd::Avx2;
                    $body
                }
                // SAFETY: AVX2 and FMA are supported (checked above).
                unsafe { go($($arg),*) }
            }
            _ => {
                /// # Safety
                /// The body's own preconditions hold (portable code runs on every CPU).
                #[allow(clippy::too_many_arguments)]
                unsafe fn go($($arg: $ty),*) {
                    #[allow(dead_code)]
                    type S = $crate::fused::simd::Portable;
                    $body
                }
                // SAFETY: portable code runs on every CPU.
                unsafe { go($($arg),*) }
            }
        }
    };
}
pub(crate) use with_isa;

/// Lane-wise `f32` arithmetic on `LANES`-wide vectors.
///
/// # Safety
/// Implementations for an instruction set may only be used inside code compiled for it (a
/// `#[target_feature]` entry point reached after [`Isa::is_supported`]); pointer arguments must
/// be valid for `LANES` reads or writes.
pub(crate) unsafe trait Simd: Copy {
    /// `f32` lanes per vector.
    const LANES: usize;
    /// The vector type.
    type V: Copy;

    /// All lanes `x`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn splat(x: f32) -> Self::V;
    /// `LANES` values read from `p`.
    ///
    /// # Safety
    /// `p` valid for `LANES` reads; only inside code compiled for `Self`'s set.
    unsafe fn load(p: *const f32) -> Self::V;
    /// Write the `LANES` values of `v` to `p`.
    ///
    /// # Safety
    /// `p` valid for `LANES` writes; only inside code compiled for `Self`'s set.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `a + b`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a - b`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c` (fused where the instruction set has FMA).
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a / b`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn div(a: Self::V, b: Self::V) -> Self::V;
    /// Lane-wise maximum.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// Lane-wise minimum.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn min(a: Self::V, b: Self::V) -> Self::V;
    /// Round to the nearest integer (ties to even).
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn round(a: Self::V) -> Self::V;
    /// `2^n` for integral `n` in `[-126, 127]`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn pow2(n: Self::V) -> Self::V;
    /// `v` where `a > 0`, else 0 (the ReLU derivative applied to `v`).
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    unsafe fn where_positive(a: Self::V, v: Self::V) -> Self::V;

    /// `p * 2^n` for integral `n` in `[-126, 127]`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    #[inline(always)]
    unsafe fn scale_pow2(p: Self::V, n: Self::V) -> Self::V {
        unsafe { Self::mul(p, Self::pow2(n)) }
    }

    /// `1 / x` for `x >= 1` (all the gate math needs), within 2 ulp: a hardware estimate
    /// refined by one Newton step where the set has one (a division is several times slower).
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    #[inline(always)]
    unsafe fn recip(x: Self::V) -> Self::V {
        unsafe { Self::div(Self::splat(1.0), x) }
    }

    /// `e^x`, relative error below 2e-7 on the whole `f32` range (Cody-Waite reduction and
    /// Cephes' degree-5 polynomial); saturates to `2^-126`-ish and `2^127`-ish at the ends.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    #[inline(always)]
    unsafe fn exp(x: Self::V) -> Self::V {
        unsafe {
            let x = Self::min(Self::max(x, Self::splat(-87.0)), Self::splat(88.0));
            let n = Self::round(Self::mul(x, Self::splat(std::f32::consts::LOG2_E)));
            let r = Self::mul_add(n, Self::splat(-0.693_359_4), x);
            let r = Self::mul_add(n, Self::splat(2.121_944_4e-4), r);
            let mut p = Self::splat(1.987_569_1e-4);
            p = Self::mul_add(p, r, Self::splat(1.398_2e-3));
            p = Self::mul_add(p, r, Self::splat(8.333_452e-3));
            p = Self::mul_add(p, r, Self::splat(4.166_579_6e-2));
            p = Self::mul_add(p, r, Self::splat(1.666_666_5e-1));
            p = Self::mul_add(p, r, Self::splat(0.5));
            let r2 = Self::mul(r, r);
            let e = Self::add(Self::mul_add(p, r2, r), Self::splat(1.0));
            Self::scale_pow2(e, n)
        }
    }

    /// `1 / (1 + e^-x)`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    #[inline(always)]
    unsafe fn sigmoid(x: Self::V) -> Self::V {
        unsafe {
            let one = Self::splat(1.0);
            Self::recip(Self::add(one, Self::exp(Self::sub(Self::splat(0.0), x))))
        }
    }

    /// `tanh(x) = 1 - 2 / (e^{2x} + 1)` (absolute error below 2e-7).
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    #[inline(always)]
    unsafe fn tanh(x: Self::V) -> Self::V {
        unsafe {
            let one = Self::splat(1.0);
            let e = Self::exp(Self::add(x, x));
            let r = Self::recip(Self::add(e, one));
            Self::sub(one, Self::add(r, r))
        }
    }

    /// `max(x, 0)`.
    ///
    /// # Safety
    /// Only inside code compiled for `Self`'s instruction set (see [`Simd`]).
    #[inline(always)]
    unsafe fn relu(x: Self::V) -> Self::V {
        unsafe { Self::max(x, Self::splat(0.0)) }
    }
}

/// One `f32` per vector: the portable implementation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

// SAFETY: plain scalar code, valid everywhere.
unsafe impl Simd for Portable {
    const LANES: usize = 1;
    type V = f32;

    #[inline(always)]
    unsafe fn splat(x: f32) -> f32 {
        x
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> f32 {
        unsafe { *p }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: f32) {
        unsafe { *p = v }
    }
    #[inline(always)]
    unsafe fn add(a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    unsafe fn sub(a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    unsafe fn mul(a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    unsafe fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        // Not `f32::mul_add`: without a hardware FMA that is a slow libm call.
        a * b + c
    }
    #[inline(always)]
    unsafe fn div(a: f32, b: f32) -> f32 {
        a / b
    }
    #[inline(always)]
    unsafe fn max(a: f32, b: f32) -> f32 {
        a.max(b)
    }
    #[inline(always)]
    unsafe fn min(a: f32, b: f32) -> f32 {
        a.min(b)
    }
    #[inline(always)]
    unsafe fn round(a: f32) -> f32 {
        a.round_ties_even()
    }
    #[inline(always)]
    unsafe fn pow2(n: f32) -> f32 {
        f32::from_bits(((n as i32 + 127) as u32) << 23)
    }
    #[inline(always)]
    unsafe fn where_positive(a: f32, v: f32) -> f32 {
        if a > 0.0 { v } else { 0.0 }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Simd;
    use std::arch::x86_64::*;

    /// AVX2 + FMA, 8 lanes.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Avx2;

    // SAFETY: only reached from `#[target_feature(enable = "avx2,fma")]` entry points after
    // `Isa::Avx2.is_supported()`.
    unsafe impl Simd for Avx2 {
        const LANES: usize = 8;
        type V = __m256;

        #[inline(always)]
        unsafe fn splat(x: f32) -> __m256 {
            unsafe { _mm256_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m256 {
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m256) {
            unsafe { _mm256_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn add(a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_add_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn sub(a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_sub_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn mul(a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_mul_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
            unsafe { _mm256_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        unsafe fn div(a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_div_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn max(a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_max_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn min(a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_min_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn round(a: __m256) -> __m256 {
            unsafe { _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(a) }
        }
        #[inline(always)]
        unsafe fn pow2(n: __m256) -> __m256 {
            unsafe {
                let i = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
                _mm256_castsi256_ps(_mm256_slli_epi32::<23>(i))
            }
        }
        #[inline(always)]
        unsafe fn recip(x: __m256) -> __m256 {
            unsafe {
                let r = _mm256_rcp_ps(x);
                // One Newton step: r (2 - x r).
                _mm256_mul_ps(r, _mm256_fnmadd_ps(x, r, _mm256_set1_ps(2.0)))
            }
        }
        #[inline(always)]
        unsafe fn where_positive(a: __m256, v: __m256) -> __m256 {
            unsafe { _mm256_and_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(a, _mm256_setzero_ps()), v) }
        }
    }

    /// AVX-512F, 16 lanes.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Avx512;

    // SAFETY: only reached from `#[target_feature(enable = "avx512f")]` entry points after
    // `Isa::Avx512.is_supported()`.
    unsafe impl Simd for Avx512 {
        const LANES: usize = 16;
        type V = __m512;

        #[inline(always)]
        unsafe fn splat(x: f32) -> __m512 {
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m512 {
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m512) {
            unsafe { _mm512_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn add(a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_add_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn sub(a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_sub_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn mul(a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_mul_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: __m512, b: __m512, c: __m512) -> __m512 {
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        unsafe fn div(a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_div_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn max(a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_max_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn min(a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_min_ps(a, b) }
        }
        #[inline(always)]
        unsafe fn round(a: __m512) -> __m512 {
            unsafe { _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(a) }
        }
        #[inline(always)]
        unsafe fn pow2(n: __m512) -> __m512 {
            unsafe {
                let i = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
                _mm512_castsi512_ps(_mm512_slli_epi32::<23>(i))
            }
        }
        #[inline(always)]
        unsafe fn scale_pow2(p: __m512, n: __m512) -> __m512 {
            // One instruction instead of building 2^n from its exponent bits and multiplying.
            unsafe { _mm512_scalef_ps(p, n) }
        }
        #[inline(always)]
        unsafe fn recip(x: __m512) -> __m512 {
            unsafe {
                let r = _mm512_rcp14_ps(x);
                // One Newton step: r (2 - x r).
                _mm512_mul_ps(r, _mm512_fnmadd_ps(x, r, _mm512_set1_ps(2.0)))
            }
        }
        #[inline(always)]
        unsafe fn where_positive(a: __m512, v: __m512) -> __m512 {
            unsafe {
                _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, _mm512_setzero_ps()), v)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apply `f` lane-wise through `S` to `xs` (whole vectors, then a portable tail).
    fn through<S: Simd>(xs: &[f32], f: unsafe fn(S::V) -> S::V) -> Vec<f32> {
        let mut out = vec![0.0; xs.len()];
        let whole = xs.len() / S::LANES * S::LANES;
        for i in (0..whole).step_by(S::LANES) {
            // SAFETY: `i + LANES <= len`; callers only pass an `S` the CPU supports.
            unsafe { S::store(out.as_mut_ptr().add(i), f(S::load(xs.as_ptr().add(i)))) };
        }
        assert_eq!(whole, xs.len(), "test inputs are whole vectors");
        out
    }

    fn grid() -> Vec<f32> {
        (0..4096).map(|i| (i as f32 - 2048.0) / 64.0).collect()
    }

    fn check<S: Simd>(name: &str) {
        let xs = grid();
        let exp = through::<S>(&xs, S::exp);
        let sig = through::<S>(&xs, S::sigmoid);
        let tanh = through::<S>(&xs, S::tanh);
        for (i, &x) in xs.iter().enumerate() {
            let want = (x as f64).exp();
            let rel = ((exp[i] as f64 - want) / want).abs();
            assert!(
                rel < 3e-7,
                "{name} exp({x}) = {} vs {want}: rel {rel:e}",
                exp[i]
            );
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sig[i] as f64 - want).abs() < 2e-7, "{name} sigmoid({x})");
            let want = (x as f64).tanh();
            assert!((tanh[i] as f64 - want).abs() < 3e-7, "{name} tanh({x})");
        }
        // Saturation: finite, in range, never NaN.
        let extremes = [-1e30f32, -100.0, 100.0, 1e30, -88.5, 88.5, 0.0, -0.0];
        let mut xs = vec![0.0f32; 16];
        xs[..extremes.len()].copy_from_slice(&extremes);
        for v in through::<S>(&xs, S::sigmoid) {
            assert!(
                (0.0..=1.0).contains(&v),
                "{name} sigmoid saturates to [0, 1]: {v}"
            );
        }
        for v in through::<S>(&xs, S::tanh) {
            assert!(
                (-1.0..=1.0).contains(&v),
                "{name} tanh saturates to [-1, 1]: {v}"
            );
        }
    }

    #[test]
    fn portable_math_is_accurate() {
        check::<Portable>("portable");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_math_is_accurate() {
        #[target_feature(enable = "avx2,fma")]
        fn run() {
            check::<Avx2>("avx2");
        }
        if Isa::Avx2.is_supported() {
            // SAFETY: the CPU supports AVX2 and FMA.
            unsafe { run() }
        } else {
            eprintln!("skipped: this CPU has no AVX2 + FMA");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_math_is_accurate() {
        #[target_feature(enable = "avx512f")]
        fn run() {
            check::<Avx512>("avx512");
        }
        if Isa::Avx512.is_supported() {
            // SAFETY: the CPU supports AVX-512F.
            unsafe { run() }
        } else {
            eprintln!("skipped: this CPU has no AVX-512F");
        }
    }

    #[test]
    fn names_round_trip() {
        for isa in Isa::ALL {
            assert_eq!(Isa::parse(isa.as_str()), Some(isa));
        }
        assert_eq!(Isa::parse("sse"), None);
        assert!(Isa::supported().contains(&Isa::Portable));
        assert!(Isa::detect().is_supported());
    }
}
