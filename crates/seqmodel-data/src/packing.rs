//! Packed sequences, as PyTorch's `PackedSequence`: the sequences sorted by decreasing length
//! and laid out time-major, so that step `t` reads a contiguous block of `batch_sizes[t]` rows.
//!
//! For sequences `a = [a0, a1, a2]`, `b = [b0]`, `c = [c0, c1]` the sorted order is `a, c, b`,
//! `batch_sizes = [3, 2, 1]` and `data = [a0, c0, b0, a1, c1, a2]`.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::padding::PadSide;

/// Where each element of a packed batch comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedLayout {
    /// Number of sequences still running at each step (non-increasing, `batch_sizes[0] = batch`).
    pub batch_sizes: Vec<usize>,
    /// `sorted_indices[k]` = original index of the `k`-th longest sequence (stable for ties).
    pub sorted_indices: Vec<usize>,
    /// `unsorted_indices[b]` = sorted position of original sequence `b`.
    pub unsorted_indices: Vec<usize>,
    /// Length of each sequence, in original order.
    pub lengths: Vec<usize>,
}

impl PackedLayout {
    /// The layout for sequences of these lengths. Every length must be at least 1.
    pub fn new(lengths: &[usize]) -> Result<Self> {
        if let Some(b) = lengths.iter().position(|&l| l == 0) {
            return Err(Error::Config {
                config: "PackedLayout::new",
                field: "lengths",
                reason: format!("sequence {b} is empty; every packed sequence needs length >= 1"),
            });
        }
        let mut sorted_indices: Vec<usize> = (0..lengths.len()).collect();
        sorted_indices.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
        let mut unsorted_indices = vec![0; lengths.len()];
        for (k, &b) in sorted_indices.iter().enumerate() {
            unsorted_indices[b] = k;
        }
        let max_len = lengths.iter().copied().max().unwrap_or(0);
        let batch_sizes = (0..max_len)
            .map(|t| lengths.iter().filter(|&&l| l > t).count())
            .collect();
        Ok(Self {
            batch_sizes,
            sorted_indices,
            unsorted_indices,
            lengths: lengths.to_vec(),
        })
    }

    /// Total number of packed elements (sum of lengths).
    pub fn total(&self) -> usize {
        self.batch_sizes.iter().sum()
    }

    /// For each packed element, in packed order, the pair (original sequence, step).
    pub fn positions(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.batch_sizes
            .iter()
            .enumerate()
            .flat_map(move |(t, &n)| self.sorted_indices[..n].iter().map(move |&b| (b, t)))
    }

    /// For each packed element, its row in a padded `[batch * time]` layout.
    fn padded_rows(&self, time: usize, side: PadSide) -> Vec<i64> {
        self.positions()
            .map(|(b, t)| {
                let offset = match side {
                    PadSide::Right => 0,
                    PadSide::Left => time - self.lengths[b],
                };
                (b * time + offset + t) as i64
            })
            .collect()
    }

    fn check_time(&self, time: usize, caller: &'static str) -> Result<()> {
        let max_len = self.batch_sizes.len();
        if time < max_len {
            return Err(Error::Config {
                config: caller,
                field: "time",
                reason: format!(
                    "padded time {time} is shorter than the longest sequence {max_len}"
                ),
            });
        }
        Ok(())
    }

    /// Packs a padded `[batch, time, features]` tensor into `[total, features]` rows.
    pub fn pack_tensor(&self, padded: Tensor<3>, side: PadSide) -> Result<Tensor<2>> {
        let [batch, time, features] = padded.dims();
        if batch != self.lengths.len() {
            return Err(Error::Config {
                config: "PackedLayout::pack_tensor",
                field: "padded",
                reason: format!(
                    "batch {batch} does not match the layout's {} sequences",
                    self.lengths.len()
                ),
            });
        }
        self.check_time(time, "PackedLayout::pack_tensor")?;
        let device = padded.device();
        let rows = self.padded_rows(time, side);
        let index = int_tensor(rows, &device);
        Ok(padded.reshape([batch * time, features]).select(0, index))
    }

    /// Unpacks `[total, features]` rows into a padded `[batch, time, features]` tensor with
    /// zeros at the padding positions.
    pub fn unpack_tensor(
        &self,
        packed: Tensor<2>,
        time: usize,
        side: PadSide,
    ) -> Result<Tensor<3>> {
        let [total, features] = packed.dims();
        if total != self.total() {
            return Err(Error::Config {
                config: "PackedLayout::unpack_tensor",
                field: "packed",
                reason: format!("{total} rows, expected {}", self.total()),
            });
        }
        self.check_time(time, "PackedLayout::unpack_tensor")?;
        let batch = self.lengths.len();
        let device = packed.device();
        // Every padded row gathers a packed row; padding rows gather the appended zero row.
        let mut source = vec![total as i64; batch * time];
        for (k, row) in self.padded_rows(time, side).into_iter().enumerate() {
            source[row as usize] = k as i64;
        }
        let with_zero = Tensor::cat(vec![packed, Tensor::zeros([1, features], &device)], 0);
        let gathered = with_zero.select(0, int_tensor(source, &device));
        Ok(gathered.reshape([batch, time, features]))
    }
}

fn int_tensor(values: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// Host-side packed sequences of any element type.
///
/// ```
/// use seqmodel_data::PackedSequence;
///
/// let packed = PackedSequence::pack(&[vec!['a', 'b', 'c'], vec!['x'], vec!['p', 'q']])?;
/// assert_eq!(packed.layout.batch_sizes, vec![3, 2, 1]);
/// assert_eq!(packed.data, vec!['a', 'p', 'x', 'b', 'q', 'c']);
/// assert_eq!(packed.unpack()[1], vec!['x']);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedSequence<T> {
    /// Elements in packed (time-major, sorted) order.
    pub data: Vec<T>,
    /// Batch sizes, sort order and lengths.
    pub layout: PackedLayout,
}

impl<T: Clone> PackedSequence<T> {
    /// Packs sequences (each of length at least 1).
    pub fn pack<S: AsRef<[T]>>(sequences: &[S]) -> Result<Self> {
        let lengths: Vec<usize> = sequences.iter().map(|s| s.as_ref().len()).collect();
        let layout = PackedLayout::new(&lengths)?;
        let data = layout
            .positions()
            .map(|(b, t)| sequences[b].as_ref()[t].clone())
            .collect();
        Ok(Self { data, layout })
    }

    /// The sequences in their original order.
    pub fn unpack(&self) -> Vec<Vec<T>> {
        let mut out: Vec<Vec<T>> = self
            .layout
            .lengths
            .iter()
            .map(|&l| Vec::with_capacity(l))
            .collect();
        for ((b, _), item) in self.layout.positions().zip(&self.data) {
            out[b].push(item.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_matches_pytorch_by_hand() {
        // lengths [1, 3, 2]: sorted order 1, 2, 0; sizes [3, 2, 1].
        let layout = PackedLayout::new(&[1, 3, 2]).unwrap();
        assert_eq!(layout.sorted_indices, vec![1, 2, 0]);
        assert_eq!(layout.unsorted_indices, vec![2, 0, 1]);
        assert_eq!(layout.batch_sizes, vec![3, 2, 1]);
        assert_eq!(layout.total(), 6);
    }

    #[test]
    fn empty_sequences_cannot_be_packed() {
        let err = PackedSequence::pack(&[vec![1], vec![]]).unwrap_err();
        assert!(err.to_string().contains("sequence 1 is empty"), "{err}");
    }

    #[test]
    fn tensor_pack_and_unpack_by_hand() {
        let device = Device::flex();
        // batch 2, time 3, 1 feature; lengths [2, 3] right-padded. Padding holds -1.
        let padded = Tensor::<3>::from_data(
            TensorData::new(vec![1.0f32, 2.0, -1.0, 10.0, 20.0, 30.0], [2, 3, 1]),
            &device,
        );
        let layout = PackedLayout::new(&[2, 3]).unwrap();
        let packed = layout.pack_tensor(padded, PadSide::Right).unwrap();
        let values: Vec<f32> = packed.to_data().iter::<f32>().collect();
        assert_eq!(values, vec![10.0, 1.0, 20.0, 2.0, 30.0]);
        let back = layout.unpack_tensor(packed, 3, PadSide::Right).unwrap();
        let values: Vec<f32> = back.to_data().iter::<f32>().collect();
        assert_eq!(values, vec![1.0, 2.0, 0.0, 10.0, 20.0, 30.0]);
    }

    #[test]
    fn left_padded_tensors_pack_the_real_steps() {
        let device = Device::flex();
        let padded = Tensor::<3>::from_data(
            TensorData::new(vec![-1.0f32, 1.0, 2.0, 3.0], [2, 2, 1]),
            &device,
        );
        let layout = PackedLayout::new(&[1, 2]).unwrap();
        let packed = layout.pack_tensor(padded, PadSide::Left).unwrap();
        let values: Vec<f32> = packed.to_data().iter::<f32>().collect();
        assert_eq!(values, vec![2.0, 1.0, 3.0]);
    }

    proptest! {
        #[test]
        fn pack_then_unpack_round_trips(
            seqs in prop::collection::vec(prop::collection::vec(any::<u16>(), 1..10), 0..10)
        ) {
            let packed = PackedSequence::pack(&seqs).unwrap();
            prop_assert_eq!(packed.data.len(), seqs.iter().map(Vec::len).sum::<usize>());
            let sizes = &packed.layout.batch_sizes;
            prop_assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "batch sizes increase: {:?}", sizes);
            prop_assert_eq!(packed.unpack(), seqs, "unpack(pack(x)) != x");
        }
    }
}
