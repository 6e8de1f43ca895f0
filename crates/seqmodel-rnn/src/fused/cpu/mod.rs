//! The fused recurrence on raw `f32` buffers: forward (optionally saving what the backward
//! pass needs) and backpropagation through time, for LSTM, GRU and RNN cells.
//!
//! Layouts (all row-major, batch-major, `G` gates, `H` hidden, `S` = `CellKind::state_rows`):
//! - `x: [B, T, In]`, `w_ih: [G*H, In]` (PyTorch's `weight_ih`), `bias: [G*H]`: every bias
//!   outside the recurrence (all of `b_ih + b_hh` for LSTM and RNN; `b_ih` and the r, z parts
//!   of `b_hh` for a GRU);
//! - `w_hh: [G*H, H]` (PyTorch's `weight_hh`), `b_hn: [H]` (GRU only);
//! - `h0, c0: [B, H]`; `lengths: [B]`, each in `0..=T`;
//! - output `[B*T + S*B, H]`: first `h_t` for every `(b, t)` (row `b*T + t`, exactly 0 past a
//!   sequence's length; a contiguous `[B, T, H]`), then `h_n` (rows `B*T + b`) and, for an
//!   LSTM, `c_n` (rows `B*T + B + b`): the state after each sequence's last valid step.
//!
//! First one large product projects the inputs of every step (`x W_ih^T`, rows split across
//! threads); then each step is one small product `h W_hh^T` ([`super::matmul::PackedMatrix`]) and one vectorised pass of gate
//! math writing the new state in place. The batch is split into independent row blocks, one
//! per worker thread, each running the whole time loop: no synchronisation between steps, so a
//! worker delayed by another process only delays itself.
//!
//! Files: [`forward`] and [`backward`] (the drivers), `gates` (the per-row gate math),
//! `threads` (row blocks); the pool of large buffers is `fused::scratch`, the products
//! `fused::matmul`.

mod backward;
mod forward;
mod gates;
#[cfg(test)]
mod tests;
mod threads;

pub use super::kind::{CellKind, GateMath};
pub use backward::backward;
pub use forward::{Prepacked, forward, forward_prepacked};

use super::scratch;

/// The sizes of one fused call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// `B`.
    pub batch: usize,
    /// `T`.
    pub time: usize,
    /// `H`.
    pub hidden: usize,
    /// `In`.
    pub input: usize,
    /// Walk `t = T-1 .. 0` (each sequence starting at its own last valid step).
    pub reverse: bool,
}

impl Dims {
    fn step(&self, s: usize) -> usize {
        if self.reverse { self.time - 1 - s } else { s }
    }
}

/// The inputs of a fused call (see the module docs for the layouts).
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// `[B, T, In]`.
    pub x: &'a [f32],
    /// `[G*H, In]`.
    pub w_ih: &'a [f32],
    /// `[G*H]`.
    pub bias: &'a [f32],
    /// `[G*H, H]`.
    pub w_hh: &'a [f32],
    /// `[H]` for a GRU, ignored otherwise.
    pub b_hn: &'a [f32],
    /// `[B, H]`.
    pub h0: &'a [f32],
    /// `[B, H]` for an LSTM, ignored otherwise.
    pub c0: &'a [f32],
    /// `[B]`, each `<= T`.
    pub lengths: &'a [usize],
}

impl Drop for Saved {
    fn drop(&mut self) {
        for buf in [
            &mut self.act,
            &mut self.hprev,
            &mut self.cprev,
            &mut self.tanh_cell,
        ] {
            scratch::give(std::mem::take(buf));
        }
    }
}

/// What the forward pass keeps for the backward pass, `[B, T, ..]` each. Only `hprev` is
/// defined (0) at padded steps. Its buffers go back to a pool when it is dropped.
#[derive(Debug, Clone, Default)]
pub struct Saved {
    /// Activations: LSTM `i f g o`, GRU `r z n hn` (`hn = h W_hn^T + b_hn`), RNN `h_t`;
    /// `[B, T, saved_gates * H]`.
    pub act: Vec<f32>,
    /// The hidden state each step started from: `[B, T, H]`.
    pub hprev: Vec<f32>,
    /// LSTM: the cell state each step started from, `[B, T, H]`.
    pub cprev: Vec<f32>,
    /// LSTM: `tanh` of the cell state after each step, `[B, T, H]` (all the backward pass
    /// needs of it).
    pub tanh_cell: Vec<f32>,
}

/// Which gradients a backward pass computes (an input that needs none is skipped: e.g. the
/// input sequence of a first layer is often a leaf without gradient).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// `x`.
    pub x: bool,
    /// `w_ih`.
    pub w_ih: bool,
    /// `bias`.
    pub bias: bool,
    /// `w_hh`.
    pub w_hh: bool,
    /// `b_hn`.
    pub b_hn: bool,
}

#[cfg(test)]
impl Needs {
    /// Every gradient.
    pub const ALL: Needs = Needs {
        x: true,
        w_ih: true,
        bias: true,
        w_hh: true,
        b_hn: true,
    };
}

/// Gradients of a fused call with respect to each input (empty where not [`Needs`]ed; `h0`
/// and `c0` always).
#[derive(Debug, Clone)]
pub struct Grads {
    /// `[B, T, In]`.
    pub x: Vec<f32>,
    /// `[G*H, In]`.
    pub w_ih: Vec<f32>,
    /// `[G*H]`.
    pub bias: Vec<f32>,
    /// `[G*H, H]`.
    pub w_hh: Vec<f32>,
    /// `[H]` (zeros unless GRU).
    pub b_hn: Vec<f32>,
    /// `[B, H]`.
    pub h0: Vec<f32>,
    /// `[B, H]` (zeros unless LSTM).
    pub c0: Vec<f32>,
}

/// Check the sizes of `inputs` against `dims` (a wrong size is a bug in the caller).
fn check_inputs(kind: CellKind, dims: Dims, inputs: &Inputs<'_>) {
    let Dims {
        batch,
        time,
        hidden,
        ..
    } = dims;
    let gh = kind.gates() * hidden;
    assert_eq!(inputs.x.len(), batch * time * dims.input, "x: [B, T, In]");
    assert_eq!(inputs.w_ih.len(), gh * dims.input, "w_ih: [G*H, In]");
    assert_eq!(inputs.bias.len(), gh, "bias: [G*H]");
    assert_eq!(inputs.w_hh.len(), gh * hidden, "w_hh: [G*H, H]");
    assert_eq!(inputs.h0.len(), batch * hidden, "h0: [B, H]");
    assert_eq!(inputs.lengths.len(), batch, "lengths: [B]");
    assert!(inputs.lengths.iter().all(|&l| l <= time), "lengths <= T");
    if kind.has_cell() {
        assert_eq!(inputs.c0.len(), batch * hidden, "c0: [B, H]");
    }
    if kind.is_gru() {
        assert_eq!(inputs.b_hn.len(), hidden, "b_hn: [H]");
    }
}
