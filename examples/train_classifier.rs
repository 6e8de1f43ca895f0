//! Train a sentiment classifier on the bundled rt-polarity data through the crates, as a library
//! user would, then label new sentences with it.
//!
//! ```sh
//! cargo run --example train_classifier            # 2 epochs of a small BiGRU, ~1 min on 2 cores
//! ```
//!
//! `cargo xtask train` does the same with run folders, resume, reports and plots; this file
//! shows the pieces it is made of: seqmodel-data (data, vocabulary, batches), seqmodel-tasks (the
//! model), seqmodel-train (`fit` on burn-train, seeded shuffling), seqmodel-metrics (scores).

use std::error::Error;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::tensor::Device;
use seqmodel_data::bundled::DataDir;
use seqmodel_data::{
    PaddingConfig, SplitRatios, TextClassItem, TextClassificationBatcher, Tokenizer, VocabConfig,
    WhitespaceTokenizer,
};
use seqmodel_metrics::accuracy;
use seqmodel_tasks::{ClassifierConfig, EncoderConfig, EncoderKind, Pooling};
use seqmodel_train::{
    ClassificationMetrics, EpochLoader, MonitorConfig, MonitorMode, OptimizerConfig, ProgressMode,
    RunOptions, TrainConfig, fit, load_epoch,
};

fn main() -> Result<(), Box<dyn Error>> {
    // Data: the bundled rt-polarity sentences (neg = 0, pos = 1), a seeded stratified split.
    let data = DataDir::locate()?.rt_polarity()?;
    let [train, valid, test] = data.stratified_split(SplitRatios::new(0.8, 0.1, 0.1)?, 0);
    let tokenizer: Arc<dyn Tokenizer> = Arc::new(WhitespaceTokenizer::default());
    let vocab = Arc::new(train.build_vocab(
        tokenizer.as_ref(),
        &VocabConfig::default().with_bos_eos(false).with_min_freq(2),
    )?);
    let batcher = Arc::new(TextClassificationBatcher::new(
        tokenizer,
        vocab.clone(),
        PaddingConfig::default(),
    )?);

    // Model: embedding 64 → BiGRU(64) → max pooling → 2 classes, on flex with autodiff.
    let device = Device::flex().autodiff();
    device.seed(0);
    let model = ClassifierConfig::default()
        .with_embedding_dim(64)
        .with_encoder(EncoderConfig::new(EncoderKind::Gru).with_hidden_size(64))
        .with_pooling(Pooling::Max)
        .init(vocab.len(), data.labels().len(), vocab.pad_id(), &device)?;

    // Training: 2 epochs, Adam, keep the epoch with the best validation accuracy.
    let config = TrainConfig {
        epochs: 2,
        batch_size: 64,
        seed: 0,
        optimizer: OptimizerConfig::Adam {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        },
        monitor: MonitorConfig {
            metric: "accuracy".into(),
            mode: MonitorMode::Max,
        },
        ..TrainConfig::default()
    };
    let loader = |items: &[TextClassItem], shuffle: bool| {
        let loader = EpochLoader::new(
            Arc::new(InMemDataset::new(items.to_vec())),
            batcher.clone(),
            config.batch_size,
            device.clone(),
        );
        Arc::new(if shuffle {
            loader.shuffled(config.seed, 1)
        } else {
            loader
        })
    };
    let run_dir = std::env::temp_dir().join(format!("seqmodel-example-{}", std::process::id()));
    let trained = fit(
        model,
        &config,
        loader(train.items(), true),
        loader(valid.items(), false),
        &run_dir,
        RunOptions {
            progress: ProgressMode::Plain,
            ..RunOptions::default()
        },
        ClassificationMetrics,
    )?;
    let best = trained
        .summary
        .best_epoch
        .map_or(config.epochs, |(epoch, _)| epoch);
    let model = load_epoch(trained.model, &run_dir, best)?;

    // Test accuracy with seqmodel-metrics (dropout is off outside training steps).
    let inference = Device::flex();
    let model = model.valid(); // the same weights on flex without autodiff
    let mut gold = Vec::new();
    let mut predicted = Vec::new();
    for chunk in test.items().chunks(256) {
        let batch = batcher.batch(chunk.to_vec(), &inference);
        let classes = model.forward(&batch.tokens)?.argmax(1).into_data();
        predicted.extend(classes.iter::<i64>().map(|c| c as usize));
        gold.extend(chunk.iter().map(|item| item.label));
    }
    println!(
        "test accuracy after {} epochs (best: {best}): {:.2} %",
        config.epochs,
        accuracy(&gold, &predicted)? * 100.0
    );

    // Label new sentences.
    let sentences = ["a warm , funny and moving film", "a dull , lifeless mess"];
    let items = sentences
        .iter()
        .map(|&text| TextClassItem {
            text: text.into(),
            label: 0,
        })
        .collect();
    let batch = batcher.batch(items, &inference);
    let probabilities = model
        .probabilities(&batch.tokens)?
        .into_data()
        .try_to_vec::<f32>()?;
    for (sentence, p) in sentences.iter().zip(probabilities.chunks(2)) {
        let class = usize::from(p[1] > p[0]);
        println!(
            "{:>4} {:.3}  {sentence}",
            data.labels().name(class)?,
            p[class]
        );
    }
    std::fs::remove_dir_all(&run_dir)?;
    Ok(())
}
