//! The wgpu adapter, acquired once per process.

use std::sync::OnceLock;

use burn::tensor::Device;

use crate::DeviceError;

/// The wgpu adapter acquired once per process, with what it says about itself.
pub(crate) struct WgpuAdapter {
    /// The wgpu device on that adapter.
    pub(crate) device: Device,
    name: String,
    device_type: String,
    graphics_api: String,
}

impl WgpuAdapter {
    /// `name (device type, graphics API)`, e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (Cpu, Vulkan)`.
    pub(crate) fn description(&self) -> String {
        format!(
            "{} ({}, {})",
            self.name, self.device_type, self.graphics_api
        )
    }
}

/// The default wgpu adapter of this process (the first call acquires it; later calls, from any
/// thread, return the same adapter or the same error).
///
/// The environment is read, never written: Mesa's "XDG_RUNTIME_DIR is invalid" warning is the
/// binary's to silence (see [`crate::fallback_runtime_dir`]).
pub(crate) fn adapter() -> Result<&'static WgpuAdapter, DeviceError> {
    static ADAPTER: OnceLock<Result<WgpuAdapter, DeviceError>> = OnceLock::new();
    ADAPTER
        .get_or_init(|| {
            let (device, setup) = Device::wgpu_options()
                .init_with_setup()
                .map_err(|e| DeviceError::NoWgpuAdapter(one_line(&e.to_string())))?;
            let info = setup.adapter.get_info();
            Ok(WgpuAdapter {
                device,
                name: info.name,
                device_type: format!("{:?}", info.device_type),
                graphics_api: format!("{:?}", info.backend),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// `s` with every run of whitespace (newlines included) replaced by one space.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_errors_become_one_line() {
        assert_eq!(
            one_line("no adapter\n  found:\tnone "),
            "no adapter found: none"
        );
    }
}
