//! `cargo xtask bench-backends`: seqmodel's layers against Burn's built-ins, on every device,
//! in both modes, with GFLOP/s against the machine's peak and a scaling sweep.
//!
//! Cases (`--cases`, default `layers,sweep`):
//! - `layers` ([`table`]): RNN, LSTM, GRU, 2-layer BiLSTM, QRNN, TCN, additive attention,
//!   multi-head attention and a Transformer encoder layer, each as an inference forward pass
//!   and as a training step (autodiff forward + backward), seqmodel's layer and Burn's
//!   built-in (where one exists) timed in interleaved rounds of the same run, with the ratio.
//! - `sweep` ([`sweep`]): every layer's forward pass against the sequence length (16 … 4096)
//!   and the batch (1 … 256); points over the time or memory cap are skipped and listed.
//! - `tasks` ([`tasks`]): one training epoch per task on flex, s/epoch and sequences/s,
//!   beside PyTorch's scripts with `--torch`.
//! - `a` … `g` ([`rnn_cases`]): the recurrent issue's cases (fused and reference paths, and
//!   PyTorch with `--torch`).
//!
//! GFLOP/s count matrix products only ([`flops`]); the peak is estimated from
//! `/proc/cpuinfo` and measured with a large GEMM ([`peak`]). `--json FILE` writes every row,
//! `--plot FILE.png` (default: the JSON's path with `.png`) the sweep's time against length.

mod flops;
mod layers;
mod peak;
mod plot;
mod report;
mod rnn_cases;
mod sweep;
mod table;
mod tasks;
mod timing;

use std::path::PathBuf;

use seqmodel_train::device::BackendName;
use serde::Serialize;

pub use layers::{Layer, Mode};

/// Arguments of `cargo xtask bench-backends`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  cargo xtask bench-backends --quick\n  cargo xtask bench-backends \
                  --json bench/results/bench_backends_layers.json\n  cargo xtask bench-backends \
                  --cases layers --layers lstm,mha --modes train --backend flex\n  cargo xtask \
                  bench-backends --cases a,b --torch ~/.venvs/torch/bin/python\n  cargo xtask bench-backends \
                  --cases tasks --torch ~/.venvs/torch/bin/python"
)]
pub struct BenchBackendsArgs {
    /// Devices to run on: flex, ndarray, wgpu (repeat the flag or separate with commas;
    /// default: all three, or flex alone with --quick). A device that does not start here is
    /// skipped, with the reason.
    #[arg(long = "backend", value_delimiter = ',')]
    pub backends: Vec<BackendName>,
    /// A run under a minute: fewer timed runs, a shorter sweep (lengths 16, 64, 256, 1024;
    /// batches 1, 16, 256) and tighter caps per point.
    #[arg(long)]
    pub quick: bool,
    /// What to run (default: layers, sweep).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub cases: Vec<CaseId>,
    /// Only these layers (default: all).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub layers: Vec<Layer>,
    /// Only these modes in the layers table (default: both; the sweep times forward passes).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub modes: Vec<Mode>,
    /// Write the machine's peak, every row and every skipped point as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Draw the sweep's time against sequence length (log-log, one panel per device, one line
    /// per layer) into this PNG (default: the --json path with .png, when a sweep ran).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Only these implementations. Cases a-g: fused, reference, burn (default: all three).
    /// Layers table: leaving out `burn` skips Burn's built-ins (seqmodel's layer always runs).
    #[arg(long = "impl", value_delimiter = ',', value_enum)]
    pub impls: Vec<Impl>,
    /// Also time PyTorch, in this run, with this Python (one that has torch, e.g.
    /// `~/.venvs/torch/bin/python`): its CPU modules on cases a-g (`bench/torch_rnn.py`) and
    /// one epoch of each task's script in `bench/tasks/` on `tasks`.
    #[arg(long)]
    pub torch: Option<String>,
}

/// What a run times.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum CaseId {
    /// LSTM forward 32x64x128->256.
    A,
    /// LSTM forward + backward 32x64x128->256.
    B,
    /// GRU and RNN-tanh forward 32x64x128->256.
    C,
    /// 2-layer bidirectional LSTM forward 32x64x128->256.
    D,
    /// LSTM forward 1x32x64->128 (latency).
    E,
    /// LSTM forward 8x512x64->128 (long sequences).
    F,
    /// QRNN and TCN forward 8xTx64->128, T = 128, 256, 512, 1024 (cost against length).
    G,
    /// Every layer, forward and training step, against Burn's built-in, on every device.
    Layers,
    /// Every layer's forward time against sequence length and batch, on every device.
    Sweep,
    /// One training epoch per task on flex (classify, tag, seq2seq, forecast): s/epoch and
    /// sequences/s, beside PyTorch's `bench/tasks/` scripts with --torch (minutes; never in
    /// the default set).
    Tasks,
}

impl CaseId {
    /// The recurrent issue's cases.
    const RNN: [CaseId; 7] = [
        CaseId::A,
        CaseId::B,
        CaseId::C,
        CaseId::D,
        CaseId::E,
        CaseId::F,
        CaseId::G,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CaseId::A => "a",
            CaseId::B => "b",
            CaseId::C => "c",
            CaseId::D => "d",
            CaseId::E => "e",
            CaseId::F => "f",
            CaseId::G => "g",
            CaseId::Layers => "layers",
            CaseId::Sweep => "sweep",
            CaseId::Tasks => "tasks",
        }
    }
}

/// An implementation a run can time.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Impl {
    /// seqmodel's fused kernel: `Execution::Fused` on flex, so a run that did not use the kernel
    /// is an error, not a silently slower row; `Execution::Auto` elsewhere (wgpu trains on the
    /// reference path).
    Fused,
    /// seqmodel's generic path (`Execution::Reference`).
    Reference,
    /// Burn's built-in layers.
    Burn,
}

impl Impl {
    /// Every implementation, in the order of the table's columns.
    const ALL: [Impl; 3] = [Impl::Fused, Impl::Reference, Impl::Burn];

    /// The name in the JSON rows.
    fn label(self) -> &'static str {
        match self {
            Impl::Fused => "seqmodel-fused",
            Impl::Reference => "seqmodel-reference",
            Impl::Burn => "burn-builtin",
        }
    }
}

/// `n` of the `[n, n] × [n, n]` product whose best time sets the measured ceiling: large
/// enough that flex's GEMM runs at full speed (512 measured 20-40 % lower here).
const GEMM_N: usize = 1024;

/// The JSON file `--json` writes.
#[derive(Serialize)]
struct Output {
    /// The machine's peak and how it was estimated.
    peak: peak::Peak,
    /// Rows of the layers table and the sweep.
    rows: Vec<report::Row>,
    /// Points and devices not timed, with the reason.
    skipped: Vec<report::Skipped>,
    /// Rows of cases a-g.
    rnn_cases: Vec<rnn_cases::Row>,
    /// Training throughput per task.
    tasks: Vec<tasks::TaskRow>,
}

/// Run the benchmark.
pub fn run(args: &BenchBackendsArgs) -> Result<(), String> {
    let cases = if args.cases.is_empty() {
        vec![CaseId::Layers, CaseId::Sweep]
    } else {
        args.cases.clone()
    };
    if let Some(path) = &args.plot
        && !cases.contains(&CaseId::Sweep)
    {
        return Err(format!(
            "--plot {}: nothing to draw: the plot shows the sweep; add `sweep` to --cases",
            path.display()
        ));
    }
    let backends = if !args.backends.is_empty() {
        args.backends.clone()
    } else if args.quick {
        vec![BackendName::Flex]
    } else {
        BackendName::ALL.to_vec()
    };
    let layers = if args.layers.is_empty() {
        Layer::ALL.to_vec()
    } else {
        args.layers.clone()
    };
    let modes = if args.modes.is_empty() {
        Mode::ALL.to_vec()
    } else {
        args.modes.clone()
    };
    let peak = peak::Peak::detect(GEMM_N, if args.quick { 3 } else { 5 })?;
    println!("{}", peak.describe());
    let mut out = Output {
        peak,
        rows: Vec::new(),
        skipped: Vec::new(),
        rnn_cases: Vec::new(),
        tasks: Vec::new(),
    };
    let rnn_ids: Vec<CaseId> = cases
        .iter()
        .copied()
        .filter(|c| CaseId::RNN.contains(c))
        .collect();
    if !rnn_ids.is_empty() {
        out.rnn_cases = rnn_cases::run(args, &backends, &rnn_ids)?;
    }
    // The devices that start here, each with its name; the others are reported once.
    let mut devices = Vec::new();
    for backend in &backends {
        let started = if backend.is_compiled_in() {
            backend.device().map_err(|e| e.to_string())
        } else {
            Err("not compiled into this build".to_string())
        };
        match started {
            Ok(device) => devices.push((*backend, device)),
            Err(reason) => {
                println!("skipped device {}: {reason}", backend.as_str());
                out.skipped.push(report::Skipped {
                    case: "all".into(),
                    layer: String::new(),
                    device: backend.as_str().into(),
                    shape: None,
                    reason,
                });
            }
        }
    }
    if cases.contains(&CaseId::Layers) {
        let setup = table::TableSetup {
            layers: &layers,
            modes: &modes,
            builtins: args.impls.is_empty() || args.impls.contains(&Impl::Burn),
            plan: table::plan(args.quick),
            peak: &out.peak,
        };
        println!("\nmedian ms per run; burn/seq > 1: seqmodel is faster");
        println!("{}", table::header());
        for (backend, device) in &devices {
            let shape = if *backend == BackendName::Wgpu {
                table::WGPU_SHAPE
            } else {
                table::CPU_SHAPE
            };
            let rows = table::run_table(&setup, device, backend.as_str(), shape)?;
            out.rows.extend(rows);
        }
    }
    let mut panels = Vec::new();
    if cases.contains(&CaseId::Sweep) {
        for (backend, device) in &devices {
            for axis in [sweep::Axis::Length, sweep::Axis::Batch] {
                let result = sweep::run_sweep(
                    axis,
                    &layers,
                    args.quick,
                    device,
                    backend.as_str(),
                    &out.peak,
                )?;
                out.rows.extend(result.rows);
                out.skipped.extend(result.skipped);
                if axis == sweep::Axis::Length {
                    panels.push(plot::panel(backend.as_str(), &result.lines));
                }
            }
        }
    }
    if cases.contains(&CaseId::Tasks) {
        out.tasks = tasks::run_tasks(args.torch.as_deref())?;
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "\nwrote {} rows, {} task rows and {} skipped points to {}",
            out.rows.len() + out.rnn_cases.len(),
            out.tasks.len(),
            out.skipped.len(),
            path.display()
        );
    }
    let plot_path = args
        .plot
        .clone()
        .or_else(|| args.json.as_ref().map(|j| j.with_extension("png")));
    if let Some(path) = plot_path
        && !panels.is_empty()
    {
        plot::draw(&panels, &path)?;
        println!("drew {}", path.display());
    }
    Ok(())
}
