//! Left-padded batches through a time loop that expects trailing padding.
//!
//! The time loop (fused or reference) freezes a sequence's state past its length, so it needs
//! each sequence's real steps at the start of its row. A batch padded on the left
//! (`[<pad>, <pad>, a, b]`) is rolled row by row so that its real steps come first
//! (`[a, b, <pad>, <pad>]`), run, and its outputs rolled back: real positions then hold exactly
//! what running each sequence alone gives, padding positions hold 0, and the final states are
//! those after each sequence's last real step. The roll is one row gather (`select` on the
//! flattened `[batch * time, width]` rows), which autodiff differentiates (a scatter-add).

use burn::tensor::{Device, Int, Tensor, TensorData};

/// The per-row rotation that right-aligns a left-padded batch, and its inverse.
///
/// Invariant: built from lengths already validated against `time` (`0..=time`, one per row).
#[derive(Debug, Clone)]
pub(crate) struct LeftAlignment {
    /// `[batch * time]`: row `b * time + t` of the right-aligned batch is row
    /// `to_right[b * time + t]` of the left-padded one.
    to_right: Tensor<1, Int>,
    /// `[batch * time]`: the inverse permutation.
    to_left: Tensor<1, Int>,
}

impl LeftAlignment {
    /// The rotations for `lengths` (each in `0..=time`) over `time` steps, on `device`.
    pub fn new(lengths: &[usize], time: usize, device: &Device) -> Self {
        let batch = lengths.len();
        let mut to_right = Vec::with_capacity(batch * time);
        let mut to_left = Vec::with_capacity(batch * time);
        for (b, &length) in lengths.iter().enumerate() {
            kernel_check!(length <= time, "lengths are validated before alignment");
            let shift = time - length; // leading padding of row b
            let row = (b * time) as i64;
            to_right.extend((0..time).map(|t| row + ((t + shift) % time) as i64));
            to_left.extend((0..time).map(|t| row + ((t + length) % time) as i64));
        }
        let tensor = |values: Vec<i64>| {
            Tensor::<1, Int>::from_data(TensorData::new(values, [batch * time]), device)
        };
        Self {
            to_right: tensor(to_right),
            to_left: tensor(to_left),
        }
    }

    /// Move each row's real steps to its start: `[batch, time, width]` -> the same shape.
    pub fn to_right(&self, values: Tensor<3>) -> Tensor<3> {
        Self::permute(values, &self.to_right)
    }

    /// Move each row's real steps back to its end (the inverse of [`LeftAlignment::to_right`]).
    /// Steps that were trailing padding (0 in a layer's output) become the leading padding.
    pub fn to_left(&self, values: Tensor<3>) -> Tensor<3> {
        Self::permute(values, &self.to_left)
    }

    fn permute(values: Tensor<3>, rows: &Tensor<1, Int>) -> Tensor<3> {
        let [batch, time, width] = values.dims();
        values
            .reshape([batch * time, width])
            .select(0, rows.clone())
            .reshape([batch, time, width])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `[p, a, b]` (length 2) and `[c, d, e]` (length 3): right-aligned `[a, b, p]` and
    /// `[c, d, e]`; rolling back restores the input.
    #[test]
    fn rows_roll_by_their_leading_padding_and_back() {
        let device = Device::flex();
        let values =
            Tensor::<3>::from_data([[[0.0], [1.0], [2.0]], [[3.0], [4.0], [5.0]]], &device);
        let align = LeftAlignment::new(&[2, 3], 3, &device);
        let right = align.to_right(values.clone());
        let got: Vec<f32> = right.to_data().iter::<f32>().collect();
        assert_eq!(got, vec![1.0, 2.0, 0.0, 3.0, 4.0, 5.0]);
        let back: Vec<f32> = align.to_left(right).to_data().iter::<f32>().collect();
        let input: Vec<f32> = values.to_data().iter::<f32>().collect();
        assert_eq!(back, input);
        let empty = LeftAlignment::new(&[0], 2, &device);
        let one = Tensor::<3>::from_data([[[7.0], [8.0]]], &device);
        let got: Vec<f32> = empty.to_right(one).to_data().iter::<f32>().collect();
        assert_eq!(got, vec![7.0, 8.0]);
    }
}
