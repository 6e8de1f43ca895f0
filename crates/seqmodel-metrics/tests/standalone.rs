//! The library stands alone: without its default `cli` feature it depends on neither the
//! command-line crates (clap, serde, serde_json) nor Burn. Checked on the resolved dependency
//! graph (`cargo tree -e normal`), which is what a crate depending on
//! `seqmodel-metrics = { default-features = false }` gets.

use std::process::Command;

/// The crate names in `cargo tree -p seqmodel-metrics -e normal --prefix none` with `features`.
fn normal_dependencies(features: &[&str]) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "seqmodel-metrics",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--offline", "--manifest-path", env!("CARGO_MANIFEST_PATH")])
        .args(features)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn library_without_cli_pulls_no_cli_crates_and_no_burn() {
    let deps = normal_dependencies(&["--no-default-features"]);
    assert!(
        deps.iter().any(|d| d == "regex"),
        "unexpected tree: {deps:?}"
    );
    for banned in ["clap", "serde", "serde_json"] {
        assert!(
            !deps.iter().any(|d| d == banned),
            "{banned} in the library-only build: {deps:?}"
        );
    }
    assert!(
        !deps.iter().any(|d| d.starts_with("burn")),
        "Burn in the metrics crate: {deps:?}"
    );
    // The default build (with the CLI) does use clap: the check above is not vacuous.
    assert!(normal_dependencies(&[]).iter().any(|d| d == "clap"));
}
