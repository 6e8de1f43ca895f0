//! Sequence encoders: `[batch, time, input]` embeddings to per-step features and one summary
//! vector per sequence, the encoder of every task model chosen by configuration.
//!
//! Each kind lives in its own file and implements [`SequenceEncoder`]; the one table at the
//! bottom of this file (the `encoders!` invocation) turns the kinds into [`EncoderKind`] (the
//! configuration's name, serde and [`std::str::FromStr`]) and [`Encoder`] (the
//! `#[derive(Module)]` enum a model holds), with every dispatch written once by the macro.
//!
//! ## Adding an encoder (`cnn`, `qrnn`, `transformer`, ...)
//! 1. Write `encoder/cnn.rs`: a `#[derive(Module, Debug)]` struct `CnnEncoder` that implements
//!    [`SequenceEncoder`] (`init` from an [`EncoderConfig`], `output_size`, `encode` returning
//!    [`Encoded`], and its PyTorch state-dict names in `load_state_dict` / `state_dict`).
//! 2. Declare it (`mod cnn;`) and add one line to the table:
//!    `/// Doc line. Cnn = "cnn" => cnn::CnnEncoder,`.
//!
//! Nothing else changes: configs, `FromStr`, the error listing valid names, the classifier and
//! its state dict all go through [`Encoder`].

mod cnn;
mod gru;
mod lstm;
mod qrnn;
mod rnn;
mod transformer;

use std::fmt;
use std::str::FromStr;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use seqmodel_data::SequenceLengths;
use seqmodel_rnn::StateDict;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TaskError};

pub use cnn::CnnEncoder;
pub use gru::GruEncoder;
pub use lstm::LstmEncoder;
pub use qrnn::QrnnEncoder;
pub use rnn::RnnEncoder;
pub use transformer::TransformerEncoder;

/// What an encoder returns for a batch.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Per-step features of the last layer: `[batch, time, D * H]` (`D` = 2 when
    /// bidirectional), forward direction in `[.., ..H]`, reverse in `[.., H..]`; exactly 0 at
    /// padding positions.
    pub sequence: Tensor<3>,
    /// The last layer's final state: `[batch, D * H]`, each sequence's own last valid step for
    /// the forward direction and its first step for the reverse one (the two concatenated when
    /// bidirectional, forward first). For a one-direction encoder this is PyTorch's `h_n[-1]`.
    pub last: Tensor<2>,
}

/// One encoder kind: what each file under `encoder/` implements.
pub trait SequenceEncoder: Module + Sized {
    /// Build the encoder for `input_size` features per step from `config` (whose `kind` names
    /// this encoder). Fails, naming the field, when a size is 0 or the dropout is outside
    /// `[0, 1)`.
    fn init(config: &EncoderConfig, input_size: usize, device: &Device) -> Result<Self>;

    /// Width of [`Encoded::sequence`]'s and [`Encoded::last`]'s last dimension (`D * H`).
    fn output_size(&self) -> usize;

    /// Encode a batch.
    ///
    /// # Shapes
    /// - `input`: `[batch, time, input_size]`
    /// - `lengths`: `[batch]` real steps and padding side (each in `0..=time`)
    /// - output: see [`Encoded`]
    fn encode(&self, input: Tensor<3>, lengths: &SequenceLengths) -> Result<Encoded>;

    /// Take the parameters from a PyTorch state dict, keys under `prefix` (e.g. `"rnn."`).
    /// Strict: a missing key, an extra key under `prefix` or a wrong shape is an error naming
    /// the key.
    fn load_state_dict(self, dict: &StateDict, prefix: &str) -> Result<Self>;

    /// The parameters under PyTorch's names (keys under `prefix`).
    fn state_dict(&self, prefix: &str) -> StateDict;
}

/// Configuration of the encoder: its kind and sizes (serde: every field optional, unknown
/// fields rejected).
///
/// ```
/// use seqmodel_tasks::{EncoderConfig, EncoderKind};
///
/// let config: EncoderConfig = serde_json::from_str(r#"{"kind": "gru", "hidden_size": 64}"#)?;
/// assert_eq!(config.kind, EncoderKind::Gru);
/// assert!(config.bidirectional); // the default
/// assert_eq!(config.output_size(), 128);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncoderConfig {
    /// Which encoder (`rnn`, `lstm`, `gru`, `transformer`).
    pub kind: EncoderKind,
    /// Hidden size `H` of each direction (at least 1); the model width `d` of a
    /// `transformer` (a multiple of `num_heads`, even).
    pub hidden_size: usize,
    /// Stacked layers (at least 1).
    pub num_layers: usize,
    /// Run a reverse direction too and concatenate (`D = 2`); a `transformer` ignores it.
    pub bidirectional: bool,
    /// Dropout between stacked layers, in `[0, 1)` (only while training); a `transformer`'s
    /// dropout on its input, attention weights, feed-forward and residual branches.
    pub dropout: f64,
    /// Attention heads of a `transformer` (at least 1); ignored by the recurrent kinds.
    pub num_heads: usize,
    /// Feed-forward width of a `transformer`'s layers (at least 1); ignored by the recurrent
    /// kinds.
    pub feed_forward_size: usize,
    /// Add each stacked layer's input to its output from the second layer on (`rnn`, `lstm`,
    /// `gru`, `qrnn`; serde default `false`).
    pub residual: bool,
}

impl Default for EncoderConfig {
    /// A one-layer bidirectional LSTM with 128 units per direction, no dropout (a
    /// `transformer`: 4 heads, feed-forward 512).
    fn default() -> Self {
        Self {
            kind: EncoderKind::Lstm,
            hidden_size: 128,
            num_layers: 1,
            bidirectional: true,
            dropout: 0.0,
            num_heads: 4,
            feed_forward_size: 512,
            residual: false,
        }
    }
}

impl EncoderConfig {
    /// The defaults with another kind.
    pub fn new(kind: EncoderKind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// Sets the hidden size of each direction.
    pub fn with_hidden_size(mut self, hidden_size: usize) -> Self {
        self.hidden_size = hidden_size;
        self
    }

    /// Sets the number of stacked layers.
    pub fn with_num_layers(mut self, num_layers: usize) -> Self {
        self.num_layers = num_layers;
        self
    }

    /// Sets whether a reverse direction runs too.
    pub fn with_bidirectional(mut self, bidirectional: bool) -> Self {
        self.bidirectional = bidirectional;
        self
    }

    /// Sets the dropout between stacked layers.
    pub fn with_dropout(mut self, dropout: f64) -> Self {
        self.dropout = dropout;
        self
    }

    /// Sets whether stacked layers add their input to their output.
    pub fn with_residual(mut self, residual: bool) -> Self {
        self.residual = residual;
        self
    }
    /// Sets a `transformer`'s attention heads.
    pub fn with_num_heads(mut self, num_heads: usize) -> Self {
        self.num_heads = num_heads;
        self
    }

    /// Sets a `transformer`'s feed-forward width.
    pub fn with_feed_forward_size(mut self, feed_forward_size: usize) -> Self {
        self.feed_forward_size = feed_forward_size;
        self
    }

    /// Number of directions `D`: 2 when bidirectional, else 1 (a `transformer`: 1).
    pub fn directions(&self) -> usize {
        if self.bidirectional && self.kind != EncoderKind::Transformer {
            2
        } else {
            1
        }
    }

    /// Width of the encoder's features, `D * H` (a `transformer`: `d = hidden_size`).
    pub fn output_size(&self) -> usize {
        self.directions() * self.hidden_size
    }

    /// Checks the sizes and the dropout; errors name the field as `EncoderConfig.<field>`.
    pub fn validate(&self) -> Result<()> {
        self.check("EncoderConfig", "")
    }

    /// [`Self::validate`] with the errors naming `config.<prefix><field>` (a classifier's
    /// `ClassifierConfig.encoder.hidden_size`).
    pub(crate) fn check(&self, config: &'static str, prefix: &str) -> Result<()> {
        let invalid = |field: &str, reason: String| TaskError::InvalidConfig {
            config,
            field: format!("{prefix}{field}"),
            reason,
        };
        if self.hidden_size == 0 {
            return Err(invalid(
                "hidden_size",
                "is 0; set it to at least 1 (the PyTorch recipes use 128)".into(),
            ));
        }
        if self.num_layers == 0 {
            return Err(invalid("num_layers", "is 0; set it to at least 1".into()));
        }
        if self.kind == EncoderKind::Transformer {
            if self.num_heads == 0 {
                return Err(invalid("num_heads", "is 0; set it to at least 1".into()));
            }
            // Even (sinusoidal positions pair sin and cos) and split evenly across the heads.
            let step = if self.num_heads.is_multiple_of(2) {
                self.num_heads
            } else {
                2 * self.num_heads
            };
            if !self.hidden_size.is_multiple_of(step) {
                return Err(invalid(
                    "hidden_size",
                    format!(
                        "is {} but a transformer needs an even multiple of num_heads ({}), e.g. \
                         {}",
                        self.hidden_size,
                        self.num_heads,
                        step * self.hidden_size.div_ceil(step)
                    ),
                ));
            }
            if self.feed_forward_size == 0 {
                return Err(invalid(
                    "feed_forward_size",
                    "is 0; set it to at least 1 (commonly 4 × hidden_size)".into(),
                ));
            }
        }
        check_probability(self.dropout).map_err(|reason| invalid("dropout", reason))
    }
}

/// `Ok` for a dropout probability in `[0, 1)`, else why not and what to set.
pub(crate) fn check_probability(p: f64) -> std::result::Result<(), String> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!(
            "must be in [0, 1), found {p}; 0 disables dropout, 0.5 drops half the units"
        ))
    }
}

/// The last layer's rows of a final state `h_n: [num_layers * D, batch, H]`, directions
/// concatenated: `[batch, D * H]`, forward first.
pub(crate) fn last_layer_state(
    h_n: Tensor<3>,
    num_layers: usize,
    bidirectional: bool,
) -> Tensor<2> {
    let directions = if bidirectional { 2 } else { 1 };
    let [_, batch, hidden] = h_n.dims();
    h_n.narrow(0, (num_layers - 1) * directions, directions)
        .swap_dims(0, 1)
        .reshape([batch, directions * hidden])
}

/// Builds [`EncoderKind`] and [`Encoder`] and their dispatch from one table of
/// `Variant = "name" => file::Type` lines (see the module documentation).
macro_rules! encoders {
    ($($(#[$doc:meta])* $variant:ident = $name:literal => $ty:ty,)+) => {
        /// Which encoder a configuration asks for. Serde and [`FromStr`] use the lowercase
        /// name (`"lstm"`); an unknown name is an error listing the valid ones.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EncoderKind {
            $(
                $(#[$doc])*
                #[serde(rename = $name)]
                $variant,
            )+
        }

        impl EncoderKind {
            /// Every kind, in table order.
            pub const ALL: &[EncoderKind] = &[$(EncoderKind::$variant),+];

            /// The configuration name (`"lstm"`).
            pub fn name(self) -> &'static str {
                match self {
                    $(EncoderKind::$variant => $name,)+
                }
            }
        }

        /// An encoder of any kind: the module a task model holds (its parameters are the
        /// chosen kind's).
        // The kinds differ in size (a Transformer holds more parameter handles than an
        // RNN); a model is built once and borrowed, and Burn's `Module` has no `Box`.
        #[allow(clippy::large_enum_variant)]
        #[derive(Module, Debug)]
        pub enum Encoder {
            $(
                $(#[$doc])*
                $variant($ty),
            )+
        }

        impl Encoder {
            /// Build the encoder `config.kind` names, for `input_size` features per step.
            pub fn init(config: &EncoderConfig, input_size: usize, device: &Device) -> Result<Self> {
                Ok(match config.kind {
                    $(EncoderKind::$variant => Encoder::$variant(
                        <$ty as SequenceEncoder>::init(config, input_size, device)?,
                    ),)+
                })
            }

            /// Which kind this is.
            pub fn kind(&self) -> EncoderKind {
                match self {
                    $(Encoder::$variant(_) => EncoderKind::$variant,)+
                }
            }

            /// See [`SequenceEncoder::output_size`].
            pub fn output_size(&self) -> usize {
                match self {
                    $(Encoder::$variant(encoder) => encoder.output_size(),)+
                }
            }

            /// See [`SequenceEncoder::encode`].
            pub fn encode(&self, input: Tensor<3>, lengths: &SequenceLengths) -> Result<Encoded> {
                match self {
                    $(Encoder::$variant(encoder) => encoder.encode(input, lengths),)+
                }
            }

            /// See [`SequenceEncoder::load_state_dict`].
            pub fn load_state_dict(self, dict: &StateDict, prefix: &str) -> Result<Self> {
                Ok(match self {
                    $(Encoder::$variant(encoder) => {
                        Encoder::$variant(encoder.load_state_dict(dict, prefix)?)
                    })+
                })
            }

            /// See [`SequenceEncoder::state_dict`].
            pub fn state_dict(&self, prefix: &str) -> StateDict {
                match self {
                    $(Encoder::$variant(encoder) => encoder.state_dict(prefix),)+
                }
            }
        }
    };
}

encoders! {
    /// Elman RNN with tanh (PyTorch's `nn.RNN`).
    Rnn = "rnn" => rnn::RnnEncoder,
    /// LSTM (PyTorch's `nn.LSTM`).
    Lstm = "lstm" => lstm::LstmEncoder,
    /// GRU (PyTorch's `nn.GRU`).
    Gru = "gru" => gru::GruEncoder,
    /// Transformer layers (PyTorch's `nn.TransformerEncoder`), `last` = mean over real steps.
    Transformer = "transformer" => transformer::TransformerEncoder,
    /// Temporal CNN (dilated residual convolutions; centred when bidirectional).
    Cnn = "cnn" => cnn::CnnEncoder,
    /// Quasi-RNN (convolutional gates, elementwise recurrence).
    Qrnn = "qrnn" => qrnn::QrnnEncoder,
}

impl fmt::Display for EncoderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EncoderKind {
    type Err = TaskError;

    /// The kind named `name` (exactly as in [`EncoderKind::name`]).
    fn from_str(name: &str) -> Result<Self> {
        EncoderKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| TaskError::UnknownName {
                what: "encoder",
                found: name.to_string(),
                valid: EncoderKind::ALL.iter().map(|k| k.name()).collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str_and_serde() {
        for &kind in EncoderKind::ALL {
            assert_eq!(kind.name().parse::<EncoderKind>().expect("valid"), kind);
            let json = serde_json::to_string(&kind).expect("serialises");
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
        let err = "tcn".parse::<EncoderKind>().expect_err("not an encoder");
        assert_eq!(
            err.to_string(),
            "unknown encoder \"tcn\": expected one of rnn, lstm, gru, transformer, cnn, qrnn"
        );
    }

    #[test]
    fn config_rejects_unknown_fields_and_zero_sizes() {
        let err =
            serde_json::from_str::<EncoderConfig>(r#"{"hidden": 3}"#).expect_err("unknown field");
        assert!(err.to_string().contains("unknown field `hidden`"), "{err}");
        let err = EncoderConfig::default()
            .with_num_layers(0)
            .validate()
            .expect_err("0 layers");
        assert_eq!(
            err.to_string(),
            "EncoderConfig.num_layers: is 0; set it to at least 1"
        );
    }

    #[test]
    fn transformer_sizes_name_their_field() {
        let err = EncoderConfig::new(EncoderKind::Transformer)
            .with_hidden_size(30)
            .validate()
            .expect_err("30 is not a multiple of 4 heads");
        assert_eq!(
            err.to_string(),
            "EncoderConfig.hidden_size: is 30 but a transformer needs an even multiple of \
             num_heads (4), e.g. 32"
        );
        let err = EncoderConfig::new(EncoderKind::Transformer)
            .with_num_heads(0)
            .validate()
            .expect_err("0 heads");
        assert!(
            err.to_string().starts_with("EncoderConfig.num_heads"),
            "{err}"
        );
        // Configurations written before the transformer existed still parse.
        let old: EncoderConfig =
            serde_json::from_str(r#"{"kind": "gru", "hidden_size": 64, "dropout": 0.1}"#)
                .expect("parses");
        assert_eq!(old.num_heads, 4);
    }

    /// `h_n` rows are `layer * D + direction`: for 2 layers, bidirectional, the last layer's
    /// rows are 2 (forward) and 3 (reverse), concatenated per sequence.
    #[test]
    fn last_layer_state_takes_the_top_rows_forward_first() {
        let device = Device::flex();
        // h_n[k, b, j] = 100 k + 10 b + j, shape [4, 2, 3].
        let values: Vec<f32> = (0..4)
            .flat_map(|k| {
                (0..2).flat_map(move |b| (0..3).map(move |j| (100 * k + 10 * b + j) as f32))
            })
            .collect();
        let h_n = Tensor::<3>::from_data(burn::tensor::TensorData::new(values, [4, 2, 3]), &device);
        let last = last_layer_state(h_n, 2, true);
        let got = last.into_data().try_to_vec_as::<f32>().expect("f32");
        assert_eq!(
            got,
            vec![
                200.0, 201.0, 202.0, 300.0, 301.0, 302.0, //
                210.0, 211.0, 212.0, 310.0, 311.0, 312.0,
            ]
        );
    }

    /// Every kind builds, reports `D * H` and encodes to the documented shapes.
    #[test]
    fn every_kind_encodes_to_the_documented_shapes() {
        let device = Device::flex();
        for &kind in EncoderKind::ALL {
            let (hidden, output) = if kind == EncoderKind::Transformer {
                (10, 10) // d_model, one "direction"
            } else {
                (5, 10) // bidirectional
            };
            let config = EncoderConfig::new(kind)
                .with_hidden_size(hidden)
                .with_num_layers(2)
                .with_num_heads(5);
            let encoder = Encoder::init(&config, 3, &device).expect("valid config");
            assert_eq!(encoder.kind(), kind);
            assert_eq!(encoder.output_size(), output, "{kind}");
            assert_eq!(config.output_size(), output, "{kind}");
            let input = Tensor::<3>::ones([2, 4, 3], &device);
            let out = encoder
                .encode(input, &SequenceLengths::right(vec![4, 2]))
                .expect("encodes");
            assert_eq!(out.sequence.dims(), [2, 4, 10], "{kind}");
            assert_eq!(out.last.dims(), [2, 10], "{kind}");
        }
    }
}
