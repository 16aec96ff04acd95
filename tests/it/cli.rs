//! Command-line conventions, run on the real binary: `-o -`, the summary beside a report file,
//! verbosity and log levels, colour, worker threads, exit statuses, completions and the manual
//! page, broken pipes, and typos that are never answered with a dangerous flag.

use crate::common;
use common::{genesys_env, genesys_secret, leakgate, run_in, write_files};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};

/// A folder with one Genesys credential (seed `seed`) in `app.env`.
fn one_secret(seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("app.env", &genesys_env(seed))]);
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The summary line of a scan of one file holding one secret, as stderr shows it.
const SUMMARY: &str = "leakgate: 1 secret(s) in 1 file(s), ";

#[test]
fn dash_output_is_standard_output() {
    let dir = one_secret(1);
    for args in [
        &["scan", "--format", "json", "-o", "-"][..],
        &["scan", "--format", "json", "--output", "-"],
    ] {
        let out = run_in(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
        assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
        assert!(!dir.path().join("-").exists(), "no file named `-`");
        assert!(stderr(&out).contains(SUMMARY), "{}", stderr(&out));
    }
    // Text to `-` is text on the terminal: the summary is in the report, not repeated.
    let out = run_in(dir.path(), &["scan", "-o", "-"]);
    assert!(stdout(&out).contains("1 secret(s) in 1 file(s)"));
    assert!(!stderr(&out).contains(SUMMARY), "{}", stderr(&out));
}

#[test]
fn a_report_file_keeps_the_summary_on_stderr() {
    let dir = one_secret(2);
    for format in ["text", "json", "sarif"] {
        let file = dir.path().join(format!("report.{format}"));
        let file = file.to_str().unwrap();
        let out = run_in(
            dir.path(),
            &["scan", "app.env", "--format", format, "-o", file],
        );
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        assert!(
            out.stdout.is_empty(),
            "{format}: the report went to the file"
        );
        let err = stderr(&out);
        assert_eq!(err.matches(SUMMARY).count(), 1, "{format}: {err}");
        assert!(!err.contains(&genesys_secret(2)), "{format}: {err}");
        let written = std::fs::read_to_string(file).unwrap();
        assert!(written.contains("genesys-client-secret"), "{format}");

        let out = run_in(
            dir.path(),
            &["scan", "app.env", "--format", format, "-o", file, "--quiet"],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stderr.is_empty(), "{format} --quiet: {}", stderr(&out));
    }
    // JSON on standard output: the summary is on stderr, stdout stays a document.
    let out = run_in(dir.path(), &["scan", "app.env", "--format", "json"]);
    assert!(stderr(&out).contains(SUMMARY), "{}", stderr(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("stdout is JSON alone");
}

#[test]
fn verbose_and_log_level_choose_what_stderr_says() {
    let dir = one_secret(3);
    let secret = genesys_secret(3);
    let json = ["app.env", "--format", "json", "-o", "report.json"];
    let err_of = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(json);
        let out = run_in(dir.path(), &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(!err.contains(&secret), "{args:?} shows the secret: {err}");
        err
    };
    let info = err_of(&["scan"]);
    assert!(info.contains(SUMMARY) && !info.contains("debug:"), "{info}");

    // Before or after the command name, short or long, or as a level.
    for args in [
        &["scan", "-v"][..],
        &["-v", "scan"],
        &["scan", "--verbose"],
        &["--log-level", "debug", "scan"],
    ] {
        let err = err_of(args);
        for phase in [
            "debug: planned in ",
            "debug: read in ",
            "debug: report written in ",
        ] {
            assert!(err.contains(phase), "{args:?} lacks {phase}: {err}");
        }
        assert!(err.contains("1 file(s), "), "{args:?}: counts: {err}");
        assert!(!err.contains("trace:"), "{args:?}: {err}");
        assert!(err.contains(SUMMARY), "{args:?}: {err}");
    }
    for args in [&["scan", "-vv"][..], &["scan", "--log-level", "trace"]] {
        let err = err_of(args);
        let counters = err
            .lines()
            .find_map(|l| l.strip_prefix("leakgate: trace: counters "))
            .unwrap_or_else(|| panic!("{args:?}: no counters: {err}"));
        let counters: serde_json::Value = serde_json::from_str(counters).unwrap();
        assert_eq!(counters["files"], 1, "{args:?}");
    }

    // warn: warnings but no summary; error: nothing for a run without errors.
    let big = tempfile::tempdir().unwrap();
    write_files(
        big.path(),
        &[("big.txt", &"x".repeat(2048)), ("app.env", &genesys_env(3))],
    );
    let run = |level: &str| {
        let out = run_in(
            big.path(),
            &[
                "scan",
                "--max-file-size",
                "1K",
                "--format",
                "json",
                "--log-level",
                level,
            ],
        );
        assert_eq!(out.status.code(), Some(1));
        stderr(&out)
    };
    let warn = run("warn");
    assert!(
        warn.contains("leakgate: warning: ") && warn.contains("--max-file-size"),
        "{warn}"
    );
    assert!(!warn.contains("secret(s) in"), "{warn}");
    assert_eq!(run("error"), "");

    // --quiet wins over -v.
    assert_eq!(err_of(&["scan", "-vv", "--quiet"]), "");

    let out = run_in(dir.path(), &["scan", "-v", "--log-level", "info"]);
    assert_eq!(out.status.code(), Some(2), "-v and --log-level conflict");
}

#[test]
fn colour_follows_no_color_color_and_the_environment() {
    let dir = one_secret(4);
    let coloured = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = leakgate();
        c.current_dir(dir.path())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} {env:?}: {}",
            stderr(&out)
        );
        out.stdout.contains(&0x1b)
    };
    assert!(!coloured(&["scan"], &[]), "not a terminal: no colour");
    assert!(coloured(&["scan", "--color", "always"], &[]));
    assert!(coloured(&["scan"], &[("CLICOLOR_FORCE", "1")]));
    // NO_COLOR is honoured even over CLICOLOR_FORCE.
    assert!(!coloured(
        &["scan"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    ));
    assert!(!coloured(
        &["scan", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    ));
    // --no-color wins over everything, before or after the command name.
    assert!(!coloured(
        &["scan", "--no-color"],
        &[("CLICOLOR_FORCE", "1")]
    ));
    assert!(!coloured(&["--no-color", "scan", "--color", "always"], &[]));
    // Colour never reaches a file unless asked for.
    assert!(!coloured(
        &["scan", "-o", "out.txt"],
        &[("CLICOLOR_FORCE", "1")]
    ));
    let file = std::fs::read(dir.path().join("out.txt")).unwrap();
    assert!(!file.contains(&0x1b));
}

#[test]
fn threads_size_the_worker_pool() {
    let dir = one_secret(5);
    let threads = |args: &[&str]| -> usize {
        let out = leakgate()
            .current_dir(dir.path())
            .env_remove("RAYON_NUM_THREADS")
            .args(args)
            .args(["scan", "-v", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        let n = err
            .lines()
            .find_map(|l| l.strip_suffix(" worker thread(s)")?.rsplit("; ").next())
            .unwrap_or_else(|| panic!("{args:?}: {err}"));
        n.parse().unwrap()
    };
    assert_eq!(threads(&["-j", "1"]), 1);
    assert_eq!(threads(&["--threads", "3"]), 3);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(threads(&["-j", "0"]), cores);
    assert_eq!(threads(&[]), cores);

    let out = run_in(dir.path(), &["scan", "-j", "100000"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn exit_code_and_exit_zero_change_only_the_findings_status() {
    let dir = one_secret(6);
    let clean = tempfile::tempdir().unwrap();
    write_files(clean.path(), &[("README", "nothing here\n")]);
    let code = |dir: &Path, args: &[&str]| run_in(dir, args).status.code();

    assert_eq!(code(dir.path(), &["scan"]), Some(1));
    assert_eq!(code(dir.path(), &["scan", "--exit-code", "7"]), Some(7));
    assert_eq!(code(dir.path(), &["--exit-code", "0", "scan"]), Some(0));
    assert_eq!(code(dir.path(), &["scan", "--exit-code", "255"]), Some(255));
    assert_eq!(code(dir.path(), &["scan", "--exit-zero"]), Some(0));
    assert_eq!(code(clean.path(), &["scan", "--exit-code", "7"]), Some(0));
    // Errors keep 2 whatever the flags.
    for flag in [&["--exit-zero"][..], &["--exit-code", "7"]] {
        let mut args = vec!["scan", "no-such-file"];
        args.extend(flag);
        assert_eq!(code(clean.path(), &args), Some(2), "{flag:?}");
    }
    // 2 is refused as ambiguous, and so are values out of range or both flags at once.
    let out = run_in(dir.path(), &["scan", "--exit-code", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("status of errors"),
        "{}",
        stderr(&out)
    );
    assert_eq!(code(dir.path(), &["scan", "--exit-code", "256"]), Some(2));
    assert_eq!(
        code(dir.path(), &["scan", "--exit-code", "3", "--exit-zero"]),
        Some(2)
    );
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run_in(dir.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains("scan"), "{shell}");
        assert!(script.contains("history"), "{shell}: no --history");
        assert!(script.contains("exit-code"), "{shell}: no global flags");
    }
    assert_eq!(
        run_in(dir.path(), &["completions", "tcsh"]).status.code(),
        Some(2)
    );

    let out = run_in(dir.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.lines().any(|l| l.starts_with(".TH leakgate 1")),
        "{page}"
    );
    assert!(
        page.contains("scan") && page.contains("completions"),
        "{page}"
    );
    // A command's own page has its flags, the global ones among them (roff escapes `-`).
    let out = run_in(dir.path(), &["man", "scan"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(
        page.lines().any(|l| l.starts_with(".TH leakgate-scan 1")),
        "{page}"
    );
    for flag in [r"\-\-history", r"\-\-exit\-code", r"\-\-no\-color"] {
        assert!(page.contains(flag), "{flag}: {page}");
    }
    assert_eq!(
        run_in(dir.path(), &["man", "nosuch"]).status.code(),
        Some(2)
    );
}

/// Run leakgate with stdout on a pipe, read one line, close the pipe, and wait.
fn read_one_line_and_close(dir: &Path, args: &[&str]) -> Output {
    let mut child = leakgate()
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(!line.is_empty(), "{args:?} wrote nothing");
    // The reader is dropped here: the pipe is closed with most of the output unread.
    child.wait_with_output().unwrap()
}

#[test]
fn a_reader_that_closes_early_is_no_error() {
    let dir = tempfile::tempdir().unwrap();
    // Far more than a pipe holds (64 KiB), so the writer meets the closed pipe.
    let full = run_in(dir.path(), &["rules", "list", "--json"]);
    assert!(full.stdout.len() > 512 * 1024, "{}", full.stdout.len());
    for args in [
        &["rules", "list", "--json"][..],
        &["rules", "list"],
        &["completions", "zsh"],
        &["man"],
        &["man", "scan"],
    ] {
        let out = read_one_line_and_close(dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
    }

    // A scan piped to `head` still exits 1 for its findings: the outcome stands.
    let many = tempfile::tempdir().unwrap();
    let files: Vec<(String, String)> = (0..1000)
        .map(|i| (format!("f{i}.env"), genesys_env(1000 + i)))
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(many.path(), &files);
    let full = run_in(many.path(), &["scan", "--no-group"]);
    assert!(full.stdout.len() > 192 * 1024, "{}", full.stdout.len());
    let out = read_one_line_and_close(many.path(), &["scan", "--no-group"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
}

/// The names a typo must never be pointed to.
const DANGEROUS: [&str; 5] = [
    "--verify",
    "--revoke",
    "--revoke-action",
    "--no-redact",
    "--notify-webhook",
];

/// True when `message` names `name` as a word (not as part of a longer flag).
fn names(message: &str, name: &str) -> bool {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .any(|w| w == name)
}

/// Strings one edit from `name`: each character dropped, doubled or replaced, and each
/// adjacent pair swapped (only edits that keep the leading `--` of a flag).
fn near_misses(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let start = if name.starts_with("--") { 2 } else { 0 };
    let mut out = Vec::new();
    for i in start..chars.len() {
        let mut drop = chars.clone();
        drop.remove(i);
        let mut double = chars.clone();
        double.insert(i, chars[i]);
        let mut replace = chars.clone();
        replace[i] = if chars[i] == 'e' { 'a' } else { 'e' };
        out.extend([drop, double, replace].map(|c| c.into_iter().collect::<String>()));
        if i + 1 < chars.len() {
            let mut swap = chars.clone();
            swap.swap(i, i + 1);
            out.push(swap.into_iter().collect());
        }
    }
    out.retain(|t| t != name);
    out.sort();
    out.dedup();
    out
}

#[test]
fn typos_are_never_pointed_to_a_dangerous_name() {
    let dir = tempfile::tempdir().unwrap();
    let check = |args: &[&str]| {
        let out = run_in(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        for d in DANGEROUS.iter().chain(&["verify"]) {
            assert!(!names(&err, d), "{args:?} suggests {d}: {err}");
        }
    };
    // The examples: `version` used to suggest `verify`, and near misses of the flags.
    check(&["version"]);
    check(&["verfy"]);
    check(&["scan", "--revok"]);
    check(&["scan", "--verfy"]);
    check(&["--revok", "scan"]);
    // --verbose is a flag of its own now, not a typo of --revoke.
    let out = run_in(dir.path(), &["scan", "--verbose", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    for name in DANGEROUS {
        for typo in near_misses(name) {
            check(&["scan", &typo]);
            check(&["verify", "--client-id", "x", &typo]);
        }
    }
    for typo in near_misses("verify") {
        check(&[&typo]);
    }
}

#[test]
fn harmless_suggestions_stay() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["scan", "--histroy"]);
    assert!(
        stderr(&out).contains("did you mean --history?"),
        "{}",
        stderr(&out)
    );
    let out = run_in(dir.path(), &["scna"]);
    assert!(
        stderr(&out).contains("did you mean scan?"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn near_misses_are_one_edit_away() {
    let typos = near_misses("--ab");
    for t in ["--a", "--b", "--aab", "--abb", "--eb", "--ae", "--ba"] {
        assert!(typos.contains(&t.to_string()), "{t}: {typos:?}");
    }
    assert!(!typos.contains(&"--ab".to_string()));
    assert!(names("did you mean --verify?", "--verify"));
    assert!(!names("did you mean --verify-rate?", "--verify"));
}
