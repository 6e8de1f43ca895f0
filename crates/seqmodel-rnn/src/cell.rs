//! The [`Cell`] abstraction and the one generic time loop every cell shares.
//!
//! A cell is one layer of one direction of a recurrent network (PyTorch's `weight_ih_l{k}` ...
//! group). It only knows how to
//! 1. project the inputs of all time steps at once ([`Cell::project_input`]: one big
//!    `[time * batch, In] x [In, H]` matmul per gate, time-major so that each step is a
//!    contiguous block of rows), and
//! 2. advance its state by one step from a projected input ([`Cell::step`]: one
//!    `[batch, Hout] x [Hout, H]` matmul per gate on contiguous, pre-transposed gate blocks of
//!    the fused weight, plus the gate math).
//!
//! Why per-gate blocks rather than one `[Hout, G * H]` matmul: the gate math then runs on
//! contiguous `[batch, H]` tensors; on flex, column slices of a fused `[batch, G * H]` result
//! are strided and made the element-wise work about 1.5x slower than the matmuls it saved
//! (measured on case a of `cargo xtask bench-backends`). The parameters stay fused, in
//! PyTorch's layout.
//!
//! [`run_time_loop`] (the body of [`Cell::run`]) walks the time steps forward or backward,
//! freezes the state of sequences past their length and zeroes their outputs. A cell with a
//! fused kernel implements [`Cell::run_fused`] (the built-in cells do, see the crate's `fused`
//! module), which must return the same values; the layers call it first and fall back to
//! [`Cell::run`] where it reports [`crate::FusedUnavailable`] (unless the layer runs
//! [`crate::Execution::Fused`], which reports the reason as an error). Layer stacking,
//! directions, lengths, padding side and dropout stay in the driver (the crate's `driver`
//! module).
//!
//! The cell is the one place that describes itself: its gate count ([`Cell::GATES`]), whether
//! it has a cell state ([`Cell::HAS_CELL_STATE`]) and its formulas ([`Cell::step`]); the
//! layers and the fused kernels read them from there.

use burn::tensor::{Bool, Tensor};

/// Which way a direction walks through time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `t = 0, 1, ..., T-1` (PyTorch's direction 0).
    Forward,
    /// `t = T-1, ..., 1, 0` (PyTorch's direction 1, the `_reverse` parameters).
    Reverse,
}

/// The recurrent state of one cell (one layer, one direction) for a batch.
///
/// `hidden` is also the cell's output at each step.
#[derive(Debug, Clone)]
pub struct CellState {
    /// Hidden state `h`: `[batch, hidden_out]` (`hidden_out` = `proj_size` for a projected
    /// LSTM, else `hidden_size`).
    pub hidden: Tensor<2>,
    /// Cell state `c` of an LSTM: `[batch, hidden_size]`; `None` for RNN and GRU cells.
    pub cell: Option<Tensor<2>>,
}

impl CellState {
    /// Keep `previous` where `padding` is true, take `self` elsewhere.
    ///
    /// `padding`: `[batch, 1]`, true for sequences whose current step is past their length.
    pub fn keep_where_padding(self, previous: &CellState, padding: &Tensor<2, Bool>) -> CellState {
        let hidden = select_rows(self.hidden, &previous.hidden, padding);
        let cell = match (self.cell, &previous.cell) {
            (Some(new), Some(old)) => Some(select_rows(new, old, padding)),
            (new, _) => new,
        };
        CellState { hidden, cell }
    }
}

/// `new` where `padding` is false, `old` where it is true; `padding`: `[batch, 1]`.
fn select_rows(new: Tensor<2>, old: &Tensor<2>, padding: &Tensor<2, Bool>) -> Tensor<2> {
    let [batch, width] = new.dims();
    new.mask_where(padding.clone().expand([batch, width]), old.clone())
}

/// Which steps of a batch are padding: `[batch, time]`, `true` where `t >= length[b]`.
///
/// Built by the layers from [`crate::SequenceLengths`] (left-padded batches are right-aligned
/// first, so cells only ever see trailing padding); cells receive it in [`Cell::run`].
#[derive(Debug, Clone)]
pub struct PaddingMask {
    mask: Tensor<2, Bool>,
    /// The same, time-major `[time, batch]`, so that one step is a contiguous row.
    time_major: Tensor<2, Bool>,
}

impl PaddingMask {
    /// Wrap a `[batch, time]` mask (`true` = padding; padding must be trailing in each row).
    pub fn new(mask: Tensor<2, Bool>) -> Self {
        let [batch, time] = mask.dims();
        let time_major = mask.clone().swap_dims(0, 1);
        kernel_check_eq!(time_major.dims(), [time, batch]);
        Self { mask, time_major }
    }

    /// The whole mask: `[batch, time]`.
    pub fn mask(&self) -> &Tensor<2, Bool> {
        &self.mask
    }

    /// The padding of one time step: `[batch, 1]`.
    pub fn at(&self, t: usize) -> Tensor<2, Bool> {
        let batch = self.time_major.dims()[1];
        self.time_major.clone().narrow(0, t, 1).reshape([batch, 1])
    }

    /// Zero `values` (`[batch, time, width]`) wherever the step is padding.
    pub fn zero_padding(&self, values: Tensor<3>) -> Tensor<3> {
        let [batch, time, width] = values.dims();
        let mask = self
            .mask
            .clone()
            .unsqueeze_dim::<3>(2)
            .expand([batch, time, width]);
        values.mask_fill(mask, 0.0)
    }
}

/// One layer and direction of a recurrent network, with fused gates in PyTorch's order.
///
/// Implementors: [`crate::RnnCell`], [`crate::LstmCell`], [`crate::GruCell`]. Notation:
/// `G` = [`Cell::GATES`], `H` = [`Cell::hidden_size`], `Hout` = [`Cell::output_size`].
pub trait Cell {
    /// What [`Cell::prepare`] computes once per sequence (e.g. transposed recurrent weights).
    type Prepared;

    /// Number of fused gates `G` (RNN 1, GRU 3, LSTM 4).
    const GATES: usize;

    /// Whether the state has a cell part `c` (LSTM).
    const HAS_CELL_STATE: bool = false;

    /// Features of this cell's input `In` (the layer input, or `directions * Hout` below).
    fn input_size(&self) -> usize;

    /// Hidden size `H` (the width of each gate).
    fn hidden_size(&self) -> usize;

    /// Width `Hout` of the hidden state and of the output (`proj_size` for a projected LSTM).
    fn output_size(&self) -> usize;

    /// Input projections of many steps at once, one contiguous `[n, H]` tensor per gate in
    /// PyTorch's order, including every bias that does not depend on the state:
    /// `input: [n, In]` -> `G x [n, H]`.
    fn project_input(&self, input: Tensor<2>) -> Vec<Tensor<2>>;

    /// Constants for [`Cell::step`], computed once per sequence.
    fn prepare(&self) -> Self::Prepared;

    /// Advance the state by one step.
    ///
    /// `projected_input`: `G x [batch, H]` (one step of [`Cell::project_input`]'s output);
    /// `state`: hidden `[batch, Hout]` (and cell `[batch, H]`); returns the new state, whose
    /// hidden part is the step's output.
    fn step(
        &self,
        prepared: &Self::Prepared,
        projected_input: Vec<Tensor<2>>,
        state: &CellState,
    ) -> CellState;

    /// Run over a whole sequence: `input: [batch, time, In]` -> (`output: [batch, time, Hout]`,
    /// final state).
    ///
    /// With `padding` (trailing in every row), a padded step keeps the state unchanged and
    /// outputs exactly 0, so the final state is each sequence's own last valid step, and
    /// [`Direction::Reverse`] starts each sequence from `initial` at its own last valid step.
    /// This is the reference path: the generic [`run_time_loop`].
    fn run(
        &self,
        input: Tensor<3>,
        initial: CellState,
        padding: Option<&PaddingMask>,
        direction: Direction,
    ) -> (Tensor<3>, CellState)
    where
        Self: Sized,
    {
        run_time_loop(self, input, initial, padding, direction)
    }

    /// The same as [`Cell::run`] through a fused kernel, or the reason none applies to this
    /// cell, device or dtype (the layers then call [`Cell::run`], or report the reason under
    /// [`crate::Execution::Fused`]).
    ///
    /// `lengths`: per-sequence lengths on the host, each in `0..=time`, padding trailing
    /// (`None` = all `time` steps are real). The default has no fused kernel.
    fn run_fused(
        &self,
        input: &Tensor<3>,
        initial: &CellState,
        lengths: Option<&[usize]>,
        direction: Direction,
    ) -> Result<(Tensor<3>, CellState), crate::FusedUnavailable> {
        let _ = (input, initial, lengths, direction);
        Err(crate::FusedUnavailable::NoKernel {
            cell: std::any::type_name::<Self>(),
        })
    }
}

/// The generic time loop: one matmul for the input projections of all steps, then one
/// [`Cell::step`] per time step in `direction`'s order (see [`Cell::run`] for the semantics).
///
/// Shapes: `input: [batch, time, In]`, `initial`: hidden `[batch, Hout]` (and cell
/// `[batch, H]`); returns `output: [batch, time, Hout]` and the final state.
pub fn run_time_loop<C: Cell>(
    cell: &C,
    input: Tensor<3>,
    initial: CellState,
    padding: Option<&PaddingMask>,
    direction: Direction,
) -> (Tensor<3>, CellState) {
    let [batch, time, features] = input.dims();
    // Time-major rows, so that each step's projections are a contiguous block of rows.
    let time_major = input.swap_dims(0, 1).reshape([time * batch, features]);
    let projected = cell.project_input(time_major);
    let prepared = cell.prepare();

    // steps[t][gate]: [batch, H], contiguous row blocks of the projections.
    let mut steps: Vec<Vec<Tensor<2>>> = (0..time).map(|_| Vec::new()).collect();
    for gate in projected {
        for (t, rows) in split_rows(gate, time, batch).into_iter().enumerate() {
            steps[t].push(rows);
        }
    }
    let mut steps: Vec<Option<Vec<Tensor<2>>>> = steps.into_iter().map(Some).collect();

    let mut state = initial;
    let mut outputs = Vec::with_capacity(time);
    for i in 0..time {
        let t = match direction {
            Direction::Forward => i,
            Direction::Reverse => time - 1 - i,
        };
        let x_t = steps[t].take().unwrap_or_default();
        let next = cell.step(&prepared, x_t, &state);
        state = match padding {
            Some(padding) => next.keep_where_padding(&state, &padding.at(t)),
            None => next,
        };
        outputs.push(state.hidden.clone());
    }
    if direction == Direction::Reverse {
        outputs.reverse();
    }
    let output: Tensor<3> = Tensor::stack(outputs, 1);
    let output = match padding {
        Some(padding) => padding.zero_padding(output),
        None => output,
    };
    (output, state)
}

/// Split a cell's per-gate tensors into an array (`G` = the cell's [`Cell::GATES`]).
///
/// # Panics
/// If `gates` does not hold exactly `G` tensors: a bug in a [`Cell`] implementation, never a
/// consequence of user input.
pub fn split_gates<const G: usize>(gates: Vec<Tensor<2>>) -> [Tensor<2>; G] {
    let found = gates.len();
    gates
        .try_into()
        .unwrap_or_else(|_| panic!("a cell step got {found} gate tensors, expected {G}"))
}

/// Split `[steps * rows, width]` into `steps` tensors of `[rows, width]`, by halving.
///
/// Under autodiff a slice's backward writes its gradient into a zero tensor the size of its
/// parent, so `steps` direct slices of one tensor cost `O(steps^2)` in the backward pass;
/// halving recursively costs `O(steps log steps)`. Without autodiff slices are views either way.
fn split_rows(tensor: Tensor<2>, steps: usize, rows: usize) -> Vec<Tensor<2>> {
    fn go(tensor: Tensor<2>, steps: usize, rows: usize, out: &mut Vec<Tensor<2>>) {
        if steps <= 1 {
            out.push(tensor);
            return;
        }
        let left = steps / 2;
        go(tensor.clone().narrow(0, 0, left * rows), left, rows, out);
        go(
            tensor.narrow(0, left * rows, (steps - left) * rows),
            steps - left,
            rows,
            out,
        );
    }
    if !tensor.device().is_autodiff() {
        return (0..steps)
            .map(|t| tensor.clone().narrow(0, t * rows, rows))
            .collect();
    }
    let mut out = Vec::with_capacity(steps);
    go(tensor, steps, rows, &mut out);
    out
}
