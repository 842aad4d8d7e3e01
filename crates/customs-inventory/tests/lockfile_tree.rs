//! Lockfiles completed at the merge from the other files of the tree
//! (go.sum, package.json, pyproject.toml, Cargo.toml, parent POMs), and the
//! options that act after the layer cache (`include_dev_deps`,
//! `detection_priority`). The fixture tree is tests/fixtures/tree/, our own
//! files in the upstream formats.

use customs_inventory::{analyze_dir, Application, DetectionPriority, Inventory, Options};
use customs_model::Relationship;
use std::path::Path;

fn scan(include_dev_deps: bool, detection_priority: DetectionPriority) -> Inventory {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tree");
    let opts = Options {
        lang: true,
        lockfiles: true,
        include_dev_deps,
        detection_priority,
        ..Default::default()
    };
    analyze_dir(&root, &opts, false).unwrap_or_else(|e| panic!("{e}"))
}

fn app<'a>(inv: &'a Inventory, target: &str) -> &'a Application {
    inv.applications
        .iter()
        .find(|a| a.target == target)
        .unwrap_or_else(|| {
            let t: Vec<&str> = inv.applications.iter().map(|a| a.target.as_str()).collect();
            panic!("no target {target} in {t:?}")
        })
}

fn names(a: &Application) -> Vec<&str> {
    a.packages.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn targets_manifests_and_consumed_go_sums_are_not_reported() {
    let inv = scan(false, DetectionPriority::Precise);
    let mut t: Vec<&str> = inv.applications.iter().map(|a| a.target.as_str()).collect();
    t.sort();
    assert_eq!(
        t,
        [
            "cargo-ws/Cargo.lock",
            "go-new/go.mod",
            "go-old/go.mod",
            "lone-sum/go.sum",
            "maven/module-a/pom.xml",
            "maven/pom.xml",
            "npm-dev/package-lock.json",
            "poetry-app/poetry.lock",
            "yarn-app/yarn.lock",
        ]
    );
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn old_go_mod_is_completed_from_go_sum() {
    let inv = scan(false, DetectionPriority::Precise);
    let a = app(&inv, "go-old/go.mod");
    // The main module, 2 direct requirements and the 36 indirect modules
    // only go.sum lists (the go.mod's own `// indirect` line is dropped
    // for go 1.16, then comes back from go.sum at its go.sum version).
    assert_eq!(a.packages.len(), 1 + 2 + 36);
    let ind = a
        .packages
        .iter()
        .filter(|p| p.relationship == Some(Relationship::Indirect))
        .count();
    assert_eq!(ind, 36);
    let p = a
        .packages
        .iter()
        .find(|p| p.name == "github.com/acme/indirect07")
        .unwrap_or_else(|| panic!("indirect07 missing"));
    assert_eq!(p.version, "v1.7.0");
    // A go.mod of 1.17 or later is complete: its go.sum adds nothing.
    assert!(!names(app(&inv, "go-new/go.mod")).contains(&"github.com/acme/extra"));
    assert_eq!(
        names(app(&inv, "lone-sum/go.sum")),
        ["github.com/acme/vendored"]
    );
}

#[test]
fn toolchain_stdlib_only_with_comprehensive_priority() {
    let precise = scan(false, DetectionPriority::Precise);
    assert!(!names(app(&precise, "go-new/go.mod")).contains(&"stdlib"));
    let comp = scan(false, DetectionPriority::Comprehensive);
    let a = app(&comp, "go-new/go.mod");
    let std = a
        .packages
        .iter()
        .find(|p| p.name == "stdlib")
        .unwrap_or_else(|| panic!("no stdlib"));
    assert_eq!(std.version, "v1.22.5");
    // go 1.16 has no toolchain to imply.
    assert!(!names(app(&comp, "go-old/go.mod")).contains(&"stdlib"));
}

#[test]
fn dev_dependencies_dropped_by_default_kept_on_request() {
    let inv = scan(false, DetectionPriority::Precise);
    assert_eq!(names(app(&inv, "npm-dev/package-lock.json")), ["ms"]);
    assert_eq!(
        names(app(&inv, "yarn-app/yarn.lock")),
        ["debug", "express", "ms"]
    );
    assert_eq!(
        names(app(&inv, "poetry-app/poetry.lock")),
        ["certifi", "packaging", "requests"]
    );
    assert_eq!(
        names(app(&inv, "cargo-ws/Cargo.lock")),
        ["app", "libc", "serde", "util"]
    );
    // The Cargo workspace member no longer points at its dropped dev-dependency.
    let cargo = app(&inv, "cargo-ws/Cargo.lock");
    let member = cargo.packages.iter().find(|p| p.name == "app");
    assert_eq!(
        member.map(|p| p.depends_on.clone()),
        Some(vec!["serde@1.0.193".to_string(), "util@0.1.0".to_string()])
    );

    let all = scan(true, DetectionPriority::Precise);
    let dev_of = |target: &str| -> Vec<(String, bool)> {
        app(&all, target)
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.dev))
            .collect()
    };
    let s = |v: &[(&str, bool)]| -> Vec<(String, bool)> {
        v.iter().map(|(n, d)| (n.to_string(), *d)).collect()
    };
    assert_eq!(
        dev_of("yarn-app/yarn.lock"),
        s(&[
            ("debug", false),
            ("express", false),
            ("jest", true),
            ("ms", false),
            ("pretty-format", true)
        ])
    );
    assert_eq!(
        dev_of("poetry-app/poetry.lock"),
        s(&[
            ("certifi", false),
            ("iniconfig", true),
            ("packaging", false),
            ("pytest", true),
            ("requests", false)
        ])
    );
    assert_eq!(
        dev_of("cargo-ws/Cargo.lock"),
        s(&[
            ("app", false),
            ("insta", true),
            ("libc", false),
            ("serde", false),
            ("similar", true),
            ("tempfile", true),
            ("util", false)
        ])
    );
    let yarn = app(&all, "yarn-app/yarn.lock");
    let rel = |n: &str| {
        yarn.packages
            .iter()
            .find(|p| p.name == n)
            .and_then(|p| p.relationship)
    };
    assert_eq!(rel("express"), Some(Relationship::Direct));
    assert_eq!(rel("jest"), Some(Relationship::Direct));
    assert_eq!(rel("debug"), Some(Relationship::Indirect));
}

#[test]
fn pom_inherits_properties_and_managed_versions_from_its_parent() {
    let inv = scan(true, DetectionPriority::Precise);
    let a = app(&inv, "maven/module-a/pom.xml");
    let got: Vec<(&str, bool)> = a.packages.iter().map(|p| (p.id.as_str(), p.dev)).collect();
    assert_eq!(
        got,
        [
            ("com.example:module-a:2.0.0", false),
            ("com.example:sibling:2.0.0", false),
            ("com.fasterxml.jackson.core:jackson-databind:2.15.3", false),
            ("org.mockito:mockito-core:5.7.0", true),
            // Inherited from the parent, at the child's property value.
            ("org.slf4j:slf4j-api:2.0.9", false),
        ]
    );
    let default = scan(false, DetectionPriority::Precise);
    let a = app(&default, "maven/module-a/pom.xml");
    assert!(!a
        .packages
        .iter()
        .any(|p| p.name == "org.mockito:mockito-core"));
}
