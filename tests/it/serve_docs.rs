//! The operating files of `leakgate serve` agree with themselves and with what the README
//! promises: the Dockerfile's runtime is shell-less and non-root, its state directory is the
//! volume and belongs to that user, the port it listens on is the one it exposes; the systemd
//! unit runs the service on loopback as an unprivileged user with its secrets in an
//! `EnvironmentFile` and its database in its `StateDirectory`. (No container is built here: the
//! test machine has no Docker daemon.)

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// Instructions of a Dockerfile (comments and blank lines dropped, continuations joined),
/// as (INSTRUCTION, rest).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        pending.push_str(l.trim_end_matches('\\'));
        pending.push(' ');
        if !l.ends_with('\\') {
            let (k, v) = pending.trim().split_once(' ').unwrap();
            out.push((k.to_ascii_uppercase(), v.trim().to_string()));
            pending.clear();
        }
    }
    out
}

fn exec_form(v: &str) -> Vec<String> {
    serde_json::from_str(v).unwrap_or_else(|_| panic!("not exec form: {v}"))
}

fn flag<'a>(args: &'a [String], name: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == name)
        .unwrap_or_else(|| panic!("{name} in {args:?}"));
    &args[i + 1]
}

#[test]
fn dockerfile_runs_serve_shell_less_non_root_with_state_on_the_volume() {
    let all = instructions(&read("Dockerfile"));
    let last_from = all.iter().rposition(|(k, _)| k == "FROM").unwrap();
    assert!(
        all[..last_from]
            .iter()
            .any(|(k, v)| k == "RUN" && v.contains("cargo build --release --locked")),
        "the build stage builds the locked release"
    );
    let rust = all.iter().find(|(k, _)| k == "FROM").unwrap().1.clone();
    let msrv = read("Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    assert!(
        rust.starts_with(&format!("rust:{msrv}")),
        "{rust} vs rust-version {msrv}"
    );

    let run = &all[last_from..];
    let get = |k: &str| -> Vec<&str> {
        run.iter()
            .filter(|(i, _)| i == k)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let base = get("FROM")[0];
    assert!(
        base.contains("distroless/static") || base == "scratch",
        "runtime base {base}: no shell"
    );
    assert!(
        get("RUN").is_empty(),
        "nothing runs in the runtime stage (no shell)"
    );
    let user = get("USER");
    assert_eq!(user.len(), 1);
    let uid = user[0].split(':').next().unwrap();
    assert!(uid.parse::<u32>().is_ok_and(|u| u != 0), "USER {}", user[0]);

    let entry = exec_form(get("ENTRYPOINT")[0]);
    assert!(
        entry[0].ends_with("/leakgate") && entry[1] == "serve",
        "{entry:?}"
    );
    let cmd = exec_form(get("CMD")[0]);
    let port = flag(&cmd, "--listen")
        .strip_prefix("0.0.0.0:")
        .expect("all interfaces in a container");
    assert_eq!(get("EXPOSE"), vec![port]);
    assert_eq!(flag(&cmd, "--log-format"), "json");
    let volume = exec_form(get("VOLUME")[0]);
    let state = flag(&cmd, "--state");
    assert!(
        state.starts_with(&format!("{}/", volume[0])),
        "{state} on {volume:?}"
    );
    assert!(
        get("COPY")
            .iter()
            .any(|c| c.contains(&format!("--chown={uid}:")) && c.ends_with(&volume[0])),
        "the state directory belongs to the user"
    );
}

#[test]
fn systemd_unit_runs_serve_on_loopback_unprivileged() {
    let unit = read("docs/leakgate.service");
    let settings: Vec<(&str, &str)> = unit
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .collect();
    let get = |k: &str| settings.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    assert_eq!(get("DynamicUser"), Some("yes"));
    assert_eq!(get("NoNewPrivileges"), Some("yes"));
    assert_eq!(get("ProtectSystem"), Some("strict"));
    assert_eq!(get("CapabilityBoundingSet"), Some(""));
    assert!(get("EnvironmentFile").is_some_and(|f| f.starts_with("/etc/")));
    let state_dir = format!("/var/lib/{}", get("StateDirectory").unwrap());
    let exec: Vec<String> = get("ExecStart")
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(
        exec[0].ends_with("/leakgate") && exec[1] == "serve",
        "{exec:?}"
    );
    assert!(
        flag(&exec, "--listen").starts_with("127.0.0.1:"),
        "TLS is terminated in front"
    );
    // With ProtectSystem=strict, only the state directory is writable.
    for f in ["--state", "--audit-log"] {
        assert!(flag(&exec, f).starts_with(&format!("{state_dir}/")), "{f}");
    }
    // The secrets are named, never set, in the unit.
    for (k, _) in &settings {
        assert!(!k.starts_with("LEAKGATE_"), "{k} set in the unit");
    }
    assert!(get("Environment").is_none());
}
