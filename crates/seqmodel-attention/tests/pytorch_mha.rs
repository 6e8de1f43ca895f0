//! `MultiHeadAttention` against PyTorch's `nn.MultiheadAttention` on the fixtures in
//! `tests/fixtures/attention/` (and the folder named by `SEQMODEL_ATTENTION_FIXTURES`).

use std::path::{Path, PathBuf};

use burn::tensor::{Bool, Device, Int, Tensor, TensorData, Tolerance};
use seqmodel_attention::{MultiHeadAttention, MultiHeadAttentionConfig};
use seqmodel_rnn::StateDict;

const PARAMS: [&str; 4] = [
    "in_proj_weight",
    "in_proj_bias",
    "out_proj.weight",
    "out_proj.bias",
];

fn fixture_files() -> Vec<PathBuf> {
    let mut dirs =
        vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/attention")];
    if let Some(extra) = std::env::var_os("SEQMODEL_ATTENTION_FIXTURES") {
        dirs.push(PathBuf::from(extra));
    }
    let mut files = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("fixture folder {}: {e}", dir.display()));
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

fn tensor<const D: usize>(dict: &StateDict, key: &str, device: &Device) -> Tensor<D> {
    let data = dict
        .get(key)
        .unwrap_or_else(|| panic!("fixture has no `{key}`"));
    Tensor::<D>::from_data(data.clone().convert::<f32>(), device)
}

fn mask<const D: usize>(dict: &StateDict, key: &str, device: &Device) -> Tensor<D, Bool> {
    let data = dict
        .get(key)
        .unwrap_or_else(|| panic!("fixture has no `{key}`"));
    Tensor::<D, Int>::from_data(data.clone(), device).equal_elem(1)
}

fn model(dict: &StateDict, device: &Device) -> MultiHeadAttention {
    let meta = |key: &str| -> usize {
        dict.metadata()
            .get(key)
            .unwrap_or_else(|| panic!("fixture metadata has no `{key}`"))
            .parse()
            .expect("a number")
    };
    let mut params = StateDict::new();
    for key in PARAMS {
        params.insert(key, dict.get(key).expect("parameter").clone());
    }
    MultiHeadAttentionConfig::new(meta("d_model"), meta("num_heads"))
        .init(device)
        .expect("valid config")
        .load_state_dict(&params, "")
        .expect("the fixture's parameters fit")
}

#[test]
fn multi_head_attention_matches_pytorch() {
    let device = Device::flex();
    let files = fixture_files();
    assert!(
        files.len() >= 3,
        "expected the bundled fixtures, found {files:?}"
    );
    let checked = files.len();
    for path in files {
        let dict = StateDict::read(&path).expect("fixture reads");
        let mha = model(&dict, &device);
        let causal = dict.metadata().get("causal").map(String::as_str) == Some("true");
        let attn_mask = causal.then(|| mask::<2>(&dict, "attn_mask", &device));
        let out = mha
            .forward(
                tensor(&dict, "query", &device),
                tensor(&dict, "key", &device),
                tensor(&dict, "value", &device),
                Some(mask::<2>(&dict, "key_padding_mask", &device)),
                attn_mask,
            )
            .expect("shapes fit");
        let tolerance = Tolerance::absolute(2e-6);
        let name = path.display();
        let expected = |key: &str| dict.get(key).expect("expected tensor").clone();
        out.context
            .to_data()
            .assert_approx_eq::<f32>(&expected("output"), tolerance);
        out.head_weights
            .to_data()
            .assert_approx_eq::<f32>(&expected("head_weights"), tolerance);
        out.mean_weights()
            .to_data()
            .assert_approx_eq::<f32>(&expected("weights"), tolerance);
        // Masked keys: exactly 0, not merely small.
        let pad: Vec<i64> = expected("key_padding_mask").iter::<i64>().collect();
        let [b, h, q, k] = out.head_weights.dims();
        let weights: Vec<f32> = out.head_weights.to_data().iter::<f32>().collect();
        for (i, w) in weights.iter().enumerate() {
            let key = i % k;
            let batch = i / (h * q * k);
            if pad[batch * k + key] == 1 {
                assert_eq!(
                    *w, 0.0,
                    "{name}: masked key {key} of row {batch} has weight {w}"
                );
            }
        }
        assert_eq!(b * h * q * k, weights.len());

        // Export gives back the same tensors.
        let exported = mha.state_dict("");
        for key in PARAMS {
            let original: TensorData = expected(key);
            exported
                .get(key)
                .unwrap_or_else(|| panic!("{name}: export lacks `{key}`"))
                .assert_approx_eq::<f32>(&original, Tolerance::absolute(0.0));
        }
    }
    println!("multi-head attention matches PyTorch on {checked} fixture files");
}

#[test]
fn a_state_dict_with_a_wrong_shape_or_an_extra_key_is_refused_by_name() {
    let device = Device::flex();
    let mha = MultiHeadAttentionConfig::new(4, 2)
        .init(&device)
        .expect("valid");
    let mut dict = mha.state_dict("attn.");
    dict.insert(
        "attn.in_proj_weight",
        TensorData::new(vec![0.0f32; 12 * 3], [12, 3]),
    );
    let error = MultiHeadAttentionConfig::new(4, 2)
        .init(&device)
        .expect("valid")
        .load_state_dict(&dict, "attn.")
        .expect_err("misshaped")
        .to_string();
    assert!(error.contains("attn.in_proj_weight"), "{error}");

    let mut dict = mha.state_dict("attn.");
    dict.insert("attn.bias_k", TensorData::new(vec![0.0f32; 4], [1, 1, 4]));
    let error = MultiHeadAttentionConfig::new(4, 2)
        .init(&device)
        .expect("valid")
        .load_state_dict(&dict, "attn.")
        .expect_err("extra key")
        .to_string();
    assert!(error.contains("attn.bias_k"), "{error}");
}
