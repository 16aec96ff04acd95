//! Packaging: the crate, the wheel, the pre-commit shim and the hooks agree on the version and
//! on what ships. (`cargo package --locked`, which compiles the packaged crate, runs in .ci/run;
//! the wheel is built and installed by scripts/build-wheel.sh.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn toml_at(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_at<'a>(table: &'a toml::Table, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut t = table;
    for key in parents {
        t = t.get(*key)?.as_table()?;
    }
    t.get(*last)?.as_str()
}

fn hooks() -> Vec<yaml_rust2::Yaml> {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    docs[0].as_vec().expect("a list of hooks").clone()
}

#[test]
fn the_wheel_the_shim_and_the_crate_have_one_version() {
    let version = env!("CARGO_PKG_VERSION");
    let wheel = toml_at(&root().join("python/pyproject.toml"));
    let name = str_at(&wheel, &["project", "name"]).expect("the wheel's name");
    // Stated or taken from Cargo.toml (dynamic): never a second, different number.
    if let Some(v) = str_at(&wheel, &["project", "version"]) {
        assert_eq!(v, version, "python/pyproject.toml's version");
    } else {
        let dynamic = wheel["project"]["dynamic"].as_array().unwrap();
        assert!(dynamic.iter().any(|d| d.as_str() == Some("version")));
    }
    assert_eq!(
        str_at(&wheel, &["build-system", "build-backend"]),
        Some("maturin")
    );
    assert_eq!(
        str_at(&wheel, &["tool", "maturin", "bindings"]),
        Some("bin")
    );
    let manifest = str_at(&wheel, &["tool", "maturin", "manifest-path"]).unwrap();
    assert_eq!(
        std::fs::canonicalize(root().join("python").join(manifest)).unwrap(),
        std::fs::canonicalize(root().join("Cargo.toml")).unwrap(),
        "the wheel is built from this crate"
    );

    // The root's shim, what pre-commit's python hooks `pip install .`: pins that wheel.
    let shim = toml_at(&root().join("pyproject.toml"));
    assert_eq!(str_at(&shim, &["project", "version"]), Some(version));
    let deps: Vec<&str> = shim["project"]["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(deps, [format!("{name}=={version}")]);
    // Installing the hook must not compile Rust: no maturin (or other Rust backend) at the root.
    let backend = str_at(&shim, &["build-system", "build-backend"]).unwrap();
    assert_eq!(backend, "setuptools.build_meta");
    let requires = shim["build-system"]["requires"].as_array().unwrap();
    assert!(
        requires
            .iter()
            .all(|r| !r.as_str().unwrap().contains("maturin")),
        "{requires:?}"
    );
}

#[test]
fn every_hook_has_its_own_name_and_the_documented_ids_exist() {
    let hooks = hooks();
    let field = |h: &yaml_rust2::Yaml, k: &str| h[k].as_str().unwrap_or_default().to_string();
    let ids: BTreeSet<String> = hooks.iter().map(|h| field(h, "id")).collect();
    let names: BTreeSet<String> = hooks.iter().map(|h| field(h, "name")).collect();
    assert_eq!(ids.len(), hooks.len(), "ids are unique");
    assert_eq!(
        names.len(),
        hooks.len(),
        "each hook has its own display name"
    );
    let by_id = |id: &str| {
        hooks
            .iter()
            .find(|h| field(h, "id") == id)
            .unwrap_or_else(|| panic!("no hook {id}"))
    };
    for (id, language, stage, arg) in [
        ("leakgate", "python", "pre-commit", "--staged"),
        ("leakgate-system", "system", "pre-commit", "--staged"),
        ("leakgate-rust", "rust", "pre-commit", "--staged"),
        ("leakgate-pre-push", "python", "pre-push", "--pre-push"),
        (
            "leakgate-pre-push-system",
            "system",
            "pre-push",
            "--pre-push",
        ),
    ] {
        let h = by_id(id);
        assert_eq!(field(h, "language"), language, "{id}");
        assert_eq!(field(h, "entry"), "leakgate", "{id}");
        let stages: Vec<&str> = h["stages"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        assert_eq!(stages, [stage], "{id}");
        let args: Vec<&str> = h["args"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        assert_eq!(args, ["scan", arg], "{id}");
        assert_eq!(h["pass_filenames"].as_bool(), Some(false), "{id}");
    }
}

#[test]
fn the_packaged_crate_holds_what_the_build_needs() {
    let out = Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "package",
            "--list",
            "--locked",
            "--allow-dirty",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo package --list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    for needed in [
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "src/main.rs",
        "src/lib.rs",
    ] {
        assert!(listed.contains(needed), "{needed} is not packaged");
    }
    // build.rs embeds every rule file: each must ship.
    for entry in std::fs::read_dir(root().join("rules")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".toml") {
            assert!(
                listed.contains(&format!("rules/{name}")),
                "rules/{name} is not packaged"
            );
        }
    }
    assert!(
        !listed
            .iter()
            .any(|f| f.starts_with("tests/") || f.starts_with("target/")),
        "tests and build output stay out"
    );
}

#[test]
fn the_release_builds_the_five_targets_under_the_names_the_installer_downloads() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    // The contract with scripts/action-install.sh, stated at the top of the workflow.
    let header: String = text.lines().take_while(|l| l.starts_with('#')).collect();
    for part in [
        "releases/download/v<version>/leakgate-<version>-<target>.tar.gz",
        ".zip for x86_64-pc-windows-msvc",
        "`<sha256 hex>  <archive name>`",
    ] {
        assert!(header.contains(part), "release.yml's header names {part}");
    }
    let doc = &yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0];
    let targets = |job: &str| -> BTreeSet<String> {
        doc["jobs"][job]["strategy"]["matrix"]["include"]
            .as_vec()
            .unwrap_or_else(|| panic!("{job}: a matrix"))
            .iter()
            .map(|e| e["target"].as_str().unwrap().to_string())
            .collect()
    };
    let five: BTreeSet<String> = [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ]
    .map(String::from)
    .into();
    assert_eq!(targets("binaries"), five);
    assert!(targets("wheels").is_superset(&five));
    assert!(text.contains(r#"name="leakgate-$VERSION-$TARGET""#));
    assert!(text.contains("sha256sum leakgate-* > SHA256SUMS"));
}
