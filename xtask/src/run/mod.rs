//! What `cargo xtask train | eval | predict` share: the run config and folder, the data, the
//! pipelines of the tasks (classify, tag, forecast, seq2seq), the report, and the errors (exit code 2).

pub mod classify;
pub mod config;
pub mod data;
pub mod error;
pub mod fit;
pub mod forecast;
pub mod latency;
pub mod report;
pub mod seq2seq;
pub mod summary;
pub mod tag;
