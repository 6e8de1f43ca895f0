//! Scaled dot-product attention (Vaswani et al. 2017): `score(q, k) = q · k / √d`.

use burn::tensor::{Bool, Tensor};

use crate::attention::{Attended, Attention, attend_with_scores, check_inputs, score_mask};
use crate::error::{AttentionError, Result};

const MODULE: &str = "ScaledDotProductAttention";

/// Scaled dot-product attention, without parameters: queries and keys share their feature
/// size `d`; scores are `q · k / √d`, softmax over the unmasked keys (and the positions an
/// optional `[q, k]` attention mask, such as [`crate::causal_mask`], allows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScaledDotProductAttention;

impl ScaledDotProductAttention {
    /// Attention with an extra `[q, k]` attention mask (`true` = masked), e.g. causal.
    pub fn attend_masked(
        &self,
        query: Tensor<3>,
        keys: Tensor<3>,
        values: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
        attn_mask: Option<Tensor<2, Bool>>,
    ) -> Result<Attended> {
        let d = query.dims()[2];
        let shape = check_inputs(MODULE, &query, &keys, &values, None, Some(d)).map_err(
            |error| match error {
                AttentionError::Shape { found, .. } if found.len() == 3 && found[2] != d => {
                    AttentionError::Shape {
                        module: MODULE,
                        what: "keys",
                        found,
                        expected: format!("[batch, k, {d}] (the query's feature size)"),
                    }
                }
                other => other,
            },
        )?;
        let mask = score_mask(MODULE, shape, key_padding_mask, attn_mask)?;
        let scores = query.matmul(keys.swap_dims(1, 2)) / (d as f64).sqrt();
        Ok(attend_with_scores(scores, mask, values))
    }
}

impl Attention for ScaledDotProductAttention {
    fn attend(
        &self,
        query: Tensor<3>,
        keys: Tensor<3>,
        values: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
    ) -> Result<Attended> {
        self.attend_masked(query, keys, values, key_padding_mask, None)
    }
}
