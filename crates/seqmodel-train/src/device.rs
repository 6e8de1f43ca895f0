//! Backend selection: turn a backend name (`flex`, `ndarray`, `wgpu`) into a Burn [`Device`].
//!
//! Burn 0.22 has no backend type parameter: a runtime [`Device`] picks one of the backends that
//! were compiled in through Cargo features. seqmodel code never names a backend; binaries
//! (`cargo xtask`, the examples) call [`BackendName::device`] once and pass the `&Device` down.
//!
//! | name      | Cargo feature (this crate) | what it is                                       |
//! |-----------|----------------------------|--------------------------------------------------|
//! | `flex`    | `flex` (default)           | Burn's pure-Rust CPU backend (SIMD + rayon)      |
//! | `ndarray` | `ndarray` (default)        | the older CPU backend, deprecated upstream        |
//! | `wgpu`    | `wgpu` (default)           | GPUs through wgpu (Vulkan, Metal, DX12, WebGPU)  |
//!
//! Training wraps any of them with [`Device::autodiff`]. Errors are one line and name the fix:
//!
//! ```
//! use seqmodel_train::device::BackendName;
//!
//! let err = "cuda".parse::<BackendName>().unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "unknown backend \"cuda\": expected one of flex, ndarray, wgpu"
//! );
//! # #[cfg(feature = "flex")]
//! let device = BackendName::Flex.device()?;
//! # Ok::<(), seqmodel_train::device::DeviceError>(())
//! ```

use std::fmt;
use std::str::FromStr;
#[cfg(feature = "wgpu")]
use std::sync::OnceLock;

use burn::tensor::Device;

/// Environment variable that turns "skip: no wgpu adapter" into a test failure (CI sets it).
pub const REQUIRE_WGPU_ENV: &str = "SEQMODEL_REQUIRE_WGPU";

/// A Burn backend that seqmodel can run on, chosen by name at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendName {
    /// Burn's pure-Rust CPU backend `burn-flex`: the default and the fastest CPU backend here.
    Flex,
    /// Burn's `burn-ndarray` CPU backend (deprecated upstream in favour of flex).
    NdArray,
    /// wgpu: any GPU (Vulkan, Metal, DX12), or Mesa's lavapipe software Vulkan driver on a CPU.
    Wgpu,
}

impl BackendName {
    /// Every backend seqmodel knows about, compiled in or not.
    pub const ALL: [BackendName; 3] = [BackendName::Flex, BackendName::NdArray, BackendName::Wgpu];

    /// The name used on command lines (`--backend NAME`).
    pub fn as_str(self) -> &'static str {
        match self {
            BackendName::Flex => "flex",
            BackendName::NdArray => "ndarray",
            BackendName::Wgpu => "wgpu",
        }
    }

    /// Whether this backend was compiled into this binary.
    pub fn is_compiled_in(self) -> bool {
        match self {
            BackendName::Flex => cfg!(feature = "flex"),
            BackendName::NdArray => cfg!(feature = "ndarray"),
            BackendName::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    /// The backends compiled into this binary, in [`BackendName::ALL`] order.
    pub fn compiled_in() -> Vec<BackendName> {
        Self::ALL
            .into_iter()
            .filter(|b| b.is_compiled_in())
            .collect()
    }

    /// The device of this backend (without autodiff; call [`Device::autodiff`] to train).
    ///
    /// For wgpu this acquires the default adapter once per process (a later call returns the same
    /// device); when none exists the error says how to get one.
    pub fn device(self) -> Result<Device, DeviceError> {
        if !self.is_compiled_in() {
            return Err(DeviceError::NotCompiledIn(self));
        }
        match self {
            #[cfg(feature = "flex")]
            BackendName::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            BackendName::NdArray => Ok(ndarray_device()),
            #[cfg(feature = "wgpu")]
            BackendName::Wgpu => wgpu_adapter().map(|w| w.device.clone()),
            #[allow(unreachable_patterns)]
            _ => Err(DeviceError::NotCompiledIn(self)),
        }
    }

    /// Describe the device this backend runs on, after checking that it starts and computes
    /// (a tiny tensor operation is run on it).
    pub fn probe(self) -> Result<DeviceInfo, DeviceError> {
        let device = self.device()?;
        let description = match self {
            #[cfg(feature = "wgpu")]
            BackendName::Wgpu => {
                let adapter = wgpu_adapter()?;
                format!(
                    "{} ({}, {})",
                    adapter.name, adapter.device_type, adapter.graphics_api
                )
            }
            _ => format!("CPU, {} threads", rayon_threads()),
        };
        let x = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
        let sum: f32 = x.sum().into_scalar();
        if (sum - 6.0).abs() > 1e-6 {
            return Err(DeviceError::WrongResult {
                backend: self,
                got: sum,
            });
        }
        Ok(DeviceInfo {
            backend: self,
            description,
        })
    }
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendName {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flex" => Ok(BackendName::Flex),
            "ndarray" => Ok(BackendName::NdArray),
            "wgpu" => Ok(BackendName::Wgpu),
            _ => Err(DeviceError::Unknown(s.to_string())),
        }
    }
}

/// What [`BackendName::probe`] found: the backend and a human-readable device description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The backend probed.
    pub backend: BackendName,
    /// For wgpu the adapter (`llvmpipe (LLVM 15.0.6, 256 bits) (Cpu, Vulkan)`), else `CPU, N threads`.
    pub description: String,
}

/// Why a backend could not be selected. Every message is one line and names the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeviceError {
    /// The name is not a backend seqmodel knows.
    #[error("unknown backend {0:?}: expected one of flex, ndarray, wgpu")]
    Unknown(String),
    /// The backend exists but this binary was built without its Cargo feature.
    #[error(
        "backend {0} is not compiled into this binary: rebuild with the Cargo feature `{0}` \
         (seqmodel-train/{0}), or choose another backend with --backend"
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

/// The devices the cross-backend tests compare: flex, ndarray, and wgpu when an adapter exists
/// (see [`wgpu_for_tests`] for what happens when none does).
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

#[cfg(feature = "ndarray")]
#[allow(deprecated)] // burn-ndarray is deprecated upstream; this is the one place that builds it.
fn ndarray_device() -> Device {
    Device::ndarray()
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The wgpu adapter acquired once per process, with what it says about itself.
#[cfg(feature = "wgpu")]
struct WgpuAdapter {
    device: Device,
    name: String,
    device_type: String,
    graphics_api: String,
}

#[cfg(feature = "wgpu")]
fn wgpu_adapter() -> Result<&'static WgpuAdapter, DeviceError> {
    static ADAPTER: OnceLock<Result<WgpuAdapter, DeviceError>> = OnceLock::new();
    ADAPTER
        .get_or_init(|| {
            // Mesa's drivers print "XDG_RUNTIME_DIR is invalid" without a runtime dir: harmless,
            // but noisy. Point it at a private temporary directory when it is unset.
            if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
                let dir = std::env::temp_dir().join(format!("seqmodel-xdg-{}", std::process::id()));
                if std::fs::create_dir_all(&dir).is_ok() {
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        let _ =
                            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
                    }
                    // SAFETY: called once, inside `OnceLock::get_or_init`, before any wgpu thread
                    // exists; nothing else in seqmodel reads or writes the environment concurrently.
                    unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
                }
            }
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

#[cfg(feature = "wgpu")]
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for backend in BackendName::ALL {
            assert_eq!(backend.as_str().parse::<BackendName>(), Ok(backend));
            assert_eq!(backend.to_string(), backend.as_str());
        }
        assert_eq!(" WGPU ".parse::<BackendName>(), Ok(BackendName::Wgpu));
    }

    #[test]
    fn unknown_backend_is_a_one_line_error_listing_the_choices() {
        let err = "tch".parse::<BackendName>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown backend \"tch\": expected one of flex, ndarray, wgpu"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn missing_feature_error_names_the_feature() {
        let err = DeviceError::NotCompiledIn(BackendName::Wgpu).to_string();
        assert!(err.contains("Cargo feature `wgpu`"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn no_adapter_error_names_the_software_driver() {
        let err = DeviceError::NoWgpuAdapter("No adapter available".into()).to_string();
        assert!(err.contains("apt-get install mesa-vulkan-drivers"), "{err}");
        assert!(err.contains("--backend flex"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn compiled_in_backends_start_and_compute() {
        for backend in BackendName::compiled_in() {
            if backend == BackendName::Wgpu {
                continue; // covered by the cross-device test, which may skip it
            }
            let info = backend.probe().expect("CPU backends always start");
            assert_eq!(info.backend, backend);
        }
    }
}
