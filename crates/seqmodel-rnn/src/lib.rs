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
//! use burn::tensor::{Device, Distribution, Int, Tensor};
//! use seqmodel_rnn::{LstmConfig, SequenceLengths};
//!
//! let device = Device::flex();
//! let lstm = LstmConfig::new(32, 64)
//!     .with_num_layers(2)
//!     .with_bidirectional(true)
//!     .init(&device)?;
//! let input = Tensor::<3>::random([3, 10, 32], Distribution::Default, &device);
//! let lengths = SequenceLengths::new(Tensor::<1, Int>::from_data([10, 7, 2], &device));
//! let out = lstm.forward(input, Some(&lengths), None)?;
//! assert_eq!(out.output.dims(), [3, 10, 128]); // zero past each length
//! assert_eq!(out.state.h.dims(), [4, 3, 64]); // [layers * directions, batch, hidden]
//! assert_eq!(out.state.c.dims(), [4, 3, 64]);
//! # Ok::<(), seqmodel_rnn::Error>(())
//! ```
//!
//! ## Design
//! One [`Cell`] trait (RNN, LSTM, GRU cells implement `project_input` and `step`) and one
//! generic driver for the time loop, layers, directions, lengths and dropout. A cell may
//! override [`Cell::run`] with a fused kernel; the layers' API does not change.

mod cell;
mod driver;
mod error;
mod fused;
mod gate_weights;
mod gru;
mod gru_cell;
mod lengths;
mod lstm;
mod lstm_cell;
mod rnn;
mod rnn_cell;
mod state_dict;

pub use cell::{Cell, CellState, Direction, PaddingMask, run_time_loop};
pub use driver::{RecurrentOutput, StepOutput};
pub use error::{Error, Result};
pub use fused::{CellKind, Execution, uses_fused_kernel};
#[cfg(feature = "flex")]
pub use fused::{ISA_ENV, Isa};
pub use gate_weights::{GateWeights, NamedParam};
pub use gru::{Gru, GruConfig};
pub use gru_cell::{GruCell, GruPrepared};
pub use lengths::SequenceLengths;
pub use lstm::{Lstm, LstmConfig, LstmState};
pub use lstm_cell::{LstmCell, LstmPrepared};
pub use rnn::{Rnn, RnnConfig};
pub use rnn_cell::{Nonlinearity, RnnCell};
pub use state_dict::StateDict;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
