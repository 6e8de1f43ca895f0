//! `cargo xtask bench-data`: data-pipeline throughput on rt-polarity (tokenise + encode + pad +
//! tensors, in sentences/s), compared with a training step of an LSTM classifier of the same
//! batch shape (embedding → LSTM → linear, forward + backward, autodiff on the chosen backend).
//!
//! The step is measured twice: with seqmodel-rnn's `Lstm` (given the batch's lengths; the
//! reference for the ratio) and with Burn's built-in `burn::nn::Lstm`. It is forward + loss +
//! backward without an optimiser update, so the ratio (batch preparation / step) errs on the
//! high side.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::data::dataloader::batcher::Batcher;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{EmbeddingConfig, LinearConfig, LstmConfig};
use burn::tensor::Device;
use seqmodel_data::bundled::DataDir;
use seqmodel_data::{
    PaddingConfig, TextClassItem, TextClassificationBatch, TextClassificationBatcher, VocabConfig,
    WhitespaceTokenizer,
};
use seqmodel_train::device::BackendName;
use serde::Serialize;

/// Arguments of `cargo xtask bench-data`.
#[derive(clap::Args)]
pub struct BenchDataArgs {
    /// Timed passes over the whole data set (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Sentences per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Timed LSTM training steps (after 3 warm-up steps).
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Embedding and hidden size of the LSTM classifier.
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    /// Backend (flex, ndarray, wgpu).
    #[arg(long, default_value = "flex")]
    pub backend: BackendName,
    /// The data folder (default: found from the current directory or $SEQMODEL_DATA).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    dataset: &'static str,
    sentences: usize,
    batch_size: usize,
    runs: usize,
    backend: String,
    vocab_size: usize,
    /// Tokenise + encode + pad on the host, sentences/s (median over runs).
    host_sentences_per_s: f64,
    /// Host work + moving ids, mask and labels onto the device (`Batcher::batch`), sentences/s.
    batcher_sentences_per_s: f64,
    /// Median time to prepare one batch with `Batcher::batch`, ms.
    batch_prep_ms: f64,
    /// Baseline: median forward + loss + backward of the LSTM classifier (seqmodel-rnn), ms.
    lstm_step_ms: f64,
    /// The same step with Burn's built-in `burn::nn::Lstm`, ms.
    burn_lstm_step_ms: f64,
    lstm_steps: usize,
    lstm_baseline: &'static str,
    hidden: usize,
    /// batch_prep_ms / lstm_step_ms.
    prep_over_step: f64,
    /// batch_prep_ms / burn_lstm_step_ms.
    prep_over_burn_step: f64,
    /// Whether batch preparation stays under 5 % of a step.
    under_5_percent: bool,
}

/// [`xtask::stats::median`] of timings that `--runs`/`--steps` >= 1 guarantees exist.
fn median(values: &[f64], what: &str) -> Result<f64, String> {
    xtask::stats::median(values).ok_or_else(|| format!("no {what} were timed"))
}

/// Runs the benchmark and prints a summary (and JSON if asked).
pub fn run(args: &BenchDataArgs) -> Result<(), String> {
    if args.runs == 0 || args.batch_size == 0 || args.steps == 0 {
        return Err("--runs, --batch-size and --steps must be at least 1".into());
    }
    let backend = args.backend;
    let device = backend.device().map_err(|e| e.to_string())?;
    let data_dir = match &args.data {
        Some(path) => DataDir::new(path),
        None => DataDir::locate().map_err(|e| e.to_string())?,
    };
    let data = data_dir.rt_polarity().map_err(|e| e.to_string())?;
    let items: Vec<TextClassItem> = data.items().to_vec();
    let tokenizer = Arc::new(WhitespaceTokenizer::default());
    let vocab = Arc::new(
        data.build_vocab(tokenizer.as_ref(), &VocabConfig::default())
            .map_err(|e| e.to_string())?,
    );
    let batcher =
        TextClassificationBatcher::new(tokenizer.clone(), vocab.clone(), PaddingConfig::default())
            .map_err(|e| e.to_string())?;
    println!(
        "rt-polarity: {} sentences, vocabulary {}, batch {}, backend {}",
        items.len(),
        vocab.len(),
        args.batch_size,
        backend.as_str()
    );

    // 1. Host only: tokenise + encode + pad.
    let mut host_rates = Vec::with_capacity(args.runs);
    let mut checksum = 0usize;
    for _ in 0..args.runs {
        let start = Instant::now();
        for chunk in items.chunks(args.batch_size) {
            let (padded, labels) = batcher.encode(chunk);
            checksum = checksum.wrapping_add(padded.ids.len() + labels.len());
        }
        host_rates.push(items.len() as f64 / start.elapsed().as_secs_f64());
    }
    // 2. The whole Batcher::batch: host work + tensors on the device.
    let mut batch_rates = Vec::with_capacity(args.runs);
    let mut batch_times = Vec::new();
    for _ in 0..args.runs {
        let start = Instant::now();
        for chunk in items.chunks(args.batch_size) {
            let t = Instant::now();
            let batch = batcher.batch(chunk.to_vec(), &device);
            checksum = checksum.wrapping_add(batch.tokens.lengths().len());
            batch_times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        batch_rates.push(items.len() as f64 / start.elapsed().as_secs_f64());
    }
    let host = median(&host_rates, "host passes")?;
    let batched = median(&batch_rates, "batcher passes")?;
    let prep_ms = median(&batch_times, "batches")?;
    println!(
        "tokenise+encode+pad (host):   {host:>12.0} sentences/s (median of {})",
        args.runs
    );
    println!(
        "Batcher::batch (to device):   {batched:>12.0} sentences/s; {prep_ms:.3} ms per batch"
    );

    // 3. Baselines: one training step of embedding → LSTM → linear on batches of the same shape.
    let step_ms = seqmodel_lstm_step_ms(args, &device, &batcher, &items, vocab.len())?;
    let burn_step_ms = burn_lstm_step_ms(args, &device, &batcher, &items, vocab.len())?;
    let ratio = prep_ms / step_ms;
    println!(
        "LSTM step, seqmodel-rnn (fwd+bwd, hidden {}): {step_ms:.3} ms; batch prep / step = {:.2} %",
        args.hidden,
        ratio * 100.0
    );
    println!(
        "LSTM step, burn::nn::Lstm (fwd+bwd, hidden {}): {burn_step_ms:.3} ms; batch prep / step = {:.2} %",
        args.hidden,
        prep_ms / burn_step_ms * 100.0
    );
    if checksum == 0 {
        return Err("no batch was produced".into());
    }
    let report = Report {
        dataset: "rt-polarity",
        sentences: items.len(),
        batch_size: args.batch_size,
        runs: args.runs,
        backend: backend.as_str().to_string(),
        vocab_size: vocab.len(),
        host_sentences_per_s: host,
        batcher_sentences_per_s: batched,
        batch_prep_ms: prep_ms,
        lstm_step_ms: step_ms,
        burn_lstm_step_ms: burn_step_ms,
        lstm_steps: args.steps,
        lstm_baseline: "seqmodel_rnn::Lstm with the batch lengths (embedding -> LSTM -> linear; forward + cross-entropy + backward, no optimiser update)",
        hidden: args.hidden,
        prep_over_step: ratio,
        prep_over_burn_step: prep_ms / burn_step_ms,
        under_5_percent: ratio < 0.05,
    };
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Median wall time (ms) of `step` over `args.steps` batches spread across the data set, after
/// 3 warm-up steps. The batch is prepared outside the timed region.
fn time_steps(
    args: &BenchDataArgs,
    device: &Device,
    batcher: &TextClassificationBatcher,
    items: &[TextClassItem],
    mut step: impl FnMut(TextClassificationBatch) -> Result<f32, String>,
) -> Result<f64, String> {
    let batches: Vec<&[TextClassItem]> = items.chunks(args.batch_size).collect();
    let stride = (batches.len() / (args.steps + 3)).max(1);
    let mut times = Vec::with_capacity(args.steps);
    for k in 0..args.steps + 3 {
        let chunk = batches[(k * stride) % batches.len()];
        let batch = batcher.batch(chunk.to_vec(), device);
        let start = Instant::now();
        let loss = step(batch)?;
        if !loss.is_finite() {
            return Err(format!("LSTM loss is not finite: {loss}"));
        }
        if k >= 3 {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    median(&times, "training steps")
}

/// One training step of embedding → seqmodel-rnn LSTM (with the batch's lengths) → linear:
/// forward, cross-entropy, backward. Returns the median step time in ms.
fn seqmodel_lstm_step_ms(
    args: &BenchDataArgs,
    device: &Device,
    batcher: &TextClassificationBatcher,
    items: &[TextClassItem],
    vocab_size: usize,
) -> Result<f64, String> {
    let device = device.clone().autodiff();
    let embedding = EmbeddingConfig::new(vocab_size, args.hidden).init(&device);
    let lstm = seqmodel_rnn::LstmConfig::new(args.hidden, args.hidden)
        .init(&device)
        .map_err(|e| e.to_string())?;
    let linear = LinearConfig::new(args.hidden, 2).init(&device);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    time_steps(args, &device, batcher, items, |batch| {
        let embedded = embedding.forward(batch.tokens.ids.clone());
        let out = lstm
            .forward(embedded, Some(batch.tokens.lengths()), None)
            .map_err(|e| e.to_string())?;
        let [_, b, h] = out.state.h.dims();
        let logits = linear.forward(out.state.h.reshape([b, h]));
        let loss = loss_fn.forward(logits, batch.labels);
        let grads = loss.backward();
        drop(grads);
        Ok(loss.into_scalar())
    })
}

/// The same step with Burn's built-in `burn::nn::Lstm` (no lengths: it runs over the padding).
fn burn_lstm_step_ms(
    args: &BenchDataArgs,
    device: &Device,
    batcher: &TextClassificationBatcher,
    items: &[TextClassItem],
    vocab_size: usize,
) -> Result<f64, String> {
    let device = device.clone().autodiff();
    let embedding = EmbeddingConfig::new(vocab_size, args.hidden).init(&device);
    let lstm = LstmConfig::new(args.hidden, args.hidden, true).init(&device);
    let linear = LinearConfig::new(args.hidden, 2).init(&device);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    time_steps(args, &device, batcher, items, |batch| {
        let embedded = embedding.forward(batch.tokens.ids);
        let (_, state) = lstm.forward(embedded, None);
        let logits = linear.forward(state.hidden);
        let loss = loss_fn.forward(logits, batch.labels);
        let grads = loss.backward();
        drop(grads);
        Ok(loss.into_scalar())
    })
}
