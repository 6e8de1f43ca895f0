//! TER's text normalisation, as sacrebleu 2.6.0's `TercomTokenizer` (a port of Tercom's
//! `Normalizer.java`): optional lower-casing, Western punctuation splitting, CJK character
//! splitting and punctuation removal, then whitespace normalisation.

use std::sync::OnceLock;

use regex::Regex;

use crate::pytext::{py_lower, py_split};
use crate::ter::TerConfig;

/// CJK ideographs, strokes, radicals, compatibility forms and `\u{3200}..\u{3f22}`, plus the
/// CJK and full-width punctuation: what `_normalize_asian` surrounds with spaces. (Its three
/// Hiragana/Katakana rules are anchored at the start of the line, which at that point always
/// starts with the space `_normalize_general_and_western` put there: they never match.)
const ASIAN_SPLIT: &str = "[\u{4e00}-\u{9fff}\u{3400}-\u{4dbf}\u{31c0}-\u{31ef}\u{2e80}-\u{2eff}\
    \u{3300}-\u{33ff}\u{f900}-\u{faff}\u{fe30}-\u{fe4f}\u{3200}-\u{3f22}\
    \u{3001}\u{3002}\u{3008}-\u{3011}\u{3014}-\u{301f}\u{ff61}-\u{ff65}\u{30fb}\
    \u{ff0e}\u{ff0c}\u{ff1f}\u{ff1a}\u{ff1b}\u{ff01}\u{ff02}\u{ff08}\u{ff09}]";

/// sacrebleu's `ASIAN_PUNCT` and `FULL_WIDTH_PUNCT`: removed by `no_punct` with
/// `asian_support`.
fn is_asian_punct(c: char) -> bool {
    matches!(c,
        '\u{3001}' | '\u{3002}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301f}'
        | '\u{ff61}'..='\u{ff65}' | '\u{30fb}'
        | '\u{ff0e}' | '\u{ff0c}' | '\u{ff1f}' | '\u{ff1a}' | '\u{ff1b}' | '\u{ff01}'
        | '\u{ff02}' | '\u{ff08}' | '\u{ff09}')
}

/// The compiled rules: the Western ones in sacrebleu's order, then the Asian split.
struct Rules {
    western: [(Regex, &'static str); 5],
    asian: Regex,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let build = |re: &str| Regex::new(re).expect("the Tercom patterns are valid regexes");
        Rules {
            western: [
                // Tokenise punctuation: `[{-~[-` -&(-+:-@/]` (the space included, as in
                // sacrebleu; it only adds spaces).
                (
                    build(r"([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40/])"),
                    " ${1} ",
                ),
                // Possessives. (sacrebleu's second rule, `'s$` -> ` 's`, cannot match: the
                // line ends with the space added before the first rule.)
                (build(r"'s "), " 's "),
                // Period and comma unless preceded by a digit.
                (build(r"([^0-9])([.,])"), "${1} ${2} "),
                // Period and comma unless followed by a digit.
                (build(r"([.,])([^0-9])"), " ${1} ${2}"),
                // Dash after a digit.
                (build(r"([0-9])(-)"), "${1} ${2} "),
            ],
            asian: build(&format!("({ASIAN_SPLIT})")),
        }
    })
}

/// Tercom's language-independent and Western normalisation (`_normalize_general_and_western`).
fn normalize_western(sent: &str) -> String {
    let unescaped = sent
        .replace("\n-", "")
        .replace('\n', " ")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let mut s = format!(" {unescaped} ");
    for (re, rep) in &rules().western {
        if let std::borrow::Cow::Owned(o) = re.replace_all(&s, *rep) {
            s = o;
        }
    }
    s
}

impl TerConfig {
    /// Normalises one segment (already right-stripped) into its tokens in `out`:
    /// sacrebleu's `TercomTokenizer(...)(sent).split()`.
    pub(crate) fn tokenize(&self, sent: &str, out: &mut Vec<String>) {
        out.clear();
        if sent.is_empty() {
            return;
        }
        let mut s = if self.case_sensitive {
            sent.to_string()
        } else {
            py_lower(sent)
        };
        if self.normalized {
            s = normalize_western(&s);
            if self.asian_support {
                s = rules().asian.replace_all(&s, " ${1} ").into_owned();
            }
        }
        if self.no_punct {
            s.retain(|c| !matches!(c, '.' | ',' | '?' | ':' | ';' | '!' | '"' | '(' | ')'));
            if self.asian_support {
                s.retain(|c| !is_asian_punct(c));
            }
        }
        out.extend(py_split(&s).map(str::to_string));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(n: TerConfig, s: &str) -> String {
        let mut out = Vec::new();
        n.tokenize(s, &mut out);
        out.join(" ")
    }

    /// Expected strings are sacrebleu 2.6.0's `TercomTokenizer(...)(s)`.
    #[test]
    fn default_only_lowercases_and_splits_on_whitespace() {
        let n = TerConfig::default();
        assert_eq!(tok(n, "The Cat, sat.\t ΟΔΟΣ"), "the cat, sat. οδος");
        let cs = TerConfig {
            case_sensitive: true,
            ..n
        };
        assert_eq!(tok(cs, "The Cat"), "The Cat");
        assert_eq!(tok(n, ""), "");
    }

    #[test]
    fn normalized_splits_punctuation_like_tercom() {
        let n = TerConfig {
            normalized: true,
            ..TerConfig::default()
        };
        assert_eq!(
            tok(n, "John's 5-year-old costs $1,000.50, e.g. &quot;x&quot;!"),
            "john 's 5 - year-old costs $ 1,000.50 , e . g . \" x \" !"
        );
        let np = TerConfig {
            no_punct: true,
            ..TerConfig::default()
        };
        assert_eq!(tok(np, "Hi, (you) there?!"), "hi you there");
    }

    #[test]
    fn asian_support_splits_and_removes_cjk_punctuation() {
        let n = TerConfig {
            normalized: true,
            asian_support: true,
            ..TerConfig::default()
        };
        assert_eq!(tok(n, "我爱北京。ok"), "我 爱 北 京 。 ok");
        let np = TerConfig {
            no_punct: true,
            asian_support: true,
            ..TerConfig::default()
        };
        assert_eq!(tok(np, "我爱北京。（好）"), "我爱北京好");
    }
}
