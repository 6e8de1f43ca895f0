//! [`ForecasterConfig`]: the forecaster's architecture, its validation and its construction.

use std::fmt;
use std::str::FromStr;

use burn::nn::{DropoutConfig, LinearConfig};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use seqmodel_attention::AdditiveAttentionConfig;

use super::Forecaster;
use crate::encoder::{Encoder, EncoderConfig, EncoderKind, check_probability};
use crate::error::{Result, TaskError};

/// Whether the forecaster attends over the encoder's states (serde and [`FromStr`]:
/// lowercase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForecastAttention {
    /// The output layer reads the encoder's last state `[F]`.
    #[default]
    None,
    /// The output layer reads `[context; last]` `[2F]`, the context from
    /// [`seqmodel_attention::AdditiveAttention`] with the last state as query.
    Additive,
}

impl ForecastAttention {
    /// Both choices.
    pub const ALL: &[ForecastAttention] = &[ForecastAttention::None, ForecastAttention::Additive];

    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Additive => "additive",
        }
    }
}

impl fmt::Display for ForecastAttention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ForecastAttention {
    type Err = TaskError;

    fn from_str(name: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.name() == name)
            .ok_or_else(|| TaskError::UnknownName {
                what: "attention",
                found: name.to_string(),
                valid: Self::ALL.iter().map(|a| a.name()).collect(),
            })
    }
}

/// Architecture of a [`Forecaster`]: windows `[batch, lookback, inputs]` → encoder →
/// (attention) → dropout → linear layer to `horizon * targets` values.
///
/// Serde: every field optional, unknown fields rejected. The defaults are the PyTorch
/// benchmark's `lstm` forecaster (`task4_stock.py`): one layer, one direction, 64 units, no
/// attention, one input, one target, horizon 1, no dropout.
///
/// ```
/// use seqmodel_tasks::{ForecastAttention, ForecasterConfig};
///
/// let config: ForecasterConfig =
///     serde_json::from_str(r#"{"attention": "additive", "horizon": 3, "targets": 2, "inputs": 4}"#)?;
/// assert_eq!(config.encoder.hidden_size, 64);
/// assert_eq!(config.outputs(), 6);
/// let model = config.init(&burn::tensor::Device::flex()).expect("valid");
/// assert_eq!(model.attention.is_some(), config.attention == ForecastAttention::Additive);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForecasterConfig {
    /// The encoder and its sizes.
    pub encoder: EncoderConfig,
    /// Attention over the encoder's states.
    pub attention: ForecastAttention,
    /// Steps forecast at once (at least 1).
    pub horizon: usize,
    /// Target columns forecast at each step (at least 1).
    pub targets: usize,
    /// Input columns read at each step (at least 1).
    pub inputs: usize,
    /// Dropout on the features before the output layer, in `[0, 1)`.
    pub dropout: f64,
}

impl Default for ForecasterConfig {
    /// The PyTorch benchmark's `lstm` forecaster (see the type's documentation).
    fn default() -> Self {
        Self {
            encoder: EncoderConfig::new(EncoderKind::Lstm)
                .with_hidden_size(64)
                .with_bidirectional(false),
            attention: ForecastAttention::None,
            horizon: 1,
            targets: 1,
            inputs: 1,
            dropout: 0.0,
        }
    }
}

impl ForecasterConfig {
    /// Sets the encoder.
    pub fn with_encoder(mut self, encoder: EncoderConfig) -> Self {
        self.encoder = encoder;
        self
    }

    /// Sets the attention.
    pub fn with_attention(mut self, attention: ForecastAttention) -> Self {
        self.attention = attention;
        self
    }

    /// Sets the horizon.
    pub fn with_horizon(mut self, horizon: usize) -> Self {
        self.horizon = horizon;
        self
    }

    /// Sets the number of target columns.
    pub fn with_targets(mut self, targets: usize) -> Self {
        self.targets = targets;
        self
    }

    /// Sets the number of input columns.
    pub fn with_inputs(mut self, inputs: usize) -> Self {
        self.inputs = inputs;
        self
    }

    /// Sets the dropout before the output layer.
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    /// Values per window the model outputs: `horizon * targets`.
    pub fn outputs(&self) -> usize {
        self.horizon * self.targets
    }

    /// Checks every field; errors name it as `ForecasterConfig.<field>` (nested:
    /// `ForecasterConfig.encoder.hidden_size`).
    pub fn validate(&self) -> Result<()> {
        self.encoder.check("ForecasterConfig", "encoder.")?;
        for (field, value) in [
            ("horizon", self.horizon),
            ("targets", self.targets),
            ("inputs", self.inputs),
        ] {
            if value == 0 {
                return Err(TaskError::InvalidConfig {
                    config: "ForecasterConfig",
                    field: field.into(),
                    reason: "is 0; set it to at least 1".into(),
                });
            }
        }
        check_probability(self.dropout).map_err(|reason| TaskError::InvalidConfig {
            config: "ForecasterConfig",
            field: "dropout".into(),
            reason,
        })
    }

    /// Builds the model on `device` after [`Self::validate`].
    pub fn init(&self, device: &Device) -> Result<Forecaster> {
        self.validate()?;
        let encoder = Encoder::init(&self.encoder, self.inputs, device)?;
        let features = encoder.output_size();
        let attention = match self.attention {
            ForecastAttention::Additive => {
                Some(AdditiveAttentionConfig::new(features, features, features).init(device)?)
            }
            ForecastAttention::None => None,
        };
        let head_in = if attention.is_some() {
            2 * features
        } else {
            features
        };
        Ok(Forecaster {
            encoder,
            attention,
            dropout: DropoutConfig::new(self.dropout).init(),
            output: LinearConfig::new(head_in, self.outputs()).init(device),
            horizon: self.horizon,
            targets: self.targets,
            inputs: self.inputs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let message = |c: ForecasterConfig| c.validate().unwrap_err().to_string();
        assert_eq!(
            message(ForecasterConfig::default().with_horizon(0)),
            "ForecasterConfig.horizon: is 0; set it to at least 1"
        );
        assert_eq!(
            message(ForecasterConfig::default().with_targets(0)),
            "ForecasterConfig.targets: is 0; set it to at least 1"
        );
        assert_eq!(
            message(ForecasterConfig::default().with_inputs(0)),
            "ForecasterConfig.inputs: is 0; set it to at least 1"
        );
        assert!(
            message(ForecasterConfig::default().with_dropout(1.0))
                .starts_with("ForecasterConfig.dropout: must be in [0, 1)")
        );
        let bad_encoder =
            ForecasterConfig::default().with_encoder(EncoderConfig::default().with_hidden_size(0));
        assert!(message(bad_encoder).starts_with("ForecasterConfig.encoder.hidden_size: is 0"),);
        let err = serde_json::from_str::<ForecasterConfig>(r#"{"horizon": 2, "lookback": 3}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `lookback`"),
            "{err}"
        );
        assert_eq!(
            "dot".parse::<ForecastAttention>().unwrap_err().to_string(),
            "unknown attention \"dot\": expected one of none, additive"
        );
    }
}
