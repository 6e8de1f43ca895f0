//! The LSTM encoder: seqmodel-rnn's [`Lstm`] (PyTorch's `nn.LSTM`) over the embeddings.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use seqmodel_data::SequenceLengths;
use seqmodel_rnn::{Execution, Lstm, LstmConfig, StateDict};

use super::{Encoded, EncoderConfig, SequenceEncoder, last_layer_state};
use crate::error::Result;

/// An LSTM encoder (fused kernel where one applies: [`Execution::Auto`]). Its parameters are
/// PyTorch's `nn.LSTM` names under the encoder's prefix (`weight_ih_l0`, `bias_hh_l0_reverse`,
/// ...; gates i, f, g, o).
#[derive(Module, Debug)]
pub struct LstmEncoder {
    /// The layer.
    pub lstm: Lstm,
}

impl SequenceEncoder for LstmEncoder {
    fn init(config: &EncoderConfig, input_size: usize, device: &Device) -> Result<Self> {
        let lstm = LstmConfig::new(input_size, config.hidden_size)
            .with_num_layers(config.num_layers)
            .with_bidirectional(config.bidirectional)
            .with_dropout(config.dropout)
            .with_residual(config.residual)
            .with_execution(Execution::Auto)
            .init(device)?;
        Ok(Self { lstm })
    }

    fn output_size(&self) -> usize {
        self.lstm.output_size()
    }

    fn encode(&self, input: Tensor<3>, lengths: &SequenceLengths) -> Result<Encoded> {
        let out = self.lstm.forward(input, Some(lengths), None)?;
        Ok(Encoded {
            sequence: out.output,
            last: last_layer_state(out.state.h, self.lstm.num_layers, self.lstm.bidirectional),
        })
    }

    fn load_state_dict(self, dict: &StateDict, prefix: &str) -> Result<Self> {
        Ok(Self {
            lstm: self.lstm.load_state_dict(dict, prefix)?,
        })
    }

    fn state_dict(&self, prefix: &str) -> StateDict {
        self.lstm.state_dict(prefix)
    }
}
