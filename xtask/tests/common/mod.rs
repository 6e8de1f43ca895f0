//! What the `cargo xtask train | eval | predict` tests share: a scratch folder per test, running
//! the built `xtask` binary, and the checks of a finished or refused run.

#![allow(dead_code)] // Each test file uses its own subset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `xtask` binary under test.
pub const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

/// A fresh, empty folder `<suite>/<name>` under Cargo's test scratch directory.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(suite)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Runs `xtask args` in `dir` with an empty standard input.
pub fn xtask(args: &[&str], dir: &Path) -> Output {
    Command::new(XTASK)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("xtask runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The run succeeded (its output shown when not).
#[track_caller]
pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// A refused run: exit code 2, one `error: ` line on stderr naming `needle`, no panic.
#[track_caller]
pub fn assert_refused(output: &Output, needle: &str) {
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}
