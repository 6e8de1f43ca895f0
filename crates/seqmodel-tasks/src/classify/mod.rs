//! Sequence → class: [`ClassifierConfig`] builds a [`TextClassifier`] (embedding, optionally
//! pretrained and frozen → encoder → pooling → classes), which burn-train trains through its
//! `TrainStep` / `InferenceStep` and which loads PyTorch state dicts of the same architecture.

mod config;
mod model;
mod state_dict;
mod step;

pub use config::{ClassifierConfig, PYTORCH_RECIPES};
pub use model::TextClassifier;
pub use state_dict::{ATTENTION_PREFIX, EMBEDDING_KEY, ENCODER_PREFIX, OUTPUT_PREFIX};
