//! Parity with PyTorch: forward values, final states and every gradient of `nn.RNN`, `nn.LSTM`
//! and `nn.GRU`, on the fixtures in `tests/fixtures/rnn/` (made by `gen_fixtures.py` there; see
//! its README) and on every fixture in the folder named by `SEQMODEL_RNN_FIXTURES`, if set.
//!
//! Every fixture runs twice: on the fused kernel with [`Execution::Fused`] (forward and
//! handwritten backward; `Fused` errors instead of falling back, so a pass proves the kernel
//! ran) and on the reference path ([`Execution::Reference`]). A projected LSTM has no fused
//! kernel: it must be refused under `Fused`, and runs under [`Execution::Auto`] (the fallback).
//!
//! Each module is built from the file's metadata only, so new fixture files need no code change.
//! Tolerances (float32 against a float64 reference): 1e-5 absolute on forward values, 1e-4 on
//! gradients.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use seqmodel_rnn::{
    Execution, GruConfig, LstmConfig, LstmState, NamedParam, Nonlinearity, RnnConfig,
    SequenceLengths, StateDict,
};

const FORWARD_TOLERANCE: f32 = 1e-5;
const GRADIENT_TOLERANCE: f32 = 1e-4;

/// The fixture folders to check: the repository's, plus `$SEQMODEL_RNN_FIXTURES`.
fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rnn")];
    if let Ok(extra) = std::env::var("SEQMODEL_RNN_FIXTURES") {
        dirs.push(PathBuf::from(extra));
    }
    dirs
}

fn fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in fixture_dirs() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read fixture folder {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|e| e == "safetensors") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A recurrent layer of any kind, built from a fixture's metadata.
enum Layer {
    Rnn(seqmodel_rnn::Rnn),
    Lstm(seqmodel_rnn::Lstm),
    Gru(seqmodel_rnn::Gru),
}

fn meta<'a>(dict: &'a StateDict, key: &str) -> &'a str {
    dict.metadata()
        .get(key)
        .unwrap_or_else(|| panic!("{}: metadata has no \"{key}\"", dict.source_name()))
}

fn meta_usize(dict: &StateDict, key: &str) -> usize {
    meta(dict, key)
        .parse()
        .unwrap_or_else(|e| panic!("{}: metadata \"{key}\": {e}", dict.source_name()))
}

fn build(dict: &StateDict, device: &Device, execution: Execution) -> Layer {
    let input_size = meta_usize(dict, "input_size");
    let hidden_size = meta_usize(dict, "hidden_size");
    let num_layers = meta_usize(dict, "num_layers");
    let bidirectional = meta(dict, "bidirectional") == "true";
    let bias = meta(dict, "bias") == "true";
    assert_eq!(meta(dict, "batch_first"), "true", "{}", dict.source_name());
    let mut params = dict.clone();
    params.retain(|k| k.starts_with("weight_") || k.starts_with("bias_"));
    match meta(dict, "mode") {
        "LSTM" => Layer::Lstm(
            LstmConfig::new(input_size, hidden_size)
                .with_execution(execution)
                .with_num_layers(num_layers)
                .with_bidirectional(bidirectional)
                .with_bias(bias)
                .with_proj_size(meta_usize(dict, "proj_size"))
                .init(device)
                .expect("fixture config is valid")
                .load_state_dict(&params, "")
                .expect("fixture parameters load"),
        ),
        "GRU" => Layer::Gru(
            GruConfig::new(input_size, hidden_size)
                .with_execution(execution)
                .with_num_layers(num_layers)
                .with_bidirectional(bidirectional)
                .with_bias(bias)
                .init(device)
                .expect("fixture config is valid")
                .load_state_dict(&params, "")
                .expect("fixture parameters load"),
        ),
        "RNN" => Layer::Rnn(
            RnnConfig::new(input_size, hidden_size)
                .with_execution(execution)
                .with_num_layers(num_layers)
                .with_bidirectional(bidirectional)
                .with_bias(bias)
                .with_nonlinearity(match meta(dict, "nonlinearity") {
                    "relu" => Nonlinearity::Relu,
                    _ => Nonlinearity::Tanh,
                })
                .init(device)
                .expect("fixture config is valid")
                .load_state_dict(&params, "")
                .expect("fixture parameters load"),
        ),
        other => panic!("{}: unknown mode {other}", dict.source_name()),
    }
}

fn get(dict: &StateDict, key: &str) -> TensorData {
    dict.get(key)
        .unwrap_or_else(|| panic!("{}: no tensor \"{key}\"", dict.source_name()))
        .clone()
}

/// Assert that `got` matches the fixture's tensor `key` in shape and values within `tolerance`.
fn assert_close(dict: &StateDict, key: &str, got: TensorData, tolerance: f32) {
    let expected = get(dict, key);
    assert_eq!(
        got.shape().to_vec(),
        expected.shape().to_vec(),
        "{}: {key}: shape",
        dict.source_name()
    );
    let got = got.try_into_vec_as::<f32>().expect("float values");
    let expected = expected.try_into_vec_as::<f32>().expect("float values");
    let (worst, at) = got
        .iter()
        .zip(&expected)
        .map(|(g, e)| (g - e).abs())
        .enumerate()
        .fold(
            (0.0f32, 0),
            |(w, a), (i, d)| if d > w { (d, i) } else { (w, a) },
        );
    assert!(
        worst <= tolerance && got.iter().all(|g| g.is_finite()),
        "{}: {key}: max abs difference {worst:e} at flat index {at} (got {}, expected {}), \
         tolerance {tolerance:e}",
        dict.source_name(),
        got[at],
        expected[at]
    );
}

/// Check one fixture; returns how many tensors were compared.
fn check_fixture(path: &Path, execution: Execution) -> usize {
    let dict = StateDict::read(path).expect("fixture reads");
    let device = Device::flex().autodiff();
    let layer = build(&dict, &device, execution);

    let input = Tensor::<3>::from_data(get(&dict, "input"), &device).require_grad();
    let h0 = Tensor::<3>::from_data(get(&dict, "h0"), &device).require_grad();
    let c0 = dict
        .get("c0")
        .map(|c| Tensor::<3>::from_data(c.clone(), &device).require_grad());
    let lengths = SequenceLengths::right(
        get(&dict, "lengths")
            .iter::<i64>()
            .map(|l| usize::try_from(l).expect("fixture lengths are >= 0"))
            .collect(),
    );

    let (output, h_n, c_n, params) = match &layer {
        Layer::Lstm(lstm) => {
            let c0 = c0.clone().expect("an LSTM fixture has c0");
            let out = lstm
                .forward(
                    input.clone(),
                    Some(&lengths),
                    Some(LstmState {
                        h: h0.clone(),
                        c: c0,
                    }),
                )
                .expect("forward");
            (
                out.output,
                out.state.h,
                Some(out.state.c),
                lstm.named_parameters(),
            )
        }
        Layer::Gru(gru) => {
            let out = gru
                .forward(input.clone(), Some(&lengths), Some(h0.clone()))
                .expect("forward");
            (out.output, out.state, None, gru.named_parameters())
        }
        Layer::Rnn(rnn) => {
            let out = rnn
                .forward(input.clone(), Some(&lengths), Some(h0.clone()))
                .expect("forward");
            (out.output, out.state, None, rnn.named_parameters())
        }
    };

    let mut checked = 0;
    assert_close(&dict, "output", output.to_data(), FORWARD_TOLERANCE);
    assert_close(&dict, "h_n", h_n.to_data(), FORWARD_TOLERANCE);
    checked += 2;
    if let Some(c_n) = &c_n {
        assert_close(&dict, "c_n", c_n.to_data(), FORWARD_TOLERANCE);
        checked += 1;
    }

    let upstream = |key: &str| Tensor::<3>::from_data(get(&dict, key), &device);
    let mut loss = (output * upstream("dout")).sum() + (h_n * upstream("dh_n")).sum();
    if let Some(c_n) = c_n {
        loss = loss + (c_n * upstream("dc_n")).sum();
    }
    let grads = loss.backward();

    let grad = |t: &Tensor<3>, what: &str| {
        t.grad(&grads)
            .unwrap_or_else(|| panic!("{}: no gradient for {what}", path.display()))
            .into_data()
    };
    assert_close(
        &dict,
        "grad_input",
        grad(&input, "input"),
        GRADIENT_TOLERANCE,
    );
    assert_close(&dict, "grad_h0", grad(&h0, "h0"), GRADIENT_TOLERANCE);
    checked += 2;
    if let Some(c0) = &c0 {
        assert_close(&dict, "grad_c0", grad(c0, "c0"), GRADIENT_TOLERANCE);
        checked += 1;
    }
    let expected_param_grads = dict
        .keys()
        .filter(|k| k.starts_with("grad_weight_") || k.starts_with("grad_bias_"))
        .count();
    assert_eq!(
        params.len(),
        expected_param_grads,
        "{}: the layer has {} parameters, the fixture {} parameter gradients",
        path.display(),
        params.len(),
        expected_param_grads
    );
    for (name, param) in params {
        let g = match &param {
            NamedParam::Matrix(t) => t.grad(&grads).map(Tensor::into_data),
            NamedParam::Vector(t) => t.grad(&grads).map(Tensor::into_data),
        }
        .unwrap_or_else(|| panic!("{}: no gradient for {name}", path.display()));
        assert_close(&dict, &format!("grad_{name}"), g, GRADIENT_TOLERANCE);
        checked += 1;
    }
    checked
}

#[test]
fn matches_pytorch_on_every_fixture() {
    let files = fixture_files();
    let mut tensors = 0;
    assert!(seqmodel_rnn::uses_fused_kernel(
        Execution::Auto,
        &Device::flex().autodiff()
    ));
    let mut fused_runs = 0;
    for path in &files {
        let dict = StateDict::read(path).expect("fixture reads");
        let projected = meta(&dict, "mode") == "LSTM" && meta_usize(&dict, "proj_size") > 0;
        let fast = if projected {
            assert_fused_refuses_projection(&dict);
            Execution::Auto
        } else {
            fused_runs += 1;
            Execution::Fused
        };
        for execution in [fast, Execution::Reference] {
            let n = check_fixture(path, execution);
            println!("{} ({execution:?}): {n} tensors match", path.display());
            tensors += n;
        }
    }
    println!("{fused_runs} fixtures ran the fused kernel (Execution::Fused)");
    assert!(fused_runs > 0, "no fixture ran the fused kernel");
    println!("checked {} fixtures ({tensors} tensors)", files.len());
    assert!(
        !files.is_empty(),
        "no *.safetensors fixtures found in {:?}",
        fixture_dirs()
    );
}

/// A projected LSTM fixture under [`Execution::Fused`]: the typed refusal, not a fallback.
fn assert_fused_refuses_projection(dict: &StateDict) {
    let device = Device::flex();
    let Layer::Lstm(lstm) = build(dict, &device, Execution::Fused) else {
        panic!("{}: a projected LSTM", dict.source_name())
    };
    let input = Tensor::<3>::from_data(get(dict, "input"), &device);
    let err = lstm
        .forward(input, None, None)
        .expect_err("Execution::Fused must refuse a projected LSTM");
    assert!(
        matches!(
            err,
            seqmodel_rnn::Error::FusedUnavailable {
                reason: seqmodel_rnn::FusedUnavailable::Projection { .. },
                ..
            }
        ),
        "{}: {err}",
        dict.source_name()
    );
}

/// A layer saved by [`seqmodel_rnn::Lstm::state_dict`] and read back gives the same parameters
/// and keeps PyTorch's key names (what `load_state_dict` in PyTorch expects).
#[test]
fn state_dict_round_trips_through_a_file() {
    let path = fixture_dirs()[0].join("lstm_proj_1l_bi_packed.safetensors");
    let dict = StateDict::read(&path).expect("fixture reads");
    let device = Device::flex();
    let Layer::Lstm(lstm) = build(&dict, &device, Execution::Auto) else {
        panic!("an LSTM fixture")
    };
    let saved = lstm.state_dict("encoder.rnn.");
    let file =
        std::env::temp_dir().join(format!("seqmodel-rnn-{}.safetensors", std::process::id()));
    saved.write(&file).expect("writes");
    let back = StateDict::read(&file).expect("reads back");
    std::fs::remove_file(&file).expect("removes temp file");
    let mut keys: Vec<&str> = back.keys().collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "encoder.rnn.bias_hh_l0",
            "encoder.rnn.bias_hh_l0_reverse",
            "encoder.rnn.bias_ih_l0",
            "encoder.rnn.bias_ih_l0_reverse",
            "encoder.rnn.weight_hh_l0",
            "encoder.rnn.weight_hh_l0_reverse",
            "encoder.rnn.weight_hr_l0",
            "encoder.rnn.weight_hr_l0_reverse",
            "encoder.rnn.weight_ih_l0",
            "encoder.rnn.weight_ih_l0_reverse",
        ]
    );
    for key in keys {
        let name = key.trim_start_matches("encoder.rnn.");
        assert_eq!(
            back.get(key).expect("key").as_bytes(),
            dict.get(name).expect("fixture key").as_bytes(),
            "{key}"
        );
    }
    let reloaded = build(&dict, &device, Execution::Auto);
    let Layer::Lstm(reloaded) = reloaded else {
        panic!("an LSTM fixture")
    };
    reloaded
        .load_state_dict(&back, "encoder.rnn.")
        .expect("loads under the prefix");
}
