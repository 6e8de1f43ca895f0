//! The every-layer table (`--cases layers`): each layer, in each mode, on each device, timed
//! against Burn's built-in where one exists, in interleaved rounds of the same run.

use std::time::Duration;

use burn::tensor::Device;
use xtask::stats::summarise;

use super::flops::flops;
use super::layers::{Layer, Mode, Shape, builtin_run, seqmodel_run};
use super::peak::Peak;
use super::report::{BUILTIN, Row, RowKey, SEQMODEL, percent};
use super::timing::{Plan, Run, time_interleaved};

/// The table's shape on a CPU backend.
pub const CPU_SHAPE: Shape = Shape {
    batch: 32,
    time: 64,
    width: 128,
};

/// The table's shape on wgpu: lavapipe runs Vulkan on the CPU, 30–400× slower than flex.
pub const WGPU_SHAPE: Shape = Shape {
    batch: 8,
    time: 32,
    width: 64,
};

/// How the table times each row.
pub fn plan(quick: bool) -> Plan {
    if quick {
        Plan {
            warmup: 1,
            min_runs: 2,
            max_runs: 5,
            budget: Duration::from_millis(250),
        }
    } else {
        Plan {
            warmup: 2,
            min_runs: 5,
            max_runs: 15,
            budget: Duration::from_millis(1500),
        }
    }
}

/// What the table needs besides the device.
pub struct TableSetup<'a> {
    /// The layers to time.
    pub layers: &'a [Layer],
    /// The modes to time.
    pub modes: &'a [Mode],
    /// Whether to time Burn's built-ins.
    pub builtins: bool,
    /// How to time.
    pub plan: Plan,
    /// The machine's peak.
    pub peak: &'a Peak,
}

/// The table's header line.
pub fn header() -> String {
    format!(
        "{:<18} {:<7} {:<7} {:<10} {:>10} {:>7} {:>10} {:>9} {:>8} {:>7} {:>7}",
        "layer",
        "mode",
        "device",
        "shape",
        "seqmodel",
        "spread",
        "burn",
        "burn/seq",
        "GFLOP/s",
        "%peak",
        "%gemm"
    )
}

/// Times every layer and mode of `setup` on `device` (called `name`), printing one line per
/// pair and returning the JSON rows.
pub fn run_table(
    setup: &TableSetup<'_>,
    device: &Device,
    name: &str,
    shape: Shape,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for &layer in setup.layers {
        for &mode in setup.modes {
            let ours = seqmodel_run(layer, mode, shape, device)?;
            let builtin = if setup.builtins && layer.has_builtin() {
                builtin_run(layer, mode, shape, device)
            } else {
                None
            };
            let mut runs: Vec<&Run> = vec![&ours];
            if let Some(b) = &builtin {
                runs.push(b);
            }
            let times = time_interleaved(&runs, &setup.plan)?;
            let key = RowKey {
                case: "layers",
                layer,
                mode,
                device: name,
                shape,
            };
            let work = flops(layer, mode, shape);
            let summaries: Vec<_> = times.iter().map(|t| summarise(t)).collect();
            let Some(seq) = summaries[0] else {
                return Err(format!("{} {}: no timed run", layer.name(), mode.name()));
            };
            let burn = summaries.get(1).copied().flatten();
            let ratio = burn.map(|b| b.median / seq.median);
            let mut row = Row::new(&key, SEQMODEL, seq, times[0].len(), work, setup.peak);
            row.ratio = ratio;
            println!(
                "{:<18} {:<7} {:<7} {:<10} {:>10.3} {:>6.0}% {:>10} {:>9} {:>8.2} {:>7} {:>7}",
                layer.name(),
                mode.name(),
                name,
                shape.to_string(),
                seq.median,
                100.0 * row.spread,
                burn.map_or("-".to_string(), |b| format!("{:.3}", b.median)),
                ratio.map_or("-".to_string(), |r| format!("{r:.2}x")),
                row.gflops,
                percent(row.peak_fraction),
                percent(row.gemm_fraction),
            );
            rows.push(row);
            if let Some(b) = burn {
                let mut row = Row::new(&key, BUILTIN, b, times[1].len(), work, setup.peak);
                row.ratio = ratio;
                rows.push(row);
            }
        }
    }
    Ok(rows)
}
