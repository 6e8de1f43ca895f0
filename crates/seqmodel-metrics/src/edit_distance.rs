//! Token error rate (phoneme error rate for grapheme → phoneme, word error rate for speech and
//! translation) and exact match, from the Levenshtein distance over tokens.
//!
//! Definitions (the G2P literature's, and the PyTorch baseline's `task3_g2p.py`):
//! - `edit_distance(h, r)`: the fewest insertions, deletions and substitutions turning the
//!   hypothesis `h` into the reference `r`, each costing 1.
//! - error rate = Σ edit_distance / Σ |reference| over the corpus (a ratio of sums, not a mean
//!   of per-sentence rates); it can exceed 1 when hypotheses are much longer than references.
//! - exact match = the fraction of sentences whose hypothesis equals the reference (word
//!   accuracy in G2P).
//! - With several references per sentence ([`ErrorRateAccumulator::update_closest`]) each
//!   sentence is scored against the reference with the lowest `distance / |reference|` (ties:
//!   the lower distance, then the shorter reference), the usual multi-pronunciation G2P
//!   convention.

use crate::error::check_same_len;
use crate::{Accumulator, Error, Result};

/// The Levenshtein distance between two token sequences (unit costs).
///
/// ```
/// use seqmodel_metrics::edit_distance;
/// // K AE T → K AA T S: one substitution, one insertion.
/// assert_eq!(edit_distance(&["K", "AE", "T"], &["K", "AA", "T", "S"]), 2);
/// assert_eq!(edit_distance::<&str>(&[], &["A", "B"]), 2);
/// ```
pub fn edit_distance<T: PartialEq>(hypothesis: &[T], reference: &[T]) -> usize {
    // One row of the dynamic-programming table: row[j] = distance(hyp[..i], ref[..j]).
    let mut row: Vec<usize> = (0..=reference.len()).collect();
    for (i, h) in hypothesis.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, r) in reference.iter().enumerate() {
            let substitute = diagonal + usize::from(h != r);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j + 1] + 1).min(row[j] + 1);
        }
    }
    row[reference.len()]
}

/// Corpus error rate and exact match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorRate {
    /// Σ edit distance / Σ reference length (a fraction, 0 = perfect; may exceed 1).
    pub error_rate: f64,
    /// Fraction of sentences reproduced exactly (0..=1).
    pub exact_match: f64,
    /// Total edits.
    pub edits: u64,
    /// Total reference tokens.
    pub reference_tokens: u64,
    /// Sentences scored.
    pub sentences: u64,
}

/// Streaming [`ErrorRate`]: sums of edits, reference tokens, exact matches and sentences.
///
/// ```
/// use seqmodel_metrics::{Accumulator, ErrorRateAccumulator};
/// let mut acc = ErrorRateAccumulator::new();
/// acc.update(&[vec!["HH", "AY1"]], &[vec!["HH", "AY1"]])?;      // exact
/// acc.update(&[vec!["K", "AE", "T"]], &[vec!["K", "AE1", "T"]])?; // one substitution
/// let score = acc.compute()?;
/// assert_eq!(score.error_rate, 1.0 / 5.0);
/// assert_eq!(score.exact_match, 0.5);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorRateAccumulator {
    edits: u64,
    reference_tokens: u64,
    exact: u64,
    sentences: u64,
}

impl ErrorRateAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, edits: usize, reference_len: usize) {
        self.edits += edits as u64;
        self.reference_tokens += reference_len as u64;
        self.exact += u64::from(edits == 0);
        self.sentences += 1;
    }

    /// Adds sentences scored against one reference each (`references[i]` for
    /// `hypotheses[i]`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the two slices differ in length.
    pub fn update<T: PartialEq>(
        &mut self,
        hypotheses: &[Vec<T>],
        references: &[Vec<T>],
    ) -> Result<()> {
        check_same_len(
            "hypotheses vs references",
            hypotheses.len(),
            references.len(),
        )?;
        for (h, r) in hypotheses.iter().zip(references) {
            self.add(edit_distance(h, r), r.len());
        }
        Ok(())
    }

    /// Adds sentences scored against the closest of their references (see the module
    /// documentation for "closest").
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the slices differ in length; [`Error::InvalidInput`]
    /// when a sentence has no reference.
    pub fn update_closest<T: PartialEq>(
        &mut self,
        hypotheses: &[Vec<T>],
        references: &[Vec<Vec<T>>],
    ) -> Result<()> {
        check_same_len(
            "hypotheses vs references",
            hypotheses.len(),
            references.len(),
        )?;
        for (i, (h, refs)) in hypotheses.iter().zip(references).enumerate() {
            let (edits, len) = closest(h, refs).ok_or_else(|| {
                Error::InvalidInput(format!("sentence {i} has no reference to score against"))
            })?;
            self.add(edits, len);
        }
        Ok(())
    }
}

/// `(edits, reference length)` against the closest reference.
fn closest<T: PartialEq>(hypothesis: &[T], references: &[Vec<T>]) -> Option<(usize, usize)> {
    references
        .iter()
        .map(|r| (edit_distance(hypothesis, r), r.len()))
        .min_by(|a, b| {
            let rate = |(d, n): (usize, usize)| d as f64 / n.max(1) as f64;
            rate(*a)
                .total_cmp(&rate(*b))
                .then(a.0.cmp(&b.0))
                .then(a.1.cmp(&b.1))
        })
}

impl Accumulator for ErrorRateAccumulator {
    type Output = ErrorRate;

    /// # Errors
    /// [`Error::EmptyInput`] before the first sentence or when every reference is empty.
    fn compute(&self) -> Result<ErrorRate> {
        if self.sentences == 0 {
            return Err(Error::EmptyInput("no sentences to score".into()));
        }
        if self.reference_tokens == 0 {
            return Err(Error::EmptyInput(
                "every reference is empty: the error rate is undefined".into(),
            ));
        }
        Ok(ErrorRate {
            error_rate: self.edits as f64 / self.reference_tokens as f64,
            exact_match: self.exact as f64 / self.sentences as f64,
            edits: self.edits,
            reference_tokens: self.reference_tokens,
            sentences: self.sentences,
        })
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.edits += other.edits;
        self.reference_tokens += other.reference_tokens;
        self.exact += other.exact;
        self.sentences += other.sentences;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Hand-computed distances: "kitten" → "sitting" is the textbook 3 (k→s, e→i, +g).
    #[test]
    fn textbook_distances() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(edit_distance(&chars("flaw"), &chars("lawn")), 2);
        assert_eq!(edit_distance(&chars("abc"), &chars("abc")), 0);
        assert_eq!(edit_distance(&chars(""), &chars("abc")), 3);
        assert_eq!(edit_distance(&chars("abc"), &chars("")), 3);
    }

    /// Two words: "read" against R IY1 D | R EH1 D with hypothesis R EH1 D scores 0 against
    /// the closest reference (the second) and 1/3 against the first.
    #[test]
    fn closest_reference_is_chosen() {
        let hyp = vec![vec!["R", "EH1", "D"]];
        let refs = vec![vec![vec!["R", "IY1", "D"], vec!["R", "EH1", "D"]]];
        let mut any = ErrorRateAccumulator::new();
        any.update_closest(&hyp, &refs).expect("aligned");
        let any = any.compute().expect("scored");
        assert_eq!((any.error_rate, any.exact_match), (0.0, 1.0));
        let mut first = ErrorRateAccumulator::new();
        first.update(&hyp, &[refs[0][0].clone()]).expect("aligned");
        let first = first.compute().expect("scored");
        assert_eq!((first.edits, first.reference_tokens), (1, 3));
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut acc = ErrorRateAccumulator::new();
        assert!(matches!(acc.compute(), Err(Error::EmptyInput(_))));
        assert!(matches!(
            acc.update(&[vec![1]], &[]),
            Err(Error::LengthMismatch { .. })
        ));
        let no_refs: Vec<Vec<Vec<i32>>> = vec![vec![]];
        assert!(matches!(
            acc.update_closest(&[vec![1]], &no_refs),
            Err(Error::InvalidInput(_))
        ));
        acc.update::<i32>(&[vec![]], &[vec![]]).expect("aligned");
        assert!(matches!(acc.compute(), Err(Error::EmptyInput(_))));
    }

    fn seq() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(0u8..4, 0..12)
    }

    proptest! {
        /// A metric: d(a, a) = 0, symmetric, triangle inequality, and bounded by the longer
        /// length and below by the length difference.
        #[test]
        fn distance_is_a_metric(a in seq(), b in seq(), c in seq()) {
            prop_assert_eq!(edit_distance(&a, &a), 0);
            let ab = edit_distance(&a, &b);
            prop_assert_eq!(ab, edit_distance(&b, &a));
            prop_assert!(ab <= edit_distance(&a, &c) + edit_distance(&c, &b));
            prop_assert!(ab <= a.len().max(b.len()));
            prop_assert!(ab >= a.len().abs_diff(b.len()));
        }

        /// Merging two halves equals one pass; exact match in [0, 1].
        #[test]
        fn merge_equals_one_pass(pairs in prop::collection::vec((seq(), seq()), 1..10), cut in 0usize..10) {
            let (hyps, refs): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
            let cut = cut.min(hyps.len());
            let mut whole = ErrorRateAccumulator::new();
            whole.update(&hyps, &refs).expect("aligned");
            let mut left = ErrorRateAccumulator::new();
            left.update(&hyps[..cut], &refs[..cut]).expect("aligned");
            let mut right = ErrorRateAccumulator::new();
            right.update(&hyps[cut..], &refs[cut..]).expect("aligned");
            left.merge(&right).expect("same config");
            prop_assert_eq!(&left, &whole);
            if let Ok(score) = whole.compute() {
                prop_assert!((0.0..=1.0).contains(&score.exact_match));
                prop_assert!(score.error_rate >= 0.0);
            }
        }
    }
}
