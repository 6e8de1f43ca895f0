//! Python string semantics that the reference tools rely on.
//!
//! `str.split()`, `str.rstrip()` and `str.isspace()` in Python treat a slightly different set
//! of characters as whitespace than Rust's [`char::is_whitespace`]: Python also counts the
//! information separators U+001C..U+001F. Matching Python here is what makes tokenisation
//! identical to sacrebleu's.

/// Whether Python's `str.isspace()` is true for this character: the whitespace that
/// sacrebleu strips from the end of every line it reads (`str.rstrip()`) and splits tokens on
/// (`str.split()`).
///
/// Public because a caller that reads its own input files must strip lines with exactly this
/// set to get sacrebleu's scores (the metric functions strip where the reference tool does,
/// but sacrebleu's command line also strips what its `CHRF` does not); `seq-score` does so.
/// It differs from [`char::is_whitespace`] in the information separators U+001C..U+001F.
///
/// ```
/// use seqmodel_metrics::is_py_space;
/// assert_eq!("ref line \t\u{1c}".trim_end_matches(is_py_space), "ref line");
/// assert!(!is_py_space('\u{200b}'));
/// ```
#[inline]
pub fn is_py_space(c: char) -> bool {
    match c {
        '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r' | '\u{1c}'..='\u{1f}' | ' ' => true,
        _ if c.is_ascii() => false,
        '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' => {
            true
        }
        '\u{202f}' | '\u{205f}' | '\u{3000}' => true,
        _ => false,
    }
}

/// Python's `s.split()`: the non-empty runs between whitespace characters.
#[inline]
pub(crate) fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_space).filter(|t| !t.is_empty())
}

/// Calls `f` with each field of Python's `s.split()`; a fast path handles ASCII text.
#[inline]
pub(crate) fn for_each_field<'a>(s: &'a str, mut f: impl FnMut(&'a str)) {
    if !s.is_ascii() {
        py_split(s).for_each(f);
        return;
    }
    let bytes = s.as_bytes();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        let space = matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ');
        match (space, start) {
            (true, Some(st)) => {
                f(&s[st..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        f(&s[st..]);
    }
}

/// Python's `s.rstrip()`.
#[inline]
pub(crate) fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// Python's `s.lower()` (full Unicode lowercasing, including final sigma).
#[inline]
pub(crate) fn py_lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python: `"a\x1cb\u3000c  d ".split() == ['a', 'b', 'c', 'd']`.
    #[test]
    fn split_matches_python_whitespace() {
        let got: Vec<&str> = py_split("a\u{1c}b\u{3000}c  d ").collect();
        assert_eq!(got, vec!["a", "b", "c", "d"]);
        // U+200B (zero width space) is not whitespace in Python.
        assert_eq!(py_split("a\u{200b}b").count(), 1);
    }

    #[test]
    fn ascii_fast_path_equals_general_split() {
        for s in ["", "  ", "a", " a\x1fb\x0bc  d\t", "x\r\ny "] {
            let mut fast = Vec::new();
            for_each_field(s, |t| fast.push(t.to_string()));
            let slow: Vec<String> = py_split(s).map(str::to_string).collect();
            assert_eq!(fast, slow, "{s:?}");
        }
    }

    #[test]
    fn rstrip_and_lower() {
        assert_eq!(py_rstrip("ab \t\r\n\u{a0}"), "ab");
        // Python: "ΟΔΟΣ".lower() == "οδος" with a final sigma.
        assert_eq!(py_lower("ΟΔΟΣ"), "\u{3bf}\u{3b4}\u{3bf}\u{3c2}");
        assert_eq!(py_lower("ABC"), "abc");
    }
}
