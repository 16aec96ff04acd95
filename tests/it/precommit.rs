//! The pre-commit hooks: the real pre-commit framework with this repository's
//! `.pre-commit-hooks.yaml` (the pre-commit and pre-push stages, the system and the python hook),
//! and `leakgate install-hook` without the framework.

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
    run_with(dir, home, program, args, &[])
}

/// [`run`] with `env` set too.
fn run_with(dir: &Path, home: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    common::git_identity(
        Command::new(program)
            .current_dir(dir)
            .args(args)
            .env("PATH", path_with_leakgate())
            .env("PRE_COMMIT_HOME", home)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied()),
    )
    .output()
    .unwrap_or_else(|e| panic!("running {program}: {e}"))
}

/// A hook repository under `root` holding exactly the manifest this crate ships, and the root's
/// pyproject.toml (the shim the python hooks install); returns it and its commit.
fn hook_repo(root: &Path) -> (PathBuf, String) {
    let hooks = root.join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    git_init(&hooks);
    let crate_root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for file in [".pre-commit-hooks.yaml", "pyproject.toml"] {
        std::fs::copy(crate_root.join(file), hooks.join(file)).unwrap();
    }
    git(&hooks, &["add", "-A"]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);
    let rev = git(&hooks, &["rev-parse", "HEAD"]).trim().to_string();
    (hooks, rev)
}

/// A repository under `root` with one commit that sets up pre-commit with the hook `id` of
/// [`hook_repo`], installed for the `hook_types` (`pre-commit`, `pre-push`); `env` is set
/// for the install.
fn work_repo(
    root: &Path,
    home: &Path,
    id: &str,
    hook_types: &[&str],
    env: &[(&str, &str)],
) -> PathBuf {
    let (hooks, rev) = hook_repo(root);
    let work = root.join("work");
    std::fs::create_dir(&work).unwrap();
    git_init(&work);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {id}\n",
        hooks.display()
    );
    write_files(
        &work,
        &[(".pre-commit-config.yaml", &config), ("README.md", "hi\n")],
    );
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "set up pre-commit"]);
    let mut args = vec!["install", "--install-hooks"];
    for t in hook_types {
        args.extend(["--hook-type", t]);
    }
    let out = run_with(&work, home, "pre-commit", &args, env);
    assert!(
        out.status.success(),
        "pre-commit install: {}",
        combined(&out)
    );
    work
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

    let work = work_repo(tmp.path(), &home, "leakgate-system", &["pre-commit"], &[]);

    commit_blocked_then_clean(&work, &home, &[]);
}

/// A commit adding a secret is refused with file, line, rule and the way to allow a false
/// positive, the secret redacted; a clean one goes through. `env` is set for the commits.
fn commit_blocked_then_clean(work: &Path, home: &Path, env: &[(&str, &str)]) {
    let work = work.to_path_buf();
    write_files(&work, &[("deploy/config.env", &env_file(1))]);
    git(&work, &["add", "-A"]);
    let out = run_with(&work, home, "git", &["commit", "-m", "leak"], env);
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
    let out = run_with(&work, home, "git", &["commit", "-m", "clean"], env);
    assert!(
        out.status.success(),
        "a clean commit goes through: {}",
        combined(&out)
    );
    assert_eq!(commit_count(&work), 2);
}

#[test]
#[ignore = "needs the pre-commit framework: ./scripts/test.sh installs it and runs this"]
fn pre_push_hook_blocks_a_push_that_adds_a_secret_and_lets_a_clean_one_through() {
    require_pre_commit();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("pre-commit-home");
    let remote = tmp.path().join("remote.git");
    git(
        tmp.path(),
        &["init", "-q", "--bare", "-b", "main", "remote.git"],
    );
    let work = work_repo(
        tmp.path(),
        &home,
        "leakgate-pre-push-system",
        &["pre-push"],
        &[],
    );
    git(
        &work,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    let push = |branch: &str| run(&work, &home, "git", &["push", "origin", branch]);
    let remote_has = |branch: &str| {
        let out = Command::new("git")
            .current_dir(&remote)
            .args(["rev-parse", "--verify", "-q", branch])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let head = || git(&work, &["rev-parse", "HEAD"]).trim().to_string();
    let refused = |out: &Output, seed: u64| {
        let text = combined(out);
        assert!(!out.status.success(), "the push must be refused: {text}");
        assert!(
            text.contains("deploy/config.env:2:"),
            "file and line: {text}"
        );
        assert!(text.contains("genesys-client-secret"), "rule: {text}");
        assert!(
            !text.contains(&genesys_secret(seed)),
            "the secret is redacted: {text}"
        );
    };

    // The first push includes the root commit: pre-commit names no refs, the pushed history
    // is scanned whole.
    let out = push("main");
    assert!(out.status.success(), "a clean push: {}", combined(&out));
    let pushed = head();
    assert_eq!(remote_has("main"), Some(pushed.clone()));

    // A history of its own whose root commit holds a secret: refused, though no refs are set.
    git(&work, &["checkout", "-q", "--orphan", "fresh"]);
    common::commit(&work, &[("deploy/config.env", &env_file(5))], "root leak");
    refused(&push("fresh"), 5);
    assert_eq!(remote_has("fresh"), None);
    git(&work, &["checkout", "-q", "-f", "main"]);

    // Onto what the remote has: PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF.
    common::commit(&work, &[("deploy/config.env", &env_file(3))], "leak");
    refused(&push("main"), 3);
    assert_eq!(remote_has("main"), Some(pushed.clone()));

    // A new branch: from the parent of its first commit the remote lacks.
    git(&work, &["checkout", "-q", "-b", "topic"]);
    common::commit(&work, &[("notes.txt", "more\n")], "more");
    refused(&push("topic"), 3);
    assert_eq!(remote_has("topic"), None);

    // The secret taken out of the history: the next push goes through.
    git(&work, &["checkout", "-q", "main"]);
    git(&work, &["reset", "-q", "--hard", &pushed]);
    common::commit(
        &work,
        &[("deploy/config.env", "GENESYS_CLOUD_REGION=mypurecloud.ie\n")],
        "clean",
    );
    let out = push("main");
    assert!(out.status.success(), "a clean push: {}", combined(&out));
    assert_eq!(remote_has("main"), Some(head()));
}

/// The one `leakgate-cli` wheel of this version that scripts/build-wheel.sh left in
/// target/wheels (or `$LEAKGATE_WHEEL_DIR`), and that folder.
fn built_wheel() -> (PathBuf, PathBuf) {
    let dir = std::env::var_os("LEAKGATE_WHEEL_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/wheels"),
        PathBuf::from,
    );
    let prefix = format!("leakgate_cli-{}-", env!("CARGO_PKG_VERSION"));
    let wheels: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}: run scripts/build-wheel.sh", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".whl")
        })
        .collect();
    assert_eq!(
        wheels.len(),
        1,
        "one {prefix}*.whl in {}: run scripts/build-wheel.sh",
        dir.display()
    );
    (wheels[0].clone(), dir)
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Files named `name` under `dir`, at any depth.
fn find_named(dir: &Path, name: &str, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_named(&path, name, found);
        } else if entry.file_name() == name {
            found.push(path);
        }
    }
}

#[test]
#[ignore = "needs the pre-commit framework and the wheel: ./scripts/test.sh runs this when scripts/build-wheel.sh left one"]
fn python_hook_installs_the_built_wheel_without_rust_and_blocks_a_secret() {
    require_pre_commit();
    let (wheel, dir) = built_wheel();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("pre-commit-home");
    // No package index: pip can only take the shim's build backend and `leakgate-cli` from
    // these folders. PATH without the leakgate this test suite built.
    let links = format!("{} {}", dir.display(), dir.join("deps").display());
    let path = std::env::var("PATH").unwrap_or_default();
    let env = [
        ("PIP_NO_INDEX", "1"),
        ("PIP_FIND_LINKS", links.as_str()),
        ("PATH", path.as_str()),
    ];
    let work = work_repo(tmp.path(), &home, "leakgate", &["pre-commit"], &env);

    // The leakgate pre-commit installed is the wheel's binary, byte for byte.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
    let inside = format!(
        "leakgate_cli-{}.data/scripts/leakgate",
        env!("CARGO_PKG_VERSION")
    );
    let mut binary = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name(&inside).unwrap(), &mut binary).unwrap();
    let mut installed = Vec::new();
    find_named(&home, "leakgate", &mut installed);
    assert_eq!(
        installed.len(),
        1,
        "one leakgate in pre-commit's environments: {installed:?}"
    );
    assert_eq!(
        sha256(&std::fs::read(&installed[0]).unwrap()),
        sha256(&binary),
        "{} is the wheel's binary",
        installed[0].display()
    );

    commit_blocked_then_clean(&work, &home, &env);
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
