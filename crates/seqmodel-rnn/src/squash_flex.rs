//! `sigmoid` and `tanh` on flex `f32` tensors through the fused kernels' SIMD polynomials
//! (the crate's `fused::simd`), with a handwritten backward for `Autodiff<Flex>`.
//!
//! Why: flex evaluates both per element with the scalar math library; on a `[32, 64, 256]`
//! tensor (case a of `cargo xtask bench-backends`) that was 4.9 ms for `sigmoid` and 11.9 ms
//! for `tanh`, more than the Quasi-RNN's gate matmuls. Other backends, and other float types,
//! use Burn's own ops ([`sigmoid`] and [`tanh`] decide).
//!
//! Backward from the output `y`: `dx = dy * y (1 - y)` (sigmoid), `dx = dy * (1 - y^2)` (tanh).

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Bytes, DType, Dispatch, Flex, Shape, backend_extension};
use burn::tensor::Tensor;

use crate::fused::simd::{Isa, Portable, Simd, with_isa};

/// Which squashing function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Squash {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
}

/// The squashing functions as a Burn backend extension.
#[backend_extension(Flex, Autodiff)]
pub trait FastSquash: Backend {
    /// Elementwise `kind(x)`, any shape.
    fn fast_squash(x: FloatTensor<Self>, kind: Squash) -> FloatTensor<Self>;
}

fn on_flex_f32<const D: usize>(x: &Tensor<D>) -> bool {
    use burn::backend::DispatchDevice;
    x.dtype() == DType::F32 && matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_))
}

fn squash<const D: usize>(x: Tensor<D>, kind: Squash) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as FastSquash>::fast_squash(
        x.into_dispatch(),
        kind,
    ))
}

/// `sigmoid(x)`: the SIMD kernel on flex `f32`, Burn's op elsewhere.
pub(crate) fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if on_flex_f32(&x) {
        squash(x, Squash::Sigmoid)
    } else {
        burn::tensor::activation::sigmoid(x)
    }
}

/// `tanh(x)`: the SIMD kernel on flex `f32`, Burn's op elsewhere.
pub(crate) fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if on_flex_f32(&x) {
        squash(x, Squash::Tanh)
    } else {
        x.tanh()
    }
}

/// `kind` of every value of `input`.
fn apply(kind: Squash, input: &[f32]) -> Vec<f32> {
    let n = input.len();
    let mut out = vec![0.0f32; n];
    let src = input.as_ptr();
    let dst = out.as_mut_ptr();
    with_isa!(Isa::detect(), fn(kind: Squash, src: *const f32, dst: *mut f32, n: usize) {
        // SAFETY: `S` runs under its own instruction set here; `src` and `dst` hold `n` values,
        // and full vectors are read and written only below `n / LANES * LANES`.
        unsafe {
            let full = n / S::LANES * S::LANES;
            let mut i = 0;
            while i < full {
                let v = S::load(src.add(i));
                let y = match kind {
                    Squash::Sigmoid => S::sigmoid(v),
                    Squash::Tanh => S::tanh(v),
                };
                S::store(dst.add(i), y);
                i += S::LANES;
            }
            for j in full..n {
                let v = *src.add(j);
                *dst.add(j) = match kind {
                    Squash::Sigmoid => <Portable as Simd>::sigmoid(v),
                    Squash::Tanh => <Portable as Simd>::tanh(v),
                };
            }
        }
    });
    out
}

fn read(x: &FlexTensor) -> (Vec<f32>, Vec<usize>) {
    let x = x.to_contiguous();
    let shape = x.layout().shape().to_vec();
    let values = x
        .as_slice::<f32>()
        .expect("the fast squash is chosen for contiguous f32 tensors")
        .to_vec();
    (values, shape)
}

fn tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(shape.to_vec())),
        DType::F32,
    )
}

impl FastSquash for Flex {
    fn fast_squash(x: FlexTensor, kind: Squash) -> FlexTensor {
        let (values, shape) = read(&x);
        tensor(apply(kind, &values), &shape)
    }
}

/// The backward step, from the saved output.
#[derive(Debug)]
struct SquashBackward;

/// The output `y`, its shape, and which function made it.
#[derive(Clone)]
struct SquashState(Arc<(Vec<f32>, Vec<usize>, Squash)>);

impl std::fmt::Debug for SquashState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}{:?}", self.0.2, self.0.1)
    }
}

impl Backward<Flex, 1> for SquashBackward {
    type State = SquashState;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (y, shape, kind) = &*ops.state.0;
        let (dy, _) = read(&grad);
        let dx: Vec<f32> = match kind {
            Squash::Sigmoid => dy.iter().zip(y).map(|(g, y)| g * y * (1.0 - y)).collect(),
            Squash::Tanh => dy.iter().zip(y).map(|(g, y)| g * (1.0 - y * y)).collect(),
        };
        if let [Some(node)] = &ops.parents {
            grads.register::<Flex>(node.id, tensor(dx, shape));
        }
    }
}

impl<C: CheckpointStrategy> FastSquash for Autodiff<Flex, C> {
    fn fast_squash(x: FloatTensor<Self>, kind: Squash) -> FloatTensor<Self> {
        let (x, node) = x.into_parts();
        let (values, shape) = read(&x);
        let y = apply(kind, &values);
        match SquashBackward
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = tensor(y.clone(), &shape);
                prep.finish(SquashState(Arc::new((y, shape, kind))), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(tensor(y, &shape)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    /// Values (37 of them: full vectors and a tail) and gradients agree with Burn's ops.
    #[test]
    fn matches_burn_in_values_and_gradients() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::random([37, 3], Distribution::Uniform(-9.0, 9.0), &device);
        let w = Tensor::<2>::random([37, 3], Distribution::Default, &device);
        for (ours, theirs) in [
            (
                sigmoid::<2> as fn(Tensor<2>) -> Tensor<2>,
                burn::tensor::activation::sigmoid::<2> as fn(Tensor<2>) -> Tensor<2>,
            ),
            (tanh::<2>, |x: Tensor<2>| x.tanh()),
        ] {
            let run = |f: fn(Tensor<2>) -> Tensor<2>| {
                let x = x.clone().require_grad();
                let y = f(x.clone());
                let grads = (y.clone() * w.clone()).sum().backward();
                let dx = x.grad(&grads).expect("gradient");
                (
                    y.into_data().try_to_vec::<f32>().expect("f32"),
                    dx.into_data().try_to_vec::<f32>().expect("f32"),
                )
            };
            let (a, da) = run(ours);
            let (b, db) = run(theirs);
            let diff = |p: &[f32], q: &[f32]| {
                p.iter()
                    .zip(q)
                    .map(|(p, q)| (p - q).abs())
                    .fold(0.0f32, f32::max)
            };
            assert!(diff(&a, &b) < 1e-6, "values differ by {}", diff(&a, &b));
            assert!(
                diff(&da, &db) < 1e-6,
                "gradients differ by {}",
                diff(&da, &db)
            );
        }
    }
}
