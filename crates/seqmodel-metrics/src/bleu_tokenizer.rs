//! sacrebleu's BLEU tokenisers: `13a` (mteval-v13a, the default), `intl` (mteval-v14
//! international), `char` and `none`.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;

use crate::pytext::{is_py_space, py_split};
use crate::{Error, Result};

/// A BLEU tokeniser, named as sacrebleu names it (`--tokenize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BleuTokenizer {
    /// mteval-v13a: splits punctuation and symbols, keeps `1,000.50` whole, unescapes
    /// `&amp; &quot; &lt; &gt;`. sacrebleu's default.
    #[default]
    Thirteen,
    /// mteval-v14 international: splits Unicode punctuation (`\p{P}`) unless between digits,
    /// and every Unicode symbol (`\p{S}`).
    Intl,
    /// Every non-whitespace character is a token.
    Char,
    /// Whitespace splitting only.
    None,
}

impl BleuTokenizer {
    /// The name sacrebleu uses in its signature (`tok:13a`).
    pub fn name(self) -> &'static str {
        match self {
            BleuTokenizer::Thirteen => "13a",
            BleuTokenizer::Intl => "intl",
            BleuTokenizer::Char => "char",
            BleuTokenizer::None => "none",
        }
    }

    /// Tokenises one (already lower-cased and right-stripped) segment and calls `emit` with
    /// each token, in order. Equivalent to sacrebleu's `tokenizer(line).split()`.
    pub fn for_each_token<'a>(self, line: &'a str, buf: &'a mut String, mut emit: impl FnMut(&str)) {
        match self {
            BleuTokenizer::None => py_split(line).for_each(emit),
            BleuTokenizer::Char => {
                let mut tmp = [0u8; 4];
                for c in line.chars().filter(|&c| !is_py_space(c)) {
                    emit(c.encode_utf8(&mut tmp));
                }
            }
            BleuTokenizer::Thirteen => {
                tokenize_13a_into(line, buf);
                py_split(buf).for_each(emit);
            }
            BleuTokenizer::Intl => {
                *buf = tokenize_intl(line);
                py_split(buf).for_each(emit);
            }
        }
    }

    /// Tokenises one segment into owned tokens (convenience wrapper of
    /// [`BleuTokenizer::for_each_token`]).
    ///
    /// ```
    /// use seqmodel_metrics::BleuTokenizer;
    /// let toks = BleuTokenizer::Thirteen.tokenize("It costs $1,000.50 (approx.).");
    /// assert_eq!(toks, ["It", "costs", "$", "1,000.50", "(", "approx", ".", ")", "."]);
    /// ```
    pub fn tokenize(self, line: &str) -> Vec<String> {
        let mut buf = String::new();
        let mut out = Vec::new();
        self.for_each_token(line, &mut buf, |t| out.push(t.to_string()));
        out
    }
}

impl fmt::Display for BleuTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BleuTokenizer {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "13a" => Ok(BleuTokenizer::Thirteen),
            "intl" => Ok(BleuTokenizer::Intl),
            "char" => Ok(BleuTokenizer::Char),
            "none" => Ok(BleuTokenizer::None),
            other => Err(Error::InvalidConfig(format!(
                "unknown BLEU tokenizer {other:?}: expected one of 13a, intl, char, none"
            ))),
        }
    }
}

/// The characters of mteval-v13a's first rule `[\{-\~\[-\` -\&\(-\+\:-\@\/]`.
#[inline]
fn is_13a_split_char(b: u8) -> bool {
    matches!(b, b'{'..=b'~' | b'['..=b'`' | b' '..=b'&' | b'('..=b'+' | b':'..=b'@' | b'/')
}

/// Length in bytes of the UTF-8 character that starts with byte `b`.
#[inline]
fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Applies sacrebleu's `Tokenizer13a` to `line`, writing the space-separated result into
/// `out` (which may then contain runs of spaces; split it with Python whitespace rules).
///
/// The four regular expressions of mteval-v13a are applied one after the other, each as a
/// left-to-right non-overlapping substitution, exactly as `re.sub` does.
fn tokenize_13a_into(line: &str, out: &mut String) {
    // Language-independent part.
    let mut s: std::borrow::Cow<'_, str> = std::borrow::Cow::Borrowed(line);
    if s.contains("<skipped>") {
        s = s.replace("<skipped>", "").into();
    }
    if s.contains('\n') {
        s = s.replace("-\n", "").replace('\n', " ").into();
    }
    if s.contains('&') {
        s = s
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .into();
    }
    // Pass 1: pad the split characters with spaces (sacrebleu pads the line with one space
    // on each side first; whitespace is collapsed at the end, so that padding is implicit).
    let src = s.as_bytes();
    let mut p1: Vec<u8> = Vec::with_capacity(src.len() * 2 + 2);
    p1.push(b' ');
    for &b in src {
        if is_13a_split_char(b) {
            p1.extend_from_slice(&[b' ', b, b' ']);
        } else {
            p1.push(b);
        }
    }
    p1.push(b' ');
    // Pass 2: `([^0-9])([\.,])` -> `\1 \2 `.
    let mut p2: Vec<u8> = Vec::with_capacity(p1.len() + 16);
    let mut i = 0;
    while i < p1.len() {
        let l = utf8_len(p1[i]);
        let next = i + l;
        if !p1[i].is_ascii_digit() && next < p1.len() && matches!(p1[next], b'.' | b',') {
            p2.extend_from_slice(&p1[i..next]);
            p2.extend_from_slice(&[b' ', p1[next], b' ']);
            i = next + 1;
        } else {
            p2.extend_from_slice(&p1[i..next]);
            i = next;
        }
    }
    // Pass 3: `([\.,])([^0-9])` -> ` \1 \2`.
    let mut p3: Vec<u8> = Vec::with_capacity(p2.len() + 16);
    let mut i = 0;
    while i < p2.len() {
        let b = p2[i];
        if matches!(b, b'.' | b',') && i + 1 < p2.len() && !p2[i + 1].is_ascii_digit() {
            let l = utf8_len(p2[i + 1]);
            p3.extend_from_slice(&[b' ', b, b' ']);
            p3.extend_from_slice(&p2[i + 1..i + 1 + l]);
            i += 1 + l;
        } else {
            p3.push(b);
            i += 1;
        }
    }
    // Pass 4: `([0-9])(-)` -> `\1 \2 `.
    out.clear();
    out.reserve(p3.len() + 8);
    let mut p4: Vec<u8> = std::mem::take(out).into_bytes();
    let mut i = 0;
    while i < p3.len() {
        let b = p3[i];
        if b.is_ascii_digit() && i + 1 < p3.len() && p3[i + 1] == b'-' {
            p4.extend_from_slice(&[b, b' ', b'-', b' ']);
            i += 2;
        } else {
            p4.push(b);
            i += 1;
        }
    }
    // Only ASCII bytes were inserted, at character boundaries: the bytes are valid UTF-8.
    *out = String::from_utf8(p4).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

fn intl_rules() -> &'static [(Regex, &'static str); 3] {
    static RULES: OnceLock<[(Regex, &'static str); 3]> = OnceLock::new();
    RULES.get_or_init(|| {
        let build = |re: &str| Regex::new(re).expect("the mteval-v14 patterns are valid regexes");
        [
            // Separate out punctuation preceded by a non-digit.
            (build(r"(\P{N})(\p{P})"), "${1} ${2} "),
            // Separate out punctuation followed by a non-digit.
            (build(r"(\p{P})(\P{N})"), " ${1} ${2}"),
            // Separate out symbols.
            (build(r"(\p{S})"), " ${1} "),
        ]
    })
}

/// sacrebleu's `TokenizerV14International` before whitespace normalisation.
fn tokenize_intl(line: &str) -> String {
    let mut s = line.to_string();
    for (re, rep) in intl_rules() {
        if let std::borrow::Cow::Owned(o) = re.replace_all(&s, *rep) {
            s = o;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(t: BleuTokenizer, s: &str) -> String {
        t.tokenize(s).join(" ")
    }

    /// Expected strings are sacrebleu 2.6.0's `Tokenizer13a()(line)`.
    #[test]
    fn thirteen_a_matches_sacrebleu() {
        let t = BleuTokenizer::Thirteen;
        assert_eq!(tok(t, "Hello, world."), "Hello , world .");
        assert_eq!(tok(t, "It's 1,000.50 dollars"), "It's 1,000.50 dollars");
        assert_eq!(tok(t, "a 5-year-old's toy"), "a 5 - year-old's toy");
        assert_eq!(tok(t, "Tom &amp; Jerry &quot;x&quot; &lt;b&gt;"), "Tom & Jerry \" x \" < b >");
        assert_eq!(tok(t, "¿Qué? «Sí»"), "¿Qué ? «Sí»");
        assert_eq!(tok(t, "end 3.5."), "end 3.5 .");
        assert_eq!(tok(t, "a...b"), "a . . . b");
        assert_eq!(tok(t, "x<skipped>y"), "xy");
        assert_eq!(tok(t, ""), "");
    }

    #[test]
    fn intl_splits_unicode_punctuation_and_symbols() {
        let t = BleuTokenizer::Intl;
        assert_eq!(tok(t, "¿Qué? «Sí» 3,5 €"), "¿ Qué ? « Sí » 3,5 €");
        assert_eq!(tok(t, "year 2020."), "year 2020.");
    }

    #[test]
    fn char_and_none() {
        assert_eq!(tok(BleuTokenizer::Char, "ab c"), "a b c");
        assert_eq!(tok(BleuTokenizer::None, " a,b  c "), "a,b c");
    }

    #[test]
    fn names_round_trip() {
        for t in [BleuTokenizer::Thirteen, BleuTokenizer::Intl, BleuTokenizer::Char, BleuTokenizer::None] {
            assert_eq!(t.name().parse::<BleuTokenizer>().expect("known name"), t);
        }
        assert!("zh".parse::<BleuTokenizer>().is_err());
    }
}
