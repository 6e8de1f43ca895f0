//! `cargo xtask eval`: score a finished run on its test split or on another labelled file.

use std::path::PathBuf;

use clap::Args;

use crate::run::classify;
use crate::run::config::DataConfig;
use crate::run::config::{CONFIG_FILE, TaskName, read_task};
use crate::run::data;
use crate::run::error::RunError;

/// Options of `cargo xtask eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The run folder (written by `cargo xtask train`).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// Score this data set or .csv/.tsv file instead of the run's test split.
    #[arg(long, value_name = "NAME|PATH")]
    pub data: Option<String>,
    /// The text column of a CSV/TSV file [default: the run's].
    #[arg(long, value_name = "C")]
    pub text_column: Option<String>,
    /// The label column of a CSV/TSV file [default: the run's].
    #[arg(long, value_name = "C")]
    pub label_column: Option<String>,
}

/// Runs `cargo xtask eval`.
pub fn run(args: &EvalArgs) -> Result<(), RunError> {
    let config_path = args.run.join(CONFIG_FILE);
    // Without a config.json the classify loader reports the missing run.
    let task = if config_path.is_file() {
        read_task(&config_path, None)?
    } else {
        TaskName::Classify
    };
    match task {
        TaskName::Classify => run_classify(args),
        TaskName::Tag => crate::run::tag::eval(args),
        TaskName::Forecast => crate::run::forecast::eval(args),
        TaskName::Seq2seq => crate::run::seq2seq::eval(args),
    }
}

/// `cargo xtask eval` of a classify run.
fn run_classify(args: &EvalArgs) -> Result<(), RunError> {
    let loaded = classify::load_run(&args.run)?;
    let (name, items) = match &args.data {
        None => {
            let split = data::read_split(&loaded.config.data)?;
            (
                format!("{} (test split)", loaded.config.data.source),
                loaded.lexicon.relabel(&split.test)?,
            )
        }
        Some(source) => {
            let config = DataConfig {
                source: source.clone(),
                text_column: args
                    .text_column
                    .clone()
                    .unwrap_or_else(|| loaded.config.data.text_column.clone()),
                label_column: args
                    .label_column
                    .clone()
                    .unwrap_or_else(|| loaded.config.data.label_column.clone()),
                ..loaded.config.data.clone()
            };
            let all = data::read_all(&config)?;
            (source.clone(), loaded.lexicon.relabel(&all)?)
        }
    };
    if items.is_empty() {
        return Err(RunError::Data(format!("{name}: no examples to score")));
    }
    let evaluation = classify::evaluate(&loaded.model, &loaded.lexicon, &items, &loaded.device)?;
    let report = &evaluation.report;
    println!("{name}: {} examples", evaluation.examples);
    println!("accuracy  {:.2} %", report.accuracy * 100.0);
    println!("macro-F1  {:.2} %", report.macro_avg.f_score * 100.0);
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>8}",
        "class", "precision", "recall", "F1", "support"
    );
    for (class, scores) in &evaluation.per_class {
        let label = loaded.lexicon.labels.name(*class).unwrap_or("?");
        println!(
            "{label:<16} {:>9.2} {:>9.2} {:>9.2} {:>8}",
            scores.precision * 100.0,
            scores.recall * 100.0,
            scores.f_score * 100.0,
            scores.support
        );
    }
    Ok(())
}
