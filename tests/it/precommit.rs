//! The pre-commit hook: the real pre-commit framework with this repository's
//! `.pre-commit-hooks.yaml`, and `leakgate install-hook` without the framework.

use crate::common;
use common::env_file;

use common::{genesys_secret, git, git_init, run_in, write_files};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// PATH with the built leakgate first.
fn path_with_leakgate() -> OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_leakgate"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// Run `program` in `dir` as a user would: fixed git identity, no global git config, the
/// built leakgate on PATH, pre-commit's cache in `home`.
fn run(dir: &Path, home: &Path, program: &str, args: &[&str]) -> Output {
    common::git_identity(
        Command::new(program)
            .current_dir(dir)
            .args(args)
            .env("PATH", path_with_leakgate())
            .env("PRE_COMMIT_HOME", home)
            .env("NO_COLOR", "1"),
    )
    .output()
    .unwrap_or_else(|e| panic!("running {program}: {e}"))
}

fn combined(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn commit_count(dir: &Path) -> usize {
    git(dir, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

/// Fails the test when the pre-commit framework is missing: it only runs when asked for
/// (`--include-ignored`, as `scripts/test.sh` does after installing it).
fn require_pre_commit() {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "pre-commit is not on PATH: run the tests with ./scripts/test.sh, which installs it"
    );
}

#[test]
#[ignore = "needs the pre-commit framework: ./scripts/test.sh installs it and runs this"]
fn pre_commit_framework_blocks_a_secret_and_lets_a_clean_commit_through() {
    require_pre_commit();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("pre-commit-home");

    // A hook repository holding exactly the manifest this crate ships.
    let hooks = tmp.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    git_init(&hooks);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    std::fs::copy(&manifest, hooks.join(".pre-commit-hooks.yaml")).unwrap();
    git(&hooks, &["add", "-A"]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);
    let rev = git(&hooks, &["rev-parse", "HEAD"]).trim().to_string();

    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    git_init(&work);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: leakgate-system\n",
        hooks.display()
    );
    write_files(
        &work,
        &[(".pre-commit-config.yaml", &config), ("README.md", "hi\n")],
    );
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "set up pre-commit"]);
    let out = run(&work, &home, "pre-commit", &["install"]);
    assert!(
        out.status.success(),
        "pre-commit install: {}",
        combined(&out)
    );

    write_files(&work, &[("deploy/config.env", &env_file(1))]);
    git(&work, &["add", "-A"]);
    let out = run(&work, &home, "git", &["commit", "-m", "leak"]);
    let text = combined(&out);
    assert!(!out.status.success(), "the commit must be refused: {text}");
    assert_eq!(commit_count(&work), 1);
    assert!(
        text.contains("deploy/config.env:2:"),
        "file and line: {text}"
    );
    assert!(text.contains("genesys-client-secret"), "rule: {text}");
    assert!(
        text.contains("leakgate:allow"),
        "how to allow a false positive: {text}"
    );
    assert!(
        !text.contains(&genesys_secret(1)),
        "the secret is redacted: {text}"
    );

    write_files(
        &work,
        &[("deploy/config.env", "GENESYS_CLOUD_REGION=mypurecloud.ie\n")],
    );
    git(&work, &["add", "-A"]);
    let out = run(&work, &home, "git", &["commit", "-m", "clean"]);
    assert!(
        out.status.success(),
        "a clean commit goes through: {}",
        combined(&out)
    );
    assert_eq!(commit_count(&work), 2);
}

#[test]
fn install_hook_blocks_secrets_without_the_framework() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    git_init(work);
    let out = run_in(work, &["install-hook"]);
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
    let hook = work.join(".git/hooks/pre-commit");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "hook is executable");
    }

    write_files(work, &[("config.env", &env_file(2))]);
    git(work, &["add", "-A"]);
    let out = run(
        work,
        &tmp.path().join("home"),
        "git",
        &["commit", "-m", "leak"],
    );
    assert!(!out.status.success(), "{}", combined(&out));
    assert!(combined(&out).contains("config.env:2:"));

    write_files(work, &[("config.env", "nothing here\n")]);
    git(work, &["add", "-A"]);
    let out = run(
        work,
        &tmp.path().join("home"),
        "git",
        &["commit", "-m", "clean"],
    );
    assert!(out.status.success(), "{}", combined(&out));

    // Installing again over our own hook is fine.
    assert_eq!(run_in(work, &["install-hook"]).status.code(), Some(0));
}

#[test]
fn install_hook_keeps_someone_elses_hook_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    git_init(work);
    let hooks = work.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(hooks.join("pre-commit"), "#!/bin/sh\necho mine\n").unwrap();

    let out = run_in(work, &["install-hook"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );

    let out = run_in(work, &["install-hook", "--force"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(hooks.join("pre-commit"))
        .unwrap()
        .contains("leakgate"));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.bak")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
}
