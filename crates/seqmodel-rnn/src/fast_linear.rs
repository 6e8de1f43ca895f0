//! `Linear::forward` for any layer: on flex `f32` tensors the fused kernels' packed GEMM (with
//! a handwritten backward), Burn's own `Linear::forward` on every other backend or float type,
//! and everywhere when the `flex` feature is off.
//!
//! Flex runs Burn's `Linear` through the `gemm` crate's AVX2 kernels; the crate's own tiled
//! product (AVX-512 where the CPU has it) is several times faster on the shapes of a seq2seq
//! decoder's attention and output layers (`docs/performance.md`).

use burn::nn::Linear;
use burn::tensor::Tensor;

/// `linear.forward(x)`: `x: [.., d_input]` → `[.., d_output]`, through the packed GEMM on flex
/// `f32`. Values agree with Burn's `Linear` to float rounding; gradients reach `x`, the weight
/// and the bias alike.
pub fn fast_linear<const D: usize>(linear: &Linear, x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    {
        let dims = x.dims();
        let d_input = dims[D - 1];
        let rows: usize = dims[..D - 1].iter().product();
        let weight = linear.weight.val();
        let x2 = x.clone().reshape([rows, d_input]);
        if crate::linear_flex::on_flex_f32(&[&x2, &weight]) {
            let d_output = weight.dims()[1];
            let bias = match &linear.bias {
                Some(bias) => bias.val(),
                None => Tensor::zeros([d_output], &weight.device()),
            };
            let mut out = dims;
            out[D - 1] = d_output;
            return crate::linear_flex::affine(x2, weight, bias).reshape(out);
        }
    }
    linear.forward(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Device, TensorData};

    /// Deterministic values in [-scale, scale] (the tests draw nothing from the device RNG,
    /// which other tests of this binary reseed in parallel).
    fn ramp<const D: usize>(shape: [usize; D], scale: f32, device: &Device) -> Tensor<D> {
        let len: usize = shape.iter().product();
        let values: Vec<f32> = (0..len)
            .map(|i| ((i * 37 % 101) as f32 / 50.0 - 1.0) * scale)
            .collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    fn linear(d_input: usize, d_output: usize, bias: bool, device: &Device) -> Linear {
        Linear {
            weight: Param::from_tensor(ramp([d_input, d_output], 0.2, device)),
            bias: bias.then(|| Param::from_tensor(ramp([d_output], 0.1, device))),
        }
    }

    fn max_difference<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        let a: Vec<f32> = a.into_data().iter::<f32>().collect();
        let b: Vec<f32> = b.into_data().iter::<f32>().collect();
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max)
    }

    /// Values and every gradient agree with Burn's `Linear` on flex, with and without a bias,
    /// on shapes that are not multiples of a register tile.
    #[test]
    fn matches_burn_linear_in_values_and_gradients() {
        let device = Device::flex().autodiff();
        for bias in [true, false] {
            let linear = linear(37, 53, bias, &device);
            let x = ramp([3, 11, 37], 1.0, &device);
            let probe = ramp([3, 11, 53], 0.7, &device);
            let run = |fast: bool| {
                let x = x.clone().require_grad();
                let y = if fast {
                    fast_linear(&linear, x.clone())
                } else {
                    linear.forward(x.clone())
                };
                let grads = (y.clone() * probe.clone()).sum().backward();
                let dx = x.grad(&grads).expect("dx");
                let dw = linear.weight.grad(&grads).expect("dW");
                let db = linear.bias.as_ref().map(|b| b.grad(&grads).expect("db"));
                (y.inner(), dx, dw, db)
            };
            let (y, dx, dw, db) = run(true);
            let (y0, dx0, dw0, db0) = run(false);
            assert!(max_difference(y, y0) < 1e-4);
            assert!(max_difference(dx, dx0) < 1e-4);
            assert!(max_difference(dw, dw0) < 1e-3);
            if let (Some(db), Some(db0)) = (db, db0) {
                assert!(max_difference(db, db0) < 1e-4);
            }
        }
    }

    /// Without autodiff, on another backend (ndarray) too: Burn's path, same values.
    #[test]
    // ndarray is deprecated upstream but still one of the backends seqmodel runs on.
    #[allow(deprecated)]
    fn inference_and_other_backends_agree() {
        for device in [Device::flex(), Device::ndarray()] {
            let linear = linear(9, 4, true, &device);
            let x = ramp([5, 9], 1.0, &device);
            let d = max_difference(fast_linear(&linear, x.clone()), linear.forward(x));
            assert!(d < 1e-5, "{d}");
        }
    }
}
