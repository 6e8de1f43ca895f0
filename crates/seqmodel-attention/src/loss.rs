//! The loss every encoder–decoder trains with: token cross-entropy averaged over the real
//! (unpadded) target positions, optionally label-smoothed; and burn-train's `SequenceOutput`
//! built from it.

use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;
use burn::train::SequenceOutput;
use seqmodel_data::PaddedBatch;

/// Mean token cross-entropy over the real (unpadded) target positions, label-smoothed by
/// `label_smoothing` as PyTorch's `CrossEntropyLoss(label_smoothing=ε)`:
/// `(1 − ε)·(−log p_gold) + ε·mean_v(−log p_v)`. A batch without real positions gives 0.
///
/// # Shapes
/// `logits` `[batch, time, vocab]`, `target` ids `[batch, time]` with its padding mask →
/// `[1]`.
pub fn masked_cross_entropy(
    logits: Tensor<3>,
    target: &PaddedBatch,
    label_smoothing: f64,
) -> Tensor<1> {
    let [batch, time, vocab] = logits.dims();
    let log_probs = log_softmax(logits, 2);
    let gold = log_probs
        .clone()
        .gather(2, target.ids.clone().unsqueeze_dim::<3>(2))
        .reshape([batch, time]);
    let eps = label_smoothing;
    let mut per_token = -gold * (1.0 - eps);
    if eps > 0.0 {
        let uniform = log_probs.sum_dim(2).reshape([batch, time]) / vocab as f64;
        per_token = per_token - uniform * eps;
    }
    let real = target.mask.clone().bool_not().float();
    let count = real.clone().sum().clamp_min(1.0);
    (per_token * real).sum() / count
}

/// burn-train's `SequenceOutput` of a teacher-forced batch: `loss`, `logits`
/// `[batch, time, vocab]`, and the target ids with `-1` at padding (metrics skip it).
pub(crate) fn sequence_output(
    loss: Tensor<1>,
    logits: Tensor<3>,
    target: &PaddedBatch,
) -> SequenceOutput {
    let targets = target.ids.clone().mask_fill(target.mask.clone(), -1);
    SequenceOutput::new(loss, logits, None, targets)
}
