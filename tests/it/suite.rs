//! The test suite itself: every test file is built, and the SARIF schema the output is checked
//! against is the vendored OASIS one and does reject what is not SARIF.

use crate::common::{sarif_schema, sarif_violations};
use serde_json::json;
use std::path::{Path, PathBuf};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Does `file` declare `mod name;` (any visibility)?
fn declares(file: &Path, name: &str) -> bool {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines().any(|l| {
        let l = l.trim_start();
        let l = l.strip_prefix("pub ").unwrap_or(l);
        l.strip_prefix("mod ")
            .and_then(|r| r.strip_suffix(';'))
            .is_some_and(|n| n.trim() == name)
    })
}

#[test]
fn every_test_file_is_a_module_of_the_one_test_binary() {
    // With `autotests = false` a file under tests/ that no `mod` names is silently not built.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let it = root.join("tests/it");
    let mut files = Vec::new();
    rs_files(&root.join("tests"), &mut files);
    let orphans: Vec<String> = files
        .iter()
        .filter(|f| **f != it.join("main.rs"))
        .filter(|f| {
            let (name, dir) = if f.file_name().unwrap() == "mod.rs" {
                let d = f.parent().unwrap();
                (d.file_name().unwrap(), d.parent().unwrap())
            } else {
                (f.file_stem().unwrap(), f.parent().unwrap())
            };
            let name = name.to_str().unwrap();
            let parent = if dir == it {
                it.join("main.rs")
            } else {
                dir.join("mod.rs")
            };
            !(dir.starts_with(&it) && declares(&parent, name))
        })
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(
        orphans.is_empty(),
        "not built: add each as a `mod` of tests/it/main.rs (moved under tests/it/): {orphans:?}"
    );
}

#[test]
fn the_vendored_sarif_schema_is_the_oasis_one_and_rejects_what_is_not_sarif() {
    let schema = sarif_schema();
    assert_eq!(
        schema["$id"],
        "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
    );
    let valid = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "leakgate"}}}]});
    assert_eq!(sarif_violations(&valid), Vec::<String>::new());
    for bad in [
        json!({"runs": []}),
        json!({"version": "2.0.0", "runs": []}),
        json!({"version": "2.1.0", "runs": [{"tool": {}}]}),
        json!({"version": "2.1.0", "runs": [], "extra": 1}),
    ] {
        assert!(!sarif_violations(&bad).is_empty(), "accepted: {bad}");
    }
}
