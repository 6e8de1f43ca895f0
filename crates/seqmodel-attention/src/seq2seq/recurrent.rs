//! One recurrent layer of a chosen kind (seqmodel-rnn's `Rnn`, `Lstm` or `Gru`) behind one
//! state type, for encoders and decoders that work with any of them.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use seqmodel_rnn::{
    Gru, GruConfig, Lstm, LstmConfig, LstmState, Nonlinearity, Rnn, RnnConfig, SequenceLengths,
};
use serde::{Deserialize, Serialize};

/// The recurrent layer kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RecurrentKind {
    /// Elman RNN with tanh (PyTorch's `nn.RNN`).
    Rnn,
    /// LSTM (PyTorch's `nn.LSTM`).
    #[default]
    Lstm,
    /// GRU (PyTorch's `nn.GRU`).
    Gru,
}

/// Configuration of a [`Recurrent`] layer.
#[derive(Config, Debug, PartialEq)]
pub struct RecurrentConfig {
    /// The layer kind.
    pub kind: RecurrentKind,
    /// Features of each input step.
    pub input_size: usize,
    /// Hidden size `H` per direction.
    pub hidden_size: usize,
    /// Stacked layers `L`.
    #[config(default = 1)]
    pub num_layers: usize,
    /// Whether a reverse direction runs too (`D = 2`).
    #[config(default = false)]
    pub bidirectional: bool,
    /// Dropout between layers (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl RecurrentConfig {
    /// Builds the layer (PyTorch's default initialisation).
    pub fn init(&self, device: &Device) -> seqmodel_rnn::Result<Recurrent> {
        Ok(match self.kind {
            RecurrentKind::Rnn => Recurrent::Rnn(
                RnnConfig::new(self.input_size, self.hidden_size)
                    .with_nonlinearity(Nonlinearity::Tanh)
                    .with_num_layers(self.num_layers)
                    .with_bidirectional(self.bidirectional)
                    .with_dropout(self.dropout)
                    .init(device)?,
            ),
            RecurrentKind::Lstm => Recurrent::Lstm(
                LstmConfig::new(self.input_size, self.hidden_size)
                    .with_num_layers(self.num_layers)
                    .with_bidirectional(self.bidirectional)
                    .with_dropout(self.dropout)
                    .init(device)?,
            ),
            RecurrentKind::Gru => Recurrent::Gru(
                GruConfig::new(self.input_size, self.hidden_size)
                    .with_num_layers(self.num_layers)
                    .with_bidirectional(self.bidirectional)
                    .with_dropout(self.dropout)
                    .init(device)?,
            ),
        })
    }
}

/// The state of a [`Recurrent`] layer.
#[derive(Debug, Clone)]
pub struct RecurrentState {
    /// Hidden state `h`: `[layers * directions, batch, H]`.
    pub h: Tensor<3>,
    /// Cell state `c` (LSTM only): `[layers * directions, batch, H]`.
    pub c: Option<Tensor<3>>,
}

impl RecurrentState {
    /// The rows `indices` of the batch (beam search reorders its hypotheses with this).
    pub fn select(self, indices: Tensor<1, Int>) -> Self {
        Self {
            h: self.h.select(1, indices.clone()),
            c: self.c.map(|c| c.select(1, indices)),
        }
    }

    /// `f` applied to `h` and `c`.
    pub fn map(self, f: impl Fn(Tensor<3>) -> Tensor<3>) -> Self {
        Self {
            h: f(self.h),
            c: self.c.map(&f),
        }
    }
}

/// An RNN, LSTM or GRU layer (multi-layer, optionally bidirectional).
#[derive(Module, Debug)]
pub enum Recurrent {
    /// Elman RNN (tanh).
    Rnn(Rnn),
    /// LSTM.
    Lstm(Lstm),
    /// GRU.
    Gru(Gru),
}

impl Recurrent {
    /// Hidden size `H` per direction.
    pub fn hidden_size(&self) -> usize {
        match self {
            Self::Rnn(l) => l.hidden_size,
            Self::Lstm(l) => l.hidden_size,
            Self::Gru(l) => l.hidden_size,
        }
    }

    /// Number of stacked layers.
    pub fn num_layers(&self) -> usize {
        match self {
            Self::Rnn(l) => l.num_layers,
            Self::Lstm(l) => l.num_layers,
            Self::Gru(l) => l.num_layers,
        }
    }

    /// Whether the layer runs both directions.
    pub fn bidirectional(&self) -> bool {
        match self {
            Self::Rnn(l) => l.bidirectional,
            Self::Lstm(l) => l.bidirectional,
            Self::Gru(l) => l.bidirectional,
        }
    }

    /// Whether the state has a cell state (LSTM).
    pub fn has_cell_state(&self) -> bool {
        matches!(self, Self::Lstm(_))
    }

    /// Runs the whole sequence.
    ///
    /// # Shapes
    /// `input` `[batch, time, I]`, `lengths` per row (`None`: all `time`), `initial` (`None`:
    /// zeros) → outputs `[batch, time, D * H]` (0 past each length) and the final state.
    pub fn forward(
        &self,
        input: Tensor<3>,
        lengths: Option<&SequenceLengths>,
        initial: Option<RecurrentState>,
    ) -> seqmodel_rnn::Result<(Tensor<3>, RecurrentState)> {
        Ok(match self {
            Self::Rnn(l) => {
                let out = l.forward(input, lengths, initial.map(|s| s.h))?;
                (
                    out.output,
                    RecurrentState {
                        h: out.state,
                        c: None,
                    },
                )
            }
            Self::Gru(l) => {
                let out = l.forward(input, lengths, initial.map(|s| s.h))?;
                (
                    out.output,
                    RecurrentState {
                        h: out.state,
                        c: None,
                    },
                )
            }
            Self::Lstm(l) => {
                let out = l.forward(input, lengths, initial.and_then(lstm_state))?;
                (
                    out.output,
                    RecurrentState {
                        h: out.state.h,
                        c: Some(out.state.c),
                    },
                )
            }
        })
    }

    /// Advances one step (one-direction layers): `input` `[batch, I]` → the last layer's output
    /// `[batch, H]` and the new state.
    pub fn step(
        &self,
        input: Tensor<2>,
        state: Option<RecurrentState>,
    ) -> seqmodel_rnn::Result<(Tensor<2>, RecurrentState)> {
        Ok(match self {
            Self::Rnn(l) => {
                let out = l.step(input, state.map(|s| s.h))?;
                (
                    out.output,
                    RecurrentState {
                        h: out.state,
                        c: None,
                    },
                )
            }
            Self::Gru(l) => {
                let out = l.step(input, state.map(|s| s.h))?;
                (
                    out.output,
                    RecurrentState {
                        h: out.state,
                        c: None,
                    },
                )
            }
            Self::Lstm(l) => {
                let out = l.step(input, state.and_then(lstm_state))?;
                (
                    out.output,
                    RecurrentState {
                        h: out.state.h,
                        c: Some(out.state.c),
                    },
                )
            }
        })
    }
}

/// An LSTM state from a [`RecurrentState`]; a state without `c` (from an RNN or GRU encoder)
/// starts the cell state at zero.
fn lstm_state(state: RecurrentState) -> Option<LstmState> {
    let c = state.c.unwrap_or_else(|| state.h.zeros_like());
    Some(LstmState { h: state.h, c })
}
