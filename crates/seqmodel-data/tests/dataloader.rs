//! The datasets, batchers and the bucketing order work inside Burn's `DataLoader`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use burn::data::dataloader::DataLoaderBuilder;
use burn::tensor::Device;
use seqmodel_data::bundled::{DataDir, EwtSplit};
use seqmodel_data::*;

fn data() -> DataDir {
    DataDir::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data"))
}

/// rt-polarity through a bucketed `DataLoader`: every sentence arrives once, and the padding
/// the loader's batches carry is exactly the padding the sampler reported — far below the
/// padding of unsorted batches.
#[test]
fn bucketed_rt_polarity_loader_matches_the_sampler() {
    let dataset = data().rt_polarity().unwrap();
    let tokenizer = Arc::new(WhitespaceTokenizer::default());
    let vocab = Arc::new(
        dataset
            .build_vocab(tokenizer.as_ref(), &VocabConfig::default())
            .unwrap(),
    );
    let lengths: Vec<usize> = dataset
        .items()
        .iter()
        .map(|i| tokenizer.tokenize(&i.text).len())
        .collect();
    let sampler = BucketSamplerConfig::new(32)
        .with_seed(5)
        .init(lengths)
        .unwrap();
    let expected = sampler.padding(&sampler.batches(0));
    let unsorted = sampler.padding(&sampler.unsorted_batches(0));
    assert!(
        expected.ratio() < unsorted.ratio() / 4.0,
        "bucketed {} vs unsorted {}",
        expected.ratio(),
        unsorted.ratio()
    );

    let batcher =
        TextClassificationBatcher::new(tokenizer, vocab, PaddingConfig::default()).unwrap();
    let loader = DataLoaderBuilder::new(batcher)
        .batch_size(32)
        .set_device(Device::flex())
        .build(sampler.reorder(dataset.clone(), 0));
    let mut seen = PaddingStats::default();
    let mut sentences = 0;
    for batch in loader.iter() {
        let batch = batch.unwrap();
        let [b, t] = batch.tokens.ids.dims();
        sentences += b;
        seen.padded_slots += b * t;
        seen.real_tokens += batch.tokens.lengths().as_slice().iter().sum::<usize>();
    }
    assert_eq!(sentences, 10_662);
    assert_eq!(seen, expected);
    println!(
        "rt-polarity padding: bucketed {:.3}, unsorted {:.3}",
        expected.ratio(),
        unsorted.ratio()
    );
}

/// UD EWT tagging through a `DataLoader`: tokens and tags keep the same shape in every batch.
#[test]
fn ud_ewt_tagging_loader_keeps_tags_aligned() {
    let dev = data().ud_ewt(EwtSplit::Dev, ConlluColumn::Upos).unwrap();
    let norm = Normalizer::default().lowercase();
    let vocab = dev.build_vocab(&norm, &VocabConfig::default()).unwrap();
    let tags = dev.tag_set();
    let encoded = dev.encode(&vocab, &tags, &norm).unwrap();
    let loader = DataLoaderBuilder::new(TaggingBatcher::new(PaddingConfig::default()).unwrap())
        .batch_size(64)
        .set_device(Device::flex())
        .build(burn::data::dataset::InMemDataset::new(encoded));
    let mut tokens = 0;
    for batch in loader.iter() {
        let batch = batch.unwrap();
        assert_eq!(batch.tokens.ids.dims(), batch.tags.dims());
        tokens += batch.tokens.lengths().as_slice().iter().sum::<usize>();
    }
    assert_eq!(tokens, 25_147);
}
