//! What can go wrong when building or applying an attention module.

/// Errors of seqmodel-attention: sizes that cannot work (at config time) and tensors whose
/// shapes do not fit the module (at call time). Each message names the value and the fix.
#[derive(Debug, thiserror::Error)]
pub enum AttentionError {
    /// A configuration value is impossible.
    #[error("{config}: `{field}` {message}")]
    Config {
        /// The configuration type, e.g. `MultiHeadAttentionConfig`.
        config: &'static str,
        /// The field.
        field: &'static str,
        /// What is wrong and what would work.
        message: String,
    },
    /// An input tensor's shape does not fit.
    #[error("{module}: {what} has shape {found:?}, expected {expected}")]
    Shape {
        /// The module called.
        module: &'static str,
        /// Which input (`query`, `keys`, `values`, `key padding mask`, ...).
        what: &'static str,
        /// Its shape.
        found: Vec<usize>,
        /// The shape that would fit, in words.
        expected: String,
    },
    /// Sequence lengths that do not fit their batch (more rows than the batch, a length
    /// beyond the time steps).
    #[error(transparent)]
    Lengths(#[from] seqmodel_data::LengthsError),
    /// A memory or state handed to a model of another kind (an [`crate::EncoderDecoder`]
    /// given what the other variant's `start` returned).
    #[error("{module}: {message}")]
    Mismatch {
        /// The model called.
        module: &'static str,
        /// What was handed over and what the model expected.
        message: String,
    },
    /// A parameter could not be imported from a state dict (missing, extra or misshaped key).
    #[error(transparent)]
    StateDict(#[from] seqmodel_rnn::Error),
}

/// `Result` with [`AttentionError`].
pub type Result<T> = std::result::Result<T, AttentionError>;
