//! Whether `cargo xtask ...` and `cargo test --workspace` share one build of the dependencies.
//!
//! Cargo builds a dependency once per (profile, feature set). Both commands use the dev profile
//! in one target dir (see `.cargo/config.toml`), so they share every registry crate exactly when
//! each one gets the same features in both builds: the features of `cargo test --workspace`
//! (every member, with dev-dependencies) and those of `cargo run -p xtask` (xtask alone,
//! without). A dependency that only one of the two builds uses is built once, by that one.
//!
//! [`feature_mismatches`] compares the two `cargo tree --format '{p}|{f}'` listings;
//! `xtask/tests/build_sharing.rs` runs it on this workspace, so that a dependency added with
//! other features fails a test instead of silently doubling the build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::layering::cargo_output;

/// `cargo tree` arguments listing the packages of `cargo test --workspace` with their features.
pub const TEST_BUILD_TREE: [&str; 9] = [
    "tree",
    "--workspace",
    "-e",
    "normal,build,dev",
    "--prefix",
    "none",
    "--format",
    "{p}|{f}",
    "--quiet",
];

/// `cargo tree` arguments listing the packages of `cargo run -p xtask` with their features.
pub const XTASK_BUILD_TREE: [&str; 10] = [
    "tree",
    "-p",
    "xtask",
    "-e",
    "normal,build",
    "--prefix",
    "none",
    "--format",
    "{p}|{f}",
    "--quiet",
];

/// A registry package built with different features by the two commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `name vX.Y.Z`.
    pub package: String,
    /// The feature sets it is built with by `cargo test --workspace`.
    pub test_features: BTreeSet<String>,
    /// The feature sets it is built with by `cargo run -p xtask`.
    pub xtask_features: BTreeSet<String>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |sets: &BTreeSet<String>| {
            sets.iter()
                .map(|s| format!("[{s}]"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "{}: tests build it with {}, xtask with {}",
            self.package,
            show(&self.test_features),
            show(&self.xtask_features)
        )
    }
}

/// `name vX.Y.Z -> {feature lists}` for the registry packages of a `{p}|{f}` listing (workspace
/// crates, whose `{p}` names a path in parentheses, are left out: they are ours to rebuild).
fn registry_features(listing: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in listing.lines() {
        let line = line.trim().trim_end_matches(" (*)");
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        let features = features.trim_end_matches(" (*)").trim();
        if package.contains('(') {
            continue;
        }
        packages
            .entry(package.trim().to_string())
            .or_default()
            .insert(features.to_string());
    }
    packages
}

/// The registry packages that both listings contain with different feature sets (each would be
/// compiled twice). Packages in only one listing are not mismatches.
pub fn feature_mismatches(test_listing: &str, xtask_listing: &str) -> Vec<Mismatch> {
    let test = registry_features(test_listing);
    let xtask = registry_features(xtask_listing);
    xtask
        .into_iter()
        .filter_map(|(package, xtask_features)| {
            let test_features = test.get(&package)?;
            (test_features != &xtask_features).then(|| Mismatch {
                package,
                test_features: test_features.clone(),
                xtask_features,
            })
        })
        .collect()
}

/// [`feature_mismatches`] for the workspace at `workspace_root` (runs `cargo tree` twice).
pub fn check_workspace(workspace_root: &Path) -> Result<Vec<Mismatch>, String> {
    let test = cargo_output(workspace_root, &TEST_BUILD_TREE)?;
    let xtask = cargo_output(workspace_root, &XTASK_BUILD_TREE)?;
    Ok(feature_mismatches(&test, &xtask))
}
