//! End to end through burn-train on flex: a linear classifier on synthetic data trained by
//! [`fit`]; resume equals an uninterrupted run bit for bit; broken checkpoints are typed errors
//! naming the file; the NaN guard names epoch and step; `metrics.jsonl` holds one line per
//! epoch whose accuracy and macro-F1 are those of the model on the validation set.

#![cfg(feature = "flex")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use seqmodel_train::{
    CHECKPOINT_DIR, ClassificationMetrics, Decay, EarlyStoppingConfig, EpochLoader, MARKER_FILE,
    METRICS_FILE, MonitorConfig, MonitorMode, NonFiniteQuantity, OptimizerConfig, ProgressMode,
    RunOptions, ScheduleConfig, TrainConfig, TrainError, fit, load_epoch, read_metrics,
};

/// The flex device's random generator is one per process and the tests of this file seed it
/// (initial weights, each epoch): running them on parallel threads would interleave their draws,
/// so each test holds this lock.
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    DEVICE_RNG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const FEATURES: usize = 4;
const CLASSES: usize = 3;
const BATCH: usize = 16;

#[derive(Clone, Debug)]
struct Item {
    x: [f32; FEATURES],
    y: i64,
}

#[derive(Clone, Debug)]
struct Batch {
    x: Tensor<2>,
    y: Tensor<1, Int>,
}

#[derive(Clone)]
struct ItemBatcher;

impl Batcher<Item, Batch> for ItemBatcher {
    fn batch(&self, items: Vec<Item>, device: &Device) -> Batch {
        let n = items.len();
        let x: Vec<f32> = items.iter().flat_map(|i| i.x).collect();
        let y: Vec<i64> = items.iter().map(|i| i.y).collect();
        Batch {
            x: Tensor::from_data(TensorData::new(x, [n, FEATURES]), device),
            y: Tensor::from_data(TensorData::new(y, [n]), device),
        }
    }
}

/// `n` points with a deterministic pseudo-random generator; the label is the argmax of a fixed
/// linear map plus noise, so a linear model learns it well but not perfectly.
fn items(n: usize, salt: u64) -> Vec<Item> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64 ^ salt;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let w = [
        [1.0, -0.5, 0.3, 0.0],
        [-0.2, 1.0, 0.0, 0.4],
        [0.1, 0.2, -1.0, 0.5],
    ];
    (0..n)
        .map(|_| {
            let x = [next(), next(), next(), next()];
            let noise = next() * 0.3;
            let scores: Vec<f32> = w
                .iter()
                .map(|row| row.iter().zip(&x).map(|(a, b)| a * b).sum::<f32>())
                .collect();
            let mut y = 0;
            for c in 1..CLASSES {
                if scores[c] + noise * c as f32 > scores[y] {
                    y = c;
                }
            }
            Item { x, y: y as i64 }
        })
        .collect()
}

type Loader = Arc<dyn DataLoader<Batch>>;

fn loaders() -> (Loader, Loader) {
    let train = DataLoaderBuilder::new(ItemBatcher)
        .batch_size(BATCH)
        .build(InMemDataset::new(items(64, 1)));
    let valid = DataLoaderBuilder::new(ItemBatcher)
        .batch_size(BATCH)
        .build(InMemDataset::new(items(48, 2)));
    (train, valid)
}

/// A linear classifier; `poison_at`: the global training step whose loss is made NaN.
#[derive(Module, Debug)]
struct Tiny {
    linear: Linear,
    #[module(skip)]
    poison_at: Option<usize>,
    #[module(skip)]
    steps: Arc<AtomicUsize>,
}

impl Tiny {
    fn new(device: &Device, seed: u64, outputs: usize) -> Self {
        device.seed(seed);
        Self {
            linear: LinearConfig::new(FEATURES, outputs).init(device),
            poison_at: None,
            steps: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn forward(&self, batch: Batch) -> ClassificationOutput {
        let logits = self.linear.forward(batch.x);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.y.clone());
        ClassificationOutput {
            loss,
            output: logits,
            targets: batch.y,
        }
    }

    fn weights(&self) -> Vec<f32> {
        let mut values = self
            .linear
            .weight
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        if let Some(bias) = &self.linear.bias {
            values.extend(bias.val().into_data().try_into_vec::<f32>().unwrap());
        }
        values
    }
}

impl TrainStep for Tiny {
    type Input = Batch;
    type Output = ClassificationOutput;

    fn step(&self, batch: Batch) -> TrainOutput<ClassificationOutput> {
        let step = self.steps.fetch_add(1, Ordering::SeqCst) + 1;
        let mut output = self.forward(batch);
        if self.poison_at == Some(step) {
            output.loss = output.loss * f32::NAN;
        }
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl InferenceStep for Tiny {
    type Input = Batch;
    type Output = ClassificationOutput;

    fn step(&self, batch: Batch) -> ClassificationOutput {
        self.forward(batch)
    }
}

fn device() -> Device {
    Device::flex().autodiff()
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: BATCH,
        seed: 7,
        optimizer: OptimizerConfig::Adam {
            lr: 0.05,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-4,
        },
        schedule: ScheduleConfig {
            warmup_steps: 3,
            decay: Decay::Constant,
        },
        clip_grad_norm: Some(0.5),
        keep_checkpoints: 2,
        ..TrainConfig::default()
    }
}

fn options(resume: bool) -> RunOptions {
    RunOptions {
        resume,
        devices: vec![],
        progress: ProgressMode::Quiet,
    }
}

/// A fresh run folder under the target dir's tmp.
fn run_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("fit_resume")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn train(model: Tiny, config: &TrainConfig, dir: &Path, resume: bool) -> Result<Tiny, TrainError> {
    let (train, valid) = loaders();
    fit(
        model,
        config,
        train,
        valid,
        dir,
        options(resume),
        ClassificationMetrics,
    )
    .map(|trained| trained.model)
}

/// 4 epochs at once, and 2 epochs + resume to 4: the same weights, bit for bit.
#[test]
fn resume_is_bit_identical_to_an_uninterrupted_run() {
    let _serial = serial();
    let device = device();
    let whole_dir = run_dir("whole");
    let whole = train(
        Tiny::new(&device, 11, CLASSES),
        &config(4),
        &whole_dir,
        false,
    )
    .unwrap();

    let split_dir = run_dir("split");
    train(
        Tiny::new(&device, 11, CLASSES),
        &config(2),
        &split_dir,
        false,
    )
    .unwrap();
    // A fresh process would build a fresh (differently initialised) model: resume loads the
    // checkpoint over it.
    let resumed = train(
        Tiny::new(&device, 999, CLASSES),
        &config(4),
        &split_dir,
        true,
    )
    .unwrap();

    assert_eq!(whole.weights(), resumed.weights(), "resumed run differs");
    let lines = read_metrics(&split_dir.join(METRICS_FILE)).unwrap();
    assert_eq!(
        lines.iter().map(|l| l.epoch).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let whole_lines = read_metrics(&whole_dir.join(METRICS_FILE)).unwrap();
    for (a, b) in lines.iter().zip(&whole_lines) {
        assert_eq!(a.valid, b.valid, "epoch {} validation metrics", a.epoch);
    }
}

/// A run "killed" during epoch 3 (its metrics line written, its checkpoint not complete):
/// resume continues from epoch 2, drops the orphan line, and ends like the uninterrupted run.
#[test]
fn killed_mid_epoch_resumes_from_the_last_completed_one() {
    let _serial = serial();
    let device = device();
    let whole = train(
        Tiny::new(&device, 5, CLASSES),
        &config(4),
        &run_dir("whole2"),
        false,
    )
    .unwrap();

    let dir = run_dir("killed");
    train(Tiny::new(&device, 5, CLASSES), &config(3), &dir, false).unwrap();
    let ckpt = dir.join(CHECKPOINT_DIR);
    // Epoch 3's files half-written: marker still at 2, model file truncated.
    std::fs::write(
        ckpt.join(MARKER_FILE),
        r#"{"format": 1, "epoch": 2, "seed": 7}"#,
    )
    .unwrap();
    std::fs::write(ckpt.join("model-3.bpk"), b"trunc").unwrap();
    let resumed = train(Tiny::new(&device, 1, CLASSES), &config(4), &dir, true).unwrap();
    assert_eq!(whole.weights(), resumed.weights());
    let epochs: Vec<usize> = read_metrics(&dir.join(METRICS_FILE))
        .unwrap()
        .iter()
        .map(|l| l.epoch)
        .collect();
    assert_eq!(epochs, vec![1, 2, 3, 4]);
}

/// Missing, truncated and mismatched checkpoints, resume without a run, and a second run into
/// a used folder are typed errors naming the file or folder.
#[test]
fn broken_checkpoints_are_typed_errors_naming_the_file() {
    let _serial = serial();
    let device = device();
    let dir = run_dir("broken");
    match train(Tiny::new(&device, 3, CLASSES), &config(1), &dir, true) {
        Err(TrainError::NothingToResume { dir: d, .. }) => assert_eq!(d, dir),
        other => panic!("expected NothingToResume, got {:?}", other.map(|_| ())),
    }
    train(Tiny::new(&device, 3, CLASSES), &config(2), &dir, false).unwrap();
    match train(Tiny::new(&device, 3, CLASSES), &config(2), &dir, false) {
        Err(TrainError::RunExists { epoch: 2, .. }) => {}
        other => panic!("expected RunExists, got {:?}", other.map(|_| ())),
    }

    let ckpt = dir.join(CHECKPOINT_DIR);
    // A model of another shape: mismatch naming the model file.
    match train(Tiny::new(&device, 3, CLASSES + 1), &config(3), &dir, true) {
        Err(TrainError::CheckpointMismatch { path, .. }) => {
            assert_eq!(path, ckpt.join("model-2.bpk"));
        }
        other => panic!("expected CheckpointMismatch, got {:?}", other.map(|_| ())),
    }
    // Another batch size: the scheduler's step count does not fit.
    let mut other_batch = config(3);
    other_batch.batch_size = 8;
    match train(Tiny::new(&device, 3, CLASSES), &other_batch, &dir, true) {
        Err(TrainError::CheckpointMismatch { path, reason }) => {
            assert_eq!(path, ckpt.join("scheduler-2.bpk"), "{reason}");
        }
        other => panic!("expected CheckpointMismatch, got {:?}", other.map(|_| ())),
    }
    // Truncated optimiser file.
    let optim = ckpt.join("optim-2.bpk");
    let bytes = std::fs::read(&optim).unwrap();
    std::fs::write(&optim, &bytes[..bytes.len() / 2]).unwrap();
    match train(Tiny::new(&device, 3, CLASSES), &config(3), &dir, true) {
        Err(error @ TrainError::CheckpointCorrupt { .. }) => {
            assert!(error.to_string().contains("optim-2.bpk"), "{error}");
        }
        other => panic!("expected CheckpointCorrupt, got {:?}", other.map(|_| ())),
    }
    // Missing model file.
    std::fs::remove_file(ckpt.join("model-2.bpk")).unwrap();
    match train(Tiny::new(&device, 3, CLASSES), &config(3), &dir, true) {
        Err(TrainError::CheckpointMissing { path }) => assert_eq!(path, ckpt.join("model-2.bpk")),
        other => panic!("expected CheckpointMissing, got {:?}", other.map(|_| ())),
    }
}

/// A NaN loss at global step 6 (epoch 2, step 2 with 4 batches per epoch) stops training with
/// an error naming both; epoch 1 is checkpointed and logged, epoch 2 is not.
#[test]
fn nan_loss_stops_with_epoch_and_step() {
    let _serial = serial();
    let device = device();
    let dir = run_dir("nan");
    let mut model = Tiny::new(&device, 3, CLASSES);
    model.poison_at = Some(6);
    match train(model, &config(3), &dir, false) {
        Err(TrainError::NonFinite {
            epoch,
            step,
            quantity,
            value,
        }) => {
            assert_eq!((epoch, step), (2, 2));
            assert_eq!(quantity, NonFiniteQuantity::Loss);
            assert!(value.is_nan());
        }
        other => panic!("expected NonFinite, got {:?}", other.map(|_| ())),
    }
    let marker = seqmodel_train::read_marker(&dir.join(CHECKPOINT_DIR))
        .unwrap()
        .unwrap();
    assert_eq!(marker.epoch, 1);
    let lines = read_metrics(&dir.join(METRICS_FILE)).unwrap();
    assert_eq!(lines.len(), 1);
}

/// `metrics.jsonl`: one line per epoch with train and validation loss, accuracy and macro-F1;
/// the last line's accuracy and macro-F1 are those of the returned model on the validation
/// set, computed here independently.
#[test]
fn metrics_jsonl_has_one_line_per_epoch_with_epoch_level_scores() {
    let _serial = serial();
    let device = device();
    let dir = run_dir("metrics");
    let model = train(Tiny::new(&device, 9, CLASSES), &config(3), &dir, false).unwrap();
    let lines = read_metrics(&dir.join(METRICS_FILE)).unwrap();
    assert_eq!(
        lines.iter().map(|l| l.epoch).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    for line in &lines {
        assert!(line.train.contains_key("Loss"), "{line:?}");
        for key in ["Loss", "accuracy", "macro_f1"] {
            assert!(
                line.valid.contains_key(key),
                "epoch {}: no valid {key}",
                line.epoch
            );
        }
    }
    let raw = std::fs::read_to_string(dir.join(METRICS_FILE)).unwrap();
    assert_eq!(raw.lines().count(), 3);
    assert!(raw.ends_with('\n'));

    let valid = items(48, 2);
    let batch = ItemBatcher.batch(valid.clone(), &Device::flex());
    let model = model.valid();
    let predicted: Vec<i64> = model
        .linear
        .forward(batch.x)
        .argmax(1)
        .flatten::<1>(0, 1)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap();
    let gold: Vec<i64> = valid.iter().map(|i| i.y).collect();
    let accuracy = 100.0 * seqmodel_metrics::accuracy(&gold, &predicted).unwrap();
    let last = lines.last().unwrap();
    assert!(
        (last.valid["accuracy"] - accuracy).abs() < 1e-9,
        "logged {} vs recomputed {accuracy}",
        last.valid["accuracy"]
    );
    let f1 = 100.0
        * seqmodel_metrics::precision_recall_fscore(
            &gold,
            &predicted,
            &seqmodel_metrics::Average::Macro,
            &seqmodel_metrics::PrfConfig::default(),
        )
        .unwrap()
        .f_score;
    assert!((last.valid["macro_f1"] - f1).abs() < 1e-9);
}

/// Config errors name the field, before anything is written.
#[test]
fn invalid_config_names_the_field_and_writes_nothing() {
    let _serial = serial();
    let device = device();
    let dir = run_dir("bad_config");
    let mut bad = config(2);
    bad.batch_size = 0;
    match train(Tiny::new(&device, 3, CLASSES), &bad, &dir, false) {
        Err(TrainError::Config { field, .. }) => assert_eq!(field, "batch_size"),
        other => panic!("expected Config, got {:?}", other.map(|_| ())),
    }
    assert!(!dir.exists());
}

/// Loaders that shuffle every epoch from the run's seed ([`EpochLoader`]), the first call being
/// epoch `first_epoch`.
fn shuffled_loaders(first_epoch: usize) -> (Loader, Loader) {
    let device = device();
    let train = EpochLoader::new(
        Arc::new(InMemDataset::new(items(64, 1))),
        Arc::new(ItemBatcher),
        BATCH,
        device.clone(),
    )
    .shuffled(7, first_epoch);
    let valid = EpochLoader::new(
        Arc::new(InMemDataset::new(items(48, 2))),
        Arc::new(ItemBatcher),
        BATCH,
        device,
    );
    (Arc::new(train), Arc::new(valid))
}

fn train_with(
    model: Tiny,
    config: &TrainConfig,
    dir: &Path,
    resume: bool,
    (train, valid): (Loader, Loader),
) -> Result<seqmodel_train::Trained<Tiny>, TrainError> {
    fit(
        model,
        config,
        train,
        valid,
        dir,
        options(resume),
        ClassificationMetrics,
    )
}

/// With shuffling, resuming is bit-identical only when the loader starts at the resumed epoch:
/// `EpochLoader::shuffled(seed, 3)` draws epoch 3's order; a loader that starts over at epoch 1
/// (what a loader with its own generator does) trains on other batches and ends elsewhere.
#[test]
fn shuffled_resume_is_bit_identical_with_an_epoch_loader() {
    let _serial = serial();
    let device = device();
    let whole = train_with(
        Tiny::new(&device, 3, CLASSES),
        &config(4),
        &run_dir("shuffled-whole"),
        false,
        shuffled_loaders(1),
    )
    .unwrap()
    .model;

    let dir = run_dir("shuffled-split");
    train_with(
        Tiny::new(&device, 3, CLASSES),
        &config(2),
        &dir,
        false,
        shuffled_loaders(1),
    )
    .unwrap();
    let resumed = train_with(
        Tiny::new(&device, 99, CLASSES),
        &config(4),
        &dir,
        true,
        shuffled_loaders(3),
    )
    .unwrap()
    .model;
    assert_eq!(whole.weights(), resumed.weights());

    let wrong_dir = run_dir("shuffled-wrong");
    train_with(
        Tiny::new(&device, 3, CLASSES),
        &config(2),
        &wrong_dir,
        false,
        shuffled_loaders(1),
    )
    .unwrap();
    let restarted_order = train_with(
        Tiny::new(&device, 99, CLASSES),
        &config(4),
        &wrong_dir,
        true,
        shuffled_loaders(1),
    )
    .unwrap()
    .model;
    assert_ne!(whole.weights(), restarted_order.weights());
}

/// A learning rate too small to change any prediction: validation accuracy stays at epoch 1's,
/// so epoch 1 stays the best (ties keep the earlier epoch), its checkpoint survives the
/// `keep_checkpoints` window, and early stopping ends the run `patience` epochs later.
#[test]
fn the_best_epoch_is_kept_and_early_stopping_stops_after_patience() {
    let _serial = serial();
    let device = device();
    let mut config = config(10);
    config.optimizer = OptimizerConfig::Sgd {
        lr: 1e-12,
        momentum: 0.0,
        dampening: 0.0,
        weight_decay: 0.0,
        nesterov: false,
    };
    config.clip_grad_norm = None;
    config.monitor = MonitorConfig {
        metric: "accuracy".into(),
        mode: MonitorMode::Max,
    };
    config.early_stopping = Some(EarlyStoppingConfig { patience: 3 });
    let dir = run_dir("early-stop");
    let trained = train_with(
        Tiny::new(&device, 5, CLASSES),
        &config,
        &dir,
        false,
        shuffled_loaders(1),
    )
    .unwrap();
    let summary = trained.summary;
    assert_eq!(summary.stopped_early_after, Some(4));
    assert_eq!(summary.epochs.len(), 4);
    assert_eq!(summary.best_epoch.map(|(e, _)| e), Some(1));
    let ckpt = dir.join(CHECKPOINT_DIR);
    assert!(ckpt.join("model-1.bpk").is_file(), "the best epoch is kept");
    assert!(!ckpt.join("model-2.bpk").exists(), "outside the window");
    assert!(ckpt.join("model-4.bpk").is_file());
    let best = load_epoch(Tiny::new(&device, 77, CLASSES), &dir, 1).unwrap();
    assert_eq!(best.weights().len(), trained.model.weights().len());
    let missing = load_epoch(Tiny::new(&device, 77, CLASSES), &dir, 2).unwrap_err();
    assert!(
        matches!(missing, TrainError::CheckpointMissing { .. }),
        "{missing}"
    );
}

/// burn-train's `MultiDevice` strategy through `RunOptions::devices`. Burn 0.22.1 has one CPU
/// device per backend (`FlexDevice` is a unit struct), so the two "devices" are the same flex
/// device twice: two workers, each training on its half of the data, their gradients summed on
/// the first and applied once per pair of batches. The run completes, checkpoints and resumes
/// like a single-device one, and learns.
#[test]
fn two_devices_train_data_parallel_and_resume() {
    let _serial = serial();
    let device = device();
    let mut options_two = options(false);
    options_two.devices = vec![device.clone(), device.clone()];
    let dir = run_dir("two-devices");
    let (train, valid) = shuffled_loaders(1);
    let first = fit(
        Tiny::new(&device, 5, CLASSES),
        &config(2),
        train,
        valid,
        &dir,
        options_two.clone(),
        ClassificationMetrics,
    )
    .unwrap();
    assert_eq!(first.summary.last_completed_epoch, 2);
    options_two.resume = true;
    let (train, valid) = shuffled_loaders(3);
    let resumed = fit(
        Tiny::new(&device, 8, CLASSES),
        &config(6),
        train,
        valid,
        &dir,
        options_two,
        ClassificationMetrics,
    )
    .unwrap();
    let epochs = &resumed.summary.epochs;
    assert_eq!(epochs.len(), 6);
    let loss = |e: usize| epochs[e].train["Loss"];
    assert!(loss(5) < loss(0), "train loss {} -> {}", loss(0), loss(5));
}
