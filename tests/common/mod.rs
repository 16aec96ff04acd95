//! Shared helpers for integration tests: running the binary, and credentials generated at test
//! time so that no secret-shaped literal lives in the test sources.
#![allow(dead_code)]

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
    let out = git_identity(Command::new("git").current_dir(dir).args(args))
        .output()
        .expect("run git");
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

/// The SARIF 2.1.0 schema that the `serde-sarif` crate ships (`src/schema.json` in its source),
/// read from the Cargo registry at test time.
pub fn sarif_schema() -> serde_json::Value {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let src = home.join("registry").join("src");
    for index in std::fs::read_dir(&src).expect("cargo registry sources") {
        let index = index.unwrap().path();
        for krate in std::fs::read_dir(&index).into_iter().flatten().flatten() {
            let name = krate.file_name().to_string_lossy().into_owned();
            if name.starts_with("serde-sarif-") {
                let schema = krate.path().join("src").join("schema.json");
                if let Ok(text) = std::fs::read_to_string(&schema) {
                    return serde_json::from_str(&text).expect("schema is JSON");
                }
            }
        }
    }
    panic!(
        "serde-sarif's schema.json not found under {}",
        src.display()
    );
}

/// Assert that `doc` is valid SARIF 2.1.0 by the schema, listing every violation.
pub fn validate_sarif(doc: &serde_json::Value) {
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("compile SARIF schema");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
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
