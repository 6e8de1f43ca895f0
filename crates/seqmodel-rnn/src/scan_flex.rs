//! The linear recurrence `c_t = a_t * c_{t-1} + b_t` as one pass over time on flex's
//! contiguous host buffers, with a handwritten backward pass for `Autodiff<Flex>`.
//!
//! Layout: `a`, `b`, `c`: `[B, T, W]` row-major, so step `t` of sequence `b` is the contiguous
//! run `[(b T + t) W, (b T + t + 1) W)` and the inner loop over `W` vectorises.
//!
//! Backward, with `g_t = dL/dc_t` (total, through later steps):
//! `g_t = dc_t + a_{t+1} g_{t+1}` (a reverse scan of the same kind), then
//! `dL/db_t = g_t`, `dL/da_t = g_t c_{t-1}` (`c_{-1} = c0`) and `dL/dc0 = a_0 g_0`.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Bytes, DType, Dispatch, Flex, Shape, backend_extension};
use burn::tensor::{Device, Tensor};

/// The scan as a Burn backend extension.
#[backend_extension(Flex, Autodiff)]
pub trait HostLinearScan: Backend {
    /// `a, b: [B, T, W]`, `c0: [B, W]` -> `c: [B, T, W]`.
    fn host_linear_scan(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        c0: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// Whether [`scan`] runs for tensors on `device` of `dtype`: flex (with or without autodiff)
/// and `f32` or `f64`.
pub(crate) fn applies(device: &Device, dtype: DType) -> bool {
    use burn::backend::DispatchDevice;
    matches!(dtype, DType::F32 | DType::F64)
        && matches!(
            device.clone().inner().as_dispatch(),
            DispatchDevice::Flex(_)
        )
}

/// `c_t = a_t * c_{t-1} + b_t` on flex (see [`applies`]).
pub(crate) fn scan(a: Tensor<3>, b: Tensor<3>, c0: Tensor<2>) -> Tensor<3> {
    let out = <Dispatch as HostLinearScan>::host_linear_scan(
        a.into_dispatch(),
        b.into_dispatch(),
        c0.into_dispatch(),
    );
    Tensor::from_dispatch(out)
}

/// Host values of one flex tensor, contiguous, in its own float type.
#[derive(Clone)]
enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Values::F32(v) => write!(f, "f32[{}]", v.len()),
            Values::F64(v) => write!(f, "f64[{}]", v.len()),
        }
    }
}

impl Values {
    fn read(tensor: &FlexTensor) -> Values {
        let tensor = tensor.to_contiguous();
        match tensor.dtype() {
            DType::F64 => Values::F64(
                tensor
                    .as_slice::<f64>()
                    .expect("a contiguous f64 tensor has an f64 slice")
                    .to_vec(),
            ),
            dtype => {
                kernel_check_eq!(dtype, DType::F32, "the host scan is chosen for f32 and f64");
                Values::F32(
                    tensor
                        .as_slice::<f32>()
                        .expect("a contiguous f32 tensor has an f32 slice")
                        .to_vec(),
                )
            }
        }
    }

    fn into_tensor(self, shape: &[usize]) -> FlexTensor {
        let layout = Layout::contiguous(Shape::from(shape.to_vec()));
        match self {
            Values::F32(v) => FlexTensor::new(Bytes::from_elems(v), layout, DType::F32),
            Values::F64(v) => FlexTensor::new(Bytes::from_elems(v), layout, DType::F64),
        }
    }
}

/// `[B, T, W]` of a scan.
#[derive(Debug, Clone, Copy)]
struct Dims {
    batch: usize,
    time: usize,
    width: usize,
}

impl Dims {
    fn of(a: &FlexTensor) -> Dims {
        let shape = a.layout().shape();
        kernel_check_eq!(shape.len(), 3, "the scan's a is [B, T, W]");
        Dims {
            batch: shape[0],
            time: shape[1],
            width: shape[2],
        }
    }
}

trait Float: Copy + std::ops::Mul<Output = Self> + std::ops::Add<Output = Self> + Default {}
impl Float for f32 {}
impl Float for f64 {}

fn forward<F: Float>(d: Dims, a: &[F], b: &[F], c0: &[F]) -> Vec<F> {
    let Dims { time, width, .. } = d;
    let mut c = vec![F::default(); a.len()];
    for (s, state) in c0.chunks_exact(width).enumerate() {
        for t in 0..time {
            let row = (s * time + t) * width;
            let (done, rest) = c.split_at_mut(row);
            let previous: &[F] = if t == 0 { state } else { &done[row - width..] };
            let out = &mut rest[..width];
            let (a, b) = (&a[row..row + width], &b[row..row + width]);
            for j in 0..width {
                out[j] = a[j] * previous[j] + b[j];
            }
        }
    }
    c
}

/// Gradients of `a`, `b` and `c0` from `dc` (`[B, T, W]`).
fn backward<F: Float>(d: Dims, a: &[F], c: &[F], c0: &[F], dc: &[F]) -> (Vec<F>, Vec<F>, Vec<F>) {
    let Dims { time, width, .. } = d;
    let mut da = vec![F::default(); a.len()];
    let mut db = vec![F::default(); a.len()];
    let mut dc0 = vec![F::default(); c0.len()];
    let mut g = vec![F::default(); width];
    for (s, state) in c0.chunks_exact(width).enumerate() {
        g.iter_mut().for_each(|v| *v = F::default());
        for t in (0..time).rev() {
            let row = (s * time + t) * width;
            let next = row + width;
            for j in 0..width {
                let carried = if t + 1 < time {
                    a[next + j] * g[j]
                } else {
                    F::default()
                };
                g[j] = dc[row + j] + carried;
            }
            db[row..row + width].copy_from_slice(&g);
            let previous: &[F] = if t == 0 { state } else { &c[row - width..row] };
            for j in 0..width {
                da[row + j] = g[j] * previous[j];
            }
        }
        let first = s * time * width;
        for j in 0..width {
            dc0[s * width + j] = a[first + j] * g[j];
        }
    }
    (da, db, dc0)
}

fn run_forward(d: Dims, a: &Values, b: &Values, c0: &Values) -> Values {
    match (a, b, c0) {
        (Values::F32(a), Values::F32(b), Values::F32(c0)) => Values::F32(forward(d, a, b, c0)),
        (Values::F64(a), Values::F64(b), Values::F64(c0)) => Values::F64(forward(d, a, b, c0)),
        _ => panic!("host scan: a, b and c0 must share one float type"),
    }
}

impl HostLinearScan for Flex {
    fn host_linear_scan(a: FlexTensor, b: FlexTensor, c0: FlexTensor) -> FlexTensor {
        let d = Dims::of(&a);
        let c = run_forward(d, &Values::read(&a), &Values::read(&b), &Values::read(&c0));
        c.into_tensor(&[d.batch, d.time, d.width])
    }
}

/// The backward step of the scan.
#[derive(Debug)]
struct ScanBackward;

/// What the backward step keeps: `a`, `c0` and the output `c`.
#[derive(Debug, Clone)]
struct ScanState(Arc<(Dims, Values, Values, Values)>);

impl Backward<Flex, 3> for ScanBackward {
    type State = ScanState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad: FlexTensor = grads.consume::<Flex>(&ops.node);
        let (d, a, c0, c) = &*ops.state.0;
        let dc = Values::read(&grad);
        let (da, db, dc0) = match (a, c0, c, &dc) {
            (Values::F32(a), Values::F32(c0), Values::F32(c), Values::F32(dc)) => {
                let (x, y, z) = backward(*d, a, c, c0, dc);
                (Values::F32(x), Values::F32(y), Values::F32(z))
            }
            (Values::F64(a), Values::F64(c0), Values::F64(c), Values::F64(dc)) => {
                let (x, y, z) = backward(*d, a, c, c0, dc);
                (Values::F64(x), Values::F64(y), Values::F64(z))
            }
            _ => panic!("host scan backward: mixed float types"),
        };
        let full = [d.batch, d.time, d.width];
        let state = [d.batch, d.width];
        let results = [(da, &full[..]), (db, &full[..]), (dc0, &state[..])];
        for (parent, (values, shape)) in ops.parents.iter().zip(results) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, values.into_tensor(shape));
            }
        }
    }
}

impl<C: CheckpointStrategy> HostLinearScan for Autodiff<Flex, C> {
    fn host_linear_scan(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        c0: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (a, a_node) = a.into_parts();
        let (b, b_node) = b.into_parts();
        let (c0, c0_node) = c0.into_parts();
        let d = Dims::of(&a);
        let (a, b, c0) = (Values::read(&a), Values::read(&b), Values::read(&c0));
        let c = run_forward(d, &a, &b, &c0);
        let shape = [d.batch, d.time, d.width];
        match ScanBackward
            .prepare::<C>([a_node, b_node, c0_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = c.clone().into_tensor(&shape);
                prep.finish(ScanState(Arc::new((d, a, c0, c))), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(c.into_tensor(&shape)),
        }
    }
}
