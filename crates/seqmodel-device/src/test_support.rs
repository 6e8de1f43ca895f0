//! Helpers for tests that run the same computation on every backend (Cargo feature
//! `test-support`, for `[dev-dependencies]` only).
//!
//! ```toml
//! [dev-dependencies]
//! seqmodel-device = { workspace = true, features = ["test-support"] }
//! ```

use burn::tensor::Device;

use crate::BackendName;

/// Environment variable that turns "skip: no wgpu adapter" into a test failure (CI sets it).
pub const REQUIRE_WGPU_ENV: &str = "SEQMODEL_REQUIRE_WGPU";

/// The devices the cross-backend tests compare: every compiled-in CPU backend, and wgpu when an
/// adapter exists (see [`wgpu_for_tests`] for what happens when none does), in
/// [`BackendName::ALL`] order.
///
/// # Panics
/// As [`wgpu_for_tests`].
pub fn test_devices(test_name: &str) -> Vec<(BackendName, Device)> {
    let mut devices = Vec::new();
    for backend in BackendName::compiled_in() {
        if backend == BackendName::Wgpu {
            if let Some(device) = wgpu_for_tests(test_name) {
                devices.push((backend, device));
            }
        } else if let Ok(device) = backend.device() {
            devices.push((backend, device));
        }
    }
    devices
}

/// The wgpu device for a test, or `None` (after printing why the test skips it) when wgpu is not
/// compiled in or has no adapter.
///
/// # Panics
/// When the environment variable [`REQUIRE_WGPU_ENV`] is `1` and no wgpu device is available:
/// CI sets it, so a missing software Vulkan driver fails the build instead of silently skipping.
pub fn wgpu_for_tests(test_name: &str) -> Option<Device> {
    match BackendName::Wgpu.device() {
        Ok(device) => Some(device),
        Err(err) => {
            if std::env::var(REQUIRE_WGPU_ENV).is_ok_and(|v| v == "1") {
                panic!("{test_name}: {REQUIRE_WGPU_ENV}=1 but wgpu is unavailable: {err}");
            }
            eprintln!("{test_name}: skipping wgpu: {err}");
            None
        }
    }
}
