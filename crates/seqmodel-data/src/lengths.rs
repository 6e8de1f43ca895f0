//! [`SequenceLengths`]: the one hand-off from a padded batch to a sequence layer — how many
//! positions of each row are real, and on which side the padding is.
//!
//! The lengths live on the host (a layer needs them to plan its time loop, and reading them back
//! from a device would cost a synchronisation per batch); [`SequenceLengths::to_tensor`] and
//! [`SequenceLengths::padding_mask`] build device tensors from them when a layer needs those.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use crate::padding::{PadSide, padding_mask};

/// What is wrong with a set of sequence lengths or a padding mask.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LengthsError {
    /// There are not as many lengths as rows in the batch.
    #[error("{found} lengths for a batch of {batch} sequences: give one length per sequence")]
    BatchMismatch {
        /// Rows in the batch.
        batch: usize,
        /// Lengths given.
        found: usize,
    },
    /// A length exceeds the time dimension (lengths are never clamped).
    #[error(
        "sequence {row} has length {length}, but the batch has only {time} time steps: \
         lengths must be in 0..={time}"
    )]
    TooLong {
        /// The row.
        row: usize,
        /// Its length.
        length: usize,
        /// The time dimension of the batch.
        time: usize,
    },
    /// A padding-mask row whose padding is neither all at the start nor all at the end.
    #[error(
        "padding mask row {row}: padding must be contiguous at one end of the row \
         (`false.. true..` for right padding, `true.. false..` for left padding), found {pattern}"
    )]
    MaskHole {
        /// The row.
        row: usize,
        /// The row as `.` (real) and `#` (padding), e.g. `.#.`.
        pattern: String,
    },
    /// Some rows of a padding mask are padded on the left and others on the right.
    #[error(
        "padding mask rows {right_row} and {left_row} are padded on different sides \
         (right and left): pad every row of a batch on the same side"
    )]
    MixedSides {
        /// A row padded on the right.
        right_row: usize,
        /// A row padded on the left.
        left_row: usize,
    },
    /// The padding mask could not be read from its device.
    #[error("cannot read the padding mask from its device: {message}")]
    MaskRead {
        /// What the backend said.
        message: String,
    },
}

/// How many positions of each sequence in a `[batch, time, ..]` batch are real, and where the
/// padding is: after the real positions ([`PadSide::Right`]) or before them ([`PadSide::Left`]).
///
/// Invariant checked by [`SequenceLengths::validate`] (every layer calls it): one length per
/// row, each in `0..=time`. A length larger than `time` is an error, never clamped.
///
/// ```
/// use burn::tensor::{Bool, Device, Tensor};
/// use seqmodel_data::{PadSide, SequenceLengths};
///
/// let device = Device::flex();
/// let lengths = SequenceLengths::right(vec![3, 1]);
/// let mask = lengths.padding_mask(3, &device)?; // [batch, time], true = padding
/// let mask: Vec<bool> = mask.to_data().iter::<bool>().collect();
/// assert_eq!(mask, vec![false, false, false, false, true, true]);
///
/// // The same, read from a padding mask; the side is detected:
/// let left = Tensor::<2, Bool>::from_data([[false, false, false], [true, true, false]], &device);
/// let from_mask = SequenceLengths::from_padding_mask(left)?;
/// assert_eq!(from_mask.as_slice(), &[3, 1]);
/// assert_eq!(from_mask.side(), PadSide::Left);
/// # Ok::<(), seqmodel_data::LengthsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceLengths {
    /// `[batch]`: real positions of each row.
    lengths: Vec<usize>,
    /// Where each row's padding is.
    side: PadSide,
}

impl SequenceLengths {
    /// Lengths of a batch padded on `side`.
    pub fn new(lengths: Vec<usize>, side: PadSide) -> Self {
        Self { lengths, side }
    }

    /// Lengths of a batch padded on the right (`[a, b, <pad>]`).
    pub fn right(lengths: Vec<usize>) -> Self {
        Self::new(lengths, PadSide::Right)
    }

    /// Lengths of a batch padded on the left (`[<pad>, a, b]`).
    pub fn left(lengths: Vec<usize>) -> Self {
        Self::new(lengths, PadSide::Left)
    }

    /// From a `[batch, time]` padding mask (`true` = padding, Burn's convention for masks).
    ///
    /// Each row's padding must be contiguous at one end; the side is detected from the rows
    /// (a batch whose rows are all full or all empty counts as right-padded). A row with a hole
    /// is a [`LengthsError::MaskHole`], rows padded on different sides a
    /// [`LengthsError::MixedSides`]. Reads the mask back from its device.
    pub fn from_padding_mask(mask: Tensor<2, Bool>) -> Result<Self, LengthsError> {
        let [batch, time] = mask.dims();
        let values: Vec<bool> = mask
            .int()
            .into_data()
            .try_into_vec_as::<i64>()
            .map_err(|e| LengthsError::MaskRead {
                message: format!("{e:?}"),
            })?
            .into_iter()
            .map(|p| p != 0)
            .collect();
        let mut lengths = Vec::with_capacity(batch);
        let mut right_row = None;
        let mut left_row = None;
        for row in 0..batch {
            let padding = &values[row * time..(row + 1) * time];
            let real = padding.iter().filter(|&&p| !p).count();
            let leading_real = padding.iter().take_while(|&&p| !p).count();
            let leading_padding = padding.iter().take_while(|&&p| p).count();
            if real == time || real == 0 {
                // Full or empty: either side.
            } else if leading_real == real {
                right_row.get_or_insert(row);
            } else if leading_padding == time - real {
                left_row.get_or_insert(row);
            } else {
                let pattern = padding.iter().map(|&p| if p { '#' } else { '.' }).collect();
                return Err(LengthsError::MaskHole { row, pattern });
            }
            lengths.push(real);
        }
        let side = match (right_row, left_row) {
            (Some(right_row), Some(left_row)) => {
                return Err(LengthsError::MixedSides {
                    right_row,
                    left_row,
                });
            }
            (None, Some(_)) => PadSide::Left,
            _ => PadSide::Right,
        };
        Ok(Self { lengths, side })
    }

    /// The lengths: `[batch]`.
    pub fn as_slice(&self) -> &[usize] {
        &self.lengths
    }

    /// Where the padding is.
    pub fn side(&self) -> PadSide {
        self.side
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Check against a `[batch, time, ..]` batch: one length per row, each in `0..=time`.
    pub fn validate(&self, batch: usize, time: usize) -> Result<(), LengthsError> {
        if self.lengths.len() != batch {
            return Err(LengthsError::BatchMismatch {
                batch,
                found: self.lengths.len(),
            });
        }
        match self.lengths.iter().enumerate().find(|&(_, &l)| l > time) {
            Some((row, &length)) => Err(LengthsError::TooLong { row, length, time }),
            None => Ok(()),
        }
    }

    /// Whether every sequence fills all `time` steps (no position is padding).
    pub fn is_full(&self, time: usize) -> bool {
        self.lengths.iter().all(|&l| l == time)
    }

    /// The lengths as an Int tensor `[batch]` on `device`.
    pub fn to_tensor(&self, device: &Device) -> Tensor<1, Int> {
        let values: Vec<i64> = self.lengths.iter().map(|&l| l as i64).collect();
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [n]), device)
    }

    /// The `[batch, time]` padding mask on `device` (`true` = padding), after
    /// [`SequenceLengths::validate`] against `time`.
    pub fn padding_mask(
        &self,
        time: usize,
        device: &Device,
    ) -> Result<Tensor<2, Bool>, LengthsError> {
        self.validate(self.lengths.len(), time)?;
        let mask = padding_mask(&self.lengths, time, self.side);
        Ok(Tensor::from_data(
            TensorData::new(mask, [self.lengths.len(), time]),
            device,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> Tensor<2, Bool> {
        let time = rows[0].len();
        let values: Vec<bool> = rows
            .iter()
            .flat_map(|r| r.chars().map(|c| c == '#'))
            .collect();
        Tensor::from_data(TensorData::new(values, [rows.len(), time]), &Device::flex())
    }

    #[test]
    fn the_side_is_detected_from_the_mask() {
        let right =
            SequenceLengths::from_padding_mask(mask(&["...", ".##", "###"])).expect("right");
        assert_eq!(right, SequenceLengths::right(vec![3, 1, 0]));
        let left = SequenceLengths::from_padding_mask(mask(&["...", "##.", "#.."])).expect("left");
        assert_eq!(left, SequenceLengths::left(vec![3, 1, 2]));
    }

    #[test]
    fn holes_and_mixed_sides_are_errors() {
        let hole = SequenceLengths::from_padding_mask(mask(&["...", ".#."])).expect_err("hole");
        assert_eq!(
            hole.to_string(),
            "padding mask row 1: padding must be contiguous at one end of the row \
             (`false.. true..` for right padding, `true.. false..` for left padding), found .#."
        );
        let mixed = SequenceLengths::from_padding_mask(mask(&["#..", "..#"])).expect_err("mixed");
        assert_eq!(
            mixed,
            LengthsError::MixedSides {
                right_row: 1,
                left_row: 0
            }
        );
    }

    #[test]
    fn lengths_past_time_are_errors_never_clamped() {
        let lengths = SequenceLengths::left(vec![2, 4]);
        assert_eq!(
            lengths.validate(2, 3),
            Err(LengthsError::TooLong {
                row: 1,
                length: 4,
                time: 3
            })
        );
        assert!(lengths.padding_mask(3, &Device::flex()).is_err());
        assert_eq!(
            lengths.validate(3, 4),
            Err(LengthsError::BatchMismatch { batch: 3, found: 2 })
        );
    }

    #[test]
    fn left_mask_and_tensor_by_hand() {
        let device = Device::flex();
        let lengths = SequenceLengths::left(vec![1, 3]);
        let mask = lengths.padding_mask(3, &device).expect("valid");
        let values: Vec<bool> = mask.to_data().iter::<bool>().collect();
        assert_eq!(values, vec![true, true, false, false, false, false]);
        let tensor: Vec<i64> = lengths.to_tensor(&device).to_data().iter::<i64>().collect();
        assert_eq!(tensor, vec![1, 3]);
        assert!(!lengths.is_full(3));
        assert!(SequenceLengths::left(vec![3, 3]).is_full(3));
    }
}
