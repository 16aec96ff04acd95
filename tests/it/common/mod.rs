//! Shared helpers for the integration tests: running the binary, the fixture builders (Git
//! repositories, env files, FIFOs) and credentials generated at test time, so that no
//! secret-shaped literal lives in the test sources. Every helper is used (no dead-code allow).

pub mod github;
pub mod loopback;
pub mod verify_support;

use std::path::Path;
use std::process::{Command, Output};

/// A `Command` for the built `leakgate` binary, with colour and inherited config off.
pub fn leakgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leakgate"));
    c.env("NO_COLOR", "1")
        .env_remove("LEAKGATE_GENESYS_ADMIN_CLIENT_ID")
        .env_remove("LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET")
        .env_remove("LEAKGATE_GENESYS_URL_TEMPLATE");
    c
}

/// Run `leakgate` with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    leakgate()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run leakgate")
}

/// Run a JSON scan of `dir` and return (exit code, parsed document).
pub fn scan_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    scan_json_capped(dir, extra, None)
}

/// Like [`scan_json`], with the process's address space capped at `mib` MiB (`ulimit -v`): a
/// bound on memory that holds on any machine, where a timing bound would not.
pub fn scan_json_capped(dir: &Path, extra: &[&str], mib: Option<u64>) -> (i32, serde_json::Value) {
    let mut args = vec!["scan", "--format", "json"];
    args.extend_from_slice(extra);
    let out = match mib {
        None => run_in(dir, &args),
        Some(mib) => {
            let mut c = leakgate();
            let bin = c.get_program().to_owned();
            // The same environment, through a shell that lowers the limit and then execs.
            c.env("LEAKGATE_TEST_BIN", bin);
            let mut sh = Command::new("sh");
            sh.envs(c.get_envs().filter_map(|(k, v)| Some((k, v?))))
                .env_remove("LEAKGATE_GENESYS_ADMIN_CLIENT_ID")
                .env_remove("LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET")
                .env_remove("LEAKGATE_GENESYS_URL_TEMPLATE")
                .arg("-c")
                .arg(format!(
                    "ulimit -v {} && exec \"$LEAKGATE_TEST_BIN\" \"$@\"",
                    mib * 1024
                ))
                .arg("leakgate")
                .args(&args)
                .current_dir(dir)
                .output()
                .expect("run leakgate under ulimit")
        }
    };
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

/// The findings array of a JSON document.
pub fn findings(doc: &serde_json::Value) -> &Vec<serde_json::Value> {
    doc["findings"].as_array().expect("findings array")
}

/// The `path` of each finding in `doc`, in the document's order.
pub fn paths(doc: &serde_json::Value) -> Vec<&str> {
    findings(doc)
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect()
}

/// The findings of the Genesys client-secret rule in `doc`.
pub fn secret_findings(doc: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    findings(doc)
        .iter()
        .filter(|f| f["rule_id"] == "genesys-client-secret")
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const LAST: &[u8] = b"AEIMQUYcgkosw048";

/// A random string over base64url.
fn b64url(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n)
        .map(|_| B64URL[rng.usize(..B64URL.len())] as char)
        .collect()
}

/// A fresh Genesys-shaped client secret (43 chars of base64url of 32 bytes) for `seed`.
/// Generated rather than written down, so test sources hold no secret.
pub fn genesys_secret(seed: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(seed);
    loop {
        let mut s = b64url(&mut rng, 42);
        s.push(LAST[rng.usize(..LAST.len())] as char);
        // Real secrets are random; keep only ones with upper, lower and digits, as nearly all are.
        let has = |f: fn(&u8) -> bool| s.as_bytes().iter().any(f);
        if has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit) {
            return s;
        }
    }
}

/// A GitHub classic token (`ghp_`) with `body` (30 base62 characters) and its checksum: 6
/// base62 digits (0-9A-Za-z) of the body's CRC-32, computed with `crc32fast` so the test does
/// not borrow the scanner's own code.
pub fn github_token(body: &str) -> String {
    const GMP: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut sum = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = GMP[(sum % 62) as usize];
        sum /= 62;
    }
    format!("{}{body}{}", "ghp_", String::from_utf8_lossy(&digits))
}

/// A fresh lowercase UUID v4 for `seed`: a Genesys client id.
pub fn client_id(seed: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15);
    let hex = |rng: &mut fastrand::Rng, n: usize| -> String {
        (0..n)
            .map(|_| b"0123456789abcdef"[rng.usize(..16)] as char)
            .collect()
    };
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex(&mut rng, 8),
        hex(&mut rng, 4),
        hex(&mut rng, 3),
        b"89ab"[rng.usize(..4)] as char,
        hex(&mut rng, 3),
        hex(&mut rng, 12)
    )
}

/// Write `files` (relative path, contents) under `dir`, creating folders.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }
}

/// Run `cmd` with `input` on its stdin; its output, stdout and stderr captured.
pub fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Make a FIFO at `path` (by the system call, so no `mkfifo` program is needed).
#[cfg(unix)]
pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {}",
        path.display()
    );
}

/// Give `cmd` a fixed Git identity and no system or global Git configuration.
pub fn git_identity(cmd: &mut Command) -> &mut Command {
    cmd.env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
}

/// Run git with `args` in `dir` with a fixed identity; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_run(
        git_identity(Command::new("git").current_dir(dir).args(args)),
        args,
    )
}

/// [`git`] with author and committer dates `time` (seconds since the epoch, UTC).
pub fn git_at(dir: &Path, args: &[&str], time: u64) -> String {
    let date = format!("{time} +0000");
    let mut cmd = Command::new("git");
    git_identity(cmd.current_dir(dir).args(args))
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date);
    git_run(&mut cmd, args)
}

fn git_run(cmd: &mut Command, args: &[&str]) -> String {
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new repository in `dir` with `main` as its first branch.
pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
}

/// The SARIF 2.1.0 schema, vendored in tests/data (see tests/data/README.md for its origin).
pub fn sarif_schema() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("schema is JSON")
}

/// Every way `doc` breaks the SARIF 2.1.0 schema, one line each (empty: valid).
pub fn sarif_violations(doc: &serde_json::Value) -> Vec<String> {
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("compile SARIF schema");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// Assert that `doc` is valid SARIF 2.1.0 by the schema, listing every violation.
pub fn validate_sarif(doc: &serde_json::Value) {
    let errors = sarif_violations(doc);
    assert!(
        errors.is_empty(),
        "SARIF is invalid:\n{}",
        errors.join("\n")
    );
}

/// A Genesys credential pair as an env file holds it: found as `genesys-client-secret`.
pub fn env_file(seed: u64) -> String {
    format!(
        "GENESYS_CLOUD_CLIENT_ID={}\nGENESYS_CLOUD_CLIENT_SECRET={}\n",
        client_id(seed),
        genesys_secret(seed)
    )
}

/// Write `files` into `dir`, commit everything with `message`, and return the commit id.
pub fn commit(dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    write_files(dir, files);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

/// [`env_file`] after a region line, `GENESYS_CLOUD_REGION=region`: the pair with its region
/// hint (the secret on line 3).
pub fn env_file_in(region: &str, seed: u64) -> String {
    format!("GENESYS_CLOUD_REGION={region}\n{}", env_file(seed))
}

/// The pair in the shape most tests plant: [`env_file_in`] region `eu-west-1`.
pub fn genesys_env(seed: u64) -> String {
    env_file_in("eu-west-1", seed)
}

/// A temporary Git repository for one test: first branch `main`, the fixed identity of
/// [`git`], removed when dropped. Built step by step:
/// `Repo::new().files(&[("README.md", "hello\n")]).committed("initial")`.
pub struct Repo(tempfile::TempDir);

impl Repo {
    /// An empty repository.
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        git_init(dir.path());
        Repo(dir)
    }

    /// A repository whose one commit, `initial`, holds a README.
    pub fn initial() -> Repo {
        Repo::new()
            .files(&[("README.md", "hello\n")])
            .committed("initial")
    }

    /// The repository's folder (its work tree).
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Write `files` (relative path, contents) into the work tree.
    pub fn files(self, files: &[(&str, &str)]) -> Repo {
        write_files(self.path(), files);
        self
    }

    /// Commit everything in the work tree with `message`.
    pub fn committed(self, message: &str) -> Repo {
        commit(self.path(), &[], message);
        self
    }

    /// Check out a new branch `name`.
    pub fn branch(self, name: &str) -> Repo {
        git(self.path(), &["checkout", "-q", "-b", name]);
        self
    }

    /// Write `files`, commit everything with `message`; the commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        commit(self.path(), files, message)
    }

    /// Run git with `args` in the repository; its stdout.
    pub fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }
}
