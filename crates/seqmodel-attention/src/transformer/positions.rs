//! Sinusoidal positions (Vaswani et al. 2017, §3.5): `PE(p, 2i) = sin(p / 10000^(2i/d))`,
//! `PE(p, 2i + 1) = cos(p / 10000^(2i/d))`, the layout of Burn's `generate_sinusoids`, for any
//! positions (a decoder step needs the row of its own position only; a left-padded row
//! starts its positions after its padding).

use burn::tensor::{Device, Tensor, TensorData};
use seqmodel_data::{PadSide, SequenceLengths};

/// The sinusoids of `positions`: `[positions.len(), d_model]`. `d_model` is even (the
/// configurations check it).
pub fn sinusoidal_positions(positions: &[usize], d_model: usize, device: &Device) -> Tensor<2> {
    let mut values = Vec::with_capacity(positions.len() * d_model);
    for &p in positions {
        for i in (0..d_model).step_by(2) {
            let angle = p as f64 / 10_000f64.powf(i as f64 / d_model as f64);
            values.push(angle.sin() as f32);
            if i + 1 < d_model {
                values.push(angle.cos() as f32);
            }
        }
    }
    Tensor::from_data(TensorData::new(values, [positions.len(), d_model]), device)
}

/// `x` `[batch, time, d]` plus each row's positions: `0..len` from the first real step
/// (right padding: steps `0..time`; left padding: the padding is skipped). Padding steps get
/// position 0 (they are masked wherever they could matter).
pub fn add_positions(x: Tensor<3>, lengths: &SequenceLengths) -> Tensor<3> {
    let [batch, time, d] = x.dims();
    let device = x.device();
    if lengths.side() == PadSide::Right || lengths.is_full(time) {
        let table: Vec<usize> = (0..time).collect();
        return x + sinusoidal_positions(&table, d, &device).unsqueeze_dim::<3>(0);
    }
    let positions: Vec<usize> = lengths
        .as_slice()
        .iter()
        .flat_map(|&len| {
            let start = time.saturating_sub(len);
            (0..time).map(move |t| t.saturating_sub(start))
        })
        .collect();
    x + sinusoidal_positions(&positions, d, &device).reshape([batch, time, d])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Position 0 is `[sin 0, cos 0, …] = [0, 1, 0, 1]`; position 1 with `d = 4` is
    /// `[sin 1, cos 1, sin 0.01, cos 0.01]` (`10000^(2/4) = 100`).
    #[test]
    fn rows_follow_the_formula() {
        let device = Device::flex();
        let got: Vec<f32> = sinusoidal_positions(&[0, 1], 4, &device)
            .into_data()
            .iter::<f32>()
            .collect();
        let expected = [
            0.0,
            1.0,
            0.0,
            1.0,
            1f32.sin(),
            1f32.cos(),
            0.01f32.sin(),
            0.01f32.cos(),
        ];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6, "{got:?}");
        }
    }

    /// A left-padded row gets the positions a right-padded one gets, shifted past its padding.
    #[test]
    fn left_padding_starts_after_the_padding() {
        let device = Device::flex();
        let zeros = Tensor::<3>::zeros([2, 3, 4], &device);
        let left = add_positions(zeros.clone(), &SequenceLengths::left(vec![3, 2]));
        let right = add_positions(zeros, &SequenceLengths::right(vec![3, 2]));
        let left: Vec<f32> = left.into_data().iter::<f32>().collect();
        let right: Vec<f32> = right.into_data().iter::<f32>().collect();
        // Row 0 is full: equal. Row 1: left steps 1, 2 are right steps 0, 1.
        assert_eq!(left[..12], right[..12]);
        assert_eq!(left[16..24], right[12..20]);
    }
}
