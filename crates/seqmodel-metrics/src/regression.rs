//! Regression metrics: MAE, MSE, RMSE, MAPE (as scikit-learn) and SMAPE.
//!
//! Definitions (A = gold / `y_true`, F = prediction, n items):
//! - MAE = Σ|A − F| / n, MSE = Σ(A − F)² / n, RMSE = √MSE.
//! - MAPE = Σ |A − F| / max(|A|, ε) / n with ε = `f64::EPSILON` (scikit-learn's
//!   `mean_absolute_percentage_error`): a **fraction**, not a percent; a gold value of 0 gives
//!   a huge but finite term.
//! - SMAPE = 100/n · Σ 2|F − A| / (|A| + |F|), a 0/0 term counting as 0: a percent in 0..=200.
//!   (Other SMAPE definitions exist — without the factor 2, or with the denominator halved
//!   differently; this is the common "percent, 0..200" form.)

use crate::error::check_same_len;
use crate::{Accumulator, Error, Result};

/// The regression metrics of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegressionScores {
    /// Mean absolute error.
    pub mae: f64,
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute percentage error, as a fraction.
    pub mape: f64,
    /// Symmetric mean absolute percentage error, in percent (0..=200).
    pub smape: f64,
    /// Number of items.
    pub count: u64,
}

/// Streaming regression metrics (sums of the per-item terms).
///
/// ```
/// use seqmodel_metrics::{Accumulator, RegressionAccumulator};
/// let mut acc = RegressionAccumulator::new();
/// acc.update(&[1.0, 2.0], &[2.0, 2.0])?;
/// let r = acc.compute()?;
/// assert_eq!((r.mae, r.mse, r.mape), (0.5, 0.5, 0.5));
/// assert!((r.smape - 100.0 * (2.0 / 3.0) / 2.0).abs() < 1e-12);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegressionAccumulator {
    abs_sum: f64,
    sq_sum: f64,
    ape_sum: f64,
    smape_sum: f64,
    count: u64,
}

impl RegressionAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds aligned gold values and predictions.
    pub fn update(&mut self, gold: &[f64], pred: &[f64]) -> Result<()> {
        check_same_len("gold vs predicted values", gold.len(), pred.len())?;
        if let Some(i) = gold.iter().chain(pred).position(|v| !v.is_finite()) {
            let (which, idx) = if i < gold.len() {
                ("gold", i)
            } else {
                ("predicted", i - gold.len())
            };
            return Err(Error::InvalidInput(format!(
                "{which} value {idx} is not finite: expected a finite number"
            )));
        }
        for (&a, &f) in gold.iter().zip(pred) {
            let err = (a - f).abs();
            self.abs_sum += err;
            self.sq_sum += (a - f) * (a - f);
            self.ape_sum += err / a.abs().max(f64::EPSILON);
            let denom = a.abs() + f.abs();
            if denom != 0.0 {
                self.smape_sum += 2.0 * (f - a).abs() / denom;
            }
        }
        self.count += gold.len() as u64;
        Ok(())
    }
}

impl Accumulator for RegressionAccumulator {
    type Output = RegressionScores;

    fn compute(&self) -> Result<RegressionScores> {
        if self.count == 0 {
            return Err(Error::EmptyInput(
                "regression metrics of zero items are undefined".into(),
            ));
        }
        let n = self.count as f64;
        let mse = self.sq_sum / n;
        Ok(RegressionScores {
            mae: self.abs_sum / n,
            mse,
            rmse: mse.sqrt(),
            mape: self.ape_sum / n,
            smape: 100.0 * self.smape_sum / n,
            count: self.count,
        })
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        self.abs_sum += other.abs_sum;
        self.sq_sum += other.sq_sum;
        self.ape_sum += other.ape_sum;
        self.smape_sum += other.smape_sum;
        self.count += other.count;
        Ok(())
    }
}

/// All regression metrics of aligned gold values and predictions.
///
/// ```
/// let r = seqmodel_metrics::regression_scores(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0])?;
/// assert_eq!(r.mae, 0.5);
/// assert_eq!(r.mse, 0.375);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn regression_scores(gold: &[f64], pred: &[f64]) -> Result<RegressionScores> {
    let mut acc = RegressionAccumulator::new();
    acc.update(gold, pred)?;
    acc.compute()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A = 0, F = 0 is a 0/0 SMAPE term (counted 0); A = 0, F = 1 gives 200 %; MAPE of A = 0
    /// divides by ε.
    #[test]
    fn zero_terms() {
        let r = regression_scores(&[0.0, 0.0], &[0.0, 1.0]).expect("valid");
        assert_eq!(r.smape, 100.0);
        assert_eq!(r.mape, 0.5 / f64::EPSILON);
        assert_eq!(r.rmse, 0.5f64.sqrt());
    }

    #[test]
    fn errors() {
        assert!(matches!(
            regression_scores(&[], &[]),
            Err(Error::EmptyInput(_))
        ));
        assert!(matches!(
            regression_scores(&[1.0], &[]),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            regression_scores(&[f64::NAN], &[1.0]),
            Err(Error::InvalidInput(_))
        ));
    }
}
