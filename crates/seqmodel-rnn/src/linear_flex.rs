//! `y = x W + b` on flex `f32` tensors through the fused kernels' packed GEMM
//! (`fused::matmul`), with a handwritten backward for `Autodiff<Flex>`.
//!
//! Why: flex runs Burn's `Linear` through the `gemm` crate's AVX2 kernels, which reached
//! 20–35 GFLOP/s on the shapes of a seq2seq decoder here (`[640, 512] x [512, 256]`), while the
//! crate's own tiled product (AVX-512 where the CPU has it) runs the recurrent layers at
//! 90–145 GFLOP/s (`docs/performance.md`).
//!
//! Shapes: `x: [n, in]` (rows flattened by the caller), `W: [in, out]` (Burn's `Linear` layout),
//! `b: [out]`, `y: [n, out]`. Backward from `dy: [n, out]`: `dx = dy Wᵀ`, `dW = xᵀ dy`,
//! `db = Σ_rows dy`, the products on the same packed GEMM.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Bytes, DType, Dispatch, Flex, Shape, backend_extension};
use burn::tensor::Tensor;

use crate::fused::matmul::{PackedMatrix, parallel_product, parallel_product_strided};
use crate::fused::simd::Isa;

/// The affine map as a Burn backend extension.
#[backend_extension(Flex, Autodiff)]
pub trait FastAffine: Backend {
    /// `x W + b` for `x: [n, in]`, `W: [in, out]`, `b: [out]`.
    fn fast_affine(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// Whether every tensor is a flex `f32` tensor (the op's domain).
pub(crate) fn on_flex_f32(tensors: &[&Tensor<2>]) -> bool {
    use burn::backend::DispatchDevice;
    tensors.iter().all(|t| {
        t.dtype() == DType::F32
            && matches!(t.device().inner().as_dispatch(), DispatchDevice::Flex(_))
    })
}

/// `x W + b` through the extension (the caller has checked [`on_flex_f32`]).
pub(crate) fn affine(x: Tensor<2>, w: Tensor<2>, b: Tensor<1>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FastAffine>::fast_affine(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
    ))
}

/// A contiguous view of `t` and its shape.
fn contiguous(t: &FlexTensor) -> (FlexTensor, Vec<usize>) {
    let t = t.to_contiguous();
    let shape = t.layout().shape().to_vec();
    (t, shape)
}

fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("the fast affine map is chosen for f32 tensors, made contiguous")
}

fn tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(shape.to_vec())),
        DType::F32,
    )
}

/// `c[n, ldc]` (ldc = `p`'s padded width) into a compact `[n, width]`.
fn compact(c: Vec<f32>, n: usize, ldc: usize, width: usize) -> Vec<f32> {
    if ldc == width {
        return c;
    }
    let mut out = Vec::with_capacity(n * width);
    for row in c.chunks_exact(ldc).take(n) {
        out.extend_from_slice(&row[..width]);
    }
    out
}

/// `y = x W + b`: `x: [n, k]`, `w: [k, m]`, `b: [m]`.
fn forward(x: &[f32], w: &[f32], b: &[f32], n: usize, k: usize, m: usize) -> Vec<f32> {
    if n == 0 || m == 0 {
        return vec![0.0; n * m];
    }
    if k == 0 {
        return b.iter().copied().cycle().take(n * m).collect();
    }
    let isa = Isa::detect();
    let packed = PackedMatrix::rows(w, k, m, isa);
    let ldc = packed.padded_n();
    let mut c = vec![0.0f32; n * ldc];
    parallel_product(isa, x, k, &packed, &mut c, ldc);
    let mut y = compact(c, n, ldc, m);
    for row in y.chunks_exact_mut(m) {
        for (v, bias) in row.iter_mut().zip(b) {
            *v += bias;
        }
    }
    y
}

/// `dx = dy Wᵀ`: `dy: [n, m]`, `w: [k, m]` → `[n, k]`.
fn input_gradient(dy: &[f32], w: &[f32], n: usize, k: usize, m: usize) -> Vec<f32> {
    if n == 0 || k == 0 || m == 0 {
        return vec![0.0; n * k];
    }
    let isa = Isa::detect();
    // `w` is `[k, m]` row-major: as `[n', k'] = [k, m]`, `transposed` packs `wᵀ: [m, k]`.
    let packed = PackedMatrix::transposed(w, k, m, isa);
    let ldc = packed.padded_n();
    let mut c = vec![0.0f32; n * ldc];
    parallel_product(isa, dy, m, &packed, &mut c, ldc);
    compact(c, n, ldc, k)
}

/// `dW = xᵀ dy`: `x: [n, k]`, `dy: [n, m]` → `[k, m]`.
fn weight_gradient(x: &[f32], dy: &[f32], n: usize, k: usize, m: usize) -> Vec<f32> {
    if n == 0 || k == 0 || m == 0 {
        return vec![0.0; k * m];
    }
    let isa = Isa::detect();
    let packed = PackedMatrix::rows(dy, n, m, isa);
    let ldc = packed.padded_n();
    let mut c = vec![0.0f32; k * ldc];
    // Row `r` of `xᵀ` is column `r` of `x`: element `(r, i)` at `x[i * k + r]`.
    parallel_product_strided(isa, x, k, (1, k), &packed, &mut c, ldc);
    compact(c, k, ldc, m)
}

/// `db = Σ_rows dy`.
fn bias_gradient(dy: &[f32], m: usize) -> Vec<f32> {
    let mut db = vec![0.0f32; m];
    if m == 0 {
        return db;
    }
    for row in dy.chunks_exact(m) {
        for (acc, v) in db.iter_mut().zip(row) {
            *acc += v;
        }
    }
    db
}

/// `(n, k, m)` from the shapes of `x: [n, k]`, `w: [k, m]` and `b: [m]`.
fn dims(x: &[usize], w: &[usize], b: &[usize]) -> (usize, usize, usize) {
    assert!(
        x.len() == 2 && w.len() == 2 && b.len() == 1 && x[1] == w[0] && b[0] == w[1],
        "fast affine: x {x:?}, W {w:?} and b {b:?} do not fit [n, k] x [k, m] + [m]"
    );
    (x[0], x[1], w[1])
}

impl FastAffine for Flex {
    fn fast_affine(x: FlexTensor, w: FlexTensor, b: FlexTensor) -> FlexTensor {
        let (x, xs) = contiguous(&x);
        let (w, ws) = contiguous(&w);
        let (b, bs) = contiguous(&b);
        let (n, k, m) = dims(&xs, &ws, &bs);
        tensor(
            forward(values(&x), values(&w), values(&b), n, k, m),
            &[n, m],
        )
    }
}

/// The backward step, from the saved input and weight.
#[derive(Debug)]
struct AffineBackward;

/// `x` and `W` (contiguous; clones share their storage) and `(n, k, m)`.
#[derive(Clone)]
struct AffineState {
    x: FlexTensor,
    w: FlexTensor,
    dims: (usize, usize, usize),
}

impl std::fmt::Debug for AffineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AffineState{:?}", self.dims)
    }
}

impl Backward<Flex, 3> for AffineBackward {
    type State = AffineState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (dy, _) = contiguous(&grad);
        let dy = values(&dy);
        let AffineState { x, w, dims } = &ops.state;
        let (n, k, m) = *dims;
        let [x_node, w_node, b_node] = &ops.parents;
        if let Some(node) = x_node {
            let dx = input_gradient(dy, values(w), n, k, m);
            grads.register::<Flex>(node.id, tensor(dx, &[n, k]));
        }
        if let Some(node) = w_node {
            let dw = weight_gradient(values(x), dy, n, k, m);
            grads.register::<Flex>(node.id, tensor(dw, &[k, m]));
        }
        if let Some(node) = b_node {
            grads.register::<Flex>(node.id, tensor(bias_gradient(dy, m), &[m]));
        }
    }
}

impl<C: CheckpointStrategy> FastAffine for Autodiff<Flex, C> {
    fn fast_affine(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (x, x_node) = x.into_parts();
        let (w, w_node) = w.into_parts();
        let (b, b_node) = b.into_parts();
        let (x, xs) = contiguous(&x);
        let (w, ws) = contiguous(&w);
        let (b, bs) = contiguous(&b);
        let (n, k, m) = dims(&xs, &ws, &bs);
        let y = tensor(
            forward(values(&x), values(&w), values(&b), n, k, m),
            &[n, m],
        );
        match AffineBackward
            .prepare::<C>([x_node, w_node, b_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                AffineState {
                    x,
                    w,
                    dims: (n, k, m),
                },
                y,
            ),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `x W + b` by definition, in f64.
    fn naive(x: &[f32], w: &[f32], b: &[f32], n: usize, k: usize, m: usize) -> Vec<f32> {
        let mut y = vec![0.0f32; n * m];
        for i in 0..n {
            for j in 0..m {
                let mut acc = b[j] as f64;
                for r in 0..k {
                    acc += x[i * k + r] as f64 * w[r * m + j] as f64;
                }
                y[i * m + j] = acc as f32;
            }
        }
        y
    }

    fn ramp(len: usize, scale: f32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 37 % 101) as f32 / 50.0 - 1.0) * scale)
            .collect()
    }

    /// Odd shapes (not multiples of any register tile) and the degenerate ones.
    #[test]
    fn products_agree_with_the_definition() {
        for (n, k, m) in [
            (1, 1, 1),
            (7, 13, 5),
            (65, 33, 47),
            (130, 3, 70),
            (3, 0, 4),
            (0, 5, 3),
        ] {
            let x = ramp(n * k, 1.0);
            let w = ramp(k * m, 0.5);
            let b = ramp(m, 0.25);
            let close = |a: &[f32], b: &[f32]| {
                assert_eq!(a.len(), b.len());
                a.iter()
                    .zip(b)
                    .all(|(p, q)| (p - q).abs() <= 1e-4 * (1.0 + q.abs()))
            };
            assert!(close(
                &forward(&x, &w, &b, n, k, m),
                &naive(&x, &w, &b, n, k, m)
            ));
            // dx = dy Wᵀ is the affine map of dy by Wᵀ without bias.
            let dy = ramp(n * m, 0.75);
            let wt: Vec<f32> = (0..m * k).map(|i| w[(i % k) * m + i / k]).collect();
            let zeros_k = vec![0.0; k];
            assert!(close(
                &input_gradient(&dy, &w, n, k, m),
                &naive(&dy, &wt, &zeros_k, n, m, k)
            ));
            // dW = xᵀ dy.
            let xt: Vec<f32> = (0..k * n).map(|i| x[(i % n) * k + i / n]).collect();
            let zeros_m = vec![0.0; m];
            assert!(close(
                &weight_gradient(&x, &dy, n, k, m),
                &naive(&xt, &dy, &zeros_m, k, n, m)
            ));
            let db: Vec<f32> = (0..m)
                .map(|j| (0..n).map(|i| dy[i * m + j]).sum())
                .collect();
            assert!(close(&bias_gradient(&dy, m), &db));
        }
    }
}
