//! The interface every attention module implements, its result, and the masked softmax they
//! share.

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Tensor};

use crate::error::{AttentionError, Result};

/// What an attention module returns.
#[derive(Debug, Clone)]
pub struct Attended {
    /// Weighted sums of the values: `[batch, q, dv]`.
    pub context: Tensor<3>,
    /// Attention weights: `[batch, q, k]`. Each row sums to 1 over its unmasked keys; a masked
    /// key has weight exactly 0; a row whose keys are all masked is all zeros (and its context
    /// is zeros), never NaN.
    pub weights: Tensor<3>,
}

/// One interface for every attention: a query attends over keys and returns a weighted sum
/// of values.
///
/// # Shapes
/// - `query`: `[batch, q, dq]` (`q` query positions; a decoder step has `q = 1`)
/// - `keys`: `[batch, k, dk]`, `values`: `[batch, k, dv]`
/// - `key_padding_mask`: `[batch, k]`, `true` = masked (padding), as everywhere in seqmodel
/// - result: [`Attended`]: context `[batch, q, dv]`, weights `[batch, q, k]`
pub trait Attention {
    /// Attend. Fails, naming the input, when a shape does not fit the module.
    fn attend(
        &self,
        query: Tensor<3>,
        keys: Tensor<3>,
        values: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
    ) -> Result<Attended>;
}

/// Softmax of `scores` over the last dimension with masked positions excluded.
///
/// # Shapes
/// - `scores`: `[batch, q, k]`
/// - `mask`: `[batch, q, k]`, `true` = excluded
///
/// Masked positions get exactly 0; a row with every position masked is all zeros.
pub fn masked_softmax(scores: Tensor<3>, mask: Option<Tensor<3, Bool>>) -> Tensor<3> {
    let Some(mask) = mask else {
        return softmax(scores, 2);
    };
    // A row of -inf only would give NaN: such rows are scored 0 (uniform), then zeroed.
    let empty_rows = mask.clone().all_dim(2);
    let [batch, q, k] = scores.dims();
    let scores = scores
        .mask_fill(mask.clone(), f32::NEG_INFINITY)
        .mask_fill(empty_rows.expand([batch, q, k]), 0.0);
    softmax(scores, 2).mask_fill(mask, 0.0)
}

/// The `[batch, q, k]` exclusion mask of a key padding mask `[batch, k]` (and an optional
/// `[q, k]` attention mask such as a causal one), checked against the scores' shape.
pub(crate) fn score_mask(
    module: &'static str,
    [batch, q, k]: [usize; 3],
    key_padding_mask: Option<Tensor<2, Bool>>,
    attn_mask: Option<Tensor<2, Bool>>,
) -> Result<Option<Tensor<3, Bool>>> {
    let padding = match key_padding_mask {
        None => None,
        Some(mask) => {
            if mask.dims() != [batch, k] {
                return Err(AttentionError::Shape {
                    module,
                    what: "key padding mask",
                    found: mask.dims().to_vec(),
                    expected: format!("[batch, k] = [{batch}, {k}]"),
                });
            }
            Some(mask.unsqueeze_dim::<3>(1).expand([batch, q, k]))
        }
    };
    let attn = match attn_mask {
        None => None,
        Some(mask) => {
            if mask.dims() != [q, k] {
                return Err(AttentionError::Shape {
                    module,
                    what: "attention mask",
                    found: mask.dims().to_vec(),
                    expected: format!("[q, k] = [{q}, {k}]"),
                });
            }
            Some(mask.unsqueeze_dim::<3>(0).expand([batch, q, k]))
        }
    };
    Ok(match (padding, attn) {
        (Some(a), Some(b)) => Some(a.bool_or(b)),
        (a, b) => a.or(b),
    })
}

/// Checks `query`, `keys` and `values` against each other and the expected feature sizes
/// (`None`: any), returning `[batch, q, k]`.
pub(crate) fn check_inputs(
    module: &'static str,
    query: &Tensor<3>,
    keys: &Tensor<3>,
    values: &Tensor<3>,
    query_size: Option<usize>,
    key_size: Option<usize>,
) -> Result<[usize; 3]> {
    let [batch, q, dq] = query.dims();
    let [kb, k, dk] = keys.dims();
    let [vb, vk, _] = values.dims();
    if let Some(expected) = query_size
        && dq != expected
    {
        return Err(AttentionError::Shape {
            module,
            what: "query",
            found: query.dims().to_vec(),
            expected: format!("[batch, q, {expected}] (the configured query size)"),
        });
    }
    if kb != batch || key_size.is_some_and(|expected| dk != expected) {
        return Err(AttentionError::Shape {
            module,
            what: "keys",
            found: keys.dims().to_vec(),
            expected: format!(
                "[{batch}, k, {}] (the query's batch, the configured key size)",
                key_size.map_or("dk".to_string(), |d| d.to_string())
            ),
        });
    }
    if vb != batch || vk != k {
        return Err(AttentionError::Shape {
            module,
            what: "values",
            found: values.dims().to_vec(),
            expected: format!("[{batch}, {k}, dv] (one value per key)"),
        });
    }
    Ok([batch, q, k])
}

/// Context and weights from scores: masked softmax, then the weighted sum of `values`.
pub(crate) fn attend_with_scores(
    scores: Tensor<3>,
    mask: Option<Tensor<3, Bool>>,
    values: Tensor<3>,
) -> Attended {
    let weights = masked_softmax(scores, mask);
    Attended {
        context: weights.clone().matmul(values),
        weights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData, Tolerance};

    #[test]
    fn masked_softmax_zeroes_masked_positions_and_empty_rows() {
        let device = Device::flex();
        let scores = Tensor::<3>::from_data([[[1.0, 2.0, 3.0], [0.5, 0.5, 9.0]]], &device);
        let mask =
            Tensor::<3, Bool>::from_data([[[false, false, true], [true, true, true]]], &device);
        let weights = masked_softmax(scores, Some(mask));
        let e = (1.0f32).exp();
        let expected = [[[1.0 / (1.0 + e), e / (1.0 + e), 0.0], [0.0, 0.0, 0.0]]];
        weights
            .to_data()
            .assert_approx_eq::<f32>(&TensorData::from(expected), Tolerance::absolute(1e-6));
        let values: Vec<f32> = weights.to_data().iter::<f32>().collect();
        assert_eq!(values[2], 0.0);
        assert!(values[3..].iter().all(|&v| v == 0.0));
    }
}
