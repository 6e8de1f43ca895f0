//! `seq-score sacrebleu`: sacrebleu's own command line (`REF... -i HYP -m bleu chrf ter` and
//! its metric options), for users who come from it. Each metric runs as its own subcommand
//! would; text lines are aligned on ` = ` as sacrebleu aligns them.

use clap::{Args, ValueEnum};

use seqmodel_metrics::{Error, Result};

use crate::commands::{self, BleuArgs, ChrfArgs, Format, TerArgs, TextInput};

/// A metric of `-m/--metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Metric {
    /// BLEU.
    Bleu,
    /// chrF / chrF++.
    Chrf,
    /// TER.
    Ter,
}

/// `seq-score sacrebleu`.
#[derive(Debug, Args)]
pub struct SacrebleuArgs {
    /// Reference files (one segment per line).
    #[arg(required = true)]
    refs: Vec<String>,
    /// Hypothesis file (standard input when omitted or `-`).
    #[arg(short = 'i', long = "input", default_value = "-")]
    input: String,
    /// Metrics to compute (sacrebleu prints them in the order BLEU, chrF, TER).
    #[arg(short = 'm', long, value_enum, num_args = 1.., default_values_t = [Metric::Bleu])]
    metrics: Vec<Metric>,
    /// BLEU tokeniser: 13a, intl, zh, char or none (-tok).
    #[arg(long, default_value = "13a")]
    tokenize: String,
    /// BLEU smoothing: exp, floor, add-k or none.
    #[arg(short = 's', long, default_value = "exp")]
    smooth_method: String,
    /// BLEU smoothing value (-sv).
    #[arg(long)]
    smooth_value: Option<f64>,
    /// Lower-case for BLEU (-lc).
    #[arg(long)]
    lowercase: bool,
    /// chrF character n-gram order (-cc).
    #[arg(long, default_value_t = 6)]
    chrf_char_order: usize,
    /// chrF word n-gram order (-cw).
    #[arg(long, default_value_t = 0)]
    chrf_word_order: usize,
    /// chrF β.
    #[arg(long, default_value_t = 2)]
    chrf_beta: u32,
    /// chrF: keep whitespace.
    #[arg(long)]
    chrf_whitespace: bool,
    /// chrF: lower-case.
    #[arg(long)]
    chrf_lowercase: bool,
    /// chrF: epsilon smoothing.
    #[arg(long)]
    chrf_eps_smoothing: bool,
    /// TER: keep case.
    #[arg(long)]
    ter_case_sensitive: bool,
    /// TER: CJK treatment.
    #[arg(long)]
    ter_asian_support: bool,
    /// TER: remove punctuation.
    #[arg(long)]
    ter_no_punct: bool,
    /// TER: Tercom normalisation.
    #[arg(long)]
    ter_normalized: bool,
    /// Score every segment separately (one metric only) (-sl).
    #[arg(long)]
    sentence_level: bool,
    /// Print only the scores.
    #[arg(short = 'b', long)]
    score_only: bool,
    /// Decimals in the text output.
    #[arg(short = 'w', long, default_value_t = 1)]
    width: usize,
    /// Output format: text (default here; sacrebleu's default is json) or json.
    #[arg(short = 'f', long, value_enum, default_value = "text")]
    format: Format,
}

/// Aligns text lines on their first `=` as sacrebleu's `print_single_results` does: the part
/// before ` =` is right-aligned to the widest; lines without `=` (scores only) stay as they are
/// and come first.
fn align(lines: &[String]) -> String {
    let mut out = String::new();
    let mut split: Vec<(&str, &str)> = Vec::new();
    for l in lines {
        match l.find('=') {
            Some(i) if i > 0 => split.push(l.split_at(i - 1)),
            _ => {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    let width = split
        .iter()
        .map(|(left, _)| left.chars().count())
        .max()
        .unwrap_or(0);
    for (left, right) in split {
        out.push_str(&format!("{left:>width$}{right}\n"));
    }
    out
}

/// Runs every requested metric and joins their outputs as sacrebleu does.
pub fn run(a: SacrebleuArgs) -> Result<String> {
    let mut metrics = a.metrics.clone();
    metrics.sort();
    metrics.dedup();
    if a.sentence_level && metrics.len() > 1 {
        return Err(Error::InvalidConfig(
            "only one metric can be used with --sentence-level (as in sacrebleu)".into(),
        ));
    }
    let input = TextInput {
        refs: a.refs.clone(),
        files: Vec::new(),
        input: Some(a.input.clone()),
        json: false,
        format: Some(a.format),
    };
    let mut outputs = Vec::with_capacity(metrics.len());
    for m in &metrics {
        let out = match m {
            Metric::Bleu => commands::bleu(BleuArgs {
                input: input.clone(),
                tokenize: a.tokenize.clone(),
                smooth_method: a.smooth_method.clone(),
                smooth_value: a.smooth_value,
                lowercase: a.lowercase,
                effective_order: false,
                sentence_level: a.sentence_level,
                width: a.width,
                score_only: a.score_only,
            })?,
            Metric::Chrf => commands::chrf(ChrfArgs {
                input: input.clone(),
                char_order: a.chrf_char_order,
                word_order: a.chrf_word_order,
                beta: a.chrf_beta,
                lowercase: a.chrf_lowercase,
                whitespace: a.chrf_whitespace,
                eps_smoothing: a.chrf_eps_smoothing,
                sentence_level: a.sentence_level,
                width: a.width,
                score_only: a.score_only,
            })?,
            Metric::Ter => commands::ter(TerArgs {
                input: input.clone(),
                case_sensitive: a.ter_case_sensitive,
                normalized: a.ter_normalized,
                no_punct: a.ter_no_punct,
                asian_support: a.ter_asian_support,
                sentence_level: a.sentence_level,
                width: a.width,
                score_only: a.score_only,
            })?,
        };
        outputs.push(out.trim_end_matches('\n').to_string());
    }
    if a.sentence_level {
        return Ok(format!("{}\n", outputs.concat()));
    }
    if a.format == Format::Json {
        return Ok(if outputs.len() == 1 {
            format!("{}\n", outputs[0])
        } else {
            format!("[\n{}\n]\n", outputs.join(",\n"))
        });
    }
    Ok(align(&outputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sacrebleu 2.6.0 `-m bleu chrf ter -f text` on two short files.
    #[test]
    fn aligns_like_sacrebleu() {
        let lines = [
            "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 46.96 87.5"
                .to_string(),
            "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0 = 79.30".to_string(),
            "TER|nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0 = 25.00"
                .to_string(),
        ];
        assert_eq!(
            align(&lines),
            "        BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 46.96 87.5\n      \
             chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0 = 79.30\n\
             TER|nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0 = 25.00\n"
        );
        assert_eq!(align(&["47.0".into(), "25.0".into()]), "47.0\n25.0\n");
    }
}
