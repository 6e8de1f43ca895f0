//! The one generic driver behind [`crate::Rnn`], [`crate::Lstm`] and [`crate::Gru`]: input and
//! state validation, layer stacking, directions, lengths, inter-layer dropout, the single-step
//! API and the PyTorch state-dict names, written once for every [`Cell`].

use burn::nn::Dropout;
use burn::prelude::s;
use burn::tensor::{Bool, Tensor, TensorData};

use crate::align::LeftAlignment;
use crate::cell::{Cell, CellState, Direction, PaddingMask};
use crate::gate_weights::NamedParam;
use crate::state_dict::{ParamSink, ParamSource, StateDict};
use crate::{Error, Execution, Result};
use crate::{PadSide, SequenceLengths};

/// A layer's sequence output and final state.
#[derive(Debug, Clone)]
pub struct RecurrentOutput<S> {
    /// The last layer's outputs: `[batch, time, directions * hidden_out]`, forward direction in
    /// `[.., ..hidden_out]`, reverse in `[.., hidden_out..]`; exactly 0 past each length.
    pub output: Tensor<3>,
    /// The final state(s): `[num_layers * directions, batch, ..]`, index `layer * directions +
    /// direction`, taken at each sequence's own last valid step.
    pub state: S,
}

/// A layer's output and state after one time step (see e.g. [`crate::Lstm::step`]).
#[derive(Debug, Clone)]
pub struct StepOutput<S> {
    /// The last layer's output at this step: `[batch, hidden_out]`.
    pub output: Tensor<2>,
    /// The state after this step: `[num_layers, batch, ..]`.
    pub state: S,
}

/// The shape facts a layer gives the driver.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerSpec {
    pub name: &'static str,
    pub input_size: usize,
    pub hidden_size: usize,
    pub hidden_out: usize,
    pub num_layers: usize,
    pub bidirectional: bool,
    pub execution: Execution,
    /// Add each layer's input to its output from the second layer on.
    pub residual: bool,
}

impl LayerSpec {
    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// PyTorch's parameter-name suffix of cell `k` (`_l1`, `_l0_reverse`, ...).
    pub fn suffix(&self, k: usize) -> String {
        let d = self.directions();
        let reverse = if k % d == 1 { "_reverse" } else { "" };
        format!("_l{}{reverse}", k / d)
    }

    fn check_state(
        &self,
        what: &'static str,
        state: &Tensor<3>,
        batch: usize,
        width: usize,
    ) -> Result<()> {
        let expected = [self.num_layers * self.directions(), batch, width];
        if state.dims() != expected {
            return Err(Error::InputShape {
                layer: self.name,
                what,
                expected: format!("{expected:?} ([num_layers * directions, batch, width])"),
                found: state.dims().to_vec(),
            });
        }
        Ok(())
    }

    /// Split `[L*D, batch, ..]` initial states into one [`CellState`] per cell (zeros if absent;
    /// a cell part only when `has_cell_state`).
    fn initial_states(
        &self,
        has_cell_state: bool,
        h0: Option<Tensor<3>>,
        c0: Option<Tensor<3>>,
        batch: usize,
        device: &burn::tensor::Device,
    ) -> Result<Vec<CellState>> {
        let cells = self.num_layers * self.directions();
        if let Some(h0) = &h0 {
            self.check_state("initial hidden state h0", h0, batch, self.hidden_out)?;
        }
        match &c0 {
            Some(c0) if has_cell_state => {
                self.check_state("initial cell state c0", c0, batch, self.hidden_size)?
            }
            Some(c0) => {
                return Err(Error::InputShape {
                    layer: self.name,
                    what: "initial cell state c0",
                    expected: "none (this layer has no cell state)".to_string(),
                    found: c0.dims().to_vec(),
                });
            }
            None => {}
        }
        let part = |t: &Option<Tensor<3>>, k: usize, width: usize| match t {
            Some(t) => t
                .clone()
                .slice(s![k..k + 1, .., ..])
                .reshape([batch, width]),
            None => Tensor::zeros([batch, width], device),
        };
        Ok((0..cells)
            .map(|k| CellState {
                hidden: part(&h0, k, self.hidden_out),
                cell: has_cell_state.then(|| part(&c0, k, self.hidden_size)),
            })
            .collect())
    }
}

/// Stack per-cell final states into `[L*D, batch, ..]` tensors (`h_n`, and `c_n` for an LSTM).
fn stack_states(states: Vec<CellState>) -> (Tensor<3>, Option<Tensor<3>>) {
    let mut hidden = Vec::with_capacity(states.len());
    let mut cell = Vec::with_capacity(states.len());
    for state in states {
        hidden.push(state.hidden);
        if let Some(c) = state.cell {
            cell.push(c);
        }
    }
    let c_n = (!cell.is_empty()).then(|| Tensor::stack(cell, 0));
    (Tensor::stack(hidden, 0), c_n)
}

/// Run every layer and direction over a `[batch, time, input_size]` batch.
///
/// Returns `output: [batch, time, D * hidden_out]`, `h_n: [L*D, batch, hidden_out]` and, for
/// cells with a cell state, `c_n: [L*D, batch, hidden_size]`. A left-padded batch is
/// right-aligned before the first layer and its output rolled back after the last
/// ([`LeftAlignment`]): the time loops only ever see trailing padding.
pub(crate) fn forward_layers<C: Cell>(
    spec: &LayerSpec,
    cells: &[C],
    dropout: &Dropout,
    input: Tensor<3>,
    lengths: Option<&SequenceLengths>,
    h0: Option<Tensor<3>>,
    c0: Option<Tensor<3>>,
) -> Result<(Tensor<3>, Tensor<3>, Option<Tensor<3>>)> {
    let [batch, time, features] = input.dims();
    if features != spec.input_size || time == 0 || batch == 0 {
        return Err(Error::InputShape {
            layer: spec.name,
            what: "input",
            expected: format!(
                "[batch, time, {}] with batch >= 1 and time >= 1",
                spec.input_size
            ),
            found: input.dims().to_vec(),
        });
    }
    let device = input.device();
    // Lengths that make some step padding (validated: one per row, each in 0..=time).
    let lengths: Option<&SequenceLengths> = match lengths {
        Some(lengths) => {
            lengths
                .validate(batch, time)
                .map_err(|source| Error::Lengths {
                    layer: spec.name,
                    source,
                })?;
            (!lengths.is_full(time)).then_some(lengths)
        }
        None => None,
    };
    let host_lengths: Option<&[usize]> = lengths.map(SequenceLengths::as_slice);
    let alignment = lengths
        .filter(|l| l.side() == PadSide::Left)
        .map(|l| LeftAlignment::new(l.as_slice(), time, &device));
    // The reference path's mask, built on first use: after alignment padding is trailing.
    let mut padding: Option<PaddingMask> = None;
    let mut states = spec
        .initial_states(C::HAS_CELL_STATE, h0, c0, batch, &device)?
        .into_iter();
    let directions = spec.directions();
    let mut finals = Vec::with_capacity(cells.len());
    let mut x = match &alignment {
        Some(alignment) => alignment.to_right(input),
        None => input,
    };
    for layer in 0..spec.num_layers {
        if layer > 0 {
            x = dropout.forward(x);
        }
        // Widths match from the second layer on (`directions * hidden_out` both); padding
        // steps are 0 in both terms.
        let skip = (spec.residual && layer > 0).then(|| x.clone());
        let mut outputs = Vec::with_capacity(directions);
        let mut all_fused = true;
        for (d, direction) in [Direction::Forward, Direction::Reverse]
            .into_iter()
            .take(directions)
            .enumerate()
        {
            let cell = &cells[layer * directions + d];
            let initial = states.next().ok_or_else(|| Error::Unsupported {
                layer: spec.name,
                reason: "internal: fewer initial states than cells".to_string(),
            })?;
            let fast = match spec.execution {
                Execution::Reference => None,
                Execution::Auto => cell.run_fused(&x, &initial, host_lengths, direction).ok(),
                Execution::Fused => Some(
                    cell.run_fused(&x, &initial, host_lengths, direction)
                        .map_err(|reason| Error::FusedUnavailable {
                            layer: spec.name,
                            reason,
                        })?,
                ),
            };
            let (output, last) = match fast {
                Some(result) => result,
                None => {
                    all_fused = false;
                    if padding.is_none() {
                        padding = right_padding_mask(host_lengths, time, &device);
                    }
                    cell.run(x.clone(), initial, padding.as_ref(), direction)
                }
            };
            outputs.push(output);
            finals.push(last);
        }
        x = match (outputs.len(), all_fused) {
            (1, _) => outputs.remove(0),
            (2, true) => {
                let reverse = outputs.remove(1);
                crate::fused::concat_directions(outputs.remove(0), reverse)
            }
            _ => Tensor::cat(outputs, 2),
        };
        if let Some(skip) = skip {
            x = x + skip;
        }
    }
    if let Some(alignment) = &alignment {
        x = alignment.to_left(x);
    }
    let (h_n, c_n) = stack_states(finals);
    Ok((x, h_n, c_n))
}

/// The `[batch, time]` mask of trailing padding for validated `lengths` (`None` = no padding).
fn right_padding_mask(
    lengths: Option<&[usize]>,
    time: usize,
    device: &burn::tensor::Device,
) -> Option<PaddingMask> {
    let lengths = lengths?;
    let padding: Vec<bool> = lengths
        .iter()
        .flat_map(|&l| (0..time).map(move |t| t >= l))
        .collect();
    let mask =
        Tensor::<2, Bool>::from_data(TensorData::new(padding, [lengths.len(), time]), device);
    Some(PaddingMask::new(mask))
}

/// Advance every layer of a one-direction stack by one step.
///
/// `input: [batch, input_size]`; states `[L, batch, ..]`; returns `output: [batch, hidden_out]`,
/// `h: [L, batch, hidden_out]`, `c: [L, batch, hidden_size]` (cells with a cell state).
pub(crate) fn step_layers<C: Cell>(
    spec: &LayerSpec,
    cells: &[C],
    dropout: &Dropout,
    input: Tensor<2>,
    h0: Option<Tensor<3>>,
    c0: Option<Tensor<3>>,
) -> Result<(Tensor<2>, Tensor<3>, Option<Tensor<3>>)> {
    if spec.bidirectional {
        return Err(Error::Unsupported {
            layer: spec.name,
            reason: "step: a bidirectional layer needs the whole sequence (its reverse \
                     direction starts at the end); use forward, or bidirectional = false"
                .to_string(),
        });
    }
    let [batch, features] = input.dims();
    if features != spec.input_size || batch == 0 {
        return Err(Error::InputShape {
            layer: spec.name,
            what: "step input",
            expected: format!("[batch, {}] with batch >= 1", spec.input_size),
            found: input.dims().to_vec(),
        });
    }
    let states = spec.initial_states(C::HAS_CELL_STATE, h0, c0, batch, &input.device())?;
    let mut finals = Vec::with_capacity(cells.len());
    let mut x = input;
    for (layer, (cell, state)) in cells.iter().zip(states).enumerate() {
        if layer > 0 {
            x = dropout.forward(x);
        }
        let skip = (spec.residual && layer > 0).then(|| x.clone());
        let next = cell.step(&cell.prepare(), cell.project_input(x), &state);
        x = match skip {
            Some(skip) => next.hidden.clone() + skip,
            None => next.hidden.clone(),
        };
        finals.push(next);
    }
    let (h, c) = stack_states(finals);
    Ok((x, h, c))
}

/// The parameters of a cell under PyTorch's names.
pub(crate) trait CellParams: Sized {
    /// Replace every parameter with the state dict's value (name + `suffix`).
    fn load_params(self, source: &mut ParamSource<'_>, suffix: &str) -> Result<Self>;
    /// Write every parameter (name + `suffix`).
    fn save_params(&self, sink: &mut ParamSink<'_>, suffix: &str);
    /// List every parameter (name + `suffix`).
    fn named_params(&self, suffix: &str, out: &mut Vec<(String, NamedParam)>);
}

/// Load every cell's parameters from `dict` under `prefix`; strict like PyTorch's
/// `load_state_dict`: a missing key, an extra key under the prefix or a wrong shape is an error.
pub(crate) fn load_cells<C: CellParams>(
    spec: &LayerSpec,
    cells: Vec<C>,
    dict: &StateDict,
    prefix: &str,
) -> Result<Vec<C>> {
    let mut source = ParamSource::new(dict, prefix);
    let cells = cells
        .into_iter()
        .enumerate()
        .map(|(k, cell)| cell.load_params(&mut source, &spec.suffix(k)))
        .collect::<Result<Vec<C>>>()?;
    source.finish()?;
    Ok(cells)
}

/// Every cell's parameters as a PyTorch state dict under `prefix`.
pub(crate) fn save_cells<C: CellParams>(spec: &LayerSpec, cells: &[C], prefix: &str) -> StateDict {
    let mut dict = StateDict::new();
    let mut sink = ParamSink::new(&mut dict, prefix);
    for (k, cell) in cells.iter().enumerate() {
        cell.save_params(&mut sink, &spec.suffix(k));
    }
    dict
}

/// Every cell's parameters with their PyTorch names, in PyTorch's `named_parameters()` order.
pub(crate) fn named_cells<C: CellParams>(
    spec: &LayerSpec,
    cells: &[C],
) -> Vec<(String, NamedParam)> {
    let mut out = Vec::new();
    for (k, cell) in cells.iter().enumerate() {
        cell.named_params(&spec.suffix(k), &mut out);
    }
    out
}

/// Validate the fields every recurrent config shares.
pub(crate) fn check_common(
    config: &'static str,
    input_size: usize,
    hidden_size: usize,
    num_layers: usize,
    dropout: f64,
) -> Result<()> {
    let invalid = |field: &'static str, reason: String| {
        Err(Error::InvalidConfig {
            config,
            field,
            reason,
        })
    };
    if input_size == 0 {
        return invalid("input_size", "must be at least 1".to_string());
    }
    if hidden_size == 0 {
        return invalid("hidden_size", "must be at least 1".to_string());
    }
    if num_layers == 0 {
        return invalid("num_layers", "must be at least 1".to_string());
    }
    if !(0.0..1.0).contains(&dropout) {
        return invalid(
            "dropout",
            format!("must be in [0, 1) (the probability of zeroing an element), found {dropout}"),
        );
    }
    Ok(())
}

/// Input size of each cell: `input_size` for layer 0, `directions * hidden_out` above.
pub(crate) fn cell_input_size(spec: &LayerSpec, k: usize) -> usize {
    if k < spec.directions() {
        spec.input_size
    } else {
        spec.directions() * spec.hidden_out
    }
}
