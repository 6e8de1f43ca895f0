//! Train/valid/test splits: seeded and deterministic (optionally stratified by class) for
//! independent examples, contiguous for time series.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// Fractions of the data for training, validation and test: each in `[0, 1]`, summing to 1.
///
/// The fields are private so that the invariant always holds: [`SplitRatios::new`] checks it,
/// and so does deserialising (a file with fractions that do not sum to 1 is an
/// [`Error::Config`] naming `SplitRatios`, not a split that silently drops or repeats items).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Fractions")]
pub struct SplitRatios {
    train: f64,
    valid: f64,
    test: f64,
}

/// The serialised form of [`SplitRatios`], checked by `SplitRatios::new` on the way in.
#[derive(Deserialize)]
struct Fractions {
    train: f64,
    valid: f64,
    test: f64,
}

impl TryFrom<Fractions> for SplitRatios {
    type Error = Error;

    fn try_from(f: Fractions) -> Result<Self> {
        Self::new(f.train, f.valid, f.test)
    }
}

impl SplitRatios {
    /// Checks that every fraction is in `[0, 1]` and that they sum to 1 (within `1e-6`).
    ///
    /// ```
    /// use seqmodel_data::SplitRatios;
    ///
    /// let err = SplitRatios::new(0.8, 0.3, 0.1).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "SplitRatios: invalid train + valid + test: is 1.2000000000000002; the fractions must sum to 1"
    /// );
    /// ```
    pub fn new(train: f64, valid: f64, test: f64) -> Result<Self> {
        for (field, value) in [("train", train), ("valid", valid), ("test", test)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(Error::Config {
                    config: "SplitRatios",
                    field,
                    reason: format!("is {value}; expected a fraction in [0, 1]"),
                });
            }
        }
        let sum = train + valid + test;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(Error::Config {
                config: "SplitRatios",
                field: "train + valid + test",
                reason: format!("is {sum}; the fractions must sum to 1"),
            });
        }
        Ok(Self { train, valid, test })
    }

    /// Ratios known to be valid (for constants in this crate).
    pub(crate) const fn checked_by_caller(train: f64, valid: f64, test: f64) -> Self {
        Self { train, valid, test }
    }

    /// Training fraction.
    pub fn train(&self) -> f64 {
        self.train
    }

    /// Validation fraction.
    pub fn valid(&self) -> f64 {
        self.valid
    }

    /// Test fraction.
    pub fn test(&self) -> f64 {
        self.test
    }

    /// Sizes of the three parts of `n` items. Boundaries are rounded cumulatively, so the sizes
    /// always add up to `n`.
    pub fn counts(&self, n: usize) -> [usize; 3] {
        let first = ((n as f64 * self.train).round() as usize).min(n);
        let second = ((n as f64 * (self.train + self.valid)).round() as usize).clamp(first, n);
        [first, second - first, n - second]
    }
}

impl Default for SplitRatios {
    /// 80 % / 10 % / 10 %.
    fn default() -> Self {
        Self {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        }
    }
}

/// Indices of the three parts. Every index below `n` is in exactly one part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// Training indices.
    pub train: Vec<usize>,
    /// Validation indices.
    pub valid: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
}

impl Split {
    /// A seeded random split of `n` items: the same `(n, ratios, seed)` always gives the same
    /// split, on every platform.
    ///
    /// ```
    /// use seqmodel_data::{Split, SplitRatios};
    ///
    /// let split = Split::random(10, SplitRatios::new(0.6, 0.2, 0.2)?, 42);
    /// assert_eq!((split.train.len(), split.valid.len(), split.test.len()), (6, 2, 2));
    /// assert_eq!(split, Split::random(10, SplitRatios::new(0.6, 0.2, 0.2)?, 42));
    /// # Ok::<(), seqmodel_data::Error>(())
    /// ```
    pub fn random(n: usize, ratios: SplitRatios, seed: u64) -> Self {
        let mut order: Vec<usize> = (0..n).collect();
        SplitMix64::new(seed).shuffle(&mut order);
        let [a, b, _] = ratios.counts(n);
        Self {
            train: order[..a].to_vec(),
            valid: order[a..a + b].to_vec(),
            test: order[a + b..].to_vec(),
        }
    }

    /// A seeded split that keeps each class's proportions in every part (`labels[i]` is item
    /// `i`'s class). Each class is split with [`SplitRatios::counts`]; each part is then shuffled.
    pub fn stratified(labels: &[usize], ratios: SplitRatios, seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
        for (i, &label) in labels.iter().enumerate() {
            by_class[label].push(i);
        }
        let mut split = Self::default();
        for mut members in by_class {
            rng.shuffle(&mut members);
            let [a, b, _] = ratios.counts(members.len());
            split.train.extend_from_slice(&members[..a]);
            split.valid.extend_from_slice(&members[a..a + b]);
            split.test.extend_from_slice(&members[a + b..]);
        }
        rng.shuffle(&mut split.train);
        rng.shuffle(&mut split.valid);
        rng.shuffle(&mut split.test);
        split
    }

    /// A contiguous split for time-ordered data: train is the first block, then valid, then
    /// test. Nothing is shuffled, so no part sees the future of the part after it.
    pub fn chronological(n: usize, ratios: SplitRatios) -> Self {
        let [a, b, _] = ratios.counts(n);
        Self {
            train: (0..a).collect(),
            valid: (a..a + b).collect(),
            test: (a + b..n).collect(),
        }
    }

    /// The items of each part, cloned from `items`.
    pub fn select<T: Clone>(&self, items: &[T]) -> [Vec<T>; 3] {
        let pick = |idx: &[usize]| idx.iter().map(|&i| items[i].clone()).collect();
        [pick(&self.train), pick(&self.valid), pick(&self.test)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ratios_are_validated() {
        assert!(SplitRatios::new(0.8, 0.1, 0.1).is_ok());
        assert!(SplitRatios::new(0.8, 0.3, 0.1).is_err());
        let err = SplitRatios::new(-0.1, 0.6, 0.5).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SplitRatios: invalid train: is -0.1; expected a fraction in [0, 1]"
        );
    }

    /// The fields used to be public, so `SplitRatios { train: 2.0, .. }` (or a JSON file) went
    /// straight to `counts`, which clamped it silently; deserialising now checks.
    #[test]
    fn deserialising_checks_the_ratios() {
        let ok: SplitRatios =
            serde_json::from_str(r#"{"train": 0.5, "valid": 0.25, "test": 0.25}"#).unwrap();
        assert_eq!((ok.train(), ok.valid(), ok.test()), (0.5, 0.25, 0.25));
        let err =
            serde_json::from_str::<SplitRatios>(r#"{"train": 2.0, "valid": 0.0, "test": 0.0}"#)
                .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("SplitRatios: invalid train: is 2"),
            "{err}"
        );
    }

    #[test]
    fn chronological_blocks_are_contiguous_and_ordered() {
        let split = Split::chronological(10, SplitRatios::new(0.7, 0.2, 0.1).unwrap());
        assert_eq!(split.train, (0..7).collect::<Vec<_>>());
        assert_eq!(split.valid, vec![7, 8]);
        assert_eq!(split.test, vec![9]);
    }

    #[test]
    fn stratified_keeps_class_proportions() {
        // 80 items of class 0, 20 of class 1, split 50/25/25.
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 5 == 0)).collect();
        let split = Split::stratified(&labels, SplitRatios::new(0.5, 0.25, 0.25).unwrap(), 3);
        let ones = |idx: &[usize]| idx.iter().filter(|&&i| labels[i] == 1).count();
        assert_eq!(
            (ones(&split.train), ones(&split.valid), ones(&split.test)),
            (10, 5, 5)
        );
        assert_eq!(split.train.len(), 50);
    }

    #[test]
    fn different_seeds_give_different_splits() {
        let r = SplitRatios::default();
        assert_ne!(Split::random(100, r, 1), Split::random(100, r, 2));
    }

    fn assert_partition(split: &Split, n: usize) -> std::result::Result<(), TestCaseError> {
        let mut seen = vec![0u8; n];
        for &i in split.train.iter().chain(&split.valid).chain(&split.test) {
            prop_assert!(i < n, "index {} out of range", i);
            seen[i] += 1;
        }
        prop_assert!(
            seen.iter().all(|&c| c == 1),
            "an index is in two splits or in none"
        );
        Ok(())
    }

    fn ratios() -> impl Strategy<Value = SplitRatios> {
        (0.0f64..1.0, 0.0f64..1.0).prop_map(|(a, b)| {
            let train = a;
            let valid = (1.0 - a) * b;
            SplitRatios {
                train,
                valid,
                test: 1.0 - train - valid,
            }
        })
    }

    proptest! {
        #[test]
        fn no_index_in_two_splits(n in 0usize..300, r in ratios(), seed in any::<u64>()) {
            assert_partition(&Split::random(n, r, seed), n)?;
            assert_partition(&Split::chronological(n, r), n)?;
            let labels: Vec<usize> = (0..n).map(|i| (i * 7919 + seed as usize % 13) % 4).collect();
            assert_partition(&Split::stratified(&labels, r, seed), n)?;
            prop_assert_eq!(Split::random(n, r, seed), Split::random(n, r, seed), "not deterministic");
        }
    }
}
