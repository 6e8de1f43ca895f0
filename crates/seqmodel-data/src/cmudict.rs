//! The CMU Pronouncing Dictionary format: `word PH1 PH2 …`, alternates written `word(2)`,
//! comments after `#` (and whole-line `;;;` or `#` comments).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result, excerpt};
use crate::seq2seq::TextPair;
use crate::source::{numbered_lines, read_bytes, text_of};

/// One pronunciation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmudictEntry {
    /// The word, without its `(n)` suffix.
    pub word: String,
    /// 1 for the main pronunciation, `n` for `word(n)`.
    pub variant: u32,
    /// ARPAbet phonemes, vowels with stress digits (`AH0`, `OW1`).
    pub phonemes: Vec<String>,
}

impl CmudictEntry {
    /// As a grapheme → phoneme pair: source = the word, target = phonemes joined by spaces
    /// (tokenise with [`crate::CharTokenizer`] and [`crate::SymbolTokenizer`]).
    pub fn to_pair(&self) -> TextPair {
        TextPair {
            source: self.word.clone(),
            target: self.phonemes.join(" "),
        }
    }
}

/// Reads a cmudict file.
pub fn read_cmudict(path: impl AsRef<Path>) -> Result<Vec<CmudictEntry>> {
    let path = path.as_ref();
    parse_cmudict(&read_bytes(path)?, path)
}

/// Parses cmudict text; `path` names the source in errors.
///
/// ```
/// use std::path::Path;
/// use seqmodel_data::parse_cmudict;
///
/// let text = ";;; a comment\nread R IY1 D\nread(2) R EH1 D # past tense\n";
/// let entries = parse_cmudict(text.as_bytes(), Path::new("d"))?;
/// assert_eq!(entries[1].word, "read");
/// assert_eq!(entries[1].variant, 2);
/// assert_eq!(entries[1].phonemes, ["R", "EH1", "D"]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
pub fn parse_cmudict(bytes: &[u8], path: &Path) -> Result<Vec<CmudictEntry>> {
    let text = text_of(bytes, path, "dictionary entries")?;
    let mut entries = Vec::new();
    for (line_no, line) in numbered_lines(text) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with(";;;") || trimmed.starts_with('#') {
            continue;
        }
        let content = line.split_once('#').map_or(line, |(before, _)| before);
        let mut fields = content.split_whitespace();
        let Some(head) = fields.next() else {
            continue;
        };
        let (word, variant) = parse_headword(head).ok_or_else(|| Error::Malformed {
            at: Location::at(path, line_no, 1),
            expected: "a word, optionally followed by (n) with n >= 2".into(),
            found: excerpt(head),
        })?;
        let mut phonemes = Vec::new();
        for phoneme in fields {
            if !is_arpabet(phoneme) {
                // `phoneme` is a slice of `line`: its byte offset gives the column.
                let offset = phoneme.as_ptr() as usize - line.as_ptr() as usize;
                let column = line[..offset].chars().count() + 1;
                return Err(Error::Malformed {
                    at: Location::at(path, line_no, column),
                    expected:
                        "an ARPAbet phoneme (capital letters and an optional stress digit 0-2)"
                            .into(),
                    found: excerpt(phoneme),
                });
            }
            phonemes.push(phoneme.to_string());
        }
        if phonemes.is_empty() {
            return Err(Error::Malformed {
                at: Location::line(path, line_no),
                expected: "at least one phoneme after the word".into(),
                found: excerpt(line),
            });
        }
        entries.push(CmudictEntry {
            word: word.to_string(),
            variant,
            phonemes,
        });
    }
    if entries.is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
            expected: "dictionary entries".into(),
        });
    }
    Ok(entries)
}

fn parse_headword(head: &str) -> Option<(&str, u32)> {
    match head.strip_suffix(')').and_then(|h| h.rsplit_once('(')) {
        Some((word, n)) => {
            let n: u32 = n.parse().ok()?;
            (!word.is_empty() && n >= 2).then_some((word, n))
        }
        None => (!head.contains('(')).then_some((head, 1)),
    }
}

fn is_arpabet(symbol: &str) -> bool {
    let letters = symbol.trim_end_matches(['0', '1', '2']);
    let stress = symbol.len() - letters.len();
    !letters.is_empty() && stress <= 1 && letters.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headwords_and_variants() {
        assert_eq!(parse_headword("abc"), Some(("abc", 1)));
        assert_eq!(parse_headword("abc(3)"), Some(("abc", 3)));
        assert_eq!(parse_headword("abc(x)"), None);
        assert_eq!(parse_headword("(2)"), None);
        assert_eq!(parse_headword("abc(1)"), None);
    }

    #[test]
    fn bad_phoneme_reports_its_column() {
        let err = parse_cmudict(b"cat K ae1 T\n", Path::new("d")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d:1:7: expected an ARPAbet phoneme (capital letters and an optional stress digit 0-2), found \"ae1\""
        );
    }

    #[test]
    fn word_without_phonemes_is_an_error() {
        let err = parse_cmudict(b"ok OW1 K EY1\nlonely # nothing\n", Path::new("d")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("d:2: expected at least one phoneme"),
            "{err}"
        );
    }

    #[test]
    fn pair_joins_phonemes() {
        let e = &parse_cmudict(b"hi HH AY1\n", Path::new("d")).unwrap()[0];
        assert_eq!(e.to_pair().target, "HH AY1");
    }
}
