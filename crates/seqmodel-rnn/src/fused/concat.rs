//! The output of a bidirectional layer on flex: the two directions' outputs side by side,
//! read in place.
//!
//! Burn's `cat` makes each input contiguous (copying a strided view into a fresh buffer), then
//! interleaves them into another fresh buffer on one thread: with the directions' outputs as
//! strided views into the fused op's packed tensors this took 3.3–6 ms per bidirectional layer
//! of `cargo xtask bench-backends` case d (13–20% of the layer). This op reads both inputs
//! through their strides, whatever they are, and writes `[B, T, 2H]` once, in parallel over the
//! batch; its backward splits the gradient the same way.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Bytes, DType, Dispatch, Flex, Shape, backend_extension};
use burn::tensor::Tensor;
use rayon::prelude::*;

/// Two `[B, T, H]` tensors side by side along the last dimension.
#[backend_extension(Flex, Autodiff)]
pub trait ConcatDirections: Backend {
    /// `forward, reverse: [B, T, H]` -> `[B, T, 2H]`, each row `forward` then `reverse`.
    fn concat_directions(
        forward: FloatTensor<Self>,
        reverse: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// [`ConcatDirections::concat_directions`] on flex tensors (with or without autodiff).
pub(super) fn concat_directions(forward: Tensor<3>, reverse: Tensor<3>) -> Tensor<3> {
    let out = <Dispatch as ConcatDirections>::concat_directions(
        forward.into_dispatch(),
        reverse.into_dispatch(),
    );
    Tensor::from_dispatch(out)
}

/// The rows of a `[B, T, H]` `f32` flex tensor: row `(b, t)` at
/// `data[offset + b * batch + t * step ..][..H]`.
struct Rows<'a> {
    data: &'a [f32],
    offset: usize,
    batch: usize,
    step: usize,
}

impl<'a> Rows<'a> {
    /// The rows of `t` in place when its last dimension is unit-stride and the others do not
    /// run backwards; `None` otherwise.
    fn of(t: &'a FlexTensor) -> Option<Self> {
        let layout = t.layout();
        let strides = layout.strides();
        if t.dtype() != DType::F32 || strides.len() != 3 || strides[2] != 1 {
            return None;
        }
        Some(Self {
            data: t.storage::<f32>(),
            offset: layout.start_offset(),
            batch: usize::try_from(strides[0]).ok()?,
            step: usize::try_from(strides[1]).ok()?,
        })
    }

    fn row(&self, b: usize, t: usize, h: usize) -> &[f32] {
        &self.data[self.offset + b * self.batch + t * self.step..][..h]
    }
}

fn shape3(t: &FlexTensor) -> [usize; 3] {
    let dims = t.layout().shape();
    assert_eq!(dims.num_dims(), 3, "concat_directions: [B, T, H] tensors");
    [dims[0], dims[1], dims[2]]
}

fn flex_tensor(values: Vec<f32>, shape: [usize; 3]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(shape.to_vec())),
        DType::F32,
    )
}

/// `[B, T, 2H]` from two `[B, T, H]` tensors.
fn interleave(forward: FlexTensor, reverse: FlexTensor) -> FlexTensor {
    let [b, t, h] = shape3(&forward);
    assert_eq!(
        shape3(&reverse),
        [b, t, h],
        "concat_directions: equal shapes"
    );
    // Views with unusual strides (never made by the fused op) are copied first.
    let forward = match Rows::of(&forward) {
        Some(_) => forward,
        None => forward.to_contiguous(),
    };
    let reverse = match Rows::of(&reverse) {
        Some(_) => reverse,
        None => reverse.to_contiguous(),
    };
    let (f, r) = match (Rows::of(&forward), Rows::of(&reverse)) {
        (Some(f), Some(r)) => (f, r),
        _ => panic!("concat_directions: f32 tensors"),
    };
    let mut out = vec![0.0f32; b * t * 2 * h];
    if h > 0 {
        out.par_chunks_mut((t * 2 * h).max(1))
            .enumerate()
            .for_each(|(bi, rows)| {
                for (ti, row) in rows.chunks_exact_mut(2 * h).enumerate() {
                    row[..h].copy_from_slice(f.row(bi, ti, h));
                    row[h..].copy_from_slice(r.row(bi, ti, h));
                }
            });
    }
    flex_tensor(out, [b, t, 2 * h])
}

/// The two halves `[B, T, H]` of a `[B, T, 2H]` gradient.
fn split(grad: FlexTensor) -> (FlexTensor, FlexTensor) {
    let grad = match Rows::of(&grad) {
        Some(_) => grad,
        None => grad.to_contiguous(),
    };
    let [b, t, h2] = shape3(&grad);
    let h = h2 / 2;
    let g = Rows::of(&grad).expect("an f32 gradient");
    let mut forward = vec![0.0f32; b * t * h];
    let mut reverse = vec![0.0f32; b * t * h];
    if h > 0 {
        forward
            .par_chunks_mut((t * h).max(1))
            .zip(reverse.par_chunks_mut((t * h).max(1)))
            .enumerate()
            .for_each(|(bi, (f, r))| {
                for ti in 0..t {
                    let row = g.row(bi, ti, h2);
                    f[ti * h..][..h].copy_from_slice(&row[..h]);
                    r[ti * h..][..h].copy_from_slice(&row[h..]);
                }
            });
    }
    (
        flex_tensor(forward, [b, t, h]),
        flex_tensor(reverse, [b, t, h]),
    )
}

impl ConcatDirections for Flex {
    fn concat_directions(forward: FlexTensor, reverse: FlexTensor) -> FlexTensor {
        interleave(forward, reverse)
    }
}

/// The backward step: the gradient's halves go to the two inputs.
#[derive(Debug)]
struct ConcatBackward;

impl Backward<Flex, 2> for ConcatBackward {
    type State = ();

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (forward, reverse) = split(grad);
        for (parent, values) in ops.parents.iter().zip([forward, reverse]) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, values);
            }
        }
    }
}

impl<C: CheckpointStrategy> ConcatDirections for Autodiff<Flex, C> {
    fn concat_directions(
        forward: FloatTensor<Self>,
        reverse: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (forward, f_node) = forward.into_parts();
        let (reverse, r_node) = reverse.into_parts();
        ConcatBackward
            .prepare::<C>([f_node, r_node])
            .compute_bound()
            .stateless(interleave(forward, reverse))
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;

    fn values(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| seed + i as f32 * 0.5).collect()
    }

    /// Views into larger tensors (as the fused op's outputs are) give what `Tensor::cat`
    /// gives, and the gradient of each half reaches its input.
    #[test]
    fn views_side_by_side_match_cat_and_split_the_gradient() {
        let device = Device::flex().autodiff();
        let (b, t, h) = (3, 4, 5);
        let packed = |seed| {
            Tensor::<3>::from_data(
                TensorData::new(values(b * (t + 2) * h, seed), [b, t + 2, h]),
                &device,
            )
            .require_grad()
        };
        let (pf, pr) = (packed(1.0), packed(-7.0));
        let (f, r) = (
            pf.clone().slice([0..b, 0..t, 0..h]),
            pr.clone().slice([0..b, 0..t, 0..h]),
        );
        let got = concat_directions(f.clone(), r.clone());
        let want = Tensor::cat(vec![f, r], 2);
        assert_eq!(got.dims(), [b, t, 2 * h]);
        assert_eq!(got.to_data(), want.to_data());

        let weights = Tensor::<3>::from_data(
            TensorData::new(values(b * t * 2 * h, 0.25), [b, t, 2 * h]),
            &device,
        );
        let grads = (got * weights.clone()).sum().backward();
        let expect = |half: std::ops::Range<usize>| {
            let w = weights.clone().slice([0..b, 0..t, half]);
            Tensor::<3>::zeros([b, t + 2, h], &device)
                .slice_assign([0..b, 0..t, 0..h], w)
                .into_data()
        };
        assert_eq!(pf.grad(&grads).expect("tracked").into_data(), expect(0..h));
        assert_eq!(
            pr.grad(&grads).expect("tracked").into_data(),
            expect(h..2 * h)
        );
    }
}
