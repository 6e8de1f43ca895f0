//! ROUGE-N, ROUGE-L and ROUGE-Lsum as Google's `rouge-score` 0.1.2 computes them.
//!
//! Tokenisation: lower-case, replace every run of characters outside `[a-z0-9]` by a space
//! (so non-ASCII letters are separators: `café → caf`), split, optionally stem tokens longer
//! than three characters with [`porter_stem`], drop empty tokens.
//!
//! Scores are always `score(target, prediction)`: precision is relative to the prediction,
//! recall to the target, F = 2PR / (P + R) (0 when P + R = 0).
//! ROUGE-Lsum splits both texts on `'\n'` (dropping empty lines) and takes, for each target
//! sentence, the union of its LCS with every predicted sentence; hits are capped by the token
//! counts of the texts so that nothing is counted twice.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use rustc_hash::FxHashMap;

use crate::porter::porter_stem;
use crate::pytext::py_lower;
use crate::{Accumulator, Error, Result};

/// A ROUGE variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RougeType {
    /// ROUGE-N: n-gram overlap (`rouge1`, `rouge2`, ...; n >= 1).
    N(usize),
    /// ROUGE-L: longest common subsequence over the whole text.
    L,
    /// ROUGE-Lsum: summary-level union LCS over newline-separated sentences.
    Lsum,
}

impl fmt::Display for RougeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RougeType::N(n) => write!(f, "rouge{n}"),
            RougeType::L => f.write_str("rougeL"),
            RougeType::Lsum => f.write_str("rougeLsum"),
        }
    }
}

impl FromStr for RougeType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rougeL" => Ok(RougeType::L),
            "rougeLsum" => Ok(RougeType::Lsum),
            _ => {
                let n = s
                    .strip_prefix("rouge")
                    .filter(|d| d.len() == 1)
                    .and_then(|d| d.parse::<usize>().ok())
                    .filter(|&n| n >= 1);
                n.map(RougeType::N).ok_or_else(|| {
                    Error::InvalidConfig(format!(
                        "unknown ROUGE type {s:?}: expected rouge1..rouge9, rougeL or rougeLsum"
                    ))
                })
            }
        }
    }
}

/// Precision, recall and F-measure of one ROUGE variant (fractions in 0..=1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RougeScore {
    /// Overlap relative to the prediction.
    pub precision: f64,
    /// Overlap relative to the target.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub fmeasure: f64,
}

impl RougeScore {
    fn new(precision: f64, recall: f64) -> Self {
        let fmeasure = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Self {
            precision,
            recall,
            fmeasure,
        }
    }
}

/// `rouge-score`'s default tokeniser (see the module docs).
pub(crate) fn rouge_tokenize(text: &str, use_stemmer: bool) -> Vec<String> {
    let lower = py_lower(text);
    lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(|t| {
            if use_stemmer && t.len() > 3 {
                porter_stem(t)
            } else {
                t.to_string()
            }
        })
        .filter(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        .collect()
}

fn ngram_counts(tokens: &[String], n: usize) -> FxHashMap<&[String], u32> {
    let mut m = FxHashMap::default();
    if tokens.len() >= n {
        for w in tokens.windows(n) {
            *m.entry(w).or_insert(0) += 1;
        }
    }
    m
}

fn score_ngrams(target: &[String], prediction: &[String], n: usize) -> RougeScore {
    let t = ngram_counts(target, n);
    let p = ngram_counts(prediction, n);
    let overlap: u64 = t
        .iter()
        .map(|(g, &c)| u64::from(c.min(p.get(g).copied().unwrap_or(0))))
        .sum();
    let t_count: u64 = t.values().map(|&c| u64::from(c)).sum();
    let p_count: u64 = p.values().map(|&c| u64::from(c)).sum();
    RougeScore::new(
        overlap as f64 / p_count.max(1) as f64,
        overlap as f64 / t_count.max(1) as f64,
    )
}

/// LCS table `[rows + 1][cols + 1]`, flattened row-major.
fn lcs_table(r: &[String], c: &[String]) -> Vec<u32> {
    let cols = c.len() + 1;
    let mut t = vec![0u32; (r.len() + 1) * cols];
    for i in 1..=r.len() {
        for j in 1..=c.len() {
            t[i * cols + j] = if r[i - 1] == c[j - 1] {
                t[(i - 1) * cols + j - 1] + 1
            } else {
                t[(i - 1) * cols + j].max(t[i * cols + j - 1])
            };
        }
    }
    t
}

/// Indices into `r` of one LCS of `r` and `c`, read out as `rouge-score` does.
fn lcs_indices(r: &[String], c: &[String]) -> Vec<usize> {
    let t = lcs_table(r, c);
    let cols = c.len() + 1;
    let (mut i, mut j) = (r.len(), c.len());
    let mut out = Vec::new();
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            out.push(i - 1);
            i -= 1;
            j -= 1;
        } else if t[i * cols + j - 1] > t[(i - 1) * cols + j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    out.reverse();
    out
}

fn score_lcs(target: &[String], prediction: &[String]) -> RougeScore {
    if target.is_empty() || prediction.is_empty() {
        return RougeScore::default();
    }
    let t = lcs_table(target, prediction);
    let lcs = f64::from(t[t.len() - 1]);
    RougeScore::new(lcs / prediction.len() as f64, lcs / target.len() as f64)
}

fn score_lsum(target: &[Vec<String>], prediction: &[Vec<String>]) -> RougeScore {
    if target.is_empty() || prediction.is_empty() {
        return RougeScore::default();
    }
    let m: usize = target.iter().map(Vec::len).sum();
    let n: usize = prediction.iter().map(Vec::len).sum();
    if m == 0 || n == 0 {
        return RougeScore::default();
    }
    let mut cnt_r: FxHashMap<&str, i64> = FxHashMap::default();
    let mut cnt_c: FxHashMap<&str, i64> = FxHashMap::default();
    for t in target.iter().flatten() {
        *cnt_r.entry(t).or_insert(0) += 1;
    }
    for t in prediction.iter().flatten() {
        *cnt_c.entry(t).or_insert(0) += 1;
    }
    let mut hits = 0u64;
    for r in target {
        let union: BTreeSet<usize> = prediction.iter().flat_map(|c| lcs_indices(r, c)).collect();
        for i in union {
            let tok = r[i].as_str();
            let (Some(cc), Some(cr)) = (cnt_c.get(tok).copied(), cnt_r.get(tok).copied()) else {
                continue;
            };
            if cc > 0 && cr > 0 {
                hits += 1;
                cnt_c.insert(tok, cc - 1);
                cnt_r.insert(tok, cr - 1);
            }
        }
    }
    RougeScore::new(hits as f64 / n as f64, hits as f64 / m as f64)
}

/// Scores of several ROUGE variants, in the order they were requested.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RougeScores {
    /// `(variant, score)` pairs.
    pub scores: Vec<(RougeType, RougeScore)>,
}

impl RougeScores {
    /// The score of one variant, if it was computed.
    pub fn get(&self, t: RougeType) -> Option<RougeScore> {
        self.scores.iter().find(|(k, _)| *k == t).map(|(_, s)| *s)
    }
}

/// A ROUGE scorer (`rouge_score.rouge_scorer.RougeScorer`).
///
/// ```
/// use seqmodel_metrics::{RougeScorer, RougeType};
/// let scorer = RougeScorer::new(vec![RougeType::N(1), RougeType::L], true)?;
/// let s = scorer.score("The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log.");
/// let r1 = s.get(RougeType::N(1)).expect("requested");
/// assert!((r1.precision - 0.75).abs() < 1e-12 && (r1.recall - 2.0 / 3.0).abs() < 1e-12);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RougeScorer {
    types: Vec<RougeType>,
    use_stemmer: bool,
}

impl RougeScorer {
    /// A scorer for the given variants, with or without the Porter stemmer.
    pub fn new(types: Vec<RougeType>, use_stemmer: bool) -> Result<Self> {
        if types.is_empty() {
            return Err(Error::InvalidConfig("no ROUGE type requested".into()));
        }
        if types.contains(&RougeType::N(0)) {
            return Err(Error::InvalidConfig("rouge-N requires n >= 1".into()));
        }
        Ok(Self { types, use_stemmer })
    }

    /// rouge1, rouge2, rougeL and rougeLsum.
    pub fn all(use_stemmer: bool) -> Self {
        Self {
            types: vec![
                RougeType::N(1),
                RougeType::N(2),
                RougeType::L,
                RougeType::Lsum,
            ],
            use_stemmer,
        }
    }

    /// The requested variants.
    pub fn types(&self) -> &[RougeType] {
        &self.types
    }

    /// Whether the Porter stemmer is used.
    pub fn use_stemmer(&self) -> bool {
        self.use_stemmer
    }

    /// Scores a prediction against one target (note the order: target first).
    pub fn score(&self, target: &str, prediction: &str) -> RougeScores {
        let tok = |s: &str| rouge_tokenize(s, self.use_stemmer);
        let needs_flat = self.types.iter().any(|t| *t != RougeType::Lsum);
        let (tt, pt) = if needs_flat {
            (tok(target), tok(prediction))
        } else {
            (Vec::new(), Vec::new())
        };
        let sents = |s: &str| -> Vec<Vec<String>> {
            s.split('\n').filter(|x| !x.is_empty()).map(tok).collect()
        };
        let scores = self
            .types
            .iter()
            .map(|&t| {
                let s = match t {
                    RougeType::N(n) => score_ngrams(&tt, &pt, n),
                    RougeType::L => score_lcs(&tt, &pt),
                    RougeType::Lsum => score_lsum(&sents(target), &sents(prediction)),
                };
                (t, s)
            })
            .collect();
        RougeScores { scores }
    }

    /// Scores a prediction against several targets: for each variant independently, the
    /// target with the highest F-measure (the first one on ties), as `score_multi`.
    pub fn score_multi<S: AsRef<str>>(
        &self,
        targets: &[S],
        prediction: &str,
    ) -> Result<RougeScores> {
        if targets.is_empty() {
            return Err(Error::EmptyInput(
                "score_multi needs at least one target".into(),
            ));
        }
        let all: Vec<RougeScores> = targets
            .iter()
            .map(|t| self.score(t.as_ref(), prediction))
            .collect();
        let scores = self
            .types
            .iter()
            .enumerate()
            .map(|(k, &t)| {
                let mut best = all[0].scores[k].1;
                for s in &all[1..] {
                    if s.scores[k].1.fmeasure > best.fmeasure {
                        best = s.scores[k].1;
                    }
                }
                (t, best)
            })
            .collect();
        Ok(RougeScores { scores })
    }
}

/// Streaming mean of per-example ROUGE scores (the usual corpus-level ROUGE report: the mean
/// precision, recall and F over examples).
#[derive(Debug, Clone, PartialEq)]
pub struct RougeAccumulator {
    scorer: RougeScorer,
    sums: Vec<[f64; 3]>,
    examples: u64,
}

impl RougeAccumulator {
    /// An empty accumulator.
    pub fn new(scorer: RougeScorer) -> Self {
        let sums = vec![[0.0; 3]; scorer.types.len()];
        Self {
            scorer,
            sums,
            examples: 0,
        }
    }

    /// Adds a batch: `targets[i]` are the references of `predictions[i]` (one or more; with
    /// several, [`RougeScorer::score_multi`] is used).
    pub fn update<P, R, S>(&mut self, predictions: &[P], targets: &[R]) -> Result<()>
    where
        P: AsRef<str>,
        R: AsRef<[S]>,
        S: AsRef<str>,
    {
        crate::error::check_same_len("predictions vs targets", predictions.len(), targets.len())?;
        for (p, t) in predictions.iter().zip(targets) {
            let s = self.scorer.score_multi(t.as_ref(), p.as_ref())?;
            self.add(&s);
        }
        Ok(())
    }

    /// Adds one already computed example.
    pub fn add(&mut self, scores: &RougeScores) {
        for (acc, (_, s)) in self.sums.iter_mut().zip(&scores.scores) {
            acc[0] += s.precision;
            acc[1] += s.recall;
            acc[2] += s.fmeasure;
        }
        self.examples += 1;
    }

    /// Number of examples seen.
    pub fn examples(&self) -> u64 {
        self.examples
    }
}

impl Accumulator for RougeAccumulator {
    type Output = RougeScores;

    fn compute(&self) -> Result<RougeScores> {
        if self.examples == 0 {
            return Err(Error::EmptyInput(
                "mean ROUGE of zero examples is undefined".into(),
            ));
        }
        let n = self.examples as f64;
        Ok(RougeScores {
            scores: self
                .scorer
                .types
                .iter()
                .zip(&self.sums)
                .map(|(&t, s)| {
                    (
                        t,
                        RougeScore {
                            precision: s[0] / n,
                            recall: s[1] / n,
                            fmeasure: s[2] / n,
                        },
                    )
                })
                .collect(),
        })
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.scorer != other.scorer {
            return Err(Error::IncompatibleMerge("ROUGE scorers differ".into()));
        }
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            for k in 0..3 {
                a[k] += b[k];
            }
        }
        self.examples += other.examples;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    /// rouge-score 0.1.2's `tokenize.tokenize(text, stemmer)`.
    #[test]
    fn tokenizer_like_rouge_score() {
        assert_eq!(
            rouge_tokenize("Don't panic: café costs 2.5%!", false),
            ["don", "t", "panic", "caf", "costs", "2", "5"]
        );
        assert_eq!(
            rouge_tokenize("The runners were running", true),
            ["the", "runner", "were", "run"]
        );
    }

    /// target "a b c d", prediction "a c b d": LCS = 3 ("a b d" or "a c d"), so P = R = F = 3/4;
    /// bigrams: only none shared ("a b","b c","c d" vs "a c","c b","b d") -> 0.
    #[test]
    fn lcs_and_bigrams_by_hand() {
        let s = RougeScorer::all(false).score("a b c d", "a c b d");
        assert_eq!(s.get(RougeType::L).expect("computed").fmeasure, 0.75);
        assert_eq!(s.get(RougeType::N(2)).expect("computed").fmeasure, 0.0);
        assert_eq!(s.get(RougeType::N(1)).expect("computed").fmeasure, 1.0);
    }

    /// The backtrack prefers moving left (j-1) only when strictly better, as rouge-score.
    #[test]
    fn lcs_indices_follow_rouge_score_backtracking() {
        assert_eq!(lcs_indices(&toks("a b a"), &toks("a")), vec![2]);
        assert_eq!(lcs_indices(&toks("x a b"), &toks("a b x")), vec![1, 2]);
    }

    #[test]
    fn empty_texts_score_zero() {
        let s = RougeScorer::all(true).score("", "something here");
        assert!(s.scores.iter().all(|(_, v)| *v == RougeScore::default()));
    }

    #[test]
    fn parse_types() {
        assert_eq!(
            "rouge2".parse::<RougeType>().expect("valid"),
            RougeType::N(2)
        );
        assert_eq!(
            "rougeLsum".parse::<RougeType>().expect("valid"),
            RougeType::Lsum
        );
        assert!("rouge0".parse::<RougeType>().is_err());
        assert!("bleu".parse::<RougeType>().is_err());
    }
}
