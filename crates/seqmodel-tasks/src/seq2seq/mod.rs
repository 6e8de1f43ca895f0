//! The `seq2seq` task: a source sequence to a target sequence (grapheme → phoneme,
//! translation) with seqmodel-attention's encoder–decoder ([`Translator`]), trained with
//! teacher forcing and scored on decoded output.

mod config;
mod model;
mod step;

pub use config::{Architecture, TransformerSettings, TranslatorConfig};
pub use model::Translator;
