//! `cargo xtask train | eval | predict --task tag`.
//!
//! Dispatch skeleton: the tag helper fills this file (and submodules under `run/tag/`).

use clap::Args;

use crate::eval::EvalArgs;
use crate::predict::PredictArgs;
use crate::train::TrainArgs;

use super::error::RunError;

/// The `train` flags only `--task tag` reads (flattened into [`TrainArgs`]).
#[derive(Args, Debug, Default)]
pub struct TagFlags {}

impl TagFlags {
    /// The flags given, by name (a resumed run refuses them; other tasks refuse them).
    pub fn given(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// `cargo xtask train --task tag`.
pub fn train(_args: &TrainArgs) -> Result<(), RunError> {
    Err(RunError::Task(
        "--task tag: being built on this branch".into(),
    ))
}

/// `cargo xtask eval` of a tag run.
pub fn eval(_args: &EvalArgs) -> Result<(), RunError> {
    Err(RunError::Task(
        "--task tag: being built on this branch".into(),
    ))
}

/// `cargo xtask predict` of a tag run.
pub fn predict(_args: &PredictArgs) -> Result<(), RunError> {
    Err(RunError::Task(
        "--task tag: being built on this branch".into(),
    ))
}
