//! Padding variable-length id sequences into `[batch, time]` tensors with a padding mask.
//!
//! **Mask convention (used everywhere in seqmodel):** `mask[b, t] == true` means position `t` of
//! sequence `b` is *padding* — the same convention as Burn's attention (`mask_pad`,
//! `generate_padding_mask`): `true` = masked out, ignore it.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lengths::SequenceLengths;

/// Which side of a sequence receives the padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PadSide {
    /// Tokens first, padding after (`[a, b, <pad>]`): what recurrent encoders expect.
    #[default]
    Right,
    /// Padding first, tokens after (`[<pad>, a, b]`): what left-to-right decoders generating
    /// from a prompt expect.
    Left,
}

/// Which end of a too-long sequence is cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TruncateSide {
    /// Keep the first `max_len` tokens.
    #[default]
    End,
    /// Keep the last `max_len` tokens.
    Start,
}

/// How to pad (and truncate) a batch of id sequences.
///
/// A `max_len` of 0 is rejected (by [`PaddingConfig::validate`], which [`PaddingConfig::pad`]
/// and every batcher taking a `PaddingConfig` call), never silently raised to 1.
///
/// ```
/// use burn::tensor::Device;
/// use seqmodel_data::{PadSide, PaddingConfig};
///
/// let config = PaddingConfig::default().with_side(PadSide::Left).with_max_len(3);
/// let padded = config.pad(&[vec![5, 6], vec![7, 8, 9, 10]])?;
/// assert_eq!(padded.ids, vec![0, 5, 6, 7, 8, 9]); // [batch = 2, time = 3], row-major
/// assert_eq!(padded.lengths, vec![2, 3]);
/// let batch = padded.to_batch(&Device::flex());
/// assert_eq!(batch.ids.dims(), [2, 3]);
/// assert_eq!(batch.unpad(), vec![vec![5, 6], vec![7, 8, 9]]);
///
/// let err = PaddingConfig::default().with_max_len(0).validate().unwrap_err();
/// assert!(err.to_string().starts_with("PaddingConfig: invalid max_len"));
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaddingConfig {
    /// The id written into padding positions (a vocabulary's `<pad>` is 0).
    pub pad_id: usize,
    /// Where the padding goes.
    pub side: PadSide,
    /// Longest sequence kept (at least 1); longer ones are truncated. `None` for no limit.
    pub max_len: Option<usize>,
    /// Which end a truncation removes.
    pub truncate: TruncateSide,
}

impl Default for PaddingConfig {
    fn default() -> Self {
        Self {
            pad_id: 0,
            side: PadSide::Right,
            max_len: None,
            truncate: TruncateSide::End,
        }
    }
}

impl PaddingConfig {
    /// Sets the padding side.
    pub fn with_side(mut self, side: PadSide) -> Self {
        self.side = side;
        self
    }

    /// Truncates sequences longer than `max_len`, which must be at least 1 (0 is an error
    /// when the configuration is used, see [`PaddingConfig::validate`]).
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = Some(max_len);
        self
    }

    /// Sets which end truncation removes.
    pub fn with_truncate(mut self, truncate: TruncateSide) -> Self {
        self.truncate = truncate;
        self
    }

    /// Sets the padding id.
    pub fn with_pad_id(mut self, pad_id: usize) -> Self {
        self.pad_id = pad_id;
        self
    }

    /// Rejects a `max_len` of 0 (it would drop every token) with an [`Error::Config`] naming
    /// `PaddingConfig` and `max_len`.
    pub fn validate(&self) -> Result<()> {
        if self.max_len == Some(0) {
            return Err(Error::Config {
                config: "PaddingConfig",
                field: "max_len",
                reason: "is 0, which would drop every token; set it to at least 1, or to None \
                         for no limit"
                    .into(),
            });
        }
        Ok(())
    }

    /// The part of `seq` that survives truncation.
    pub fn truncated<'a, T>(&self, seq: &'a [T]) -> &'a [T] {
        match self.max_len {
            Some(max) if seq.len() > max => match self.truncate {
                TruncateSide::End => &seq[..max],
                TruncateSide::Start => &seq[seq.len() - max..],
            },
            _ => seq,
        }
    }

    /// Pads `sequences` to the longest (truncated) one: ids `[batch, time]` with `time` the
    /// longest kept length, at least 1, so an all-empty batch still gives a valid tensor shape.
    /// Fails when the configuration is invalid (see [`PaddingConfig::validate`]).
    pub fn pad<S: AsRef<[usize]>>(&self, sequences: &[S]) -> Result<PaddedIds> {
        self.validate()?;
        Ok(self.pad_valid(sequences))
    }

    /// [`PaddingConfig::pad`] for a configuration that has passed [`PaddingConfig::validate`]
    /// (batchers validate theirs once, when they are built).
    pub(crate) fn pad_valid<S: AsRef<[usize]>>(&self, sequences: &[S]) -> PaddedIds {
        let kept: Vec<&[usize]> = sequences
            .iter()
            .map(|s| self.truncated(s.as_ref()))
            .collect();
        let lengths: Vec<usize> = kept.iter().map(|s| s.len()).collect();
        let time = lengths.iter().copied().max().unwrap_or(0).max(1);
        let mut ids = vec![self.pad_id as i64; kept.len() * time];
        for (row, seq) in ids.chunks_mut(time).zip(&kept) {
            let offset = match self.side {
                PadSide::Right => 0,
                PadSide::Left => time - seq.len(),
            };
            for (slot, &id) in row[offset..].iter_mut().zip(seq.iter()) {
                *slot = id as i64;
            }
        }
        PaddedIds {
            ids,
            batch: kept.len(),
            time,
            lengths,
            side: self.side,
        }
    }
}

/// Padded ids on the host: `ids` is `[batch, time]` in row-major order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaddedIds {
    /// `[batch * time]` ids, row-major.
    pub ids: Vec<i64>,
    /// Number of sequences.
    pub batch: usize,
    /// Padded length (longest sequence, at least 1).
    pub time: usize,
    /// Real length of each sequence (after truncation).
    pub lengths: Vec<usize>,
    /// Where the padding is.
    pub side: PadSide,
}

impl PaddedIds {
    /// `[batch * time]` padding mask, row-major: `true` = padding.
    pub fn mask(&self) -> Vec<bool> {
        padding_mask(&self.lengths, self.time, self.side)
    }

    /// The sequences without their padding.
    pub fn unpad(&self) -> Vec<Vec<usize>> {
        unpad_rows(&self.ids, self.time, &self.lengths, self.side)
    }

    /// The lengths and the padding side: what a sequence layer needs.
    pub fn sequence_lengths(&self) -> SequenceLengths {
        SequenceLengths::new(self.lengths.clone(), self.side)
    }

    /// Moves ids and mask onto `device` (the lengths stay on the host).
    pub fn to_batch(&self, device: &Device) -> PaddedBatch {
        let shape = [self.batch, self.time];
        PaddedBatch {
            ids: Tensor::from_data(TensorData::new(self.ids.clone(), shape), device),
            mask: Tensor::from_data(TensorData::new(self.mask(), shape), device),
            lengths: self.sequence_lengths(),
        }
    }
}

/// A padded batch on a device.
#[derive(Debug, Clone)]
pub struct PaddedBatch {
    /// Token ids, `[batch, time]`.
    pub ids: Tensor<2, Int>,
    /// Padding mask, `[batch, time]`: `true` = padding (Burn's attention convention).
    pub mask: Tensor<2, Bool>,
    /// Real length of each sequence and the padding side, on the host.
    lengths: SequenceLengths,
}

impl PaddedBatch {
    /// Number of sequences.
    pub fn batch_size(&self) -> usize {
        self.lengths.len()
    }

    /// The real length of each sequence and the padding side: pass it to a sequence layer
    /// (e.g. `lstm.forward(x, Some(batch.lengths()), None)`).
    pub fn lengths(&self) -> &SequenceLengths {
        &self.lengths
    }

    /// Where the padding is.
    pub fn side(&self) -> PadSide {
        self.lengths.side()
    }

    /// Lengths as an Int tensor `[batch]` on the batch's device, built from the host values.
    pub fn lengths_tensor(&self) -> Tensor<1, Int> {
        self.lengths.to_tensor(&self.ids.device())
    }

    /// Reads the ids back from the device and removes the padding.
    pub fn unpad(&self) -> Vec<Vec<usize>> {
        let [_, time] = self.ids.dims();
        let ids: Vec<i64> = self.ids.to_data().iter::<i64>().collect();
        unpad_rows(&ids, time, self.lengths.as_slice(), self.lengths.side())
    }
}

/// `[lengths.len() * time]` row-major mask, `true` where a position is padding.
pub fn padding_mask(lengths: &[usize], time: usize, side: PadSide) -> Vec<bool> {
    let mut mask = Vec::with_capacity(lengths.len() * time);
    for &len in lengths {
        let len = len.min(time);
        match side {
            PadSide::Right => {
                mask.extend(std::iter::repeat_n(false, len));
                mask.extend(std::iter::repeat_n(true, time - len));
            }
            PadSide::Left => {
                mask.extend(std::iter::repeat_n(true, time - len));
                mask.extend(std::iter::repeat_n(false, len));
            }
        }
    }
    mask
}

fn unpad_rows(ids: &[i64], time: usize, lengths: &[usize], side: PadSide) -> Vec<Vec<usize>> {
    ids.chunks(time.max(1))
        .zip(lengths)
        .map(|(row, &len)| {
            let len = len.min(row.len());
            let real = match side {
                PadSide::Right => &row[..len],
                PadSide::Left => &row[row.len() - len..],
            };
            real.iter().map(|&id| id.max(0) as usize).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn right_padding_by_hand() {
        let p = PaddingConfig::default()
            .pad(&[vec![4, 5, 6], vec![7]])
            .unwrap();
        assert_eq!((p.batch, p.time), (2, 3));
        assert_eq!(p.ids, vec![4, 5, 6, 7, 0, 0]);
        assert_eq!(p.mask(), vec![false, false, false, false, true, true]);
    }

    #[test]
    fn truncation_keeps_the_chosen_end() {
        let keep_end = PaddingConfig::default()
            .with_max_len(2)
            .with_truncate(TruncateSide::Start);
        assert_eq!(keep_end.pad(&[vec![1, 2, 3]]).unwrap().ids, vec![2, 3]);
        let keep_start = PaddingConfig::default().with_max_len(2);
        assert_eq!(keep_start.pad(&[vec![1, 2, 3]]).unwrap().ids, vec![1, 2]);
    }

    /// `with_max_len(0)` used to become 1 silently; now using the configuration is an error
    /// naming `PaddingConfig`, the field and the fix.
    #[test]
    fn max_len_zero_is_an_error_naming_the_config() {
        let config = PaddingConfig::default().with_max_len(0);
        assert_eq!(
            config.max_len,
            Some(0),
            "the builder must not change the value"
        );
        let err = config.pad(&[vec![1, 2, 3]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PaddingConfig: invalid max_len: is 0, which would drop every token; set it to at \
             least 1, or to None for no limit"
        );
        assert!(matches!(
            err,
            Error::Config {
                config: "PaddingConfig",
                field: "max_len",
                ..
            }
        ));
        assert!(PaddingConfig::default().with_max_len(1).validate().is_ok());
    }

    #[test]
    fn empty_batch_and_empty_sequences_have_time_one() {
        let p = PaddingConfig::default().pad::<Vec<usize>>(&[]).unwrap();
        assert_eq!((p.batch, p.time), (0, 1));
        let p = PaddingConfig::default()
            .with_pad_id(9)
            .pad(&[Vec::new()])
            .unwrap();
        assert_eq!((p.ids.clone(), p.mask()), (vec![9], vec![true]));
    }

    #[test]
    fn tensors_hold_ids_and_mask() {
        let device = Device::flex();
        let batch = PaddingConfig::default()
            .with_side(PadSide::Left)
            .pad(&[vec![1, 2], vec![3]])
            .unwrap()
            .to_batch(&device);
        let ids: Vec<i64> = batch.ids.to_data().iter::<i64>().collect();
        assert_eq!(ids, vec![1, 2, 0, 3]);
        let mask: Vec<bool> = batch.mask.to_data().iter::<bool>().collect();
        assert_eq!(mask, vec![false, false, true, false]);
        let lengths: Vec<i64> = batch.lengths_tensor().to_data().iter::<i64>().collect();
        assert_eq!(lengths, vec![2, 1]);
        assert_eq!(batch.lengths(), &SequenceLengths::left(vec![2, 1]));
    }

    fn sequences() -> impl Strategy<Value = Vec<Vec<usize>>> {
        prop::collection::vec(prop::collection::vec(1usize..50, 0..12), 0..10)
    }

    proptest! {
        #[test]
        fn pad_then_unpad_round_trips(seqs in sequences(), left in any::<bool>()) {
            let side = if left { PadSide::Left } else { PadSide::Right };
            let padded = PaddingConfig::default().with_side(side).pad(&seqs).unwrap();
            prop_assert_eq!(padded.unpad(), seqs, "unpad(pad(x)) != x");
        }

        #[test]
        fn mask_agrees_with_lengths(seqs in sequences(), left in any::<bool>(), max in 1usize..8) {
            let side = if left { PadSide::Left } else { PadSide::Right };
            let padded = PaddingConfig::default().with_side(side).with_max_len(max).pad(&seqs).unwrap();
            let mask = padded.mask();
            for (b, &len) in padded.lengths.iter().enumerate() {
                prop_assert_eq!(len, seqs[b].len().min(max), "length is not the truncated length");
                let row = &mask[b * padded.time..(b + 1) * padded.time];
                let real = row.iter().filter(|m| !**m).count();
                prop_assert_eq!(real, len, "unmasked positions != length in row {}", b);
                let padding_ids = padded.ids[b * padded.time..(b + 1) * padded.time]
                    .iter()
                    .zip(row)
                    .filter(|(_, m)| **m)
                    .all(|(id, _)| *id == 0);
                prop_assert!(padding_ids, "a masked position holds a non-pad id in row {}", b);
            }
        }
    }
}
