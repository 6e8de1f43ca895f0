//! The layers the every-layer table and the sweep time, each built as seqmodel's layer and,
//! where Burn has one, as Burn's built-in, ready to run one forward pass or one training step.

use burn::tensor::{Device, Distribution, Tensor};
use seqmodel_data::SequenceLengths;

use super::timing::Run;

/// A layer kind (float32, batch-first `[batch, time, width] → [batch, time, out]`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Layer {
    /// Elman RNN, tanh (`burn::nn::Rnn`).
    Rnn,
    /// LSTM (`burn::nn::Lstm`).
    Lstm,
    /// GRU (`burn::nn::Gru`).
    Gru,
    /// Two stacked bidirectional LSTM layers (two `burn::nn::BiLstm`s); output `2 × width`.
    Bilstm,
    /// Quasi-RNN, fo-pooling, window 2 (no built-in).
    Qrnn,
    /// Temporal CNN: 4 causal levels, kernel 3, weight norm (no built-in).
    Tcn,
    /// Additive (Bahdanau) self-attention, score width = `width` (no built-in).
    Additive,
    /// Multi-head self-attention, 4 heads (`burn::nn::attention::MultiHeadAttention`).
    Mha,
    /// One pre-norm Transformer encoder layer, 4 heads, feed-forward `4 × width`:
    /// seqmodel's `SelfAttentionEncoder` (sinusoidal positions, padding mask, final norm
    /// included) against one `burn::nn::transformer::TransformerEncoder` layer.
    Transformer,
}

impl Layer {
    /// Every layer, in the order of the table.
    pub const ALL: [Layer; 9] = [
        Layer::Rnn,
        Layer::Lstm,
        Layer::Gru,
        Layer::Bilstm,
        Layer::Qrnn,
        Layer::Tcn,
        Layer::Additive,
        Layer::Mha,
        Layer::Transformer,
    ];

    /// The name in the table and the JSON rows.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Rnn => "rnn",
            Layer::Lstm => "lstm",
            Layer::Gru => "gru",
            Layer::Bilstm => "bilstm-2layer",
            Layer::Qrnn => "qrnn",
            Layer::Tcn => "tcn",
            Layer::Additive => "additive-attn",
            Layer::Mha => "mha",
            Layer::Transformer => "transformer-layer",
        }
    }

    /// Whether Burn has a built-in layer to compare with.
    pub fn has_builtin(self) -> bool {
        !matches!(self, Layer::Qrnn | Layer::Tcn | Layer::Additive)
    }

    /// Bytes of the largest intermediate tensor a forward pass holds beyond the inputs and
    /// outputs: the attention layers' `[batch, time, time, …]` scores. The sweep skips a
    /// point whose tensor would not fit its memory cap.
    pub fn score_bytes(self, shape: Shape) -> f64 {
        let (b, t, w) = (shape.batch as f64, shape.time as f64, shape.width as f64);
        4.0 * match self {
            // [batch, q, k, hidden] before the score projection.
            Layer::Additive => b * t * t * w,
            // [batch, heads, q, k] weights.
            Layer::Mha | Layer::Transformer => b * HEADS as f64 * t * t,
            _ => b * t * w,
        }
    }
}

/// Attention heads of the multi-head and Transformer layers.
pub const HEADS: usize = 4;
/// The Transformer layer's feed-forward width, in multiples of `width`.
pub const FF_FACTOR: usize = 4;

/// What a row runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Mode {
    /// Inference: one forward pass.
    Forward,
    /// Training step: forward on the autodiff device, then backward from the sum of the
    /// outputs (no optimiser step).
    Train,
}

impl Mode {
    /// Both modes, in the order of the table.
    pub const ALL: [Mode; 2] = [Mode::Forward, Mode::Train];

    /// The name in the table and the JSON rows.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Forward => "forward",
            Mode::Train => "train",
        }
    }
}

/// The input shape of a row: `[batch, time, width]`; recurrent layers have `width` hidden
/// units, attention layers model width `width`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
pub struct Shape {
    /// Sequences per batch.
    pub batch: usize,
    /// Steps per sequence.
    pub time: usize,
    /// Input features and hidden width.
    pub width: usize,
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.batch, self.time, self.width)
    }
}

/// The device a mode runs on: the autodiff one for training steps.
fn mode_device(device: &Device, mode: Mode) -> Device {
    match mode {
        Mode::Forward => device.clone(),
        Mode::Train => device.clone().autodiff(),
    }
}

/// Ends a run: backward for a training step, then the device synchronised (so that the clock
/// read after it covers the device's work).
fn finish(output: Tensor<3>, mode: Mode, device: &Device) -> Result<(), String> {
    if mode == Mode::Train {
        let _grads = output.sum().backward();
    }
    device.sync().map_err(|e| format!("{e:?}"))
}

/// A random input `[batch, time, width]` on `device`.
fn input(shape: Shape, device: &Device) -> Tensor<3> {
    Tensor::<3>::random(
        [shape.batch, shape.time, shape.width],
        Distribution::Default,
        device,
    )
}

/// seqmodel's `layer` at `shape`, running one `mode` pass per call (recurrent layers with
/// `Execution::Auto`: the fused CPU kernels on flex).
pub fn seqmodel_run(
    layer: Layer,
    mode: Mode,
    shape: Shape,
    device: &Device,
) -> Result<Run, String> {
    let rnn_err = |e: seqmodel_rnn::Error| e.to_string();
    let attn_err = |e: seqmodel_attention::AttentionError| e.to_string();
    let device = mode_device(device, mode);
    let x = input(shape, &device);
    let w = shape.width;
    Ok(match layer {
        Layer::Rnn | Layer::Lstm | Layer::Gru | Layer::Bilstm => {
            let recurrent = RecurrentLayer::new(layer, w, &device)?;
            Box::new(move || finish(recurrent.forward(x.clone())?, mode, &device))
        }
        Layer::Qrnn => {
            let qrnn = seqmodel_rnn::QrnnConfig::new(w, w)
                .with_window(2)
                .init(&device)
                .map_err(rnn_err)?;
            Box::new(move || {
                let out = qrnn.forward(x.clone(), None, None).map_err(rnn_err)?;
                finish(out.output, mode, &device)
            })
        }
        Layer::Tcn => {
            let tcn = seqmodel_rnn::TcnConfig::new(w, w)
                .init(&device)
                .map_err(rnn_err)?;
            Box::new(move || {
                finish(
                    tcn.forward(x.clone(), None).map_err(rnn_err)?,
                    mode,
                    &device,
                )
            })
        }
        Layer::Additive => {
            use seqmodel_attention::Attention;
            let attention = seqmodel_attention::AdditiveAttentionConfig::new(w, w, w)
                .init(&device)
                .map_err(attn_err)?;
            Box::new(move || {
                let out = attention
                    .attend(x.clone(), x.clone(), x.clone(), None)
                    .map_err(attn_err)?;
                finish(out.context, mode, &device)
            })
        }
        Layer::Mha => {
            let attention = seqmodel_attention::MultiHeadAttentionConfig::new(w, HEADS)
                .init(&device)
                .map_err(attn_err)?;
            Box::new(move || {
                let out = attention
                    .forward(x.clone(), x.clone(), x.clone(), None, None)
                    .map_err(attn_err)?;
                finish(out.context, mode, &device)
            })
        }
        Layer::Transformer => {
            let encoder = seqmodel_attention::SelfAttentionEncoderConfig::new(w)
                .with_num_heads(HEADS)
                .with_num_layers(1)
                .with_d_ff(FF_FACTOR * w)
                .with_dropout(0.0)
                .with_norm_first(true)
                .init(&device)
                .map_err(attn_err)?;
            let lengths = SequenceLengths::right(vec![shape.time; shape.batch]);
            Box::new(move || {
                let out = encoder.forward(x.clone(), &lengths).map_err(attn_err)?;
                finish(out, mode, &device)
            })
        }
    })
}

/// seqmodel's recurrent layers behind one call.
enum RecurrentLayer {
    Lstm(seqmodel_rnn::Lstm),
    Gru(seqmodel_rnn::Gru),
    Rnn(seqmodel_rnn::Rnn),
}

impl RecurrentLayer {
    fn new(layer: Layer, width: usize, device: &Device) -> Result<Self, String> {
        let err = |e: seqmodel_rnn::Error| e.to_string();
        Ok(match layer {
            Layer::Lstm => Self::Lstm(
                seqmodel_rnn::LstmConfig::new(width, width)
                    .init(device)
                    .map_err(err)?,
            ),
            Layer::Bilstm => Self::Lstm(
                seqmodel_rnn::LstmConfig::new(width, width)
                    .with_num_layers(2)
                    .with_bidirectional(true)
                    .init(device)
                    .map_err(err)?,
            ),
            Layer::Gru => Self::Gru(
                seqmodel_rnn::GruConfig::new(width, width)
                    .init(device)
                    .map_err(err)?,
            ),
            _ => Self::Rnn(
                seqmodel_rnn::RnnConfig::new(width, width)
                    .init(device)
                    .map_err(err)?,
            ),
        })
    }

    /// `[batch, time, width]` → every step's output.
    fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>, String> {
        let err = |e: seqmodel_rnn::Error| e.to_string();
        Ok(match self {
            Self::Lstm(l) => l.forward(x, None, None).map_err(err)?.output,
            Self::Gru(l) => l.forward(x, None, None).map_err(err)?.output,
            Self::Rnn(l) => l.forward(x, None, None).map_err(err)?.output,
        })
    }
}

/// Burn's built-in `layer` at `shape` (`None` where Burn has none).
pub fn builtin_run(layer: Layer, mode: Mode, shape: Shape, device: &Device) -> Option<Run> {
    let device = mode_device(device, mode);
    let x = input(shape, &device);
    let w = shape.width;
    Some(match layer {
        Layer::Lstm => {
            let lstm = burn::nn::LstmConfig::new(w, w, true).init(&device);
            Box::new(move || finish(lstm.forward(x.clone(), None).0, mode, &device))
        }
        Layer::Bilstm => {
            let first = burn::nn::BiLstmConfig::new(w, w, true).init(&device);
            let second = burn::nn::BiLstmConfig::new(2 * w, w, true).init(&device);
            Box::new(move || {
                let (h, _) = first.forward(x.clone(), None);
                finish(second.forward(h, None).0, mode, &device)
            })
        }
        Layer::Gru => {
            let gru = burn::nn::GruConfig::new(w, w, true).init(&device);
            Box::new(move || finish(gru.forward(x.clone(), None), mode, &device))
        }
        Layer::Rnn => {
            let rnn = burn::nn::RnnConfig::new(w, w, true).init(&device);
            Box::new(move || finish(rnn.forward(x.clone(), None).0, mode, &device))
        }
        Layer::Mha => {
            use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig};
            let mha = MultiHeadAttentionConfig::new(w, HEADS)
                .with_dropout(0.0)
                .init(&device);
            Box::new(move || {
                finish(
                    mha.forward(MhaInput::self_attn(x.clone())).context,
                    mode,
                    &device,
                )
            })
        }
        Layer::Transformer => {
            use burn::nn::transformer::{TransformerEncoderConfig, TransformerEncoderInput};
            let encoder = TransformerEncoderConfig::new(w, FF_FACTOR * w, HEADS, 1)
                .with_dropout(0.0)
                .with_norm_first(true)
                .init(&device);
            Box::new(move || {
                finish(
                    encoder.forward(TransformerEncoderInput::new(x.clone())),
                    mode,
                    &device,
                )
            })
        }
        Layer::Qrnn | Layer::Tcn | Layer::Additive => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_runs_both_modes_and_the_builtins_exist_where_claimed() {
        let device = Device::flex();
        let shape = Shape {
            batch: 2,
            time: 5,
            width: 8,
        };
        for layer in Layer::ALL {
            for mode in Mode::ALL {
                let run = seqmodel_run(layer, mode, shape, &device)
                    .unwrap_or_else(|e| panic!("{} {}: {e}", layer.name(), mode.name()));
                run().unwrap_or_else(|e| panic!("{} {}: {e}", layer.name(), mode.name()));
                let builtin = builtin_run(layer, mode, shape, &device);
                assert_eq!(builtin.is_some(), layer.has_builtin(), "{}", layer.name());
                if let Some(run) = builtin {
                    run().unwrap_or_else(|e| panic!("{} built-in: {e}", layer.name()));
                }
            }
        }
    }
}
