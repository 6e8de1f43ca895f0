//! The bundled data sets load, and their row, sentence and entity counts match
//! `data/PROVENANCE.md`.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use burn::data::dataset::Dataset;
use seqmodel_data::bundled::{DataDir, EwtSplit};
use seqmodel_data::*;

fn data() -> DataDir {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data");
    assert!(
        root.join("PROVENANCE.md").is_file(),
        "bundled data missing at {}",
        root.display()
    );
    DataDir::new(root)
}

#[test]
fn rt_polarity_has_5331_sentences_per_class() {
    let d = data().rt_polarity().unwrap();
    assert_eq!(d.labels().names(), ["neg", "pos"]);
    assert_eq!(d.class_counts(), vec![5331, 5331]);
    assert_eq!(d.items().len(), 10_662);
    // Lines have a trailing space in the file; it is trimmed.
    assert!(d.items().iter().all(|i| !i.text.ends_with(' ')));
}

#[test]
fn rt_polarity_pipeline_end_to_end() {
    let d = data().rt_polarity().unwrap();
    let [train, valid, test] = d.stratified_split(SplitRatios::new(0.8, 0.1, 0.1).unwrap(), 7);
    assert_eq!(
        train.items().len() + valid.items().len() + test.items().len(),
        10_662
    );
    assert_eq!(valid.class_counts(), vec![533, 533]);
    let tokenizer = std::sync::Arc::new(WhitespaceTokenizer::default());
    let vocab = train
        .build_vocab(tokenizer.as_ref(), &VocabConfig::default().with_min_freq(2))
        .unwrap();
    let coverage = vocab.coverage(test.items().iter().map(|i| tokenizer.tokenize(&i.text)));
    assert!(
        coverage.token_rate() > 0.9 && coverage.token_rate() < 1.0,
        "test token coverage {}",
        coverage.token_rate()
    );
}

#[test]
fn ud_ewt_sentence_and_word_counts() {
    let dev = data().ud_ewt(EwtSplit::Dev, ConlluColumn::Upos).unwrap();
    let test = data().ud_ewt(EwtSplit::Test, ConlluColumn::Upos).unwrap();
    assert_eq!((dev.len(), dev.num_tokens()), (2_001, 25_147));
    assert_eq!((test.len(), test.num_tokens()), (2_077, 25_094));
    assert_eq!(dev.tag_set().len(), 17, "17 UPOS tags");
    let mut freq: BTreeMap<&str, usize> = BTreeMap::new();
    for s in dev.sentences() {
        for t in &s.tags {
            *freq.entry(t.as_str()).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&str, usize)> = freq.into_iter().collect();
    ranked.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let top: HashSet<&str> = ranked[..3].iter().map(|(t, _)| *t).collect();
    assert_eq!(top, HashSet::from(["NOUN", "PUNCT", "VERB"]));
    let xpos = data().ud_ewt(EwtSplit::Dev, ConlluColumn::Xpos).unwrap();
    assert_eq!(xpos.num_tokens(), 25_147);
    assert!(xpos.tag_set().names().contains(&"NN".to_string()));
}

#[test]
fn uner_ewt_token_and_entity_counts() {
    let dev = data().uner_ewt(EwtSplit::Dev).unwrap();
    assert_eq!((dev.len(), dev.num_tokens()), (2_001, 25_149));
    assert_eq!(
        dev.entity_counts(),
        vec![
            ("LOC".to_string(), 399),
            ("ORG".to_string(), 224),
            ("PER".to_string(), 343)
        ]
    );
    let test = data().uner_ewt(EwtSplit::Test).unwrap();
    assert_eq!((test.len(), test.num_tokens()), (2_077, 25_097));
    assert_eq!(
        test.entity_counts(),
        vec![
            ("LOC".to_string(), 317),
            ("ORG".to_string(), 322),
            ("PER".to_string(), 449)
        ]
    );
    let total: usize = test.entity_counts().iter().map(|(_, n)| n).sum();
    assert_eq!(total, 1_088);
}

#[test]
fn cmudict_entries_words_and_alternates() {
    let entries = data().cmudict().unwrap();
    assert_eq!(entries.len(), 135_166);
    let words: HashSet<&str> = entries.iter().map(|e| e.word.as_str()).collect();
    assert_eq!(words.len(), 126_052);
    assert_eq!(entries.iter().filter(|e| e.variant > 1).count(), 9_114);
    let symbols: HashSet<&str> = entries
        .iter()
        .flat_map(|e| e.phonemes.iter().map(String::as_str))
        .collect();
    // cmudict.symbols lists 84 symbols (39 phonemes + 15 vowels x 3 stresses); the entries use
    // the 24 consonants and the 45 stressed vowels: 69.
    let listed = std::fs::read_to_string(data().path().join("cmudict/cmudict.symbols")).unwrap();
    let listed: HashSet<&str> = listed.split_whitespace().collect();
    assert_eq!(listed.len(), 84);
    assert!(
        symbols.is_subset(&listed),
        "a phoneme outside cmudict.symbols"
    );
    assert_eq!(symbols.len(), 69);
    let bare: HashSet<&str> = symbols
        .iter()
        .map(|s| s.trim_end_matches(['0', '1', '2']))
        .collect();
    assert_eq!(bare.len(), 39, "39 phonemes");
    // "aalborg AO1 L B AO0 R G # place, danish": the comment is stripped.
    let aalborg = entries.iter().find(|e| e.word == "aalborg").unwrap();
    assert_eq!(aalborg.phonemes, ["AO1", "L", "B", "AO0", "R", "G"]);
}

#[test]
fn bible_has_7717_verse_pairs() {
    let d = data().bible_en_es().unwrap();
    assert_eq!(d.pairs().len(), 7_717);
    assert!(d.pairs()[0].source.starts_with("The book of the genealogy"));
    assert!(d.pairs()[0].target.starts_with("LIBRO de la generación"));
}

#[test]
fn time_series_shapes() {
    let d = data();
    let eu = d.eustock().unwrap();
    assert_eq!((eu.len(), eu.num_columns()), (1_860, 4));
    assert_eq!(eu.row(0), [1628.75, 1678.1, 1772.8, 2443.6]);

    let monthly = d.sunspots_monthly().unwrap();
    assert_eq!(monthly.len(), 3_126);
    assert_eq!(monthly.index()[0], "1749-01");
    assert_eq!(monthly.index()[3_125], "2009-06");
    assert_eq!(monthly.row(0), [58.0]);

    let yearly = d.sunspots_yearly().unwrap();
    assert_eq!(yearly.len(), 309);
    assert_eq!(
        (yearly.index()[0].as_str(), yearly.index()[308].as_str()),
        ("1700", "2008")
    );

    let weather = d.seattle_weather().unwrap();
    assert_eq!((weather.len(), weather.num_columns()), (1_461, 4));
    assert_eq!(weather.index()[0], "2012-01-01");
    assert_eq!(weather.index()[1_460], "2015-12-31");
    let table = d.seattle_weather_table().unwrap();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for w in table.text_column("weather").unwrap() {
        *kinds.entry(w).or_default() += 1;
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        vec![
            ("drizzle", 53),
            ("fog", 101),
            ("rain", 641),
            ("snow", 26),
            ("sun", 640)
        ]
    );
}

#[test]
fn sunspot_forecasting_windows_and_scaler() {
    let series = data().sunspots_monthly().unwrap();
    let config = ForecastConfig::new(WindowConfig::new(24, 6).with_stride(2), ["sunspots"])
        .with_ratios(SplitRatios::new(0.7, 0.15, 0.15).unwrap())
        .with_scaler(ScalerKind::MinMax);
    let data = config.build(&series).unwrap();
    // 3126 rows: train 2188, valid 469, test 469.
    assert_eq!(data.train.rows(), 0..2188);
    assert_eq!(data.train.len(), (2188 - 30) / 2 + 1);
    assert_eq!(data.valid.len(), (469 - 30) / 2 + 1);
    // The min-max scaler maps the training rows into [0, 1].
    let train = series.slice(0..2188).column("sunspots").unwrap();
    let max = train.iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(data.scaler.transform_value(0, max), 1.0);
    let w = data.test.window(0);
    let back = data
        .scaler
        .inverse_columns(&w.targets, &data.target_columns)
        .unwrap();
    let original = series.row(w.start + 24)[0] as f32;
    assert!(
        (back[0] - original).abs() < 1e-3,
        "{} vs {original}",
        back[0]
    );
}
