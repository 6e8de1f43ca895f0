//! Elementwise `sigmoid` and `tanh` for any layer: on flex `f32` tensors the fused kernels'
//! SIMD polynomials (within 1e-6 of the math library, with a handwritten backward), Burn's own
//! ops on every other backend or float type, and everywhere when the `flex` feature is off.
//!
//! Flex evaluates Burn's `tanh` and `sigmoid` per element through the scalar math library,
//! which made them a tenth of an attention seq2seq training epoch (`docs/performance.md`).

use burn::tensor::Tensor;

/// `sigmoid(x)`, elementwise, any shape.
pub fn fast_sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    {
        crate::squash_flex::sigmoid(x)
    }
    #[cfg(not(feature = "flex"))]
    {
        burn::tensor::activation::sigmoid(x)
    }
}

/// `tanh(x)`, elementwise, any shape.
pub fn fast_tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    {
        crate::squash_flex::tanh(x)
    }
    #[cfg(not(feature = "flex"))]
    {
        x.tanh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn agree_with_burn_within_a_millionth() {
        let device = Device::flex();
        let values: Vec<f32> = (-400..=400).map(|i| i as f32 / 40.0).collect();
        let x = Tensor::<1>::from_data(TensorData::new(values.clone(), [values.len()]), &device);
        let close = |a: Tensor<1>, b: Tensor<1>| {
            let a: Vec<f32> = a.into_data().iter::<f32>().collect();
            let b: Vec<f32> = b.into_data().iter::<f32>().collect();
            a.iter()
                .zip(&b)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0f32, f32::max)
        };
        assert!(close(fast_tanh(x.clone()), x.clone().tanh()) < 1e-6);
        assert!(
            close(
                fast_sigmoid(x.clone()),
                burn::tensor::activation::sigmoid(x)
            ) < 1e-6
        );
    }
}
