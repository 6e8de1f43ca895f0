//! The sequence tagger: padding (more words in the batch, longer words in the batch) never
//! changes a real token's scores, for every kind of character features; a few Adam steps fit a
//! toy tagging set; a batch that does not fit the model is an error.

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::Device;
use burn::train::{InferenceStep, TrainStep};
use proptest::prelude::*;
use seqmodel_data::TaggedSentence;
use seqmodel_tasks::{
    CharKind, EncoderConfig, SequenceTagger, TagBatcher, TagEncoder, TagItem, TaggerConfig,
};

const WORDS: usize = 9;
const CHARS: usize = 7;
const TAGS: usize = 4;
const TOLERANCE: f32 = 1e-4;

fn small(kind: CharKind) -> TaggerConfig {
    let mut config = TaggerConfig {
        embedding_dim: 6,
        casing_dim: 3,
        encoder: EncoderConfig::default().with_hidden_size(5),
        ..TaggerConfig::default()
    }
    .with_chars(kind);
    config.chars.embedding_dim = 4;
    config.chars.hidden_size = 5;
    config
}

fn logits(model: &SequenceTagger, items: Vec<TagItem>, device: &Device) -> Vec<Vec<f32>> {
    let batch = TagBatcher::default().batch(items, device);
    let lengths = batch.lengths.as_slice().to_vec();
    let out = model.forward(&batch).expect("forward");
    let [_, time, tags] = out.dims();
    let values: Vec<f32> = out.into_data().iter::<f32>().collect();
    lengths
        .iter()
        .enumerate()
        .map(|(b, &n)| values[b * time * tags..(b * time + n) * tags].to_vec())
        .collect()
}

/// A sentence of `n` words with ids and characters drawn by proptest.
fn sentence(max_words: usize, max_chars: usize) -> impl Strategy<Value = TagItem> {
    prop::collection::vec(
        (
            0..WORDS,
            prop::collection::vec(2..CHARS, 1..=max_chars),
            1..7usize,
        ),
        1..=max_words,
    )
    .prop_map(|words| TagItem {
        words: words.iter().map(|w| w.0).collect(),
        chars: words.iter().map(|w| w.1.clone()).collect(),
        casing: words.iter().map(|w| w.2).collect(),
        tags: Vec::new(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// A sentence's scores alone equal its scores beside a sentence with more words and
    /// longer words (more time steps and more character columns of padding).
    #[test]
    fn padding_never_changes_a_real_tokens_scores(
        short in sentence(4, 3),
        long in sentence(7, 6),
    ) {
        let device = Device::flex();
        for kind in CharKind::ALL {
            let model = small(kind).init(WORDS, CHARS, TAGS, &device).expect("valid");
            let alone = logits(&model, vec![short.clone()], &device);
            let beside = logits(&model, vec![long.clone(), short.clone()], &device);
            prop_assert_eq!(alone[0].len(), beside[1].len());
            for (a, b) in alone[0].iter().zip(&beside[1]) {
                prop_assert!(
                    (a - b).abs() < TOLERANCE,
                    "{}: padding changed a score: {} vs {}", kind.name(), a, b
                );
            }
        }
    }
}

fn toy() -> Vec<TaggedSentence> {
    let text = [
        ("the cat sat", "DET NOUN VERB"),
        ("a dog ran", "DET NOUN VERB"),
        ("the dog sat", "DET NOUN VERB"),
        ("Bob ran", "PROPN VERB"),
        ("a cat ran", "DET NOUN VERB"),
        ("Ann sat", "PROPN VERB"),
    ];
    text.iter()
        .map(|(words, tags)| {
            TaggedSentence::new(
                words.split(' ').map(String::from).collect(),
                tags.split(' ').map(String::from).collect(),
            )
            .expect("one tag per word")
        })
        .collect()
}

/// 30 Adam steps (lr 0.02) on six sentences: the loss falls to under a quarter, and the
/// trained model tags every training token right.
#[test]
fn adam_steps_fit_a_toy_tagging_set() {
    let device = Device::flex().autodiff();
    let data = toy();
    let encoder = TagEncoder::fit(&data, &[], 1).expect("vocabularies");
    let items: Vec<TagItem> = data
        .iter()
        .map(|s| encoder.encode_sentence(s).expect("known tags"))
        .collect();
    for kind in CharKind::ALL {
        let mut config = small(kind);
        config.dropout = 0.0;
        let mut model = config
            .init(
                encoder.words.len(),
                encoder.chars.len(),
                encoder.tags.len(),
                &device,
            )
            .expect("valid");
        let batch = TagBatcher::default().batch(items.clone(), &device);
        let mut optim = AdamConfig::new().init();
        let mut losses = Vec::new();
        for _ in 0..30 {
            let out = TrainStep::step(&model, batch.clone());
            losses.push(out.item.loss.clone().into_scalar::<f32>());
            model = optim.step(0.02, model, out.grads);
        }
        let (first, last) = (losses[0], losses[losses.len() - 1]);
        assert!(
            last < 0.25 * first,
            "{}: loss {first} -> {last}: {losses:?}",
            kind.name()
        );
        let plain = Device::flex();
        let valid = model.valid();
        let eval_batch = TagBatcher::default().batch(items.clone(), &plain);
        let predicted = valid.predict(&eval_batch).expect("predicts");
        let gold: Vec<Vec<usize>> = items.iter().map(|i| i.tags.clone()).collect();
        assert_eq!(predicted, gold, "{}", kind.name());
        let output = InferenceStep::step(&valid, eval_batch);
        assert_eq!(output.logits.dims()[2], encoder.tags.len());
    }
}

#[test]
fn ids_outside_the_model_are_errors() {
    let device = Device::flex();
    let model = small(CharKind::Cnn)
        .init(WORDS, CHARS, TAGS, &device)
        .expect("valid");
    let item = TagItem {
        words: vec![WORDS],
        chars: vec![vec![2]],
        casing: vec![1],
        tags: vec![0],
    };
    let err = model
        .forward(&TagBatcher::default().batch(vec![item.clone()], &device))
        .expect_err("word id too large");
    assert!(
        err.to_string().starts_with("word id 9 is outside 0..9"),
        "{err}"
    );
    let item = TagItem {
        words: vec![1],
        tags: vec![TAGS],
        ..item
    };
    let Err(err) = model.sequence_output(TagBatcher::default().batch(vec![item], &device)) else {
        panic!("a tag id outside the tag set was accepted");
    };
    assert!(
        err.to_string().starts_with("tag id 4 is outside 0..4"),
        "{err}"
    );
}
