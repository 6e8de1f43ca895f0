//! [`AdditiveAttention`]: Bahdanau's additive attention over an encoder's states, one query per
//! sequence.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

/// Configuration of an [`AdditiveAttention`].
#[derive(Config, Debug)]
pub struct AdditiveAttentionConfig {
    /// Width `F` of the states and of the query (and of the scorer's hidden layer).
    pub features: usize,
}

impl AdditiveAttentionConfig {
    /// Build the layer (Burn's default `Linear` initialisation, as PyTorch's `nn.Linear`).
    pub fn init(&self, device: &Device) -> AdditiveAttention {
        AdditiveAttention {
            query: LinearConfig::new(self.features, self.features)
                .with_bias(false)
                .init(device),
            key: LinearConfig::new(self.features, self.features).init(device),
            score: LinearConfig::new(self.features, 1)
                .with_bias(false)
                .init(device),
        }
    }
}

/// `e_t = v · tanh(W_q q + W_k h_t + b)`, `a = softmax_t(e)`, context `Σ_t a_t h_t`.
///
/// The names follow the PyTorch benchmark's `Wq` (no bias), `Wk` (bias) and `v` (no bias).
#[derive(Module, Debug)]
pub struct AdditiveAttention {
    /// `W_q`: `[F] -> [F]`, no bias.
    pub query: Linear,
    /// `W_k` and `b`: `[F] -> [F]`.
    pub key: Linear,
    /// `v`: `[F] -> [1]`, no bias.
    pub score: Linear,
}

impl AdditiveAttention {
    /// The attention weights.
    ///
    /// # Shapes
    /// - `states`: `[batch, time, F]`; `query`: `[batch, F]`
    /// - output: `[batch, time]`, each row summing to 1
    pub fn weights(&self, states: Tensor<3>, query: Tensor<2>) -> Tensor<2> {
        let [batch, time, _] = states.dims();
        let q = self.query.forward(query).unsqueeze_dim::<3>(1);
        let scores = self
            .score
            .forward((self.key.forward(states) + q).tanh())
            .reshape([batch, time]);
        softmax(scores, 1)
    }

    /// The context vector and the weights.
    ///
    /// # Shapes
    /// - `states`: `[batch, time, F]`; `query`: `[batch, F]`
    /// - output: context `[batch, F]`, weights `[batch, time]`
    pub fn forward(&self, states: Tensor<3>, query: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let [batch, _, features] = states.dims();
        let weights = self.weights(states.clone(), query);
        let context = (states * weights.clone().unsqueeze_dim::<3>(2))
            .sum_dim(1)
            .reshape([batch, features]);
        (context, weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn weights_sum_to_one_and_context_is_their_mean() {
        let device = Device::flex();
        let attn = AdditiveAttentionConfig::new(4).init(&device);
        let states = Tensor::<3>::random([3, 5, 4], Distribution::Normal(0.0, 1.0), &device);
        let query = Tensor::<2>::random([3, 4], Distribution::Normal(0.0, 1.0), &device);
        let (context, weights) = attn.forward(states.clone(), query);
        assert_eq!(weights.dims(), [3, 5]);
        assert_eq!(context.dims(), [3, 4]);
        let sums = weights
            .clone()
            .sum_dim(1)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for s in sums {
            assert!((s - 1.0).abs() < 1e-5, "weights sum to {s}");
        }
        // Equal states: the context is that state whatever the weights.
        let same = Tensor::<3>::ones([2, 6, 4], &device) * 0.5;
        let (ctx, _) = attn.forward(same, Tensor::<2>::ones([2, 4], &device));
        for v in ctx.into_data().try_to_vec::<f32>().unwrap() {
            assert!((v - 0.5).abs() < 1e-6);
        }
    }
}
