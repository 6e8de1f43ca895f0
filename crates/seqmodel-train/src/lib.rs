//! # seqmodel-train
//!
//! The task-agnostic layer of seqmodel. The training loop will live here; today the crate
//! re-exports device selection from [`seqmodel_device`] as [`device`], so that a binary depends
//! on one crate for both.
//!
//! Every seqmodel layer takes a `&Device` and never names a backend; binaries turn a
//! `--backend flex|ndarray|wgpu` flag into a device with [`device::BackendName::device`] and
//! wrap it with `.autodiff()` to train.
//!
//! ```
//! use burn::tensor::Tensor;
//! use seqmodel_train::device::BackendName;
//!
//! # #[cfg(feature = "flex")] {
//! let device = BackendName::Flex.device().expect("flex is compiled in by default");
//! let x = Tensor::<2>::ones([2, 3], &device);
//! assert_eq!(x.sum().into_scalar::<f32>(), 6.0);
//! # }
//! ```

/// Backend selection: [`seqmodel_device`], re-exported (`seqmodel_train::device::BackendName`).
pub use seqmodel_device as device;

pub use seqmodel_device::{BackendName, DeviceError, DeviceInfo};

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
