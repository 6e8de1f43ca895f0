//! Multiplicative attention (Luong, Pham and Manning 2015): the `dot`, `general` and `concat`
//! scores.

use std::fmt;
use std::str::FromStr;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::additive::{AdditiveAttention, AdditiveAttentionConfig};
use crate::attention::{Attended, Attention, attend_with_scores, check_inputs, score_mask};
use crate::error::AttentionError;

const MODULE: &str = "LuongAttention";

/// Luong's score functions between a query `q` (decoder state) and a key `k` (encoder state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LuongScore {
    /// `qᵀ k`: query and key sizes must be equal.
    Dot,
    /// `qᵀ W_a k`, `W_a` of shape `[dq, dk]`.
    #[default]
    General,
    /// `vᵀ tanh(W_a [q; k])`, `W_a` of shape `[hidden, dq + dk]`, no bias.
    Concat,
}

impl LuongScore {
    /// The name in configs (`dot`, `general`, `concat`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Dot => "dot",
            Self::General => "general",
            Self::Concat => "concat",
        }
    }
}

impl fmt::Display for LuongScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LuongScore {
    type Err = AttentionError;

    fn from_str(name: &str) -> crate::Result<Self> {
        [Self::Dot, Self::General, Self::Concat]
            .into_iter()
            .find(|score| score.name() == name)
            .ok_or_else(|| AttentionError::Config {
                config: "LuongAttentionConfig",
                field: "score",
                message: format!("`{name}` is not a Luong score (expected dot, general or concat)"),
            })
    }
}

/// Configuration of [`LuongAttention`].
#[derive(Config, Debug, PartialEq)]
pub struct LuongAttentionConfig {
    /// The score function.
    pub score: LuongScore,
    /// Features of a query (`dq`).
    pub query_size: usize,
    /// Features of a key (`dk`); equal to `query_size` for `dot`.
    pub key_size: usize,
    /// Hidden width of the `concat` score (ignored by the others).
    #[config(default = 0)]
    pub hidden_size: usize,
}

impl LuongAttentionConfig {
    /// Checks that the sizes fit the score: sizes at least 1, `dot` with equal sizes,
    /// `concat` with a hidden size.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field, message: String| AttentionError::Config {
            config: "LuongAttentionConfig",
            field,
            message,
        };
        if self.query_size == 0 {
            return Err(bad("query_size", "must be at least 1".into()));
        }
        if self.key_size == 0 {
            return Err(bad("key_size", "must be at least 1".into()));
        }
        match self.score {
            LuongScore::Dot if self.query_size != self.key_size => Err(bad(
                "key_size",
                format!(
                    "is {} but the dot score needs it equal to query_size ({}); use the general \
                     score for different sizes",
                    self.key_size, self.query_size
                ),
            )),
            LuongScore::Concat if self.hidden_size == 0 => Err(bad(
                "hidden_size",
                "must be at least 1 for the concat score".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Builds the module on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<LuongAttention> {
        self.validate()?;
        let general = (self.score == LuongScore::General).then(|| {
            LinearConfig::new(self.key_size, self.query_size)
                .with_bias(false)
                .init(device)
        });
        let concat = match self.score {
            LuongScore::Concat => Some(
                AdditiveAttentionConfig::new(self.query_size, self.key_size, self.hidden_size)
                    .with_bias(false)
                    .init(device)?,
            ),
            _ => None,
        };
        Ok(LuongAttention {
            general,
            concat,
            score: self.score,
            query_size: self.query_size,
            key_size: self.key_size,
        })
    }
}

/// Luong attention with one of the [`LuongScore`]s, softmax over the unmasked keys.
#[derive(Module, Debug)]
pub struct LuongAttention {
    /// `W_a` of the general score, stored as a map `[dk] → [dq]` (present for `general`).
    pub general: Option<Linear>,
    /// The concat score, which is an additive score without bias (present for `concat`).
    pub concat: Option<AdditiveAttention>,
    /// The score function.
    #[module(skip)]
    pub score: LuongScore,
    /// Features of a query.
    pub query_size: usize,
    /// Features of a key.
    pub key_size: usize,
}

impl Attention for LuongAttention {
    fn attend(
        &self,
        query: Tensor<3>,
        keys: Tensor<3>,
        values: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
    ) -> crate::Result<Attended> {
        let shape = check_inputs(
            MODULE,
            &query,
            &keys,
            &values,
            Some(self.query_size),
            Some(self.key_size),
        )?;
        if let Some(concat) = &self.concat {
            return concat.attend(query, keys, values, key_padding_mask);
        }
        let mask = score_mask(MODULE, shape, key_padding_mask, None)?;
        let keys = match &self.general {
            Some(w) => seqmodel_rnn::fast_linear(w, keys),
            None => keys,
        };
        let scores = query.matmul(keys.swap_dims(1, 2));
        Ok(attend_with_scores(scores, mask, values))
    }
}
