//! Reading a seq2seq run's pairs: cmudict with the baseline's word split, the bible verses, or
//! a user's TSV/CSV file split at random; tokenisers and the training-length filter.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use seqmodel_data::bundled::DataDir;
use seqmodel_data::{
    CharTokenizer, Normalizer, Seq2SeqDataset, SplitRatios, SymbolTokenizer, Table, TableFormat,
    TextPair, Tokenizer, WordTokenizer,
};

use super::config::{BUNDLED, Seq2SeqDataConfig, Seq2SeqSplit, TokenKind};
use crate::run::error::RunError;

/// The baseline's word split of cmudict, beside the dictionary.
pub const SPLIT_FILE: &str = "split-seed0.tsv";

/// One input with every acceptable output (cmudict lists several pronunciations of some
/// words); the first is the primary one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The source text.
    pub source: String,
    /// The references, primary first (never empty).
    pub references: Vec<String>,
}

/// The three splits of a run.
#[derive(Debug, Clone)]
pub struct Seq2SeqData {
    /// Training pairs (every reference of a training example is a pair).
    pub train: Vec<TextPair>,
    /// Validation pairs (the primary reference; they pick the best epoch).
    pub valid: Vec<TextPair>,
    /// Test examples (the report).
    pub test: Vec<Example>,
}

/// The tokeniser of `kind`, lower-casing first when `lowercase`.
pub fn tokenizer(kind: TokenKind, lowercase: bool) -> Arc<dyn Tokenizer> {
    let normalizer = if lowercase {
        Normalizer::default().lowercase()
    } else {
        Normalizer::default()
    };
    match kind {
        TokenKind::Chars => Arc::new(CharTokenizer::new(normalizer)),
        TokenKind::Words => Arc::new(WordTokenizer::new(normalizer)),
        // Phoneme symbols are taken exactly as written.
        TokenKind::Symbols if !lowercase => Arc::new(SymbolTokenizer),
        TokenKind::Symbols => Arc::new(seqmodel_data::WhitespaceTokenizer::new(normalizer)),
    }
}

/// Every example of `source` with one reference per pair, in file order: a bundled name or a
/// TSV/CSV file (`.csv` is comma-separated, anything else tab-separated) with a header row.
///
/// # Errors
/// An unknown name or missing file, a missing column, an empty cell (naming file and line).
pub fn read_pairs(config: &Seq2SeqDataConfig) -> Result<Vec<TextPair>, RunError> {
    let dir = || DataDir::locate();
    match config.source.as_str() {
        "cmudict" => Ok(dir()?.cmudict_pairs()?.pairs().to_vec()),
        "bible-en-es" => Ok(dir()?.bible_en_es()?.pairs().to_vec()),
        path => {
            let path = Path::new(path);
            if !path.is_file() {
                return Err(RunError::Data(format!(
                    "--data {}: not a bundled data set ({}) nor an existing file (a .tsv or \
                     .csv file with a header row and the columns `{}` and `{}`)",
                    path.display(),
                    BUNDLED.join(", "),
                    config.source_column,
                    config.target_column
                )));
            }
            let csv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let format = if csv {
                TableFormat::csv()
            } else {
                TableFormat::tsv()
            };
            let table = Table::read(path, format)?;
            Ok(
                Seq2SeqDataset::from_table(&table, &config.source_column, &config.target_column)?
                    .pairs()
                    .to_vec(),
            )
        }
    }
}

/// Pairs grouped by source (first appearance order), their targets the references.
pub fn group_pairs(pairs: Vec<TextPair>) -> Vec<Example> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut examples: Vec<Example> = Vec::new();
    for pair in pairs {
        match index.get(&pair.source) {
            Some(&i) => examples[i].references.push(pair.target),
            None => {
                index.insert(pair.source.clone(), examples.len());
                examples.push(Example {
                    source: pair.source,
                    references: vec![pair.target],
                });
            }
        }
    }
    examples
}

/// Reads and splits the pairs of `config`. Examples are split as wholes (all references of a
/// source on the same side), so a test word never appears in training.
///
/// # Errors
/// As [`read_pairs`]; a missing or malformed split file; a split that leaves the training or
/// validation part empty.
pub fn read_split(config: &Seq2SeqDataConfig) -> Result<Seq2SeqData, RunError> {
    let examples = group_pairs(read_pairs(config)?);
    let (train, valid, test) = match &config.split {
        Seq2SeqSplit::Baseline => {
            let path = DataDir::locate()?.path().join("cmudict").join(SPLIT_FILE);
            baseline_split(&path, examples)?
        }
        Seq2SeqSplit::Random {
            train,
            valid,
            test,
            seed,
        } => {
            let ratios = SplitRatios::new(*train, *valid, *test)?;
            let split = seqmodel_data::Split::random(examples.len(), ratios, *seed);
            let [train, valid, test] = split.select(&examples);
            (train, valid, test)
        }
    };
    for (name, part) in [("training", &train), ("validation", &valid)] {
        if part.is_empty() {
            return Err(RunError::Data(format!(
                "{}: the {name} split is empty; give more pairs or change data.split",
                config.source
            )));
        }
    }
    Ok(Seq2SeqData {
        train: train
            .iter()
            .flat_map(|e| {
                e.references.iter().map(|r| TextPair {
                    source: e.source.clone(),
                    target: r.clone(),
                })
            })
            .collect(),
        valid: valid
            .iter()
            .map(|e| TextPair {
                source: e.source.clone(),
                target: e.references[0].clone(),
            })
            .collect(),
        test,
    })
}

type Parts = (Vec<Example>, Vec<Example>, Vec<Example>);

/// The baseline's train, valid and test words, in its order, from a split file of
/// `train|valid|test <TAB> word` rows.
fn baseline_split(path: &Path, examples: Vec<Example>) -> Result<Parts, RunError> {
    let text = std::fs::read_to_string(path).map_err(|error| RunError::io(path, error))?;
    let mut by_word: HashMap<String, Example> = examples
        .into_iter()
        .map(|e| (e.source.clone(), e))
        .collect();
    let (mut train, mut valid, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let row = line
            .split_once('\t')
            .and_then(|(part, word)| Some((part, by_word.remove(word)?)));
        match row {
            Some(("train", e)) => train.push(e),
            Some(("valid", e)) => valid.push(e),
            Some(("test", e)) => test.push(e),
            _ => {
                return Err(RunError::Data(format!(
                    "{}:{}: expected `train`, `valid` or `test`, a tab and a dictionary word \
                     listed once, found \"{line}\" (regenerate it with \
                     data/scripts/cmudict_split.py)",
                    path.display(),
                    n + 1
                )));
            }
        }
    }
    Ok((train, valid, test))
}

/// Training pairs with at most `max_tokens` tokens on each side and at least one source token;
/// returns them and how many were left out.
pub fn filter_training(
    pairs: Vec<TextPair>,
    source: &dyn Tokenizer,
    target: &dyn Tokenizer,
    max_tokens: usize,
) -> (Vec<TextPair>, usize) {
    let before = pairs.len();
    let kept: Vec<TextPair> = pairs
        .into_iter()
        .filter(|p| {
            let s = source.tokenize(&p.source).len();
            (1..=max_tokens).contains(&s) && target.tokenize(&p.target).len() <= max_tokens
        })
        .collect();
    let skipped = before - kept.len();
    (kept, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_keeps_every_reference_in_order() {
        let pair = |s: &str, t: &str| TextPair {
            source: s.into(),
            target: t.into(),
        };
        let examples = group_pairs(vec![
            pair("read", "R IY1 D"),
            pair("a", "AH0"),
            pair("read", "R EH1 D"),
        ]);
        assert_eq!(examples.len(), 2);
        assert_eq!(examples[0].references, ["R IY1 D", "R EH1 D"]);
    }

    #[test]
    fn long_and_empty_training_pairs_are_left_out_and_counted() {
        let pair = |s: &str, t: &str| TextPair {
            source: s.into(),
            target: t.into(),
        };
        let chars = tokenizer(TokenKind::Chars, false);
        let symbols = tokenizer(TokenKind::Symbols, false);
        let (kept, skipped) = filter_training(
            vec![
                pair("abc", "A B"),
                pair("abcdef", "A"),
                pair(" ", "A"),
                pair("ab", "A B C D"),
            ],
            chars.as_ref(),
            symbols.as_ref(),
            3,
        );
        assert_eq!(kept, vec![pair("abc", "A B")]);
        assert_eq!(skipped, 3);
    }

    #[test]
    fn a_malformed_split_row_names_file_and_line() {
        let dir = std::env::temp_dir().join(format!("seqmodel-s2s-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("split.tsv");
        std::fs::write(&path, "# header\ntrain\tcat\nvalid dog\n").expect("write");
        let examples = vec![
            Example {
                source: "cat".into(),
                references: vec!["K AE1 T".into()],
            },
            Example {
                source: "dog".into(),
                references: vec!["D AO1 G".into()],
            },
        ];
        let error = baseline_split(&path, examples).expect_err("malformed");
        assert!(error.to_string().contains("split.tsv:3:"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
