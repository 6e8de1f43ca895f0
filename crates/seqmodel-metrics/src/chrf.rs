//! chrF (Popović, 2015) and chrF++ (Popović, 2017) exactly as sacrebleu 2.6.0's `CHRF`.
//!
//! Character n-grams of orders `1..=char_order` (whitespace removed) and, for chrF++, word
//! n-grams of orders `1..=word_order` (ASCII punctuation split off the start or end of each
//! word) are matched against each reference; each segment keeps the statistics of its
//! reference with the best sentence-level F; statistics are summed over the corpus and the
//! F-β score is computed from the averaged precision and recall of the orders that occur
//! (sacrebleu's default, `eps_smoothing = false`) or from the mean of the per-order F-scores
//! (`eps_smoothing = true`).

use std::hash::Hash;

use rustc_hash::FxHashMap;

use crate::bleu::{RefCount, SACREBLEU_VERSION};
use crate::error::check_same_len;
use crate::pytext::{is_py_space, py_lower, py_split};
use crate::{Accumulator, Error, Result};

/// Settings of a chrF computation (sacrebleu's `CHRF(...)` arguments).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChrfConfig {
    /// Highest character n-gram order (default 6).
    pub char_order: usize,
    /// Highest word n-gram order: 0 for chrF (default), 2 for chrF++.
    pub word_order: usize,
    /// Weight of recall relative to precision (default 2).
    pub beta: u32,
    /// Lower-case before extracting n-grams.
    pub lowercase: bool,
    /// Keep whitespace in character n-grams.
    pub whitespace: bool,
    /// Use chrF++.py-style epsilon smoothing instead of effective-order averaging.
    pub eps_smoothing: bool,
}

impl Default for ChrfConfig {
    fn default() -> Self {
        Self::chrf()
    }
}

impl ChrfConfig {
    /// chrF: character order 6, no word n-grams, β = 2.
    pub fn chrf() -> Self {
        Self {
            char_order: 6,
            word_order: 0,
            beta: 2,
            lowercase: false,
            whitespace: false,
            eps_smoothing: false,
        }
    }

    /// chrF++: as [`ChrfConfig::chrf`] with word order 2.
    pub fn chrf_plus_plus() -> Self {
        Self {
            word_order: 2,
            ..Self::chrf()
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if self.char_order + self.word_order == 0 {
            return Err(Error::InvalidConfig(
                "chrF needs char_order + word_order >= 1".into(),
            ));
        }
        if self.char_order > 64 || self.word_order > 64 {
            return Err(Error::InvalidConfig(format!(
                "char_order = {}, word_order = {}: expected at most 64 each",
                self.char_order, self.word_order
            )));
        }
        Ok(())
    }

    fn orders(&self) -> usize {
        self.char_order + self.word_order
    }

    /// The metric's name as sacrebleu prints it: `chrF2`, `chrF2++`.
    pub fn name(&self) -> String {
        format!("chrF{}{}", self.beta, "+".repeat(self.word_order))
    }

    /// sacrebleu's signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0`.
    pub fn signature(&self, nrefs: RefCount) -> String {
        format!(
            "nrefs:{nrefs}|case:{}|eff:{}|nc:{}|nw:{}|space:{}|version:{SACREBLEU_VERSION}",
            if self.lowercase { "lc" } else { "mixed" },
            if self.eps_smoothing { "no" } else { "yes" },
            self.char_order,
            self.word_order,
            if self.whitespace { "yes" } else { "no" },
        )
    }

    /// The F-β score (percent) of summed statistics `[hyp, ref, match]` per order, as
    /// sacrebleu's `CHRF._compute_f_score`.
    pub fn f_score(&self, stats: &[[u64; 3]]) -> f64 {
        let eps = 1e-16;
        let factor = f64::from(self.beta * self.beta);
        let mut score = 0.0;
        let mut effective_order = 0u32;
        let (mut avg_prec, mut avg_rec) = (0.0, 0.0);
        for &[n_hyp, n_ref, n_match] in stats {
            let prec = if n_hyp > 0 {
                n_match as f64 / n_hyp as f64
            } else {
                eps
            };
            let rec = if n_ref > 0 {
                n_match as f64 / n_ref as f64
            } else {
                eps
            };
            let denom = factor * prec + rec;
            score += if denom > 0.0 {
                (1.0 + factor) * prec * rec / denom
            } else {
                eps
            };
            if n_hyp > 0 && n_ref > 0 {
                avg_prec += prec;
                avg_rec += rec;
                effective_order += 1;
            }
        }
        if self.eps_smoothing {
            return 100.0 * score / stats.len() as f64;
        }
        if effective_order == 0 {
            avg_prec = 0.0;
            avg_rec = 0.0;
        } else {
            avg_prec /= f64::from(effective_order);
            avg_rec /= f64::from(effective_order);
        }
        if avg_prec + avg_rec != 0.0 {
            let s = (1.0 + factor) * avg_prec * avg_rec;
            100.0 * (s / (factor * avg_prec + avg_rec))
        } else {
            0.0
        }
    }
}

/// A chrF result.
#[derive(Debug, Clone, PartialEq)]
pub struct ChrfScore {
    /// chrF in percent, 0..=100.
    pub score: f64,
    /// Summed `[hyp, ref, match]` counts per order: character orders first, then word orders.
    pub stats: Vec<[u64; 3]>,
    /// The metric's name (`chrF2`, `chrF2++`).
    pub name: String,
}

impl ChrfScore {
    /// sacrebleu's text line, e.g. `chrF2|nrefs:1|...|version:2.6.0 = 59.7`.
    pub fn format(&self, width: usize, signature: &str) -> String {
        format!("{}|{signature} = {:.width$}", self.name, self.score)
    }
}

/// Counts n-grams (windows of `items` of length `n`).
fn count_ngrams<T: Eq + Hash>(items: &[T], n: usize) -> FxHashMap<&[T], u32> {
    let mut m = FxHashMap::default();
    if n > 0 && items.len() >= n {
        for w in items.windows(n) {
            *m.entry(w).or_insert(0) += 1;
        }
    }
    m
}

/// sacrebleu's `[hyp, ref, match]` for one order.
fn match_stats<K: Eq + Hash>(hyp: &FxHashMap<K, u32>, r: &FxHashMap<K, u32>) -> [u64; 3] {
    let mut matched = 0u64;
    let mut hyp_count = 0u64;
    for (g, &c) in hyp {
        hyp_count += u64::from(c);
        if let Some(&rc) = r.get(g) {
            matched += u64::from(c.min(rc));
        }
    }
    let ref_count: u64 = r.values().map(|&c| u64::from(c)).sum();
    [if r.is_empty() { 0 } else { hyp_count }, ref_count, matched]
}

/// chrF++'s word splitting: ASCII punctuation is split off the end (or else the start) of
/// each whitespace-separated word of two or more characters.
pub(crate) fn chrf_words(sent: &str) -> Vec<&str> {
    const PUNCTS: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    let mut out = Vec::new();
    for w in py_split(sent) {
        let mut chars = w.chars();
        let first = chars.next();
        let last = chars.next_back();
        match (first, last) {
            (Some(_), None) => out.push(w),
            (Some(f), Some(l)) => {
                if PUNCTS.contains(l) {
                    let cut = w.len() - l.len_utf8();
                    out.push(&w[..cut]);
                    out.push(&w[cut..]);
                } else if PUNCTS.contains(f) {
                    let cut = f.len_utf8();
                    out.push(&w[..cut]);
                    out.push(&w[cut..]);
                } else {
                    out.push(w);
                }
            }
            (None, _) => {}
        }
    }
    out
}

/// n-gram counters of one segment: character orders then word orders.
struct SegmentNgrams<'a> {
    chars: Vec<FxHashMap<&'a [char], u32>>,
    words: Vec<FxHashMap<&'a [&'a str], u32>>,
}

fn segment_ngrams<'a>(
    config: &ChrfConfig,
    chars: &'a [char],
    words: &'a [&'a str],
) -> SegmentNgrams<'a> {
    SegmentNgrams {
        chars: (1..=config.char_order)
            .map(|n| count_ngrams(chars, n))
            .collect(),
        words: (1..=config.word_order)
            .map(|n| count_ngrams(words, n))
            .collect(),
    }
}

fn segment_chars(config: &ChrfConfig, s: &str) -> Vec<char> {
    if config.whitespace {
        s.chars().collect()
    } else {
        s.chars().filter(|&c| !is_py_space(c)).collect()
    }
}

/// Statistics of one segment against its best reference.
fn segment_stats<S: AsRef<str>>(config: &ChrfConfig, hyp: &str, refs: &[S]) -> Vec<[u64; 3]> {
    let prep = |s: &str| {
        if config.lowercase {
            py_lower(s)
        } else {
            s.to_string()
        }
    };
    let hyp = prep(hyp);
    let hyp_chars = segment_chars(config, &hyp);
    let hyp_words = if config.word_order > 0 {
        chrf_words(&hyp)
    } else {
        Vec::new()
    };
    let h = segment_ngrams(config, &hyp_chars, &hyp_words);
    let mut best: Option<(f64, Vec<[u64; 3]>)> = None;
    for r in refs {
        let r = prep(r.as_ref());
        let r_chars = segment_chars(config, &r);
        let r_words = if config.word_order > 0 {
            chrf_words(&r)
        } else {
            Vec::new()
        };
        let rn = segment_ngrams(config, &r_chars, &r_words);
        let mut stats = Vec::with_capacity(config.orders());
        for (hc, rc) in h.chars.iter().zip(&rn.chars) {
            stats.push(match_stats(hc, rc));
        }
        for (hw, rw) in h.words.iter().zip(&rn.words) {
            stats.push(match_stats(hw, rw));
        }
        let f = config.f_score(&stats);
        if best.as_ref().is_none_or(|(bf, _)| f > *bf) {
            best = Some((f, stats));
        }
    }
    best.map_or_else(|| vec![[0; 3]; config.orders()], |(_, s)| s)
}

/// Corpus chrF: `hyps[i]` is scored against `refs[i]` (one or more references each).
///
/// ```
/// use seqmodel_metrics::{corpus_chrf, ChrfConfig};
/// let s = corpus_chrf(&["the cat sat on the mat"], &[["the cat sat on a mat"]], &ChrfConfig::chrf_plus_plus())?;
/// assert_eq!(format!("{:.2}", s.score), "72.03");
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn corpus_chrf<H, R, S>(hyps: &[H], refs: &[R], config: &ChrfConfig) -> Result<ChrfScore>
where
    H: AsRef<str>,
    R: AsRef<[S]>,
    S: AsRef<str>,
{
    let mut acc = ChrfAccumulator::new(config.clone())?;
    acc.update(hyps, refs)?;
    acc.compute()
}

/// Sentence chrF of one hypothesis against its references.
///
/// ```
/// use seqmodel_metrics::{sentence_chrf, ChrfConfig};
/// let s = sentence_chrf("abc", &["abc"], &ChrfConfig::chrf())?;
/// assert!((s.score - 100.0).abs() < 1e-9);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn sentence_chrf<S: AsRef<str>>(
    hyp: &str,
    refs: &[S],
    config: &ChrfConfig,
) -> Result<ChrfScore> {
    let refs: Vec<&str> = refs.iter().map(|r| r.as_ref()).collect();
    corpus_chrf(&[hyp], &[refs], config)
}

/// Streaming corpus chrF (summed integer statistics; equal to [`corpus_chrf`] on the
/// concatenated batches).
#[derive(Debug, Clone, PartialEq)]
pub struct ChrfAccumulator {
    config: ChrfConfig,
    stats: Vec<[u64; 3]>,
    nrefs: Option<RefCount>,
    segments: u64,
}

impl ChrfAccumulator {
    /// An empty accumulator.
    pub fn new(config: ChrfConfig) -> Result<Self> {
        config.validate()?;
        let stats = vec![[0; 3]; config.orders()];
        Ok(Self {
            config,
            stats,
            nrefs: None,
            segments: 0,
        })
    }

    /// Adds a batch of hypotheses with their references.
    pub fn update<H, R, S>(&mut self, hyps: &[H], refs: &[R]) -> Result<()>
    where
        H: AsRef<str>,
        R: AsRef<[S]>,
        S: AsRef<str>,
    {
        check_same_len("hypotheses vs references", hyps.len(), refs.len())?;
        for (i, (h, r)) in hyps.iter().zip(refs).enumerate() {
            let r = r.as_ref();
            if r.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "hypothesis {i} has no reference: expected at least one"
                )));
            }
            let n = RefCount::Fixed(r.len());
            self.nrefs = Some(self.nrefs.map_or(n, |c| c.combine(n)));
            for (acc, s) in self
                .stats
                .iter_mut()
                .zip(segment_stats(&self.config, h.as_ref(), r))
            {
                for k in 0..3 {
                    acc[k] += s[k];
                }
            }
            self.segments += 1;
        }
        Ok(())
    }

    /// The signature of the data seen so far.
    pub fn signature(&self) -> String {
        self.config
            .signature(self.nrefs.unwrap_or(RefCount::Fixed(1)))
    }

    /// Summed `[hyp, ref, match]` statistics per order.
    pub fn stats(&self) -> &[[u64; 3]] {
        &self.stats
    }
}

impl Accumulator for ChrfAccumulator {
    type Output = ChrfScore;

    fn compute(&self) -> Result<ChrfScore> {
        if self.segments == 0 {
            return Err(Error::EmptyInput(
                "chrF of an empty corpus is undefined".into(),
            ));
        }
        Ok(ChrfScore {
            score: self.config.f_score(&self.stats),
            stats: self.stats.clone(),
            name: self.config.name(),
        })
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.config != other.config {
            return Err(Error::IncompatibleMerge(format!(
                "chrF configurations differ: {:?} vs {:?}",
                self.config, other.config
            )));
        }
        for (a, b) in self.stats.iter_mut().zip(&other.stats) {
            for k in 0..3 {
                a[k] += b[k];
            }
        }
        self.nrefs = match (self.nrefs, other.nrefs) {
            (Some(a), Some(b)) => Some(a.combine(b)),
            (a, b) => a.or(b),
        };
        self.segments += other.segments;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sacrebleu `CHRF()._remove_punctuation("(hi) a, b. 'x")` == `['(hi', ')', 'a', ',', 'b', '.', "'", 'x']`.
    #[test]
    fn word_splitting_matches_sacrebleu() {
        assert_eq!(
            chrf_words("(hi) a, b. 'x"),
            vec!["(hi", ")", "a", ",", "b", ".", "'", "x"]
        );
    }

    /// One order with 2 matches out of 4 hypothesis and 2 reference n-grams:
    /// P = 0.5, R = 1, F2 = 5 * 0.5 / (4 * 0.5 + 1) = 2.5 / 3.
    #[test]
    fn f_score_by_hand() {
        let c = ChrfConfig {
            char_order: 1,
            ..ChrfConfig::chrf()
        };
        assert!((c.f_score(&[[4, 2, 2]]) - 250.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.f_score(&[[0, 2, 0]]), 0.0);
    }

    #[test]
    fn identical_is_100_and_names() {
        let s =
            sentence_chrf("a b c", &["a b c"], &ChrfConfig::chrf_plus_plus()).expect("valid input");
        assert!((s.score - 100.0).abs() < 1e-9);
        assert_eq!(s.name, "chrF2++");
        assert_eq!(
            ChrfConfig::chrf().signature(RefCount::Fixed(2)),
            "nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"
        );
    }

    #[test]
    fn best_reference_is_kept() {
        let one = sentence_chrf("kitten", &["kitten"], &ChrfConfig::chrf()).expect("valid");
        let two =
            sentence_chrf("kitten", &["sitting", "kitten"], &ChrfConfig::chrf()).expect("valid");
        assert_eq!(one.score, two.score);
    }
}
