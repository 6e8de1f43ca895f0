//! The streaming interface shared by every metric.

use crate::Result;

/// A metric's running state: feed batches with the type's own `update(...)` method, combine
/// the states of several workers with [`merge`](Accumulator::merge) (data-parallel
/// evaluation), and read the result with [`compute`](Accumulator::compute).
///
/// For every accumulator in this crate, `compute` after any sequence of updates and merges
/// equals the one-shot function on the concatenated data (exactly for count-based metrics,
/// up to floating-point summation order for ROUGE, perplexity and regression), and `merge` is
/// associative and commutative in the same sense.
pub trait Accumulator {
    /// What [`compute`](Accumulator::compute) returns.
    type Output;

    /// The metric over everything seen so far.
    fn compute(&self) -> Result<Self::Output>;

    /// Adds the state of `other` (same configuration) to this one.
    fn merge(&mut self, other: &Self) -> Result<()>;
}
