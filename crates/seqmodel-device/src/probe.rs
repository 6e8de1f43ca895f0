//! [`BackendName::probe`]: start a backend, check that it computes, and describe its device.

use crate::{BackendName, DeviceError};

/// What [`BackendName::probe`] found: the backend and a human-readable device description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The backend probed.
    pub backend: BackendName,
    /// For wgpu the adapter (`llvmpipe (LLVM 15.0.6, 256 bits) (Cpu, Vulkan)`), else `CPU, N threads`.
    pub description: String,
}

impl BackendName {
    /// Describe the device this backend runs on, after checking that it starts and computes
    /// (a 3-element sum is run on it and must equal 6).
    pub fn probe(self) -> Result<DeviceInfo, DeviceError> {
        let device = self.device()?;
        let description = match self {
            #[cfg(feature = "wgpu")]
            BackendName::Wgpu => crate::wgpu_adapter::adapter()?.description(),
            _ => format!("CPU, {} threads", cpu_threads()),
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

fn cpu_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_in_cpu_backends_start_and_compute() {
        for backend in BackendName::compiled_in() {
            if backend == BackendName::Wgpu {
                continue; // covered by tests/cross_device.rs, which may skip it
            }
            let info = backend.probe().expect("CPU backends always start");
            assert_eq!(info.backend, backend);
            assert!(
                info.description.starts_with("CPU, "),
                "{}",
                info.description
            );
        }
    }
}
