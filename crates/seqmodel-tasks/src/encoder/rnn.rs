//! The Elman RNN encoder: seqmodel-rnn's [`Rnn`] with tanh (PyTorch's `nn.RNN`) over the embeddings.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use seqmodel_data::SequenceLengths;
use seqmodel_rnn::{Execution, Nonlinearity, Rnn, RnnConfig, StateDict};

use super::{Encoded, EncoderConfig, SequenceEncoder, last_layer_state};
use crate::error::Result;

/// An Elman RNN encoder with tanh (fused kernel where one applies: [`Execution::Auto`]). Its parameters are
/// PyTorch's `nn.RNN` names under the encoder's prefix (`weight_ih_l0`, `bias_hh_l0_reverse`,
/// ...).
#[derive(Module, Debug)]
pub struct RnnEncoder {
    /// The layer.
    pub rnn: Rnn,
}

impl SequenceEncoder for RnnEncoder {
    fn init(config: &EncoderConfig, input_size: usize, device: &Device) -> Result<Self> {
        let rnn = RnnConfig::new(input_size, config.hidden_size)
            .with_nonlinearity(Nonlinearity::Tanh)
            .with_num_layers(config.num_layers)
            .with_bidirectional(config.bidirectional)
            .with_dropout(config.dropout)
            .with_residual(config.residual)
            .with_execution(Execution::Auto)
            .init(device)?;
        Ok(Self { rnn })
    }

    fn output_size(&self) -> usize {
        self.rnn.output_size()
    }

    fn encode(&self, input: Tensor<3>, lengths: &SequenceLengths) -> Result<Encoded> {
        let out = self.rnn.forward(input, Some(lengths), None)?;
        Ok(Encoded {
            sequence: out.output,
            last: last_layer_state(out.state, self.rnn.num_layers, self.rnn.bidirectional),
        })
    }

    fn load_state_dict(self, dict: &StateDict, prefix: &str) -> Result<Self> {
        Ok(Self {
            rnn: self.rnn.load_state_dict(dict, prefix)?,
        })
    }

    fn state_dict(&self, prefix: &str) -> StateDict {
        self.rnn.state_dict(prefix)
    }
}
