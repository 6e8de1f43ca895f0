//! `cargo xtask ci`: runs `.ci/run`, the one script CI runs, so that the two can never drift.

use std::path::PathBuf;
use std::process::Command;

/// Arguments of `cargo xtask ci`.
#[derive(clap::Args)]
pub struct CiArgs {
    /// Skip the apt-get step (installing mesa-vulkan-drivers etc. needs root).
    #[arg(long)]
    pub no_install: bool,
}

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// Run `bash .ci/run` from the workspace root.
pub fn run(args: &CiArgs) -> Result<(), String> {
    let root = workspace_root();
    let mut cmd = Command::new("bash");
    cmd.arg(root.join(".ci/run")).current_dir(&root);
    if args.no_install {
        cmd.env("SEQMODEL_CI_NO_INSTALL", "1");
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start bash .ci/run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(".ci/run failed ({status})"))
    }
}
