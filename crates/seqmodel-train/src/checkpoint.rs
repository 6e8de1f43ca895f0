//! Atomic checkpoint files and the "last completed epoch" marker.
//!
//! burn-train's `FileCheckpointer` writes each record straight to its final name
//! (`model-3.bpk`), so a run killed mid-write leaves a truncated file under a valid name, and
//! nothing tells which epoch has all of its files. [`AtomicFileCheckpointer`] plugs into the
//! same `Checkpointer` hook and
//!
//! 1. writes each record (model, optimiser, scheduler) to a temporary file in the same folder,
//!    `fsync`s it, renames it over the final name and `fsync`s the folder ([`write_atomic`]);
//! 2. once **all** parts of an epoch are on disk, writes the marker [`MARKER_FILE`]
//!    (`{"epoch": 3, "seed": 42, ...}`) the same way.
//!
//! A run killed at any moment therefore has a marker that names an epoch whose files are all
//! complete; `resume` starts from it. The random state needs no file of its own: every epoch's
//! RNG seed is derived from `(seed, epoch)` ([`epoch_seed`]), so it is known from the marker.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::tensor::Bytes;
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// The marker file, in the checkpoint folder: the last epoch whose files are all complete.
pub const MARKER_FILE: &str = "last.json";

/// The record kinds a training checkpoint is made of, in the order they are saved.
pub const CHECKPOINT_PARTS: [&str; 3] = ["model", "optim", "scheduler"];

/// The version of the marker's layout.
const MARKER_FORMAT: u32 = 1;

/// The content of [`MARKER_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointMarker {
    /// Layout version (1).
    pub format: u32,
    /// The last completed epoch (1-based); its files are all on disk.
    pub epoch: usize,
    /// The run's seed; the RNG of epoch `e` is seeded with [`epoch_seed`]`(seed, e)`.
    pub seed: u64,
}

/// The RNG seed used for `epoch` (1-based) of a run seeded with `seed`: a SplitMix64 mix of
/// both, so that consecutive epochs get unrelated streams and a resumed run draws exactly the
/// numbers an uninterrupted one would.
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Writes `bytes` to `path` so that `path` holds either its old content or all of `bytes`,
/// whatever happens: temporary file in the same folder, `fsync`, rename, `fsync` of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(error) = written.and_then(|()| fs::rename(&tmp, path)) {
        // Best effort: the temporary file is garbage either way, and the error to report is
        // the write's.
        let _ = fs::remove_file(&tmp);
        return Err(error);
    }
    sync_dir(dir)
}

/// `fsync`s `dir`, so that a rename in it survives a crash.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Windows cannot open a folder as a file; a rename there is already durable enough
    // for NTFS's journal.
    Ok(())
}

/// The file of `part` (`model`, `optim`, `scheduler`) for `epoch` in `dir`.
pub fn checkpoint_path(dir: &Path, part: &str, epoch: usize) -> PathBuf {
    dir.join(format!("{part}-{epoch}.bpk"))
}

/// Reads the marker of `dir`; `Ok(None)` when there is none (no completed epoch).
///
/// # Errors
/// [`TrainError::CheckpointCorrupt`] naming the marker when it is unreadable.
pub fn read_marker(dir: &Path) -> Result<Option<CheckpointMarker>> {
    let path = dir.join(MARKER_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(TrainError::io(path, error)),
    };
    let marker: CheckpointMarker =
        serde_json::from_str(&text).map_err(|error| TrainError::CheckpointCorrupt {
            path: path.clone(),
            reason: error.to_string(),
        })?;
    if marker.format != MARKER_FORMAT {
        return Err(TrainError::CheckpointMismatch {
            path,
            reason: format!(
                "marker format {} (this version reads {MARKER_FORMAT})",
                marker.format
            ),
        });
    }
    Ok(Some(marker))
}

/// Reads the checkpoint file of `part` for `epoch` as a record `R`.
///
/// # Errors
/// [`TrainError::CheckpointMissing`] or [`TrainError::CheckpointCorrupt`], naming the file.
pub fn read_checkpoint<R: Checkpoint>(dir: &Path, part: &str, epoch: usize) -> Result<R> {
    let path = checkpoint_path(dir, part, epoch);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(TrainError::CheckpointMissing { path });
        }
        Err(error) => return Err(TrainError::io(path, error)),
    };
    R::checkpoint_from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|error| {
        TrainError::CheckpointCorrupt {
            path,
            reason: error.to_string(),
        }
    })
}

/// Tracks which parts of each epoch are on disk and writes the marker when one is complete.
#[derive(Debug)]
struct MarkerWriter {
    dir: PathBuf,
    seed: u64,
    done: BTreeMap<usize, BTreeSet<String>>,
}

impl MarkerWriter {
    fn completed(&mut self, epoch: usize, part: &str) -> io::Result<()> {
        let parts = self.done.entry(epoch).or_default();
        parts.insert(part.to_string());
        if CHECKPOINT_PARTS.iter().all(|p| parts.contains(*p)) {
            self.done.retain(|e, _| *e > epoch);
            let marker = CheckpointMarker {
                format: MARKER_FORMAT,
                epoch,
                seed: self.seed,
            };
            let json = serde_json::to_vec_pretty(&marker).map_err(io::Error::other)?;
            write_atomic(&self.dir.join(MARKER_FILE), &json)?;
        }
        Ok(())
    }
}

/// A burn-train `Checkpointer` for one part (`model`, `optim` or `scheduler`) that writes
/// atomically and, with its siblings from [`AtomicFileCheckpointer::set`], keeps the marker.
#[derive(Debug, Clone)]
pub struct AtomicFileCheckpointer {
    dir: PathBuf,
    part: &'static str,
    marker: Arc<Mutex<MarkerWriter>>,
}

impl AtomicFileCheckpointer {
    /// The three checkpointers (model, optimiser, scheduler) of a run whose checkpoints live in
    /// `dir` (created if needed), sharing one marker.
    ///
    /// # Errors
    /// [`TrainError::Io`] when `dir` cannot be created.
    pub fn set(dir: &Path, seed: u64) -> Result<[Self; 3]> {
        fs::create_dir_all(dir).map_err(|error| TrainError::io(dir, error))?;
        let marker = Arc::new(Mutex::new(MarkerWriter {
            dir: dir.to_path_buf(),
            seed,
            done: BTreeMap::new(),
        }));
        Ok(CHECKPOINT_PARTS.map(|part| Self {
            dir: dir.to_path_buf(),
            part,
            marker: marker.clone(),
        }))
    }
}

impl<R: Checkpoint> Checkpointer<R> for AtomicFileCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let bytes = record
            .checkpoint_into_bytes()
            .map_err(CheckpointerError::Record)?;
        let path = checkpoint_path(&self.dir, self.part, epoch);
        write_atomic(&path, &bytes).map_err(|error| {
            CheckpointerError::IOError(io::Error::new(
                error.kind(),
                format!("{}: {error}", path.display()),
            ))
        })?;
        self.marker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .completed(epoch, self.part)
            .map_err(CheckpointerError::IOError)
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        let path = checkpoint_path(&self.dir, self.part, epoch);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(CheckpointerError::IOError(error)),
        }
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        read_checkpoint(&self.dir, self.part, epoch)
            .map_err(|error| CheckpointerError::Unknown(error.to_string()))
    }
}
