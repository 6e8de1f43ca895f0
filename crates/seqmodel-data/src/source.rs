//! Reading input files: bytes → UTF-8 text with errors that say where the bad byte is.

use std::path::Path;

use crate::error::{Error, Location, Result};

/// Reads a whole file.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Decodes `bytes` as UTF-8 (a leading byte-order mark is skipped). On failure the error gives
/// the 1-based line and character column of the first invalid byte.
pub(crate) fn decode_utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(err) => {
            let valid = &bytes[..err.valid_up_to()];
            // The prefix is valid UTF-8 by construction.
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            let line = prefix.matches('\n').count() + 1;
            let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
            let column = prefix[line_start..].chars().count() + 1;
            Err(Error::InvalidUtf8 {
                at: Location::at(path, line, column),
            })
        }
    }
}

/// Fails with [`Error::EmptyFile`] when `text` holds only whitespace.
pub(crate) fn require_content(text: &str, path: &Path, expected: &str) -> Result<()> {
    if text.trim().is_empty() {
        Err(Error::EmptyFile {
            path: path.to_path_buf(),
            expected: expected.to_string(),
        })
    } else {
        Ok(())
    }
}

/// Decodes and checks for content in one step.
pub(crate) fn text_of<'a>(bytes: &'a [u8], path: &Path, expected: &str) -> Result<&'a str> {
    let text = decode_utf8(bytes, path)?;
    require_content(text, path, expected)?;
    Ok(text)
}

/// Iterates over lines with their 1-based numbers, without the line terminator (`\n` or `\r\n`).
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix('\r').unwrap_or(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_reports_line_and_character_column() {
        let bytes = b"ok line\nab\xC3\xA9c\xFFd\n";
        let err = decode_utf8(bytes, Path::new("t.txt")).unwrap_err();
        // "abéc" is four characters, so the bad byte is in column 5 of line 2.
        assert_eq!(
            err.to_string(),
            "t.txt:2:5: invalid UTF-8 (expected UTF-8 text)"
        );
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let text = decode_utf8(b"\xEF\xBB\xBFhello", Path::new("t")).unwrap();
        assert_eq!(text, "hello");
    }

    #[test]
    fn whitespace_only_is_empty() {
        let err = text_of(b" \n\t\n", Path::new("e.txt"), "rows").unwrap_err();
        assert!(matches!(err, Error::EmptyFile { .. }), "{err}");
    }

    #[test]
    fn lines_are_numbered_from_one_and_lose_crlf() {
        let lines: Vec<_> = numbered_lines("a\r\nb\nc").collect();
        assert_eq!(lines, vec![(1, "a"), (2, "b"), (3, "c")]);
    }
}
