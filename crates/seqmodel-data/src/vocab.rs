//! Token vocabularies: token ↔ id maps with reserved special tokens.
//!
//! Ids are laid out as: `<pad>` = 0, `<unk>` = 1, `<bos>` = 2, `<eos>` = 3 (the last two unless
//! switched off), then user-defined specials in the order given, then ordinary tokens by
//! decreasing frequency, ties broken by first appearance. The order is therefore stable: the same
//! token stream always gives the same ids.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::source::read_bytes;

/// The padding token; always id 0.
pub const PAD: &str = "<pad>";
/// The unknown token; always id 1.
pub const UNK: &str = "<unk>";
/// Beginning of sequence; id 2 when the vocabulary has it.
pub const BOS: &str = "<bos>";
/// End of sequence; id 3 when the vocabulary has it.
pub const EOS: &str = "<eos>";

/// How to build a [`Vocab`] from counted tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VocabConfig {
    /// Tokens seen fewer times than this are left out (they map to `<unk>`). At least 1.
    pub min_freq: usize,
    /// Largest vocabulary, specials included; `None` for no limit.
    pub max_size: Option<usize>,
    /// Whether `<bos>` (id 2) and `<eos>` (id 3) are reserved.
    pub bos_eos: bool,
    /// Further reserved tokens (e.g. `<mask>`, `<sep>`), given ids right after the built-in ones.
    pub extra_specials: Vec<String>,
}

impl Default for VocabConfig {
    fn default() -> Self {
        Self {
            min_freq: 1,
            max_size: None,
            bos_eos: true,
            extra_specials: Vec::new(),
        }
    }
}

impl VocabConfig {
    /// Keeps tokens seen at least `min_freq` times.
    pub fn with_min_freq(mut self, min_freq: usize) -> Self {
        self.min_freq = min_freq;
        self
    }

    /// Caps the vocabulary (specials included) at `max_size` entries.
    pub fn with_max_size(mut self, max_size: usize) -> Self {
        self.max_size = Some(max_size);
        self
    }

    /// Reserves `<bos>`/`<eos>` or not.
    pub fn with_bos_eos(mut self, bos_eos: bool) -> Self {
        self.bos_eos = bos_eos;
        self
    }

    /// Adds a user-defined special token.
    pub fn with_special(mut self, token: impl Into<String>) -> Self {
        self.extra_specials.push(token.into());
        self
    }

    fn specials(&self) -> Vec<String> {
        let mut specials = vec![PAD.to_string(), UNK.to_string()];
        if self.bos_eos {
            specials.push(BOS.to_string());
            specials.push(EOS.to_string());
        }
        specials.extend(self.extra_specials.iter().cloned());
        specials
    }

    fn validate(&self) -> Result<()> {
        if self.min_freq == 0 {
            return Err(Error::Config {
                config: "VocabConfig",
                field: "min_freq",
                reason: "is 0; set it to at least 1 (1 keeps every token)".into(),
            });
        }
        let specials = self.specials();
        for (i, s) in specials.iter().enumerate() {
            if s.is_empty() {
                return Err(Error::Config {
                    config: "VocabConfig",
                    field: "extra_specials",
                    reason: "holds an empty token; every special token needs text".into(),
                });
            }
            if specials[..i].contains(s) {
                return Err(Error::Config {
                    config: "VocabConfig",
                    field: "extra_specials",
                    reason: format!("\"{s}\" is reserved twice; list each special token once"),
                });
            }
        }
        if let Some(max) = self.max_size
            && max < specials.len()
        {
            return Err(Error::Config {
                config: "VocabConfig",
                field: "max_size",
                reason: format!(
                    "is {max}, smaller than the {n} reserved special tokens; set it to at least \
                     {n}, or to None for no limit",
                    n = specials.len()
                ),
            });
        }
        Ok(())
    }

    /// Counts the tokens of every sequence and builds the vocabulary.
    pub fn build<I, S, T>(&self, sequences: I) -> Result<Vocab>
    where
        I: IntoIterator<Item = S>,
        S: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut counter = TokenCounter::default();
        for sequence in sequences {
            counter.add(sequence);
        }
        counter.build(self)
    }
}

/// Token counts in order of first appearance, for building a [`Vocab`] incrementally.
#[derive(Debug, Clone, Default)]
pub struct TokenCounter {
    counts: HashMap<String, (usize, usize)>,
    next: usize,
}

impl TokenCounter {
    /// Counts the tokens of one sequence.
    pub fn add<S, T>(&mut self, sequence: S)
    where
        S: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        for token in sequence {
            let token = token.as_ref();
            match self.counts.get_mut(token) {
                Some((count, _)) => *count += 1,
                None => {
                    self.counts.insert(token.to_string(), (1, self.next));
                    self.next += 1;
                }
            }
        }
    }

    /// How often `token` was seen.
    pub fn count(&self, token: &str) -> usize {
        self.counts.get(token).map_or(0, |(count, _)| *count)
    }

    /// Number of distinct tokens seen.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }

    /// Builds the vocabulary: specials, then tokens by decreasing count, ties by first appearance.
    pub fn build(&self, config: &VocabConfig) -> Result<Vocab> {
        config.validate()?;
        let specials = config.specials();
        let mut ranked: Vec<(&String, usize, usize)> = self
            .counts
            .iter()
            .filter(|(token, (count, _))| *count >= config.min_freq && !specials.contains(token))
            .map(|(token, (count, first))| (token, *count, *first))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let room = config
            .max_size
            .map_or(usize::MAX, |max| max - specials.len());
        let mut tokens = specials.clone();
        tokens.extend(ranked.into_iter().take(room).map(|(t, _, _)| t.clone()));
        Vocab::from_parts(tokens, specials.len(), config.bos_eos).map_err(|reason| Error::Config {
            config: "VocabConfig",
            field: "vocab",
            reason,
        })
    }
}

/// How much of a token stream a vocabulary covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Coverage {
    /// Running tokens seen.
    pub tokens: usize,
    /// Running tokens that are in the vocabulary.
    pub known_tokens: usize,
    /// Distinct token types seen.
    pub types: usize,
    /// Distinct types that are in the vocabulary.
    pub known_types: usize,
}

impl Coverage {
    /// Fraction of running tokens that are known (1 for an empty stream).
    pub fn token_rate(&self) -> f64 {
        if self.tokens == 0 {
            1.0
        } else {
            self.known_tokens as f64 / self.tokens as f64
        }
    }

    /// Fraction of distinct types that are known (1 for an empty stream).
    pub fn type_rate(&self) -> f64 {
        if self.types == 0 {
            1.0
        } else {
            self.known_types as f64 / self.types as f64
        }
    }
}

/// A token ↔ id map. Ids: `<pad>` = 0, `<unk>` = 1, `<bos>` = 2, `<eos>` = 3 (the last two
/// unless switched off), then user-defined specials in the order given, then ordinary tokens by
/// decreasing frequency, ties broken by first appearance.
///
/// ```
/// use seqmodel_data::{Vocab, VocabConfig};
///
/// let corpus = [vec!["the", "cat", "sat"], vec!["the", "dog"]];
/// let vocab: Vocab = VocabConfig::default().build(corpus)?;
/// assert_eq!(vocab.pad_id(), 0);
/// assert_eq!(vocab.id("the"), 4); // most frequent token right after the 4 specials
/// assert_eq!(vocab.encode(["the", "bird"]), vec![4, vocab.unk_id()]);
/// assert_eq!(vocab.decode(&[4, 5])?, vec!["the", "cat"]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    tokens: Vec<String>,
    index: HashMap<String, usize>,
    num_specials: usize,
    bos_eos: bool,
}

/// The JSON form of a [`Vocab`].
#[derive(Serialize, Deserialize)]
struct VocabFile {
    format: String,
    num_specials: usize,
    bos_eos: bool,
    tokens: Vec<String>,
}

const VOCAB_FORMAT: &str = "seqmodel-vocab/1";

impl Vocab {
    fn from_parts(
        tokens: Vec<String>,
        num_specials: usize,
        bos_eos: bool,
    ) -> std::result::Result<Self, String> {
        let expected: &[&str] = if bos_eos {
            &[PAD, UNK, BOS, EOS]
        } else {
            &[PAD, UNK]
        };
        if num_specials < expected.len() || num_specials > tokens.len() {
            return Err(format!(
                "{num_specials} specials do not fit {} tokens with {} built-in specials",
                tokens.len(),
                expected.len()
            ));
        }
        for (id, want) in expected.iter().enumerate() {
            if tokens[id] != *want {
                return Err(format!(
                    "id {id} must be \"{want}\", found \"{}\"",
                    tokens[id]
                ));
            }
        }
        let mut index = HashMap::with_capacity(tokens.len());
        for (id, token) in tokens.iter().enumerate() {
            if index.insert(token.clone(), id).is_some() {
                return Err(format!("token \"{token}\" appears twice"));
            }
        }
        Ok(Self {
            tokens,
            index,
            num_specials,
            bos_eos,
        })
    }

    /// Number of entries, specials included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Always false: a vocabulary holds at least `<pad>` and `<unk>`.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Number of reserved special tokens (ids `0..num_specials`).
    pub fn num_specials(&self) -> usize {
        self.num_specials
    }

    /// Id of `<pad>` (0).
    pub fn pad_id(&self) -> usize {
        0
    }

    /// Id of `<unk>` (1).
    pub fn unk_id(&self) -> usize {
        1
    }

    /// Id of `<bos>` (2), if reserved.
    pub fn bos_id(&self) -> Option<usize> {
        self.bos_eos.then_some(2)
    }

    /// Id of `<eos>` (3), if reserved.
    pub fn eos_id(&self) -> Option<usize> {
        self.bos_eos.then_some(3)
    }

    /// Whether `id` is a reserved special.
    pub fn is_special(&self, id: usize) -> bool {
        id < self.num_specials
    }

    /// The id of `token`, or `<unk>`'s id.
    pub fn id(&self, token: &str) -> usize {
        self.index.get(token).copied().unwrap_or(1)
    }

    /// The id of `token`, if the vocabulary has it.
    pub fn get(&self, token: &str) -> Option<usize> {
        self.index.get(token).copied()
    }

    /// Whether `token` has its own id.
    pub fn contains(&self, token: &str) -> bool {
        self.index.contains_key(token)
    }

    /// The token with this id.
    pub fn token(&self, id: usize) -> Result<&str> {
        self.tokens
            .get(id)
            .map(String::as_str)
            .ok_or(Error::IdOutOfRange {
                id,
                len: self.tokens.len(),
            })
    }

    /// All tokens in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Encodes tokens; unknown ones become `<unk>`.
    pub fn encode<I, T>(&self, tokens: I) -> Vec<usize>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        tokens.into_iter().map(|t| self.id(t.as_ref())).collect()
    }

    /// Encodes tokens between `<bos>` and `<eos>`.
    pub fn encode_with_bos_eos<I, T>(&self, tokens: I) -> Result<Vec<usize>>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let (bos, eos) = self.require_bos_eos()?;
        let mut ids = vec![bos];
        ids.extend(tokens.into_iter().map(|t| self.id(t.as_ref())));
        ids.push(eos);
        Ok(ids)
    }

    pub(crate) fn require_bos_eos(&self) -> Result<(usize, usize)> {
        match (self.bos_id(), self.eos_id()) {
            (Some(bos), Some(eos)) => Ok((bos, eos)),
            _ => Err(Error::Config {
                config: "VocabConfig",
                field: "bos_eos",
                reason: "the vocabulary has no <bos>/<eos>; build it with bos_eos = true".into(),
            }),
        }
    }

    /// Decodes ids into tokens (specials included).
    pub fn decode(&self, ids: &[usize]) -> Result<Vec<&str>> {
        ids.iter().map(|&id| self.token(id)).collect()
    }

    /// Decodes ids as model output: stops at the first `<eos>` and skips `<pad>` and `<bos>`.
    pub fn decode_output(&self, ids: &[usize]) -> Result<Vec<&str>> {
        let mut out = Vec::new();
        for &id in ids {
            if Some(id) == self.eos_id() {
                break;
            }
            if id == self.pad_id() || Some(id) == self.bos_id() {
                continue;
            }
            out.push(self.token(id)?);
        }
        Ok(out)
    }

    /// How much of a token stream this vocabulary covers.
    pub fn coverage<I, S, T>(&self, sequences: I) -> Coverage
    where
        I: IntoIterator<Item = S>,
        S: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut seen: HashMap<String, bool> = HashMap::new();
        let mut coverage = Coverage::default();
        for sequence in sequences {
            for token in sequence {
                let token = token.as_ref();
                let known = self.contains(token);
                coverage.tokens += 1;
                coverage.known_tokens += usize::from(known);
                if !seen.contains_key(token) {
                    seen.insert(token.to_string(), known);
                    coverage.types += 1;
                    coverage.known_types += usize::from(known);
                }
            }
        }
        coverage
    }

    /// The vocabulary as JSON text.
    pub fn to_json(&self) -> String {
        let file = VocabFile {
            format: VOCAB_FORMAT.into(),
            num_specials: self.num_specials,
            bos_eos: self.bos_eos,
            tokens: self.tokens.clone(),
        };
        // Serialising plain strings, integers and booleans cannot fail.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Reads a vocabulary from JSON text; `path` names the source in errors.
    pub fn from_json(text: &[u8], path: &Path) -> Result<Self> {
        let file: VocabFile = serde_json::from_slice(text).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        if file.format != VOCAB_FORMAT {
            return Err(Error::InvalidVocab {
                path: path.to_path_buf(),
                reason: format!("format \"{}\" (expected \"{VOCAB_FORMAT}\")", file.format),
            });
        }
        Self::from_parts(file.tokens, file.num_specials, file.bos_eos).map_err(|reason| {
            Error::InvalidVocab {
                path: path.to_path_buf(),
                reason,
            }
        })
    }

    /// Writes the vocabulary as JSON.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a vocabulary written by [`Vocab::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::from_json(&read_bytes(path)?, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<Vec<&'static str>> {
        vec![
            vec!["b", "a", "c", "a"],
            vec!["c", "d", "a"],
            vec!["e", "<pad>"],
        ]
    }

    /// Counts: a=3, c=2, b=1, d=1, e=1 (first seen in the order b, a, c, d, e);
    /// `<pad>` in the data is not counted again.
    #[test]
    fn order_is_specials_then_frequency_then_first_appearance() {
        let vocab = VocabConfig::default().build(corpus()).unwrap();
        assert_eq!(
            vocab.tokens(),
            ["<pad>", "<unk>", "<bos>", "<eos>", "a", "c", "b", "d", "e"]
        );
    }

    #[test]
    fn min_freq_and_max_size_cut_rare_tokens() {
        let vocab = VocabConfig::default()
            .with_min_freq(2)
            .build(corpus())
            .unwrap();
        assert_eq!(&vocab.tokens()[4..], ["a", "c"]);
        let vocab = VocabConfig::default()
            .with_max_size(6)
            .build(corpus())
            .unwrap();
        assert_eq!(vocab.len(), 6);
        assert_eq!(vocab.id("b"), vocab.unk_id());
    }

    #[test]
    fn user_specials_follow_the_builtin_ones() {
        let vocab = VocabConfig::default()
            .with_bos_eos(false)
            .with_special("<mask>")
            .build(corpus())
            .unwrap();
        assert_eq!(&vocab.tokens()[..4], ["<pad>", "<unk>", "<mask>", "a"]);
        assert_eq!(vocab.bos_id(), None);
        assert!(vocab.encode_with_bos_eos(["a"]).is_err());
        assert!(vocab.is_special(2) && !vocab.is_special(3));
    }

    #[test]
    fn bad_configs_are_rejected() {
        assert!(
            VocabConfig::default()
                .with_min_freq(0)
                .build(corpus())
                .is_err()
        );
        assert!(
            VocabConfig::default()
                .with_max_size(3)
                .build(corpus())
                .is_err()
        );
        assert!(
            VocabConfig::default()
                .with_special("<unk>")
                .build(corpus())
                .is_err()
        );
    }

    #[test]
    fn encode_decode_and_output_decoding() {
        let vocab = VocabConfig::default().build(corpus()).unwrap();
        let ids = vocab.encode_with_bos_eos(["a", "zzz", "c"]).unwrap();
        assert_eq!(ids, vec![2, 4, 1, 5, 3]);
        assert_eq!(
            vocab.decode(&ids).unwrap(),
            ["<bos>", "a", "<unk>", "c", "<eos>"]
        );
        assert_eq!(
            vocab.decode_output(&[2, 4, 0, 5, 3, 6]).unwrap(),
            ["a", "c"]
        );
        assert!(matches!(
            vocab.decode(&[99]),
            Err(Error::IdOutOfRange { id: 99, len: 9 })
        ));
    }

    #[test]
    fn coverage_counts_tokens_and_types() {
        let vocab = VocabConfig::default()
            .with_min_freq(2)
            .build(corpus())
            .unwrap();
        let cov = vocab.coverage([vec!["a", "a", "b", "x"]]);
        assert_eq!(
            cov,
            Coverage {
                tokens: 4,
                known_tokens: 2,
                types: 3,
                known_types: 1
            }
        );
        assert!((cov.token_rate() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn json_round_trip_and_corrupt_files() {
        let vocab = VocabConfig::default()
            .with_special("<sep>")
            .build(corpus())
            .unwrap();
        let json = vocab.to_json();
        let back = Vocab::from_json(json.as_bytes(), Path::new("v.json")).unwrap();
        assert_eq!(back, vocab);

        let swapped = json.replace("\"<pad>\"", "\"<PAD>\"");
        let err = Vocab::from_json(swapped.as_bytes(), Path::new("v.json")).unwrap_err();
        assert!(err.to_string().contains("id 0 must be \"<pad>\""), "{err}");
        let err = Vocab::from_json(b"{", Path::new("v.json")).unwrap_err();
        assert!(matches!(err, Error::Json { .. }));
    }

    proptest::proptest! {
        #[test]
        fn order_is_stable_and_json_round_trips(
            stream in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec!["a", "b", "c", "d", "e", "<unk>"]), 0..8),
                0..12,
            ),
            min_freq in 1usize..3,
        ) {
            let vocab = VocabConfig::default().with_min_freq(min_freq).build(&stream).unwrap();
            let mut counter = TokenCounter::default();
            let mut first_seen: Vec<&str> = Vec::new();
            for seq in &stream {
                counter.add(seq);
                for t in seq {
                    if !first_seen.contains(t) {
                        first_seen.push(t);
                    }
                }
            }
            let ordinary = &vocab.tokens()[vocab.num_specials()..];
            for pair in ordinary.windows(2) {
                let (a, b) = (counter.count(pair[0].as_str()), counter.count(pair[1].as_str()));
                let pos = |t: &str| first_seen.iter().position(|s| *s == t);
                proptest::prop_assert!(
                    a > b || (a == b && pos(pair[0].as_str()) < pos(pair[1].as_str())),
                    "{:?} before {:?} breaks (frequency, first appearance) order", pair[0], pair[1]
                );
            }
            for seq in &stream {
                for (t, id) in seq.iter().zip(vocab.encode(seq)) {
                    let kept = counter.count(t) >= min_freq || *t == UNK;
                    proptest::prop_assert_eq!(vocab.token(id).unwrap() == *t, kept, "token {}", t);
                }
            }
            let back = Vocab::from_json(vocab.to_json().as_bytes(), Path::new("v")).unwrap();
            proptest::prop_assert_eq!(back, vocab);
        }
    }

    #[test]
    fn save_and_load_through_a_file() {
        let vocab = VocabConfig::default().build(corpus()).unwrap();
        let path = std::env::temp_dir().join(format!("seqmodel-vocab-{}.json", std::process::id()));
        vocab.save(&path).unwrap();
        let back = Vocab::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back, vocab);
    }
}
