//! The encoder–decoders (RNN and Transformer, through [`EncoderDecoder`]) and their
//! decoders: beam width 1 is greedy; hypotheses come sorted; every
//! score is the teacher-forced log-probability of its tokens (with the length penalty);
//! results do not depend on the other sentences of the batch; the all-at-once teacher-forced
//! decoder equals the step-by-step one; the loss ignores target padding.

use burn::module::Param;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use seqmodel_attention::seq2seq::{BridgeKind, DecoderAttentionKind, RecurrentKind};
use seqmodel_attention::{
    BeamSearchConfig, EncoderDecoder, Hypothesis, RnnDecoderConfig, RnnEncoderConfig,
    SamplingConfig, Seq2Seq, Seq2SeqConfig, StepDecoder, TransformerSeq2Seq,
    TransformerSeq2SeqConfig, greedy, length_penalty,
};
use seqmodel_data::{PaddedBatch, PaddingConfig};

const SOURCE_VOCAB: usize = 11;
const TARGET_VOCAB: usize = 9;
const BOS: usize = 1;
const EOS: usize = 2;

/// The device's RNG is process-wide: whoever draws from it (initialisation, sampling) holds
/// this lock, so that tests running in parallel build the same weights every time.
fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RNG.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn model(
    attention: DecoderAttentionKind,
    input_feeding: bool,
    kind: RecurrentKind,
    bridge: BridgeKind,
    device: &Device,
) -> Seq2Seq {
    // The device's RNG is process-wide: hold the lock from seeding to the last draw, so that
    // tests running in parallel build the same weights every time.
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = INIT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    device.seed(17);
    let encoder = RnnEncoderConfig::new(SOURCE_VOCAB, 8, 6).with_kind(kind);
    let decoder = RnnDecoderConfig::new(TARGET_VOCAB, 8, 12, encoder.output_size())
        .with_kind(kind)
        .with_attention(attention)
        .with_input_feeding(input_feeding);
    let mut model = Seq2SeqConfig::new(encoder, decoder, BOS, EOS)
        .with_bridge(bridge)
        .init(device)
        .expect("valid config");
    // Confident, source-dependent predictions (a random model's are nearly uniform), and an
    // <eos> that some hypotheses reach and some do not.
    // (A leaf again, so that the model also trains on an autodiff device.)
    let weight = (model.decoder.output.weight.val() * 4.0).detach();
    model.decoder.output.weight = Param::from_tensor(weight);
    let mut bias = vec![0.0f32; TARGET_VOCAB];
    bias[EOS] = 0.6;
    model.decoder.output.bias = Some(Param::from_tensor(Tensor::<1>::from_data(
        TensorData::new(bias, [TARGET_VOCAB]),
        device,
    )));
    model
}

/// A Transformer with the same confident output layer as [`model`]'s.
fn transformer(norm_first: bool, device: &Device) -> TransformerSeq2Seq {
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = INIT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    device.seed(23);
    let mut model = TransformerSeq2SeqConfig::new(SOURCE_VOCAB, TARGET_VOCAB, BOS, EOS)
        .with_d_model(16)
        .with_num_heads(4)
        .with_d_ff(32)
        .with_norm_first(norm_first)
        .init(device)
        .expect("valid config");
    let output = model.output.as_mut().expect("an untied output layer");
    output.weight = Param::from_tensor(output.weight.val() * 4.0);
    let mut bias = vec![0.0f32; TARGET_VOCAB];
    bias[EOS] = 0.6;
    output.bias = Some(Param::from_tensor(Tensor::<1>::from_data(
        TensorData::new(bias, [TARGET_VOCAB]),
        device,
    )));
    model
}

/// `model` with `shift` added to the `<eos>` logit.
fn shift_eos(mut model: EncoderDecoder, shift: f32) -> EncoderDecoder {
    let output = match &mut model {
        EncoderDecoder::Rnn(m) => &mut m.decoder.output,
        EncoderDecoder::Transformer(m) => m.output.as_mut().expect("an untied output layer"),
    };
    let bias = output.bias.take().expect("the output layer has a bias");
    let device = bias.val().device();
    let mut values: Vec<f32> = bias.val().into_data().iter::<f32>().collect();
    values[EOS] += shift;
    output.bias = Some(Param::from_tensor(Tensor::<1>::from_data(
        TensorData::new(values, [TARGET_VOCAB]),
        &device,
    )));
    model
}

fn models(device: &Device) -> Vec<(&'static str, EncoderDecoder)> {
    let rnn = vec![
        (
            "lstm general",
            model(
                DecoderAttentionKind::General,
                false,
                RecurrentKind::Lstm,
                BridgeKind::Concat,
                device,
            ),
        ),
        (
            "lstm additive, input feeding",
            model(
                DecoderAttentionKind::Additive,
                true,
                RecurrentKind::Lstm,
                BridgeKind::Linear,
                device,
            ),
        ),
        (
            "gru dot",
            model(
                DecoderAttentionKind::Dot,
                false,
                RecurrentKind::Gru,
                BridgeKind::Concat,
                device,
            ),
        ),
        (
            "rnn without attention",
            model(
                DecoderAttentionKind::None,
                false,
                RecurrentKind::Rnn,
                BridgeKind::Linear,
                device,
            ),
        ),
    ];
    rnn.into_iter()
        .map(|(name, m)| (name, EncoderDecoder::Rnn(m)))
        .chain([
            (
                "transformer pre-norm",
                EncoderDecoder::Transformer(transformer(true, device)),
            ),
            (
                "transformer post-norm",
                EncoderDecoder::Transformer(transformer(false, device)),
            ),
        ])
        .collect()
}

fn sources() -> Vec<Vec<usize>> {
    vec![
        vec![3, 4, 5, 6, 7],
        vec![8, 3],
        vec![9, 10, 4, 4, 5, 6, 3, 7],
        vec![5],
    ]
}

fn batch(rows: &[Vec<usize>], device: &Device) -> PaddedBatch {
    PaddingConfig::default()
        .pad(rows)
        .expect("valid rows")
        .to_batch(device)
}

/// The teacher-forced log-probability of `hyp` (its tokens, and `<eos>` when finished).
fn teacher_forced_log_prob(
    model: &EncoderDecoder,
    source: &[usize],
    hyp: &Hypothesis,
    device: &Device,
) -> f64 {
    let mut input = vec![BOS as i64];
    input.extend(hyp.tokens.iter().map(|&t| t as i64));
    let mut gold = hyp.tokens.clone();
    if hyp.finished {
        gold.push(EOS);
    } else {
        input.pop();
    }
    if gold.is_empty() {
        return 0.0;
    }
    let len = input.len();
    let input = Tensor::<2, Int>::from_data(TensorData::new(input, [1, len]), device);
    let out = model
        .forward(&batch(&[source.to_vec()], device), input)
        .expect("forward");
    let lp: Vec<f32> = log_softmax(out.logits, 2)
        .into_data()
        .iter::<f32>()
        .collect();
    gold.iter()
        .enumerate()
        .map(|(t, &g)| f64::from(lp[t * TARGET_VOCAB + g]))
        .sum()
}

#[test]
fn beam_width_one_is_greedy() {
    let device = Device::flex();
    let src = batch(&sources(), &device);
    let mut finished = [0usize; 2];
    // The models as built, and pushed towards <eos> always and never, so that both endings
    // (by <eos>, by the length limit) are compared.
    for (name, model) in models(&device) {
        for eos_shift in [0.0, 20.0, -20.0] {
            let model = shift_eos(model.clone(), eos_shift);
            let g = greedy(&model, &src, 12).expect("greedy");
            let b = BeamSearchConfig::new(1)
                .with_max_len(12)
                .decode(&model, &src)
                .expect("beam");
            for (s, (g, b)) in g.iter().zip(&b).enumerate() {
                assert_eq!(b.len(), 1, "{name}");
                assert_eq!(g.tokens, b[0].tokens, "{name}: sentence {s}");
                assert_eq!(g.finished, b[0].finished, "{name}: sentence {s}");
                assert!(
                    (g.log_prob - b[0].log_prob).abs() < 1e-5,
                    "{name}: {g:?} vs {b:?}"
                );
            }
            for h in &g {
                finished[usize::from(h.finished)] += 1;
            }
        }
    }
    // Both endings were compared: by <eos> and by the length limit.
    assert!(finished[0] > 0 && finished[1] > 0, "{finished:?}");
}

#[test]
fn beam_hypotheses_are_sorted_and_scored_by_teacher_forcing() {
    let device = Device::flex();
    let rows = sources();
    let src = batch(&rows, &device);
    for (name, model) in models(&device) {
        let alpha = 0.6;
        let beams = BeamSearchConfig::new(4)
            .with_n_best(4)
            .with_length_penalty(alpha)
            .with_max_len(10)
            .decode(&model, &src)
            .expect("beam");
        for (s, hyps) in beams.iter().enumerate() {
            assert!(!hyps.is_empty() && hyps.len() <= 4, "{name}: {hyps:?}");
            for pair in hyps.windows(2) {
                assert!(
                    pair[0].score >= pair[1].score,
                    "{name}: not sorted: {hyps:?}"
                );
            }
            for hyp in hyps {
                let lp = teacher_forced_log_prob(&model, &rows[s], hyp, &device);
                assert!((lp - hyp.log_prob).abs() < 1e-4, "{name}: {lp} vs {hyp:?}");
                let expected = hyp.log_prob / length_penalty(hyp.steps(), alpha);
                assert!((hyp.score - expected).abs() < 1e-9, "{name}: {hyp:?}");
                // One attention row per step, over the real source positions, summing to 1.
                if !hyp.attention.is_empty() {
                    assert_eq!(hyp.attention.len(), hyp.steps(), "{name}");
                    for row in &hyp.attention {
                        assert_eq!(row.len(), rows[s].len());
                        let sum: f32 = row.iter().sum();
                        assert!((sum - 1.0).abs() < 1e-5, "{name}: {row:?}");
                    }
                }
            }
        }
        // Greedy's score is its teacher-forced log-probability too.
        for (s, hyp) in greedy(&model, &src, 10).expect("greedy").iter().enumerate() {
            let lp = teacher_forced_log_prob(&model, &rows[s], hyp, &device);
            assert!(
                (lp - hyp.log_prob).abs() < 1e-4,
                "{name}: greedy {lp} vs {hyp:?}"
            );
        }
    }
}

#[test]
fn decoding_does_not_depend_on_the_rest_of_the_batch() {
    let device = Device::flex();
    let rows = sources();
    let together_src = batch(&rows, &device);
    for (name, model) in models(&device) {
        let search = BeamSearchConfig::new(3).with_n_best(2).with_max_len(9);
        let together = search.decode(&model, &together_src).expect("beam");
        let greedy_together = greedy(&model, &together_src, 9).expect("greedy");
        for (s, row) in rows.iter().enumerate() {
            let alone_src = batch(std::slice::from_ref(row), &device);
            let alone = search.decode(&model, &alone_src).expect("beam");
            assert_eq!(alone[0].len(), together[s].len(), "{name}");
            for (a, t) in alone[0].iter().zip(&together[s]) {
                assert_eq!(a.tokens, t.tokens, "{name}: sentence {s}");
                assert!((a.score - t.score).abs() < 1e-5, "{name}: {a:?} vs {t:?}");
            }
            let g = greedy(&model, &alone_src, 9).expect("greedy");
            assert_eq!(
                g[0].tokens, greedy_together[s].tokens,
                "{name}: sentence {s}"
            );
        }
    }
}

#[test]
fn all_at_once_teacher_forcing_equals_step_by_step() {
    let device = Device::flex();
    let rows = sources();
    let src = batch(&rows, &device);
    let input = Tensor::<2, Int>::from_data(
        TensorData::new(
            vec![1i64, 3, 4, 5, 1, 6, 6, 7, 1, 8, 3, 4, 1, 5, 5, 5],
            [4, 4],
        ),
        &device,
    );
    for (name, model) in models(&device) {
        let all = model.forward(&src, input.clone()).expect("forward");
        // Scheduled sampling with ratio 0.999... runs step by step; ratio 1 takes the fast path.
        let (memory, mut state) = model.start(&src).expect("start");
        let mut steps = Vec::new();
        for t in 0..4 {
            let tokens = input.clone().slice([0..4, t..t + 1]).squeeze_dim::<1>(1);
            let step = model.decode_step(tokens, state, &memory).expect("step");
            steps.push(step.logits.unsqueeze_dim::<3>(1));
            state = step.state;
        }
        Tensor::cat(steps, 1).into_data().assert_approx_eq::<f32>(
            &all.logits.into_data(),
            burn::tensor::Tolerance::absolute(1e-5),
        );
        let _ = name;
    }
}

/// Telling the decoder each target's length (`forward_padded`, what training uses) skips the
/// padded steps' work but changes no logit at a real position, and so neither the masked loss
/// nor any gradient.
#[test]
fn forward_padded_equals_forward_at_real_positions_in_loss_and_gradients() {
    let device = Device::flex().autodiff();
    for kind in [RecurrentKind::Lstm, RecurrentKind::Gru] {
        let plain = model(
            DecoderAttentionKind::General,
            false,
            kind,
            BridgeKind::Concat,
            &device,
        );
        let source = batch(&sources(), &device);
        // Ragged targets: `<bos>` + gold as the input, gold + `<eos>` as the target.
        let gold = [
            vec![4, 5, 6, 3],
            vec![7],
            vec![3, 8, 4, 4, 5, 6],
            vec![6, 6],
        ];
        let inputs: Vec<Vec<usize>> = gold
            .iter()
            .map(|g| std::iter::once(BOS).chain(g.iter().copied()).collect())
            .collect();
        let targets: Vec<Vec<usize>> = gold
            .iter()
            .map(|g| g.iter().copied().chain(std::iter::once(EOS)).collect())
            .collect();
        let (input, target) = (batch(&inputs, &device), batch(&targets, &device));

        let full = plain.forward(&source, input.ids.clone()).expect("forward");
        let padded = plain
            .forward_padded(&source, &input)
            .expect("forward_padded");
        let time = input.ids.dims()[1];
        let a: Vec<f32> = full.logits.clone().into_data().iter::<f32>().collect();
        let b: Vec<f32> = padded.logits.clone().into_data().iter::<f32>().collect();
        let mut compared = 0;
        for (row, len) in inputs.iter().map(Vec::len).enumerate() {
            for t in 0..len {
                let at = (row * time + t) * TARGET_VOCAB;
                assert_eq!(
                    a[at..at + TARGET_VOCAB],
                    b[at..at + TARGET_VOCAB],
                    "{kind:?} {row} {t}"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, inputs.iter().map(Vec::len).sum::<usize>());

        let loss_full = plain.loss(full.logits, &target);
        let loss_padded = plain.loss(padded.logits, &target);
        assert_eq!(
            loss_full.clone().into_scalar::<f32>(),
            loss_padded.clone().into_scalar::<f32>()
        );
        let grads_full = loss_full.backward();
        let grads_padded = loss_padded.backward();
        // Through the decoder's recurrence (its embedding, via the input gradients of every
        // step) and out of it into the encoder (via the initial state).
        let weights = [
            ("output", plain.decoder.output.weight.val()),
            ("decoder embedding", plain.decoder.embedding.weight.val()),
            ("encoder embedding", plain.encoder.embedding.weight.val()),
        ];
        for (name, w) in weights {
            let g = |grads| -> Vec<f32> {
                w.grad(grads)
                    .expect("takes part")
                    .into_data()
                    .iter::<f32>()
                    .collect()
            };
            let (p, q) = (g(&grads_full), g(&grads_padded));
            let worst = p
                .iter()
                .zip(&q)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-6, "{kind:?} {name}: {worst}");
        }
    }
}

#[test]
fn the_loss_ignores_target_padding_and_smooths_like_pytorch() {
    let device = Device::flex();
    let plain = model(
        DecoderAttentionKind::General,
        false,
        RecurrentKind::Lstm,
        BridgeKind::Concat,
        &device,
    );
    // Two targets: [4, 2] and [5] (padded with 0).
    let target = batch(&[vec![4, EOS], vec![5]], &device);
    let logits = Tensor::<3>::from_data(
        TensorData::new(
            (0..2 * 2 * TARGET_VOCAB)
                .map(|i| ((i * 7) % 5) as f32 * 0.3)
                .collect::<Vec<_>>(),
            [2, 2, TARGET_VOCAB],
        ),
        &device,
    );
    let loss = plain.loss(logits.clone(), &target).into_scalar::<f32>();
    // Changing the logits at the padded position (row 1, step 1) changes nothing.
    let changed = logits.clone().slice_assign(
        [1..2, 1..2, 0..TARGET_VOCAB],
        Tensor::<3>::ones([1, 1, TARGET_VOCAB], &device) * 9.0,
    );
    assert_eq!(plain.loss(changed, &target).into_scalar::<f32>(), loss);
    // By hand: the mean over the three real positions.
    let lp: Vec<f32> = log_softmax(logits.clone(), 2)
        .into_data()
        .iter::<f32>()
        .collect();
    let at = |b: usize, t: usize, v: usize| f64::from(lp[(b * 2 + t) * TARGET_VOCAB + v]);
    let real = [(0, 0, 4), (0, 1, EOS), (1, 0, 5)];
    let nll: f64 = real.iter().map(|&(b, t, v)| -at(b, t, v)).sum::<f64>() / 3.0;
    assert!((f64::from(loss) - nll).abs() < 1e-5, "{loss} vs {nll}");
    let eps = 0.1;
    let mut smoothed = plain;
    smoothed.label_smoothing = eps;
    let smooth_loss = smoothed.loss(logits, &target).into_scalar::<f32>();
    let uniform: f64 = real
        .iter()
        .map(|&(b, t, _)| {
            -(0..TARGET_VOCAB).map(|v| at(b, t, v)).sum::<f64>() / TARGET_VOCAB as f64
        })
        .sum::<f64>()
        / 3.0;
    let expected = (1.0 - eps) * nll + eps * uniform;
    assert!(
        (f64::from(smooth_loss) - expected).abs() < 1e-5,
        "{smooth_loss} vs {expected}"
    );
}

#[test]
fn top_1_sampling_is_greedy_and_bad_settings_name_their_field() {
    let device = Device::flex();
    let src = batch(&sources(), &device);
    let model = model(
        DecoderAttentionKind::General,
        false,
        RecurrentKind::Lstm,
        BridgeKind::Concat,
        &device,
    );
    let g = greedy(&model, &src, 10).expect("greedy");
    let _serial = rng_lock();
    let s = SamplingConfig::new()
        .with_top_k(1)
        .with_max_len(10)
        .decode(&model, &src)
        .expect("sampling");
    for (g, s) in g.iter().zip(&s) {
        assert_eq!(g.tokens, s.tokens);
    }
    let error = SamplingConfig::new()
        .with_temperature(0.0)
        .decode(&model, &src)
        .expect_err("temperature 0")
        .to_string();
    assert!(error.contains("`temperature`"), "{error}");
    let error = BeamSearchConfig::new(2)
        .with_n_best(3)
        .decode(&model, &src)
        .expect_err("n_best > width")
        .to_string();
    assert!(error.contains("`n_best`"), "{error}");

    let encoder = RnnEncoderConfig::new(SOURCE_VOCAB, 8, 6);
    let error = Seq2SeqConfig::new(
        encoder.clone(),
        RnnDecoderConfig::new(TARGET_VOCAB, 8, 12, 6),
        BOS,
        EOS,
    )
    .init(&device)
    .expect_err("encoder_size 6, states 12")
    .to_string();
    assert!(
        error.contains("`decoder.encoder_size`") && error.contains("12"),
        "{error}"
    );
    let error = Seq2SeqConfig::new(
        encoder,
        RnnDecoderConfig::new(TARGET_VOCAB, 8, 16, 12),
        BOS,
        EOS,
    )
    .init(&device)
    .expect_err("concat bridge to 16")
    .to_string();
    assert!(
        error.contains("`bridge`") && error.contains("linear"),
        "{error}"
    );
}
