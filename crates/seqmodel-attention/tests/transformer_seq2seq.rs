//! The Transformer encoder–decoder: cached step-by-step decoding equals the teacher-forced
//! forward over the whole prefix; a position never sees later target tokens; source padding
//! changes nothing; bad sizes name their field.

use burn::tensor::{Device, Int, Tensor, TensorData, Tolerance};
use seqmodel_attention::{StepDecoder, TransformerSeq2Seq, TransformerSeq2SeqConfig};
use seqmodel_data::{PaddedBatch, PaddingConfig};

const SOURCE_VOCAB: usize = 11;
const TARGET_VOCAB: usize = 9;
const BOS: usize = 1;
const EOS: usize = 2;

fn config() -> TransformerSeq2SeqConfig {
    TransformerSeq2SeqConfig::new(SOURCE_VOCAB, TARGET_VOCAB, BOS, EOS)
        .with_d_model(16)
        .with_num_heads(4)
        .with_d_ff(32)
}

/// The variants whose decoding paths differ: pre- and post-norm, tied and separate output.
fn models(device: &Device) -> Vec<(&'static str, TransformerSeq2Seq)> {
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = INIT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    device.seed(5);
    [
        ("pre-norm", config()),
        ("post-norm", config().with_norm_first(false)),
        (
            "pre-norm, tied, 3 decoder layers",
            config().with_tie_output(true).with_num_decoder_layers(3),
        ),
    ]
    .into_iter()
    .map(|(name, c)| (name, c.init(device).expect("valid config")))
    .collect()
}

fn batch(rows: &[Vec<usize>], device: &Device) -> PaddedBatch {
    PaddingConfig::default()
        .pad(rows)
        .expect("valid rows")
        .to_batch(device)
}

fn sources() -> Vec<Vec<usize>> {
    vec![
        vec![3, 4, 5, 6, 7],
        vec![8, 3],
        vec![9, 10, 4, 4, 5, 6, 3, 7],
        vec![5],
    ]
}

fn ids(rows: &[[i64; 5]], device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), 5]), device)
}

fn decoder_input(device: &Device) -> Tensor<2, Int> {
    ids(
        &[
            [1, 3, 4, 5, 6],
            [1, 6, 6, 7, 2],
            [1, 8, 3, 4, 0],
            [1, 5, 5, 5, 5],
        ],
        device,
    )
}

#[test]
fn cached_steps_equal_the_teacher_forced_forward() {
    let device = Device::flex();
    let src = batch(&sources(), &device);
    let input = decoder_input(&device);
    for (name, model) in models(&device) {
        let all = model.forward(&src, input.clone()).expect("forward");
        let (memory, mut state) = model.start(&src).expect("start");
        let mut logits = Vec::new();
        let mut weights = Vec::new();
        for t in 0..5 {
            let tokens = input.clone().slice([0..4, t..t + 1]).squeeze_dim::<1>(1);
            let step = model.decode_step(tokens, state, &memory).expect("step");
            logits.push(step.logits.unsqueeze_dim::<3>(1));
            weights.push(step.weights.expect("weights").unsqueeze_dim::<3>(1));
            state = step.state;
        }
        assert_eq!(state.position, 5, "{name}");
        assert_eq!(state.layers[0].len(), 5, "{name}: one cached key per step");
        Tensor::cat(logits, 1)
            .into_data()
            .assert_approx_eq::<f32>(&all.logits.into_data(), Tolerance::absolute(1e-5));
        Tensor::cat(weights, 1).into_data().assert_approx_eq::<f32>(
            &all.weights.expect("weights").into_data(),
            Tolerance::absolute(1e-5),
        );
    }
}

#[test]
fn a_position_never_sees_later_target_tokens() {
    let device = Device::flex();
    let src = batch(&sources(), &device);
    let input = decoder_input(&device);
    let values: Vec<i64> = input.to_data().iter::<i64>().collect();
    for (name, model) in models(&device) {
        let base: Vec<f32> = model
            .forward(&src, input.clone())
            .expect("forward")
            .logits
            .into_data()
            .iter::<f32>()
            .collect();
        for t in 0..4 {
            // Every token after position t changed.
            let changed: Vec<i64> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    if i % 5 > t {
                        (v + 3) % TARGET_VOCAB as i64
                    } else {
                        v
                    }
                })
                .collect();
            let changed = Tensor::<2, Int>::from_data(TensorData::new(changed, [4, 5]), &device);
            let out: Vec<f32> = model
                .forward(&src, changed)
                .expect("forward")
                .logits
                .into_data()
                .iter::<f32>()
                .collect();
            let mut later_differs = false;
            for (i, (a, b)) in base.iter().zip(&out).enumerate() {
                let position = (i / TARGET_VOCAB) % 5;
                if position <= t {
                    assert!(
                        (a - b).abs() < 1e-5,
                        "{name}: position {position} saw t > {t}"
                    );
                } else {
                    later_differs |= (a - b).abs() > 1e-4;
                }
            }
            assert!(
                later_differs,
                "{name}: the change at t > {t} changed nothing"
            );
        }
    }
}

#[test]
fn source_padding_changes_nothing() {
    let device = Device::flex();
    let rows = sources();
    let together = batch(&rows, &device);
    let input = decoder_input(&device);
    for (name, model) in models(&device) {
        let all = model.forward(&together, input.clone()).expect("forward");
        for (s, row) in rows.iter().enumerate() {
            // Alone (no padding) and with extra padding beyond the batch's longest row.
            let alone = batch(std::slice::from_ref(row), &device);
            let padded = PaddingConfig::default()
                .pad(&[row.clone(), vec![3; 12]])
                .expect("valid")
                .to_batch(&device);
            let tokens = input.clone().slice([s..s + 1, 0..5]);
            let expected = all.logits.clone().slice([s..s + 1, 0..5, 0..TARGET_VOCAB]);
            let got = model.forward(&alone, tokens.clone()).expect("forward");
            got.logits
                .into_data()
                .assert_approx_eq::<f32>(&expected.clone().into_data(), Tolerance::absolute(1e-5));
            let two = Tensor::cat(vec![tokens.clone(), tokens], 0);
            let got = model.forward(&padded, two).expect("forward");
            got.logits
                .slice([0..1, 0..5, 0..TARGET_VOCAB])
                .into_data()
                .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-5));
            // The attention never lands on padding.
            let weights: Vec<f32> = got
                .weights
                .expect("weights")
                .slice([0..1, 0..5, 0..12])
                .into_data()
                .iter::<f32>()
                .collect();
            for (i, w) in weights.iter().enumerate() {
                if i % 12 >= row.len() {
                    assert_eq!(*w, 0.0, "{name}: weight on padding");
                }
            }
        }
    }
}

#[test]
fn bad_sizes_name_their_field() {
    let device = Device::flex();
    let cases = [
        (config().with_d_model(18), "`d_model`", "num_heads (4)"),
        (
            config().with_d_model(9).with_num_heads(3),
            "`d_model`",
            "even",
        ),
        (config().with_num_heads(0), "`num_heads`", "at least 1"),
        (config().with_d_ff(0), "`d_ff`", "at least 1"),
        (
            config().with_num_decoder_layers(0),
            "`num_decoder_layers`",
            "at least 1",
        ),
        (config().with_dropout(1.0), "`dropout`", "[0, 1)"),
        (
            config().with_label_smoothing(-0.1),
            "`label_smoothing`",
            "[0, 1)",
        ),
        (
            TransformerSeq2SeqConfig::new(SOURCE_VOCAB, TARGET_VOCAB, BOS, TARGET_VOCAB),
            "`eos_id`",
            "9 ids",
        ),
    ];
    for (config, field, hint) in cases {
        let error = config.init(&device).expect_err("invalid").to_string();
        assert!(
            error.starts_with("TransformerSeq2SeqConfig: ")
                && error.contains(field)
                && error.contains(hint),
            "{error}"
        );
    }
}

/// An empty source row attends to nothing: its weights are zeros and its logits finite; the
/// other rows are as if alone.
#[test]
fn an_empty_source_row_decodes_without_nan() {
    let device = Device::flex();
    for (name, model) in models(&device) {
        let src = batch(&[vec![], vec![3, 4, 5]], &device);
        let hyps = seqmodel_attention::greedy(&model, &src, 6).expect("greedy");
        assert!(
            hyps.iter().all(|h| h.log_prob.is_finite()),
            "{name}: {hyps:?}"
        );
        let empty_rows: Vec<f32> = hyps[0].attention.iter().flatten().copied().collect();
        assert!(
            empty_rows.is_empty(),
            "{name}: no real source position to weigh"
        );
        let alone = seqmodel_attention::greedy(&model, &batch(&[vec![3, 4, 5]], &device), 6)
            .expect("greedy");
        assert_eq!(alone[0].tokens, hyps[1].tokens, "{name}");
    }
}
