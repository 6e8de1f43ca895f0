//! `cargo xtask <task>`: the project's tasks, one clap subcommand each (one file per task).
//!
//! Run `cargo xtask` with no arguments to list them.

mod bench_backends;
mod bench_data;
mod ci;
mod devices;

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
    /// Run exactly what CI runs (`bash .ci/run`): fmt, clippy, the tests, the wgpu tests.
    Ci(ci::CiArgs),
    /// List each compiled-in backend and whether it starts on this machine.
    Devices(devices::DevicesArgs),
    /// Data-pipeline throughput on rt-polarity (tokenise + encode + batch, sentences/s) against an
    /// LSTM training step of the same batch shape.
    BenchData(bench_data::BenchDataArgs),
    /// Recurrent layers (seqmodel-rnn) against Burn's built-in Lstm/Gru/Rnn, cases a-f, on one
    /// or more backends: median ms, ratio, GFLOP/s; `--json FILE` writes the rows.
    BenchBackends(bench_backends::BenchBackendsArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ci(args) => ci::run(&args),
        Command::Devices(args) => devices::run(&args),
        Command::BenchData(args) => bench_data::run(&args),
        Command::BenchBackends(args) => bench_backends::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
