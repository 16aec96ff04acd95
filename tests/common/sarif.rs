//! SARIF 2.1.0 schema validation for tests. The schema is serde-sarif's copy, found in the
//! Cargo registry at test time (nothing is downloaded). Include with
//! `#[path = "common/sarif.rs"] mod sarif;`.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .or_else(|| std::env::var_os("USERPROFILE").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME")
}

/// The SARIF 2.1.0 JSON schema shipped with serde-sarif 0.8.0.
fn schema_path() -> PathBuf {
    let src = cargo_home().join("registry").join("src");
    let entries =
        std::fs::read_dir(&src).unwrap_or_else(|e| panic!("reading {}: {e}", src.display()));
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("serde-sarif-0.8.0/src/schema.json"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "serde-sarif-0.8.0/src/schema.json not under {}",
                src.display()
            )
        })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_slice(&std::fs::read(schema_path()).unwrap()).unwrap();
        jsonschema::validator_for(&schema).expect("SARIF schema compiles")
    })
}

/// Panic, listing the violations, unless `doc` is valid SARIF 2.1.0.
pub fn validate_sarif(doc: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}
