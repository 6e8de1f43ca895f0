//! The temporal convolutional encoder: seqmodel-rnn's [`Tcn`] over the embeddings.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use seqmodel_data::SequenceLengths;
use seqmodel_rnn::{StateDict, Tcn, TcnConfig};

use super::qrnn::{RealStep, real_step};
use super::{Encoded, EncoderConfig, SequenceEncoder};
use crate::error::Result;

/// A temporal convolutional network (Bai, Kolter, Koltun 2018): `num_layers` residual blocks
/// of two weight-normalised kernel-3 convolutions with dilation `2^level` (receptive field
/// `1 + 4 (2^num_layers - 1)`: 5 steps for one block, 61 for four). `bidirectional` (the
/// default) makes it centred, with `2H` channels so that its width is the configuration's
/// `D * H`; one direction makes it causal with `H` channels. `dropout` follows each ReLU.
/// `last` is the output at each sequence's last real step. Parameters
/// `blocks.{l}.conv1.weight_g`/`weight_v`/`bias`, `conv2`, `downsample` (first block, when the
/// embedding width differs) under the encoder's prefix.
#[derive(Module, Debug)]
pub struct CnnEncoder {
    /// The network.
    pub tcn: Tcn,
}

impl SequenceEncoder for CnnEncoder {
    fn init(config: &EncoderConfig, input_size: usize, device: &Device) -> Result<Self> {
        let tcn = TcnConfig::new(input_size, config.output_size())
            .with_num_levels(config.num_layers)
            .with_causal(!config.bidirectional)
            .with_dropout(config.dropout)
            .init(device)?;
        Ok(Self { tcn })
    }

    fn output_size(&self) -> usize {
        self.tcn.hidden_size
    }

    fn encode(&self, input: Tensor<3>, lengths: &SequenceLengths) -> Result<Encoded> {
        let sequence = self.tcn.forward(input, Some(lengths))?;
        let last = real_step(sequence.clone(), lengths, RealStep::Last);
        Ok(Encoded { sequence, last })
    }

    fn load_state_dict(self, dict: &StateDict, prefix: &str) -> Result<Self> {
        Ok(Self {
            tcn: self.tcn.load_state_dict(dict, prefix)?,
        })
    }

    fn state_dict(&self, prefix: &str) -> StateDict {
        self.tcn.state_dict(prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::EncoderKind;

    /// Centred when bidirectional (width `2H`), causal otherwise (width `H`); the receptive
    /// field follows `num_layers`.
    #[test]
    fn direction_chooses_centred_or_causal() {
        let device = Device::flex();
        let config = EncoderConfig::new(EncoderKind::Cnn)
            .with_hidden_size(4)
            .with_num_layers(3);
        let centred = CnnEncoder::init(&config, 2, &device).expect("valid");
        assert!(!centred.tcn.causal);
        assert_eq!(centred.output_size(), 8);
        assert_eq!(centred.tcn.receptive_field, 29);
        let causal =
            CnnEncoder::init(&config.with_bidirectional(false), 2, &device).expect("valid");
        assert!(causal.tcn.causal);
        assert_eq!(causal.output_size(), 4);
    }
}
