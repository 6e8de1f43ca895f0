//! Training through burn-train's step traits: a few Adam steps fit a separable toy set, a
//! frozen pretrained embedding stays put while the rest learns, and a batch that does not fit
//! the model is an error naming the value.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::{InferenceStep, TrainStep};
use seqmodel_data::{
    AlignConfig, PaddingConfig, PretrainedEmbeddings, TextClassItem, TextClassificationBatch,
    TextClassificationBatcher, Vocab, VocabConfig, WhitespaceTokenizer,
};
use seqmodel_tasks::{
    ClassifierConfig, EncoderConfig, EncoderKind, Pooling, TaskError, TextClassifier,
};

/// Class 0 uses only "good" / "fine", class 1 only "bad" / "awful": separable by any word.
const TEXTS: [(&str, usize); 8] = [
    ("good fine good", 0),
    ("fine", 0),
    ("good good", 0),
    ("fine good fine fine", 0),
    ("bad awful", 1),
    ("awful", 1),
    ("bad bad awful bad", 1),
    ("awful bad", 1),
];

fn vocab() -> Arc<Vocab> {
    let words = TEXTS.iter().map(|(t, _)| t.split_whitespace());
    Arc::new(VocabConfig::default().build(words).expect("vocabulary"))
}

fn batch(vocab: Arc<Vocab>, device: &Device) -> TextClassificationBatch {
    let batcher = TextClassificationBatcher::new(
        Arc::new(WhitespaceTokenizer::default()),
        vocab,
        PaddingConfig::default(),
    )
    .expect("valid padding");
    let items = TEXTS
        .iter()
        .map(|&(text, label)| TextClassItem {
            text: text.into(),
            label,
        })
        .collect();
    batcher.batch(items, device)
}

fn loss(output: &burn::train::ClassificationOutput) -> f32 {
    output.loss.clone().into_scalar::<f32>()
}

/// `steps` Adam steps (lr 0.01) through `TrainStep`; the losses before each step.
fn train(
    mut model: TextClassifier,
    batch: &TextClassificationBatch,
    steps: usize,
) -> (TextClassifier, Vec<f32>) {
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let out = TrainStep::step(&model, batch.clone());
        losses.push(loss(&out.item));
        model = optim.step(0.01, model, out.grads);
    }
    (model, losses)
}

#[test]
fn adam_steps_fit_a_separable_toy_set() {
    let device = Device::flex().autodiff();
    let vocab = vocab();
    let batch = batch(vocab.clone(), &device);
    for (kind, pooling) in [
        (EncoderKind::Lstm, Pooling::Max),
        (EncoderKind::Gru, Pooling::Attention),
        (EncoderKind::Rnn, Pooling::Mean),
        (EncoderKind::Lstm, Pooling::Last),
    ] {
        let model = ClassifierConfig::default()
            .with_embedding_dim(8)
            .with_embedding_dropout(0.0)
            .with_feature_dropout(0.0)
            .with_encoder(EncoderConfig::new(kind).with_hidden_size(8))
            .with_pooling(pooling)
            .init(vocab.len(), 2, vocab.pad_id(), &device)
            .expect("valid config");
        let (model, losses) = train(model, &batch, 40);
        let (first, last) = (losses[0], losses[losses.len() - 1]);
        assert!(
            last < 0.25 * first,
            "{kind}/{pooling}: loss {first} -> {last} after 40 steps: {losses:?}"
        );
        // Evaluation through InferenceStep on the trained weights (`valid()`: the plain
        // device, no dropout): every example right.
        let out = InferenceStep::step(&model.valid(), self::batch(vocab.clone(), &Device::flex()));
        let predicted: Vec<i64> = out.output.argmax(1).into_data().iter::<i64>().collect();
        let expected: Vec<i64> = TEXTS.iter().map(|&(_, l)| l as i64).collect();
        assert_eq!(predicted, expected, "{kind}/{pooling}");
    }
}

/// A frozen pretrained embedding gets no update from an optimiser step, while the encoder and
/// the output layer do; a trainable one moves.
#[test]
fn frozen_embedding_stays_put_while_the_rest_learns() {
    let device = Device::flex().autodiff();
    let vocab = vocab();
    let vectors = PretrainedEmbeddings::parse(
        b"good 0.1 0.2 0.3 0.4\nbad -0.1 -0.2 -0.3 -0.4\nfine 0.5 0.5 0.5 0.5\n",
        Path::new("vectors.txt"),
    )
    .expect("vectors");
    let aligned = vectors.align(&vocab, &AlignConfig::default());
    let batch = batch(vocab.clone(), &device);
    let config = ClassifierConfig::default()
        .with_embedding_dim(4)
        .with_encoder(EncoderConfig::default().with_hidden_size(3));

    let values = |t: Tensor<2>| -> Vec<f32> { t.into_data().iter::<f32>().collect() };
    for trainable in [false, true] {
        let model = config
            .init_with_embeddings(&aligned, trainable, 2, vocab.pad_id(), &device)
            .expect("valid config");
        assert_eq!(values(model.embedding.weight.val()), aligned.weights);
        let output_before = values(model.output.weight.val());
        let encoder_before = model
            .state_dict()
            .get("rnn.weight_ih_l0")
            .cloned()
            .expect("key");
        let (model, _) = train(model, &batch, 2);
        let embedding_after = values(model.embedding.weight.val());
        assert_eq!(
            embedding_after == aligned.weights,
            !trainable,
            "trainable = {trainable}: the embedding {} after two Adam steps",
            if trainable { "did not move" } else { "moved" }
        );
        assert_ne!(
            values(model.output.weight.val()),
            output_before,
            "output layer did not learn"
        );
        let encoder_after = model
            .state_dict()
            .get("rnn.weight_ih_l0")
            .cloned()
            .expect("key");
        assert_ne!(
            encoder_after.iter::<f32>().collect::<Vec<_>>(),
            encoder_before.iter::<f32>().collect::<Vec<_>>(),
            "encoder did not learn"
        );
    }
}

/// Ids outside the vocabulary, labels outside the classes and an empty batch are errors that
/// name the value and the fix, never a panic inside a tensor op.
#[test]
fn a_batch_that_does_not_fit_the_model_is_an_error() {
    let device = Device::flex();
    let vocab = vocab();
    let model = ClassifierConfig::default()
        .with_embedding_dim(4)
        .with_encoder(EncoderConfig::default().with_hidden_size(3))
        .init(vocab.len() - 1, 2, 0, &device)
        .expect("valid config");
    let good = batch(vocab.clone(), &device);
    let err = model
        .forward(&good.tokens)
        .expect_err("an id equals vocab_size");
    assert!(
        matches!(
            err,
            TaskError::OutOfRange {
                what: "token id",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("vocab_size = vocab.len()"),
        "{err}"
    );

    let model = ClassifierConfig::default()
        .with_embedding_dim(4)
        .with_encoder(EncoderConfig::default().with_hidden_size(3))
        .init(vocab.len(), 2, 0, &device)
        .expect("valid config");
    let mut bad_labels = good.clone();
    bad_labels.labels = Tensor::<1, Int>::from_data(
        TensorData::new(vec![0i64, 1, 2, 0, 1, 1, 0, 0], [8]),
        &device,
    );
    let Err(err) = model.classification_output(bad_labels) else {
        panic!("label 2 with 2 classes must be an error");
    };
    assert_eq!(
        err.to_string(),
        "label 2 is outside 0..2; use the label set the model was built with (num_classes = \
         labels.len())"
    );
    let probabilities = model.probabilities(&good.tokens).expect("fits");
    let sums: Vec<f32> = probabilities.sum_dim(1).into_data().iter::<f32>().collect();
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
}
