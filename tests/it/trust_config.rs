//! Configuration, user rules, baselines and the command line cannot be turned against the scan:
//! no error quotes what it read (a misplaced secret, or whatever a hostile symlink points at),
//! every number has a range, user regexes and rule counts are bounded, only bounded regular
//! files are read, and clap never echoes a rejected value.

use crate::common;
use common::{genesys_env, Repo};

use common::{client_id, genesys_secret, leakgate, write_files};
use leakgate::baseline::Baseline;
use leakgate::config::Config;
use proptest::prelude::*;
use std::io::Read;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// Run leakgate in `dir` with `args`, no stdin, killed (and the test failed) after 20 s.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = leakgate();
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run leakgate");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("leakgate {args:?} did not finish within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Both output streams, lossily (for assertions only).
fn both(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Assert that `needle` appears in no line of stdout or stderr.
fn assert_absent(out: &Output, needle: &str, what: &str) {
    let all = both(out);
    assert!(
        !all.contains(needle),
        "{what}: the planted value was printed:\n{all}"
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every error (Display and Debug, through the `source` chain) as one text.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{e}\n{e:?}");
    let mut cur = e.source();
    while let Some(s) = cur {
        text.push_str(&format!("\n{s}\n{s:?}"));
        cur = s.source();
    }
    text
}

/// A minimal valid user rule with `id`, `keywords` and `regex`, plus `extra` TOML lines.
fn rule(id: &str, keyword: &str, regex: &str, extra: &str) -> String {
    format!(
        "[[rules]]\nid = \"{id}\"\nname = \"n\"\nseverity = \"low\"\nkeywords = [\"{keyword}\"]\nregex = '''{regex}'''\n{extra}\n"
    )
}

// ---- 1. a symlinked or malformed configuration never shows what it holds ----

#[cfg(unix)]
#[test]
fn config_symlinked_to_proc_environ_is_refused_without_printing_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.txt", "hello\n")]);
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join(".leakgate.toml")).unwrap();
    let admin = genesys_secret(801);
    let out = run(
        dir.path(),
        &["scan", "."],
        &[("LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET", &admin)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_absent(&out, &admin, "symlink to /proc/self/environ");
    assert_absent(
        &out,
        "LEAKGATE_GENESYS_ADMIN",
        "symlink to /proc/self/environ",
    );
}

#[cfg(unix)]
#[test]
fn config_symlinked_out_of_the_repository_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let secret = genesys_secret(802);
    write_files(outside.path(), &[("c.toml", &format!("x = {secret}\n"))]);
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.txt", "hello\n")]);
    std::os::unix::fs::symlink(
        outside.path().join("c.toml"),
        dir.path().join(".leakgate.toml"),
    )
    .unwrap();
    let out = run(dir.path(), &["scan", "."], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("outside the repository"),
        "{}",
        stderr(&out)
    );
    assert_absent(&out, &secret, "symlink out of the repository");
}

#[cfg(unix)]
#[test]
fn config_symlinked_to_a_file_inside_the_repository_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("conf/leakgate.toml", "[allow]\npaths = [\"fixtures/**\"]\n"),
            ("fixtures/app.env", &genesys_env(803)),
        ],
    );
    std::os::unix::fs::symlink("conf/leakgate.toml", dir.path().join(".leakgate.toml")).unwrap();
    let out = run(dir.path(), &["scan", "--format", "json", "."], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(common::findings(&doc).is_empty(), "{doc}");
}

#[test]
fn config_folder_in_place_of_the_file_is_an_error_not_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[(".leakgate.toml/x", "y"), ("a.txt", "hi\n")]);
    let out = run(dir.path(), &["scan", "."], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
}

/// Malformed configurations, each holding `S` where a user might misplace a secret.
fn malformed_configs(s: &str) -> Vec<(&'static str, String)> {
    vec![
        ("wrong type", format!("[scan]\nmax_file_size = \"{s}\"\n")),
        ("unknown top-level key", format!("{s} = 1\n")),
        ("unknown key in a table", format!("[allow]\n{s} = [\"x\"]\n")),
        ("unknown quoted key", format!("[allow]\n\"{s}\" = 1\n")),
        ("unknown table", format!("[{s}]\n")),
        ("bare value", format!("[scan]\nmax_file_size = {s}\n")),
        ("unclosed string", format!("[allow]\nvalues = [\"{s}\n")),
        (
            "duplicate key",
            format!("[genesys]\ndecoy_client_ids = []\ndecoy_client_ids = [\"{s}\"]\n"),
        ),
        (
            "duplicate quoted key",
            format!("[allow]\n\"{s}\" = 1\n\"{s}\" = 2\n"),
        ),
        (
            "dotted key over a value",
            format!("[allow]\npaths = [\"a\"]\npaths.{s} = 1\n"),
        ),
        ("list of the wrong type", format!("[allow]\nvalues = \"{s}\"\n")),
        (
            "unknown rule field",
            format!("{}{s} = 1\n", rule("ok-id", "abc", "abc(?P<secret>x)", "")),
        ),
        (
            "unknown severity",
            format!(
                "[[rules]]\nid = \"ok-id\"\nname = \"n\"\nseverity = \"{s}\"\nkeywords = [\"abc\"]\nregex = 'abc(?P<secret>x)'\n"
            ),
        ),
        (
            "invalid rule id",
            rule(s, "abc", "abc(?P<secret>[a-z]+)", ""),
        ),
        (
            "unclosed group in a rule regex",
            rule("ok-id", "abc", &format!("{s}(?P<secret>x"), ""),
        ),
        (
            "regex without a secret group",
            rule("ok-id", "abc", &format!("{s}x"), ""),
        ),
        (
            "invalid allow.values regex",
            format!("[allow]\nvalues = [\"({s}\"]\n"),
        ),
        (
            "invalid allow.paths glob",
            format!("[allow]\npaths = [\"{s}[z-a]\"]\n"),
        ),
        (
            "invalid rule paths glob",
            rule("ok-id", "abc", "abc(?P<secret>x)", &format!("paths = [\"{s}{{a\"]")),
        ),
        (
            "one-character keyword",
            rule("ok-id", "a", &format!("a{s}(?P<secret>x)"), ""),
        ),
        (
            "context.lines out of range",
            rule(
                "ok-id",
                "abc",
                &format!("abc{s}(?P<secret>x)"),
                "[rules.context]\nkeywords = [\"token\"]\nlines = 9223372036854775807",
            ),
        ),
        (
            "example table of the wrong shape",
            rule(
                "ok-id",
                "abc",
                "abc(?P<secret>x)",
                &format!("examples = [{{ text = 1, note = \"{s}\" }}]"),
            ),
        ),
        ("decoy id too long", format!("[genesys]\ndecoy_client_ids = [\"{s}{s}\"]\n")),
    ]
}

#[test]
fn malformed_config_errors_name_the_place_never_the_content() {
    let secret = genesys_secret(804);
    for (what, text) in malformed_configs(&secret) {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &[(".leakgate.toml", &text), ("a.txt", "hi\n")]);
        let out = run(dir.path(), &["scan", "."], &[]);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", both(&out));
        let err = stderr(&out);
        assert!(
            err.contains(".leakgate.toml") || err.contains("rule") || err.contains("allow."),
            "{what}: {err}"
        );
        assert_absent(&out, &secret, what);
    }
}

#[test]
fn toml_errors_give_line_and_column_and_what_was_expected() {
    let secret = genesys_secret(805);
    let text = format!("[scan]\n\nmax_file_size = \"{secret}\"\n");
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("c.toml: line 3, column 17: "), "{msg}");
    assert!(msg.contains("wrong type of value, expected u64"), "{msg}");
    let e = Config::parse(Path::new("c.toml"), &format!("[allow]\n{secret} = 1\n")).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("line 2, column 1: unknown field, expected one of"),
        "{msg}"
    );
    assert!(!error_chain(&e).contains(&secret));
}

#[test]
fn rule_file_errors_never_echo_the_file() {
    let secret = genesys_secret(806);
    let dir = tempfile::tempdir().unwrap();
    for (i, (what, text)) in malformed_configs(&secret).into_iter().enumerate() {
        let file = dir.path().join(format!("r{i}.toml"));
        std::fs::write(&file, &text).unwrap();
        let out = run(dir.path(), &["rules", "check", file.to_str().unwrap()], &[]);
        assert_ne!(out.status.code(), Some(0), "{what}: {}", both(&out));
        assert_absent(&out, &secret, what);
    }
}

/// Malformed baselines, each holding `S`.
fn malformed_baselines(s: &str) -> Vec<String> {
    vec![
        format!("{{\"version\": \"{s}\", \"findings\": []}}"),
        format!("{{\"version\": 1, \"findings\": [{{\"fingerprint\": 5, \"rule_id\": \"{s}\"}}]}}"),
        format!("{{\"version\": 1, \"findings\": [{{\"{s}\": 1}}]}}"),
        format!("{{\"version\": 1, \"findings\": \"{s}\"}}"),
        format!("{s}"),
        format!("{{\"version\": 1, \"findings\": [\"{s}"),
        format!("{{\"version\": 1, \"{s}\": {s}}}"),
        format!("{{\"version\": 1, \"findings\": [{{\"fingerprint\": \"{s}\", \"rule_id\": \"r\", \"path\": \"p\", \"line\": \"{s}\"}}]}}"),
    ]
}

#[test]
fn baseline_errors_never_echo_the_file() {
    let secret = genesys_secret(807);
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.txt", "hi\n")]);
    for (i, text) in malformed_baselines(&secret).into_iter().enumerate() {
        let name = format!("b{i}.json");
        std::fs::write(dir.path().join(&name), &text).unwrap();
        let out = run(dir.path(), &["scan", "--baseline", &name, "a.txt"], &[]);
        assert_eq!(out.status.code(), Some(2), "baseline {i}: {}", both(&out));
        assert!(stderr(&out).contains(&name), "{}", stderr(&out));
        assert_absent(&out, &secret, &format!("baseline {i}"));
        let e = Baseline::parse(Path::new(&name), text.as_bytes()).unwrap_err();
        let chain = error_chain(&e);
        assert!(chain.contains("line "), "{chain}");
        assert!(!chain.contains(&secret), "baseline {i}: {chain}");
    }
}

// ---- 2. ranges and user-rule limits ----

#[test]
fn context_lines_near_the_integer_limit_is_a_clear_error_not_a_panic() {
    for lines in ["9223372036854775807", "18446744073709551615", "1001"] {
        let text = rule(
            "ctx-rule",
            "abc",
            "abc(?P<secret>[a-z]{8})",
            &format!("[rules.context]\nkeywords = [\"token\"]\nlines = {lines}"),
        );
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            &[(".leakgate.toml", &text), ("a.txt", "abcdefghijk token\n")],
        );
        let out = run(dir.path(), &["scan", "."], &[]);
        assert_eq!(out.status.code(), Some(2), "{lines}: {}", both(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        if lines == "1001" {
            assert!(
                stderr(&out).contains("rules[0] (ctx-rule).context.lines: must be from 0 to 1000"),
                "{}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn numeric_fields_have_ranges() {
    let cases = [
        (
            "[scan]\nmax_file_size = 0\n".to_string(),
            "scan.max_file_size: must be from 1",
        ),
        (
            "[scan]\nmax_file_size = 9223372036854775807\n".to_string(),
            "scan.max_file_size: must be from 1",
        ),
        (
            rule("e-rule", "abc", "abc(?P<secret>x)", "min_entropy = 1e308"),
            "rules[0] (e-rule).min_entropy: must be from 0 to 8",
        ),
        (
            rule("e-rule", "abc", "abc(?P<secret>x)", "min_entropy = -1.0"),
            "rules[0] (e-rule).min_entropy: must be from 0 to 8",
        ),
        (
            rule("e-rule", "abc", "abc(?P<secret>x)", "min_entropy = nan"),
            "rules[0] (e-rule).min_entropy: must be from 0 to 8",
        ),
    ];
    for (text, want) in cases {
        let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
        assert!(e.to_string().contains(want), "{text}: {e}");
    }
}

#[test]
fn a_long_user_regex_is_refused_before_compiling_by_rule_and_field() {
    let secret = genesys_secret(808);
    let regex = format!("{}{secret}(?P<secret>x)", "a".repeat(5000));
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            (".leakgate.toml", &rule("long-rule", "abc", &regex, "")),
            ("a.txt", "hi\n"),
        ],
    );
    let out = run(dir.path(), &["scan", "."], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("rules[0] (long-rule).regex: longer than 4096 bytes"),
        "{}",
        stderr(&out)
    );
    assert_absent(&out, &secret, "long regex");
}

#[test]
fn a_10_mb_user_regex_is_refused_at_once_with_the_file_limit() {
    let mut text = rule("huge-rule", "abc", "", "");
    text = text.replace(
        "regex = ''''''",
        &format!("regex = '''{}(?P<secret>b)'''", "a".repeat(10 << 20)),
    );
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[(".leakgate.toml", &text), ("a.txt", "hi\n")]);
    let out = run(dir.path(), &["scan", "."], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("larger than the limit of 1048576 bytes"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_user_regex_that_compiles_too_big_is_refused_by_rule_id() {
    let text = rule("big-rule", "abc", r"abc(?P<secret>(?u:\w{32,64}))", "");
    let e = leakgate::Matcher::new(
        Vec::new(),
        &Config::parse(Path::new("c.toml"), &text).unwrap(),
    )
    .err()
    .expect("refused");
    let msg = e.to_string();
    assert!(
        msg.starts_with("rule big-rule: regex: compiles to more than"),
        "{msg}"
    );
    assert!(!msg.contains(r"\w{32,64})"), "{msg}");
}

#[test]
fn user_rules_are_counted() {
    let many: String = (0..=leakgate::rules::MAX_USER_RULES)
        .map(|i| {
            rule(
                &format!("r{i}"),
                &format!("kw{i:04}"),
                &format!("kw{i:04}(?P<secret>[a-z]{{8}})"),
                "",
            )
        })
        .collect();
    let e = Config::parse(Path::new("c.toml"), &many).unwrap_err();
    assert!(e.to_string().contains("rules: more than 200 rules"), "{e}");
    let allowed: String = (0..leakgate::rules::MAX_USER_RULES)
        .map(|i| {
            rule(
                &format!("r{i}"),
                &format!("kw{i:04}"),
                &format!("kw{i:04}(?P<secret>[a-z]{{8}})"),
                "",
            )
        })
        .collect();
    let config = Config::parse(Path::new("c.toml"), &allowed).unwrap();
    let m = leakgate::Matcher::new(leakgate::rules::builtin(), &config).unwrap();
    assert!(m.scan("a.txt", b"hello kw0007abcdefgh\n").len() == 1);
}

#[test]
fn short_keywords_are_refused_unless_the_rule_is_path_restricted() {
    let e = Config::parse(
        Path::new("c.toml"),
        &rule("k-rule", "ab", "ab(?P<secret>[a-z]{8})", ""),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("rules[0] (k-rule).keywords[0]: must be 3 to 64 bytes"),
        "{msg}"
    );
    Config::parse(
        Path::new("c.toml"),
        &rule(
            "k-rule",
            "a",
            "a(?P<secret>[a-z]{8})",
            "paths = [\"*.cfg\"]",
        ),
    )
    .expect("a path-restricted rule may use a short keyword");
    let many: Vec<String> = (0..33).map(|i| format!("\"kw{i:03}\"")).collect();
    let text = rule("k-rule", "abc", "abc(?P<secret>x)", "").replace(
        "keywords = [\"abc\"]",
        &format!("keywords = [{}]", many.join(", ")),
    );
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    assert!(
        e.to_string().contains("keywords: more than 32 entries"),
        "{e}"
    );
}

#[test]
fn rules_check_lints_the_limits_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.toml");
    std::fs::write(
        &file,
        rule(
            "k-rule",
            "x",
            "x(?P<secret>[a-z]{8})",
            "examples = [\"xabcdefgh\"]\nnegative_examples = [\"q\"]",
        ),
    )
    .unwrap();
    let out = run(dir.path(), &["rules", "check", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("k-rule: keywords[0]: must be 3 to 64 bytes"),
        "{}",
        both(&out)
    );
}

// ---- 3. only bounded regular files ----

#[cfg(unix)]
#[test]
fn config_and_baseline_from_dev_zero_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.txt", "hi\n")]);
    for flag in ["--config", "--baseline"] {
        let out = run(dir.path(), &["scan", flag, "/dev/zero", "a.txt"], &[]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", both(&out));
        assert!(
            stderr(&out).contains("not a regular file (a character device)"),
            "{flag}: {}",
            stderr(&out)
        );
    }
}

#[cfg(unix)]
#[test]
fn config_and_baseline_from_a_fifo_are_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.txt", "hi\n")]);
    let fifo = dir.path().join("pipe");
    common::mkfifo(&fifo);
    for flag in ["--config", "--baseline"] {
        let out = run(dir.path(), &["scan", flag, "pipe", "a.txt"], &[]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", both(&out));
        assert!(stderr(&out).contains("a FIFO"), "{flag}: {}", stderr(&out));
    }
    // The discovered `.leakgate.toml` as a FIFO, too.
    std::fs::rename(&fifo, dir.path().join(".leakgate.toml")).unwrap();
    let out = run(dir.path(), &["scan", "."], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(stderr(&out).contains("a FIFO"), "{}", stderr(&out));
}

#[test]
fn files_beyond_the_limits_are_refused_by_what_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("# {}\n", "x".repeat(1 << 20));
    write_files(dir.path(), &[(".leakgate.toml", &big), ("a.txt", "hi\n")]);
    let out = run(dir.path(), &["scan", "."], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        stderr(&out).contains("larger than the limit of 1048576 bytes"),
        "{}",
        stderr(&out)
    );

    let limit = leakgate::baseline::MAX_BASELINE_BYTES;
    let endless = std::io::repeat(b' ').take(limit + 10);
    let e = Baseline::read(endless, Path::new("b.json")).unwrap_err();
    let chain = error_chain(&e);
    assert!(chain.contains("larger than the limit"), "{chain}");
}

// ---- 4. the command line never echoes a value ----

#[test]
fn rejected_command_line_values_are_never_echoed() {
    let secret = genesys_secret(809);
    let id = client_id(809);
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.txt", "hi\n")]);
    let webhook = format!("http://hooks.example.com/services/{secret}");
    let webhook_eq = format!("--notify-webhook={webhook}");
    let secret_eq = format!("--client-secret={secret}");
    let short = format!("-x{secret}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["scan", "--verify", "--notify-webhook", &webhook, "."],
        vec!["scan", "--revoke", "--dry-run", &webhook_eq, "."],
        vec!["verify", "--client-id", &id, "--secret-env", &secret],
        vec!["verify", "--client-id", &id, "--region", &secret],
        vec!["verify", "--client-id", &secret],
        vec!["verify", "--client-id", &id, &secret],
        vec!["scan", "--max-file-size", &secret, "."],
        vec!["scan", "--verify-rate", &secret, "."],
        vec!["scan", "--verify-timeout", &secret, "."],
        vec!["scan", "--verify-attempts", &secret, "."],
        vec!["scan", "--format", &secret, "."],
        vec!["scan", "--color", &secret, "."],
        vec!["scan", "--revoke-action", &secret, "."],
        vec!["scan", &secret_eq, "."],
        vec!["scan", "--client-secret", &secret, "."],
        vec!["scan", &short],
        vec![&secret],
        vec!["rules", &secret],
        vec!["install-hook", ".", &secret],
        // A value after a flag that takes none becomes a path.
        vec!["scan", "--verify", &secret],
        vec![
            "verify",
            "--client-id",
            &id,
            "--region",
            "eu-west-1",
            "--",
            &secret,
        ],
    ];
    for args in cases {
        let out = run(dir.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", both(&out));
        assert_absent(&out, &secret, &format!("{args:?}"));
        assert!(
            !stderr(&out).contains(&secret[..12]),
            "{args:?}: part of the value was printed: {}",
            stderr(&out)
        );
    }
}

#[test]
fn revisions_that_do_not_resolve_are_never_echoed() {
    let secret = genesys_secret(811);
    let dir = Repo::new().files(&[("a.txt", "hi\n")]).committed("one");
    let range = format!("HEAD..{secret}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["scan", "--history", "--range", &secret, "."],
        vec!["scan", "--history", "--range", &range, "."],
        vec![
            "scan",
            "--history",
            "--range",
            "HEAD..HEAD",
            "--config-from",
            &secret,
            ".",
        ],
    ];
    for args in cases {
        let out = run(dir.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", both(&out));
        assert!(
            stderr(&out).contains("does not resolve"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_absent(&out, &secret, &format!("{args:?}"));
        assert!(!stderr(&out).contains(&secret[..12]), "{}", stderr(&out));
    }
}

#[test]
fn command_line_errors_name_the_flag_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["scan", "--format", "yaml", "."], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("invalid value for --format <FORMAT>: expected one of text, json, sarif"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["scan", "--formt", "json"], &[]);
    assert!(
        stderr(&out).contains("(argument 2 on the command line)"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("did you mean --format?"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["scan", "--staged", "--history"], &[]);
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["verify"], &[]);
    assert!(
        stderr(&out).contains("missing required --client-id <ID>"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_and_version_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("leakgate "));
    let out = run(dir.path(), &["scan", "--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: leakgate scan"));
    let out = run(dir.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Usage: leakgate [OPTIONS] <COMMAND>"),
        "{}",
        stderr(&out)
    );
}

// ---- 5. property tests: no panic, no input in any error ----

/// A planted value the properties look for: distinctive, generated, secret-shaped.
fn planted() -> String {
    genesys_secret(810)
}

/// Pieces of a configuration or rule file, for random structured inputs.
fn toml_piece() -> impl Strategy<Value = String> {
    let s = planted();
    let keys = prop::sample::select(vec![
        "[scan]",
        "[allow]",
        "[genesys]",
        "[[rules]]",
        "[rules.context]",
        "max_file_size",
        "paths",
        "values",
        "rules",
        "decoy_client_ids",
        "id",
        "name",
        "severity",
        "keywords",
        "regex",
        "min_entropy",
        "lines",
        "examples",
        "=",
        "\"",
        "'",
        "'''",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\n",
        "1",
        "-1",
        "1e999",
        "9223372036854775807",
        "true",
        "\"low\"",
        "(?P<secret>",
        ")",
        ".",
    ]);
    prop_oneof![
        3 => keys.prop_map(str::to_string),
        1 => Just(s.clone()),
        1 => Just(format!("\"{s}\"")),
        1 => "[ -~]{0,8}",
    ]
}

fn assert_error_clean(e: &(dyn std::error::Error + 'static), secret: &str) {
    let chain = error_chain(e);
    assert!(
        !chain.contains(secret),
        "error shows the planted value: {chain}"
    );
    assert!(
        !chain.contains(&secret[..16]),
        "error shows part of the planted value: {chain}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn config_parse_never_panics_or_echoes_on_random_bytes(
        head in prop::collection::vec(any::<u8>(), 0..200),
        tail in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let secret = planted();
        let mut bytes = head;
        bytes.extend_from_slice(secret.as_bytes());
        bytes.extend(tail);
        if let Err(e) = Config::parse_bytes(Path::new("c.toml"), &bytes) {
            assert_error_clean(&e, &secret);
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = leakgate::rules::parse("r.toml", &text) {
            assert_error_clean(&e, &secret);
        }
        if let Err(e) = Baseline::parse(Path::new("b.json"), &bytes) {
            assert_error_clean(&e, &secret);
        }
    }

    #[test]
    fn structured_configs_never_panic_or_echo(pieces in prop::collection::vec(toml_piece(), 0..40)) {
        let secret = planted();
        let text = pieces.join(" ");
        match Config::parse(Path::new("c.toml"), &text) {
            Err(e) => assert_error_clean(&e, &secret),
            Ok(config) => {
                if let Err(e) = leakgate::Matcher::new(Vec::new(), &config) {
                    assert_error_clean(&e, &secret);
                }
            }
        }
        match leakgate::rules::parse("r.toml", &text) {
            Err(e) => assert_error_clean(&e, &secret),
            Ok(rules) => {
                for e in leakgate::rules::lint(&rules) {
                    assert!(!e.to_string().contains(&secret), "{e}");
                }
            }
        }
    }

    #[test]
    fn structured_baselines_never_panic_or_echo(
        pieces in prop::collection::vec(prop_oneof![
            4 => prop::sample::select(vec![
                "{", "}", "[", "]", ":", ",", "\"version\"", "\"findings\"", "\"fingerprint\"",
                "\"rule_id\"", "\"path\"", "\"line\"", "\"commit\"", "1", "2", "null", "-1",
                "1e400", "\"x\"", "true",
            ]).prop_map(str::to_string),
            1 => Just(planted()),
            1 => Just(format!("\"{}\"", planted())),
        ], 0..40),
    ) {
        let secret = planted();
        let text = pieces.join("");
        if let Err(e) = Baseline::parse(Path::new("b.json"), text.as_bytes()) {
            assert_error_clean(&e, &secret);
        }
    }
}

// ---- 6. across every error path, no planted secret is printed ----

#[test]
fn no_error_path_prints_a_planted_secret() {
    let secret = genesys_secret(811);
    let id = client_id(811);
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("a.txt", "hi\n")]);
    let mut runs: Vec<(String, Output)> = Vec::new();
    // Configuration values, rule regexes and ids: discovered, named by --config, and to
    // `rules list` and `verify`.
    for (what, text) in malformed_configs(&secret) {
        let repo = tempfile::tempdir().unwrap();
        write_files(repo.path(), &[(".leakgate.toml", &text), ("a.txt", "hi\n")]);
        for args in [
            vec!["scan", "."],
            vec!["scan", "--format", "json", "."],
            vec!["scan", "--format", "sarif", "."],
            vec!["scan", "--config", ".leakgate.toml", "a.txt"],
            vec!["baseline", "create", "."],
            vec!["rules", "list"],
            vec![
                "verify",
                "--client-id",
                &id,
                "--secret-env",
                "LEAKGATE_TEST_UNSET_VAR",
            ],
        ] {
            runs.push((format!("{what}: {args:?}"), run(repo.path(), &args, &[])));
        }
    }
    // Baseline entries.
    for (i, text) in malformed_baselines(&secret).into_iter().enumerate() {
        let name = format!("b{i}.json");
        std::fs::write(dir.path().join(&name), &text).unwrap();
        for args in [
            vec!["scan", "--baseline", &name, "a.txt"],
            vec!["baseline", "create", "--baseline", &name, "a.txt"],
        ] {
            runs.push((
                format!("baseline {i}: {args:?}"),
                run(dir.path(), &args, &[]),
            ));
        }
    }
    // Flag values and environment variable names.
    let webhook = format!("https://hooks.example.com/{secret}");
    for args in [
        vec!["scan", "--verify", "--notify-webhook", &webhook, "a.txt"],
        vec!["scan", "--max-file-size", &secret, "a.txt"],
        vec!["verify", "--client-id", &id, "--secret-env", &secret],
        vec!["verify", "--client-id", &id, "--region", &secret],
        vec!["scan", "--client-secret", &secret],
    ] {
        runs.push((format!("{args:?}"), run(dir.path(), &args, &[])));
    }
    for (what, out) in &runs {
        let all = both(out);
        for line in all.lines() {
            assert!(
                !line.contains(&secret),
                "{what}: printed the planted secret: {line}"
            );
        }
        assert_ne!(out.status.code(), Some(0), "{what}: should fail: {all}");
        assert!(!all.contains("panicked"), "{what}: {all}");
    }
}

#[test]
fn user_regexes_share_one_compile_budget() {
    let big = rule("big-rule", "kwq", r"kwq(?P<secret>(?u:\w{16}))", "");
    let alone = Config::parse(Path::new("c.toml"), &big).unwrap();
    leakgate::Matcher::new(Vec::new(), &alone).expect("one large rule fits its own limit");
    let mut text = big.clone();
    for i in 1..leakgate::rules::MAX_USER_RULES {
        text.push_str(&rule(
            &format!("r{i}"),
            &format!("kw{i:04}"),
            &format!("kw{i:04}(?P<secret>[a-z]{{8}})"),
            "",
        ));
    }
    let many = Config::parse(Path::new("c.toml"), &text).unwrap();
    let e = leakgate::Matcher::new(Vec::new(), &many)
        .err()
        .expect("refused");
    let share = leakgate::matcher::USER_REGEX_BUDGET / leakgate::rules::MAX_USER_RULES;
    assert!(
        e.to_string().starts_with(&format!(
            "rule big-rule: regex: compiles to more than the limit of {share} bytes"
        )),
        "{e}"
    );
}
