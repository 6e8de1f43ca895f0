//! A trained model's weights as one file (`model.bpk` in a run folder), written atomically in
//! the format of burn-train's checkpoints, so that evaluation and prediction need neither the
//! optimiser state nor the checkpoint folder.

use std::fs;
use std::io;
use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use burn::train::checkpoint::Checkpoint;

use crate::checkpoint::write_atomic;
use crate::error::{Result, TrainError};

/// The file name of a run's final weights.
pub const MODEL_FILE: &str = "model.bpk";

/// Writes `model`'s parameters to `path`: temporary file, `fsync`, rename (the old file, if
/// any, stays whole until the new one is complete).
pub fn save_model<M: Module>(model: &M, path: &Path) -> Result<()> {
    let bytes = model
        .clone()
        .into_record()
        .checkpoint_into_bytes()
        .map_err(|error| TrainError::io(path, io::Error::other(error.to_string())))?;
    write_atomic(path, &bytes).map_err(|error| TrainError::io(path, error))
}

/// Loads parameters written by [`save_model`] into `model` (which fixes the architecture).
///
/// # Errors
/// [`TrainError::CheckpointMissing`] when `path` does not exist,
/// [`TrainError::CheckpointCorrupt`] when it is not a record (e.g. truncated), and
/// [`TrainError::CheckpointMismatch`] when its parameters do not fit `model`; each names `path`.
pub fn load_model<M: Module>(model: M, path: &Path) -> Result<M> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(TrainError::CheckpointMissing {
                path: path.to_path_buf(),
            });
        }
        Err(error) => return Err(TrainError::io(path, error)),
    };
    let record =
        ModuleRecord::checkpoint_from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|error| {
            TrainError::CheckpointCorrupt {
                path: path.to_path_buf(),
                reason: error.to_string(),
            }
        })?;
    model
        .try_load_record(record)
        .map_err(|error| TrainError::CheckpointMismatch {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })
}
