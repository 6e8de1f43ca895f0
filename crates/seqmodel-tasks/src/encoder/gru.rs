//! The GRU encoder: seqmodel-rnn's [`Gru`] (PyTorch's `nn.GRU`) over the embeddings.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use seqmodel_data::SequenceLengths;
use seqmodel_rnn::{Execution, Gru, GruConfig, StateDict};

use super::{Encoded, EncoderConfig, SequenceEncoder, last_layer_state};
use crate::error::Result;

/// A GRU encoder (fused kernel where one applies: [`Execution::Auto`]). Its parameters are
/// PyTorch's `nn.GRU` names under the encoder's prefix (`weight_ih_l0`, `bias_hh_l0_reverse`,
/// ...; gates r, z, n).
#[derive(Module, Debug)]
pub struct GruEncoder {
    /// The layer.
    pub gru: Gru,
}

impl SequenceEncoder for GruEncoder {
    fn init(config: &EncoderConfig, input_size: usize, device: &Device) -> Result<Self> {
        let gru = GruConfig::new(input_size, config.hidden_size)
            .with_num_layers(config.num_layers)
            .with_bidirectional(config.bidirectional)
            .with_dropout(config.dropout)
            .with_residual(config.residual)
            .with_execution(Execution::Auto)
            .init(device)?;
        Ok(Self { gru })
    }

    fn output_size(&self) -> usize {
        self.gru.output_size()
    }

    fn encode(&self, input: Tensor<3>, lengths: &SequenceLengths) -> Result<Encoded> {
        let out = self.gru.forward(input, Some(lengths), None)?;
        Ok(Encoded {
            sequence: out.output,
            last: last_layer_state(out.state, self.gru.num_layers, self.gru.bidirectional),
        })
    }

    fn load_state_dict(self, dict: &StateDict, prefix: &str) -> Result<Self> {
        Ok(Self {
            gru: self.gru.load_state_dict(dict, prefix)?,
        })
    }

    fn state_dict(&self, prefix: &str) -> StateDict {
        self.gru.state_dict(prefix)
    }
}
