//! Tokenisers behind one trait: whitespace, characters (grapheme clusters), Unicode words and
//! punctuation, and space-separated symbols (phonemes).

use std::fmt::Debug;

use unicode_segmentation::UnicodeSegmentation;

use crate::normalize::Normalizer;

/// Splits text into tokens. Implementations are cheap to share across data-loader threads.
///
/// ```
/// use seqmodel_data::{CharTokenizer, Normalizer, Tokenizer, WordTokenizer};
///
/// let words = WordTokenizer::new(Normalizer::default().lowercase());
/// assert_eq!(words.tokenize("It's fine, Bob!"), ["it's", "fine", ",", "bob", "!"]);
///
/// let chars = CharTokenizer::default();
/// assert_eq!(chars.tokenize("ae\u{301}"), ["a", "e\u{301}"]); // one grapheme cluster
/// ```
pub trait Tokenizer: Send + Sync + Debug {
    /// The tokens of `text`, in order.
    fn tokenize(&self, text: &str) -> Vec<String>;
}

/// Splits on runs of Unicode whitespace.
#[derive(Debug, Clone, Default)]
pub struct WhitespaceTokenizer {
    /// Applied before splitting.
    pub normalizer: Normalizer,
}

impl WhitespaceTokenizer {
    /// A whitespace tokeniser with this normalisation.
    pub fn new(normalizer: Normalizer) -> Self {
        Self { normalizer }
    }
}

impl Tokenizer for WhitespaceTokenizer {
    fn tokenize(&self, text: &str) -> Vec<String> {
        if self.normalizer.is_identity() {
            text.split_whitespace().map(str::to_string).collect()
        } else {
            self.normalizer
                .apply(text)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        }
    }
}

/// Splits into extended grapheme clusters (user-perceived characters), so that a letter and its
/// combining accents, or an emoji sequence, stay one token.
#[derive(Debug, Clone, Default)]
pub struct CharTokenizer {
    /// Applied before splitting.
    pub normalizer: Normalizer,
    /// Whether whitespace clusters are kept as tokens (default: dropped).
    pub keep_whitespace: bool,
}

impl CharTokenizer {
    /// A character tokeniser with this normalisation that drops whitespace.
    pub fn new(normalizer: Normalizer) -> Self {
        Self {
            normalizer,
            keep_whitespace: false,
        }
    }

    /// Keeps whitespace clusters as tokens.
    pub fn keep_whitespace(mut self) -> Self {
        self.keep_whitespace = true;
        self
    }
}

impl Tokenizer for CharTokenizer {
    fn tokenize(&self, text: &str) -> Vec<String> {
        let text = self.normalizer.apply(text);
        text.graphemes(true)
            .filter(|g| self.keep_whitespace || !g.chars().all(char::is_whitespace))
            .map(str::to_string)
            .collect()
    }
}

/// Unicode words and punctuation (UAX #29 word boundaries): words, numbers and each punctuation
/// mark become tokens; whitespace is dropped. Contractions such as `it's` stay one word.
#[derive(Debug, Clone, Default)]
pub struct WordTokenizer {
    /// Applied before splitting.
    pub normalizer: Normalizer,
}

impl WordTokenizer {
    /// A word tokeniser with this normalisation.
    pub fn new(normalizer: Normalizer) -> Self {
        Self { normalizer }
    }
}

impl Tokenizer for WordTokenizer {
    fn tokenize(&self, text: &str) -> Vec<String> {
        let text = self.normalizer.apply(text);
        text.split_word_bounds()
            .filter(|s| !s.chars().all(char::is_whitespace))
            .map(str::to_string)
            .collect()
    }
}

/// Space-separated symbols taken exactly as written (case kept, no normalisation), for
/// inventories such as ARPAbet phonemes: `"HH AH0 L OW1"` → `["HH", "AH0", "L", "OW1"]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SymbolTokenizer;

impl Tokenizer for SymbolTokenizer {
    fn tokenize(&self, text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_splits_on_unicode_spaces() {
        let t = WhitespaceTokenizer::default();
        assert_eq!(t.tokenize(" a\u{3000}b\t c \n"), ["a", "b", "c"]);
        let lower = WhitespaceTokenizer::new(Normalizer::default().lowercase());
        assert_eq!(lower.tokenize("The CAT"), ["the", "cat"]);
    }

    #[test]
    fn chars_keep_grapheme_clusters_together() {
        let t = CharTokenizer::default();
        // Family emoji (man ZWJ woman ZWJ girl) is one grapheme.
        assert_eq!(
            t.tokenize("a \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"),
            ["a", "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"]
        );
        assert_eq!(
            CharTokenizer::default().keep_whitespace().tokenize("a b"),
            ["a", " ", "b"]
        );
    }

    #[test]
    fn words_split_punctuation_and_keep_non_latin_words() {
        let t = WordTokenizer::default();
        assert_eq!(
            t.tokenize("¿Qué tal? 3.5 km—ok"),
            ["¿", "Qué", "tal", "?", "3.5", "km", "—", "ok"]
        );
    }

    #[test]
    fn symbols_keep_case_and_digits() {
        assert_eq!(
            SymbolTokenizer.tokenize("HH AH0  L OW1"),
            ["HH", "AH0", "L", "OW1"]
        );
    }
}
