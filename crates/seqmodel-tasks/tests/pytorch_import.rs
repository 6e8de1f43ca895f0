//! A PyTorch `RNNClassifier` (the benchmark's `task1_sentiment.py`) imported from its state
//! dict predicts what PyTorch predicts: logits within 1e-5, same classes.
//!
//! Reads every `*.safetensors` in `tests/fixtures/classify/` (written by `generate.py` there;
//! see its README for the format) and in the folder named by `SEQMODEL_TASKS_FIXTURES`, if set.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, TensorData};
use seqmodel_data::{PadSide, PaddedIds};
use seqmodel_rnn::StateDict;
use seqmodel_tasks::{ClassifierConfig, TextClassifier};

/// An extra folder of fixtures in the same format.
const FIXTURES_ENV: &str = "SEQMODEL_TASKS_FIXTURES";
const TOLERANCE: f32 = 1e-5;

fn fixture_files() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/classify")];
    if let Some(extra) = std::env::var_os(FIXTURES_ENV) {
        dirs.push(PathBuf::from(extra));
    }
    let mut files = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: cannot list fixtures: {e}", dir.display()));
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

fn take(dict: &mut StateDict, key: &str) -> Result<TensorData, String> {
    dict.remove(key)
        .ok_or_else(|| format!("{}: no \"{key}\"", dict.source_name()))
}

fn shape(dict: &StateDict, key: &str) -> Result<Vec<usize>, String> {
    dict.get(key)
        .map(|d| d.shape().to_vec())
        .ok_or_else(|| format!("{}: no \"{key}\"", dict.source_name()))
}

/// The classifier a fixture describes (recipe from its `kind`, sizes from its shapes), with
/// the fixture's weights; then its input batch and PyTorch's logits `[batch, classes]`.
fn load(path: &Path, device: &Device) -> Result<(TextClassifier, PaddedIds, Vec<f32>), String> {
    let mut dict = StateDict::read(path).map_err(|e| e.to_string())?;
    let kind = dict
        .metadata()
        .get("kind")
        .cloned()
        .ok_or_else(|| format!("{}: no \"kind\" in the metadata", path.display()))?;
    let ids = take(&mut dict, "input.ids")?;
    let lengths = take(&mut dict, "input.lengths")?;
    let logits = take(&mut dict, "output.logits")?;

    let [vocab, embedding_dim] = shape(&dict, "emb.weight")?[..] else {
        return Err("emb.weight is not a matrix".into());
    };
    let hidden = shape(&dict, "rnn.weight_hh_l0")?[1];
    let classes = shape(&dict, "fc.weight")?[0];
    let layers = (0..)
        .take_while(|l| dict.get(&format!("rnn.weight_ih_l{l}")).is_some())
        .count();
    let recipe = ClassifierConfig::pytorch_recipe(&kind).map_err(|e| e.to_string())?;
    let encoder = recipe
        .encoder
        .clone()
        .with_hidden_size(hidden)
        .with_num_layers(layers);
    let model = recipe
        .with_embedding_dim(embedding_dim)
        .with_encoder(encoder)
        .init(vocab, classes, 0, device)
        .and_then(|m| m.load_state_dict(&dict))
        .map_err(|e| format!("{}: {e}", path.display()))?;

    let [batch, time] = ids.shape()[..] else {
        return Err("input.ids is not [batch, time]".into());
    };
    let padded = PaddedIds {
        ids: ids.iter::<i64>().collect(),
        batch,
        time,
        lengths: lengths.iter::<i64>().map(|l| l as usize).collect(),
        side: PadSide::Right,
    };
    Ok((model, padded, logits.iter::<f32>().collect()))
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

#[test]
fn pytorch_classifiers_predict_what_pytorch_predicts() {
    // A plain (non-autodiff) device: dropout is off, as in PyTorch's eval mode.
    let device = Device::flex();
    let files = fixture_files();
    assert!(!files.is_empty(), "no fixtures found");
    for path in &files {
        let (model, padded, expected) = load(path, &device).unwrap_or_else(|e| panic!("{e}"));
        let logits = model
            .forward(&padded.to_batch(&device))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let classes = model.num_classes;
        assert_eq!(logits.dims(), [padded.batch, classes], "{}", path.display());
        let got: Vec<f32> = logits.into_data().iter::<f32>().collect();
        let diff = got
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            diff <= TOLERANCE,
            "{}: logits differ by {diff} (> {TOLERANCE})\n  ours    {got:?}\n  pytorch {expected:?}",
            path.display()
        );
        for (row, (ours, theirs)) in got
            .chunks(classes)
            .zip(expected.chunks(classes))
            .enumerate()
        {
            assert_eq!(
                argmax(ours),
                argmax(theirs),
                "{}: row {row}",
                path.display()
            );
        }
        println!("{}: max |diff| {diff:.2e}", path.display());
    }
    println!("checked {} PyTorch fixture(s)", files.len());
}

/// The exported state dict has exactly PyTorch's keys and values: import, export, compare.
#[test]
fn export_gives_back_the_pytorch_state_dict() {
    let device = Device::flex();
    for path in fixture_files() {
        let (model, _, _) = load(&path, &device).unwrap_or_else(|e| panic!("{e}"));
        let mut original = StateDict::read(&path).expect("readable");
        original.retain(|k| !k.starts_with("input.") && !k.starts_with("output."));
        let exported = model.state_dict();
        assert_eq!(
            exported.keys().collect::<Vec<_>>(),
            original.keys().collect::<Vec<_>>(),
            "{}",
            path.display()
        );
        for key in original.keys() {
            let a: Vec<f32> = original.get(key).expect("key").iter::<f32>().collect();
            let b: Vec<f32> = exported.get(key).expect("key").iter::<f32>().collect();
            assert_eq!(a, b, "{}: {key}", path.display());
        }
    }
}
