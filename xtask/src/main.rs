//! `cargo xtask <task>`: the project's tasks, one clap subcommand each (one file per task).
//!
//! Run `cargo xtask` with no arguments to list them.

mod bench_backends;
mod bench_data;
mod check_layering;
mod ci;
mod compare;
mod devices;
mod eval;
mod long_range;
mod predict;
mod run;
mod seq2seq_lengths;
mod train;

use clap::{Parser, Subcommand};

/// seqmodel's project tasks.
#[derive(Parser)]
#[command(name = "cargo xtask", arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model into a run folder (with no options: classify rt-polarity with a BiLSTM):
    /// config.json, metrics.jsonl, checkpoints, model.bpk, report.md and PNG plots.
    Train(Box<train::TrainArgs>),
    /// Score a finished run on its test split, or on another labelled .csv/.tsv file.
    Eval(eval::EvalArgs),
    /// Label texts with a finished run: one per line of a file or stdin; prints
    /// `label<TAB>probability<TAB>text`.
    Predict(predict::PredictArgs),
    /// Run exactly what CI runs (`bash .ci/run`): fmt, clippy, the tests, the wgpu tests.
    Ci(ci::CiArgs),
    /// List each compiled-in backend and whether it starts on this machine.
    Devices(devices::DevicesArgs),
    /// Data-pipeline throughput on rt-polarity (tokenise + encode + batch, sentences/s) against an
    /// LSTM training step of the same batch shape.
    BenchData(bench_data::BenchDataArgs),
    /// Every layer (RNN, LSTM, GRU, BiLSTM, QRNN, TCN, additive and multi-head attention, a
    /// Transformer layer), forward and training step, against Burn's built-in, on flex, ndarray
    /// and wgpu: median ms, spread, ratio, GFLOP/s against the machine's peak; a sweep over
    /// length 16-4096 and batch 1-256; `--json FILE`, a log-log PNG, `--quick`; the recurrent
    /// issue's cases a-g (and PyTorch with `--torch`).
    BenchBackends(bench_backends::BenchBackendsArgs),
    /// The method table measured: every encoder on classify, tag and forecast over seeds
    /// (score, parameters, s/epoch, latency, peak memory), and the RNN vs LSTM+attention stock
    /// case study with the naive forecast; docs/comparison.md and its charts.
    Compare(compare::CompareArgs),
    /// Fail when a crate depends on one it must not (metrics on Burn, a layer on the trainer,
    /// a crate on one of its own layer or above); the rules are in xtask/src/layering.rs.
    CheckLayering(check_layering::CheckLayeringArgs),
    /// Exact match against input length on string reversal (up to --max-len, default 60) for an
    /// RNN seq2seq without attention, with attention, and a Transformer: lengths.json and
    /// lengths.png.
    Seq2seqLengths(seq2seq_lengths::Seq2SeqLengthsArgs),
    /// The copy task at lags 50-200 per encoder (rnn, lstm, lstm+residual, tcn, qrnn):
    /// held-out accuracy, steps and wall time as a Markdown table.
    LongRange(long_range::LongRangeArgs),
}

fn main() -> std::process::ExitCode {
    // Mesa's Vulkan drivers (wgpu on lavapipe) warn without XDG_RUNTIME_DIR. Libraries never set
    // the environment; the binary does, here, before anything else runs.
    if let Some(dir) = seqmodel_train::device::fallback_runtime_dir() {
        // SAFETY: the first statement of `main`: no other thread exists yet (nothing above
        // started one), so nothing reads the environment concurrently.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", dir) };
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => return run_job(train::run(&args)),
        Command::Eval(args) => return run_job(eval::run(&args)),
        Command::Predict(args) => return run_job(predict::run(&args)),
        Command::Ci(args) => ci::run(&args),
        Command::Devices(args) => devices::run(&args),
        Command::BenchData(args) => bench_data::run(&args),
        Command::BenchBackends(args) => bench_backends::run(&args),
        Command::Compare(args) => return run_job(compare::run(&args)),
        Command::CheckLayering(args) => check_layering::run(&args),
        Command::Seq2seqLengths(args) => seq2seq_lengths::run(&args),
        Command::LongRange(args) => long_range::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A refused or failed run: one line, exit code 2, no backtrace.
fn run_job(result: Result<(), run::error::RunError>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(run::error::EXIT_USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};
    use crate::bench_backends::{CaseId, Impl};
    use seqmodel_train::device::BackendName;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn bench_backends_options_are_typed() {
        let cli = parse(&[
            "bench-backends",
            "--backend",
            "flex,wgpu",
            "--cases",
            "a,f",
            "--impl",
            "fused,burn",
        ])
        .expect("valid options");
        let Command::BenchBackends(args) = cli.command else {
            panic!("parsed as another task");
        };
        assert_eq!(args.backends, [BackendName::Flex, BackendName::Wgpu]);
        assert_eq!(args.cases, [CaseId::A, CaseId::F]);
        assert_eq!(args.impls, [Impl::Fused, Impl::Burn]);
    }

    #[test]
    fn unknown_values_are_refused_with_the_choices() {
        // A case that does not exist used to select nothing, silently.
        let err = parse(&["bench-backends", "--cases", "h"])
            .err()
            .expect("refused");
        assert!(
            err.contains("possible values: a, b, c, d, e, f, g"),
            "{err}"
        );
        let err = parse(&["bench-backends", "--impl", "torch"])
            .err()
            .expect("refused");
        assert!(
            err.contains("possible values: fused, reference, burn"),
            "{err}"
        );
        let err = parse(&["devices", "--backend", "cuda"])
            .err()
            .expect("refused");
        assert!(err.contains("expected one of flex, ndarray, wgpu"), "{err}");
        let err = parse(&["bench-data", "--backend", "tch"])
            .err()
            .expect("refused");
        assert!(err.contains("expected one of flex, ndarray, wgpu"), "{err}");
    }
}
