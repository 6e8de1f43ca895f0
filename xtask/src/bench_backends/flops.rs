//! Matrix-product FLOPs of each layer: what GFLOP/s are counted from.
//!
//! Only the products count (`2 m n k` for an `[m, k] × [k, n]` product): element-wise gates,
//! softmax, norms and activations are left out, so GFLOP/s understate the work of layers
//! whose time goes to them (the recurrent layers at small widths). With `b` batch, `t` steps
//! and `w` the width (input = hidden = model width), one forward pass is:
//!
//! | layer | FLOPs |
//! |---|---|
//! | RNN (tanh) | `2 b t w (w + w)` — one gate: input and recurrent product |
//! | LSTM | `2 b t 4w (w + w)` |
//! | GRU | `2 b t 3w (w + w)` |
//! | 2-layer BiLSTM | `2 · 2 b t 4w (w + w) + 2 · 2 b t 4w (2w + w)` (two directions, the second layer reads `2w`) |
//! | QRNN (window 2) | `2 b t 3w (2w)` — gates z, f, o from two steps, no recurrent product |
//! | TCN (4 levels, kernel 3) | `4 · 2 · 2 b t w (3w)` — two convolutions per level, no 1×1 skip when input = hidden |
//! | additive attention | `2 · 2 b t w w + 2 b t t w + 2 b t t w` — query and key projections, `vᵀ tanh(·)` per pair, weights × values |
//! | multi-head attention | `4 · 2 b t w w + 2 b t t w + 2 b t t w` — four projections, `Q Kᵀ`, weights × values |
//! | Transformer layer | multi-head attention `+ 2 · 2 b t w (4w)` — the feed-forward block |
//!
//! A training step counts three times the forward pass: the backward pass of a product
//! `Y = X W` is two products of the same size (`dX = dY Wᵀ`, `dW = Xᵀ dY`).

use super::layers::{FF_FACTOR, Layer, Mode, Shape};

/// Matmul FLOPs of one `mode` pass of `layer` at `shape` (see the module documentation).
pub fn flops(layer: Layer, mode: Mode, shape: Shape) -> f64 {
    let forward = forward_flops(layer, shape);
    match mode {
        Mode::Forward => forward,
        Mode::Train => 3.0 * forward,
    }
}

/// Matmul FLOPs of one forward pass.
pub fn forward_flops(layer: Layer, shape: Shape) -> f64 {
    let (b, t, w) = (shape.batch as f64, shape.time as f64, shape.width as f64);
    // A product producing `gates × w` features per step from `inputs` features.
    let per_step = |gates: f64, inputs: f64| 2.0 * b * t * gates * w * inputs;
    // `Q Kᵀ` (or the additive score per pair) and weights × values.
    let pairs = 2.0 * (2.0 * b * t * t * w);
    match layer {
        Layer::Rnn => per_step(1.0, 2.0 * w),
        Layer::Lstm => per_step(4.0, 2.0 * w),
        Layer::Gru => per_step(3.0, 2.0 * w),
        Layer::Bilstm => 2.0 * per_step(4.0, 2.0 * w) + 2.0 * per_step(4.0, 3.0 * w),
        Layer::Qrnn => per_step(3.0, 2.0 * w),
        Layer::Tcn => 4.0 * 2.0 * per_step(1.0, 3.0 * w),
        Layer::Additive => 2.0 * per_step(1.0, w) + pairs,
        Layer::Mha => 4.0 * per_step(1.0, w) + pairs,
        Layer::Transformer => 4.0 * per_step(1.0, w) + pairs + 2.0 * per_step(FF_FACTOR as f64, w),
    }
}

/// GFLOP/s of `flops` done in `ms` milliseconds.
pub fn gflops_per_s(flops: f64, ms: f64) -> f64 {
    flops / (ms * 1e-3) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: Shape = Shape {
        batch: 2,
        time: 3,
        width: 4,
    };

    #[test]
    fn recurrent_layers_count_gates_times_input_and_recurrent_products() {
        // LSTM: 4 gates x 4 units, each from 4 inputs + 4 hidden, 2 flop, 6 (batch, step) pairs.
        assert_eq!(forward_flops(Layer::Lstm, SHAPE), 2.0 * 6.0 * 16.0 * 8.0);
        assert_eq!(forward_flops(Layer::Gru, SHAPE), 2.0 * 6.0 * 12.0 * 8.0);
        assert_eq!(forward_flops(Layer::Rnn, SHAPE), 2.0 * 6.0 * 4.0 * 8.0);
        // Two directions of a 4-input layer, then two of an 8-input one.
        assert_eq!(
            forward_flops(Layer::Bilstm, SHAPE),
            2.0 * (2.0 * 6.0 * 16.0 * 8.0) + 2.0 * (2.0 * 6.0 * 16.0 * 12.0)
        );
        // Three gates from a window of two 4-feature steps.
        assert_eq!(forward_flops(Layer::Qrnn, SHAPE), 2.0 * 6.0 * 12.0 * 8.0);
        // 8 convolutions, each 4 outputs from 3 taps x 4 inputs.
        assert_eq!(
            forward_flops(Layer::Tcn, SHAPE),
            8.0 * 2.0 * 6.0 * 4.0 * 12.0
        );
    }

    #[test]
    fn attention_grows_with_the_square_of_the_length() {
        let long = Shape { time: 6, ..SHAPE };
        let projections = 4.0 * 2.0 * 6.0 * 16.0;
        // 2 x (2 b t t w) = 2 x 2 x 2 x 9 x 4.
        let pairs = 2.0 * 2.0 * 2.0 * 9.0 * 4.0;
        assert_eq!(forward_flops(Layer::Mha, SHAPE), projections + pairs);
        assert_eq!(
            forward_flops(Layer::Mha, long),
            2.0 * projections + 4.0 * pairs,
            "projections double, pairs quadruple"
        );
        assert_eq!(
            forward_flops(Layer::Additive, SHAPE),
            projections / 2.0 + pairs
        );
        // The feed-forward block: 4 -> 16 -> 4 per (batch, step).
        assert_eq!(
            forward_flops(Layer::Transformer, SHAPE),
            projections + pairs + 2.0 * (2.0 * 6.0 * 16.0 * 4.0)
        );
    }

    #[test]
    fn a_training_step_counts_three_forward_passes() {
        for layer in Layer::ALL {
            assert_eq!(
                flops(layer, Mode::Train, SHAPE),
                3.0 * flops(layer, Mode::Forward, SHAPE),
                "{}",
                layer.name()
            );
        }
    }

    #[test]
    fn gflops_divide_by_the_seconds() {
        assert_eq!(gflops_per_s(2e9, 500.0), 4.0);
    }
}
