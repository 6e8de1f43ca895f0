//! [`Forecaster`]: the module and its forward pass.

use burn::module::Module;
use burn::nn::{Dropout, Linear};
use burn::tensor::Tensor;
use seqmodel_data::SequenceLengths;

use crate::encoder::Encoder;
use crate::error::{Result, TaskError};
use seqmodel_attention::{AdditiveAttention, Attention};

/// A forecaster: windows → [`Encoder`] → (optional [`AdditiveAttention`] with the last state
/// as query, `[context; last]`) → dropout → [`Linear`] → `horizon * targets` values. Built by
/// [`crate::ForecasterConfig::init`].
#[derive(Module, Debug)]
pub struct Forecaster {
    /// The sequence encoder over the window's steps.
    pub encoder: Encoder,
    /// Attention over the encoder's states, when configured.
    pub attention: Option<AdditiveAttention>,
    /// Dropout before the output layer (only while training).
    pub dropout: Dropout,
    /// Features (`F`, or `2F` with attention) to `horizon * targets` values.
    pub output: Linear,
    /// Steps forecast at once.
    pub horizon: usize,
    /// Target columns per step.
    pub targets: usize,
    /// Input columns per step.
    pub inputs: usize,
}

impl Forecaster {
    /// The forecast for a batch of windows.
    ///
    /// # Shapes
    /// - `inputs`: `[batch, lookback, inputs]` (`batch`, `lookback` ≥ 1)
    /// - output: `[batch, horizon * targets]`, laid out as `[horizon, targets]` row-major:
    ///   value `h * targets + k` is step `h + 1` of target `k` — the layout of
    ///   `seqmodel_data::Window::targets`.
    ///
    /// Errors: an empty batch or window, or a number of input columns other than the
    /// configured one ([`TaskError::InvalidConfig`] naming the dimension).
    pub fn forward(&self, inputs: Tensor<3>) -> Result<Tensor<2>> {
        Ok(self.forward_with_weights(inputs)?.0)
    }

    /// [`Self::forward`] and, with attention, its weights `[batch, lookback]` (rows sum to 1).
    pub fn forward_with_weights(
        &self,
        inputs: Tensor<3>,
    ) -> Result<(Tensor<2>, Option<Tensor<2>>)> {
        let [batch, lookback, columns] = inputs.dims();
        if batch == 0 || lookback == 0 || columns != self.inputs {
            return Err(TaskError::InvalidConfig {
                config: "Forecaster",
                field: "inputs".into(),
                reason: format!(
                    "a batch of shape [{batch}, {lookback}, {columns}]; expected [batch ≥ 1, \
                     lookback ≥ 1, {}] (the model was built for {} input columns)",
                    self.inputs, self.inputs
                ),
            });
        }
        let encoded = self
            .encoder
            .encode(inputs, &SequenceLengths::right(vec![lookback; batch]))?;
        let (features, weights) = match &self.attention {
            Some(attention) => {
                let states = encoded.sequence;
                let attended = attention.attend(
                    encoded.last.clone().unsqueeze_dim::<3>(1),
                    states.clone(),
                    states,
                    None,
                )?;
                let context = attended.context.squeeze_dim::<2>(1);
                (
                    Tensor::cat(vec![context, encoded.last], 1),
                    Some(attended.weights.squeeze_dim::<2>(1)),
                )
            }
            None => (encoded.last, None),
        };
        Ok((self.output.forward(self.dropout.forward(features)), weights))
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution};

    use crate::{EncoderConfig, EncoderKind, ForecastAttention, ForecasterConfig};

    #[test]
    fn shapes_for_every_encoder_and_attention() {
        let device = Device::flex();
        for &kind in EncoderKind::ALL {
            for &attention in ForecastAttention::ALL {
                let model = ForecasterConfig::default()
                    .with_encoder(
                        EncoderConfig::new(kind)
                            .with_hidden_size(6)
                            .with_num_heads(2),
                    )
                    .with_attention(attention)
                    .with_horizon(3)
                    .with_targets(2)
                    .with_inputs(4)
                    .init(&device)
                    .unwrap();
                let x = Tensor::<3>::random([5, 7, 4], Distribution::Normal(0.0, 1.0), &device);
                let (y, weights) = model.forward_with_weights(x).unwrap();
                assert_eq!(y.dims(), [5, 6], "{kind} {attention}");
                match weights {
                    Some(w) => {
                        assert_eq!(attention, ForecastAttention::Additive);
                        assert_eq!(w.dims(), [5, 7]);
                        for s in w.sum_dim(1).into_data().try_to_vec::<f32>().unwrap() {
                            assert!((s - 1.0).abs() < 1e-5, "weights sum to {s}");
                        }
                    }
                    None => assert_eq!(attention, ForecastAttention::None),
                }
            }
        }
    }

    use burn::tensor::Tensor;

    #[test]
    fn wrong_input_width_is_an_error() {
        let device = Device::flex();
        let model = ForecasterConfig::default()
            .with_inputs(2)
            .init(&device)
            .unwrap();
        let err = model
            .forward(Tensor::<3>::zeros([1, 4, 3], &device))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Forecaster.inputs: a batch of shape [1, 4, 3]")
        );
    }
}
