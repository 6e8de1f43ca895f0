//! The scaling sweep (`--cases sweep`): each layer's forward pass against the sequence length
//! (16 … 4096 at batch 8) and against the batch (1 … 256 at length 64), width 64, on each
//! device. A point is skipped, with its reason, when the point before it already took longer
//! than the per-run cap, when its predicted run time (the previous median scaled by the growth
//! of the FLOP count) exceeds [`PREDICTION_SLACK`] times the cap, or when its attention scores
//! would exceed the memory cap; every larger point of that line is skipped with it.

use std::time::Duration;

use burn::tensor::Device;
use xtask::stats::summarise;

use super::flops::flops;
use super::layers::{Layer, Mode, Shape, seqmodel_run};
use super::peak::Peak;
use super::report::{Row, RowKey, SEQMODEL, Skipped};
use super::timing::{Plan, time_interleaved};

/// The width of every sweep point.
pub const WIDTH: usize = 64;
/// The batch of the length sweep.
pub const FIXED_BATCH: usize = 8;
/// The length of the batch sweep.
pub const FIXED_TIME: usize = 64;

/// Which dimension a sweep varies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Axis {
    /// Sequence length at [`FIXED_BATCH`].
    Length,
    /// Batch at [`FIXED_TIME`].
    Batch,
}

impl Axis {
    /// The case name in the JSON rows.
    pub fn case(self) -> &'static str {
        match self {
            Axis::Length => "sweep-length",
            Axis::Batch => "sweep-batch",
        }
    }

    /// The values swept: powers of two (a subset with `quick`).
    pub fn values(self, quick: bool) -> Vec<usize> {
        match (self, quick) {
            (Axis::Length, false) => (4..=12).map(|p| 1 << p).collect(),
            (Axis::Length, true) => vec![16, 64, 256, 1024],
            (Axis::Batch, false) => (0..=8).map(|p| 1 << p).collect(),
            (Axis::Batch, true) => vec![1, 16, 256],
        }
    }

    /// The shape of the point at `value`.
    pub fn shape(self, value: usize) -> Shape {
        match self {
            Axis::Length => Shape {
                batch: FIXED_BATCH,
                time: value,
                width: WIDTH,
            },
            Axis::Batch => Shape {
                batch: value,
                time: FIXED_TIME,
                width: WIDTH,
            },
        }
    }
}

/// How far over the per-run cap a FLOP-count prediction must be to skip a point unmeasured.
pub const PREDICTION_SLACK: f64 = 8.0;

/// The sweep's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The longest predicted run a point may take.
    pub run_cap: Duration,
    /// The largest attention-score tensor a point may hold, bytes.
    pub memory_cap: f64,
    /// How each point is timed.
    pub plan: Plan,
}

impl Limits {
    /// The limits of a full or a `--quick` sweep.
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                run_cap: Duration::from_millis(100),
                memory_cap: 256.0 * 1024.0 * 1024.0,
                plan: Plan {
                    warmup: 1,
                    min_runs: 1,
                    max_runs: 3,
                    budget: Duration::from_millis(150),
                },
            }
        } else {
            Self {
                run_cap: Duration::from_millis(500),
                memory_cap: 1024.0 * 1024.0 * 1024.0,
                plan: Plan {
                    warmup: 1,
                    min_runs: 2,
                    max_runs: 5,
                    budget: Duration::from_millis(1000),
                },
            }
        }
    }
}

/// Why the point at `shape` is not timed, given the previous point's median (`None`: time it).
pub fn skip_reason(
    layer: Layer,
    shape: Shape,
    previous: Option<(Shape, f64)>,
    limits: &Limits,
) -> Option<String> {
    let bytes = layer.score_bytes(shape);
    if bytes > limits.memory_cap {
        return Some(format!(
            "needs {:.0} MiB for its attention scores > the {:.0} MiB cap",
            bytes / 1048576.0,
            limits.memory_cap / 1048576.0
        ));
    }
    let (prev_shape, prev_ms) = previous?;
    let cap = limits.run_cap.as_secs_f64() * 1e3;
    if prev_ms > cap {
        return Some(format!(
            "the point before took {prev_ms:.0} ms per run > the {cap:.0} ms cap"
        ));
    }
    // FLOPs overstate the growth where fixed costs dominate (small shapes, wgpu's launches):
    // only a prediction far over the cap skips a point unmeasured.
    let growth = flops(layer, Mode::Forward, shape) / flops(layer, Mode::Forward, prev_shape);
    let predicted = prev_ms * growth;
    (predicted > PREDICTION_SLACK * cap).then(|| {
        format!("predicted {predicted:.0} ms per run > {PREDICTION_SLACK} x the {cap:.0} ms cap")
    })
}

/// One layer's timed points along `axis`: `(value, median ms)`.
pub type Line = Vec<(usize, f64)>;

/// What a sweep along one axis on one device yields.
pub struct SweepResult {
    /// The timed points' rows.
    pub rows: Vec<Row>,
    /// The points not timed, with the reason.
    pub skipped: Vec<Skipped>,
    /// Each layer's line, for the plot.
    pub lines: Vec<(Layer, Line)>,
}

/// Sweeps each of `layers` along `axis` on `device` (called `name`), printing a grid (one
/// line per layer, one column per value, `-` for a skipped point) and returning the rows,
/// the skipped points and each layer's line.
pub fn run_sweep(
    axis: Axis,
    layers: &[Layer],
    quick: bool,
    device: &Device,
    name: &str,
    peak: &Peak,
) -> Result<SweepResult, String> {
    let limits = Limits::new(quick);
    let values = axis.values(quick);
    let label = match axis {
        Axis::Length => format!("time (batch {FIXED_BATCH}, width {WIDTH})"),
        Axis::Batch => format!("batch (time {FIXED_TIME}, width {WIDTH})"),
    };
    println!("\nforward ms on {name} against {label}:");
    let mut head = format!("{:<18}", "layer");
    for v in &values {
        head.push_str(&format!(" {v:>8}"));
    }
    println!("{head}");
    let (mut rows, mut skipped, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    for &layer in layers {
        let mut line = format!("{:<18}", layer.name());
        let mut previous: Option<(Shape, f64)> = None;
        let mut stopped: Option<String> = None;
        let mut points = Vec::new();
        for &value in &values {
            let shape = axis.shape(value);
            if stopped.is_none() {
                stopped = skip_reason(layer, shape, previous, &limits);
            }
            if let Some(reason) = &stopped {
                line.push_str(&format!(" {:>8}", "-"));
                skipped.push(Skipped {
                    case: axis.case().to_string(),
                    layer: layer.name().to_string(),
                    device: name.to_string(),
                    shape: Some(shape),
                    reason: reason.clone(),
                });
                continue;
            }
            let run = seqmodel_run(layer, Mode::Forward, shape, device)?;
            let times = time_interleaved(&[&run], &limits.plan)?;
            let Some(t) = summarise(&times[0]) else {
                return Err(format!("{} at {shape}: no timed run", layer.name()));
            };
            let key = RowKey {
                case: axis.case(),
                layer,
                mode: Mode::Forward,
                device: name,
                shape,
            };
            let work = flops(layer, Mode::Forward, shape);
            rows.push(Row::new(&key, SEQMODEL, t, times[0].len(), work, peak));
            line.push_str(&format!(" {:>8.3}", t.median));
            points.push((value, t.median));
            previous = Some((shape, t.median));
        }
        println!("{line}");
        lines.push((layer, points));
    }
    for s in skipped.iter().filter(|s| s.device == name) {
        if let Some(shape) = s.shape {
            println!("  skipped {} at {shape}: {}", s.layer, s.reason);
        }
    }
    Ok(SweepResult {
        rows,
        skipped,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_sweep_covers_16_to_4096_and_1_to_256() {
        let lengths = Axis::Length.values(false);
        assert_eq!((lengths[0], *lengths.last().expect("some")), (16, 4096));
        assert_eq!(lengths.len(), 9);
        let batches = Axis::Batch.values(false);
        assert_eq!((batches[0], *batches.last().expect("some")), (1, 256));
        assert!(Axis::Length.values(true).len() < lengths.len());
    }

    #[test]
    fn a_point_is_skipped_when_predicted_too_slow_or_too_large() {
        let limits = Limits::new(false);
        let small = Axis::Length.shape(16);
        let next = Axis::Length.shape(32);
        // The first point is always timed (when its scores fit).
        assert_eq!(skip_reason(Layer::Lstm, small, None, &limits), None);
        // LSTM FLOPs double with the length: a 300 ms point is followed (600 ms predicted,
        // under 8 x 500 ms), a 600 ms one is over the cap itself.
        assert_eq!(
            skip_reason(Layer::Lstm, next, Some((small, 300.0)), &limits),
            None
        );
        let reason =
            skip_reason(Layer::Lstm, next, Some((small, 600.0)), &limits).expect("over the cap");
        assert!(reason.contains("took 600 ms"), "{reason}");
        // MHA from 16 to 2048 steps: the FLOPs grow ~1900x, 5 ms to ~9.7 s > 8 x 500 ms.
        let reason = skip_reason(
            Layer::Mha,
            Axis::Length.shape(2048),
            Some((small, 5.0)),
            &limits,
        )
        .expect("predicted over");
        assert!(reason.contains("predicted"), "{reason}");
        // Additive attention at 4096 steps: 8 x 4096 x 4096 x 64 floats = 32 GiB.
        let reason = skip_reason(Layer::Additive, Axis::Length.shape(4096), None, &limits)
            .expect("over the memory cap");
        assert!(reason.contains("32768 MiB"), "{reason}");
    }
}
