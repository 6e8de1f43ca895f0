//! `cargo xtask ...` and `cargo test --workspace` share one build of the dependencies: every
//! registry crate both use gets the same features in both (xtask/src/build_sharing.rs).

use std::path::PathBuf;

use xtask::build_sharing::{check_workspace, feature_mismatches};

#[test]
fn xtask_and_the_tests_build_every_shared_dependency_with_the_same_features() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().map_or(manifest.clone(), PathBuf::from);
    let mismatches = check_workspace(&root).expect("cargo tree runs");
    let lines: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
    assert!(
        lines.is_empty(),
        "these dependencies would be compiled twice (once for `cargo xtask`, once for \
         `cargo test --workspace`); give them the same features in both:\n{}",
        lines.join("\n")
    );
}

#[test]
fn a_feature_only_the_tests_enable_is_a_mismatch() {
    let test = "seqmodel-rnn v0.1.0 (/w/crates/seqmodel-rnn)|default,flex\n\
                memchr v2.8.3|alloc,default,std\n\
                proptest v1.12.0|default,std\n\
                regex v1.13.2|default,std\n";
    let xtask = "xtask v0.1.0 (/w/xtask)|\n\
                 seqmodel-rnn v0.1.0 (/w/crates/seqmodel-rnn)|default,flex,wgpu\n\
                 memchr v2.8.3|alloc,std\n\
                 regex v1.13.2|default,std\n";
    let mismatches = feature_mismatches(test, xtask);
    // memchr differs; proptest (tests only) and our own crates are not mismatches.
    assert_eq!(mismatches.len(), 1, "{mismatches:#?}");
    assert_eq!(mismatches[0].package, "memchr v2.8.3");
    assert_eq!(
        mismatches[0].to_string(),
        "memchr v2.8.3: tests build it with [alloc,default,std], xtask with [alloc,std]"
    );
    assert_eq!(feature_mismatches(test, test), vec![]);
}

#[test]
fn host_and_target_builds_of_one_package_are_compared_as_sets() {
    // A package built twice in both commands (once for build scripts, once for the target) with
    // the same two feature sets is shared; one of the two missing from the tests is not.
    let both = "syn v2.0.1|full\nsyn v2.0.1|derive\n";
    assert_eq!(feature_mismatches(both, both), vec![]);
    assert_eq!(feature_mismatches("syn v2.0.1|full\n", both).len(), 1);
}
