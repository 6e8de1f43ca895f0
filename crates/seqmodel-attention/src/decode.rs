//! Decoding any [`StepDecoder`] (the RNN [`crate::Seq2Seq`], the
//! [`crate::TransformerSeq2Seq`], the [`crate::EncoderDecoder`] holding either): greedy, beam
//! search (GNMT length penalty, n-best), and sampling (temperature, top-k). All run batched
//! over sentences, one decoder step at a time (the prefix is never re-run: the model carries
//! its state), and return tokens, scores and attention weights.

use burn::config::Config;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use seqmodel_data::PaddedBatch;

use crate::error::AttentionError;
use crate::step_decoder::{SelectRows, StepDecoder};

/// One decoded sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// The generated tokens, without `<bos>` and `<eos>`.
    pub tokens: Vec<usize>,
    /// Whether decoding ended with `<eos>` (otherwise the maximum length stopped it).
    pub finished: bool,
    /// Sum of the log-probabilities of the generated tokens, `<eos>` included when finished.
    pub log_prob: f64,
    /// The ranking score: `log_prob / length_penalty(steps)` (beam search), `log_prob`
    /// (greedy, sampling).
    pub score: f64,
    /// Attention weights per generated step (`<eos>` included), each over the source's real
    /// positions; empty without attention.
    pub attention: Vec<Vec<f32>>,
}

impl Hypothesis {
    /// Decoder steps taken: the tokens, plus `<eos>` when finished.
    pub fn steps(&self) -> usize {
        self.tokens.len() + usize::from(self.finished)
    }
}

/// GNMT's length penalty (Wu et al. 2016): `((5 + len) / 6)^α`; `α = 0` gives 1.
pub fn length_penalty(len: usize, alpha: f64) -> f64 {
    ((5.0 + len as f64) / 6.0).powf(alpha)
}

/// The memory and initial state of `source`, each row repeated `times` times in place
/// (rows `s * times .. (s + 1) * times` belong to sentence `s`).
#[allow(clippy::type_complexity)]
fn start_repeated<M: StepDecoder>(
    model: &M,
    source: &PaddedBatch,
    times: usize,
) -> crate::Result<(M::Memory, M::State)> {
    let (memory, state) = model.start(source)?;
    if times == 1 {
        return Ok((memory, state));
    }
    let batch = source.batch_size();
    let index: Vec<i64> = (0..batch * times).map(|r| (r / times) as i64).collect();
    let index = Tensor::<1, Int>::from_data(
        TensorData::new(index, [batch * times]),
        &source.ids.device(),
    );
    Ok((memory.select_rows(index.clone()), state.select_rows(index)))
}

/// Host copies of one step: log-probabilities `[rows * vocab]` and weights `[rows * k]`.
struct StepOnHost {
    log_probs: Vec<f32>,
    weights: Option<Vec<f32>>,
    vocab: usize,
    source_time: usize,
}

impl StepOnHost {
    fn new(logits: Tensor<2>, weights: Option<Tensor<2>>) -> Self {
        let [_, vocab] = logits.dims();
        let read = |t: Tensor<2>| -> Vec<f32> { t.into_data().iter::<f32>().collect() };
        let source_time = weights.as_ref().map_or(0, |w| w.dims()[1]);
        Self {
            log_probs: read(log_softmax(logits, 1)),
            weights: weights.map(read),
            vocab,
            source_time,
        }
    }

    fn row(&self, row: usize) -> &[f32] {
        &self.log_probs[row * self.vocab..(row + 1) * self.vocab]
    }

    /// The attention row of `row`, cut to the sentence's `len` real source positions.
    fn weights(&self, row: usize, len: usize) -> Option<Vec<f32>> {
        self.weights.as_ref().map(|w| {
            w[row * self.source_time..row * self.source_time + len.min(self.source_time)].to_vec()
        })
    }
}

fn tokens_tensor(tokens: &[usize], device: &burn::tensor::Device) -> Tensor<1, Int> {
    let ids: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
    Tensor::<1, Int>::from_data(TensorData::new(ids, [tokens.len()]), device)
}

fn check_max_len(max_len: usize, config: &'static str) -> crate::Result<()> {
    if max_len == 0 {
        return Err(AttentionError::Config {
            config,
            field: "max_len",
            message: "must be at least 1".into(),
        });
    }
    Ok(())
}

/// Greedy decoding: at each step the most probable token, until `<eos>` or `max_len` steps.
///
/// Returns one [`Hypothesis`] per sentence of `source`, in order.
pub fn greedy<M: StepDecoder>(
    model: &M,
    source: &PaddedBatch,
    max_len: usize,
) -> crate::Result<Vec<Hypothesis>> {
    check_max_len(max_len, "greedy")?;
    decode_each(model, source, max_len, |logits| Ok((logits, None)))
}

/// One hypothesis per sentence, one decoder step at a time, until `<eos>` or `max_len` steps.
/// `pick` turns a step's logits `[batch, vocab]` into the logits the chosen tokens are scored
/// by and, when it draws them, the tokens (`None`: the most probable, the first on ties).
fn decode_each<M: StepDecoder>(
    model: &M,
    source: &PaddedBatch,
    max_len: usize,
    mut pick: impl FnMut(Tensor<2>) -> crate::Result<(Tensor<2>, Option<Vec<usize>>)>,
) -> crate::Result<Vec<Hypothesis>> {
    let batch = source.batch_size();
    let lengths = source.lengths().as_slice().to_vec();
    let (memory, mut state) = start_repeated(model, source, 1)?;
    let device = source.ids.device();
    let mut hyps: Vec<Hypothesis> = (0..batch)
        .map(|_| Hypothesis {
            tokens: Vec::new(),
            finished: false,
            log_prob: 0.0,
            score: 0.0,
            attention: Vec::new(),
        })
        .collect();
    let (bos, eos) = (model.bos_id(), model.eos_id());
    let mut tokens = vec![bos; batch];
    for _ in 0..max_len {
        let step = model.decode_step(tokens_tensor(&tokens, &device), state, &memory)?;
        let (logits, drawn) = pick(step.logits)?;
        let host = StepOnHost::new(logits, step.weights);
        for (s, hyp) in hyps.iter_mut().enumerate() {
            if hyp.finished {
                continue;
            }
            let row = host.row(s);
            let token = match &drawn {
                Some(drawn) => drawn[s],
                None => {
                    row.iter()
                        .enumerate()
                        .fold((0, f32::NEG_INFINITY), |best, (v, &lp)| {
                            if lp > best.1 { (v, lp) } else { best }
                        })
                        .0
                }
            };
            hyp.log_prob += f64::from(row[token]);
            hyp.attention.extend(host.weights(s, lengths[s]));
            if token == eos {
                hyp.finished = true;
            } else {
                hyp.tokens.push(token);
            }
            tokens[s] = token;
        }
        if hyps.iter().all(|h| h.finished) {
            break;
        }
        state = step.state;
    }
    for hyp in &mut hyps {
        hyp.score = hyp.log_prob;
    }
    Ok(hyps)
}

/// Beam search settings.
#[derive(Config, Debug, PartialEq)]
pub struct BeamSearchConfig {
    /// Hypotheses kept per sentence at each step.
    pub width: usize,
    /// GNMT length penalty exponent `α` (0: none; 0.6–1 favour longer outputs).
    #[config(default = 0.0)]
    pub length_penalty: f64,
    /// Maximum decoder steps.
    #[config(default = 100)]
    pub max_len: usize,
    /// Hypotheses returned per sentence (at most `width`).
    #[config(default = 1)]
    pub n_best: usize,
}

/// A partial hypothesis during beam search.
#[derive(Debug, Clone)]
struct Beam {
    tokens: Vec<usize>,
    log_prob: f64,
    attention: Vec<Vec<f32>>,
    row: usize,
}

impl BeamSearchConfig {
    /// Checks the settings, naming the field.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field, message: String| AttentionError::Config {
            config: "BeamSearchConfig",
            field,
            message,
        };
        if self.width == 0 {
            return Err(bad("width", "must be at least 1".into()));
        }
        if self.n_best == 0 || self.n_best > self.width {
            return Err(bad(
                "n_best",
                format!(
                    "is {} but must be in 1..={} (the width)",
                    self.n_best, self.width
                ),
            ));
        }
        if self.length_penalty.is_nan() || self.length_penalty < 0.0 {
            return Err(bad(
                "length_penalty",
                format!("is {} but must be at least 0", self.length_penalty),
            ));
        }
        check_max_len(self.max_len, "BeamSearchConfig")
    }

    /// Whether a sentence is done: `n_best` hypotheses have finished and no live one can
    /// still outscore the `n_best`-th of them. A live hypothesis's score can at best become
    /// `log_prob / length_penalty(max_len)`: its log-probability only falls as it grows, and
    /// the penalty grows at most to that of `max_len` steps.
    fn finished(&self, finished: &[Hypothesis], live: &[Beam]) -> bool {
        if finished.len() < self.n_best {
            return live.is_empty();
        }
        let mut scores: Vec<f64> = finished.iter().map(|h| h.score).collect();
        scores.sort_by(|a, b| b.total_cmp(a));
        let bar = scores[self.n_best - 1];
        let best_penalty = length_penalty(self.max_len, self.length_penalty);
        live.iter().all(|beam| beam.log_prob / best_penalty <= bar)
    }

    /// Beam search over every sentence of `source` at once: per sentence the `n_best`
    /// hypotheses, best first by [`Hypothesis::score`].
    ///
    /// At each step every live hypothesis is extended by every token; the best `width`
    /// extensions that do not end in `<eos>` live on, and each `<eos>` extension ranked above
    /// the last of them finishes. A sentence is done when `n_best` hypotheses have finished
    /// and no live one can still beat them (or after `max_len` steps, when its live ones are
    /// returned unfinished).
    pub fn decode<M: StepDecoder>(
        &self,
        model: &M,
        source: &PaddedBatch,
    ) -> crate::Result<Vec<Vec<Hypothesis>>> {
        self.validate()?;
        let width = self.width;
        let batch = source.batch_size();
        let lengths = source.lengths().as_slice().to_vec();
        let (memory, mut state) = start_repeated(model, source, width)?;
        let device = source.ids.device();
        let (bos, eos) = (model.bos_id(), model.eos_id());
        let mut live: Vec<Vec<Beam>> = (0..batch)
            .map(|s| {
                vec![Beam {
                    tokens: Vec::new(),
                    log_prob: 0.0,
                    attention: Vec::new(),
                    row: s * width,
                }]
            })
            .collect();
        let mut done: Vec<Vec<Hypothesis>> = vec![Vec::new(); batch];
        let mut tokens = vec![bos; batch * width];
        for step_index in 0..self.max_len {
            let step = model.decode_step(tokens_tensor(&tokens, &device), state, &memory)?;
            let host = StepOnHost::new(step.logits, step.weights);
            // Which old row each new row continues; unused rows repeat row 0 of their sentence.
            let mut parents: Vec<usize> = (0..batch * width).map(|r| r - r % width).collect();
            for s in 0..batch {
                if live[s].is_empty() {
                    continue;
                }
                let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
                for (b, beam) in live[s].iter().enumerate() {
                    for (v, &lp) in host.row(beam.row).iter().enumerate() {
                        candidates.push((beam.log_prob + f64::from(lp), b, v));
                    }
                }
                // Best first; ties by beam, then token, so that the order is deterministic.
                candidates
                    .sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
                let mut next = Vec::with_capacity(width);
                for (log_prob, b, v) in candidates {
                    if next.len() == width {
                        break;
                    }
                    let parent = &live[s][b];
                    let mut attention = parent.attention.clone();
                    attention.extend(host.weights(parent.row, lengths[s]));
                    if v == eos {
                        done[s].push(Hypothesis {
                            tokens: parent.tokens.clone(),
                            finished: true,
                            log_prob,
                            score: log_prob
                                / length_penalty(parent.tokens.len() + 1, self.length_penalty),
                            attention,
                        });
                    } else {
                        let row = s * width + next.len();
                        parents[row] = parent.row;
                        tokens[row] = v;
                        let mut beam_tokens = parent.tokens.clone();
                        beam_tokens.push(v);
                        next.push(Beam {
                            tokens: beam_tokens,
                            log_prob,
                            attention,
                            row,
                        });
                    }
                }
                live[s] = if self.finished(&done[s], &next) {
                    Vec::new()
                } else {
                    next
                };
                if step_index + 1 == self.max_len {
                    for beam in live[s].drain(..) {
                        done[s].push(Hypothesis {
                            score: beam.log_prob
                                / length_penalty(beam.tokens.len(), self.length_penalty),
                            tokens: beam.tokens,
                            finished: false,
                            log_prob: beam.log_prob,
                            attention: beam.attention,
                        });
                    }
                }
            }
            if live.iter().all(Vec::is_empty) {
                break;
            }
            let parents: Vec<i64> = parents.iter().map(|&p| p as i64).collect();
            state = step.state.select_rows(Tensor::<1, Int>::from_data(
                TensorData::new(parents, [batch * width]),
                &device,
            ));
        }
        Ok(done
            .into_iter()
            .map(|mut hyps| {
                // Stable: among equal scores the one found first stays first.
                hyps.sort_by(|a, b| b.score.total_cmp(&a.score));
                hyps.truncate(self.n_best);
                hyps
            })
            .collect())
    }
}

/// Sampling settings: each step draws the next token from the softmax of `logits /
/// temperature`, restricted to the `top_k` most probable tokens (0: all).
#[derive(Config, Debug, PartialEq)]
pub struct SamplingConfig {
    /// Softmax temperature (> 0; below 1 sharpens, above 1 flattens).
    #[config(default = 1.0)]
    pub temperature: f64,
    /// Keep only the `top_k` most probable tokens (0: all).
    #[config(default = 0)]
    pub top_k: usize,
    /// Maximum decoder steps.
    #[config(default = 100)]
    pub max_len: usize,
}

impl SamplingConfig {
    /// Samples one sequence per sentence, drawing from the device's RNG (seed it with
    /// `Device::seed` for repeatable draws). [`Hypothesis::log_prob`] is the log-probability
    /// of the drawn tokens under the tempered, top-k restricted distribution.
    pub fn decode<M: StepDecoder>(
        &self,
        model: &M,
        source: &PaddedBatch,
    ) -> crate::Result<Vec<Hypothesis>> {
        if self.temperature.is_nan() || self.temperature <= 0.0 {
            return Err(AttentionError::Config {
                config: "SamplingConfig",
                field: "temperature",
                message: format!("is {} but must be above 0", self.temperature),
            });
        }
        check_max_len(self.max_len, "SamplingConfig")?;
        decode_each(model, source, self.max_len, |logits| {
            let [batch, vocab] = logits.dims();
            let mut logits = logits / self.temperature;
            if self.top_k > 0 && self.top_k < vocab {
                let kth = logits
                    .clone()
                    .sort_descending(1)
                    .slice([0..batch, self.top_k - 1..self.top_k]);
                let below = logits.clone().lower(kth.expand([batch, vocab]));
                logits = logits.mask_fill(below, f32::NEG_INFINITY);
            }
            // Gumbel-max: argmax(log p + G) is a draw from p.
            let uniform = Tensor::<2>::random(
                [batch, vocab],
                Distribution::Uniform(1e-10, 1.0),
                &logits.device(),
            );
            let gumbel = -(-uniform.log()).log();
            let drawn = (log_softmax(logits.clone(), 1) + gumbel).argmax(1);
            let drawn = drawn
                .into_data()
                .iter::<i64>()
                .map(|t| t as usize)
                .collect();
            Ok((logits, Some(drawn)))
        })
    }
}
