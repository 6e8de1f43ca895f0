//! The recurrences the fused kernels run.

/// Which recurrence a fused kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// LSTM, gates i, f, g, o (no projection).
    Lstm,
    /// GRU, gates r, z, n.
    Gru,
    /// Elman RNN with `tanh`.
    RnnTanh,
    /// Elman RNN with ReLU.
    RnnRelu,
}

impl CellKind {
    /// Fused gates `G`.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
            CellKind::RnnTanh | CellKind::RnnRelu => 1,
        }
    }

    /// Whether the state has a cell part `c`.
    pub fn has_cell(self) -> bool {
        self == CellKind::Lstm
    }

    /// Rows after the `T` outputs in the packed output: `h_n`, and `c_n` for an LSTM.
    pub fn state_rows(self) -> usize {
        if self.has_cell() { 2 } else { 1 }
    }

    /// Saved activations per step, in units of `H`: LSTM i f g o, GRU r z n hn, RNN h.
    #[cfg_attr(not(feature = "flex"), allow(dead_code))]
    pub(crate) fn saved_gates(self) -> usize {
        match self {
            CellKind::Lstm | CellKind::Gru => 4,
            CellKind::RnnTanh | CellKind::RnnRelu => 1,
        }
    }
}
