//! # seqmodel-device
//!
//! Backend selection: turn a backend name (`flex`, `ndarray`, `wgpu`) into a Burn [`Device`].
//!
//! Burn 0.22 has no backend type parameter: a runtime [`Device`] picks one of the backends that
//! were compiled in through Cargo features. seqmodel code never names a backend; binaries
//! (`cargo xtask`, the examples) call [`BackendName::device`] once and pass the `&Device` down.
//! This crate sits at the bottom of seqmodel's layering (next to seqmodel-data and
//! seqmodel-metrics), so every layer crate and every test can use it without pulling in the
//! training crate.
//!
//! | name      | Cargo feature (this crate) | what it is                                       |
//! |-----------|----------------------------|--------------------------------------------------|
//! | `flex`    | `flex` (default)           | Burn's pure-Rust CPU backend (SIMD + rayon)      |
//! | `ndarray` | `ndarray` (default)        | the older CPU backend, deprecated upstream        |
//! | `wgpu`    | `wgpu` (default)           | GPUs through wgpu (Vulkan, Metal, DX12, WebGPU)  |
//! | —         | `test-support` (off)       | `test_support`: helpers for cross-backend tests   |
//!
//! Training wraps any of them with [`Device::autodiff`]. Errors are one line and name the fix:
//!
//! ```
//! use seqmodel_device::BackendName;
//!
//! let err = "cuda".parse::<BackendName>().unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "unknown backend \"cuda\": expected one of flex, ndarray, wgpu"
//! );
//! # #[cfg(feature = "flex")]
//! let device = BackendName::Flex.device()?;
//! # Ok::<(), seqmodel_device::DeviceError>(())
//! ```
//!
//! This library never changes its process's environment. Mesa's Vulkan drivers print a harmless
//! warning when `XDG_RUNTIME_DIR` is unset; a binary that wants them quiet sets it itself at the
//! start of `main` with [`fallback_runtime_dir`].
//!
//! [`Device`]: burn::tensor::Device
//! [`Device::autodiff`]: burn::tensor::Device::autodiff

mod backend;
mod error;
mod probe;
mod runtime_dir;
#[cfg(feature = "test-support")]
pub mod test_support;
#[cfg(feature = "wgpu")]
mod wgpu_adapter;

pub use backend::BackendName;
pub use error::DeviceError;
pub use probe::DeviceInfo;
pub use runtime_dir::fallback_runtime_dir;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
