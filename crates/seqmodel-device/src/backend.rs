//! [`BackendName`]: the backends seqmodel knows, by name, and the [`Device`] of each.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use crate::DeviceError;

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

    /// Whether this backend was compiled into this binary (the Cargo feature of the same name).
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
            BackendName::Wgpu => crate::wgpu_adapter::adapter().map(|w| w.device.clone()),
            #[allow(unreachable_patterns)]
            _ => Err(DeviceError::NotCompiledIn(self)),
        }
    }
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendName {
    type Err = DeviceError;

    /// Case-insensitive, surrounding spaces ignored: `" WGPU "` is [`BackendName::Wgpu`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flex" => Ok(BackendName::Flex),
            "ndarray" => Ok(BackendName::NdArray),
            "wgpu" => Ok(BackendName::Wgpu),
            _ => Err(DeviceError::Unknown(s.to_string())),
        }
    }
}

#[cfg(feature = "ndarray")]
#[allow(deprecated)] // burn-ndarray is deprecated upstream; this is the one place that builds it.
fn ndarray_device() -> Device {
    Device::ndarray()
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
}
