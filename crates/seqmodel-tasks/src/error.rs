//! The crate's error type: every failure names the field, key or value that is wrong and what
//! would fix it.

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, TaskError>;

/// Everything that can go wrong when configuring, building, running or loading a task model.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A configuration field has a value that cannot work (see e.g.
    /// [`crate::ClassifierConfig::validate`]).
    #[error("{config}.{field}: {reason}")]
    InvalidConfig {
        /// The configuration type, e.g. `ClassifierConfig`.
        config: &'static str,
        /// The offending field, dotted for nested ones (`encoder.hidden_size`).
        field: String,
        /// Why the value cannot work, and what to set instead.
        reason: String,
    },
    /// A name (of an encoder, a pooling, a recipe) that is not one of the valid names.
    #[error("unknown {what} \"{found}\": expected one of {}", valid.join(", "))]
    UnknownName {
        /// What was being named: `encoder`, `pooling`, `recipe`.
        what: &'static str,
        /// The name given.
        found: String,
        /// Every valid name.
        valid: Vec<&'static str>,
    },
    /// A batch that does not fit the model: a token id outside the vocabulary, a label outside
    /// the classes.
    #[error("{what} {found} is outside 0..{limit}; {fix}")]
    OutOfRange {
        /// What is out of range: `token id`, `label`.
        what: &'static str,
        /// The first value found outside `0..limit`.
        found: i64,
        /// The number of valid values (`0..limit`).
        limit: usize,
        /// What to do about it.
        fix: &'static str,
    },
    /// A recurrent layer failed (bad lengths, a state dict that does not fit, ...): its error
    /// names the layer, key or shape.
    #[error(transparent)]
    Layer(#[from] seqmodel_rnn::Error),
    /// An attention module refused its sizes or inputs (its error names the field or input).
    #[error(transparent)]
    Attention(#[from] seqmodel_attention::AttentionError),
    /// The data pipeline failed (bad padding configuration, lengths that do not fit, ...).
    #[error(transparent)]
    Data(#[from] seqmodel_data::Error),
    /// Sequence lengths that do not fit the batch.
    #[error("lengths: {0}")]
    Lengths(#[from] seqmodel_data::LengthsError),
}
