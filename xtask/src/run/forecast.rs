//! `cargo xtask train | eval | predict --task forecast`.
//!
//! Dispatch skeleton: the forecast helper fills this file (and submodules under `run/forecast/`).

use clap::Args;

use crate::eval::EvalArgs;
use crate::predict::PredictArgs;
use crate::train::TrainArgs;

use super::error::RunError;

/// The `train` flags only `--task forecast` reads (flattened into [`TrainArgs`]).
#[derive(Args, Debug, Default)]
pub struct ForecastFlags {}

impl ForecastFlags {
    /// The flags given, by name (a resumed run refuses them; other tasks refuse them).
    pub fn given(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// `cargo xtask train --task forecast`.
pub fn train(_args: &TrainArgs) -> Result<(), RunError> {
    Err(RunError::Task(
        "--task forecast: being built on this branch".into(),
    ))
}

/// `cargo xtask eval` of a forecast run.
pub fn eval(_args: &EvalArgs) -> Result<(), RunError> {
    Err(RunError::Task(
        "--task forecast: being built on this branch".into(),
    ))
}

/// `cargo xtask predict` of a forecast run.
pub fn predict(_args: &PredictArgs) -> Result<(), RunError> {
    Err(RunError::Task(
        "--task forecast: being built on this branch".into(),
    ))
}
