//! The Quasi-RNN encoder: seqmodel-rnn's [`Qrnn`] (fo-pooling, window 2) over the embeddings.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use seqmodel_data::{PadSide, SequenceLengths};
use seqmodel_rnn::{Qrnn, QrnnConfig, StateDict};

use super::{Encoded, EncoderConfig, SequenceEncoder};
use crate::error::Result;

/// A Quasi-RNN encoder (Bradbury et al. 2017): convolutional gates over two steps and an
/// elementwise recurrence, `num_layers` deep, both directions when `bidirectional`, residual
/// connections between layers when `residual`. Parameters `weight_l{k}` `[3H, 2 In]` and
/// `bias_l{k}` (`_reverse` for the reverse direction) under the encoder's prefix.
#[derive(Module, Debug)]
pub struct QrnnEncoder {
    /// The layer.
    pub qrnn: Qrnn,
}

/// Which real step of each sequence [`real_step`] picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RealStep {
    /// The first real step (where a reverse direction ends).
    First,
    /// The last real step (where a forward direction ends).
    Last,
}

/// `values[b, t_b, ..]` for each sequence `b`, `t_b` its first or last real step (either
/// padding side): `[batch, time, width]` -> `[batch, width]`. A sequence of length 0 gives
/// its step 0, which an encoder's output holds as 0.
pub(crate) fn real_step(
    values: Tensor<3>,
    lengths: &SequenceLengths,
    which: RealStep,
) -> Tensor<2> {
    let [batch, time, width] = values.dims();
    let left = lengths.side() == PadSide::Left;
    let rows: Vec<i64> = lengths
        .as_slice()
        .iter()
        .enumerate()
        .map(|(b, &n)| {
            let (first, last) = if left {
                (time - n, time - 1)
            } else {
                (0, n.saturating_sub(1))
            };
            let t = match (which, n) {
                (_, 0) => 0,
                (RealStep::First, _) => first,
                (RealStep::Last, _) => last,
            };
            (b * time + t) as i64
        })
        .collect();
    let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [batch]), &values.device());
    values.reshape([batch * time, width]).select(0, rows)
}

impl SequenceEncoder for QrnnEncoder {
    fn init(config: &EncoderConfig, input_size: usize, device: &Device) -> Result<Self> {
        let qrnn = QrnnConfig::new(input_size, config.hidden_size)
            .with_num_layers(config.num_layers)
            .with_bidirectional(config.bidirectional)
            .with_dropout(config.dropout)
            .with_residual(config.residual)
            .init(device)?;
        Ok(Self { qrnn })
    }

    fn output_size(&self) -> usize {
        self.qrnn.output_size()
    }

    fn encode(&self, input: Tensor<3>, lengths: &SequenceLengths) -> Result<Encoded> {
        let sequence = self.qrnn.forward(input, Some(lengths), None)?.output;
        let hidden = self.qrnn.hidden_size;
        let forward = real_step(
            sequence.clone().narrow(2, 0, hidden),
            lengths,
            RealStep::Last,
        );
        let last = if self.qrnn.bidirectional {
            let reverse = real_step(
                sequence.clone().narrow(2, hidden, hidden),
                lengths,
                RealStep::First,
            );
            Tensor::cat(vec![forward, reverse], 1)
        } else {
            forward
        };
        Ok(Encoded { sequence, last })
    }

    fn load_state_dict(self, dict: &StateDict, prefix: &str) -> Result<Self> {
        Ok(Self {
            qrnn: self.qrnn.load_state_dict(dict, prefix)?,
        })
    }

    fn state_dict(&self, prefix: &str) -> StateDict {
        self.qrnn.state_dict(prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `[0, 1, 2]` with length 2 and `[3, 4, 5]` with length 0, right padding: first
    /// steps 0 and 3 (step 0 for the empty row), last steps 1 and 3; left padding with lengths
    /// 2 and 3: first 1 and 3, last 2 and 5.
    #[test]
    fn real_step_picks_the_ends_of_the_real_steps() {
        let device = Device::flex();
        let values =
            Tensor::<3>::from_data([[[0.0], [1.0], [2.0]], [[3.0], [4.0], [5.0]]], &device);
        let pick = |lengths: SequenceLengths, which| {
            real_step(values.clone(), &lengths, which)
                .into_data()
                .try_to_vec_as::<f32>()
                .expect("f32")
        };
        let right = || SequenceLengths::right(vec![2, 0]);
        assert_eq!(pick(right(), RealStep::First), vec![0.0, 3.0]);
        assert_eq!(pick(right(), RealStep::Last), vec![1.0, 3.0]);
        let left = || SequenceLengths::left(vec![2, 3]);
        assert_eq!(pick(left(), RealStep::First), vec![1.0, 3.0]);
        assert_eq!(pick(left(), RealStep::Last), vec![2.0, 5.0]);
    }

    /// `last` is the forward half at the last real step and the reverse half at the first.
    #[test]
    fn last_joins_the_ends_of_both_directions() {
        let device = Device::flex();
        let config = EncoderConfig::new(super::super::EncoderKind::Qrnn).with_hidden_size(3);
        let encoder = QrnnEncoder::init(&config, 2, &device).expect("valid");
        let input = Tensor::<3>::ones([2, 4, 2], &device);
        let lengths = SequenceLengths::right(vec![4, 2]);
        let out = encoder.encode(input, &lengths).expect("encodes");
        let seq = out
            .sequence
            .into_data()
            .try_to_vec_as::<f32>()
            .expect("f32");
        let last = out.last.into_data().try_to_vec_as::<f32>().expect("f32");
        // Row 1 (length 2): forward at t = 1, reverse at t = 0; width 6 per step.
        let at = |b: usize, t: usize, j: usize| seq[(b * 4 + t) * 6 + j];
        for j in 0..3 {
            assert_eq!(last[6 + j], at(1, 1, j));
            assert_eq!(last[6 + 3 + j], at(1, 0, 3 + j));
            assert_eq!(last[j], at(0, 3, j));
        }
    }
}
