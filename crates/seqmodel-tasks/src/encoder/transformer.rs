//! The Transformer encoder: a linear projection of the embeddings to the model width (when
//! the widths differ), then seqmodel-attention's [`SelfAttentionEncoder`] (sinusoidal
//! positions, Burn's `TransformerEncoder` layers with the key padding mask, a final layer
//! norm; Vaswani et al. 2017).
//!
//! Sizes from the [`EncoderConfig`]: `hidden_size` is the model width `d` (a multiple of
//! `num_heads`, even), `num_layers` the layers, `num_heads` the heads, `feed_forward_size`
//! the feed-forward width, `dropout` every dropout; `bidirectional` does not apply (every
//! step sees the whole sequence). [`Encoded::last`] is the **mean of the outputs over each
//! sequence's real steps** (a Transformer has no final state), so `last` and `mean` pooling
//! agree.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use seqmodel_attention::{SelfAttentionEncoder, SelfAttentionEncoderConfig};
use seqmodel_data::SequenceLengths;
use seqmodel_rnn::{ParamSink, ParamSource, StateDict};

use super::{Encoded, EncoderConfig, SequenceEncoder};
use crate::error::Result;

/// Name of the input projection in the state dict (`{prefix}input_proj.weight`, `.bias`).
const INPUT_PROJ: &str = "input_proj";

/// A Transformer encoder over embeddings. State-dict names: `input_proj.*` (PyTorch
/// `nn.Linear`, present when the embedding width differs from `hidden_size`), then
/// `nn.TransformerEncoder`'s (`layers.{i}.self_attn.in_proj_weight`, `layers.{i}.linear1.*`,
/// `layers.{i}.norm1.*`, ..., `norm.*`; see [`SelfAttentionEncoder::load_state_dict`]).
#[derive(Module, Debug)]
pub struct TransformerEncoder {
    /// `[input_size] → [d]` (`None` when `input_size = d`).
    pub input: Option<Linear>,
    /// The layers.
    pub encoder: SelfAttentionEncoder,
}

impl SequenceEncoder for TransformerEncoder {
    fn init(config: &EncoderConfig, input_size: usize, device: &Device) -> Result<Self> {
        let d = config.hidden_size;
        let encoder = SelfAttentionEncoderConfig::new(d)
            .with_num_heads(config.num_heads)
            .with_num_layers(config.num_layers)
            .with_d_ff(config.feed_forward_size)
            .with_dropout(config.dropout)
            .init(device)?;
        Ok(Self {
            input: (input_size != d).then(|| LinearConfig::new(input_size, d).init(device)),
            encoder,
        })
    }

    fn output_size(&self) -> usize {
        self.encoder.d_model()
    }

    fn encode(&self, input: Tensor<3>, lengths: &SequenceLengths) -> Result<Encoded> {
        let x = match &self.input {
            Some(linear) => linear.forward(input),
            None => input,
        };
        let sequence = self.encoder.forward(x, lengths)?;
        let [batch, _, d] = sequence.dims();
        let counts: Vec<f32> = lengths
            .as_slice()
            .iter()
            .map(|&len| len.max(1) as f32)
            .collect();
        let counts =
            Tensor::<1>::from_data(counts.as_slice(), &sequence.device()).reshape([batch, 1]);
        // Padding steps are 0: the sum over time is the sum over the real steps.
        let last = sequence.clone().sum_dim(1).reshape([batch, d]) / counts;
        Ok(Encoded { sequence, last })
    }

    fn load_state_dict(self, dict: &StateDict, prefix: &str) -> Result<Self> {
        let input = match self.input {
            Some(linear) => Some(ParamSource::new(dict, prefix).take_linear(linear, INPUT_PROJ)?),
            None => None,
        };
        // The layers' loader refuses keys it does not know: hand it the rest.
        let mut rest = dict.clone();
        rest.retain(|key| !key.starts_with(&format!("{prefix}{INPUT_PROJ}.")) || input.is_none());
        Ok(Self {
            input,
            encoder: self.encoder.load_state_dict(&rest, prefix)?,
        })
    }

    fn state_dict(&self, prefix: &str) -> StateDict {
        let mut dict = self.encoder.state_dict(prefix);
        if let Some(linear) = &self.input {
            ParamSink::new(&mut dict, prefix).put_linear(INPUT_PROJ, linear);
        }
        dict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::EncoderKind;
    use burn::tensor::{Distribution, Tolerance};

    fn config() -> EncoderConfig {
        EncoderConfig::new(EncoderKind::Transformer)
            .with_hidden_size(8)
            .with_num_layers(2)
    }

    /// `last` is the mean over the real steps; padding steps are 0.
    #[test]
    fn last_is_the_mean_over_real_steps() {
        let device = Device::flex();
        let encoder = TransformerEncoder::init(&config(), 5, &device).expect("valid");
        assert_eq!(encoder.output_size(), 8);
        let input = Tensor::<3>::random([2, 4, 5], Distribution::Normal(0.0, 1.0), &device);
        let out = encoder
            .encode(input, &SequenceLengths::right(vec![4, 2]))
            .expect("encodes");
        let seq: Vec<f32> = out.sequence.into_data().iter::<f32>().collect();
        let last: Vec<f32> = out.last.into_data().iter::<f32>().collect();
        for j in 0..8 {
            let mean0 = (0..4).map(|t| seq[t * 8 + j]).sum::<f32>() / 4.0;
            let mean1 = (0..2).map(|t| seq[32 + t * 8 + j]).sum::<f32>() / 2.0;
            assert!((last[j] - mean0).abs() < 1e-5);
            assert!((last[8 + j] - mean1).abs() < 1e-5);
            assert_eq!(seq[32 + 2 * 8 + j], 0.0);
            assert_eq!(seq[32 + 3 * 8 + j], 0.0);
        }
    }

    /// Every parameter round-trips under its PyTorch name, the input projection included.
    #[test]
    fn state_dict_round_trips() {
        let device = Device::flex();
        device.seed(1);
        let a = TransformerEncoder::init(&config(), 5, &device).expect("valid");
        device.seed(2);
        let b = TransformerEncoder::init(&config(), 5, &device).expect("valid");
        let dict = a.state_dict("rnn.");
        assert!(dict.get("rnn.input_proj.weight").is_some());
        let b = b.load_state_dict(&dict, "rnn.").expect("loads");
        let input = Tensor::<3>::random([2, 3, 5], Distribution::Normal(0.0, 1.0), &device);
        let lengths = SequenceLengths::right(vec![3, 1]);
        let ya = a.encode(input.clone(), &lengths).expect("encodes");
        let yb = b.encode(input, &lengths).expect("encodes");
        yb.sequence
            .into_data()
            .assert_approx_eq::<f32>(&ya.sequence.into_data(), Tolerance::absolute(1e-6));
    }
}
