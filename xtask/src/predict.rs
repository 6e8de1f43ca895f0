//! `cargo xtask predict`: label texts with a finished run, one per line of a file or of stdin.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;

use crate::run::classify;
use crate::run::config::{CONFIG_FILE, TaskName, read_task};
use crate::run::data;
use crate::run::error::RunError;

/// Options of `cargo xtask predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// The run folder (written by `cargo xtask train`).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// A text file, one example per line; `-` or nothing: standard input.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// `--task forecast`: the series to continue (a bundled name or a CSV with the run's
    /// columns) [default: the run's].
    #[arg(long, value_name = "NAME|PATH")]
    pub data: Option<String>,
}

/// Runs `cargo xtask predict`: prints `label<TAB>probability<TAB>text` per non-blank line.
pub fn run(args: &PredictArgs) -> Result<(), RunError> {
    let config_path = args.run.join(CONFIG_FILE);
    // Without a config.json the classify loader reports the missing run.
    let task = if config_path.is_file() {
        read_task(&config_path, None)?
    } else {
        TaskName::Classify
    };
    match task {
        TaskName::Classify => run_classify(args),
        TaskName::Tag => crate::run::tag::predict(args),
        TaskName::Forecast => crate::run::forecast::predict(args),
        TaskName::Seq2seq => crate::run::seq2seq::predict(args),
    }
}

/// The text to predict on: the `FILE` argument (UTF-8), or standard input for `-` or none.
///
/// # Errors
/// The file cannot be read or is not UTF-8 (the message names the file and the byte).
pub fn read_input(args: &PredictArgs) -> Result<String, RunError> {
    match &args.input {
        Some(path) if path.as_os_str() != "-" => {
            let bytes = std::fs::read(path).map_err(|error| RunError::io(path, error))?;
            String::from_utf8(bytes).map_err(|error| {
                RunError::Data(format!(
                    "{}: invalid UTF-8 at byte {} (expected UTF-8 text)",
                    path.display(),
                    error.utf8_error().valid_up_to()
                ))
            })
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|error| RunError::io(&PathBuf::from("<stdin>"), error))?;
            Ok(text)
        }
    }
}

/// `cargo xtask predict` of a classify run.
fn run_classify(args: &PredictArgs) -> Result<(), RunError> {
    let loaded = classify::load_run(&args.run)?;
    let text = crate::predict::read_input(args)?;
    let numbered = data::lines_as_items(&text);
    let items: Vec<_> = numbered.iter().map(|(_, item)| item.clone()).collect();
    let batcher = loaded.lexicon.batcher()?;
    let probs = classify::probabilities(&loaded.model, &batcher, &items, &loaded.device)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (item, p) in items.iter().zip(&probs) {
        let class = classify::argmax(p);
        let label = loaded.lexicon.labels.name(class).unwrap_or("?");
        // A closed pipe (`| head`) ends the output quietly.
        if writeln!(out, "{label}\t{:.4}\t{}", p[class], item.text).is_err() {
            break;
        }
    }
    Ok(())
}
