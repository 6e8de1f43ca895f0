//! Reading a tag run's sentences: the bundled EWT files with the baseline's split, or a user's
//! CoNLL-U / two-column IOB2 file split at random.

use std::path::{Path, PathBuf};

use seqmodel_data::bundled::{DataDir, EwtSplit};
use seqmodel_data::{
    ColumnFormat, ConlluColumn, SplitRatios, TaggedSentence, TaggingDataset, read_columns,
    read_conllu,
};

use super::config::{BUNDLED, TagDataConfig, TagFormat, TagSplit};
use crate::run::error::RunError;

/// The baseline's split of a bundled dev file, beside it.
pub const SPLIT_FILE: &str = "split-seed0.tsv";

/// The three splits of a run.
#[derive(Debug, Clone)]
pub struct TagData {
    /// Training sentences.
    pub train: Vec<TaggedSentence>,
    /// Validation sentences (pick the best epoch).
    pub valid: Vec<TaggedSentence>,
    /// Test sentences (the report).
    pub test: Vec<TaggedSentence>,
    /// The format, so whether entity scores apply.
    pub format: TagFormat,
}

/// Reads every sentence of `source`: a bundled name (its test file) or a file.
///
/// # Errors
/// An unknown name or missing file, or a file that does not parse (the message names the file,
/// line and what was expected, e.g. an invalid IOB2 transition).
pub fn read_all(source: &str) -> Result<Vec<TaggedSentence>, RunError> {
    match source {
        "ud-ewt" => Ok(bundled(source, EwtSplit::Test)?.sentences().to_vec()),
        "uner-ewt" => Ok(bundled(source, EwtSplit::Test)?.sentences().to_vec()),
        path => read_file(Path::new(path)),
    }
}

fn bundled(source: &str, split: EwtSplit) -> Result<TaggingDataset, RunError> {
    let dir = DataDir::locate()?;
    Ok(match source {
        "ud-ewt" => dir.ud_ewt(split, ConlluColumn::Upos)?,
        _ => dir.uner_ewt(split)?,
    })
}

fn read_file(path: &Path) -> Result<Vec<TaggedSentence>, RunError> {
    if !path.is_file() {
        return Err(RunError::Data(format!(
            "--data {}: not a bundled data set ({}) nor an existing file (a .conllu file, or \
             two-column IOB2: token, whitespace, tag, a blank line between sentences)",
            path.display(),
            BUNDLED.join(", ")
        )));
    }
    Ok(match TagFormat::of(&path.to_string_lossy()) {
        TagFormat::Upos => read_conllu(path, ConlluColumn::Upos)?,
        TagFormat::Iob2 => read_columns(path, ColumnFormat::two_column_iob2())?,
    })
}

/// Reads and splits the sentences of `config`.
///
/// # Errors
/// As [`read_all`]; a missing or malformed split file; a split that leaves the training or
/// validation part empty.
pub fn read_split(config: &TagDataConfig) -> Result<TagData, RunError> {
    let format = TagFormat::of(&config.source);
    let (train, valid, test) = match &config.split {
        TagSplit::Baseline => {
            let dev = bundled(&config.source, EwtSplit::Dev)?;
            let test = bundled(&config.source, EwtSplit::Test)?;
            let dir = DataDir::locate()?;
            let split_path = dir.path().join(&config.source).join(SPLIT_FILE);
            let (train, valid) = baseline_split(&split_path, dev.sentences())?;
            (train, valid, test.sentences().to_vec())
        }
        TagSplit::Random {
            train,
            valid,
            test,
            seed,
        } => {
            let ratios = SplitRatios::new(*train, *valid, *test)?;
            let all = TaggingDataset::new(read_all(&config.source)?);
            let [train, valid, test] = all.split(ratios, *seed);
            (
                train.sentences().to_vec(),
                valid.sentences().to_vec(),
                test.sentences().to_vec(),
            )
        }
    };
    for (name, part) in [("training", &train), ("validation", &valid)] {
        if part.is_empty() {
            return Err(RunError::Data(format!(
                "{}: the {name} split is empty; give more sentences or change data.split",
                config.source
            )));
        }
    }
    Ok(TagData {
        train,
        valid,
        test,
        format,
    })
}

/// The baseline's train and valid sentences of `dev`, in the baseline's order, from a split
/// file of `valid|train <TAB> index` rows.
fn baseline_split(
    path: &PathBuf,
    dev: &[TaggedSentence],
) -> Result<(Vec<TaggedSentence>, Vec<TaggedSentence>), RunError> {
    let text = std::fs::read_to_string(path).map_err(|error| RunError::io(path, error))?;
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let row = line.split_once('\t').and_then(|(part, index)| {
            let index: usize = index.trim().parse().ok()?;
            Some((part, dev.get(index)?))
        });
        match row {
            Some(("train", sentence)) => train.push(sentence.clone()),
            Some(("valid", sentence)) => valid.push(sentence.clone()),
            _ => {
                return Err(RunError::Data(format!(
                    "{}:{}: expected `train` or `valid`, a tab and a sentence index below {}, \
                     found \"{line}\" (regenerate it with data/scripts/ewt_split.py)",
                    path.display(),
                    n + 1,
                    dev.len()
                )));
            }
        }
    }
    Ok((train, valid))
}
