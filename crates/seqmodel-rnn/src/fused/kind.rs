//! A cell as the fused kernels see it. Everything here is read from the cell itself: the gate
//! count and the cell state from its [`Cell`] constants, the gate formulas and the nonlinearity
//! from the cell that builds the call ([`CellKind::of`]); nothing is written down twice.

use crate::cell::Cell;
use crate::rnn_cell::Nonlinearity;

/// The per-step formulas a fused kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GateMath {
    /// LSTM: i, f, o sigmoid, g tanh, `c' = f c + i g`, `h' = o tanh(c')` (no projection).
    Lstm,
    /// GRU: r, z sigmoid, `n = tanh(x_n + r (W_hn h + b_hn))`, `h' = (1 - z) n + z h`.
    Gru,
    /// Elman RNN: `h' = act(x + W_hh h)`.
    Rnn(Nonlinearity),
}

/// The recurrence one fused call runs: its formulas plus the shape facts of the cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CellKind {
    math: GateMath,
    gates: usize,
    has_cell: bool,
}

impl CellKind {
    /// The kernel view of cell type `C` running `math` (gates and state from `C`'s constants).
    pub fn of<C: Cell>(math: GateMath) -> Self {
        Self {
            math,
            gates: C::GATES,
            has_cell: C::HAS_CELL_STATE,
        }
    }

    /// The formulas.
    pub fn math(self) -> GateMath {
        self.math
    }

    /// Whether this is a GRU (its `b_hn` sits inside the recurrence).
    pub fn is_gru(self) -> bool {
        self.math == GateMath::Gru
    }

    /// Fused gates `G` ([`Cell::GATES`]).
    pub fn gates(self) -> usize {
        self.gates
    }

    /// Whether the state has a cell part `c` ([`Cell::HAS_CELL_STATE`]).
    pub fn has_cell(self) -> bool {
        self.has_cell
    }

    /// Rows after the `T` outputs in the packed output: `h_n`, and `c_n` for an LSTM.
    pub fn state_rows(self) -> usize {
        if self.has_cell { 2 } else { 1 }
    }

    /// Saved activations per step, in units of `H`: LSTM i f g o, GRU r z n and `W_hn h + b_hn`,
    /// RNN h.
    #[cfg_attr(not(feature = "flex"), allow(dead_code))]
    pub(crate) fn saved_gates(self) -> usize {
        match self.math {
            GateMath::Lstm => self.gates,
            GateMath::Gru => self.gates + 1,
            GateMath::Rnn(_) => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GruCell, LstmCell, RnnCell};

    /// The kernel view repeats nothing: its gate counts and state are the cells' own.
    #[test]
    fn kinds_take_their_shape_from_the_cells() {
        let lstm = CellKind::of::<LstmCell>(GateMath::Lstm);
        assert_eq!(
            (lstm.gates(), lstm.has_cell(), lstm.state_rows()),
            (4, true, 2)
        );
        assert_eq!(lstm.saved_gates(), 4);
        let gru = CellKind::of::<GruCell>(GateMath::Gru);
        assert_eq!(
            (gru.gates(), gru.has_cell(), gru.saved_gates()),
            (3, false, 4)
        );
        assert!(gru.is_gru());
        let rnn = CellKind::of::<RnnCell>(GateMath::Rnn(Nonlinearity::Relu));
        assert_eq!(
            (rnn.gates(), rnn.state_rows(), rnn.saved_gates()),
            (1, 1, 1)
        );
    }
}
