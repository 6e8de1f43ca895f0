//! Precision/recall/F scores, the value of a 0/0 score, and how per-class scores are averaged:
//! the one implementation behind scikit-learn's `precision_recall_fscore_support`
//! ([`crate::classification`]) and seqeval's `classification_report` ([`crate::entity`]).
//!
//! Both reference tools divide with the same `zero_division` rule and average with numpy
//! (`np.average`, weights = gold support). They differ only in how F is formed from the counts
//! (scikit-learn from the counts, seqeval from P and R), which each module keeps, and in one
//! corner case of seqeval's weighted average (no class at all), which [`crate::entity`]
//! documents.

/// The value of a precision, recall or F-score whose denominator is 0 (scikit-learn's and
/// seqeval's `zero_division`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ZeroDivision {
    /// 0 (the reference tools' default behaviour, without the warning).
    #[default]
    Zero,
    /// 1.
    One,
    /// NaN; averages then ignore the NaN entries (NaN if all are NaN).
    Nan,
}

impl ZeroDivision {
    /// The number that stands for 0/0.
    pub(crate) fn value(self) -> f64 {
        match self {
            ZeroDivision::Zero => 0.0,
            ZeroDivision::One => 1.0,
            ZeroDivision::Nan => f64::NAN,
        }
    }

    /// `num / den`, or [`ZeroDivision::value`] when `den` is 0.
    pub(crate) fn divide(self, num: f64, den: f64) -> f64 {
        if den == 0.0 { self.value() } else { num / den }
    }
}

/// Precision, recall, F-β and gold support of one class or of an average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// The F-β score (see the module that produced it for its exact formula).
    pub f_score: f64,
    /// Number of gold items of the class (for averages: the total over the classes).
    pub support: u64,
}

/// Which mean [`ClassScores::average`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mean {
    /// Every class counts once (`macro`).
    Unweighted,
    /// Every class counts by its gold support (`weighted`).
    BySupport,
}

impl ClassScores {
    /// The mean of `scores` (each of precision, recall and F separately), as numpy's
    /// `average` with NaN entries left out (scikit-learn's `_nanaverage`): NaN when `scores`
    /// is empty or every entry is NaN; with [`Mean::BySupport`] and all supports 0, the
    /// unweighted mean. `support` is the total support.
    pub(crate) fn average(scores: &[ClassScores], mean: Mean) -> ClassScores {
        let weight = |s: &ClassScores| match mean {
            Mean::Unweighted => 1.0,
            Mean::BySupport => s.support as f64,
        };
        ClassScores {
            precision: nan_average(scores, |s| s.precision, weight),
            recall: nan_average(scores, |s| s.recall, weight),
            f_score: nan_average(scores, |s| s.f_score, weight),
            support: scores.iter().map(|s| s.support).sum(),
        }
    }
}

/// numpy `average` of `value(s)` weighted by `weight(s)`, ignoring NaN values; all-zero
/// weights fall back to the plain mean; NaN when nothing is left.
fn nan_average(
    scores: &[ClassScores],
    value: impl Fn(&ClassScores) -> f64,
    weight: impl Fn(&ClassScores) -> f64,
) -> f64 {
    let kept: Vec<(f64, f64)> = scores
        .iter()
        .map(|s| (value(s), weight(s)))
        .filter(|(v, _)| !v.is_nan())
        .collect();
    if kept.is_empty() {
        return f64::NAN;
    }
    let wsum: f64 = kept.iter().map(|(_, w)| w).sum();
    if wsum == 0.0 {
        return kept.iter().map(|(v, _)| v).sum::<f64>() / kept.len() as f64;
    }
    kept.iter().map(|(v, w)| v * w).sum::<f64>() / wsum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(precision: f64, recall: f64, f_score: f64, support: u64) -> ClassScores {
        ClassScores {
            precision,
            recall,
            f_score,
            support,
        }
    }

    #[test]
    fn zero_division_values() {
        assert_eq!(ZeroDivision::Zero.divide(1.0, 0.0), 0.0);
        assert_eq!(ZeroDivision::One.divide(0.0, 0.0), 1.0);
        assert!(ZeroDivision::Nan.divide(0.0, 0.0).is_nan());
        assert_eq!(ZeroDivision::Nan.divide(1.0, 4.0), 0.25);
    }

    #[test]
    fn macro_and_weighted_means() {
        let scores = [s(1.0, 0.5, 0.25, 1), s(0.0, 1.0, 0.75, 3)];
        let m = ClassScores::average(&scores, Mean::Unweighted);
        assert_eq!(
            (m.precision, m.recall, m.f_score, m.support),
            (0.5, 0.75, 0.5, 4)
        );
        let w = ClassScores::average(&scores, Mean::BySupport);
        assert_eq!(
            (w.precision, w.recall, w.f_score, w.support),
            (0.25, 0.875, 0.625, 4)
        );
    }

    #[test]
    fn nan_entries_are_ignored_and_zero_weights_fall_back_to_the_mean() {
        let scores = [s(f64::NAN, 0.5, 0.5, 0), s(0.25, 1.0, 0.0, 0)];
        let w = ClassScores::average(&scores, Mean::BySupport);
        assert_eq!((w.precision, w.recall, w.f_score), (0.25, 0.75, 0.25));
        let none = ClassScores::average(&[], Mean::Unweighted);
        assert!(none.precision.is_nan() && none.recall.is_nan() && none.f_score.is_nan());
    }
}
