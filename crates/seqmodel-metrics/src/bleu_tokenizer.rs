//! sacrebleu's BLEU tokenisers: `13a` (mteval-v13a, the default), `intl` (mteval-v14
//! international), `char` and `none`.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;

use crate::pytext::for_each_field;
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

    /// Tokenises one (already lower-cased and right-stripped) segment into `out`, as a line
    /// whose Python-whitespace-separated fields are the tokens (sacrebleu's `tokenizer(line)`,
    /// up to runs of spaces). `scratch` holds reusable buffers.
    pub fn tokenize_into(self, line: &str, out: &mut String, scratch: &mut TokenizerScratch) {
        out.clear();
        match self {
            BleuTokenizer::None => out.push_str(line),
            BleuTokenizer::Char => {
                for c in line.chars() {
                    out.push(c);
                    out.push(' ');
                }
            }
            BleuTokenizer::Thirteen => tokenize_13a_into(line, out, scratch),
            BleuTokenizer::Intl => out.push_str(&tokenize_intl(line)),
        }
    }

    /// Tokenises one (already lower-cased and right-stripped) segment and calls `emit` with
    /// each token, in order. Equivalent to sacrebleu's `tokenizer(line).split()`.
    pub fn for_each_token(self, line: &str, emit: impl FnMut(&str)) {
        let mut buf = String::new();
        self.tokenize_into(line, &mut buf, &mut TokenizerScratch::default());
        for_each_field(&buf, emit);
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
        let mut out = Vec::new();
        self.for_each_token(line, |t| out.push(t.to_string()));
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

/// Reusable buffers of the `13a` tokeniser.
#[derive(Debug, Default)]
pub struct TokenizerScratch {
    a: Vec<u8>,
    b: Vec<u8>,
}

/// The bytes of mteval-v13a's first rule `[\{-\~\[-\` -\&\(-\+\:-\@\/]`, except the
/// space: padding a space with spaces changes no token, and no later rule can tell one space
/// from three (they only look at a `.`, `,` or `-` and its immediate neighbours, and a space
/// neighbour stays a space).
const fn split_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] =
            matches!(c, b'{'..=b'~' | b'['..=b'`' | b'!'..=b'&' | b'('..=b'+' | b':'..=b'@' | b'/');
        b += 1;
    }
    t
}

static SPLIT_13A: [bool; 256] = split_table();

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

/// Start of the character that ends just before byte `j` (`j > 0`, a character boundary).
#[inline]
fn prev_char_start(s: &[u8], j: usize) -> usize {
    let mut p = j - 1;
    while p > 0 && (s[p] & 0xc0) == 0x80 {
        p -= 1;
    }
    p
}

/// mteval-v13a rule 2, `([^0-9])([\.,])` -> `\1 \2 `, as a left-to-right non-overlapping
/// `re.sub`: a `.`/`,` at `j` matches when the character before it is not a digit and was not
/// consumed by the previous match.
fn rule_punct_after_non_digit(src: &[u8], dst: &mut Vec<u8>) {
    dst.clear();
    let (mut copied, mut consumed) = (0, 0);
    for j in memchr::memchr2_iter(b'.', b',', src) {
        if j == 0 {
            continue;
        }
        let p = prev_char_start(src, j);
        if p >= consumed && !src[p].is_ascii_digit() {
            dst.extend_from_slice(&src[copied..j]);
            dst.extend_from_slice(&[b' ', src[j], b' ']);
            copied = j + 1;
            consumed = j + 1;
        }
    }
    dst.extend_from_slice(&src[copied..]);
}

/// Rule 3, `([\.,])([^0-9])` -> ` \1 \2`: a `.`/`,` at `j` not consumed by the previous match
/// and followed by a non-digit character.
fn rule_punct_before_non_digit(src: &[u8], dst: &mut Vec<u8>) {
    dst.clear();
    let (mut copied, mut consumed) = (0, 0);
    for j in memchr::memchr2_iter(b'.', b',', src) {
        if j < consumed || j + 1 >= src.len() || src[j + 1].is_ascii_digit() {
            continue;
        }
        let end = j + 1 + utf8_len(src[j + 1]);
        dst.extend_from_slice(&src[copied..j]);
        dst.extend_from_slice(&[b' ', src[j], b' ']);
        dst.extend_from_slice(&src[j + 1..end]);
        copied = end;
        consumed = end;
    }
    dst.extend_from_slice(&src[copied..]);
}

/// Rule 4, `([0-9])(-)` -> `\1 \2 `.
fn rule_dash_after_digit(src: &[u8], dst: &mut Vec<u8>) {
    dst.clear();
    let (mut copied, mut consumed) = (0, 0);
    for j in memchr::memchr_iter(b'-', src) {
        if j == 0 || j - 1 < consumed || !src[j - 1].is_ascii_digit() {
            continue;
        }
        dst.extend_from_slice(&src[copied..j]);
        dst.extend_from_slice(b" - ");
        copied = j + 1;
        consumed = j + 1;
    }
    dst.extend_from_slice(&src[copied..]);
}

/// Applies sacrebleu's `Tokenizer13a` to `line`, writing the space-separated result into
/// `out` (which may contain runs of spaces; split it with Python whitespace rules).
///
/// The four regular expressions of mteval-v13a are applied one after the other, each with the
/// semantics of a left-to-right non-overlapping `re.sub`.
fn tokenize_13a_into(line: &str, out: &mut String, scratch: &mut TokenizerScratch) {
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
    // Rule 1: pad the split characters with spaces (sacrebleu pads the line with one space on
    // each side first).
    let src = s.as_bytes();
    let TokenizerScratch { a, b } = scratch;
    a.clear();
    a.reserve(src.len() + 16);
    a.push(b' ');
    let mut copied = 0;
    for (j, &c) in src.iter().enumerate() {
        if SPLIT_13A[c as usize] {
            a.extend_from_slice(&src[copied..j]);
            a.extend_from_slice(&[b' ', c, b' ']);
            copied = j + 1;
        }
    }
    a.extend_from_slice(&src[copied..]);
    a.push(b' ');
    // Rules 2 and 3 only act at `.` and `,`, rule 4 at `-`: skip them when absent.
    if memchr::memchr2(b'.', b',', a).is_some() {
        rule_punct_after_non_digit(a, b);
        rule_punct_before_non_digit(b, a);
    }
    let result: &[u8] = if memchr::memchr(b'-', a).is_some() {
        rule_dash_after_digit(a, b);
        b
    } else {
        a
    };
    // Only ASCII bytes were inserted, at character boundaries: the bytes are valid UTF-8.
    match std::str::from_utf8(result) {
        Ok(t) => out.push_str(t),
        Err(_) => out.push_str(&String::from_utf8_lossy(result)),
    }
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
        assert_eq!(
            tok(t, "Tom &amp; Jerry &quot;x&quot; &lt;b&gt;"),
            "Tom & Jerry \" x \" < b >"
        );
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
        for t in [
            BleuTokenizer::Thirteen,
            BleuTokenizer::Intl,
            BleuTokenizer::Char,
            BleuTokenizer::None,
        ] {
            assert_eq!(t.name().parse::<BleuTokenizer>().expect("known name"), t);
        }
        assert!("zh".parse::<BleuTokenizer>().is_err());
    }
}
