//! Time-series forecasting: [`ForecasterConfig`] builds a [`Forecaster`] (windows `[batch,
//! lookback, inputs]` → encoder → optionally additive attention over the encoder's states →
//! linear layer to `horizon × targets` values), which burn-train trains through its
//! `TrainStep` / `InferenceStep` on seqmodel-data's `WindowBatch` with a mean squared error.
//!
//! The attention is seqmodel-attention's [`seqmodel_attention::AdditiveAttention`] (Bahdanau et
//! al. 2015), with the encoder's last state as the query, as in the PyTorch benchmark
//! `task4_stock.py` (`lstm_attn`).

mod config;
mod model;
mod step;

pub use config::{ForecastAttention, ForecasterConfig};
pub use model::Forecaster;
