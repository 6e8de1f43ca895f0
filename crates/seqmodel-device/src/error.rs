//! [`DeviceError`]: why a backend could not be selected.

use crate::BackendName;

/// Why a backend could not be selected. Every message is one line and names the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeviceError {
    /// The name is not a backend seqmodel knows.
    #[error("unknown backend {0:?}: expected one of flex, ndarray, wgpu")]
    Unknown(String),
    /// The backend exists but this binary was built without its Cargo feature.
    #[error(
        "backend {0} is not compiled into this binary: rebuild with the Cargo feature `{0}` \
         (seqmodel-device/{0}), or choose another backend with --backend"
    )]
    NotCompiledIn(BackendName),
    /// wgpu found no adapter (no GPU driver and no software Vulkan driver).
    #[error(
        "wgpu found no GPU adapter ({0}): install a GPU driver, or Mesa's software Vulkan driver \
         with `apt-get install mesa-vulkan-drivers libvulkan1`, or choose --backend flex"
    )]
    NoWgpuAdapter(String),
    /// The backend started but a 3-element sum came out wrong.
    #[error("backend {backend} started but computed a wrong result (1+2+3 = {got})")]
    WrongResult {
        /// The backend that failed.
        backend: BackendName,
        /// The sum it computed.
        got: f32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_feature_error_names_the_feature() {
        let err = DeviceError::NotCompiledIn(BackendName::Wgpu).to_string();
        assert!(err.contains("Cargo feature `wgpu`"), "{err}");
        assert!(err.contains("seqmodel-device/wgpu"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn no_adapter_error_names_the_software_driver() {
        let err = DeviceError::NoWgpuAdapter("No adapter available".into()).to_string();
        assert!(err.contains("apt-get install mesa-vulkan-drivers"), "{err}");
        assert!(err.contains("--backend flex"), "{err}");
        assert!(!err.contains('\n'));
    }
}
