//! The examples of a classification run: a bundled data set or the user's CSV/TSV, split into
//! train, validation and test.

use std::path::{Path, PathBuf};

use seqmodel_data::bundled::DataDir;
use seqmodel_data::{Split, SplitRatios, TableFormat, TextClassItem, TextClassificationDataset};

use super::config::{BUNDLED, DataConfig, SplitConfig};
use super::error::RunError;

/// The baseline split of rt-polarity, beside its files.
pub const RT_POLARITY_SPLIT: &str = "split-seed0.tsv";

/// Train, validation and test examples with one label set.
#[derive(Debug, Clone)]
pub struct SplitData {
    /// Training examples.
    pub train: TextClassificationDataset,
    /// Validation examples (pick the best epoch).
    pub valid: TextClassificationDataset,
    /// Test examples (scored once, at the end).
    pub test: TextClassificationDataset,
}

/// Whether `source` names a bundled data set (rather than a file).
pub fn is_bundled(source: &str) -> bool {
    BUNDLED.contains(&source)
}

/// Reads every example of `config.source`, with its label set.
pub fn read_all(config: &DataConfig) -> Result<TextClassificationDataset, RunError> {
    if BUNDLED.contains(&config.source.as_str()) {
        let dir = DataDir::locate()?;
        return Ok(dir.rt_polarity()?);
    }
    let path = PathBuf::from(&config.source);
    if !path.is_file() {
        return Err(RunError::UnknownData {
            given: config.source.clone(),
            bundled: BUNDLED.join(", "),
        });
    }
    let format = table_format(&path)?;
    Ok(TextClassificationDataset::read_table(
        &path,
        format,
        &config.text_column,
        &config.label_column,
    )?)
}

/// CSV or TSV, by extension.
pub fn table_format(path: &Path) -> Result<TableFormat, RunError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(TableFormat::csv()),
        Some("tsv" | "tab") => Ok(TableFormat::tsv()),
        _ => Err(RunError::Data(format!(
            "{}: unknown file type (expected a .csv or .tsv file with a header row)",
            path.display()
        ))),
    }
}

/// Reads and splits the examples of `config`.
pub fn read_split(config: &DataConfig) -> Result<SplitData, RunError> {
    let all = read_all(config)?;
    if all.labels().len() < 2 {
        return Err(RunError::Data(format!(
            "{}: every example has the label \"{}\": a classifier needs at least 2 classes",
            config.source,
            all.labels().names().first().map_or("", String::as_str)
        )));
    }
    let [train, valid, test] = match &config.split {
        SplitConfig::Baseline => {
            let dir = DataDir::locate()?;
            let path = dir.path().join("rt-polarity").join(RT_POLARITY_SPLIT);
            let split = read_split_file(&path, &all)?;
            split.select(all.items()).map(|items| {
                TextClassificationDataset::new(items, all.labels().clone())
                    .expect("labels come from the same data set")
            })
        }
        SplitConfig::Stratified {
            train,
            valid,
            test,
            seed,
        } => {
            let ratios = SplitRatios::new(*train, *valid, *test)?;
            all.stratified_split(ratios, *seed)
        }
    };
    for (name, part) in [("train", &train), ("valid", &valid), ("test", &test)] {
        if part.items().is_empty() {
            return Err(RunError::Data(format!(
                "{}: {} examples leave the {name} split empty; add examples or change \
                 data.split",
                config.source,
                all.items().len()
            )));
        }
    }
    Ok(SplitData { train, valid, test })
}

/// Reads a split file of rows `split<TAB>label<TAB>line` (line: 1-based line of the label's
/// file; `#` comments): each example must be in exactly one split.
pub fn read_split_file(path: &Path, all: &TextClassificationDataset) -> Result<Split, RunError> {
    let text = std::fs::read_to_string(path).map_err(|error| RunError::io(path, error))?;
    let counts = all.class_counts();
    let mut offsets = Vec::with_capacity(counts.len());
    let mut total = 0;
    for count in &counts {
        offsets.push(total);
        total += count;
    }
    let mut seen = vec![false; total];
    let mut split = Split::default();
    for (number, row) in text.lines().enumerate() {
        let at = || format!("{}:{}", path.display(), number + 1);
        if row.starts_with('#') || row.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = row.split('\t').collect();
        let [part, label, line] = fields[..] else {
            return Err(RunError::Data(format!(
                "{}: expected `split<TAB>label<TAB>line`, found {} fields",
                at(),
                fields.len()
            )));
        };
        let class = all
            .labels()
            .id(label)
            .map_err(|error| RunError::Data(format!("{}: {error}", at())))?;
        let line: usize = line.parse().map_err(|_| {
            RunError::Data(format!(
                "{}: expected a line number, found \"{line}\"",
                at()
            ))
        })?;
        if line == 0 || line > counts[class] {
            return Err(RunError::Data(format!(
                "{}: line {line} of class {label} does not exist (it has {} examples): the split \
                 file does not belong to this data",
                at(),
                counts[class]
            )));
        }
        let index = offsets[class] + line - 1;
        if std::mem::replace(&mut seen[index], true) {
            return Err(RunError::Data(format!(
                "{}: {label} line {line} is listed twice",
                at()
            )));
        }
        match part {
            "train" => split.train.push(index),
            "valid" => split.valid.push(index),
            "test" => split.test.push(index),
            other => {
                return Err(RunError::Data(format!(
                    "{}: unknown split \"{other}\" (expected train, valid or test)",
                    at()
                )));
            }
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(RunError::Data(format!(
            "{}: example {missing} is in no split: the split file does not belong to this data",
            path.display()
        )));
    }
    Ok(split)
}

/// The examples of a text file for `predict`: one per non-blank line, labels unknown.
pub fn lines_as_items(text: &str) -> Vec<(usize, TextClassItem)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            (
                number + 1,
                TextClassItem {
                    text: line.to_string(),
                    label: 0,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqmodel_data::LabelSet;

    fn data() -> TextClassificationDataset {
        let labels = LabelSet::new(["neg", "pos"]).expect("two labels");
        let items = [(0, "a"), (0, "b"), (1, "c")]
            .into_iter()
            .map(|(label, text)| TextClassItem {
                text: text.into(),
                label,
            })
            .collect();
        TextClassificationDataset::new(items, labels).expect("valid")
    }

    fn split_of(text: &str) -> Result<Split, RunError> {
        let dir = std::env::temp_dir().join(format!("xtask-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{}.tsv", text.len()));
        std::fs::write(&path, text).expect("write");
        read_split_file(&path, &data())
    }

    #[test]
    fn a_split_file_maps_label_lines_to_examples() {
        let split =
            split_of("# comment\ntrain\tneg\t2\nvalid\tpos\t1\ntest\tneg\t1\n").expect("ok");
        assert_eq!(split.train, [1]);
        assert_eq!(split.valid, [2]);
        assert_eq!(split.test, [0]);
    }

    #[test]
    fn a_split_file_that_does_not_fit_is_an_error_naming_the_line() {
        let error = split_of("train\tneg\t1\ntrain\tneg\t1\n").expect_err("twice");
        assert!(
            error.to_string().contains(":2: neg line 1 is listed twice"),
            "{error}"
        );
        let error = split_of("train\tneg\t3\n").expect_err("no such line");
        assert!(error.to_string().contains("does not exist"), "{error}");
        let error = split_of("train\tneg\t1\ntrain\tneg\t2\n").expect_err("missing");
        assert!(error.to_string().contains("in no split"), "{error}");
        let error = split_of("train\tmaybe\t1\n").expect_err("label");
        assert!(error.to_string().contains("maybe"), "{error}");
    }
}
