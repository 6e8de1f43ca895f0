//! Synced sequence labelling: one tag per token (part-of-speech tags, IOB2 entity tags).
//!
//! A [`SequenceTagger`] concatenates, for every word, a word embedding (lower-cased word ids),
//! character features ([`CharCnn`], Ma & Hovy 2016, or [`CharLstm`], Lample et al. 2016) and a
//! 7-way casing feature ([`Casing`]), runs the task's [`crate::Encoder`] over the sentence and
//! scores every tag at every step with one linear layer.
//!
//! [`TagEncoder`] turns tokens into [`TagItem`]s (word, character, casing and tag ids),
//! [`TagBatcher`] pads them into a [`TagBatch`] (tags `-1` at padding), and the model's
//! burn-train steps return a `SequenceOutput` whose loss is the cross-entropy averaged over real
//! tokens.

mod batch;
mod casing;
mod chars;
mod config;
mod model;
mod step;

pub use batch::{TagBatch, TagBatcher, TagEncoder, TagItem};
pub use casing::{CASING_CLASSES, Casing};
pub use chars::{CharCnn, CharFeatures, CharLstm};
pub use config::{CharConfig, CharKind, TaggerConfig};
pub use model::{SequenceTagger, masked_cross_entropy};
