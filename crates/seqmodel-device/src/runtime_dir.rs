//! [`fallback_runtime_dir`]: a private `XDG_RUNTIME_DIR` for binaries to set at start-up.
//!
//! Mesa's Vulkan drivers (lavapipe runs the wgpu tests on a CPU) print "error:
//! XDG_RUNTIME_DIR is invalid or not set in the environment" when the variable is unset:
//! harmless, but noisy. Setting an environment variable is only sound while no other thread
//! reads the environment ([`std::env::set_var`] is `unsafe` for that reason), which a library
//! cannot know, so seqmodel's libraries never do it. A binary can: as the first thing in `main`,
//! before it starts any thread, it asks for a directory and sets the variable itself.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The environment variable Mesa's drivers want.
const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";

/// When `XDG_RUNTIME_DIR` is unset or empty: a new private directory (mode 0700 on Unix,
/// `<temp dir>/seqmodel-xdg-<process id>`) for the caller to set it to. `None` when the variable
/// is already set, or when the directory cannot be created (Mesa then only warns).
///
/// Reads the environment, never writes it: setting an environment variable is only sound while
/// no other thread reads the environment, which a library cannot know. The binary sets it:
///
/// ```no_run
/// // The first statement of the binary's `main`:
/// if let Some(dir) = seqmodel_device::fallback_runtime_dir() {
///     // SAFETY: no other thread exists yet, so nothing reads the environment concurrently.
///     unsafe { std::env::set_var("XDG_RUNTIME_DIR", dir) };
/// }
/// // ... then parse arguments, pick a backend, start threads.
/// ```
pub fn fallback_runtime_dir() -> Option<PathBuf> {
    let current = std::env::var_os(XDG_RUNTIME_DIR);
    private_dir_unless_set(
        current.as_deref(),
        &std::env::temp_dir(),
        std::process::id(),
    )
}

/// [`fallback_runtime_dir`] with its inputs explicit: `current` is the variable's value, the
/// directory is `<temp>/seqmodel-xdg-<pid>`.
fn private_dir_unless_set(current: Option<&OsStr>, temp: &Path, pid: u32) -> Option<PathBuf> {
    if current.is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let dir = temp.join(format!("seqmodel-xdg-{pid}"));
    std::fs::create_dir_all(&dir).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).ok()?;
    }
    Some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("seqmodel-device-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_set_variable_is_left_alone() {
        let temp = scratch("set");
        let got = private_dir_unless_set(Some(OsStr::new("/run/user/1000")), &temp, 7);
        assert_eq!(got, None);
        assert!(!temp.join("seqmodel-xdg-7").exists());
    }

    #[test]
    fn an_unset_or_empty_variable_gets_a_private_directory() {
        let temp = scratch("unset");
        for current in [None, Some(OsStr::new(""))] {
            let dir = private_dir_unless_set(current, &temp, 42).expect("directory created");
            assert_eq!(dir, temp.join("seqmodel-xdg-42"));
            assert!(dir.is_dir());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&dir)
                    .expect("metadata")
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o700, "mode {mode:o}");
            }
        }
    }

    #[test]
    fn an_uncreatable_directory_is_none_not_a_panic() {
        let temp = scratch("file");
        let file = temp.join("not-a-dir");
        std::fs::write(&file, b"x").expect("write");
        assert_eq!(private_dir_unless_set(None, &file, 1), None);
    }
}
