//! [`EpochLoader`]: a burn-train data loader whose order in epoch `e` depends only on the run's
//! seed and `e`, so that a resumed run sees exactly the batches an uninterrupted one would.
//!
//! Burn's `DataLoaderBuilder::shuffle(seed)` draws every epoch's order from one generator that
//! lives in the loader; a checkpoint does not hold it, so after `--resume` epoch `e` would get
//! the order of epoch 1. This loader instead shuffles epoch `e` with
//! [`epoch_seed`]`(seed, e)` (Fisher–Yates on a SplitMix64 stream, identical on every platform
//! and version), and counts epochs from the one it is told comes next.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::Dataset;
use burn::data::dataset::DatasetError;
use burn::tensor::Device;

use crate::checkpoint::epoch_seed;

/// A data loader over a dataset, in batches of `batch_size`, shuffled per epoch from the run's
/// seed (or in dataset order).
///
/// Every [`DataLoader::iter`] call is one epoch: the first call is epoch `first_epoch`, the next
/// `first_epoch + 1`, and so on. Clones made by `to_device` share the count (burn-train moves the
/// loader once, then iterates the moved one); `slice`s (one per device in multi-device training)
/// each count on their own from the epoch the parent would run next, and shuffle within their
/// own range.
///
/// ```
/// use std::sync::Arc;
/// use burn::data::dataloader::{batcher::Batcher, DataLoader};
/// use burn::data::dataset::InMemDataset;
/// use burn::tensor::Device;
/// use seqmodel_train::EpochLoader;
///
/// #[derive(Clone)]
/// struct Collect;
/// impl Batcher<u32, Vec<u32>> for Collect {
///     fn batch(&self, items: Vec<u32>, _device: &Device) -> Vec<u32> { items }
/// }
///
/// # #[cfg(feature = "flex")] {
/// let data = Arc::new(InMemDataset::new((0..10).collect::<Vec<u32>>()));
/// let loader = EpochLoader::new(data.clone(), Arc::new(Collect), 4, Device::flex())
///     .shuffled(7, 1);
/// let epoch1: Vec<Vec<u32>> = loader.iter().map(|b| b.unwrap()).collect();
/// let epoch2: Vec<Vec<u32>> = loader.iter().map(|b| b.unwrap()).collect();
/// assert_eq!(epoch1.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
/// assert_ne!(epoch1, epoch2);
/// // A loader resumed at epoch 2 draws what the uninterrupted one drew in epoch 2.
/// let resumed = EpochLoader::new(data, Arc::new(Collect), 4, Device::flex()).shuffled(7, 2);
/// assert_eq!(resumed.iter().map(|b| b.unwrap()).collect::<Vec<_>>(), epoch2);
/// # }
/// ```
pub struct EpochLoader<I, O> {
    dataset: Arc<dyn Dataset<I>>,
    batcher: Arc<dyn Batcher<I, O>>,
    batch_size: usize,
    device: Device,
    range: Range<usize>,
    shuffle: Option<u64>,
    next_epoch: Arc<AtomicUsize>,
}

impl<I, O> Clone for EpochLoader<I, O> {
    fn clone(&self) -> Self {
        Self {
            dataset: self.dataset.clone(),
            batcher: self.batcher.clone(),
            batch_size: self.batch_size,
            device: self.device.clone(),
            range: self.range.clone(),
            shuffle: self.shuffle,
            next_epoch: self.next_epoch.clone(),
        }
    }
}

impl<I, O> fmt::Debug for EpochLoader<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochLoader")
            .field("items", &self.range.len())
            .field("batch_size", &self.batch_size)
            .field("device", &self.device)
            .field("shuffle_seed", &self.shuffle)
            .field("next_epoch", &self.next_epoch.load(Ordering::SeqCst))
            .finish()
    }
}

impl<I, O> EpochLoader<I, O> {
    /// A loader in dataset order, batches of `batch_size` (clamped to at least 1; the last
    /// batch may be smaller), built on `device`.
    pub fn new(
        dataset: Arc<dyn Dataset<I>>,
        batcher: Arc<dyn Batcher<I, O>>,
        batch_size: usize,
        device: Device,
    ) -> Self {
        let len = dataset.len();
        Self {
            dataset,
            batcher,
            batch_size: batch_size.max(1),
            device,
            range: 0..len,
            shuffle: None,
            next_epoch: Arc::new(AtomicUsize::new(1)),
        }
    }

    /// Shuffle every epoch from `seed`; the first [`DataLoader::iter`] is epoch `first_epoch`
    /// (1 for a new run, the last completed epoch + 1 when resuming).
    pub fn shuffled(mut self, seed: u64, first_epoch: usize) -> Self {
        self.shuffle = Some(seed);
        self.next_epoch = Arc::new(AtomicUsize::new(first_epoch));
        self
    }

    /// The dataset indices of `epoch`, in the order they are batched.
    pub fn order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = self.range.clone().collect();
        if let Some(seed) = self.shuffle {
            shuffle_in_place(&mut order, epoch_seed(seed, epoch));
        }
        order
    }
}

/// Fisher–Yates with a SplitMix64 stream: the same permutation on every platform.
fn shuffle_in_place(items: &mut [usize], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        // Multiply-shift maps the 64-bit draw onto 0..=i without modulo bias worth measuring.
        let j = ((u128::from(next()) * (i as u128 + 1)) >> 64) as usize;
        items.swap(i, j);
    }
}

struct EpochIter<'a, I, O> {
    loader: &'a EpochLoader<I, O>,
    order: Vec<usize>,
    position: usize,
}

impl<I, O> Iterator for EpochIter<'_, I, O> {
    type Item = Result<O, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.position >= self.order.len() {
            return None;
        }
        let end = (self.position + self.loader.batch_size).min(self.order.len());
        let mut items = Vec::with_capacity(end - self.position);
        for &index in &self.order[self.position..end] {
            match self.loader.dataset.get(index) {
                Ok(item) => items.push(item),
                Err(error) => {
                    self.position = self.order.len();
                    return Some(Err(error));
                }
            }
        }
        self.position = end;
        Some(Ok(self.loader.batcher.batch(items, &self.loader.device)))
    }
}

impl<I, O> DataLoaderIterator<O> for EpochIter<'_, I, O> {
    fn progress(&self) -> Progress {
        Progress::new(self.position, self.order.len(), None)
    }
}

impl<I, O> DataLoader<O> for EpochLoader<I, O>
where
    I: Send + Sync + 'static,
    O: Send + 'static,
{
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<O> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        Box::new(EpochIter {
            loader: self,
            order: self.order(epoch),
            position: 0,
        })
    }

    fn num_items(&self) -> usize {
        self.range.len()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<O>> {
        let mut moved = self.clone();
        moved.device = device.clone();
        Arc::new(moved)
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<O>> {
        let start = (self.range.start + start).min(self.range.end);
        let end = (self.range.start + end).clamp(start, self.range.end);
        let mut part = self.clone();
        part.range = start..end;
        part.next_epoch = Arc::new(AtomicUsize::new(self.next_epoch.load(Ordering::SeqCst)));
        Arc::new(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::data::dataset::InMemDataset;

    #[derive(Clone)]
    struct Collect;
    impl Batcher<usize, Vec<usize>> for Collect {
        fn batch(&self, items: Vec<usize>, _device: &Device) -> Vec<usize> {
            items
        }
    }

    fn loader(n: usize, batch: usize) -> EpochLoader<usize, Vec<usize>> {
        EpochLoader::new(
            Arc::new(InMemDataset::new((0..n).collect())),
            Arc::new(Collect),
            batch,
            Device::default(),
        )
    }

    fn epoch(l: &EpochLoader<usize, Vec<usize>>) -> Vec<Vec<usize>> {
        l.iter().map(|b| b.expect("in-memory items")).collect()
    }

    #[test]
    fn unshuffled_is_dataset_order_every_epoch() {
        let l = loader(5, 2);
        assert_eq!(epoch(&l), vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(epoch(&l), vec![vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn each_epoch_is_a_permutation_and_epochs_differ() {
        let l = loader(50, 8).shuffled(3, 1);
        let a: Vec<usize> = epoch(&l).concat();
        let b: Vec<usize> = epoch(&l).concat();
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(a, (0..50).collect::<Vec<_>>());
        assert_ne!(a, b);
    }

    #[test]
    fn resuming_at_epoch_three_draws_epoch_three() {
        let uninterrupted = loader(30, 4).shuffled(11, 1);
        let _ = epoch(&uninterrupted);
        let _ = epoch(&uninterrupted);
        let third = epoch(&uninterrupted);
        let resumed = loader(30, 4).shuffled(11, 3);
        assert_eq!(epoch(&resumed), third);
        let other_seed = loader(30, 4).shuffled(12, 3);
        assert_ne!(epoch(&other_seed), third);
    }

    #[test]
    fn to_device_shares_the_epoch_count_and_slices_cover_the_range() {
        let l = loader(10, 3).shuffled(5, 1);
        let moved = l.to_device(&Device::default());
        let first: Vec<usize> = moved.iter().flat_map(|b| b.expect("items")).collect();
        assert_eq!(first, l.order(1));
        // The original now runs epoch 2.
        assert_eq!(epoch(&l).concat(), l.order(2));
        let halves = [l.slice(0, 5), l.slice(5, 10)];
        assert_eq!(halves[0].num_items() + halves[1].num_items(), 10);
        let mut seen: Vec<usize> = halves
            .iter()
            .flat_map(|h| h.iter().flat_map(|b| b.expect("items")).collect::<Vec<_>>())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }
}
