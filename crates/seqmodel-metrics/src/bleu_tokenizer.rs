//! sacrebleu's BLEU tokenisers: `13a` (mteval-v13a, the default), `intl` (mteval-v14
//! international), `zh` (Chinese characters split, the rest as `13a`), `char` and `none`.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;

use crate::pytext::{for_each_field, is_py_space};
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
    /// sacrebleu's `zh`: every character of the CJK ranges listed in sacrebleu's
    /// `tokenizer_zh.py` is a token of its own, the rest is tokenised by mteval-v13a's
    /// punctuation rules (without its unescaping of `&amp;` etc.).
    ///
    /// Two of sacrebleu's ranges are written `'\u20000'`..`'\u2a6d6'` and
    /// `'\u2f800'`..`'\u2fa1d'`, which Python reads as two-character strings: they select
    /// U+2001..=U+2A6D (general punctuation, currency and mathematical symbols, arrows, ...)
    /// and U+2F81..=U+2FA1, not CJK Extension B. This tokeniser does the same, so `€` and `…`
    /// are tokens of their own, as in sacrebleu.
    Zh,
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
            BleuTokenizer::Zh => "zh",
            BleuTokenizer::Char => "char",
            BleuTokenizer::None => "none",
        }
    }

    /// Tokenises one (already lower-cased and right-stripped) segment into `out`, as a line
    /// whose Python-whitespace-separated fields are the tokens (sacrebleu's `tokenizer(line)`,
    /// up to runs of spaces). `scratch` holds reusable buffers.
    pub(crate) fn tokenize_into(
        self,
        line: &str,
        out: &mut String,
        scratch: &mut TokenizerScratch,
    ) {
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
            BleuTokenizer::Zh => tokenize_zh_into(line, out, scratch),
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
            "zh" => Ok(BleuTokenizer::Zh),
            "char" => Ok(BleuTokenizer::Char),
            "none" => Ok(BleuTokenizer::None),
            other => Err(Error::InvalidConfig(format!(
                "unknown BLEU tokenizer {other:?}: expected one of 13a, intl, zh, char, none"
            ))),
        }
    }
}

/// Reusable buffers of the `13a` tokeniser.
#[derive(Debug, Default)]
pub(crate) struct TokenizerScratch {
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
    regexp_rules_into(&s, true, out, scratch);
}

/// sacrebleu's `TokenizerRegexp`, the four mteval-v13a punctuation rules shared by `13a` and
/// `zh`, applied to `line` (padded with one space on each side first when `pad`, as `13a`
/// does and `zh` does not), the result appended to `out`.
fn regexp_rules_into(line: &str, pad: bool, out: &mut String, scratch: &mut TokenizerScratch) {
    // Rule 1: pad the split characters with spaces.
    let src = line.as_bytes();
    let TokenizerScratch { a, b } = scratch;
    a.clear();
    a.reserve(src.len() + 16);
    if pad {
        a.push(b' ');
    }
    let mut copied = 0;
    for (j, &c) in src.iter().enumerate() {
        if SPLIT_13A[c as usize] {
            a.extend_from_slice(&src[copied..j]);
            a.extend_from_slice(&[b' ', c, b' ']);
            copied = j + 1;
        }
    }
    a.extend_from_slice(&src[copied..]);
    if pad {
        a.push(b' ');
    }
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

/// Whether sacrebleu's `TokenizerZh._is_chinese_char` is true for `c` (see
/// [`BleuTokenizer::Zh`] for the two ranges that differ from their comments).
fn is_zh_char(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4db5}'
        | '\u{4e00}'..='\u{9fa5}'
        | '\u{9fa6}'..='\u{9fbb}'
        | '\u{f900}'..='\u{fa2d}'
        | '\u{fa30}'..='\u{fa6a}'
        | '\u{fa70}'..='\u{fad9}'
        // sacrebleu: ('\u20000', '\u2a6d6'), i.e. "\u2000" "0" .. "\u2a6d" "6".
        | '\u{2001}'..='\u{2a6d}'
        // sacrebleu: ('\u2f800', '\u2fa1d'), i.e. "\u2f80" "0" .. "\u2fa1" "d".
        | '\u{2f81}'..='\u{2fa1}'
        | '\u{ff00}'..='\u{ffef}'
        | '\u{2e80}'..='\u{2eff}'
        | '\u{3000}'..='\u{303f}'
        | '\u{31c0}'..='\u{31ef}'
        | '\u{2f00}'..='\u{2fdf}'
        | '\u{2ff0}'..='\u{2fff}'
        | '\u{3100}'..='\u{312f}'
        | '\u{31a0}'..='\u{31bf}'
        | '\u{fe10}'..='\u{fe1f}'
        | '\u{fe30}'..='\u{fe4f}'
        // sacrebleu's ranges U+2600..U+26FF and U+2700..U+27BF lie inside U+2001..U+2A6D.
        | '\u{3200}'..='\u{32ff}'
        | '\u{3300}'..='\u{33ff}')
}

/// sacrebleu's `TokenizerZh`: strip the line (Python whitespace), surround every Chinese
/// character with spaces, then apply the mteval-v13a punctuation rules without padding.
fn tokenize_zh_into(line: &str, out: &mut String, scratch: &mut TokenizerScratch) {
    let line = line.trim_matches(is_py_space);
    let mut spaced = String::with_capacity(line.len() * 2);
    for c in line.chars() {
        if is_zh_char(c) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    regexp_rules_into(&spaced, false, out, scratch);
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

    /// Expected strings are sacrebleu 2.6.0's `TokenizerZh()(line)`: no padding (`.5` and
    /// `5.` stay whole at the ends), no unescaping, and `€`/`…` split as "Chinese".
    #[test]
    fn zh_matches_sacrebleu() {
        let t = BleuTokenizer::Zh;
        assert_eq!(tok(t, "我爱北京天安门。"), "我 爱 北 京 天 安 门 。");
        assert_eq!(
            tok(t, " 价格是€5.00，约 3.5 美元… ok. "),
            "价 格 是 € 5.00 ， 约 3.5 美 元 … ok ."
        );
        assert_eq!(tok(t, ".5 at start"), ".5 at start");
        assert_eq!(tok(t, "end 5."), "end 5.");
        assert_eq!(
            tok(t, "AT&amp;T 中文English混合 12,000 人"),
            "AT & amp ; T 中 文 English 混 合 12,000 人"
        );
        // The two ranges sacrebleu writes with five hex digits.
        assert!(is_zh_char('\u{2001}') && is_zh_char('\u{2a6d}') && is_zh_char('\u{2fa1}'));
        assert!(!is_zh_char('\u{2000}') && !is_zh_char('\u{2a6e}') && !is_zh_char('\u{20000}'));
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
            BleuTokenizer::Zh,
            BleuTokenizer::Char,
            BleuTokenizer::None,
        ] {
            assert_eq!(t.name().parse::<BleuTokenizer>().expect("known name"), t);
        }
        assert!("ja-mecab".parse::<BleuTokenizer>().is_err());
    }
}
