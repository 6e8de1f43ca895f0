//! The crate's error type.

/// Everything that can go wrong when computing a metric or reading its input.
///
/// Messages say where the problem is (file, line, sentence, position) and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two inputs that must be aligned (hypotheses and references, gold and predicted labels)
    /// have different lengths.
    #[error("length mismatch: {what}: {left} vs {right}")]
    LengthMismatch {
        /// What was being compared, e.g. `"hypotheses vs references"`.
        what: String,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// The metric is undefined on empty input (e.g. an empty corpus).
    #[error("empty input: {0}")]
    EmptyInput(String),
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Input data is malformed (a tag that the scheme does not allow, a NaN log-probability, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Two accumulators with different configurations cannot be merged.
    #[error("cannot merge accumulators: {0}")]
    IncompatibleMerge(String),
    /// A problem in a file, with its path and 1-based line number (shown as `path:line:`, or
    /// `path:` when the problem concerns the whole file).
    #[error("{path}{}: {message}", line_suffix(*line))]
    File {
        /// Path of the file as given by the user.
        path: String,
        /// 1-based line number (0 when the problem concerns the whole file).
        line: usize,
        /// What was wrong and what was expected.
        message: String,
    },
    /// An I/O error while reading a file.
    #[error("{path}: {source}")]
    Io {
        /// Path of the file as given by the user.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn line_suffix(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Checks that two inputs have the same length.
pub(crate) fn check_same_len(what: &str, left: usize, right: usize) -> Result<()> {
    if left == right {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what: what.to_string(),
            left,
            right,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_name_path_and_line() {
        let e = Error::File {
            path: "hyp.txt".into(),
            line: 3,
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "hyp.txt:3: bad");
        let e = Error::File {
            path: "hyp.txt".into(),
            line: 0,
            message: "empty".into(),
        };
        assert_eq!(e.to_string(), "hyp.txt: empty");
    }
}
