//! `seq-score`: evaluation metrics on the command line, in the spirit of sacrebleu's CLI.
//!
//! ```text
//! seq-score bleu -r ref.txt [-r ref2.txt] hyp.txt      # hyp from stdin when omitted
//! seq-score chrf -r ref.txt hyp.txt --word-order 2     # chrF++
//! seq-score ter -r ref.txt hyp.txt                     # translation edit rate
//! seq-score bleu ref.txt -i hyp.txt -lc -tok zh        # sacrebleu's spellings work too
//! seq-score sacrebleu ref.txt -i hyp.txt -m bleu chrf ter
//! seq-score rouge -r ref.txt hyp.txt --stem
//! seq-score classify --gold gold.txt --pred pred.txt   # one label per line
//! seq-score ner --gold gold.conll --pred pred.conll    # CoNLL: tag in the last column
//! seq-score regression --gold y.txt --pred yhat.txt    # one number per line
//! ```
//!
//! Text output by default, `--json` for machine-readable output with full precision.
//! Bad input (unreadable file, invalid UTF-8, empty input, line-count mismatch, malformed
//! values) prints one line `seq-score: error: ...` to stderr and exits with code 2.

mod commands;
mod input;
mod sacrebleu;
mod spellings;

use clap::Parser;

use commands::Command;

/// Evaluation metrics identical to sacrebleu, rouge-score, scikit-learn and seqeval.
#[derive(Debug, Parser)]
#[command(name = "seq-score", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() {
    let cli = Cli::parse_from(spellings::normalize(std::env::args_os()));
    match commands::run(cli.command) {
        Ok(out) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
        }
        Err(e) => {
            let msg = e.to_string().replace('\n', " ");
            eprintln!("seq-score: error: {msg}");
            std::process::exit(2);
        }
    }
}
