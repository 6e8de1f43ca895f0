//! Every attention module: hand-computed small cases, the masking invariants (weights sum to 1
//! over unmasked keys, exactly 0 on masked keys, zeros for a fully masked row, never NaN, not
//! even in the gradient), padding never reaching the context, causality, and config errors.

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Tensor, TensorData, Tolerance};
use proptest::prelude::*;
use seqmodel_attention::{
    AdditiveAttention, AdditiveAttentionConfig, Attention, LuongAttentionConfig, LuongScore,
    MultiHeadAttentionConfig, ScaledDotProductAttention, causal_mask,
};

fn set(linear: &mut Linear, weight: TensorData, bias: Option<TensorData>, device: &Device) {
    linear.weight = Param::from_tensor(Tensor::<2>::from_data(weight, device));
    linear.bias = bias.map(|b| Param::from_tensor(Tensor::<1>::from_data(b, device)));
}

fn values(t: Tensor<3>) -> Vec<f32> {
    t.to_data().iter::<f32>().collect()
}

fn softmax(scores: &[f64]) -> Vec<f64> {
    let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().map(|x| x / z).collect()
}

fn assert_close(found: &[f32], expected: &[f64], what: &str) {
    assert_eq!(found.len(), expected.len(), "{what}");
    for (f, e) in found.iter().zip(expected) {
        assert!(
            (*f as f64 - e).abs() < 1e-6,
            "{what}: {found:?} vs {expected:?}"
        );
    }
}

/// Query `[1, 1]`, keys `[1, 0]`, `[0, 1]`, `[2, 1]` (the last masked), values = keys.
fn small_case(device: &Device) -> (Tensor<3>, Tensor<3>, Tensor<2, Bool>) {
    let query = Tensor::<3>::from_data([[[1.0, 1.0]]], device);
    let keys = Tensor::<3>::from_data([[[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]], device);
    let mask = Tensor::<2, Bool>::from_data([[false, false, true]], device);
    (query, keys, mask)
}

fn check_small_case(attention: &dyn Attention, scores: [f64; 2], what: &str) {
    let device = Device::flex();
    let (query, keys, mask) = small_case(&device);
    let out = attention
        .attend(query, keys.clone(), keys, Some(mask))
        .expect("shapes fit");
    let w = softmax(&scores);
    assert_close(&values(out.weights), &[w[0], w[1], 0.0], what);
    assert_close(&values(out.context), &[w[0], w[1]], what);
}

#[test]
fn dot_score_by_hand() {
    let device = Device::flex();
    let dot = LuongAttentionConfig::new(LuongScore::Dot, 2, 2)
        .init(&device)
        .expect("valid");
    // q·k: 1, 1.
    check_small_case(&dot, [1.0, 1.0], "dot");
}

#[test]
fn general_score_by_hand() {
    let device = Device::flex();
    let mut general = LuongAttentionConfig::new(LuongScore::General, 2, 2)
        .init(&device)
        .expect("valid");
    // W_a = [[2, 0], [0, 1]] (as the map keys → query space): q · (W k) = 2, 1.
    let w = general.general.as_mut().expect("general has W_a");
    set(
        w,
        TensorData::from([[2.0f32, 0.0], [0.0, 1.0]]),
        None,
        &device,
    );
    check_small_case(&general, [2.0, 1.0], "general");
}

#[test]
fn scaled_dot_score_by_hand() {
    // q·k / √2: 1/√2, 1/√2.
    let s = 1.0 / 2f64.sqrt();
    check_small_case(&ScaledDotProductAttention, [s, s], "scaled dot");
}

fn additive_by_hand(attention: &mut AdditiveAttention, bias: bool, device: &Device) {
    // W_q = I, W_k = [[1, 0], [0, -1]], b = [0.5, 0] (if any), v = [1, 2].
    set(
        &mut attention.query,
        TensorData::from([[1.0f32, 0.0], [0.0, 1.0]]),
        None,
        device,
    );
    set(
        &mut attention.key,
        TensorData::from([[1.0f32, 0.0], [0.0, -1.0]]),
        bias.then(|| TensorData::from([0.5f32, 0.0])),
        device,
    );
    set(
        &mut attention.score,
        TensorData::from([[1.0f32], [2.0]]),
        None,
        device,
    );
}

#[test]
fn additive_and_concat_scores_by_hand() {
    let device = Device::flex();
    let score = |k: [f64; 2], b: f64| {
        // q = [1, 1]; W_k k = [k0, -k1].
        (1.0 + k[0] + b).tanh() + 2.0 * (1.0 - k[1]).tanh()
    };
    let mut additive = AdditiveAttentionConfig::new(2, 2, 2)
        .init(&device)
        .expect("valid");
    additive_by_hand(&mut additive, true, &device);
    check_small_case(
        &additive,
        [score([1.0, 0.0], 0.5), score([0.0, 1.0], 0.5)],
        "additive",
    );

    let mut concat = LuongAttentionConfig::new(LuongScore::Concat, 2, 2)
        .with_hidden_size(2)
        .init(&device)
        .expect("valid");
    additive_by_hand(
        concat.concat.as_mut().expect("concat scorer"),
        false,
        &device,
    );
    check_small_case(
        &concat,
        [score([1.0, 0.0], 0.0), score([0.0, 1.0], 0.0)],
        "concat",
    );
}

/// Every module kind on `[batch, q, d]` queries over `[batch, k, d]` keys.
fn modules(d: usize, device: &Device) -> Vec<(&'static str, Box<dyn Attention>)> {
    vec![
        (
            "additive",
            Box::new(
                AdditiveAttentionConfig::new(d, d, 5)
                    .init(device)
                    .expect("valid"),
            ),
        ),
        (
            "dot",
            Box::new(
                LuongAttentionConfig::new(LuongScore::Dot, d, d)
                    .init(device)
                    .expect("valid"),
            ),
        ),
        (
            "general",
            Box::new(
                LuongAttentionConfig::new(LuongScore::General, d, d)
                    .init(device)
                    .expect("valid"),
            ),
        ),
        (
            "concat",
            Box::new(
                LuongAttentionConfig::new(LuongScore::Concat, d, d)
                    .with_hidden_size(3)
                    .init(device)
                    .expect("valid"),
            ),
        ),
        ("scaled dot", Box::new(ScaledDotProductAttention)),
        (
            "multi-head",
            Box::new(
                MultiHeadAttentionConfig::new(d, 2)
                    .init(device)
                    .expect("valid"),
            ),
        ),
    ]
}

fn padding_mask(lengths: &[usize], k: usize, device: &Device) -> Tensor<2, Bool> {
    let values: Vec<bool> = lengths
        .iter()
        .flat_map(|&n| (0..k).map(move |j| j >= n))
        .collect();
    Tensor::<2, Bool>::from_data(TensorData::new(values, [lengths.len(), k]), device)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Weights sum to 1 over the unmasked keys, are exactly 0 on masked ones, and a row with
    /// every key masked has zero weights and a zero context; nothing is NaN. Values at masked
    /// keys never reach the context.
    #[test]
    fn masking_invariants_hold_for_every_module(
        lengths in prop::collection::vec(0usize..=5, 1..4),
        q in 1usize..4,
        seed in 0u64..1000,
    ) {
        let device = Device::flex();
        device.seed(seed);
        let (batch, k, d) = (lengths.len(), 5, 4);
        let query = Tensor::<3>::random([batch, q, d], burn::tensor::Distribution::Default, &device);
        let keys = Tensor::<3>::random([batch, k, d], burn::tensor::Distribution::Default, &device);
        let mask = padding_mask(&lengths, k, &device);
        // The same keys and values with garbage at the masked positions.
        let noise = Tensor::<3>::random([batch, k, d], burn::tensor::Distribution::Default, &device) * 100.0;
        let garbage = keys.clone() + noise.mask_fill(
            mask.clone().bool_not().unsqueeze_dim::<3>(2).expand([batch, k, d]),
            0.0,
        );
        for (name, module) in modules(d, &device) {
            let out = module
                .attend(query.clone(), keys.clone(), keys.clone(), Some(mask.clone()))
                .expect("shapes fit");
            let w = values(out.weights.clone());
            let context = values(out.context.clone());
            prop_assert!(w.iter().chain(&context).all(|x| x.is_finite()), "{name}: NaN");
            for b in 0..batch {
                for i in 0..q {
                    let row = &w[(b * q + i) * k..(b * q + i + 1) * k];
                    let sum: f32 = row.iter().sum();
                    if lengths[b] == 0 {
                        prop_assert!(row.iter().all(|&x| x == 0.0), "{name}: empty row {row:?}");
                        let dv = context.len() / (batch * q);
                        let ctx = &context[(b * q + i) * dv..(b * q + i + 1) * dv];
                        // Multi-head adds its output bias to a zero mix.
                        if name != "multi-head" {
                            prop_assert!(ctx.iter().all(|&x| x == 0.0), "{name}: {ctx:?}");
                        }
                    } else {
                        prop_assert!((sum - 1.0).abs() < 1e-5, "{name}: row sums to {sum}");
                        prop_assert!(row[lengths[b]..].iter().all(|&x| x == 0.0), "{name}: {row:?}");
                    }
                }
            }
            let with_garbage = module
                .attend(query.clone(), garbage.clone(), garbage.clone(), Some(mask.clone()))
                .expect("shapes fit");
            with_garbage.context.to_data().assert_approx_eq::<f32>(
                &out.context.to_data(),
                Tolerance::absolute(1e-5),
            );
        }
    }
}

/// A fully masked row must not poison training: its gradient is finite (zero).
#[test]
fn gradients_through_a_fully_masked_row_are_finite() {
    let device = Device::flex().autodiff();
    let attention = AdditiveAttentionConfig::new(3, 3, 4)
        .init(&device)
        .expect("valid");
    let keys = Tensor::<3>::ones([2, 4, 3], &device).require_grad();
    let query = Tensor::<3>::ones([2, 1, 3], &device);
    let mask = padding_mask(&[2, 0], 4, &device);
    let out = attention
        .attend(query, keys.clone(), keys.clone(), Some(mask))
        .expect("shapes fit");
    let grads = out.context.sum().backward();
    let grad: Vec<f32> = keys
        .grad(&grads)
        .expect("keys take part")
        .to_data()
        .iter::<f32>()
        .collect();
    assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
    // Row 1 is fully masked: nothing flows into its keys.
    assert!(grad[12..].iter().all(|&g| g == 0.0), "{grad:?}");
}

/// With a causal mask, position i of the output never depends on inputs after i.
#[test]
fn causal_multi_head_attention_does_not_look_ahead() {
    let device = Device::flex();
    device.seed(7);
    let mha = MultiHeadAttentionConfig::new(8, 2)
        .init(&device)
        .expect("valid");
    let x = Tensor::<3>::random([1, 6, 8], burn::tensor::Distribution::Default, &device);
    let run = |x: Tensor<3>| {
        mha.forward(x.clone(), x.clone(), x, None, Some(causal_mask(6, &device)))
            .expect("shapes fit")
            .context
    };
    let base = run(x.clone());
    // Change steps 3.. : outputs 0..3 stay, later ones move.
    let changed = x.clone().slice_assign(
        [0..1, 3..6, 0..8],
        Tensor::<3>::random([1, 3, 8], burn::tensor::Distribution::Default, &device),
    );
    let after = run(changed);
    after
        .clone()
        .slice([0..1, 0..3, 0..8])
        .to_data()
        .assert_approx_eq::<f32>(
            &base.clone().slice([0..1, 0..3, 0..8]).to_data(),
            Tolerance::absolute(1e-6),
        );
    let moved: f32 = (after.slice([0..1, 3..6, 0..8]) - base.slice([0..1, 3..6, 0..8]))
        .abs()
        .sum()
        .into_scalar();
    assert!(moved > 1e-3);
}

#[test]
fn impossible_sizes_fail_at_config_time_naming_the_field() {
    let device = Device::flex();
    let cases = [
        (
            LuongAttentionConfig::new(LuongScore::Dot, 4, 6)
                .init(&device)
                .err(),
            "key_size",
        ),
        (
            LuongAttentionConfig::new(LuongScore::Concat, 4, 6)
                .init(&device)
                .err(),
            "hidden_size",
        ),
        (
            AdditiveAttentionConfig::new(4, 0, 6).init(&device).err(),
            "key_size",
        ),
    ];
    for (error, field) in cases {
        let error = error.expect("refused").to_string();
        assert!(error.contains(&format!("`{field}`")), "{error}");
    }
    let error = MultiHeadAttentionConfig::new(10, 3)
        .init(&device)
        .expect_err("10 is not a multiple of 3")
        .to_string();
    assert!(
        error.contains("`d_model`") && error.contains("num_heads (3)"),
        "{error}"
    );
    assert!(
        "bilinear"
            .parse::<LuongScore>()
            .expect_err("unknown")
            .to_string()
            .contains("dot, general or concat")
    );
}

#[test]
fn shapes_that_do_not_fit_name_the_input() {
    let device = Device::flex();
    let attention = AdditiveAttentionConfig::new(4, 6, 8)
        .init(&device)
        .expect("valid");
    let query = Tensor::<3>::ones([2, 1, 4], &device);
    let keys = Tensor::<3>::ones([2, 3, 6], &device);
    let bad_keys = Tensor::<3>::ones([2, 3, 5], &device);
    let error = attention
        .attend(query.clone(), bad_keys.clone(), bad_keys, None)
        .expect_err("key size 5")
        .to_string();
    assert!(
        error.contains("keys") && error.contains("[2, 3, 5]"),
        "{error}"
    );
    let short_values = Tensor::<3>::ones([2, 2, 6], &device);
    let error = attention
        .attend(query.clone(), keys.clone(), short_values, None)
        .expect_err("2 values for 3 keys")
        .to_string();
    assert!(error.contains("values"), "{error}");
    let mask = Tensor::<2, Bool>::from_data([[false, true]], &device);
    let error = attention
        .attend(query, keys.clone(), keys, Some(mask))
        .expect_err("mask of batch 1")
        .to_string();
    assert!(
        error.contains("key padding mask") && error.contains("[2, 3]"),
        "{error}"
    );
}
