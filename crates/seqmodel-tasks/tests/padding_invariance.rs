//! Padding never changes a prediction: for every encoder kind, both directions and every
//! pooling, extra right padding leaves the logits unchanged, and so does padding on the left
//! instead of the right.

use burn::tensor::Device;
use proptest::prelude::*;
use seqmodel_data::{PadSide, PaddedIds};
use seqmodel_tasks::{ClassifierConfig, EncoderConfig, EncoderKind, Pooling, TextClassifier};

const VOCAB: usize = 12;
const TOLERANCE: f32 = 1e-5;

/// One small model per (kind, bidirectional, pooling), two layers so that the inter-layer
/// path is covered too.
fn models(device: &Device) -> Vec<(String, TextClassifier)> {
    let mut models = Vec::new();
    for &kind in EncoderKind::ALL {
        for bidirectional in [false, true] {
            for &pooling in Pooling::ALL {
                let config = ClassifierConfig::default()
                    .with_embedding_dim(5)
                    .with_encoder(
                        EncoderConfig::new(kind)
                            .with_hidden_size(4)
                            .with_num_layers(2)
                            .with_bidirectional(bidirectional),
                    )
                    .with_pooling(pooling);
                let name = format!("{kind} bidirectional={bidirectional} pooling={pooling}");
                let model = config.init(VOCAB, 3, 0, device).expect("valid config");
                models.push((name, model));
            }
        }
    }
    models
}

/// `sequences` padded on `side` to `time` steps (at least the longest length).
fn pad(sequences: &[Vec<i64>], time: usize, side: PadSide) -> PaddedIds {
    let mut ids = Vec::with_capacity(sequences.len() * time);
    for seq in sequences {
        let padding = std::iter::repeat_n(0, time - seq.len());
        match side {
            PadSide::Right => ids.extend(seq.iter().copied().chain(padding)),
            PadSide::Left => ids.extend(padding.chain(seq.iter().copied())),
        }
    }
    PaddedIds {
        ids,
        batch: sequences.len(),
        time,
        lengths: sequences.iter().map(Vec::len).collect(),
        side,
    }
}

fn logits(model: &TextClassifier, padded: &PaddedIds, device: &Device) -> Vec<f32> {
    model
        .forward(&padded.to_batch(device))
        .expect("forward")
        .into_data()
        .iter::<f32>()
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn sequences() -> impl Strategy<Value = Vec<Vec<i64>>> {
    prop::collection::vec(prop::collection::vec(1..VOCAB as i64, 1..6), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn padding_never_changes_the_logits(sequences in sequences(), extra in 1usize..4) {
        let device = Device::flex();
        let longest = sequences.iter().map(Vec::len).max().unwrap_or(1);
        for (name, model) in models(&device) {
            let tight = logits(&model, &pad(&sequences, longest, PadSide::Right), &device);
            let padded = logits(&model, &pad(&sequences, longest + extra, PadSide::Right), &device);
            let diff = max_diff(&tight, &padded);
            prop_assert!(
                diff <= TOLERANCE,
                "{name}: {extra} extra padding step(s) changed the logits by {diff}"
            );
            let left = logits(&model, &pad(&sequences, longest + extra, PadSide::Left), &device);
            let diff = max_diff(&tight, &left);
            prop_assert!(
                diff <= TOLERANCE,
                "{name}: left padding changed the logits by {diff}"
            );
        }
    }
}
