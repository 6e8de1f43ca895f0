//! What can stop `cargo xtask train | eval | predict`: one line naming the problem and the fix,
//! exit code 2 (as for a bad flag), and nothing overwritten.

use std::io;
use std::path::{Path, PathBuf};

/// The exit code of every refused run (clap uses 2 for usage errors too).
pub const EXIT_USAGE: u8 = 2;

/// A run that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A config file is not valid JSON or has unknown fields.
    #[error("{}: {message} (see `cargo xtask train --help`; a run's own config.json is a complete example)", path.display())]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// serde's message (with line and column).
        message: String,
    },
    /// A config value that cannot work.
    #[error("{}: field `{field}`: {message}", origin.display())]
    ConfigValue {
        /// Where the config came from (a file, or the command line).
        origin: PathBuf,
        /// The field.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// `--data` names neither a bundled data set nor a file.
    #[error("--data {given}: not a bundled data set ({bundled}) nor an existing .csv/.tsv file")]
    UnknownData {
        /// What was given.
        given: String,
        /// The bundled names.
        bundled: String,
    },
    /// The data could not be read or is unusable.
    #[error("{0}")]
    Data(String),
    /// The model's configuration does not fit the data.
    #[error("{0}")]
    Task(String),
    /// Training (or its checkpoints) failed.
    #[error("{0}")]
    Train(String),
    /// The backend does not start here.
    #[error("{0}")]
    Device(String),
    /// A finished run would be overwritten.
    #[error(
        "{}: a finished run is there (report.md); pass --force to replace it, --resume to continue it, or choose another --out",
        dir.display()
    )]
    RunFinished {
        /// The run folder.
        dir: PathBuf,
    },
    /// A run folder that holds no run.
    #[error("{}: no run there ({what} is missing); train one with `cargo xtask train --out {}`", dir.display(), dir.display())]
    NoRun {
        /// The folder.
        dir: PathBuf,
        /// The missing file.
        what: String,
    },
}

impl RunError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl From<seqmodel_data::Error> for RunError {
    fn from(error: seqmodel_data::Error) -> Self {
        Self::Data(error.to_string())
    }
}

impl From<seqmodel_train::TrainError> for RunError {
    fn from(error: seqmodel_train::TrainError) -> Self {
        Self::Train(error.to_string())
    }
}

impl From<seqmodel_tasks::TaskError> for RunError {
    fn from(error: seqmodel_tasks::TaskError) -> Self {
        Self::Task(error.to_string())
    }
}

impl From<seqmodel_train::DeviceError> for RunError {
    fn from(error: seqmodel_train::DeviceError) -> Self {
        Self::Device(error.to_string())
    }
}
