//! Global-norm gradient clipping against a hand computation and PyTorch's
//! `torch.nn.utils.clip_grad_norm_` (fixtures in `tests/fixtures/clip/`, made by
//! `gen_fixtures.py` there), both directly ([`clip_grad_norm`]) and through burn-train's own
//! step hook ([`SupervisedStep`]'s `TrainStep::optimize`), with autodiff computing the
//! gradients and Burn's SGD applying them.

#![cfg(feature = "flex")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn::train::{ClassificationOutput, TrainOutput, TrainStep};
use safetensors::SafeTensors;
use seqmodel_train::{
    NonFiniteGuard, NonFiniteQuantity, StepHooks, SupervisedStep, TrainError, clip_grad_norm,
    global_grad_norm,
};

/// Parameters of rank 1, 2 and 3, and the gradient each should receive (`None`: frozen).
///
/// Its training step's loss is `Σ_p sum(p ⊙ G_p)`, so autodiff gives exactly `G_p` as the
/// gradient of `p`: the fixture's gradients reach the optimiser through burn-train's path.
#[derive(Module, Debug)]
struct Bag {
    r1: Vec<Param<Tensor<1>>>,
    r2: Vec<Param<Tensor<2>>>,
    r3: Vec<Param<Tensor<3>>>,
    #[module(skip)]
    g1: Vec<Option<Tensor<1>>>,
    #[module(skip)]
    g2: Vec<Option<Tensor<2>>>,
    #[module(skip)]
    g3: Vec<Option<Tensor<3>>>,
}

fn weighted<const D: usize>(
    params: &[Param<Tensor<D>>],
    grads: &[Option<Tensor<D>>],
) -> Vec<Tensor<1>> {
    params
        .iter()
        .zip(grads)
        .filter_map(|(p, g)| g.as_ref().map(|g| (p.val() * g.clone()).sum()))
        .collect()
}

impl TrainStep for Bag {
    type Input = Device;
    type Output = ClassificationOutput;

    fn step(&self, device: Device) -> TrainOutput<ClassificationOutput> {
        let mut terms = weighted(&self.r1, &self.g1);
        terms.extend(weighted(&self.r2, &self.g2));
        terms.extend(weighted(&self.r3, &self.g3));
        let loss = Tensor::cat(terms, 0).sum();
        let grads = loss.backward();
        let output = ClassificationOutput {
            loss: loss.detach(),
            output: Tensor::zeros([1, 2], &device),
            targets: Tensor::<1, Int>::zeros([1], &device),
        };
        TrainOutput::new(self, grads, output)
    }
}

fn device() -> Device {
    Device::flex().autodiff()
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/clip");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read fixture folder {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    files
}

struct Fixture {
    name: String,
    meta: HashMap<String, String>,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Fixture {
    fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).expect("fixture readable");
        let (_, metadata) = SafeTensors::read_metadata(&bytes).expect("safetensors header");
        let meta = metadata.metadata().clone().unwrap_or_default();
        let st = SafeTensors::deserialize(&bytes).expect("safetensors body");
        let tensors = st
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let values = view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                (name, (view.shape().to_vec(), values))
            })
            .collect();
        Self {
            name: path.file_stem().unwrap().to_string_lossy().into_owned(),
            meta,
            tensors,
        }
    }

    fn meta(&self, key: &str) -> &str {
        self.meta
            .get(key)
            .unwrap_or_else(|| panic!("{}: metadata has no {key:?}", self.name))
    }

    fn list(&self, key: &str) -> Vec<String> {
        self.meta(key)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn data(&self, key: &str) -> TensorData {
        let (shape, values) = self
            .tensors
            .get(key)
            .unwrap_or_else(|| panic!("{}: no tensor {key}", self.name));
        TensorData::new(values.clone(), shape.clone())
    }

    fn has(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    /// The bag of this fixture's parameters, their slot (rank, index) by name.
    fn bag(&self, device: &Device) -> (Bag, Vec<(String, usize, usize)>) {
        let names = self.list("names");
        let ranks: Vec<usize> = self
            .list("ranks")
            .iter()
            .map(|r| r.parse().expect("rank"))
            .collect();
        let frozen = self.list("frozen");
        let mut bag = Bag {
            r1: vec![],
            r2: vec![],
            r3: vec![],
            g1: vec![],
            g2: vec![],
            g3: vec![],
        };
        let mut slots = vec![];
        for (name, rank) in names.iter().zip(&ranks) {
            let is_frozen = frozen.contains(name);
            let value = self.data(&format!("param.{name}"));
            let grad_key = format!("grad.{name}");
            let grad = self.has(&grad_key).then(|| self.data(&grad_key));
            macro_rules! push {
                ($params:ident, $grads:ident, $d:literal) => {{
                    let tensor = Tensor::<$d>::from_data(value, device);
                    let param = Param::from_tensor(tensor).set_require_grad(!is_frozen);
                    bag.$params.push(param);
                    bag.$grads
                        .push(grad.map(|g| Tensor::<$d>::from_data(g, device)));
                    slots.push((name.clone(), $d, bag.$params.len() - 1));
                }};
            }
            match rank {
                1 => push!(r1, g1, 1),
                2 => push!(r2, g2, 2),
                3 => push!(r3, g3, 3),
                other => panic!("{}: rank {other} not supported by the test", self.name),
            }
        }
        (bag, slots)
    }
}

fn values_of(bag: &Bag, rank: usize, index: usize) -> Vec<f32> {
    let data = match rank {
        1 => bag.r1[index].val().into_data(),
        2 => bag.r2[index].val().into_data(),
        _ => bag.r3[index].val().into_data(),
    };
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 values")
}

fn grad_of(bag: &Bag, grads: &GradientsParams, rank: usize, index: usize) -> Option<Vec<f32>> {
    let data = match rank {
        1 => grads.get::<1>(bag.r1[index].id)?.into_data(),
        2 => grads.get::<2>(bag.r2[index].id)?.into_data(),
        _ => grads.get::<3>(bag.r3[index].id)?.into_data(),
    };
    Some(
        data.convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 values"),
    )
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn fixture_grads(
    fixture: &Fixture,
    bag: &Bag,
    slots: &[(String, usize, usize)],
) -> GradientsParams {
    let device = Device::flex();
    let mut grads = GradientsParams::new();
    for (name, rank, index) in slots {
        let key = format!("grad.{name}");
        if !fixture.has(&key) {
            continue;
        }
        let data = fixture.data(&key);
        match rank {
            1 => grads.register(bag.r1[*index].id, Tensor::<1>::from_data(data, &device)),
            2 => grads.register(bag.r2[*index].id, Tensor::<2>::from_data(data, &device)),
            _ => grads.register(bag.r3[*index].id, Tensor::<3>::from_data(data, &device)),
        }
    }
    grads
}

/// `clip_grad_norm` on the fixture's gradients gives PyTorch's total norm and clipped
/// gradients.
#[test]
fn clip_grad_norm_matches_pytorch() {
    let files = fixture_files();
    assert!(!files.is_empty(), "no clip fixtures found");
    for path in &files {
        let fixture = Fixture::read(path);
        let device = Device::flex();
        let (bag, slots) = fixture.bag(&device);
        let max_norm: f64 = fixture.meta("max_norm").parse().expect("max_norm");
        let grads = fixture_grads(&fixture, &bag, &slots);
        let (clipped, report) = clip_grad_norm(&bag, grads, max_norm).expect("clip");
        let expected_norm = fixture.data("total_norm").try_into_vec::<f32>().unwrap()[0];
        assert!(
            (report.total_norm - expected_norm).abs() <= 1e-6 * expected_norm,
            "{}: total norm {} vs PyTorch {expected_norm}",
            fixture.name,
            report.total_norm
        );
        assert_eq!(
            report.scale.is_some(),
            fixture.meta("clipped") == "true",
            "{}: clipped or not",
            fixture.name
        );
        for (name, rank, index) in &slots {
            let key = format!("clipped.{name}");
            let got = grad_of(&bag, &clipped, *rank, *index);
            if !fixture.has(&key) {
                assert!(
                    got.is_none(),
                    "{}: frozen {name} got a gradient",
                    fixture.name
                );
                continue;
            }
            let expected = fixture.data(&key).try_into_vec::<f32>().unwrap();
            let got = got.expect("clipped gradient present");
            let diff = max_abs_diff(&got, &expected);
            assert!(
                diff <= 1e-6,
                "{}: clipped.{name} differs by {diff}",
                fixture.name
            );
        }
    }
    println!("checked {} clip fixtures", files.len());
}

/// Through burn-train's hook: autodiff computes the fixture's gradients in `TrainStep::step`,
/// `TrainStep::optimize` clips them and Burn's SGD (lr 0.1) applies them; the parameters then
/// equal PyTorch's after `clip_grad_norm_` + `SGD.step()`.
#[test]
fn optimize_hook_clips_then_steps_like_pytorch() {
    let files = fixture_files();
    assert!(!files.is_empty(), "no clip fixtures found");
    for path in &files {
        let fixture = Fixture::read(path);
        let device = device();
        let (bag, slots) = fixture.bag(&device);
        let max_norm: f64 = fixture.meta("max_norm").parse().expect("max_norm");
        let lr: f64 = fixture.meta("lr").parse().expect("lr");
        let guard = NonFiniteGuard::default();
        let model = SupervisedStep::new(
            bag,
            StepHooks {
                clip_grad_norm: Some(max_norm),
                guard: guard.clone(),
            },
        );
        let output = TrainStep::step(&model, device.clone());
        let mut optim = SgdConfig::new().init();
        let model = model.optimize(&mut optim, lr.into(), output.grads);
        let expected_norm = fixture.data("total_norm").try_into_vec::<f32>().unwrap()[0];
        let norm = guard.last_grad_norm().expect("the hook measured the norm");
        assert!(
            (norm - expected_norm).abs() <= 1e-6 * expected_norm,
            "{}: norm {norm} vs {expected_norm}",
            fixture.name
        );
        for (name, rank, index) in &slots {
            let expected = fixture
                .data(&format!("updated.{name}"))
                .try_into_vec::<f32>()
                .unwrap();
            let got = values_of(&model.model, *rank, *index);
            let diff = max_abs_diff(&got, &expected);
            assert!(
                diff <= 2e-6,
                "{}: updated.{name} differs by {diff}",
                fixture.name
            );
        }
    }
}

fn two_params(device: &Device, a: [f32; 2], b: [f32; 1]) -> (Bag, GradientsParams) {
    let bag = Bag {
        r1: vec![
            Param::from_tensor(Tensor::zeros([2], device)),
            Param::from_tensor(Tensor::zeros([1], device)),
        ],
        r2: vec![],
        r3: vec![],
        g1: vec![None, None],
        g2: vec![],
        g3: vec![],
    };
    let mut grads = GradientsParams::new();
    grads.register(bag.r1[0].id, Tensor::<1>::from_floats(a, device));
    grads.register(bag.r1[1].id, Tensor::<1>::from_floats(b, device));
    (bag, grads)
}

/// Gradients (1, 2) and (2): one norm over both, sqrt(1 + 4 + 4) = 3 (per-tensor clipping
/// would see √5 and 2). With max_norm 1.5 every gradient is multiplied by
/// 1.5 / (3 + 1e-6) ≈ 0.49999983: (0.5, 1.0) and (1.0), to float32 precision.
#[test]
fn hand_computed_global_norm_and_scale() {
    let device = Device::flex();
    let (bag, grads) = two_params(&device, [1.0, 2.0], [2.0]);
    assert_eq!(global_grad_norm(&bag, &grads).unwrap(), 3.0);
    let (clipped, report) = clip_grad_norm(&bag, grads, 1.5).unwrap();
    assert_eq!(report.total_norm, 3.0);
    let scale = report.scale.expect("3 > 1.5: clipped");
    assert_eq!(scale, 1.5f32 / (3.0f32 + 1e-6f32));
    let a = grad_of(&bag, &clipped, 1, 0).unwrap();
    let b = grad_of(&bag, &clipped, 1, 1).unwrap();
    assert_eq!(a, vec![1.0 * scale, 2.0 * scale]);
    assert_eq!(b, vec![2.0 * scale]);
    assert!((a[1] - 1.0).abs() < 1e-6 && (b[0] - 1.0).abs() < 1e-6);
}

/// Below the threshold the gradients are returned bit for bit (PyTorch multiplies by the
/// clamped factor, exactly 1). At the threshold itself the factor is 3 / (3 + 1e-6) < 1, and
/// PyTorch applies it too: so does `clip_grad_norm`.
#[test]
fn below_threshold_leaves_gradients_untouched() {
    let device = Device::flex();
    let (bag, grads) = two_params(&device, [1.0, 2.0], [2.0]);
    let (clipped, report) = clip_grad_norm(&bag, grads, 4.0).unwrap();
    assert_eq!(report.scale, None);
    assert_eq!(grad_of(&bag, &clipped, 1, 0).unwrap(), vec![1.0, 2.0]);
    assert_eq!(grad_of(&bag, &clipped, 1, 1).unwrap(), vec![2.0]);

    let (bag, grads) = two_params(&device, [1.0, 2.0], [2.0]);
    let (_, report) = clip_grad_norm(&bag, grads, 3.0).unwrap();
    assert_eq!(report.scale, Some(3.0f32 / (3.0f32 + 1e-6f32)));
}

/// A threshold that is not a positive finite number is a config error naming the field.
#[test]
fn invalid_max_norm_is_a_config_error() {
    let device = Device::flex();
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let (bag, grads) = two_params(&device, [1.0, 2.0], [2.0]);
        match clip_grad_norm(&bag, grads, bad) {
            Err(TrainError::Config { field, .. }) => assert_eq!(field, "clip_grad_norm"),
            other => panic!("max_norm {bad}: expected a config error, got {other:?}"),
        }
    }
}

/// A NaN gradient: the norm is NaN, the gradients are not scaled, and the step hook keeps the
/// weights and reports the epoch and step.
#[test]
fn nan_gradient_stops_without_updating() {
    let device = Device::flex();
    let (bag, grads) = two_params(&device, [f32::NAN, 2.0], [2.0]);
    let (_, report) = clip_grad_norm(&bag, grads, 1.0).unwrap();
    assert!(report.total_norm.is_nan());
    assert_eq!(report.scale, None);

    let device = self::device();
    let bag = Bag {
        r1: vec![Param::from_tensor(Tensor::ones([2], &device))],
        r2: vec![],
        r3: vec![],
        g1: vec![Some(Tensor::from_floats([f32::NAN, 1.0], &device))],
        g2: vec![],
        g3: vec![],
    };
    let guard = NonFiniteGuard::new(3, burn::train::Interrupter::new());
    let model = SupervisedStep::new(
        bag,
        StepHooks {
            clip_grad_norm: None,
            guard: guard.clone(),
        },
    );
    let output = TrainStep::step(&model, device.clone());
    let mut optim = SgdConfig::new().init();
    let model = model.optimize(&mut optim, 0.1.into(), output.grads);
    assert_eq!(
        values_of(&model.model, 1, 0),
        vec![1.0, 1.0],
        "weights untouched"
    );
    let tripped = guard.tripped().expect("guard tripped");
    assert_eq!((tripped.epoch, tripped.step), (3, 1));
    // The loss Σ p·g = NaN trips first.
    assert_eq!(tripped.quantity, NonFiniteQuantity::Loss);
    let message = guard.error().unwrap().to_string();
    assert!(message.contains("epoch 3, step 1"), "{message}");
}

/// A finite loss but a non-finite gradient: the hook trips on the gradient norm, at the step
/// the guard has counted, and leaves the weights alone.
#[test]
fn non_finite_gradient_norm_trips_the_guard() {
    let device = device();
    let (bag, grads) = two_params(&device, [f32::INFINITY, 2.0], [2.0]);
    let guard = NonFiniteGuard::new(2, burn::train::Interrupter::new());
    guard.next_step();
    guard.next_step();
    let model = SupervisedStep::new(
        bag,
        StepHooks {
            clip_grad_norm: Some(1.0),
            guard: guard.clone(),
        },
    );
    let mut optim = SgdConfig::new().init();
    let model = model.optimize(&mut optim, 0.1.into(), grads);
    assert_eq!(values_of(&model.model, 1, 0), vec![0.0, 0.0]);
    let tripped = guard.tripped().expect("guard tripped");
    assert_eq!(
        (tripped.epoch, tripped.step, tripped.quantity),
        (2, 2, NonFiniteQuantity::GradNorm)
    );
    assert!(tripped.value.is_infinite());
}
