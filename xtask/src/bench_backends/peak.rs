//! The machine's peak: an estimate from the CPU's description (`/proc/cpuinfo`) and a
//! measured ceiling (a large matrix product on flex). GFLOP/s of every row are reported as a
//! fraction of both.
//!
//! The estimate is `cores × lanes × FMA units × 2 flop × clock`, where `cores` is the number
//! of threads this process may run ([`std::thread::available_parallelism`]), `lanes` the
//! float32 lanes of the widest vector ISA the CPU flags announce (16 for `avx512f`, 8 for
//! `avx2` with `fma`, 4 otherwise), 2 FMA units per core (every x86 core since Haswell and
//! Zen 1 issues two vector FMAs a cycle), 2 flop per FMA (a multiply and an add), and the
//! clock the mean of the `cpu MHz` lines. It is an upper bound: a core that splits a 512-bit
//! FMA in two 256-bit halves (Zen 4) reaches half of it, and turbo or throttling moves the
//! clock away from what `cpu MHz` says.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};
use serde::Serialize;

/// What is known of the machine's peak float32 throughput.
#[derive(Debug, Clone, Serialize)]
pub struct Peak {
    /// The CPU's name from `/proc/cpuinfo` (empty when it has none).
    pub cpu: String,
    /// Threads this process may run.
    pub cores: usize,
    /// The vector ISA the estimate assumes: `avx512`, `avx2` or `sse`.
    pub isa: &'static str,
    /// float32 lanes of one vector register of that ISA.
    pub lanes: usize,
    /// Vector FMA units per core (assumed).
    pub fma_units: usize,
    /// Mean clock of the `cpu MHz` lines, GHz (0 when none could be read).
    pub clock_ghz: f64,
    /// `cores × lanes × fma_units × 2 × clock_ghz`.
    pub estimated_gflops: f64,
    /// The best of several `[n, n] × [n, n]` matrix products on flex, GFLOP/s.
    pub gemm_gflops: f64,
    /// `n` of that product.
    pub gemm_n: usize,
}

/// FMA units per core the estimate assumes.
pub const FMA_UNITS: usize = 2;

/// The vector ISA and its float32 lanes, from the `flags` line of `/proc/cpuinfo`.
pub fn isa_from_flags(flags: &str) -> (&'static str, usize) {
    let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
    if has("avx512f") {
        ("avx512", 16)
    } else if has("avx2") && has("fma") {
        ("avx2", 8)
    } else {
        ("sse", 4)
    }
}

/// `(model name, flags, mean clock in GHz)` from the text of `/proc/cpuinfo`; the clock is 0
/// when no `cpu MHz` line parses.
pub fn parse_cpuinfo(text: &str) -> (String, String, f64) {
    let value = |line: &str| line.split_once(':').map(|(_, v)| v.trim().to_string());
    let mut name = String::new();
    let mut flags = String::new();
    let mut clocks = Vec::new();
    for line in text.lines() {
        if line.starts_with("model name") && name.is_empty() {
            name = value(line).unwrap_or_default();
        } else if line.starts_with("flags") && flags.is_empty() {
            flags = value(line).unwrap_or_default();
        } else if line.starts_with("cpu MHz")
            && let Some(mhz) = value(line).and_then(|v| v.parse::<f64>().ok())
        {
            clocks.push(mhz);
        }
    }
    let ghz = if clocks.is_empty() {
        0.0
    } else {
        clocks.iter().sum::<f64>() / clocks.len() as f64 / 1e3
    };
    (name, flags, ghz)
}

/// `cores × lanes × fma_units × 2 × clock_ghz` GFLOP/s.
pub fn estimated_gflops(cores: usize, lanes: usize, fma_units: usize, clock_ghz: f64) -> f64 {
    (cores * lanes * fma_units * 2) as f64 * clock_ghz
}

/// GFLOP/s of the best of `runs` `[n, n] × [n, n]` products on `device` (`2 n³` flop each),
/// after one untimed product.
pub fn measure_gemm(device: &Device, n: usize, runs: usize) -> Result<f64, String> {
    let a = Tensor::<2>::random([n, n], Distribution::Default, device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, device);
    let product = || -> Result<(), String> {
        let c = a.clone().matmul(b.clone());
        c.into_data();
        Ok(())
    };
    product()?;
    let mut best = f64::INFINITY;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        product()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(2.0 * (n as f64).powi(3) / best / 1e9)
}

impl Peak {
    /// Reads `/proc/cpuinfo` (an empty description where it cannot be read: the estimate is
    /// then 0 and only the measured ceiling counts) and measures the GEMM ceiling on flex.
    pub fn detect(gemm_n: usize, gemm_runs: usize) -> Result<Self, String> {
        let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let (cpu, flags, clock_ghz) = parse_cpuinfo(&text);
        let (isa, lanes) = isa_from_flags(&flags);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let gemm_gflops = measure_gemm(&Device::flex(), gemm_n, gemm_runs)?;
        Ok(Self {
            cpu,
            cores,
            isa,
            lanes,
            fma_units: FMA_UNITS,
            clock_ghz,
            estimated_gflops: estimated_gflops(cores, lanes, FMA_UNITS, clock_ghz),
            gemm_gflops,
            gemm_n,
        })
    }

    /// `gflops` as a fraction of the estimated peak (`None` when there is no estimate).
    pub fn fraction(&self, gflops: f64) -> Option<f64> {
        (self.estimated_gflops > 0.0).then(|| gflops / self.estimated_gflops)
    }

    /// `gflops` as a fraction of the measured GEMM ceiling.
    pub fn gemm_fraction(&self, gflops: f64) -> Option<f64> {
        (self.gemm_gflops > 0.0).then(|| gflops / self.gemm_gflops)
    }

    /// One line for the top of the output.
    pub fn describe(&self) -> String {
        format!(
            "peak: estimated {:.0} GFLOP/s = {} cores x {} f32 lanes ({}) x {} FMA units x 2 \
             flop x {:.2} GHz ({}); measured {}x{} GEMM on flex: {:.0} GFLOP/s",
            self.estimated_gflops,
            self.cores,
            self.lanes,
            self.isa,
            self.fma_units,
            self.clock_ghz,
            if self.cpu.is_empty() {
                "unknown CPU"
            } else {
                &self.cpu
            },
            self.gemm_n,
            self.gemm_n,
            self.gemm_gflops
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPUINFO: &str = "processor\t: 0\nmodel name\t: AMD EPYC 9R14\ncpu MHz\t\t: 2600.000\n\
        flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw\n\nprocessor\t: 1\n\
        model name\t: AMD EPYC 9R14\ncpu MHz\t\t: 3000.000\nflags\t\t: fpu avx2 fma avx512f\n";

    #[test]
    fn cpuinfo_gives_name_flags_and_mean_clock() {
        let (name, flags, ghz) = parse_cpuinfo(CPUINFO);
        assert_eq!(name, "AMD EPYC 9R14");
        assert!(flags.contains("avx512f"));
        assert!((ghz - 2.8).abs() < 1e-9, "{ghz}");
        assert_eq!(parse_cpuinfo("").2, 0.0);
    }

    #[test]
    fn the_widest_announced_isa_sets_the_lanes() {
        assert_eq!(isa_from_flags("sse2 avx2 fma avx512f"), ("avx512", 16));
        assert_eq!(isa_from_flags("sse2 avx avx2 fma"), ("avx2", 8));
        // avx2 without fma is not counted as an FMA machine; a flag's prefix is no flag.
        assert_eq!(isa_from_flags("sse2 avx2"), ("sse", 4));
        assert_eq!(isa_from_flags("avx512fxx avx2"), ("sse", 4));
    }

    #[test]
    fn estimate_is_cores_lanes_units_two_flop_clock() {
        // 2 cores x 16 lanes x 2 units x 2 flop x 2.3 GHz.
        assert!((estimated_gflops(2, 16, 2, 2.3) - 294.4).abs() < 1e-9);
        assert_eq!(estimated_gflops(4, 8, 2, 0.0), 0.0);
    }

    #[test]
    fn fractions_divide_by_the_peak_and_need_one() {
        let mut peak = Peak {
            cpu: String::new(),
            cores: 2,
            isa: "avx2",
            lanes: 8,
            fma_units: 2,
            clock_ghz: 2.0,
            estimated_gflops: 128.0,
            gemm_gflops: 64.0,
            gemm_n: 8,
        };
        assert_eq!(peak.fraction(32.0), Some(0.25));
        assert_eq!(peak.gemm_fraction(32.0), Some(0.5));
        peak.estimated_gflops = 0.0;
        assert_eq!(peak.fraction(32.0), None);
    }

    #[test]
    fn a_small_gemm_measures_a_positive_rate() {
        let gflops = measure_gemm(&Device::flex(), 64, 2).expect("measured");
        assert!(gflops.is_finite() && gflops > 0.0, "{gflops}");
    }
}
