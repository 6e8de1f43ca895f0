//! The crate's error type: every failure names what was wrong, where, and what was expected.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong when configuring, running, loading or saving a recurrent layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration field has a value that cannot work (checked by `XConfig::init`).
    #[error("{config}.{field}: {reason}")]
    InvalidConfig {
        /// The configuration type, e.g. `LstmConfig`.
        config: &'static str,
        /// The offending field, e.g. `hidden_size`.
        field: &'static str,
        /// Why the value cannot work.
        reason: String,
    },
    /// A tensor passed to `forward`/`step` has the wrong shape.
    #[error("{layer}: {what}: expected shape {expected}, found {found:?}")]
    InputShape {
        /// The layer, e.g. `Lstm`.
        layer: &'static str,
        /// Which argument, e.g. `input` or `initial state h0`.
        what: &'static str,
        /// The expected shape, in words (`[batch, time, 128]`).
        expected: String,
        /// The shape that was passed.
        found: Vec<usize>,
    },
    /// Sequence lengths that do not fit the input (one per sequence, each in `0..=time`).
    #[error("{layer}: lengths: {source}")]
    Lengths {
        /// The layer, e.g. `Gru`.
        layer: &'static str,
        /// What is wrong with them.
        #[source]
        source: seqmodel_data::LengthsError,
    },
    /// [`crate::Execution::Fused`] was asked for, but the fused kernel cannot run this layer.
    #[error(
        "{layer}: Execution::Fused: {reason}; use Execution::Auto to fall back to the reference \
         path, or Execution::Reference"
    )]
    FusedUnavailable {
        /// The layer, e.g. `Lstm`.
        layer: &'static str,
        /// Why the kernel cannot run it.
        reason: crate::FusedUnavailable,
    },
    /// The single-step API was called on a layer that cannot run one step at a time.
    #[error("{layer}: {reason}")]
    Unsupported {
        /// The layer, e.g. `Lstm`.
        layer: &'static str,
        /// Why the call cannot work.
        reason: String,
    },
    /// A parameter the layer needs is not in the state dict.
    #[error("{source_name}: missing key \"{key}\" (expected shape {expected:?})")]
    MissingKey {
        /// Where the state dict came from (a file path, or `<bytes>`).
        source_name: String,
        /// The full key, prefix included.
        key: String,
        /// The shape the layer expects.
        expected: Vec<usize>,
    },
    /// The state dict has a key under the layer's prefix that the layer does not have.
    #[error(
        "{source_name}: unexpected key \"{key}\" (shape {found:?}): the layer has no such parameter"
    )]
    UnexpectedKey {
        /// Where the state dict came from.
        source_name: String,
        /// The full key, prefix included.
        key: String,
        /// Its shape.
        found: Vec<usize>,
    },
    /// A parameter in the state dict has the wrong shape.
    #[error("{source_name}: key \"{key}\": expected shape {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// Where the state dict came from.
        source_name: String,
        /// The full key, prefix included.
        key: String,
        /// The shape the layer expects.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor in the state dict has a dtype this crate cannot read.
    #[error(
        "{source_name}: key \"{key}\": unsupported dtype {dtype} (expected F32, F64, F16, BF16, I32 or I64)"
    )]
    UnsupportedDtype {
        /// Where the state dict came from.
        source_name: String,
        /// The key.
        key: String,
        /// The dtype found, as safetensors names it.
        dtype: String,
    },
    /// The bytes are not a valid safetensors file.
    #[error("{source_name}: not a valid safetensors file: {message}")]
    Safetensors {
        /// Where the bytes came from.
        source_name: String,
        /// What the safetensors parser said.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}
