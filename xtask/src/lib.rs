//! The library half of `cargo xtask`: the parts that tests check (the layering rules, the
//! build-sharing check, the statistics the benchmarks report). The tasks themselves are in the
//! binary (`src/main.rs`, one file per task).

pub mod build_sharing;
pub mod layering;
pub mod stats;
