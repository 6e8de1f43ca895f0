//! Per-sequence lengths of a padded batch, given as a tensor or as a padding mask.

use burn::tensor::{Bool, Int, Tensor, TensorData};

use crate::cell::PaddingMask;
use crate::{Error, Result};

/// How many leading steps of each sequence in a `[batch, time, ..]` batch are real.
///
/// Past its length a sequence's output is exactly 0 and its state stops changing; the reverse
/// direction starts at its own last valid step. This gives the results of PyTorch's
/// `pack_padded_sequence(.., enforce_sorted=False)` without any sorting.
///
/// ```
/// use burn::tensor::{Bool, Device, Int, Tensor};
/// use seqmodel_rnn::SequenceLengths;
///
/// let device = Device::flex();
/// let lengths = SequenceLengths::new(Tensor::<1, Int>::from_data([3, 1], &device));
/// // The same, from a padding mask (`true` = padding, as in Burn's attention masks):
/// let mask = Tensor::<2, Bool>::from_data([[false, false, false], [false, true, true]], &device);
/// let from_mask = SequenceLengths::from_padding_mask(mask)?;
/// assert_eq!(from_mask.to_vec(), vec![3, 1]);
/// # assert_eq!(lengths.to_vec(), vec![3, 1]);
/// # Ok::<(), seqmodel_rnn::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SequenceLengths {
    /// `[batch]`, on the layer's device.
    lengths: Tensor<1, Int>,
    /// The same values on the host.
    host: Vec<i64>,
}

impl SequenceLengths {
    /// From an `[batch]` Int tensor on the layer's device (values in `0..=time`).
    pub fn new(lengths: Tensor<1, Int>) -> Self {
        let host = lengths
            .to_data()
            .try_into_vec_as::<i64>()
            .unwrap_or_default();
        Self { lengths, host }
    }

    /// From a `[batch, time]` padding mask, `true` = padding (Burn's convention for masks).
    ///
    /// The padding of each row must be trailing (`false ... false true ... true`); a mask with
    /// a hole in it is an [`Error::InvalidLengths`].
    pub fn from_padding_mask(mask: Tensor<2, Bool>) -> Result<Self> {
        let [batch, time] = mask.dims();
        let device = mask.device();
        let values = mask
            .int()
            .into_data()
            .try_into_vec_as::<i64>()
            .map_err(|e| Error::InvalidLengths {
                layer: "SequenceLengths",
                reason: format!("cannot read the padding mask: {e:?}"),
            })?;
        let mut host = Vec::with_capacity(batch);
        for b in 0..batch {
            let row = &values[b * time..(b + 1) * time];
            let length = row.iter().take_while(|&&p| p == 0).count();
            if let Some(t) = row[length..].iter().position(|&p| p == 0) {
                return Err(Error::InvalidLengths {
                    layer: "SequenceLengths",
                    reason: format!(
                        "padding mask row {b}: padding must be trailing, but step {} is padding \
                         and step {} is not",
                        length,
                        length + t
                    ),
                });
            }
            host.push(length as i64);
        }
        let lengths = Tensor::<1, Int>::from_data(TensorData::new(host.clone(), [batch]), &device);
        Ok(Self { lengths, host })
    }

    /// The lengths: `[batch]`.
    pub fn lengths(&self) -> &Tensor<1, Int> {
        &self.lengths
    }

    /// The lengths, on the host.
    pub fn to_vec(&self) -> Vec<i64> {
        self.host.clone()
    }

    /// Check them against a `[batch, time, ..]` input and build the padding mask, or `None`
    /// when every sequence is full length (then no masking is needed).
    pub(crate) fn padding_mask(
        &self,
        layer: &'static str,
        batch: usize,
        time: usize,
    ) -> Result<Option<PaddingMask>> {
        if self.lengths.dims() != [batch] || self.host.len() != batch {
            return Err(Error::InvalidLengths {
                layer,
                reason: format!(
                    "expected shape [{batch}] (one per sequence), found {:?}",
                    self.lengths.dims()
                ),
            });
        }
        if let Some((b, &l)) = self
            .host
            .iter()
            .enumerate()
            .find(|&(_, &l)| l < 0 || l as usize > time)
        {
            return Err(Error::InvalidLengths {
                layer,
                reason: format!("sequence {b} has length {l}, expected 0..={time}"),
            });
        }
        if self.host.iter().all(|&l| l as usize == time) {
            return Ok(None);
        }
        let padding: Vec<bool> = self
            .host
            .iter()
            .flat_map(|&l| (0..time).map(move |t| t as i64 >= l))
            .collect();
        let mask = Tensor::<2, Bool>::from_data(
            TensorData::new(padding, [batch, time]),
            &self.lengths.device(),
        );
        Ok(Some(PaddingMask::new(mask)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn padding_mask_must_be_trailing() {
        let device = Device::flex();
        let mask = Tensor::<2, Bool>::from_data([[false, true, false]], &device);
        let err = SequenceLengths::from_padding_mask(mask).expect_err("hole in the mask");
        assert_eq!(
            err.to_string(),
            "SequenceLengths: lengths: padding mask row 0: padding must be trailing, but step 1 \
             is padding and step 2 is not"
        );
    }

    /// lengths [2, 3] over time 3: padding at (0, 2) only; all-full lengths need no mask.
    #[test]
    fn mask_marks_steps_past_each_length() {
        let device = Device::flex();
        let lengths = SequenceLengths::new(Tensor::<1, Int>::from_data([2, 3], &device));
        let mask = lengths
            .padding_mask("Test", 2, 3)
            .expect("valid lengths")
            .expect("not all full");
        let values = mask
            .mask()
            .clone()
            .int()
            .into_data()
            .try_into_vec_as::<i64>()
            .expect("ints");
        assert_eq!(values, vec![0, 0, 1, 0, 0, 0]);
        assert!(
            lengths
                .padding_mask("Test", 2, 2)
                .expect_err("3 > time 2")
                .to_string()
                .contains("sequence 1 has length 3, expected 0..=2")
        );
        assert!(
            lengths
                .padding_mask("Test", 3, 3)
                .expect_err("batch 3")
                .to_string()
                .contains("expected shape [3]")
        );
        let full = SequenceLengths::new(Tensor::<1, Int>::from_data([3, 3], &device));
        assert!(full.padding_mask("Test", 2, 3).expect("valid").is_none());
    }
}
