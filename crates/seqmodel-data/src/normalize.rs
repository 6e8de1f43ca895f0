//! Text normalisation applied by the tokenisers before splitting.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Unicode normalisation form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnicodeForm {
    /// Canonical composition (`e` + combining acute → `é`).
    Nfc,
    /// Compatibility composition: also folds ligatures, full-width forms, superscripts (`ﬁ` → `fi`).
    Nfkc,
}

/// What to do to text before it is split into tokens. The default changes nothing.
///
/// ```
/// use seqmodel_data::{Normalizer, UnicodeForm};
///
/// let n = Normalizer::default().lowercase().unicode(UnicodeForm::Nfkc).strip_accents();
/// assert_eq!(n.apply("Ｃafé ﬁne"), "cafe fine");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalizer {
    /// Unicode normalisation, applied first.
    pub form: Option<UnicodeForm>,
    /// Lowercase (full Unicode lowercasing).
    pub lowercase: bool,
    /// Remove combining marks after canonical decomposition (`é` → `e`).
    pub strip_accents: bool,
    /// Replace typographic quotes, apostrophes and dashes by their ASCII forms.
    pub ascii_punctuation: bool,
}

impl Normalizer {
    /// Turns on lowercasing.
    pub fn lowercase(mut self) -> Self {
        self.lowercase = true;
        self
    }

    /// Applies a Unicode normalisation form.
    pub fn unicode(mut self, form: UnicodeForm) -> Self {
        self.form = Some(form);
        self
    }

    /// Turns on accent stripping.
    pub fn strip_accents(mut self) -> Self {
        self.strip_accents = true;
        self
    }

    /// Turns on ASCII punctuation folding.
    pub fn ascii_punctuation(mut self) -> Self {
        self.ascii_punctuation = true;
        self
    }

    /// Whether this normaliser leaves text unchanged.
    pub fn is_identity(&self) -> bool {
        *self == Self::default()
    }

    /// Normalises `text`.
    pub fn apply(&self, text: &str) -> String {
        if self.is_identity() {
            return text.to_string();
        }
        let mut out: String = match self.form {
            Some(UnicodeForm::Nfc) => text.nfc().collect(),
            Some(UnicodeForm::Nfkc) => text.nfkc().collect(),
            None => text.to_string(),
        };
        if self.strip_accents {
            out = out
                .nfd()
                .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
                .nfc()
                .collect();
        }
        if self.lowercase {
            out = out.to_lowercase();
        }
        if self.ascii_punctuation {
            out = out
                .chars()
                .map(|c| match c {
                    '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => '\'',
                    '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => '"',
                    '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
                    other => other,
                })
                .collect();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_changes_nothing() {
        assert_eq!(Normalizer::default().apply("Ünï “x”"), "Ünï “x”");
    }

    #[test]
    fn nfc_composes_decomposed_accents() {
        let decomposed = "e\u{301}";
        assert_eq!(
            Normalizer::default()
                .unicode(UnicodeForm::Nfc)
                .apply(decomposed),
            "\u{e9}"
        );
    }

    #[test]
    fn punctuation_folding_and_lowercase() {
        let n = Normalizer::default().lowercase().ascii_punctuation();
        assert_eq!(n.apply("“Don’t” — GO"), "\"don't\" - go");
    }
}
