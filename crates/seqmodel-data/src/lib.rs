//! # seqmodel-data
//!
//! From raw files to padded, masked, packed Burn batches.
//!
//! - [`Vocab`] (specials `<pad>` = 0, `<unk>`, `<bos>`, `<eos>`, JSON save/load, coverage) and
//!   [`Tokenizer`]s (whitespace, grapheme characters, Unicode words, symbols).
//! - [`PaddingConfig`] → [`PaddedBatch`]: ids `[batch, time]`, [`SequenceLengths`] (host lengths and
//!   padding side, what sequence layers take), and a padding mask
//!   `[batch, time]` where **`true` = padding** (Burn's attention convention);
//!   [`PackedSequence`] / [`PackedLayout`] like PyTorch's `PackedSequence`;
//!   [`BucketSampler`] for length bucketing.
//! - Datasets and batchers (Burn's `Dataset` and `Batcher`) for sequence → class, synced
//!   sequence labelling, sequence → sequence, and time-series windows.
//! - Seeded [`Split`]s, [`PretrainedEmbeddings`], and loaders for the bundled data ([`bundled`]).
//!
//! Every parser takes bytes and a file name and returns an [`Error`] naming the file, the line
//! (and column) and what was expected: bad input never panics.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod bounds;
mod bucket;
pub mod bundled;
mod classification;
mod cmudict;
mod conll;
mod embeddings;
mod error;
mod forecast_set;
mod iob;
mod labels;
mod lengths;
mod naive;
mod normalize;
mod packing;
mod padding;
mod rng;
mod scaler;
mod seq2seq;
mod series;
mod source;
mod split;
mod table;
mod tagging;
mod tokenizer;
mod transform;
mod vocab;
mod window;

pub use bucket::*;
pub use classification::*;
pub use cmudict::*;
pub use conll::*;
pub use embeddings::*;
pub use error::*;
pub use forecast_set::*;
pub use iob::*;
pub use labels::*;
pub use lengths::*;
pub use naive::*;
pub use normalize::*;
pub use packing::*;
pub use padding::*;
pub use scaler::*;
pub use seq2seq::*;
pub use series::*;
pub use split::*;
pub use table::*;
pub use tagging::*;
pub use tokenizer::*;
pub use transform::*;
pub use vocab::*;
pub use window::*;

/// The README's examples, compiled (and run) as doctests so that they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
