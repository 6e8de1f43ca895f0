//! `cargo xtask bench-backends --cases a,…,g`: the recurrent issue's cases: seqmodel-rnn's
//! recurrent layers (fused and reference paths) against Burn's built-in
//! `burn::nn::{Lstm, BiLstm, Gru, Rnn}` and, with `--torch`, PyTorch, on the same device in the
//! same run.
//!
//! Cases (float32, batch-first, `batch x time x input -> hidden`):
//! a) LSTM forward 32x64x128->256; b) the same, forward + backward (loss = sum of outputs);
//! c) GRU and RNN-tanh forward, same shape; d) 2-layer bidirectional LSTM forward, same shape;
//! e) LSTM forward 1x32x64->128 (latency); f) LSTM forward 8x512x64->128 (long sequences);
//! g) the scaling sweep: forward 8xTx64->128 for T = 128, 256, 512, 1024.
//! Cases a, f and g also time seqmodel's Quasi-RNN (fo-pooling, window 2; in a and f also
//! window 1) and temporal CNN (4 causal levels, kernel 3, weight norm): one implementation
//! each, in the first column; after the table, the QRNN's speed-up over our LSTM (its fused
//! column) on the same case.
//!
//! Each row reports the median, min and max of the timed runs, GFLOP/s counted from the
//! matmuls only (`2 * batch * time * gates * hidden * (input + hidden)` per layer and direction,
//! x3 for forward + backward), and the ratio `burn-builtin / seqmodel` (> 1: seqmodel is faster).

use std::path::PathBuf;

use burn::tensor::{Device, Distribution, Tensor};
use seqmodel_train::device::BackendName;
use serde::Serialize;
use xtask::stats::{Summary, summarise};

use super::timing::{Run, SETTLE, sample};
use super::{BenchBackendsArgs, CaseId, Impl};

/// Which recurrent layer a case runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LayerKind {
    Lstm,
    Gru,
    RnnTanh,
    BiLstm2,
    /// seqmodel's Quasi-RNN (fo-pooling, window 2, one layer).
    Qrnn,
    /// The same with window 1 (half the gate matmul).
    QrnnW1,
    /// seqmodel's temporal CNN (4 causal levels, kernel 3, weight norm).
    Tcn,
}

impl LayerKind {
    fn name(self) -> &'static str {
        match self {
            LayerKind::Lstm => "lstm",
            LayerKind::Gru => "gru",
            LayerKind::RnnTanh => "rnn-tanh",
            LayerKind::BiLstm2 => "bilstm-2layer",
            LayerKind::Qrnn => "qrnn",
            LayerKind::QrnnW1 => "qrnn-window1",
            LayerKind::Tcn => "tcn",
        }
    }

    /// Whether the layer has a reference path and a Burn built-in to compare with.
    fn has_alternatives(self) -> bool {
        !matches!(self, LayerKind::Qrnn | LayerKind::QrnnW1 | LayerKind::Tcn)
    }

    /// Matmul FLOPs of one forward pass.
    fn forward_flops(self, batch: usize, time: usize, input: usize, hidden: usize) -> f64 {
        let per = |gates: usize, inp: usize| {
            2.0 * (batch * time * gates * hidden * (inp + hidden)) as f64
        };
        match self {
            LayerKind::Lstm => per(4, input),
            LayerKind::Gru => per(3, input),
            LayerKind::RnnTanh => per(1, input),
            LayerKind::BiLstm2 => 2.0 * per(4, input) + 2.0 * per(4, 2 * hidden),
            // Gates z, f, o from a window of 2 steps: no recurrent matmul.
            LayerKind::Qrnn => 2.0 * (batch * time * 3 * hidden * 2 * input) as f64,
            LayerKind::QrnnW1 => 2.0 * (batch * time * 3 * hidden * input) as f64,
            // Per level two kernel-3 convolutions (the first from `input` at level 0) and, at
            // level 0, the 1x1 skip projection.
            LayerKind::Tcn => {
                let conv =
                    |inp: usize, taps: usize| 2.0 * (batch * time * hidden * taps * inp) as f64;
                conv(input, 3) + conv(input, 1) + conv(hidden, 3) + 3.0 * 2.0 * conv(hidden, 3)
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    Train,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Forward => "forward",
            Mode::Train => "train",
        }
    }
}

struct Case {
    id: CaseId,
    layer: LayerKind,
    mode: Mode,
    batch: usize,
    time: usize,
    input: usize,
    hidden: usize,
}

#[rustfmt::skip] // one case per line: a table
fn cases() -> Vec<Case> {
    let case = |id, layer, mode, batch, time, input, hidden| Case {
        id, layer, mode, batch, time, input, hidden,
    };
    vec![
        case(CaseId::A, LayerKind::Lstm,    Mode::Forward, 32, 64,  128, 256),
        case(CaseId::B, LayerKind::Lstm,    Mode::Train,   32, 64,  128, 256),
        case(CaseId::C, LayerKind::Gru,     Mode::Forward, 32, 64,  128, 256),
        case(CaseId::C, LayerKind::RnnTanh, Mode::Forward, 32, 64,  128, 256),
        case(CaseId::D, LayerKind::BiLstm2, Mode::Forward, 32, 64,  128, 256),
        case(CaseId::E, LayerKind::Lstm,    Mode::Forward, 1,  32,  64,  128),
        case(CaseId::F, LayerKind::Lstm,    Mode::Forward, 8,  512, 64,  128),
        case(CaseId::A, LayerKind::Qrnn,    Mode::Forward, 32, 64,  128, 256),
        case(CaseId::A, LayerKind::QrnnW1,  Mode::Forward, 32, 64,  128, 256),
        case(CaseId::A, LayerKind::Tcn,     Mode::Forward, 32, 64,  128, 256),
        case(CaseId::F, LayerKind::Qrnn,    Mode::Forward, 8,  512, 64,  128),
        case(CaseId::F, LayerKind::QrnnW1,  Mode::Forward, 8,  512, 64,  128),
        case(CaseId::F, LayerKind::Tcn,     Mode::Forward, 8,  512, 64,  128),
        case(CaseId::G, LayerKind::Tcn,     Mode::Forward, 8,  128, 64,  128),
        case(CaseId::G, LayerKind::Tcn,     Mode::Forward, 8,  256, 64,  128),
        case(CaseId::G, LayerKind::Tcn,     Mode::Forward, 8,  512, 64,  128),
        case(CaseId::G, LayerKind::Tcn,     Mode::Forward, 8,  1024, 64, 128),
        case(CaseId::G, LayerKind::Qrnn,    Mode::Forward, 8,  128, 64,  128),
        case(CaseId::G, LayerKind::Qrnn,    Mode::Forward, 8,  256, 64,  128),
        case(CaseId::G, LayerKind::Qrnn,    Mode::Forward, 8,  512, 64,  128),
        case(CaseId::G, LayerKind::Qrnn,    Mode::Forward, 8,  1024, 64, 128),
    ]
}

/// One row of a case, in the JSON output's `rnn_cases`.
#[derive(Serialize)]
pub struct Row {
    case: String,
    layer: String,
    device: String,
    mode: String,
    #[serde(rename = "impl")]
    implementation: String,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    gflops: f64,
}

/// Our layer for a case: a closure running one forward (or forward + backward).
fn seqmodel_run(
    case: &Case,
    device: &Device,
    execution: seqmodel_rnn::Execution,
) -> Result<Run, String> {
    let err = |e: seqmodel_rnn::Error| e.to_string();
    let device = match case.mode {
        Mode::Forward => device.clone(),
        Mode::Train => device.clone().autodiff(),
    };
    let input = Tensor::<3>::random(
        [case.batch, case.time, case.input],
        Distribution::Default,
        &device,
    );
    let (i, h) = (case.input, case.hidden);
    let mode = case.mode;
    let finish = move |output: Tensor<3>, device: &Device| -> Result<(), String> {
        if mode == Mode::Train {
            let _grads = output.sum().backward();
        }
        device.sync().map_err(|e| format!("{e:?}"))
    };
    Ok(match case.layer {
        LayerKind::Lstm | LayerKind::BiLstm2 => {
            let mut config = seqmodel_rnn::LstmConfig::new(i, h).with_execution(execution);
            if case.layer == LayerKind::BiLstm2 {
                config = config.with_num_layers(2).with_bidirectional(true);
            }
            let lstm = config.init(&device).map_err(err)?;
            Box::new(move || {
                let out = lstm.forward(input.clone(), None, None).map_err(err)?;
                finish(out.output, &device)
            })
        }
        LayerKind::Gru => {
            let gru = seqmodel_rnn::GruConfig::new(i, h)
                .with_execution(execution)
                .init(&device)
                .map_err(err)?;
            Box::new(move || {
                let out = gru.forward(input.clone(), None, None).map_err(err)?;
                finish(out.output, &device)
            })
        }
        LayerKind::RnnTanh => {
            let rnn = seqmodel_rnn::RnnConfig::new(i, h)
                .with_execution(execution)
                .init(&device)
                .map_err(err)?;
            Box::new(move || {
                let out = rnn.forward(input.clone(), None, None).map_err(err)?;
                finish(out.output, &device)
            })
        }
        LayerKind::Qrnn | LayerKind::QrnnW1 => {
            let window = if case.layer == LayerKind::Qrnn { 2 } else { 1 };
            let qrnn = seqmodel_rnn::QrnnConfig::new(i, h)
                .with_window(window)
                .init(&device)
                .map_err(err)?;
            Box::new(move || {
                let out = qrnn.forward(input.clone(), None, None).map_err(err)?;
                finish(out.output, &device)
            })
        }
        LayerKind::Tcn => {
            let tcn = seqmodel_rnn::TcnConfig::new(i, h)
                .init(&device)
                .map_err(err)?;
            Box::new(move || {
                let out = tcn.forward(input.clone(), None).map_err(err)?;
                finish(out, &device)
            })
        }
    })
}

/// Burn's built-in layer for a case (2-layer BiLSTM: two stacked `BiLstm`s).
fn builtin_run(case: &Case, device: &Device) -> Run {
    let device = match case.mode {
        Mode::Forward => device.clone(),
        Mode::Train => device.clone().autodiff(),
    };
    let input = Tensor::<3>::random(
        [case.batch, case.time, case.input],
        Distribution::Default,
        &device,
    );
    let (i, h) = (case.input, case.hidden);
    let mode = case.mode;
    let finish = move |output: Tensor<3>, device: &Device| -> Result<(), String> {
        if mode == Mode::Train {
            let _grads = output.sum().backward();
        }
        device.sync().map_err(|e| format!("{e:?}"))
    };
    match case.layer {
        LayerKind::Lstm => {
            let lstm = burn::nn::LstmConfig::new(i, h, true).init(&device);
            Box::new(move || finish(lstm.forward(input.clone(), None).0, &device))
        }
        LayerKind::BiLstm2 => {
            let first = burn::nn::BiLstmConfig::new(i, h, true).init(&device);
            let second = burn::nn::BiLstmConfig::new(2 * h, h, true).init(&device);
            Box::new(move || {
                let (x, _) = first.forward(input.clone(), None);
                finish(second.forward(x, None).0, &device)
            })
        }
        LayerKind::Gru => {
            let gru = burn::nn::GruConfig::new(i, h, true).init(&device);
            Box::new(move || finish(gru.forward(input.clone(), None), &device))
        }
        LayerKind::RnnTanh => {
            let rnn = burn::nn::RnnConfig::new(i, h, true).init(&device);
            Box::new(move || finish(rnn.forward(input.clone(), None).0, &device))
        }
        LayerKind::Qrnn | LayerKind::QrnnW1 | LayerKind::Tcn => {
            unreachable!("bench-backends: {} has no Burn built-in", case.layer.name())
        }
    }
}

/// PyTorch answering timing requests: `bench/torch_rnn.py --serve` in a child process.
struct TorchServer {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl TorchServer {
    fn start(python: &str) -> Result<Self, String> {
        use std::process::{Command, Stdio};
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench/torch_rnn.py");
        let mut child = Command::new(python)
            .arg(&script)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("--torch {python}: cannot run {}: {e}", script.display()))?;
        let stdin = child.stdin.take().ok_or("--torch: no stdin")?;
        let stdout = child.stdout.take().ok_or("--torch: no stdout")?;
        Ok(Self {
            child,
            stdin,
            stdout: std::io::BufReader::new(stdout),
        })
    }

    /// `runs` wall times (ms) of PyTorch's module for `case`.
    fn time(&mut self, case: &Case, runs: usize) -> Result<Vec<f64>, String> {
        use std::io::{BufRead, Write};
        let request = format!(
            "{} {} {} {runs}\n",
            case.id.as_str(),
            case.layer.name(),
            case.mode.name()
        );
        self.stdin
            .write_all(request.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("--torch: {e}"))?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("--torch: {e}"))?;
        serde_json::from_str(&line).map_err(|e| format!("--torch: bad answer {line:?}: {e}"))
    }
}

impl Drop for TorchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the cases `ids` on every backend of `args`, printing their table, and returns the rows.
pub fn run(
    args: &BenchBackendsArgs,
    backends: &[BackendName],
    ids: &[CaseId],
) -> Result<Vec<Row>, String> {
    let warmup = if args.quick { 1 } else { 2 };
    let wanted = |which: Impl| args.impls.is_empty() || args.impls.contains(&which);
    // Every implementation of a case is timed in interleaved rounds (fused, reference,
    // built-in, PyTorch, then again), so that a slow spell of the machine hits all of them;
    // each one's runs start after a pause (`SETTLE`) so that no other pool still spins.
    let (rounds, per_round) = if args.quick { (2, 2) } else { (5, 3) };
    let mut torch = match &args.torch {
        Some(python) => Some(TorchServer::start(python)?),
        None => None,
    };
    #[cfg(target_arch = "x86_64")]
    println!(
        "fused CPU kernels: {} (cap with {}=portable|avx2|avx512); {} threads",
        seqmodel_rnn::Isa::detect().as_str(),
        seqmodel_rnn::ISA_ENV,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut rows = Vec::new();
    println!(
        "{:<4} {:<14} {:<7} {:<7} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8}",
        "case",
        "layer (T)",
        "device",
        "mode",
        "fused ms",
        "ref ms",
        "burn ms",
        "torch ms",
        "burn/fused",
        "torch/fused",
        "fused GF/s"
    );
    let fmt_ms = |t: Option<Summary>| t.map_or("-".to_string(), |t| format!("{:.2}", t.median));
    let fmt_ratio = |a: Option<f64>, b: Option<Summary>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}x", a / b.median),
        _ => "-".to_string(),
    };
    // (backend, case, layer) -> the first column's median: the QRNN's speed-up over the LSTM.
    let mut firsts: Vec<(BackendName, CaseId, LayerKind, f64)> = Vec::new();
    for &backend in backends {
        let device = backend.device().map_err(|e| e.to_string())?;
        for case in cases() {
            if !ids.contains(&case.id) {
                continue;
            }
            let flops = case
                .layer
                .forward_flops(case.batch, case.time, case.input, case.hidden)
                * if case.mode == Mode::Train { 3.0 } else { 1.0 };
            let mut runs: Vec<(Impl, Option<Run>)> = Vec::new();
            for which in Impl::ALL {
                let run =
                    if !wanted(which) || (which != Impl::Fused && !case.layer.has_alternatives()) {
                        None
                    } else {
                        Some(match which {
                            Impl::Fused => {
                                let execution = if backend == BackendName::Flex {
                                    seqmodel_rnn::Execution::Fused
                                } else {
                                    seqmodel_rnn::Execution::Auto
                                };
                                seqmodel_run(&case, &device, execution)?
                            }
                            Impl::Reference => {
                                seqmodel_run(&case, &device, seqmodel_rnn::Execution::Reference)?
                            }
                            Impl::Burn => builtin_run(&case, &device),
                        })
                    };
                if let Some(run) = &run {
                    sample(run, warmup)?;
                }
                runs.push((which, run));
            }
            let torch_here = torch
                .as_mut()
                .filter(|_| backend == BackendName::Flex && case.layer.has_alternatives());
            let mut samples: Vec<Vec<f64>> = vec![Vec::new(); Impl::ALL.len()];
            let mut torch_samples = Vec::new();
            let mut torch_here = torch_here;
            let settle = || std::thread::sleep(SETTLE);
            for _ in 0..rounds {
                for (i, (_, run)) in runs.iter().enumerate() {
                    if let Some(run) = run {
                        settle();
                        samples[i].extend(sample(run, per_round)?);
                    }
                }
                if let Some(server) = torch_here.as_deref_mut() {
                    settle();
                    torch_samples.extend(server.time(&case, per_round)?);
                }
            }
            let timed: Vec<(Impl, Option<Summary>)> = runs
                .iter()
                .zip(samples)
                .map(|((which, run), times)| (*which, run.as_ref().and_then(|_| summarise(&times))))
                .collect();
            let torch_timing = summarise(&torch_samples);
            let (fused, reference, burn) = (timed[0].1, timed[1].1, timed[2].1);
            let torch_ms = torch_timing.map(|t| t.median);
            let gflops = |ms: f64| flops / (ms * 1e-3) / 1e9;
            if let Some(first) = fused {
                firsts.push((backend, case.id, case.layer, first.median));
            }
            let layer = if case.id == CaseId::G {
                format!("{} ({})", case.layer.name(), case.time)
            } else {
                case.layer.name().to_string()
            };
            println!(
                "{:<4} {:<14} {:<7} {:<7} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8}",
                case.id.as_str(),
                layer,
                backend.as_str(),
                case.mode.name(),
                fmt_ms(fused),
                fmt_ms(reference),
                fmt_ms(burn),
                torch_ms.map_or("-".to_string(), |t| format!("{t:.2}")),
                fmt_ratio(burn.map(|b| b.median), fused),
                fmt_ratio(torch_ms, fused),
                fused.map_or("-".to_string(), |f| format!("{:.1}", gflops(f.median))),
            );
            let mut push = |implementation: &str, t: Summary| {
                rows.push(Row {
                    case: case.id.as_str().to_string(),
                    layer: layer.clone(),
                    device: backend.as_str().to_string(),
                    mode: case.mode.name().to_string(),
                    implementation: implementation.to_string(),
                    median_ms: t.median,
                    min_ms: t.min,
                    max_ms: t.max,
                    gflops: gflops(t.median),
                });
            };
            for (which, t) in &timed {
                if let Some(t) = t {
                    push(which.label(), *t);
                }
            }
            if let Some(t) = torch_timing {
                push("pytorch-cpu", t);
            }
        }
    }
    for (backend, id, layer, qrnn) in &firsts {
        if !matches!(layer, LayerKind::Qrnn | LayerKind::QrnnW1) || *id == CaseId::G {
            continue;
        }
        let lstm = firsts
            .iter()
            .find(|(b, i, l, _)| b == backend && i == id && *l == LayerKind::Lstm);
        if let Some((_, _, _, lstm)) = lstm {
            println!(
                "{} vs lstm forward, case {} on {}: {:.2} ms vs {:.2} ms = {:.2}x faster",
                layer.name(),
                id.as_str(),
                backend.as_str(),
                qrnn,
                lstm,
                lstm / qrnn
            );
        }
    }
    Ok(rows)
}
