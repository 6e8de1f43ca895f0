//! The subcommands of `seq-score`; each returns the text to print.

use std::fmt::Write as _;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use seqmodel_metrics::{
    Accumulator, Average, BleuAccumulator, BleuConfig, BleuTokenizer, ChrfAccumulator, ChrfConfig,
    ChunkMode, ClassScores, ClassificationAccumulator, EntityAccumulator, Error, PrfConfig, Result,
    RougeAccumulator, RougeScorer, RougeScores, RougeType, Scheme, SmoothMethod, TerAccumulator,
    TerConfig, ZeroDivision, is_py_space, sentence_bleu, sentence_chrf, sentence_ter,
};

use crate::input::{Lines, check_line_counts, conll_sentences, items, numbers, read_non_empty};

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Corpus (or sentence-level) BLEU, as sacrebleu 2.6.0.
    Bleu(BleuArgs),
    /// chrF / chrF++, as sacrebleu 2.6.0.
    Chrf(ChrfArgs),
    /// TER (translation edit rate), as sacrebleu 2.6.0.
    Ter(TerArgs),
    /// sacrebleu's own command line: `REF... -i HYP -m bleu chrf ter`, one line per metric.
    Sacrebleu(crate::sacrebleu::SacrebleuArgs),
    /// ROUGE-1/2/L/Lsum, as rouge-score 0.1.2 (mean over lines).
    Rouge(RougeArgs),
    /// Accuracy, per-class and averaged precision/recall/F1 and the confusion matrix.
    Classify(ClassifyArgs),
    /// Entity-level precision/recall/F1 of CoNLL tag files, as seqeval 1.2.2.
    Ner(NerArgs),
    /// MAE, MSE, RMSE, MAPE and SMAPE.
    Regression(PairArgs),
}

/// Output format (sacrebleu's `-f/--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// sacrebleu's text line (the default).
    Text,
    /// Machine-readable JSON with full precision (same as `--json`).
    Json,
}

/// Input files of the translation metrics, in seq-score's layout (`-r REF HYP`) or in
/// sacrebleu's (`REF... -i HYP`).
#[derive(Debug, Clone, Args)]
pub struct TextInput {
    /// Reference file (one segment per line); repeat for several references.
    #[arg(short = 'r', long = "ref")]
    pub refs: Vec<String>,
    /// The hypothesis file (standard input when omitted or `-`); with `-i`, reference files
    /// as in sacrebleu (`seq-score bleu REF... -i HYP`).
    pub files: Vec<String>,
    /// Hypothesis file, sacrebleu's spelling (`-i HYP`); positional files are then references.
    #[arg(short = 'i', long = "input")]
    pub input: Option<String>,
    /// Print machine-readable JSON with full precision.
    #[arg(long)]
    pub json: bool,
    /// Output format: text (default) or json (sacrebleu's `-f`).
    #[arg(short = 'f', long, value_enum)]
    pub format: Option<Format>,
}

impl TextInput {
    /// `(hypothesis file, reference files)`: `-i` names the hypothesis and positional files
    /// are references (sacrebleu), or the one positional file is the hypothesis (default `-`).
    fn resolve(&self) -> Result<(String, Vec<String>)> {
        let (hyp, refs) = match &self.input {
            Some(hyp) => {
                let mut refs = self.refs.clone();
                refs.extend(self.files.iter().cloned());
                (hyp.clone(), refs)
            }
            None => match self.files.as_slice() {
                [] => ("-".to_string(), self.refs.clone()),
                [hyp] => (hyp.clone(), self.refs.clone()),
                more => {
                    return Err(Error::InvalidConfig(format!(
                        "{} positional files but no -i: give references with -r and one \
                         hypothesis file, or references followed by -i HYP as in sacrebleu",
                        more.len()
                    )));
                }
            },
        };
        if refs.is_empty() {
            return Err(Error::InvalidConfig(
                "no reference file: give one with -r REF (or REF... -i HYP)".into(),
            ));
        }
        Ok((hyp, refs))
    }

    /// Whether JSON output was asked for (`--json` or `-f json`).
    fn json(&self) -> bool {
        self.json || self.format == Some(Format::Json)
    }
}

/// `seq-score bleu`.
#[derive(Debug, Args)]
pub struct BleuArgs {
    #[command(flatten)]
    pub input: TextInput,
    /// Tokeniser: 13a, intl, zh, char or none (sacrebleu: -tok).
    #[arg(short = 't', long, default_value = "13a")]
    pub tokenize: String,
    /// Smoothing: exp, floor, add-k or none.
    #[arg(short = 's', long, default_value = "exp")]
    pub smooth_method: String,
    /// Smoothing value for floor (default 0.1) and add-k (default 1) (sacrebleu: -sv).
    #[arg(long)]
    pub smooth_value: Option<f64>,
    /// Lower-case the data (sacrebleu: -lc).
    #[arg(short = 'l', long)]
    pub lowercase: bool,
    /// Use effective order (always on with --sentence-level).
    #[arg(long)]
    pub effective_order: bool,
    /// Score every segment separately (sacrebleu: -sl).
    #[arg(long)]
    pub sentence_level: bool,
    /// Decimals in the text output.
    #[arg(short = 'w', long, default_value_t = 1)]
    pub width: usize,
    /// Print only the score (text output).
    #[arg(short = 'b', long)]
    pub score_only: bool,
}

/// `seq-score chrf`.
#[derive(Debug, Args)]
pub struct ChrfArgs {
    #[command(flatten)]
    pub input: TextInput,
    /// Character n-gram order (sacrebleu: --chrf-char-order, -cc).
    #[arg(long, alias = "chrf-char-order", default_value_t = 6)]
    pub char_order: usize,
    /// Word n-gram order, 2 = chrF++ (sacrebleu: --chrf-word-order, -cw).
    #[arg(long, alias = "chrf-word-order", default_value_t = 0)]
    pub word_order: usize,
    /// β of the F-score (sacrebleu: --chrf-beta).
    #[arg(long, alias = "chrf-beta", default_value_t = 2)]
    pub beta: u32,
    /// Lower-case the data (sacrebleu: --chrf-lowercase).
    #[arg(short = 'l', long, alias = "chrf-lowercase")]
    pub lowercase: bool,
    /// Keep whitespace in character n-grams (sacrebleu: --chrf-whitespace).
    #[arg(long, alias = "chrf-whitespace")]
    pub whitespace: bool,
    /// chrF++.py-style epsilon smoothing (sacrebleu: --chrf-eps-smoothing).
    #[arg(long, alias = "chrf-eps-smoothing")]
    pub eps_smoothing: bool,
    /// Score every segment separately (sacrebleu: -sl).
    #[arg(long)]
    pub sentence_level: bool,
    /// Decimals in the text output.
    #[arg(short = 'w', long, default_value_t = 1)]
    pub width: usize,
    /// Print only the score (text output).
    #[arg(short = 'b', long)]
    pub score_only: bool,
}

/// `seq-score ter`.
#[derive(Debug, Args)]
pub struct TerArgs {
    #[command(flatten)]
    pub input: TextInput,
    /// Keep case; TER lower-cases by default (sacrebleu: --ter-case-sensitive).
    #[arg(long, alias = "ter-case-sensitive")]
    pub case_sensitive: bool,
    /// Tercom's normalisation and punctuation tokenisation (sacrebleu: --ter-normalized).
    #[arg(long, alias = "ter-normalized")]
    pub normalized: bool,
    /// Remove punctuation (sacrebleu: --ter-no-punct).
    #[arg(long, alias = "ter-no-punct")]
    pub no_punct: bool,
    /// CJK treatment with --normalized / --no-punct (sacrebleu: --ter-asian-support).
    #[arg(long, alias = "ter-asian-support")]
    pub asian_support: bool,
    /// Score every segment separately (sacrebleu: -sl).
    #[arg(long)]
    pub sentence_level: bool,
    /// Decimals in the text output.
    #[arg(short = 'w', long, default_value_t = 1)]
    pub width: usize,
    /// Print only the score (text output).
    #[arg(short = 'b', long)]
    pub score_only: bool,
}

/// `seq-score rouge`.
#[derive(Debug, Args)]
pub struct RougeArgs {
    #[command(flatten)]
    pub input: TextInput,
    /// Comma-separated ROUGE types.
    #[arg(
        long,
        default_value = "rouge1,rouge2,rougeL,rougeLsum",
        value_delimiter = ','
    )]
    types: Vec<String>,
    /// Use the Porter stemmer.
    #[arg(long)]
    stem: bool,
    /// A marker that stands for a sentence break inside a line (e.g. `<n>`), for ROUGE-Lsum.
    #[arg(long)]
    sentence_marker: Option<String>,
}

/// Gold and predicted files.
#[derive(Debug, Args)]
pub struct PairArgs {
    /// Gold file.
    #[arg(long)]
    gold: String,
    /// Prediction file.
    #[arg(long)]
    pred: String,
    /// Print machine-readable JSON.
    #[arg(long)]
    json: bool,
}

/// How `classify` averages.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AverageArg {
    /// All of micro, macro and weighted (the full report).
    All,
    /// Only the positive class (needs --pos-label).
    Binary,
    /// Micro average.
    Micro,
    /// Macro average.
    Macro,
    /// Weighted average.
    Weighted,
}

/// `seq-score classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    files: PairArgs,
    /// Averaging.
    #[arg(long, value_enum, default_value = "all")]
    average: AverageArg,
    /// Positive label for --average binary.
    #[arg(long)]
    pos_label: Option<String>,
    /// Value of 0/0: 0, 1 or nan.
    #[arg(long, default_value = "0")]
    zero_division: String,
    /// Comma-separated labels to report, in this order (default: sorted union).
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
}

/// Chunking mode of `ner`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// seqeval's default (lenient, conlleval-like).
    Default,
    /// Only well-formed entities of --scheme.
    Strict,
}

/// `seq-score ner`.
#[derive(Debug, Args)]
pub struct NerArgs {
    #[command(flatten)]
    files: PairArgs,
    /// Chunking mode.
    #[arg(long, value_enum, default_value = "default")]
    mode: ModeArg,
    /// Scheme for --mode strict: IOB2, IOBES or BILOU.
    #[arg(long, default_value = "IOB2")]
    scheme: String,
}

/// Runs a subcommand and returns its output.
pub fn run(cmd: Command) -> Result<String> {
    match cmd {
        Command::Bleu(a) => bleu(a),
        Command::Chrf(a) => chrf(a),
        Command::Ter(a) => ter(a),
        Command::Sacrebleu(a) => crate::sacrebleu::run(a),
        Command::Rouge(a) => rouge(a),
        Command::Classify(a) => classify(a),
        Command::Ner(a) => ner(a),
        Command::Regression(a) => regression(a),
    }
}

/// Hypothesis and reference files, line counts checked.
fn read_text(input: &TextInput) -> Result<(Lines, Vec<Lines>)> {
    let (hyp, ref_paths) = input.resolve()?;
    let hyp = read_non_empty(&hyp)?;
    let mut refs: Vec<Lines> = Vec::new();
    for r in &ref_paths {
        let l = read_non_empty(r)?;
        check_line_counts(&hyp, &l)?;
        refs.push(l);
    }
    Ok((hyp, refs))
}

/// Lines right-stripped as sacrebleu's CLI does.
fn stripped(l: &Lines) -> Vec<&str> {
    l.iter().map(|s| s.trim_end_matches(is_py_space)).collect()
}

/// The references of each segment.
fn per_segment(refs: &[Lines], n: usize) -> Vec<Vec<&str>> {
    (0..n)
        .map(|i| {
            refs.iter()
                .map(|f| f.get(i).trim_end_matches(is_py_space))
                .collect()
        })
        .collect()
}

pub fn bleu(a: BleuArgs) -> Result<String> {
    let config = BleuConfig::corpus()
        .with_tokenizer(a.tokenize.parse::<BleuTokenizer>()?)
        .with_smoothing(a.smooth_method.parse::<SmoothMethod>()?, a.smooth_value)
        .with_lowercase(a.lowercase)
        .with_effective_order(a.effective_order || a.sentence_level);
    config.validate()?;
    let (hyp_file, ref_files) = read_text(&a.input)?;
    let hyps = stripped(&hyp_file);
    let mut out = String::new();
    if a.sentence_level {
        let refs = per_segment(&ref_files, hyps.len());
        for (h, r) in hyps.iter().zip(&refs) {
            let s = sentence_bleu(h, r, &config)?;
            let sig = config.signature(seqmodel_metrics::RefCount::Fixed(r.len()));
            if a.input.json() {
                let _ = writeln!(out, "{}", bleu_json(&s, &sig));
            } else if a.score_only {
                let _ = writeln!(out, "{:.w$}", s.score, w = a.width);
            } else {
                let _ = writeln!(out, "{}", s.format(a.width, &sig));
            }
        }
        return Ok(out);
    }
    let mut acc = BleuAccumulator::new(config)?;
    if let [single] = ref_files.as_slice() {
        // One reference per segment: no per-segment allocation.
        let refs: Vec<[&str; 1]> = stripped(single).into_iter().map(|r| [r]).collect();
        acc.update(&hyps, &refs)?;
    } else {
        acc.update(&hyps, &per_segment(&ref_files, hyps.len()))?;
    }
    let s = acc.compute()?;
    let sig = acc.signature();
    if a.input.json() {
        let _ = writeln!(out, "{}", pretty(&bleu_json(&s, &sig)));
    } else if a.score_only {
        let _ = writeln!(out, "{:.w$}", s.score, w = a.width);
    } else {
        let _ = writeln!(out, "{}", s.format(a.width, &sig));
    }
    Ok(out)
}

fn bleu_json(s: &seqmodel_metrics::BleuScore, sig: &str) -> Value {
    json!({
        "name": "BLEU",
        "score": s.score,
        "signature": sig,
        "verbose_score": s.verbose(),
        "precisions": s.precisions,
        "counts": s.counts,
        "totals": s.totals,
        "bp": s.bp,
        "ratio": s.ratio(),
        "sys_len": s.sys_len,
        "ref_len": s.ref_len,
    })
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

pub fn chrf(a: ChrfArgs) -> Result<String> {
    let config = ChrfConfig {
        char_order: a.char_order,
        word_order: a.word_order,
        beta: a.beta,
        lowercase: a.lowercase,
        whitespace: a.whitespace,
        eps_smoothing: a.eps_smoothing,
    };
    config.validate()?;
    let (hyp_file, ref_files) = read_text(&a.input)?;
    let hyps = stripped(&hyp_file);
    let refs = per_segment(&ref_files, hyps.len());
    let mut out = String::new();
    let emit = |out: &mut String, s: &seqmodel_metrics::ChrfScore, sig: &str| {
        if a.input.json() {
            let v = json!({"name": s.name, "score": s.score, "signature": sig, "stats": s.stats});
            let _ = writeln!(
                out,
                "{}",
                if a.sentence_level {
                    v.to_string()
                } else {
                    pretty(&v)
                }
            );
        } else if a.score_only {
            let _ = writeln!(out, "{:.w$}", s.score, w = a.width);
        } else {
            let _ = writeln!(out, "{}", s.format(a.width, sig));
        }
    };
    if a.sentence_level {
        for (h, r) in hyps.iter().zip(&refs) {
            let s = sentence_chrf(h, r, &config)?;
            emit(
                &mut out,
                &s,
                &config.signature(seqmodel_metrics::RefCount::Fixed(r.len())),
            );
        }
        return Ok(out);
    }
    let mut acc = ChrfAccumulator::new(config)?;
    acc.update(&hyps, &refs)?;
    let s = acc.compute()?;
    emit(&mut out, &s, &acc.signature());
    Ok(out)
}

pub fn ter(a: TerArgs) -> Result<String> {
    let config = TerConfig {
        normalized: a.normalized,
        no_punct: a.no_punct,
        asian_support: a.asian_support,
        case_sensitive: a.case_sensitive,
    };
    let (hyp_file, ref_files) = read_text(&a.input)?;
    let hyps = stripped(&hyp_file);
    let refs = per_segment(&ref_files, hyps.len());
    let mut out = String::new();
    let emit = |out: &mut String, s: &seqmodel_metrics::TerScore, sig: &str| {
        if a.input.json() {
            let v = json!({"name": "TER", "score": s.score, "signature": sig,
                "num_edits": s.num_edits, "ref_length": s.ref_length});
            let text = if a.sentence_level {
                v.to_string()
            } else {
                pretty(&v)
            };
            let _ = writeln!(out, "{text}");
        } else if a.score_only {
            let _ = writeln!(out, "{:.w$}", s.score, w = a.width);
        } else {
            let _ = writeln!(out, "{}", s.format(a.width, sig));
        }
    };
    if a.sentence_level {
        for (h, r) in hyps.iter().zip(&refs) {
            let s = sentence_ter(h, r, &config)?;
            let sig = config.signature(seqmodel_metrics::RefCount::Fixed(r.len()));
            emit(&mut out, &s, &sig);
        }
        return Ok(out);
    }
    let mut acc = TerAccumulator::new(config);
    acc.update(&hyps, &refs)?;
    let s = acc.compute()?;
    emit(&mut out, &s, &acc.signature());
    Ok(out)
}

fn rouge_json(s: &RougeScores) -> Value {
    let mut m = serde_json::Map::new();
    for (t, v) in &s.scores {
        m.insert(
            t.to_string(),
            json!({"precision": v.precision, "recall": v.recall, "fmeasure": v.fmeasure}),
        );
    }
    Value::Object(m)
}

fn rouge(a: RougeArgs) -> Result<String> {
    let types = a
        .types
        .iter()
        .map(|t| t.parse::<RougeType>())
        .collect::<Result<Vec<_>>>()?;
    let scorer = RougeScorer::new(types, a.stem)?;
    let (hyp, ref_paths) = a.input.resolve()?;
    let hyp = read_non_empty(&hyp)?;
    let mut ref_files = Vec::new();
    for r in &ref_paths {
        let l = read_non_empty(r)?;
        check_line_counts(&hyp, &l)?;
        ref_files.push(l);
    }
    let unmark = |s: &str| -> String {
        let s = s.trim_end_matches('\r');
        match &a.sentence_marker {
            Some(m) if !m.is_empty() => s.replace(m.as_str(), "\n"),
            _ => s.to_string(),
        }
    };
    let preds: Vec<String> = hyp.iter().map(unmark).collect();
    let targets: Vec<Vec<String>> = (0..preds.len())
        .map(|i| ref_files.iter().map(|f| unmark(f.get(i))).collect())
        .collect();
    let mut acc = RougeAccumulator::new(scorer);
    acc.update(&preds, &targets)?;
    let s = acc.compute()?;
    if a.input.json() {
        let v = json!({"examples": acc.examples(), "stemmer": a.stem, "mean": rouge_json(&s)});
        return Ok(format!("{}\n", pretty(&v)));
    }
    let mut out = format!(
        "{:<10} {:>9} {:>9} {:>9}   (mean of {} lines)\n",
        "",
        "precision",
        "recall",
        "fmeasure",
        acc.examples()
    );
    for (t, v) in &s.scores {
        let _ = writeln!(
            out,
            "{:<10} {:>9.4} {:>9.4} {:>9.4}",
            t.to_string(),
            v.precision,
            v.recall,
            v.fmeasure
        );
    }
    Ok(out)
}

fn scores_json(s: &ClassScores) -> Value {
    json!({"precision": s.precision, "recall": s.recall, "f1": s.f_score, "support": s.support})
}

fn table_row(out: &mut String, name: &str, s: &ClassScores) {
    let _ = writeln!(
        out,
        "{name:>14} {:>9.4} {:>9.4} {:>9.4} {:>9}",
        s.precision, s.recall, s.f_score, s.support
    );
}

fn table_header(out: &mut String) {
    let _ = writeln!(
        out,
        "{:>14} {:>9} {:>9} {:>9} {:>9}",
        "", "precision", "recall", "f1", "support"
    );
}

fn classify(a: ClassifyArgs) -> Result<String> {
    let zero_division = match a.zero_division.as_str() {
        "0" => ZeroDivision::Zero,
        "1" => ZeroDivision::One,
        "nan" => ZeroDivision::Nan,
        other => {
            return Err(Error::InvalidConfig(format!(
                "--zero-division {other:?}: expected 0, 1 or nan"
            )));
        }
    };
    let gold_lines = read_non_empty(&a.files.gold)?;
    let pred_lines = read_non_empty(&a.files.pred)?;
    check_line_counts(&gold_lines, &pred_lines)?;
    let (gold, pred) = (items(&gold_lines)?, items(&pred_lines)?);
    let mut acc = ClassificationAccumulator::new();
    acc.update(&gold, &pred)?;
    let config = PrfConfig {
        labels: a.labels.clone(),
        zero_division,
        beta: 1.0,
    };
    let average = match a.average {
        AverageArg::All => None,
        AverageArg::Binary => Some(Average::Binary {
            pos_label: a
                .pos_label
                .clone()
                .ok_or_else(|| Error::InvalidConfig("--average binary needs --pos-label".into()))?,
        }),
        AverageArg::Micro => Some(Average::Micro),
        AverageArg::Macro => Some(Average::Macro),
        AverageArg::Weighted => Some(Average::Weighted),
    };
    if let Some(avg) = average {
        let s = acc.precision_recall_fscore(&avg, &config)?;
        if a.files.json {
            return Ok(format!("{}\n", pretty(&scores_json(&s))));
        }
        return Ok(format!(
            "precision {:.4}\nrecall {:.4}\nf1 {:.4}\n",
            s.precision, s.recall, s.f_score
        ));
    }
    let r = acc.report(&config)?;
    let labels: Vec<String> = r.per_class.iter().map(|(l, _)| l.clone()).collect();
    let cm = acc.confusion_matrix(Some(&labels))?;
    if a.files.json {
        let per: serde_json::Map<String, Value> = r
            .per_class
            .iter()
            .map(|(l, s)| (l.clone(), scores_json(s)))
            .collect();
        let v = json!({
            "accuracy": r.accuracy,
            "per_class": per,
            "micro": scores_json(&r.micro),
            "macro": scores_json(&r.macro_avg),
            "weighted": scores_json(&r.weighted),
            "labels": labels,
            "confusion_matrix": cm,
        });
        return Ok(format!("{}\n", pretty(&v)));
    }
    let mut out = String::new();
    table_header(&mut out);
    for (l, s) in &r.per_class {
        table_row(&mut out, l, s);
    }
    out.push('\n');
    table_row(&mut out, "micro avg", &r.micro);
    table_row(&mut out, "macro avg", &r.macro_avg);
    table_row(&mut out, "weighted avg", &r.weighted);
    let _ = writeln!(
        out,
        "\n{:>14} {:>9.4}\n\nconfusion matrix (rows: gold, columns: predicted)",
        "accuracy", r.accuracy
    );
    let width = labels.iter().map(String::len).max().unwrap_or(1).max(6);
    let _ = write!(out, "{:>width$}", "");
    for l in &labels {
        let _ = write!(out, " {l:>width$}");
    }
    out.push('\n');
    for (l, row) in labels.iter().zip(&cm) {
        let _ = write!(out, "{l:>width$}");
        for c in row {
            let _ = write!(out, " {c:>width$}");
        }
        out.push('\n');
    }
    Ok(out)
}

fn ner(a: NerArgs) -> Result<String> {
    let mode = match a.mode {
        ModeArg::Default => ChunkMode::Default,
        ModeArg::Strict => ChunkMode::Strict(a.scheme.parse::<Scheme>()?),
    };
    let gold_lines = read_non_empty(&a.files.gold)?;
    let pred_lines = read_non_empty(&a.files.pred)?;
    let gold = conll_sentences(&gold_lines);
    let pred = conll_sentences(&pred_lines);
    if gold.is_empty() {
        return Err(Error::File {
            path: gold_lines.name,
            line: 0,
            message: "no tagged token: expected CoNLL lines".into(),
        });
    }
    for (i, (g, p)) in gold.iter().zip(&pred).enumerate() {
        if g.len() != p.len() {
            let line = p.first().map_or(0, |t| t.1);
            return Err(Error::File {
                path: pred_lines.name.clone(),
                line,
                message: format!(
                    "sentence {} has {} tokens here but {} in {}",
                    i + 1,
                    p.len(),
                    g.len(),
                    gold_lines.name
                ),
            });
        }
    }
    if gold.len() != pred.len() {
        return Err(Error::File {
            path: pred_lines.name.clone(),
            line: 0,
            message: format!(
                "{} sentences here but {} in {}",
                pred.len(),
                gold.len(),
                gold_lines.name
            ),
        });
    }
    let tags = |s: &[Vec<(String, usize)>]| -> Vec<Vec<String>> {
        s.iter()
            .map(|sent| sent.iter().map(|(t, _)| t.clone()).collect())
            .collect()
    };
    let mut acc = EntityAccumulator::new(mode);
    // Report a malformed tag with its file and line.
    for (sents, file) in [(&gold, &gold_lines), (&pred, &pred_lines)] {
        for (tag, line) in sents.iter().flatten() {
            seqmodel_metrics::validate_tag(tag, mode).map_err(|e| Error::File {
                path: file.name.clone(),
                line: *line,
                message: e.to_string(),
            })?;
        }
    }
    acc.update(&tags(&gold), &tags(&pred))?;
    let r = acc.compute()?;
    if a.files.json {
        let per: serde_json::Map<String, Value> = r
            .per_type
            .iter()
            .map(|(l, s)| (l.clone(), scores_json(s)))
            .collect();
        let v = json!({
            "per_type": per,
            "micro": scores_json(&r.micro),
            "macro": scores_json(&r.macro_avg),
            "weighted": scores_json(&r.weighted),
            "token_accuracy": r.token_accuracy,
        });
        return Ok(format!("{}\n", pretty(&v)));
    }
    let mut out = String::new();
    table_header(&mut out);
    for (l, s) in &r.per_type {
        table_row(&mut out, l, s);
    }
    out.push('\n');
    table_row(&mut out, "micro avg", &r.micro);
    table_row(&mut out, "macro avg", &r.macro_avg);
    table_row(&mut out, "weighted avg", &r.weighted);
    let _ = writeln!(out, "\n{:>14} {:>9.4}", "token accuracy", r.token_accuracy);
    Ok(out)
}

fn regression(a: PairArgs) -> Result<String> {
    let gold_lines = read_non_empty(&a.gold)?;
    let pred_lines = read_non_empty(&a.pred)?;
    check_line_counts(&gold_lines, &pred_lines)?;
    let r = seqmodel_metrics::regression_scores(&numbers(&gold_lines)?, &numbers(&pred_lines)?)?;
    if a.json {
        let v = json!({"mae": r.mae, "mse": r.mse, "rmse": r.rmse, "mape": r.mape, "smape": r.smape, "count": r.count});
        return Ok(format!("{}\n", pretty(&v)));
    }
    Ok(format!(
        "MAE   {:.6}\nMSE   {:.6}\nRMSE  {:.6}\nMAPE  {:.6}  (fraction)\nSMAPE {:.6}  (percent, 0..200)\nn     {}\n",
        r.mae, r.mse, r.rmse, r.mape, r.smape, r.count
    ))
}
