//! Finite-difference gradient checks in float64 for every cell type (proptest over shapes,
//! lengths and weights): the autodiff gradient of
//! `loss = sum(output * w) + sum(h_n * v) [+ sum(c_n * u)]` with respect to the input, the
//! initial states and every parameter entry matches the central difference
//! `(loss(p + e) - loss(p - e)) / 2e`.
//!
//! This binary sets the flex device's default float type to F64 (a per-process setting), so it
//! is a test file of its own.

mod common;

use burn::tensor::{DType, Device, FloatDType, Tensor, TensorData};
use common::{AnyLayer, Kind, Spec, lengths, values};
use proptest::prelude::*;
use seqmodel_rnn::{NamedParam, SequenceLengths, StateDict};

/// The flex device with float64 as its default float type.
fn f64_device() -> Device {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    let mut device = Device::flex();
    CONFIGURED.call_once(|| {
        device
            .configure(FloatDType::F64)
            .expect("flex accepts float64 before its first tensor");
    });
    device
}

fn data(v: Vec<f64>, shape: Vec<usize>) -> TensorData {
    TensorData::new(v, shape)
}

fn f64s(seed: u64, n: usize, scale: f32) -> Vec<f64> {
    values(seed, n, scale).into_iter().map(f64::from).collect()
}

fn to_f64(d: TensorData) -> Vec<f64> {
    d.try_into_vec_as::<f64>().expect("float values")
}

/// Everything a loss evaluation needs, as host data, so that single entries can be perturbed.
#[derive(Clone)]
struct Problem {
    spec: Spec,
    params: StateDict,
    input: TensorData,
    h0: TensorData,
    c0: Option<TensorData>,
    w_out: TensorData,
    w_h: TensorData,
    w_c: Option<TensorData>,
    lengths: Vec<i64>,
}

impl Problem {
    fn loss(&self, device: &Device) -> f64 {
        let layer = AnyLayer::from_state_dict(self.spec, &self.params, device);
        let t = |d: &TensorData| Tensor::<3>::from_data(d.clone(), device);
        let lens: SequenceLengths = lengths(&self.lengths);
        let out = layer.forward(
            t(&self.input),
            Some(&lens),
            Some(t(&self.h0)),
            self.c0.as_ref().map(t),
        );
        let mut loss = (out.output * t(&self.w_out)).sum() + (out.h_n * t(&self.w_h)).sum();
        if let (Some(c), Some(w)) = (out.c_n, &self.w_c) {
            loss = loss + (c * t(w)).sum();
        }
        to_f64(loss.into_data())[0]
    }
}

/// Sizes and data of one check: input, hidden, layers, bidirectional, batch, time, lengths, seed.
type Shape = (usize, usize, usize, bool, usize, usize, Vec<i64>, u64);

fn check(kind: Kind, shape: Shape) -> Result<(), TestCaseError> {
    let (input, hidden, layers, bidirectional, batch, time, lens, seed) = shape;
    let device = f64_device();
    let spec = Spec {
        kind,
        input,
        hidden,
        layers,
        bidirectional,
    };
    let n = layers * spec.directions();
    let (ho, width) = (spec.hidden_out(), spec.directions() * spec.hidden_out());

    // Random float64 parameters under PyTorch's names.
    let template = AnyLayer::build(spec, &device);
    let mut params = StateDict::new();
    for (k, (name, p)) in template.named_parameters().into_iter().enumerate() {
        let dims = p.dims();
        let count = dims.iter().product();
        params.insert(
            name,
            data(f64s(seed ^ ((k as u64 + 1) * 7919), count, 0.6), dims),
        );
    }
    let problem = Problem {
        spec,
        params,
        input: data(
            f64s(seed ^ 1, batch * time * input, 1.0),
            vec![batch, time, input],
        ),
        h0: data(f64s(seed ^ 2, n * batch * ho, 0.5), vec![n, batch, ho]),
        c0: spec.has_cell().then(|| {
            data(
                f64s(seed ^ 3, n * batch * hidden, 0.5),
                vec![n, batch, hidden],
            )
        }),
        w_out: data(
            f64s(seed ^ 4, batch * time * width, 1.0),
            vec![batch, time, width],
        ),
        w_h: data(f64s(seed ^ 5, n * batch * ho, 1.0), vec![n, batch, ho]),
        w_c: spec.has_cell().then(|| {
            data(
                f64s(seed ^ 6, n * batch * hidden, 1.0),
                vec![n, batch, hidden],
            )
        }),
        lengths: lens,
    };

    // Analytic gradients on the autodiff device.
    let ad = device.clone().autodiff();
    let layer = AnyLayer::from_state_dict(spec, &problem.params, &ad);
    let leaf = |d: &TensorData| Tensor::<3>::from_data(d.clone(), &ad).require_grad();
    let t = |d: &TensorData| Tensor::<3>::from_data(d.clone(), &ad);
    let (x, h0) = (leaf(&problem.input), leaf(&problem.h0));
    prop_assert_eq!(
        x.dtype(),
        DType::F64,
        "the gradient check must run in float64"
    );
    let c0 = problem.c0.as_ref().map(leaf);
    let out = layer.forward(
        x.clone(),
        Some(&lengths(&problem.lengths)),
        Some(h0.clone()),
        c0.clone(),
    );
    let mut loss = (out.output * t(&problem.w_out)).sum() + (out.h_n * t(&problem.w_h)).sum();
    if let (Some(c), Some(w)) = (out.c_n, &problem.w_c) {
        loss = loss + (c * t(w)).sum();
    }
    let grads = loss.backward();

    let eps = 1e-6;
    let compare = |what: &str,
                   analytic: Vec<f64>,
                   perturb: &dyn Fn(&mut Problem, usize, f64)|
     -> Result<(), TestCaseError> {
        for (j, a) in analytic.iter().enumerate() {
            let mut plus = problem.clone();
            perturb(&mut plus, j, eps);
            let mut minus = problem.clone();
            perturb(&mut minus, j, -eps);
            let numeric = (plus.loss(&device) - minus.loss(&device)) / (2.0 * eps);
            prop_assert!(
                (a - numeric).abs() <= 1e-6 * (1.0 + numeric.abs()),
                "{:?} {}[{}]: autodiff {} vs finite difference {}",
                kind,
                what,
                j,
                a,
                numeric
            );
        }
        Ok(())
    };
    let bump = |d: &TensorData, j: usize, e: f64| {
        let shape = d.shape().to_vec();
        let mut v = to_f64(d.clone());
        v[j] += e;
        data(v, shape)
    };

    compare(
        "input",
        to_f64(x.grad(&grads).expect("input grad").into_data()),
        &|p, j, e| p.input = bump(&p.input, j, e),
    )?;
    compare(
        "h0",
        to_f64(h0.grad(&grads).expect("h0 grad").into_data()),
        &|p, j, e| p.h0 = bump(&p.h0, j, e),
    )?;
    if let Some(c0) = &c0 {
        compare(
            "c0",
            to_f64(c0.grad(&grads).expect("c0 grad").into_data()),
            &|p, j, e| {
                p.c0 = p.c0.as_ref().map(|c| bump(c, j, e));
            },
        )?;
    }
    for (name, param) in layer.named_parameters() {
        let g = match &param {
            NamedParam::Matrix(w) => w.grad(&grads).map(|g| g.into_data()),
            NamedParam::Vector(b) => b.grad(&grads).map(|g| g.into_data()),
        };
        let g = to_f64(g.unwrap_or_else(|| panic!("{name} has no gradient")));
        let key = name.clone();
        compare(&name, g, &move |p, j, e| {
            let bumped = bump(p.params.get(&key).expect("param"), j, e);
            p.params.insert(key.clone(), bumped);
        })?;
    }
    Ok(())
}

fn shapes() -> impl Strategy<Value = Shape> {
    (
        1..3usize,
        2..4usize,
        1..3usize,
        any::<bool>(),
        1..3usize,
        1..4usize,
        any::<u64>(),
    )
        .prop_flat_map(|(input, hidden, layers, bi, batch, time, seed)| {
            prop::collection::vec(1..=time as i64, batch)
                .prop_map(move |lens| (input, hidden, layers, bi, batch, time, lens, seed))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3))]

    #[test]
    fn rnn_tanh_gradients_match_finite_differences(shape in shapes()) {
        check(Kind::RnnTanh, shape)?;
    }

    #[test]
    fn rnn_relu_gradients_match_finite_differences(shape in shapes()) {
        check(Kind::RnnRelu, shape)?;
    }

    #[test]
    fn lstm_gradients_match_finite_differences(shape in shapes()) {
        check(Kind::Lstm, shape)?;
    }

    #[test]
    fn projected_lstm_gradients_match_finite_differences(shape in shapes()) {
        check(Kind::LstmProj, shape)?;
    }

    #[test]
    fn gru_gradients_match_finite_differences(shape in shapes()) {
        check(Kind::Gru, shape)?;
    }
}
