//! What a run reports: the JSON rows and the points it skipped, with their reasons.

use serde::Serialize;

use super::flops::gflops_per_s;
use super::layers::{Layer, Mode, Shape};
use super::peak::Peak;
use xtask::stats::Summary;

/// The implementation a row times.
pub const SEQMODEL: &str = "seqmodel";
/// Burn's built-in layer.
pub const BUILTIN: &str = "burn-builtin";

/// One timed row of the every-layer table or the sweep.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `layers`, `sweep-length` or `sweep-batch`.
    pub case: String,
    /// [`Layer::name`].
    pub layer: String,
    /// [`Mode::name`].
    pub mode: String,
    /// The backend's name.
    pub device: String,
    /// [`SEQMODEL`] or [`BUILTIN`].
    #[serde(rename = "impl")]
    pub implementation: String,
    /// The input shape.
    pub shape: Shape,
    /// Timed runs.
    pub runs: usize,
    /// Median wall time of one run, ms.
    pub median_ms: f64,
    /// Fastest run, ms.
    pub min_ms: f64,
    /// Slowest run, ms.
    pub max_ms: f64,
    /// `(max - min) / median`.
    pub spread: f64,
    /// Matmul GFLOP/s at the median (see `flops.rs`).
    pub gflops: f64,
    /// `gflops` over the estimated peak (`peak.rs`); null without an estimate.
    pub peak_fraction: Option<f64>,
    /// `gflops` over the measured GEMM ceiling.
    pub gemm_fraction: Option<f64>,
    /// `burn-builtin median / seqmodel median` on both rows of a pair (> 1: seqmodel is
    /// faster); null where Burn has no built-in or it was not timed.
    pub ratio: Option<f64>,
}

/// Where a row comes from.
pub struct RowKey<'a> {
    /// The case (`layers`, `sweep-length`, `sweep-batch`).
    pub case: &'a str,
    /// The layer.
    pub layer: Layer,
    /// The mode.
    pub mode: Mode,
    /// The backend's name.
    pub device: &'a str,
    /// The input shape.
    pub shape: Shape,
}

impl Row {
    /// The row of `implementation`'s timings `t` (`runs` of them) doing `flops` per run.
    pub fn new(
        key: &RowKey<'_>,
        implementation: &str,
        t: Summary,
        runs: usize,
        flops: f64,
        peak: &Peak,
    ) -> Self {
        let gflops = gflops_per_s(flops, t.median);
        Self {
            case: key.case.to_string(),
            layer: key.layer.name().to_string(),
            mode: key.mode.name().to_string(),
            device: key.device.to_string(),
            implementation: implementation.to_string(),
            shape: key.shape,
            runs,
            median_ms: t.median,
            min_ms: t.min,
            max_ms: t.max,
            spread: (t.max - t.min) / t.median,
            gflops,
            peak_fraction: peak.fraction(gflops),
            gemm_fraction: peak.gemm_fraction(gflops),
            ratio: None,
        }
    }
}

/// A point a run did not time, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The case.
    pub case: String,
    /// The layer (empty for a whole device).
    pub layer: String,
    /// The backend's name.
    pub device: String,
    /// The shape (absent for a whole device).
    pub shape: Option<Shape>,
    /// Why.
    pub reason: String,
}

/// A percentage for the table, `-` when unknown.
pub fn percent(fraction: Option<f64>) -> String {
    fraction.map_or("-".to_string(), |f| format!("{:.1}%", 100.0 * f))
}
