//! Additive attention (Bahdanau, Cho and Bengio 2015): `score(q, k) = vᵀ tanh(W_q q + W_k k + b)`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};

use crate::attention::{Attended, Attention, attend_with_scores, check_inputs, score_mask};
use crate::error::AttentionError;

const MODULE: &str = "AdditiveAttention";

/// Configuration of [`AdditiveAttention`].
#[derive(Config, Debug, PartialEq)]
pub struct AdditiveAttentionConfig {
    /// Features of a query (`dq`).
    pub query_size: usize,
    /// Features of a key (`dk`).
    pub key_size: usize,
    /// Width of the hidden layer the score is read from.
    pub hidden_size: usize,
    /// Whether the key projection has a bias `b` (Bahdanau's formulation has one; Luong's
    /// `concat` score is this without it).
    #[config(default = true)]
    pub bias: bool,
}

impl AdditiveAttentionConfig {
    /// Checks the sizes: each must be at least 1.
    pub fn validate(&self) -> crate::Result<()> {
        for (field, value) in [
            ("query_size", self.query_size),
            ("key_size", self.key_size),
            ("hidden_size", self.hidden_size),
        ] {
            if value == 0 {
                return Err(AttentionError::Config {
                    config: "AdditiveAttentionConfig",
                    field,
                    message: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }

    /// Builds the module on `device` (Burn's default initialisation).
    pub fn init(&self, device: &Device) -> crate::Result<AdditiveAttention> {
        self.validate()?;
        Ok(AdditiveAttention {
            query: LinearConfig::new(self.query_size, self.hidden_size)
                .with_bias(false)
                .init(device),
            key: LinearConfig::new(self.key_size, self.hidden_size)
                .with_bias(self.bias)
                .init(device),
            score: LinearConfig::new(self.hidden_size, 1)
                .with_bias(false)
                .init(device),
        })
    }
}

/// Additive attention: `score(q_i, k_j) = vᵀ tanh(W_q q_i + W_k k_j + b)`, softmax over the
/// unmasked keys.
///
/// The key projection does not depend on the query: a decoder that attends over the same
/// encoder states at every step projects them once ([`Self::project_keys`]) and calls
/// [`Self::attend_projected`] per step.
#[derive(Module, Debug)]
pub struct AdditiveAttention {
    /// `W_q`: `[dq] → [hidden]`, no bias.
    pub query: Linear,
    /// `W_k` and `b`: `[dk] → [hidden]`.
    pub key: Linear,
    /// `v`: `[hidden] → [1]`, no bias.
    pub score: Linear,
}

impl AdditiveAttention {
    /// `W_k k + b` for every key: `[batch, k, dk]` → `[batch, k, hidden]`.
    pub fn project_keys(&self, keys: Tensor<3>) -> Tensor<3> {
        self.key.forward(keys)
    }

    /// Attention with keys already projected by [`Self::project_keys`].
    ///
    /// # Shapes
    /// `query` `[batch, q, dq]`, `projected_keys` `[batch, k, hidden]`, `values`
    /// `[batch, k, dv]`, `key_padding_mask` `[batch, k]` (`true` = masked).
    pub fn attend_projected(
        &self,
        query: Tensor<3>,
        projected_keys: Tensor<3>,
        values: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
    ) -> crate::Result<Attended> {
        let hidden = self.score.weight.dims()[0];
        let [batch, q, k] = check_inputs(
            MODULE,
            &query,
            &projected_keys,
            &values,
            Some(self.query.weight.dims()[0]),
            Some(hidden),
        )?;
        let mask = score_mask(MODULE, [batch, q, k], key_padding_mask, None)?;
        // [batch, q, 1, hidden] + [batch, 1, k, hidden] → [batch, q, k, hidden]
        let summed =
            self.query.forward(query).unsqueeze_dim::<4>(2) + projected_keys.unsqueeze_dim::<4>(1);
        let scores = self
            .score
            .forward(seqmodel_rnn::fast_tanh(summed))
            .reshape([batch, q, k]);
        Ok(attend_with_scores(scores, mask, values))
    }
}

impl Attention for AdditiveAttention {
    fn attend(
        &self,
        query: Tensor<3>,
        keys: Tensor<3>,
        values: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
    ) -> crate::Result<Attended> {
        let key_size = self.key.weight.dims()[0];
        check_inputs(MODULE, &query, &keys, &values, None, Some(key_size))?;
        let projected = self.project_keys(keys);
        self.attend_projected(query, projected, values, key_padding_mask)
    }
}
