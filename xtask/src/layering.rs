//! The layering check (`cargo xtask check-layering`, and `xtask/tests/layering.rs` in
//! `cargo test --workspace`): which seqmodel crate may depend on which.
//!
//! The rules, on the dependency graph that `cargo metadata` resolves:
//!
//! 1. **Order.** Every workspace crate has a layer ([`LAYERS`]): seqmodel-metrics,
//!    seqmodel-data and seqmodel-device at the bottom, then seqmodel-rnn, seqmodel-attention,
//!    seqmodel-train, seqmodel-tasks and xtask. A crate depends (normal, dev or build) only on
//!    seqmodel crates in a lower layer. A workspace crate missing from the table is an error, so
//!    that a new crate gets a place before it gets dependencies. (A crate's dev-dependency on
//!    itself, which turns a feature on for its own tests, is not a dependency on another crate.)
//! 2. **Metrics stand alone.** seqmodel-metrics never depends on Burn (no `burn` or `burn-*`
//!    package among its normal dependencies, direct or transitive, with all features on).
//! 3. **Layers never on the trainer.** seqmodel-data, seqmodel-rnn and seqmodel-attention never
//!    depend on seqmodel-train or seqmodel-tasks: not directly (any kind), not transitively
//!    (normal and build dependencies).
//! 4. **The metrics library is lean.** `cargo tree -p seqmodel-metrics --no-default-features -e
//!    normal` contains no clap, serde, serde_json or Burn: the `seq-score` CLI's dependencies
//!    stay behind its `cli` feature.
//!
//! The rules are functions of a parsed [`Graph`] (or of `cargo tree`'s package names), so that
//! the tests can run them on synthetic graphs as well as on the real one.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Every workspace crate and its layer (lower numbers lower): a crate depends only on seqmodel
/// crates of a strictly lower layer.
pub const LAYERS: [(&str, u8); 8] = [
    ("seqmodel-metrics", 0),
    ("seqmodel-data", 0),
    ("seqmodel-device", 0),
    ("seqmodel-rnn", 1),
    ("seqmodel-attention", 2),
    ("seqmodel-train", 3),
    ("seqmodel-tasks", 4),
    ("xtask", 5),
];

/// The layer crates of rule 3.
pub const LAYER_CRATES: [&str; 3] = ["seqmodel-data", "seqmodel-rnn", "seqmodel-attention"];

/// What the layer crates of rule 3 must never reach.
pub const TRAINING_CRATES: [&str; 2] = ["seqmodel-train", "seqmodel-tasks"];

/// Packages that `cargo tree -p seqmodel-metrics --no-default-features -e normal` must not list
/// (besides Burn, `burn` and every `burn-*`).
pub const METRICS_LIBRARY_FORBIDDEN: [&str; 3] = ["clap", "serde", "serde_json"];

/// The kind of a dependency edge, as `cargo metadata` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepKind {
    /// `[dependencies]`.
    Normal,
    /// `[dev-dependencies]`.
    Dev,
    /// `[build-dependencies]`.
    Build,
}

impl fmt::Display for DepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DepKind::Normal => "normal",
            DepKind::Dev => "dev",
            DepKind::Build => "build",
        })
    }
}

/// A resolved dependency graph, by package name (one version per name is enough for these
/// rules: a name with several versions merges their edges).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// The workspace's packages (names).
    pub members: BTreeSet<String>,
    /// `from -> to -> kinds`: the dependency edges.
    pub edges: BTreeMap<String, BTreeMap<String, BTreeSet<DepKind>>>,
}

/// Why a `cargo metadata` document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError(pub String);

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unexpected `cargo metadata` output: {}", self.0)
    }
}

impl std::error::Error for MetadataError {}

impl Graph {
    /// Parse `cargo metadata --format-version 1` JSON (it needs `packages`, `workspace_members`
    /// and `resolve.nodes`, so not `--no-deps`).
    pub fn from_metadata(json: &str) -> Result<Graph, MetadataError> {
        let doc: Value =
            serde_json::from_str(json).map_err(|e| MetadataError(format!("not JSON: {e}")))?;
        let field = |v: &Value, name: &str| -> Result<Value, MetadataError> {
            v.get(name)
                .cloned()
                .ok_or_else(|| MetadataError(format!("no `{name}` field")))
        };
        let str_of = |v: &Value, name: &str| -> Result<String, MetadataError> {
            field(v, name)?
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| MetadataError(format!("`{name}` is not a string")))
        };
        let array = |v: Value, name: &str| -> Result<Vec<Value>, MetadataError> {
            match v {
                Value::Array(items) => Ok(items),
                _ => Err(MetadataError(format!("`{name}` is not an array"))),
            }
        };
        let mut names = BTreeMap::new();
        for package in array(field(&doc, "packages")?, "packages")? {
            names.insert(str_of(&package, "id")?, str_of(&package, "name")?);
        }
        let name_of = |id: &str| -> Result<String, MetadataError> {
            names
                .get(id)
                .cloned()
                .ok_or_else(|| MetadataError(format!("package id {id:?} is not in `packages`")))
        };
        let mut graph = Graph::default();
        for id in array(field(&doc, "workspace_members")?, "workspace_members")? {
            let id = id
                .as_str()
                .ok_or_else(|| MetadataError("a workspace member id is not a string".into()))?;
            graph.members.insert(name_of(id)?);
        }
        let resolve = field(&doc, "resolve")?;
        if resolve.is_null() {
            return Err(MetadataError(
                "`resolve` is null: run cargo metadata without --no-deps".into(),
            ));
        }
        for node in array(field(&resolve, "nodes")?, "resolve.nodes")? {
            let from = name_of(&str_of(&node, "id")?)?;
            for dep in array(field(&node, "deps")?, "deps")? {
                let to = name_of(&str_of(&dep, "pkg")?)?;
                for kind in array(field(&dep, "dep_kinds")?, "dep_kinds")? {
                    let kind = match kind.get("kind").and_then(Value::as_str) {
                        None => DepKind::Normal,
                        Some("dev") => DepKind::Dev,
                        Some("build") => DepKind::Build,
                        Some(other) => {
                            return Err(MetadataError(format!(
                                "unknown dependency kind {other:?}"
                            )));
                        }
                    };
                    graph.add_edge(&from, &to, kind);
                }
            }
        }
        Ok(graph)
    }

    /// Add the edge `from -> to` of `kind`.
    pub fn add_edge(&mut self, from: &str, to: &str, kind: DepKind) {
        self.edges
            .entry(from.to_string())
            .or_default()
            .entry(to.to_string())
            .or_default()
            .insert(kind);
    }

    /// The direct dependencies of `name` with their kinds.
    fn deps(&self, name: &str) -> impl Iterator<Item = (&String, &BTreeSet<DepKind>)> {
        self.edges.get(name).into_iter().flatten()
    }

    /// A shortest path `from -> ... -> to` along edges of the given kinds, if one exists
    /// (the names along it, both ends included).
    fn path(
        &self,
        from: &str,
        to: impl Fn(&str) -> bool,
        kinds: &[DepKind],
    ) -> Option<Vec<String>> {
        let mut parent: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([from.to_string()]);
        let mut seen = BTreeSet::from([from.to_string()]);
        while let Some(node) = queue.pop_front() {
            if node != from && to(&node) {
                let mut path = vec![node.clone()];
                let mut at = node;
                while let Some(p) = parent.get(&at) {
                    path.push(p.clone());
                    at = p.clone();
                }
                path.reverse();
                return Some(path);
            }
            for (dep, dep_kinds) in self.deps(&node) {
                if dep_kinds.iter().any(|k| kinds.contains(k)) && seen.insert(dep.clone()) {
                    parent.insert(dep.clone(), node.clone());
                    queue.push_back(dep.clone());
                }
            }
        }
        None
    }
}

/// One broken rule: what depends on what, which rule it breaks and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule (1-4, as in the module documentation).
    pub rule: u8,
    /// One line: the crates involved and how to fix it.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}: {}", self.rule, self.message)
    }
}

/// The layer of a workspace crate, if it has one.
pub fn layer(name: &str) -> Option<u8> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

fn is_burn(name: &str) -> bool {
    name == "burn" || name.starts_with("burn-")
}

/// Rules 1-3 on a resolved graph. Empty when the graph obeys them.
pub fn check_graph(graph: &Graph) -> Vec<Violation> {
    let mut violations = Vec::new();
    // 1. Order.
    for member in &graph.members {
        let Some(own) = layer(member) else {
            violations.push(Violation {
                rule: 1,
                message: format!(
                    "workspace crate {member} has no layer: add it to LAYERS in \
                     xtask/src/layering.rs (and to docs/architecture.md)"
                ),
            });
            continue;
        };
        for (dep, kinds) in graph.deps(member) {
            if dep == member || !graph.members.contains(dep) {
                continue;
            }
            match layer(dep) {
                Some(theirs) if theirs < own => {}
                theirs => {
                    let kinds: Vec<String> = kinds.iter().map(ToString::to_string).collect();
                    let theirs = theirs.map_or("none".to_string(), |l| l.to_string());
                    violations.push(Violation {
                        rule: 1,
                        message: format!(
                            "{member} (layer {own}) depends on {dep} (layer {theirs}) as a {} \
                             dependency: a crate depends only on crates of a lower layer; move \
                             what it needs down, or drop the dependency",
                            kinds.join("+")
                        ),
                    });
                }
            }
        }
    }
    // 2. Metrics never on Burn.
    let all = [DepKind::Normal, DepKind::Build];
    if graph.members.contains("seqmodel-metrics")
        && let Some(path) = graph.path("seqmodel-metrics", is_burn, &[DepKind::Normal])
    {
        violations.push(Violation {
            rule: 2,
            message: format!(
                "seqmodel-metrics depends on Burn ({}): the metrics crate is pure Rust; drop the \
                 dependency that pulls it in",
                path.join(" -> ")
            ),
        });
    }
    // 3. Layers never on the trainer.
    for layer_crate in LAYER_CRATES {
        if !graph.members.contains(layer_crate) {
            continue;
        }
        let training = |name: &str| TRAINING_CRATES.contains(&name);
        for (dep, kinds) in graph.deps(layer_crate) {
            if training(dep) && kinds.contains(&DepKind::Dev) {
                violations.push(Violation {
                    rule: 3,
                    message: format!(
                        "{layer_crate} has {dep} as a dev-dependency: layer tests take devices \
                         from seqmodel-device (feature `test-support`), not from the trainer"
                    ),
                });
            }
        }
        if let Some(path) = graph.path(layer_crate, training, &all) {
            violations.push(Violation {
                rule: 3,
                message: format!(
                    "{layer_crate} depends on the training crates ({}): layers never depend on \
                     seqmodel-train or seqmodel-tasks",
                    path.join(" -> ")
                ),
            });
        }
    }
    violations
}

/// Rule 4 on the package names of `cargo tree -p seqmodel-metrics --no-default-features -e
/// normal --prefix none --format {p}` (one `name vX.Y.Z [...]` per line).
pub fn check_metrics_library(cargo_tree: &str) -> Vec<Violation> {
    let mut found = BTreeSet::new();
    for line in cargo_tree.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        if METRICS_LIBRARY_FORBIDDEN.contains(&name) || is_burn(name) {
            found.insert(name.to_string());
        }
    }
    if found.is_empty() {
        return Vec::new();
    }
    let found: Vec<String> = found.into_iter().collect();
    vec![Violation {
        rule: 4,
        message: format!(
            "seqmodel-metrics without default features still depends on {}: the library must \
             build alone; put what the seq-score CLI needs behind the `cli` feature",
            found.join(", ")
        ),
    }]
}

/// Run `cargo ARGS` in `workspace_root` and return its standard output.
pub fn cargo_output(workspace_root: &Path, args: &[&str]) -> Result<String, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root)
        .output()
        .map_err(|e| format!("cannot run cargo {}: {e}", args.join(" ")))?;
    if !output.status.success() {
        return Err(format!(
            "cargo {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout)
        .map_err(|e| format!("cargo {} printed non-UTF-8: {e}", args.join(" ")))
}

/// Rules 1-4 on the workspace at `workspace_root` (runs `cargo metadata` and `cargo tree`).
/// `Err` when cargo cannot be run; `Ok` with the violations otherwise.
pub fn check_workspace(workspace_root: &Path) -> Result<Vec<Violation>, String> {
    let metadata = cargo_output(
        workspace_root,
        &["metadata", "--format-version", "1", "--all-features"],
    )?;
    let graph = Graph::from_metadata(&metadata).map_err(|e| e.to_string())?;
    let mut violations = check_graph(&graph);
    let tree = cargo_output(
        workspace_root,
        &[
            "tree",
            "-p",
            "seqmodel-metrics",
            "--no-default-features",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ],
    )?;
    violations.extend(check_metrics_library(&tree));
    Ok(violations)
}
