//! Length bucketing: batches of similar-length sequences, so that padding is small.
//!
//! Each epoch the indices are shuffled, cut into pools of `pool_batches * batch_size`, each pool
//! is sorted by length and cut into batches, and the full batches are shuffled. Every index is
//! yielded exactly once per epoch; only the last batch can be short, and it stays last (so the
//! order also works with a data loader that cuts fixed-size batches, see [`BucketedDataset`]).

use burn::data::dataset::{Dataset, DatasetError};
use serde::{Deserialize, Serialize};

use crate::bounds::{get_each, out_of_bounds};
use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// Settings of a [`BucketSampler`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketSamplerConfig {
    /// Sequences per batch (at least 1).
    pub batch_size: usize,
    /// Batches per sorting pool (at least 1): larger pools mean less padding but less randomness.
    pub pool_batches: usize,
    /// Whether to shuffle (before pooling, and the batch order). `false` sorts the whole data.
    pub shuffle: bool,
    /// Seed of the shuffles; epoch `e` uses a stream derived from `(seed, e)`.
    pub seed: u64,
}

impl BucketSamplerConfig {
    /// Batches of `batch_size` from pools of 50 batches, shuffled with seed 0.
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch_size,
            pool_batches: 50,
            shuffle: true,
            seed: 0,
        }
    }

    /// Sets the pool size in batches.
    pub fn with_pool_batches(mut self, pool_batches: usize) -> Self {
        self.pool_batches = pool_batches;
        self
    }

    /// Turns shuffling on or off.
    pub fn with_shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Rejects a zero `batch_size` or `pool_batches` with an [`Error::Config`] naming
    /// `BucketSamplerConfig` and the field.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("batch_size", self.batch_size),
            ("pool_batches", self.pool_batches),
        ] {
            if value == 0 {
                return Err(Error::Config {
                    config: "BucketSamplerConfig",
                    field,
                    reason: "is 0; set it to at least 1".into(),
                });
            }
        }
        Ok(())
    }

    /// A sampler over examples of these lengths; fails when the configuration is invalid
    /// ([`BucketSamplerConfig::validate`]).
    pub fn init(&self, lengths: Vec<usize>) -> Result<BucketSampler> {
        self.validate()?;
        Ok(BucketSampler {
            lengths,
            config: self.clone(),
        })
    }
}

/// Groups example indices into batches of similar length.
///
/// ```
/// use seqmodel_data::BucketSamplerConfig;
///
/// let lengths = vec![9, 1, 8, 2, 7, 3];
/// let sampler = BucketSamplerConfig::new(2).with_shuffle(false).init(lengths)?;
/// let batches = sampler.batches(0);
/// assert_eq!(batches, vec![vec![1, 3], vec![5, 4], vec![2, 0]]);
/// let stats = sampler.padding(&batches);
/// assert_eq!((stats.real_tokens, stats.padded_slots), (30, 36));
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BucketSampler {
    lengths: Vec<usize>,
    config: BucketSamplerConfig,
}

/// How much of a set of padded batches is padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PaddingStats {
    /// Real (non-padding) positions.
    pub real_tokens: usize,
    /// All positions: the sum over batches of `batch * longest`.
    pub padded_slots: usize,
}

impl PaddingStats {
    /// Fraction of positions that are padding (0 when there are none).
    pub fn ratio(&self) -> f64 {
        if self.padded_slots == 0 {
            0.0
        } else {
            (self.padded_slots - self.real_tokens) as f64 / self.padded_slots as f64
        }
    }

    /// Padding of `batches` (lists of indices into `lengths`).
    pub fn of(lengths: &[usize], batches: &[Vec<usize>]) -> Self {
        let mut stats = Self::default();
        for batch in batches {
            let longest = batch.iter().map(|&i| lengths[i]).max().unwrap_or(0);
            stats.real_tokens += batch.iter().map(|&i| lengths[i]).sum::<usize>();
            stats.padded_slots += longest * batch.len();
        }
        stats
    }
}

impl BucketSampler {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// The settings.
    pub fn config(&self) -> &BucketSamplerConfig {
        &self.config
    }

    fn rng(&self, epoch: u64) -> SplitMix64 {
        let mut mix = SplitMix64::new(self.config.seed ^ epoch.wrapping_mul(0xA076_1D64_78BD_642F));
        SplitMix64::new(mix.next_u64())
    }

    fn shuffled(&self, rng: &mut SplitMix64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.lengths.len()).collect();
        if self.config.shuffle {
            rng.shuffle(&mut order);
        }
        order
    }

    /// The batches of epoch `epoch` (deterministic for a given seed and epoch).
    pub fn batches(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut rng = self.rng(epoch);
        let order = self.shuffled(&mut rng);
        let bs = self.config.batch_size;
        let pool_size = if self.config.shuffle {
            bs * self.config.pool_batches
        } else {
            order.len().max(1)
        };
        let mut batches: Vec<Vec<usize>> = Vec::with_capacity(order.len().div_ceil(bs));
        for pool in order.chunks(pool_size) {
            let mut pool = pool.to_vec();
            pool.sort_by_key(|&i| self.lengths[i]);
            batches.extend(pool.chunks(bs).map(<[usize]>::to_vec));
        }
        if self.config.shuffle {
            let full = batches.iter().take_while(|b| b.len() == bs).count();
            rng.shuffle(&mut batches[..full]);
        }
        batches
    }

    /// Batches of the same shuffle without length sorting: the baseline bucketing improves on.
    pub fn unsorted_batches(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut rng = self.rng(epoch);
        self.shuffled(&mut rng)
            .chunks(self.config.batch_size)
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// Padding of `batches` over this sampler's lengths.
    pub fn padding(&self, batches: &[Vec<usize>]) -> PaddingStats {
        PaddingStats::of(&self.lengths, batches)
    }

    /// `dataset` reordered so that consecutive runs of `batch_size` items are this epoch's
    /// buckets: give it to Burn's `DataLoaderBuilder` with the same batch size and no shuffle.
    pub fn reorder<D>(&self, dataset: D, epoch: u64) -> BucketedDataset<D> {
        BucketedDataset {
            inner: dataset,
            order: self.batches(epoch).into_iter().flatten().collect(),
        }
    }
}

/// A dataset viewed in bucketed order (see [`BucketSampler::reorder`]).
#[derive(Debug, Clone)]
pub struct BucketedDataset<D> {
    inner: D,
    order: Vec<usize>,
}

impl<D, I> Dataset<I> for BucketedDataset<D>
where
    D: Dataset<I>,
{
    /// The item at bucketed position `index`; past the end, an
    /// [`Error::IndexOutOfBounds`] inside the `DatasetError`.
    fn get(&self, index: usize) -> std::result::Result<I, DatasetError> {
        match self.order.get(index) {
            Some(&inner) => self.inner.get(inner),
            None => Err(out_of_bounds("BucketedDataset", index, self.order.len())),
        }
    }

    fn get_many(&self, indexes: Vec<usize>) -> std::result::Result<Vec<I>, DatasetError> {
        get_each(self, indexes)
    }

    fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::testing::assert_get_past_end_is_an_error;
    use burn::data::dataset::InMemDataset;
    use proptest::prelude::*;

    #[test]
    fn bucketing_cuts_padding_on_mixed_lengths() {
        let lengths: Vec<usize> = (0..1000).map(|i| 1 + (i * 37) % 60).collect();
        let sampler = BucketSamplerConfig::new(32).init(lengths).unwrap();
        let bucketed = sampler.padding(&sampler.batches(0)).ratio();
        let random = sampler.padding(&sampler.unsorted_batches(0)).ratio();
        assert!(bucketed < 0.05, "bucketed padding ratio {bucketed}");
        assert!(random > 0.3, "random padding ratio {random}");
    }

    #[test]
    fn epochs_differ_but_are_reproducible() {
        let lengths: Vec<usize> = (0..200).map(|i| i % 17).collect();
        let sampler = BucketSamplerConfig::new(8)
            .with_pool_batches(4)
            .init(lengths)
            .unwrap();
        assert_eq!(sampler.batches(1), sampler.batches(1));
        assert_ne!(sampler.batches(1), sampler.batches(2));
    }

    #[test]
    fn zero_sizes_are_config_errors_naming_the_config() {
        let err = BucketSamplerConfig::new(0).init(vec![1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "BucketSamplerConfig: invalid batch_size: is 0; set it to at least 1"
        );
        let err = BucketSamplerConfig::new(2)
            .with_pool_batches(0)
            .init(vec![1])
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Config {
                config: "BucketSamplerConfig",
                field: "pool_batches",
                ..
            }
        ));
    }

    /// `get(len())` used to panic (`order[index]`); now it is an error naming the dataset.
    #[test]
    fn get_past_the_end_is_an_error() {
        let sampler = BucketSamplerConfig::new(2).init(vec![3, 1, 2]).unwrap();
        let data = sampler.reorder(InMemDataset::new(vec!["c", "a", "b"]), 0);
        assert_get_past_end_is_an_error(&data, "BucketedDataset");
    }

    #[test]
    fn reordered_dataset_follows_the_batches() {
        let sampler = BucketSamplerConfig::new(2)
            .with_shuffle(false)
            .init(vec![3, 1, 2])
            .unwrap();
        let data = sampler.reorder(InMemDataset::new(vec!["c", "a", "b"]), 0);
        let items: Vec<&str> = (0..data.len()).map(|i| data.get(i).unwrap()).collect();
        assert_eq!(items, vec!["a", "b", "c"]);
    }

    proptest! {
        #[test]
        fn every_example_exactly_once_per_epoch(
            lengths in prop::collection::vec(0usize..40, 0..300),
            batch_size in 1usize..20,
            pool in 1usize..5,
            epoch in 0u64..4,
            shuffle in any::<bool>(),
        ) {
            let n = lengths.len();
            let sampler = BucketSamplerConfig::new(batch_size)
                .with_pool_batches(pool)
                .with_shuffle(shuffle)
                .init(lengths)
                .unwrap();
            let batches = sampler.batches(epoch);
            let mut seen = vec![0usize; n];
            for b in &batches {
                prop_assert!(!b.is_empty() && b.len() <= batch_size, "batch size {}", b.len());
                for &i in b {
                    seen[i] += 1;
                }
            }
            prop_assert!(seen.iter().all(|&c| c == 1), "an example is missing or repeated");
            let short = batches.iter().position(|b| b.len() < batch_size);
            if let Some(pos) = short {
                prop_assert_eq!(pos, batches.len() - 1, "a short batch is not last");
            }
        }
    }
}
