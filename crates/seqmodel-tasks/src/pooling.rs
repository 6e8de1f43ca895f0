//! Pooling: an encoder's per-step features to one vector per sequence, over the valid steps
//! only, so that padding never changes the result.

use std::fmt;
use std::str::FromStr;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use seqmodel_data::SequenceLengths;
use serde::{Deserialize, Serialize};

use crate::encoder::Encoded;
use crate::error::TaskError;

/// How a sequence's per-step features become one vector (serde and [`FromStr`]: lowercase).
///
/// A sequence of length 0 pools to a zero vector under every choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The encoder's final state ([`Encoded::last`]): PyTorch's `h_n[-1]` for one direction.
    Last,
    /// The mean over the valid steps.
    Mean,
    /// The element-wise maximum over the valid steps (padding counts as `-inf`).
    #[default]
    Max,
    /// A learned weighted mean: scores `v · tanh(W h_t + b)`, softmax over the valid steps
    /// (Bahdanau-style additive attention with one learned query; its parameters are an
    /// [`AttentionPooling`] in the model, present only when this is chosen).
    Attention,
}

impl Pooling {
    /// Every pooling, in declaration order.
    pub const ALL: &[Pooling] = &[
        Pooling::Last,
        Pooling::Mean,
        Pooling::Max,
        Pooling::Attention,
    ];

    /// The configuration name (`"max"`).
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Last => "last",
            Pooling::Mean => "mean",
            Pooling::Max => "max",
            Pooling::Attention => "attention",
        }
    }

    /// Pool an encoder's output.
    ///
    /// # Shapes
    /// - `encoded.sequence`: `[batch, time, features]`, `encoded.last`: `[batch, features]`
    /// - `lengths`: `[batch]`, each in `0..=time`, either padding side
    /// - output: `[batch, features]`
    ///
    /// `attention` must be the model's scorer when `self` is [`Pooling::Attention`] (else
    /// [`TaskError::InvalidConfig`]); it is ignored otherwise.
    pub fn pool(
        self,
        encoded: Encoded,
        lengths: &SequenceLengths,
        attention: Option<&AttentionPooling>,
    ) -> crate::Result<Tensor<2>> {
        let Encoded { sequence, last } = encoded;
        let [batch, time, features] = sequence.dims();
        let device = sequence.device();
        // `[batch, time]` padding mask (`true` = padding), after checking the lengths.
        let mask = || lengths.padding_mask(time, &device);
        Ok(match self {
            Pooling::Last => {
                lengths.validate(batch, time)?;
                last
            }
            Pooling::Mean => {
                let mask = mask()?;
                let valid = mask.bool_not().float().unsqueeze_dim::<3>(2);
                let sum = (sequence * valid).sum_dim(1).reshape([batch, features]);
                let counts: Vec<f32> = lengths
                    .as_slice()
                    .iter()
                    .map(|&l| l.max(1) as f32)
                    .collect();
                let counts = Tensor::<2>::from_data(TensorData::new(counts, [batch, 1]), &device);
                sum / counts
            }
            Pooling::Max => sequence
                .mask_fill(
                    mask()?
                        .unsqueeze_dim::<3>(2)
                        .expand([batch, time, features]),
                    f32::NEG_INFINITY,
                )
                .max_dim(1)
                .reshape([batch, features])
                .mask_fill(empty_rows(lengths, &device).expand([batch, features]), 0.0),
            Pooling::Attention => {
                let scorer = attention.ok_or_else(|| TaskError::InvalidConfig {
                    config: "Pooling",
                    field: "attention".into(),
                    reason: "attention pooling needs the model's AttentionPooling scorer; \
                             build the model with a config whose pooling is \"attention\""
                        .into(),
                })?;
                scorer.forward(sequence, mask()?, empty_rows(lengths, &device))
            }
        })
    }
}

/// `[batch, 1]`, `true` where a sequence has no valid step.
fn empty_rows(lengths: &SequenceLengths, device: &Device) -> Tensor<2, Bool> {
    let empty: Vec<bool> = lengths.as_slice().iter().map(|&l| l == 0).collect();
    let batch = empty.len();
    Tensor::from_data(TensorData::new(empty, [batch, 1]), device)
}

impl fmt::Display for Pooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Pooling {
    type Err = TaskError;

    /// The pooling named `name` (exactly as in [`Pooling::name`]).
    fn from_str(name: &str) -> crate::Result<Self> {
        Pooling::ALL
            .iter()
            .copied()
            .find(|p| p.name() == name)
            .ok_or_else(|| TaskError::UnknownName {
                what: "pooling",
                found: name.to_string(),
                valid: Pooling::ALL.iter().map(|p| p.name()).collect(),
            })
    }
}

/// Configuration of an [`AttentionPooling`].
#[derive(Config, Debug)]
pub struct AttentionPoolingConfig {
    /// Width of the features being pooled (and of the scorer's hidden layer).
    pub features: usize,
}

impl AttentionPoolingConfig {
    /// Build the scorer (Burn's default `Linear` initialisation, as PyTorch's `nn.Linear`).
    pub fn init(&self, device: &Device) -> AttentionPooling {
        AttentionPooling {
            proj: LinearConfig::new(self.features, self.features).init(device),
            score: LinearConfig::new(self.features, 1)
                .with_bias(false)
                .init(device),
        }
    }
}

/// The learned scorer of [`Pooling::Attention`]: `score_t = v · tanh(W h_t + b)`.
///
/// State-dict names (in PyTorch's `nn.Linear` layout `[out, in]`): `pool.proj.weight`
/// `[F, F]`, `pool.proj.bias` `[F]`, `pool.score.weight` `[1, F]`.
#[derive(Module, Debug)]
pub struct AttentionPooling {
    /// `W` and `b`: `[F] -> [F]`.
    pub proj: Linear,
    /// `v`: `[F] -> [1]`, no bias (a constant shift of every score changes nothing).
    pub score: Linear,
}

impl AttentionPooling {
    /// The pooling weights: softmax of the scores over each sequence's valid steps, exactly 0
    /// at padding (all 0 for an empty sequence).
    ///
    /// # Shapes
    /// - `sequence`: `[batch, time, F]`; `mask`: `[batch, time]`, `true` = padding;
    ///   `empty`: `[batch, 1]`, `true` for a sequence with no valid step
    /// - output: `[batch, time]`, each valid row summing to 1
    pub fn weights(
        &self,
        sequence: Tensor<3>,
        mask: Tensor<2, Bool>,
        empty: Tensor<2, Bool>,
    ) -> Tensor<2> {
        let [batch, time, _] = sequence.dims();
        let scores = self
            .score
            .forward(self.proj.forward(sequence).tanh())
            .reshape([batch, time])
            .mask_fill(mask.clone(), f32::NEG_INFINITY)
            // An empty row would be all -inf (softmax NaN): give it zeros, then mask below.
            .mask_fill(empty.expand([batch, time]), 0.0);
        softmax(scores, 1).mask_fill(mask, 0.0)
    }

    /// The weighted mean of `sequence` (shapes as [`Self::weights`]): `[batch, F]`.
    pub fn forward(
        &self,
        sequence: Tensor<3>,
        mask: Tensor<2, Bool>,
        empty: Tensor<2, Bool>,
    ) -> Tensor<2> {
        let [batch, _, features] = sequence.dims();
        let weights = self.weights(sequence.clone(), mask, empty);
        (sequence * weights.unsqueeze_dim::<3>(2))
            .sum_dim(1)
            .reshape([batch, features])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sequence of length 2 padded to 3, features `[1, -4], [3, 2], [pad 9, 9]`, and one
    /// empty sequence: mean = `[2, -1]`, max = `[3, 2]` (the 9s are padding); the empty one
    /// pools to zeros; last = `Encoded::last` untouched.
    #[test]
    fn mean_max_last_over_valid_steps_by_hand() {
        let device = Device::flex();
        let sequence = Tensor::<3>::from_data(
            TensorData::new(
                vec![
                    1.0f32, -4.0, 3.0, 2.0, 9.0, 9.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0,
                ],
                [2, 3, 2],
            ),
            &device,
        );
        let last = Tensor::<2>::from_data(
            TensorData::new(vec![7.0f32, 8.0, 0.0, 0.0], [2, 2]),
            &device,
        );
        let lengths = SequenceLengths::right(vec![2, 0]);
        let run = |pooling: Pooling| {
            let encoded = Encoded {
                sequence: sequence.clone(),
                last: last.clone(),
            };
            pooling
                .pool(encoded, &lengths, None)
                .expect("pools")
                .into_data()
                .try_to_vec_as::<f32>()
                .expect("f32")
        };
        assert_eq!(run(Pooling::Mean), vec![2.0, -1.0, 0.0, 0.0]);
        assert_eq!(run(Pooling::Max), vec![3.0, 2.0, 0.0, 0.0]);
        assert_eq!(run(Pooling::Last), vec![7.0, 8.0, 0.0, 0.0]);
    }

    /// Left padding: the valid steps are the last ones.
    #[test]
    fn left_padding_pools_the_trailing_steps() {
        let device = Device::flex();
        let sequence =
            Tensor::<3>::from_data(TensorData::new(vec![9.0f32, 1.0, 3.0], [1, 3, 1]), &device);
        let encoded = Encoded {
            sequence,
            last: Tensor::zeros([1, 1], &device),
        };
        let max = Pooling::Max
            .pool(encoded, &SequenceLengths::left(vec![2]), None)
            .expect("pools");
        assert_eq!(
            max.into_data().try_to_vec_as::<f32>().expect("f32"),
            vec![3.0]
        );
    }

    /// Attention weights are a softmax over the valid steps only: exactly 0 at padding, summing
    /// to 1 per non-empty sequence, all 0 for an empty one.
    #[test]
    fn attention_weights_ignore_padding() {
        let device = Device::flex();
        let scorer = AttentionPoolingConfig::new(4).init(&device);
        let sequence = Tensor::<3>::random([3, 5, 4], burn::tensor::Distribution::Default, &device);
        let lengths = SequenceLengths::right(vec![5, 2, 0]);
        let mask = lengths.padding_mask(5, &device).expect("valid");
        let weights = scorer
            .weights(sequence, mask, empty_rows(&lengths, &device))
            .into_data()
            .try_to_vec_as::<f32>()
            .expect("f32");
        let row = |b: usize| &weights[b * 5..(b + 1) * 5];
        assert!(
            (row(0).iter().sum::<f32>() - 1.0).abs() < 1e-6,
            "{weights:?}"
        );
        assert!(
            (row(1).iter().sum::<f32>() - 1.0).abs() < 1e-6,
            "{weights:?}"
        );
        assert!(row(1)[2..].iter().all(|&w| w == 0.0), "{weights:?}");
        assert!(row(2).iter().all(|&w| w == 0.0), "{weights:?}");
    }

    #[test]
    fn names_parse_and_unknown_names_list_the_valid_ones() {
        for &p in Pooling::ALL {
            assert_eq!(p.name().parse::<Pooling>().expect("valid"), p);
            assert_eq!(serde_json::to_string(&p).expect("json"), format!("\"{p}\""));
        }
        let err = "sum".parse::<Pooling>().expect_err("not a pooling");
        assert_eq!(
            err.to_string(),
            "unknown pooling \"sum\": expected one of last, mean, max, attention"
        );
        let device = Device::flex();
        let encoded = Encoded {
            sequence: Tensor::zeros([1, 2, 3], &device),
            last: Tensor::zeros([1, 3], &device),
        };
        let err = Pooling::Attention
            .pool(encoded, &SequenceLengths::right(vec![2]), None)
            .expect_err("no scorer");
        assert!(err.to_string().starts_with("Pooling.attention:"), "{err}");
    }
}
