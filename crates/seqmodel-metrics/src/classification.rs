//! Classification metrics as scikit-learn 1.9 computes them: accuracy, per-class and averaged
//! precision / recall / F-β (`binary`, `micro`, `macro`, `weighted`) with `zero_division`,
//! and the confusion matrix.
//!
//! Everything is derived from one sufficient statistic, the counts of `(gold, predicted)`
//! pairs ([`ClassificationAccumulator`]), so the streaming and one-shot results are equal.
//! Labels are any ordered type; as in scikit-learn, the default label set is the sorted union
//! of gold and predicted labels.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use crate::averaging::{ClassScores, Mean, ZeroDivision};
use crate::error::check_same_len;
use crate::{Accumulator, Error, Result};

/// How per-class scores are combined.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Average<L> {
    /// Only the class `pos_label` (the target must have at most two classes).
    Binary {
        /// The positive class.
        pos_label: L,
    },
    /// Global counts of true positives, false positives and false negatives.
    Micro,
    /// Unweighted mean of per-class scores.
    Macro,
    /// Mean of per-class scores weighted by their gold support.
    Weighted,
}

/// Settings of a precision/recall/F computation.
#[derive(Debug, Clone, PartialEq)]
pub struct PrfConfig<L> {
    /// The labels to report, in this order; `None` = sorted union of gold and predicted labels.
    pub labels: Option<Vec<L>>,
    /// Value used for 0/0.
    pub zero_division: ZeroDivision,
    /// β of F-β (1 = F1).
    pub beta: f64,
}

impl<L> Default for PrfConfig<L> {
    fn default() -> Self {
        Self {
            labels: None,
            zero_division: ZeroDivision::Zero,
            beta: 1.0,
        }
    }
}

/// Per-class scores and the three averages, as scikit-learn's `classification_report`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationReport<L> {
    /// `(label, scores)` in label order.
    pub per_class: Vec<(L, ClassScores)>,
    /// Micro average.
    pub micro: ClassScores,
    /// Macro average.
    pub macro_avg: ClassScores,
    /// Support-weighted average.
    pub weighted: ClassScores,
    /// Fraction of items whose predicted label equals the gold label.
    pub accuracy: f64,
}

/// Counts of `(gold, predicted)` label pairs: the sufficient statistic of every metric in
/// this module, and its streaming accumulator.
///
/// ```
/// use seqmodel_metrics::{Accumulator, Average, ClassificationAccumulator, PrfConfig};
/// let mut acc = ClassificationAccumulator::new();
/// acc.update(&[1, 0, 1, 1], &[1, 0, 0, 1])?;
/// assert_eq!(acc.accuracy()?, 0.75);
/// let p = acc.precision_recall_fscore(&Average::Binary { pos_label: 1 }, &PrfConfig::default())?;
/// assert_eq!((p.precision, p.recall), (1.0, 2.0 / 3.0));
/// assert_eq!(acc.confusion_matrix(None)?, vec![vec![1, 0], vec![1, 2]]);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassificationAccumulator<L: Ord> {
    pairs: BTreeMap<(L, L), u64>,
    total: u64,
}

impl<L: Ord> Default for ClassificationAccumulator<L> {
    fn default() -> Self {
        Self {
            pairs: BTreeMap::new(),
            total: 0,
        }
    }
}

struct Sums {
    tp: Vec<u64>,
    pred: Vec<u64>,
    gold: Vec<u64>,
}

impl Sums {
    /// The scores of class `i`.
    fn scores<L>(&self, i: usize, config: &PrfConfig<L>) -> ClassScores {
        class_scores(self.tp[i], self.pred[i], self.gold[i], config)
    }

    /// The scores of every class, in order.
    fn all_scores<L>(&self, config: &PrfConfig<L>) -> Vec<ClassScores> {
        (0..self.tp.len()).map(|i| self.scores(i, config)).collect()
    }
}

impl<L: Ord + Clone + Debug> ClassificationAccumulator<L> {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a batch of aligned gold and predicted labels.
    pub fn update(&mut self, gold: &[L], pred: &[L]) -> Result<()> {
        check_same_len("gold vs predicted labels", gold.len(), pred.len())?;
        for (g, p) in gold.iter().zip(pred) {
            *self.pairs.entry((g.clone(), p.clone())).or_insert(0) += 1;
        }
        self.total += gold.len() as u64;
        Ok(())
    }

    /// Number of items seen.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether no item was seen.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn check_not_empty(&self) -> Result<()> {
        if self.total == 0 {
            Err(Error::EmptyInput("no labels were given".into()))
        } else {
            Ok(())
        }
    }

    /// The sorted union of gold and predicted labels.
    pub fn present_labels(&self) -> Vec<L> {
        let set: BTreeSet<&L> = self.pairs.keys().flat_map(|(g, p)| [g, p]).collect();
        set.into_iter().cloned().collect()
    }

    /// Fraction of items predicted correctly.
    pub fn accuracy(&self) -> Result<f64> {
        self.check_not_empty()?;
        let correct: u64 = self
            .pairs
            .iter()
            .filter(|((g, p), _)| g == p)
            .map(|(_, &c)| c)
            .sum();
        Ok(correct as f64 / self.total as f64)
    }

    /// Confusion matrix `[gold label][predicted label]` over `labels` (default: the sorted
    /// union); pairs with a label outside the list are ignored, as in scikit-learn.
    pub fn confusion_matrix(&self, labels: Option<&[L]>) -> Result<Vec<Vec<u64>>> {
        self.check_not_empty()?;
        let labels: Vec<L> = labels.map_or_else(|| self.present_labels(), <[L]>::to_vec);
        if labels.is_empty() {
            return Err(Error::InvalidConfig(
                "'labels' should contain at least one label".into(),
            ));
        }
        let index: BTreeMap<&L, usize> = labels.iter().enumerate().map(|(i, l)| (l, i)).collect();
        if !self.pairs.keys().any(|(g, _)| index.contains_key(g)) {
            return Err(Error::InvalidConfig(
                "at least one label specified must be in the gold labels".into(),
            ));
        }
        let mut cm = vec![vec![0u64; labels.len()]; labels.len()];
        for ((g, p), &c) in &self.pairs {
            if let (Some(&i), Some(&j)) = (index.get(g), index.get(p)) {
                cm[i][j] += c;
            }
        }
        Ok(cm)
    }

    fn sums(&self, labels: &[L]) -> Sums {
        let index: BTreeMap<&L, usize> = labels.iter().enumerate().map(|(i, l)| (l, i)).collect();
        let n = labels.len();
        let mut s = Sums {
            tp: vec![0; n],
            pred: vec![0; n],
            gold: vec![0; n],
        };
        for ((g, p), &c) in &self.pairs {
            if let Some(&i) = index.get(g) {
                s.gold[i] += c;
                if g == p {
                    s.tp[i] += c;
                }
            }
            if let Some(&j) = index.get(p) {
                s.pred[j] += c;
            }
        }
        s
    }

    fn resolve_labels(&self, config: &PrfConfig<L>) -> Vec<L> {
        config
            .labels
            .clone()
            .unwrap_or_else(|| self.present_labels())
    }

    /// Per-class precision, recall, F-β and support (scikit-learn's `average=None`), in the
    /// order of `config.labels` (default: sorted union).
    pub fn per_class(&self, config: &PrfConfig<L>) -> Result<Vec<(L, ClassScores)>> {
        self.check_not_empty()?;
        check_beta(config.beta)?;
        let labels = self.resolve_labels(config);
        let s = self.sums(&labels);
        Ok(labels.into_iter().zip(s.all_scores(config)).collect())
    }

    /// Averaged precision, recall and F-β (scikit-learn's `precision_recall_fscore_support`
    /// with `average` set). `support` is the total gold support of the labels used.
    pub fn precision_recall_fscore(
        &self,
        average: &Average<L>,
        config: &PrfConfig<L>,
    ) -> Result<ClassScores> {
        self.check_not_empty()?;
        check_beta(config.beta)?;
        let labels = match average {
            Average::Binary { pos_label } => {
                let present = self.present_labels();
                if present.len() > 2 {
                    return Err(Error::InvalidConfig(format!(
                        "average = binary, but the target has {} classes: choose micro, macro or weighted",
                        present.len()
                    )));
                }
                if !present.contains(pos_label) && present.len() >= 2 {
                    return Err(Error::InvalidConfig(format!(
                        "pos_label = {pos_label:?} is not a valid label: expected one of {present:?}"
                    )));
                }
                vec![pos_label.clone()]
            }
            _ => self.resolve_labels(config),
        };
        let mut s = self.sums(&labels);
        if *average == Average::Micro {
            s = Sums {
                tp: vec![s.tp.iter().sum()],
                pred: vec![s.pred.iter().sum()],
                gold: vec![s.gold.iter().sum()],
            };
        }
        let mean = match average {
            Average::Weighted => Mean::BySupport,
            _ => Mean::Unweighted,
        };
        Ok(ClassScores::average(&s.all_scores(config), mean))
    }

    /// Per-class scores, micro/macro/weighted averages and accuracy.
    pub fn report(&self, config: &PrfConfig<L>) -> Result<ClassificationReport<L>> {
        Ok(ClassificationReport {
            per_class: self.per_class(config)?,
            micro: self.precision_recall_fscore(&Average::Micro, config)?,
            macro_avg: self.precision_recall_fscore(&Average::Macro, config)?,
            weighted: self.precision_recall_fscore(&Average::Weighted, config)?,
            accuracy: self.accuracy()?,
        })
    }
}

fn check_beta(beta: f64) -> Result<()> {
    if beta.is_nan() || beta < 0.0 {
        return Err(Error::InvalidConfig(format!(
            "beta = {beta}: expected beta >= 0"
        )));
    }
    Ok(())
}

/// scikit-learn's scores of one class from its counts: P = tp / pred, R = tp / gold,
/// F-β = (1 + β²) tp / (β² gold + pred) (R for β = ∞, P for β = 0), each 0/0 replaced by
/// `config.zero_division`.
fn class_scores<L>(tp: u64, pred: u64, gold: u64, config: &PrfConfig<L>) -> ClassScores {
    let zd = config.zero_division;
    let (tp_f, pred_f, gold_f) = (tp as f64, pred as f64, gold as f64);
    let precision = zd.divide(tp_f, pred_f);
    let recall = zd.divide(tp_f, gold_f);
    let beta2 = config.beta * config.beta;
    let f_score = if config.beta.is_infinite() {
        recall
    } else if config.beta == 0.0 {
        precision
    } else {
        zd.divide((1.0 + beta2) * tp_f, beta2 * gold_f + pred_f)
    };
    ClassScores {
        precision,
        recall,
        f_score,
        support: gold,
    }
}

impl<L: Ord + Clone + Debug> Accumulator for ClassificationAccumulator<L> {
    type Output = ClassificationReport<L>;

    fn compute(&self) -> Result<ClassificationReport<L>> {
        self.report(&PrfConfig::default())
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        for (k, &c) in &other.pairs {
            *self.pairs.entry(k.clone()).or_insert(0) += c;
        }
        self.total += other.total;
        Ok(())
    }
}

/// Fraction of correct predictions (scikit-learn's `accuracy_score`).
///
/// ```
/// assert_eq!(seqmodel_metrics::accuracy(&["a", "b", "c"], &["a", "b", "b"])?, 2.0 / 3.0);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn accuracy<L: Ord + Clone + Debug>(gold: &[L], pred: &[L]) -> Result<f64> {
    let mut acc = ClassificationAccumulator::new();
    acc.update(gold, pred)?;
    acc.accuracy()
}

/// Averaged precision, recall and F-β (scikit-learn's `precision_recall_fscore_support`).
///
/// ```
/// use seqmodel_metrics::{precision_recall_fscore, Average, PrfConfig};
/// let s = precision_recall_fscore(&[0, 1, 2, 2], &[0, 2, 2, 2], &Average::Macro, &PrfConfig::default())?;
/// assert!((s.f_score - (1.0 + 0.0 + 0.8) / 3.0).abs() < 1e-12);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn precision_recall_fscore<L: Ord + Clone + Debug>(
    gold: &[L],
    pred: &[L],
    average: &Average<L>,
    config: &PrfConfig<L>,
) -> Result<ClassScores> {
    let mut acc = ClassificationAccumulator::new();
    acc.update(gold, pred)?;
    acc.precision_recall_fscore(average, config)
}

/// Confusion matrix `[gold][predicted]` (scikit-learn's `confusion_matrix`).
///
/// ```
/// let cm = seqmodel_metrics::confusion_matrix(&["cat", "dog", "dog"], &["dog", "dog", "cat"], None)?;
/// assert_eq!(cm, vec![vec![0, 1], vec![1, 1]]);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn confusion_matrix<L: Ord + Clone + Debug>(
    gold: &[L],
    pred: &[L],
    labels: Option<&[L]>,
) -> Result<Vec<Vec<u64>>> {
    let mut acc = ClassificationAccumulator::new();
    acc.update(gold, pred)?;
    acc.confusion_matrix(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gold [0,1,2,2], pred [0,2,2,2]: class 0 P=R=F=1; class 1 tp=0, pred=0 -> P=0 (zero
    /// division), R=0; class 2 P=2/3, R=1, F=2*2/(2+3)=0.8.
    #[test]
    fn per_class_by_hand() {
        let mut acc = ClassificationAccumulator::new();
        acc.update(&[0, 1, 2, 2], &[0, 2, 2, 2]).expect("aligned");
        let pc = acc.per_class(&PrfConfig::default()).expect("non-empty");
        assert_eq!(pc[1].1.precision, 0.0);
        assert_eq!(pc[2].1.precision, 2.0 / 3.0);
        assert_eq!(pc[2].1.f_score, 0.8);
        assert_eq!(pc[2].1.support, 2);
        let micro = acc
            .precision_recall_fscore(&Average::Micro, &PrfConfig::default())
            .expect("ok");
        assert_eq!(micro.precision, acc.accuracy().expect("ok"));
    }

    #[test]
    fn zero_division_one_and_nan() {
        let mut acc = ClassificationAccumulator::new();
        acc.update(&[0, 1], &[0, 0]).expect("aligned");
        let one = PrfConfig {
            zero_division: ZeroDivision::One,
            ..PrfConfig::default()
        };
        let pc = acc.per_class(&one).expect("ok");
        assert_eq!(pc[1].1.precision, 1.0);
        let nan = PrfConfig {
            zero_division: ZeroDivision::Nan,
            ..PrfConfig::default()
        };
        let m = acc
            .precision_recall_fscore(&Average::Macro, &nan)
            .expect("ok");
        // class 0: P = 1/2; class 1: P = NaN (ignored) -> 0.5.
        assert_eq!(m.precision, 0.5);
    }

    #[test]
    fn binary_errors() {
        let mut acc = ClassificationAccumulator::new();
        acc.update(&[0, 1, 2], &[0, 1, 2]).expect("aligned");
        assert!(
            acc.precision_recall_fscore(&Average::Binary { pos_label: 1 }, &PrfConfig::default())
                .is_err()
        );
        let mut acc = ClassificationAccumulator::new();
        acc.update(&[0, 1], &[0, 1]).expect("aligned");
        assert!(
            acc.precision_recall_fscore(&Average::Binary { pos_label: 7 }, &PrfConfig::default())
                .is_err()
        );
        let empty: ClassificationAccumulator<i32> = ClassificationAccumulator::new();
        assert!(matches!(empty.accuracy(), Err(Error::EmptyInput(_))));
    }

    #[test]
    fn weighted_with_zero_support_falls_back_to_mean() {
        let mut acc = ClassificationAccumulator::new();
        acc.update(&[0, 0], &[1, 1]).expect("aligned");
        let cfg = PrfConfig {
            labels: Some(vec![1]),
            ..PrfConfig::default()
        };
        let w = acc
            .precision_recall_fscore(&Average::Weighted, &cfg)
            .expect("ok");
        assert_eq!(w.support, 0);
        assert_eq!(w.precision, 0.0);
    }
}
