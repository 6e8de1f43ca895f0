//! `cargo xtask seq2seq-lengths`: the seed's claim that attention keeps long inputs from
//! fading, measured on string reversal. Three encoder–decoders — an RNN without attention
//! (the source reaches the decoder only through the final states), the same RNN with Luong
//! attention, and a Transformer — train on random digit strings of every length `1..=max_len`
//! mixed, then greedily reverse held-out strings of each length; exact match against input
//! length goes to `lengths.json` and `lengths.png` in the output folder.
//!
//! Everything is seeded (`--seed`): the strings come from a SplitMix64 stream, the weights from
//! the device's RNG. The defaults run in a few minutes on two cores.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use seqmodel_attention::{
    BridgeKind, DecoderAttentionKind, EncoderDecoder, EncoderDecoderConfig, RnnDecoderConfig,
    RnnEncoderConfig, Seq2SeqConfig, TransformerSeq2SeqConfig, greedy,
};
use seqmodel_data::{PaddedBatch, PaddingConfig};
use serde::Serialize;

const PAD: usize = 0;
const BOS: usize = 1;
const EOS: usize = 2;
/// `<pad>`, `<bos>`, `<eos>`, digits 0–9 as 3..13.
const VOCAB: usize = 13;
/// Lengths per bucket of the summary table.
const BUCKET: usize = 10;
/// Strings decoded at once.
const EVAL_BATCH: usize = 200;

/// `cargo xtask seq2seq-lengths` options.
#[derive(Debug, clap::Args)]
pub struct Seq2SeqLengthsArgs {
    /// Longest input string; training mixes every length from 1 to this.
    #[arg(long, default_value_t = 60)]
    pub max_len: usize,
    /// Training steps (batches) per model.
    #[arg(long, default_value_t = 800)]
    pub steps: usize,
    /// Strings per training batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Held-out strings per input length.
    #[arg(long, default_value_t = 20)]
    pub test_per_length: usize,
    /// Seed of the strings and the weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder (lengths.json, lengths.png).
    #[arg(long, default_value = "runs/seq2seq-lengths")]
    pub out: PathBuf,
}

/// One model's result.
#[derive(Debug, Serialize)]
struct ModelResult {
    name: &'static str,
    parameters: usize,
    train_seconds: f64,
    /// Exact match (fraction of held-out strings reversed exactly) for input lengths
    /// `1..=max_len`, index `length - 1`.
    exact_match_by_length: Vec<f64>,
    /// Exact match per bucket of [`BUCKET`] lengths: `(first length, last length, value)`.
    exact_match_by_bucket: Vec<(usize, usize, f64)>,
}

/// What `lengths.json` holds.
#[derive(Debug, Serialize)]
struct Report {
    command: String,
    max_len: usize,
    steps: usize,
    batch_size: usize,
    test_per_length: usize,
    seed: u64,
    models: Vec<ModelResult>,
}

/// SplitMix64: the random digit strings.
struct Strings(u64);

impl Strings {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn string(&mut self, len: usize) -> Vec<usize> {
        (0..len).map(|_| 3 + (self.next() % 10) as usize).collect()
    }
}

fn pad(rows: &[Vec<usize>], device: &Device) -> Result<PaddedBatch, String> {
    Ok(PaddingConfig::default()
        .with_pad_id(PAD)
        .pad(rows)
        .map_err(|e| e.to_string())?
        .to_batch(device))
}

/// The three models, at sizes that train in a few minutes on two cores.
fn configs() -> Vec<(&'static str, EncoderDecoderConfig)> {
    let encoder = RnnEncoderConfig::new(VOCAB, 32, 64);
    let decoder = |attention| {
        RnnDecoderConfig::new(VOCAB, 32, 128, encoder.output_size()).with_attention(attention)
    };
    let rnn = |attention| {
        EncoderDecoderConfig::Rnn(
            Seq2SeqConfig::new(encoder.clone(), decoder(attention), BOS, EOS)
                .with_bridge(BridgeKind::Concat),
        )
    };
    vec![
        ("RNN without attention", rnn(DecoderAttentionKind::None)),
        ("RNN with attention", rnn(DecoderAttentionKind::General)),
        (
            "Transformer",
            EncoderDecoderConfig::Transformer(
                TransformerSeq2SeqConfig::new(VOCAB, VOCAB, BOS, EOS)
                    .with_d_model(64)
                    .with_num_heads(4)
                    .with_d_ff(128)
                    .with_dropout(0.0),
            ),
        ),
    ]
}

/// Trains `config`'s model for `args.steps` batches of mixed lengths; returns it and the
/// seconds it took.
fn train(
    config: &EncoderDecoderConfig,
    args: &Seq2SeqLengthsArgs,
) -> Result<(EncoderDecoder, f64), String> {
    let device = Device::flex().autodiff();
    device.seed(args.seed);
    let mut model = config.init(&device).map_err(|e| e.to_string())?;
    let mut optim = AdamConfig::new().init();
    let mut strings = Strings(args.seed.wrapping_add(1));
    let transformer = matches!(config, EncoderDecoderConfig::Transformer(_));
    let started = Instant::now();
    for step in 0..args.steps {
        let batch: Vec<Vec<usize>> = (0..args.batch_size)
            .map(|_| {
                let len = 1 + (strings.next() % args.max_len as u64) as usize;
                strings.string(len)
            })
            .collect();
        let inputs: Vec<Vec<usize>> = batch
            .iter()
            .map(|s| {
                std::iter::once(BOS)
                    .chain(s.iter().rev().copied())
                    .collect()
            })
            .collect();
        let targets: Vec<Vec<usize>> = batch
            .iter()
            .map(|s| {
                s.iter()
                    .rev()
                    .copied()
                    .chain(std::iter::once(EOS))
                    .collect()
            })
            .collect();
        let source = pad(&batch, &device)?;
        let output = model
            .forward(&source, pad(&inputs, &device)?.ids)
            .map_err(|e| e.to_string())?;
        let loss = model.loss(output.logits, &pad(&targets, &device)?);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        // The RNNs train at a constant rate (as in the reversal test); the Transformer drops
        // to a quarter after the first 40 % of the steps.
        let lr = match (transformer, step * 10 < args.steps * 4) {
            (false, _) => 3e-3,
            (true, true) => 2e-3,
            (true, false) => 5e-4,
        };
        model = optim.step(lr, model, grads);
    }
    Ok((model, started.elapsed().as_secs_f64()))
}

/// Exact match of greedy decoding per input length `1..=max_len`.
fn evaluate(model: &EncoderDecoder, args: &Seq2SeqLengthsArgs) -> Result<Vec<f64>, String> {
    let device = Device::flex();
    let model = model.valid();
    // Held-out strings from a stream of their own.
    let mut strings = Strings(args.seed.wrapping_add(0x5EED));
    let mut by_length = Vec::with_capacity(args.max_len);
    for len in 1..=args.max_len {
        let tests: Vec<Vec<usize>> = (0..args.test_per_length)
            .map(|_| strings.string(len))
            .collect();
        let mut right = 0usize;
        for chunk in tests.chunks(EVAL_BATCH) {
            let source = pad(chunk, &device)?;
            let decoded = greedy(&model, &source, len + 5).map_err(|e| e.to_string())?;
            right += chunk
                .iter()
                .zip(&decoded)
                .filter(|(s, h)| h.finished && s.iter().rev().eq(h.tokens.iter()))
                .count();
        }
        by_length.push(right as f64 / args.test_per_length.max(1) as f64);
    }
    Ok(by_length)
}

fn buckets(by_length: &[f64]) -> Vec<(usize, usize, f64)> {
    by_length
        .chunks(BUCKET)
        .enumerate()
        .map(|(i, chunk)| {
            let first = i * BUCKET + 1;
            let mean = chunk.iter().sum::<f64>() / chunk.len() as f64;
            (first, first + chunk.len() - 1, mean)
        })
        .collect()
}

/// Trains and evaluates the three models, prints a table and writes `lengths.json` and
/// `lengths.png` into `args.out`.
pub fn run(args: &Seq2SeqLengthsArgs) -> Result<(), String> {
    for (name, value) in [
        ("--max-len", args.max_len),
        ("--steps", args.steps),
        ("--batch-size", args.batch_size),
        ("--test-per-length", args.test_per_length),
    ] {
        if value == 0 {
            return Err(format!("{name} is 0; give at least 1"));
        }
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("{}: cannot create the folder: {e}", args.out.display()))?;
    let mut models = Vec::new();
    for (name, config) in configs() {
        let (model, train_seconds) = train(&config, args)?;
        let by_length = evaluate(&model, args)?;
        let result = ModelResult {
            name,
            parameters: model.num_params(),
            train_seconds,
            exact_match_by_bucket: buckets(&by_length),
            exact_match_by_length: by_length,
        };
        let row: Vec<String> = result
            .exact_match_by_bucket
            .iter()
            .map(|(a, b, v)| format!("{a}-{b}: {:.1}", 100.0 * v))
            .collect();
        println!(
            "{name} ({} parameters, {:.0} s): exact match % {}",
            result.parameters,
            train_seconds,
            row.join("  ")
        );
        models.push(result);
    }
    let report = Report {
        command: format!(
            "cargo xtask seq2seq-lengths --max-len {} --steps {} --batch-size {} \
             --test-per-length {} --seed {}",
            args.max_len, args.steps, args.batch_size, args.test_per_length, args.seed
        ),
        max_len: args.max_len,
        steps: args.steps,
        batch_size: args.batch_size,
        test_per_length: args.test_per_length,
        seed: args.seed,
        models,
    };
    let json_path = args.out.join("lengths.json");
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, json + "\n")
        .map_err(|e| format!("{}: cannot write: {e}", json_path.display()))?;
    let percent: Vec<Vec<f64>> = report
        .models
        .iter()
        .map(|m| m.exact_match_by_length.iter().map(|v| 100.0 * v).collect())
        .collect();
    let lines: Vec<(&str, &[f64])> = report
        .models
        .iter()
        .zip(&percent)
        .map(|(m, p)| (m.name, p.as_slice()))
        .collect();
    let png_path = args.out.join("lengths.png");
    seqmodel_train::plots::plot_lines(
        &lines,
        1,
        &format!("Reversal, trained on lengths 1-{} mixed", args.max_len),
        ("input length", "exact match (%)"),
        &png_path,
    )
    .map_err(|e| e.to_string())?;
    println!("wrote {} and {}", json_path.display(), png_path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_average_ten_lengths_and_keep_the_rest() {
        let by_length: Vec<f64> = (0..23).map(|i| if i < 10 { 1.0 } else { 0.5 }).collect();
        let b = buckets(&by_length);
        assert_eq!(b.len(), 3);
        assert_eq!(b[0], (1, 10, 1.0));
        assert_eq!(b[1], (11, 20, 0.5));
        assert_eq!((b[2].0, b[2].1), (21, 23));
    }
}
