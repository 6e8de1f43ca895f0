//! The crate's error type: every error on user data names the file, the line (and the column
//! where there is one) and what was expected.

use std::fmt;
use std::path::PathBuf;

/// Where in an input something went wrong: a file, a 1-based line and an optional 1-based
/// column (a character position for UTF-8 problems, a field number for tables).
///
/// Displays as `file:line` or `file:line:column`, the form editors and terminals link to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (or the name given to an in-memory input).
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, when the problem is in one place on the line.
    pub column: Option<usize>,
}

impl Location {
    /// A location on a whole line.
    pub fn line(file: impl Into<PathBuf>, line: usize) -> Self {
        Self {
            file: file.into(),
            line,
            column: None,
        }
    }

    /// A location at one column of a line.
    pub fn at(file: impl Into<PathBuf>, line: usize, column: usize) -> Self {
        Self {
            file: file.into(),
            line,
            column: Some(column),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "{}:{}:{}", self.file.display(), self.line, column),
            None => write!(f, "{}:{}", self.file.display(), self.line),
        }
    }
}

/// Everything that can go wrong in `seqmodel-data`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file holds nothing (or only whitespace).
    #[error("{}: the file is empty (expected {expected})", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
        /// What the file should have held.
        expected: String,
    },
    /// The bytes at this place are not valid UTF-8.
    #[error("{at}: invalid UTF-8 (expected UTF-8 text)")]
    InvalidUtf8 {
        /// Line and character column of the first invalid byte.
        at: Location,
    },
    /// A row has the wrong number of fields.
    #[error("{at}: expected {expected} columns, found {found}")]
    ColumnCount {
        /// The row.
        at: Location,
        /// Number of fields the header (or the format) asks for.
        expected: usize,
        /// Number of fields on the row.
        found: usize,
    },
    /// The header lacks a column that was asked for by name.
    #[error("{}: missing column \"{column}\" in the header (columns: {})", path.display(), available.join(", "))]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The header's columns.
        available: Vec<String>,
    },
    /// A cell that must hold a (finite) number does not.
    #[error("{at}: column \"{column}\": expected a number, found \"{found}\"")]
    NotANumber {
        /// Row and field.
        at: Location,
        /// Column name.
        column: String,
        /// The cell's text.
        found: String,
    },
    /// An empty cell or `NaN` where no fill policy was chosen.
    #[error(
        "{at}: column \"{column}\": missing value (empty cell or NaN); expected a number, or fill gaps (FillPolicy::Forward or Linear; `--fill forward|linear` in `cargo xtask train`)"
    )]
    MissingValue {
        /// Row and field.
        at: Location,
        /// Column name.
        column: String,
    },
    /// A labelled sentence whose token and tag counts differ.
    #[error(
        "{at}: sentence starting on line {sentence_line} has {tokens} tokens but {tags} tags (expected one tag per token)"
    )]
    TokenTagMismatch {
        /// The first line where a tag is missing (or the sentence's first line).
        at: Location,
        /// First line of the sentence.
        sentence_line: usize,
        /// Number of tokens.
        tokens: usize,
        /// Number of tags.
        tags: usize,
    },
    /// An IOB2 tag that cannot follow the previous one (reported, never silently repaired).
    #[error(
        "{at}: invalid IOB2 transition \"{previous}\" -> \"{tag}\" (expected I-{entity} only after B-{entity} or I-{entity})"
    )]
    InvalidIob {
        /// The offending tag's line.
        at: Location,
        /// The tag before it (`O` at the start of a sentence).
        previous: String,
        /// The offending tag.
        tag: String,
        /// The entity type of the offending tag.
        entity: String,
    },
    /// Text that does not have the expected shape.
    #[error("{at}: expected {expected}, found \"{found}\"")]
    Malformed {
        /// Where.
        at: Location,
        /// What the format requires here.
        expected: String,
        /// What was there (shortened when long).
        found: String,
    },
    /// A sliding window (lookback + horizon) that does not fit in the series.
    #[error(
        "{what}: a window of lookback {lookback} + horizon {horizon} needs {} rows, but the series has {series_len}",
        lookback + horizon
    )]
    WindowTooLong {
        /// Which series or split.
        what: String,
        /// Input steps per window.
        lookback: usize,
        /// Target steps per window.
        horizon: usize,
        /// Rows available.
        series_len: usize,
    },
    /// A configuration (or an argument) that cannot work, caught before any data is touched.
    ///
    /// Displays as `PaddingConfig: invalid max_len: …`: the configuration, the field and why,
    /// with what would be accepted.
    #[error("{config}: invalid {field}: {reason}")]
    Config {
        /// The configuration type at fault (e.g. `PaddingConfig`), or the function whose
        /// argument is at fault (e.g. `PackedLayout::new`).
        config: &'static str,
        /// The field (or argument) at fault.
        field: &'static str,
        /// Why, and what would be accepted.
        reason: String,
    },
    /// [`Dataset::get`](burn::data::dataset::Dataset::get) asked for an item past the end.
    ///
    /// Returned inside Burn's `DatasetError` (which wraps any error): read it back with
    /// `std::error::Error::source(&err)` and `downcast_ref::<seqmodel_data::Error>()`.
    #[error(
        "{dataset}: index {index} is out of bounds (the dataset has {len} items; expected an index below {len})"
    )]
    IndexOutOfBounds {
        /// The dataset type.
        dataset: &'static str,
        /// The index asked for.
        index: usize,
        /// Number of items.
        len: usize,
    },
    /// A JSON file (vocabulary) that does not parse.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// serde_json's error (it names line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A vocabulary file whose content breaks the vocabulary's invariants.
    #[error("{}: invalid vocabulary: {reason}", path.display())]
    InvalidVocab {
        /// The file.
        path: PathBuf,
        /// Which invariant is broken.
        reason: String,
    },
    /// An id that no vocabulary or label entry has.
    #[error("id {id} is out of range (expected an id below {len})")]
    IdOutOfRange {
        /// The id.
        id: usize,
        /// Number of entries.
        len: usize,
    },
    /// A label name that is not in the label set.
    #[error("unknown label \"{label}\" (known labels: {})", known.join(", "))]
    UnknownLabel {
        /// The label.
        label: String,
        /// The labels the set knows.
        known: Vec<String>,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Shortens `text` for an error message (at most 60 characters).
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(MAX).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_displays_file_line_and_column() {
        assert_eq!(Location::line("a.csv", 3).to_string(), "a.csv:3");
        assert_eq!(Location::at("a.csv", 3, 7).to_string(), "a.csv:3:7");
    }

    #[test]
    fn not_a_number_message_names_file_line_column_and_value() {
        let err = Error::NotANumber {
            at: Location::at("prices.csv", 118, 4),
            column: "close".into(),
            found: "n/a".into(),
        };
        assert_eq!(
            err.to_string(),
            "prices.csv:118:4: column \"close\": expected a number, found \"n/a\""
        );
    }

    #[test]
    fn excerpt_shortens_long_text() {
        let long = "x".repeat(100);
        assert_eq!(excerpt(&long).chars().count(), 61);
        assert_eq!(excerpt("short"), "short");
    }
}
