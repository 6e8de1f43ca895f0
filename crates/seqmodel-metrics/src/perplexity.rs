//! Perplexity from per-token log-probabilities or from logits and targets.
//!
//! `ppl = exp(-Σ mask·log p / Σ mask)` with natural logarithms; tokens are pooled over the
//! whole batch (not averaged per sequence). Logits go through a float64 log-softmax with the
//! maximum subtracted, so ±1000 logits do not overflow; target positions equal to the ignore
//! index (or masked out) are skipped.

use crate::error::check_same_len;
use crate::{Accumulator, Error, Result};

/// The ignore index PyTorch's `cross_entropy` uses by default.
pub const DEFAULT_IGNORE_INDEX: i64 = -100;

/// A perplexity result.
#[derive(Debug, Clone, PartialEq)]
pub struct Perplexity {
    /// `exp(mean_nll)`.
    pub perplexity: f64,
    /// Mean negative log-likelihood per counted token (nats).
    pub mean_nll: f64,
    /// Number of tokens counted.
    pub num_tokens: u64,
    /// Perplexity of each sequence, in input order (`NaN` for a sequence with no counted
    /// token). Empty when the input had no sequence structure.
    pub per_sequence: Vec<f64>,
}

/// Streaming perplexity: the summed negative log-likelihood and the token count.
///
/// ```
/// use seqmodel_metrics::{Accumulator, PerplexityAccumulator};
/// let mut acc = PerplexityAccumulator::new();
/// acc.update_log_probs(&[vec![(0.5f64).ln(), (0.25f64).ln()]], None)?;
/// let p = acc.compute()?;
/// assert!((p.perplexity - 8f64.sqrt()).abs() < 1e-12);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PerplexityAccumulator {
    nll_sum: f64,
    tokens: u64,
    per_sequence: Vec<f64>,
}

fn ppl_of(nll_sum: f64, tokens: u64) -> f64 {
    if tokens == 0 {
        f64::NAN
    } else {
        (nll_sum / tokens as f64).exp()
    }
}

impl PerplexityAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds sequences of natural-log token probabilities `[batch][time]`; `mask[b][t]` true
    /// (or 1) marks a real token, false a padding position; `None` counts every token.
    pub fn update_log_probs(
        &mut self,
        log_probs: &[Vec<f64>],
        mask: Option<&[Vec<bool>]>,
    ) -> Result<()> {
        if let Some(m) = mask {
            check_same_len("log-prob rows vs mask rows", log_probs.len(), m.len())?;
        }
        let mut rows = Vec::with_capacity(log_probs.len());
        for (b, row) in log_probs.iter().enumerate() {
            if let Some(m) = mask {
                check_same_len(
                    &format!("row {b}: log-probs vs mask"),
                    row.len(),
                    m[b].len(),
                )?;
            }
            let (mut sum, mut n) = (0.0, 0u64);
            for (t, &lp) in row.iter().enumerate() {
                if mask.is_some_and(|m| !m[b][t]) {
                    continue;
                }
                if lp.is_nan() || lp > 0.0 {
                    return Err(Error::InvalidInput(format!(
                        "row {b}, position {t}: log-probability {lp}: expected a value <= 0"
                    )));
                }
                sum -= lp;
                n += 1;
            }
            rows.push((sum, n));
        }
        for (sum, n) in rows {
            self.nll_sum += sum;
            self.tokens += n;
            self.per_sequence.push(ppl_of(sum, n));
        }
        Ok(())
    }

    /// Adds logits `[batch, time, vocab]` (flattened row-major) with targets `[batch, time]`
    /// (flattened); positions whose target equals `ignore_index`, or whose `mask` entry is
    /// false, are skipped. `batch` is `targets.len() / time`.
    pub fn update_logits(
        &mut self,
        logits: &[f64],
        targets: &[i64],
        shape: [usize; 3],
        ignore_index: Option<i64>,
        mask: Option<&[bool]>,
    ) -> Result<()> {
        let [batch, time, vocab] = shape;
        if vocab == 0 {
            return Err(Error::InvalidConfig("vocab size is 0".into()));
        }
        check_same_len(
            "logits vs batch*time*vocab",
            logits.len(),
            batch * time * vocab,
        )?;
        check_same_len("targets vs batch*time", targets.len(), batch * time)?;
        if let Some(m) = mask {
            check_same_len("mask vs batch*time", m.len(), batch * time)?;
        }
        let mut rows = Vec::with_capacity(batch);
        for b in 0..batch {
            let (mut sum, mut n) = (0.0, 0u64);
            for t in 0..time {
                let pos = b * time + t;
                let target = targets[pos];
                if Some(target) == ignore_index || mask.is_some_and(|m| !m[pos]) {
                    continue;
                }
                let row = &logits[pos * vocab..(pos + 1) * vocab];
                let idx = usize::try_from(target).ok().filter(|&i| i < vocab).ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "batch {b}, position {t}: target {target}: expected 0..{vocab} or the ignore index"
                    ))
                })?;
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if !max.is_finite() {
                    return Err(Error::InvalidInput(format!(
                        "batch {b}, position {t}: logits must be finite"
                    )));
                }
                let lse = row.iter().map(|&x| (x - max).exp()).sum::<f64>().ln();
                let logp = (row[idx] - max) - lse;
                sum -= logp;
                n += 1;
            }
            rows.push((sum, n));
        }
        for (sum, n) in rows {
            self.nll_sum += sum;
            self.tokens += n;
            self.per_sequence.push(ppl_of(sum, n));
        }
        Ok(())
    }

    /// Number of tokens counted so far.
    pub fn tokens(&self) -> u64 {
        self.tokens
    }
}

impl Accumulator for PerplexityAccumulator {
    type Output = Perplexity;

    fn compute(&self) -> Result<Perplexity> {
        if self.tokens == 0 {
            return Err(Error::EmptyInput(
                "perplexity is undefined without any (unmasked) token".into(),
            ));
        }
        let mean_nll = self.nll_sum / self.tokens as f64;
        Ok(Perplexity {
            perplexity: mean_nll.exp(),
            mean_nll,
            num_tokens: self.tokens,
            per_sequence: self.per_sequence.clone(),
        })
    }

    /// Pools the tokens of `other`; its per-sequence perplexities are appended after this
    /// accumulator's (so `per_sequence` follows the merge order, while the pooled perplexity does
    /// not depend on it).
    fn merge(&mut self, other: &Self) -> Result<()> {
        self.nll_sum += other.nll_sum;
        self.tokens += other.tokens;
        self.per_sequence.extend_from_slice(&other.per_sequence);
        Ok(())
    }
}

/// Perplexity of natural-log token probabilities `[batch][time]` with an optional mask.
///
/// ```
/// let p = seqmodel_metrics::perplexity_from_log_probs(&[vec![0.0, 0.0]], None)?;
/// assert_eq!(p.perplexity, 1.0);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn perplexity_from_log_probs(
    log_probs: &[Vec<f64>],
    mask: Option<&[Vec<bool>]>,
) -> Result<Perplexity> {
    let mut acc = PerplexityAccumulator::new();
    acc.update_log_probs(log_probs, mask)?;
    acc.compute()
}

/// Perplexity of logits `[batch, time, vocab]` (flattened) against targets `[batch, time]`.
///
/// ```
/// // Uniform logits over 4 classes: perplexity 4.
/// let p = seqmodel_metrics::perplexity_from_logits(&[0.0; 8], &[1, 3], [1, 2, 4], Some(-100), None)?;
/// assert!((p.perplexity - 4.0).abs() < 1e-12);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn perplexity_from_logits(
    logits: &[f64],
    targets: &[i64],
    shape: [usize; 3],
    ignore_index: Option<i64>,
    mask: Option<&[bool]>,
) -> Result<Perplexity> {
    let mut acc = PerplexityAccumulator::new();
    acc.update_logits(logits, targets, shape, ignore_index, mask)?;
    acc.compute()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits [1000, -1000] with target 0: log p = -ln(1 + e^-2000) = -0 -> perplexity 1,
    /// without overflow.
    #[test]
    fn extreme_logits_are_stable() {
        let p =
            perplexity_from_logits(&[1000.0, -1000.0], &[0], [1, 1, 2], None, None).expect("valid");
        assert_eq!(p.perplexity, 1.0);
        let p =
            perplexity_from_logits(&[1000.0, -1000.0], &[1], [1, 1, 2], None, None).expect("valid");
        assert!((p.mean_nll - 2000.0).abs() < 1e-9);
    }

    #[test]
    fn mask_and_ignore_index_skip_positions() {
        let lp = vec![vec![(0.5f64).ln(), -100.0]];
        let p = perplexity_from_log_probs(&lp, Some(&[vec![true, false]])).expect("valid");
        assert!((p.perplexity - 2.0).abs() < 1e-12);
        assert_eq!(p.num_tokens, 1);
        let p = perplexity_from_logits(
            &[0.0, 0.0, 5.0, 0.0],
            &[0, -100],
            [1, 2, 2],
            Some(-100),
            None,
        )
        .expect("valid");
        assert_eq!(p.num_tokens, 1);
        assert!((p.perplexity - 2.0).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(matches!(
            perplexity_from_log_probs(&[vec![0.5]], None),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            perplexity_from_log_probs(&[vec![]], None),
            Err(Error::EmptyInput(_))
        ));
        assert!(perplexity_from_logits(&[0.0; 4], &[7, 0], [1, 2, 2], None, None).is_err());
        assert!(perplexity_from_logits(&[0.0; 3], &[0, 0], [1, 2, 2], None, None).is_err());
    }
}
