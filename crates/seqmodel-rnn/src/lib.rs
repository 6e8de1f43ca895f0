//! # seqmodel-rnn
//!
//! RNN (tanh | ReLU), LSTM (optional `proj_size`) and GRU layers for Burn that match PyTorch's
//! `nn.RNN`, `nn.LSTM` and `nn.GRU` in values, gradients and state-dict names:
//! multi-layer, bidirectional, inter-layer dropout, variable-length batches (the results of
//! `pack_padded_sequence(.., enforce_sorted=False)`, without sorting), a single-step API for
//! decoders, and safetensors import/export of PyTorch state dicts.
//!
//! Everything is batch-first: input `[batch, time, input_size]`, output
//! `[batch, time, directions * hidden_out]`; states in PyTorch's layout
//! `[num_layers * directions, batch, width]`.
//!
//! ```
//! use burn::tensor::{Device, Distribution, Tensor};
//! use seqmodel_rnn::{LstmConfig, SequenceLengths};
//!
//! let device = Device::flex();
//! let lstm = LstmConfig::new(32, 64)
//!     .with_num_layers(2)
//!     .with_bidirectional(true)
//!     .init(&device)?;
//! let input = Tensor::<3>::random([3, 10, 32], Distribution::Default, &device);
//! let lengths = SequenceLengths::right(vec![10, 7, 2]); // or `padded_batch.lengths()`
//! let out = lstm.forward(input, Some(&lengths), None)?;
//! assert_eq!(out.output.dims(), [3, 10, 128]); // zero past each length
//! assert_eq!(out.state.h.dims(), [4, 3, 64]); // [layers * directions, batch, hidden]
//! assert_eq!(out.state.c.dims(), [4, 3, 64]);
//! # Ok::<(), seqmodel_rnn::Error>(())
//! ```
//!
//! Lengths come as [`SequenceLengths`] (seqmodel-data's type, re-exported): host lengths plus
//! the padding side. Left-padded batches ([`PadSide::Left`]) give the same outputs at their
//! real positions as the same sequences padded on the right.
//!
//! ## Design
//! One [`Cell`] trait (RNN, LSTM, GRU cells implement `project_input` and `step`, and state
//! their gate count and cell state as [`Cell::GATES`] and [`Cell::HAS_CELL_STATE`]) and one
//! generic driver for the time loop, layers, directions, lengths, padding side and dropout.
//! A cell with a fused kernel implements [`Cell::run_fused`]; the driver calls it under
//! [`Execution::Auto`] (falling back to [`Cell::run`] when it reports a
//! [`FusedUnavailable`] reason) and [`Execution::Fused`] (reporting the reason as
//! [`Error::FusedUnavailable`]); the layers' API does not change.

/// `assert!` when the `kernel-checks` feature is on, nothing otherwise. The fused kernels'
/// per-tile and per-span preconditions (and a few invariants of the layers) use it: the crate's
/// own tests turn the feature on (a dev-dependency of the crate on itself), so every test checks
/// them, while `cargo xtask train` and other users do not pay for them on every time step.
macro_rules! kernel_check {
    ($($arg:tt)*) => {
        if cfg!(feature = "kernel-checks") {
            assert!($($arg)*);
        }
    };
}

/// [`kernel_check!`] for equality (`assert_eq!` when the `kernel-checks` feature is on).
macro_rules! kernel_check_eq {
    ($($arg:tt)*) => {
        if cfg!(feature = "kernel-checks") {
            assert_eq!($($arg)*);
        }
    };
}

mod activation;
mod align;
mod cell;
mod driver;
mod error;
mod fast_dropout;
mod fast_linear;
mod fused;
mod gate_weights;
mod gru;
mod gru_cell;
#[cfg(feature = "flex")]
mod linear_flex;
mod lstm;
mod lstm_cell;
mod lstm_layer_norm;
mod qrnn;
mod rnn;
mod rnn_cell;
mod scan;
#[cfg(feature = "flex")]
mod scan_flex;
#[cfg(feature = "flex")]
mod squash_flex;
mod state_dict;
mod tcn;

pub use activation::{fast_sigmoid, fast_tanh};
pub use cell::{Cell, CellState, Direction, PaddingMask, run_time_loop};
pub use driver::{RecurrentOutput, StepOutput};
pub use error::{Error, Result};
pub use fast_dropout::{FastDropout, FastDropoutConfig};
pub use fast_linear::fast_linear;
pub use fused::{Execution, FusedUnavailable, uses_fused_kernel};
#[cfg(feature = "flex")]
pub use fused::{ISA_ENV, Isa};
pub use gate_weights::{GateWeights, GateWeightsConfig, NamedParam};
pub use gru::{Gru, GruConfig};
pub use gru_cell::{GruCell, GruCellConfig, GruPrepared};
pub use lstm::{Lstm, LstmConfig, LstmState};
pub use lstm_cell::{LstmCell, LstmCellConfig, LstmPrepared};
pub use lstm_layer_norm::LstmLayerNorm;
pub use qrnn::{Qrnn, QrnnConfig, QrnnGates, QrnnPooling};
pub use rnn::{Rnn, RnnConfig};
pub use rnn_cell::{Nonlinearity, RnnCell, RnnCellConfig};
pub use seqmodel_data::{LengthsError, PadSide, SequenceLengths};
pub use state_dict::{ParamSink, ParamSource, StateDict, replace_value, transpose_matrix};
pub use tcn::{Tcn, TcnBlock, TcnConfig, TcnConv};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
