//! The layering rules (xtask/src/layering.rs) on this workspace, and on synthetic graphs that
//! break each rule (so that the check itself is shown to fail when it should).

use std::path::PathBuf;

use xtask::layering::{DepKind, Graph, check_graph, check_metrics_library, check_workspace};

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// The workspace as it should be: rnn on data and device, train on device, xtask on the rest,
/// metrics on plain crates, each layer on Burn.
fn clean_graph() -> Graph {
    let mut g = Graph::default();
    for m in [
        "seqmodel-metrics",
        "seqmodel-data",
        "seqmodel-device",
        "seqmodel-rnn",
        "seqmodel-train",
        "xtask",
    ] {
        g.members.insert(m.to_string());
    }
    g.add_edge("seqmodel-metrics", "regex", DepKind::Normal);
    g.add_edge("seqmodel-metrics", "proptest", DepKind::Dev);
    g.add_edge("seqmodel-data", "burn", DepKind::Normal);
    g.add_edge("seqmodel-device", "burn", DepKind::Normal);
    g.add_edge("seqmodel-device", "seqmodel-device", DepKind::Dev);
    g.add_edge("seqmodel-rnn", "burn", DepKind::Normal);
    g.add_edge("seqmodel-rnn", "seqmodel-data", DepKind::Normal);
    g.add_edge("seqmodel-rnn", "seqmodel-device", DepKind::Dev);
    g.add_edge("seqmodel-train", "seqmodel-device", DepKind::Normal);
    g.add_edge("xtask", "seqmodel-train", DepKind::Normal);
    g.add_edge("xtask", "seqmodel-rnn", DepKind::Normal);
    g.add_edge("burn", "burn-tensor", DepKind::Normal);
    g
}

#[test]
fn a_clean_graph_passes() {
    assert_eq!(check_graph(&clean_graph()), vec![]);
}

#[test]
fn a_layer_with_the_trainer_as_dev_dependency_fails_rules_1_and_3() {
    let mut g = clean_graph();
    g.add_edge("seqmodel-rnn", "seqmodel-train", DepKind::Dev);
    let v = check_graph(&g);
    let rules: Vec<u8> = v.iter().map(|v| v.rule).collect();
    assert_eq!(rules, vec![1, 3], "{v:#?}");
    assert!(
        v[0].message
            .contains("seqmodel-rnn (layer 1) depends on seqmodel-train (layer 3) as a dev")
    );
    assert!(v[1].message.contains("test-support"), "{}", v[1]);
}

#[test]
fn a_layer_reaching_the_trainer_through_a_registry_crate_fails_rule_3() {
    let mut g = clean_graph();
    g.add_edge("seqmodel-data", "some-helper", DepKind::Normal);
    g.add_edge("some-helper", "seqmodel-tasks", DepKind::Normal);
    let v = check_graph(&g);
    // data reaches the tasks crate, and so does rnn, through data.
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(v.iter().all(|v| v.rule == 3));
    assert!(
        v[0].message
            .contains("(seqmodel-data -> some-helper -> seqmodel-tasks)"),
        "{}",
        v[0]
    );
    assert!(
        v[1].message
            .contains("(seqmodel-rnn -> seqmodel-data -> some-helper -> seqmodel-tasks)"),
        "{}",
        v[1]
    );
}

#[test]
fn metrics_reaching_burn_transitively_fails_rule_2() {
    let mut g = clean_graph();
    g.add_edge("seqmodel-metrics", "tensor-glue", DepKind::Normal);
    g.add_edge("tensor-glue", "burn-tensor", DepKind::Normal);
    let v = check_graph(&g);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0].rule, 2);
    assert!(
        v[0].message
            .contains("seqmodel-metrics -> tensor-glue -> burn-tensor"),
        "{}",
        v[0]
    );
    // A dev-dependency on Burn (for a test) is not the library depending on it.
    let mut g = clean_graph();
    g.add_edge("seqmodel-metrics", "burn", DepKind::Dev);
    assert_eq!(check_graph(&g), vec![]);
}

#[test]
fn depending_on_the_same_layer_or_above_fails_rule_1() {
    let mut g = clean_graph();
    g.add_edge("seqmodel-data", "seqmodel-metrics", DepKind::Build);
    g.add_edge("seqmodel-device", "seqmodel-rnn", DepKind::Normal);
    let v = check_graph(&g);
    assert_eq!(v.len(), 2, "{v:#?}");
    assert!(v.iter().all(|v| v.rule == 1));
    assert!(
        v[0].message
            .contains("seqmodel-data (layer 0) depends on seqmodel-metrics (layer 0) as a build")
    );
    assert!(
        v[1].message
            .contains("seqmodel-device (layer 0) depends on seqmodel-rnn (layer 1)")
    );
}

#[test]
fn a_crate_without_a_layer_fails_rule_1() {
    let mut g = clean_graph();
    g.members.insert("seqmodel-extra".to_string());
    let v = check_graph(&g);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert!(
        v[0].message.contains("seqmodel-extra has no layer"),
        "{}",
        v[0]
    );
}

#[test]
fn metadata_json_is_parsed_into_named_edges() {
    let json = r#"{
      "packages": [
        {"id": "path+file:///w/crates/seqmodel-rnn#0.1.0", "name": "seqmodel-rnn"},
        {"id": "path+file:///w/crates/seqmodel-train#0.1.0", "name": "seqmodel-train"},
        {"id": "registry+x#burn@0.22.1", "name": "burn"}
      ],
      "workspace_members": ["path+file:///w/crates/seqmodel-rnn#0.1.0",
                            "path+file:///w/crates/seqmodel-train#0.1.0"],
      "resolve": {"nodes": [
        {"id": "path+file:///w/crates/seqmodel-rnn#0.1.0", "deps": [
          {"name": "burn", "pkg": "registry+x#burn@0.22.1",
           "dep_kinds": [{"kind": null, "target": null}, {"kind": "dev", "target": null}]},
          {"name": "seqmodel_train", "pkg": "path+file:///w/crates/seqmodel-train#0.1.0",
           "dep_kinds": [{"kind": "dev", "target": null}]}
        ]},
        {"id": "path+file:///w/crates/seqmodel-train#0.1.0", "deps": []},
        {"id": "registry+x#burn@0.22.1", "deps": []}
      ]}
    }"#;
    let g = Graph::from_metadata(json).expect("valid metadata");
    assert_eq!(g.members.len(), 2);
    assert_eq!(
        g.edges["seqmodel-rnn"]["burn"],
        [DepKind::Normal, DepKind::Dev].into_iter().collect()
    );
    let v = check_graph(&g);
    assert_eq!(v.iter().map(|v| v.rule).collect::<Vec<_>>(), vec![1, 3]);
    // Metadata without a resolve graph (`--no-deps`) is an error naming the fix.
    let err = Graph::from_metadata(r#"{"packages": [], "workspace_members": [], "resolve": null}"#)
        .expect_err("no resolve");
    assert!(err.to_string().contains("without --no-deps"), "{err}");
}

#[test]
fn the_metrics_library_check_names_what_it_finds() {
    let lean =
        "seqmodel-metrics v0.1.0 (/w/crates/seqmodel-metrics)\nmemchr v2.8.3\nregex v1.13.2\n";
    assert_eq!(check_metrics_library(lean), vec![]);
    let fat = "seqmodel-metrics v0.1.0 (/w)\nclap v4.6.9\nclap_builder v4.6.7\nserde v1.0.228\n\
               serde_json v1.0.1\nburn-std v0.22.1\n";
    let v = check_metrics_library(fat);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0].rule, 4);
    assert!(
        v[0].message
            .contains("depends on burn-std, clap, serde, serde_json:"),
        "{}",
        v[0]
    );
}

/// Rules 1-3 on this workspace. Rule 4 (metrics without default features pulls no clap, serde
/// or Burn) is checked with them: see `the_metrics_library_builds_alone`.
#[test]
fn this_workspace_obeys_the_layering() {
    let violations = check_workspace(&workspace_root()).expect("cargo metadata and cargo tree run");
    let graph_rules: Vec<String> = violations
        .iter()
        .filter(|v| v.rule != 4)
        .map(ToString::to_string)
        .collect();
    assert!(graph_rules.is_empty(), "{}", graph_rules.join("\n"));
}

#[test]
fn the_metrics_library_builds_alone() {
    let violations = check_workspace(&workspace_root()).expect("cargo metadata and cargo tree run");
    let lean: Vec<String> = violations
        .iter()
        .filter(|v| v.rule == 4)
        .map(ToString::to_string)
        .collect();
    assert!(lean.is_empty(), "{}", lean.join("\n"));
}
