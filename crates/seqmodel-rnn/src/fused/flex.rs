//! The fused recurrence as a Burn backend extension on flex, with a handwritten backward pass
//! for `Autodiff<Flex>`.
//!
//! The op returns one packed tensor `[B*T + S*B, H]` (outputs, then `h_n`, then `c_n`): a
//! backward step has exactly one output node, and the caller cuts the three results out of it
//! with the autodiff backend's own slices, so gradients from all of them reach the op. Each
//! result is a contiguous range of rows, so the cuts (and the output's reshape to
//! `[B, T, H]`) are views, not copies.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Bytes, DType, Dispatch, Flex, Shape, backend_extension};
use burn::tensor::Tensor;

use super::cpu::{self, CellKind, Dims, Inputs, Needs, Prepacked, Saved};
use super::simd::Isa;
use super::weight_cache;

/// The fused recurrence (see [`super::cpu`] for the layouts).
#[backend_extension(Flex, Autodiff)]
pub trait FusedRecurrence: Backend {
    /// `x: [B, T, In]`, `w_ih: [G*H, In]`, `bias: [G*H]`, `w_hh: [G*H, H]`, `b_hn: [H]`,
    /// `h0, c0: [B, H]` -> `[B*T + S*B, H]`.
    #[allow(clippy::too_many_arguments)]
    fn fused_recurrence(
        x: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hn: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        lengths: Vec<usize>,
        kind: CellKind,
        reverse: bool,
    ) -> FloatTensor<Self>;
}

/// Run the fused op on flex tensors (with or without autodiff).
#[allow(clippy::too_many_arguments)]
pub(super) fn recurrence(
    x: Tensor<3>,
    w_ih: Tensor<2>,
    bias: Tensor<1>,
    w_hh: Tensor<2>,
    b_hn: Tensor<1>,
    h0: Tensor<2>,
    c0: Tensor<2>,
    lengths: Vec<usize>,
    kind: CellKind,
    reverse: bool,
) -> Tensor<2> {
    let out = <Dispatch as FusedRecurrence>::fused_recurrence(
        x.into_dispatch(),
        w_ih.into_dispatch(),
        bias.into_dispatch(),
        w_hh.into_dispatch(),
        b_hn.into_dispatch(),
        h0.into_dispatch(),
        c0.into_dispatch(),
        lengths,
        kind,
        reverse,
    );
    Tensor::from_dispatch(out)
}

/// A contiguous `f32` copy-free view of a flex tensor (copies only non-contiguous views).
struct F32Buffer(FlexTensor);

impl F32Buffer {
    fn new(tensor: FlexTensor) -> Self {
        assert_eq!(
            tensor.dtype(),
            DType::F32,
            "the fused recurrence is only chosen for f32 tensors"
        );
        Self(tensor.to_contiguous())
    }

    fn slice(&self) -> &[f32] {
        self.0
            .as_slice::<f32>()
            .expect("a contiguous f32 tensor has an f32 slice")
    }

    fn dims(&self) -> Vec<usize> {
        self.0.layout().shape().to_vec()
    }
}

fn flex_tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(shape.to_vec())),
        DType::F32,
    )
}

/// Everything the forward and backward passes need, read from flex tensors.
#[derive(Debug)]
struct Call {
    x: F32BufferDebug,
    w_ih: F32BufferDebug,
    bias: F32BufferDebug,
    w_hh: F32BufferDebug,
    b_hn: F32BufferDebug,
    h0: F32BufferDebug,
    c0: F32BufferDebug,
    lengths: Vec<usize>,
    kind: CellKind,
    dims: Dims,
}

/// [`F32Buffer`] with a short `Debug` (autodiff states must be `Debug`).
struct F32BufferDebug(F32Buffer);

impl std::fmt::Debug for F32BufferDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "f32{:?}", self.0.dims())
    }
}

impl Call {
    #[allow(clippy::too_many_arguments)]
    fn new(
        x: FlexTensor,
        w_ih: FlexTensor,
        bias: FlexTensor,
        w_hh: FlexTensor,
        b_hn: FlexTensor,
        h0: FlexTensor,
        c0: FlexTensor,
        lengths: Vec<usize>,
        kind: CellKind,
        reverse: bool,
    ) -> Self {
        let x = F32Buffer::new(x);
        let [batch, time, input] = x.dims()[..] else {
            panic!("fused recurrence: x must be [B, T, In], got {:?}", x.dims());
        };
        let w_hh = F32Buffer::new(w_hh);
        let hidden = w_hh.dims()[1];
        Self {
            x: F32BufferDebug(x),
            w_ih: F32BufferDebug(F32Buffer::new(w_ih)),
            bias: F32BufferDebug(F32Buffer::new(bias)),
            w_hh: F32BufferDebug(w_hh),
            b_hn: F32BufferDebug(F32Buffer::new(b_hn)),
            h0: F32BufferDebug(F32Buffer::new(h0)),
            c0: F32BufferDebug(F32Buffer::new(c0)),
            lengths,
            kind,
            dims: Dims {
                batch,
                time,
                hidden,
                input,
                reverse,
            },
        }
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs {
            x: self.x.0.slice(),
            w_ih: self.w_ih.0.slice(),
            bias: self.bias.0.slice(),
            w_hh: self.w_hh.0.slice(),
            b_hn: self.b_hn.0.slice(),
            h0: self.h0.0.slice(),
            c0: self.c0.0.slice(),
            lengths: &self.lengths,
        }
    }

    fn output_shape(&self) -> [usize; 2] {
        let Dims {
            batch,
            time,
            hidden,
            ..
        } = self.dims;
        [batch * (time + self.kind.state_rows()), hidden]
    }

    /// The forward pass; inference takes the packed weights from [`weight_cache`].
    fn forward(&self, train: bool) -> (FlexTensor, Option<Saved>) {
        let isa = Isa::detect();
        let inputs = self.inputs();
        let (out, saved) = if train {
            cpu::forward(isa, self.kind, self.dims, &inputs, true)
        } else {
            let gh = self.kind.gates() * self.dims.hidden;
            let w_ih_t =
                weight_cache::transposed(&self.w_ih.0.0, inputs.w_ih, gh, self.dims.input, isa);
            let w_hh_t =
                weight_cache::transposed(&self.w_hh.0.0, inputs.w_hh, gh, self.dims.hidden, isa);
            let prepacked = Prepacked {
                w_ih_t: &w_ih_t,
                w_hh_t: &w_hh_t,
            };
            cpu::forward_prepacked(isa, self.kind, self.dims, &inputs, false, Some(prepacked))
        };
        (flex_tensor(out, &self.output_shape()), saved)
    }
}

impl FusedRecurrence for Flex {
    fn fused_recurrence(
        x: FlexTensor,
        w_ih: FlexTensor,
        bias: FlexTensor,
        w_hh: FlexTensor,
        b_hn: FlexTensor,
        h0: FlexTensor,
        c0: FlexTensor,
        lengths: Vec<usize>,
        kind: CellKind,
        reverse: bool,
    ) -> FlexTensor {
        Call::new(x, w_ih, bias, w_hh, b_hn, h0, c0, lengths, kind, reverse)
            .forward(false)
            .0
    }
}

/// The backward step: BPTT over the activations saved by the forward pass.
#[derive(Debug)]
struct RecurrenceBackward;

/// What the backward step keeps: the inputs and the saved activations.
#[derive(Debug, Clone)]
struct BackwardState(Arc<(Call, Saved)>);

impl Backward<Flex, 7> for RecurrenceBackward {
    type State = BackwardState;

    fn backward(self, ops: Ops<Self::State, 7>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad_out: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (call, saved) = &*ops.state.0;
        let d_out = F32Buffer::new(grad_out);
        let [x, w_ih, bias, w_hh, b_hn, _, _] = ops.parents.each_ref().map(Option::is_some);
        let needs = Needs {
            x,
            w_ih,
            bias,
            w_hh,
            b_hn,
        };
        let g = cpu::backward(
            Isa::detect(),
            call.kind,
            call.dims,
            &call.inputs(),
            saved,
            d_out.slice(),
            needs,
        );
        let shapes = [
            call.x.0.dims(),
            call.w_ih.0.dims(),
            call.bias.0.dims(),
            call.w_hh.0.dims(),
            call.b_hn.0.dims(),
            call.h0.0.dims(),
            call.c0.0.dims(),
        ];
        let values = [g.x, g.w_ih, g.bias, g.w_hh, g.b_hn, g.h0, g.c0];
        for ((parent, values), shape) in ops.parents.iter().zip(values).zip(&shapes) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, flex_tensor(values, shape));
            }
        }
    }
}

impl<C: CheckpointStrategy> FusedRecurrence for Autodiff<Flex, C> {
    fn fused_recurrence(
        x: FloatTensor<Self>,
        w_ih: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hn: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        lengths: Vec<usize>,
        kind: CellKind,
        reverse: bool,
    ) -> FloatTensor<Self> {
        let (x, x_node) = x.into_parts();
        let (w_ih, wi_node) = w_ih.into_parts();
        let (bias, bias_node) = bias.into_parts();
        let (w_hh, w_node) = w_hh.into_parts();
        let (b_hn, b_node) = b_hn.into_parts();
        let (h0, h_node) = h0.into_parts();
        let (c0, c_node) = c0.into_parts();
        let call = Call::new(x, w_ih, bias, w_hh, b_hn, h0, c0, lengths, kind, reverse);
        let nodes = [x_node, wi_node, bias_node, w_node, b_node, h_node, c_node];
        match RecurrenceBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (out, saved) = call.forward(true);
                let saved = saved.unwrap_or_default();
                prep.finish(BackwardState(Arc::new((call, saved))), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(call.forward(false).0),
        }
    }
}
