//! The README's examples run: every `leakgate` command line of its `console` and `sh` blocks
//! that can run offline is run in a fresh repository holding a planted credential, and must
//! exit as the README implies (1 for a scan that finds it, 0 for one whose shown summary is
//! `0 secret(s)` and for the other commands); every `toml` block passes `leakgate rules check`
//! as a configuration; the baseline example parses as a baseline. Commands that need the
//! network are skipped by an explicit list of prefixes, and a `leakgate` command that is
//! neither runnable here nor listed fails the test, so no new example is skipped silently.
//! `yaml` blocks (pre-commit and GitHub workflow files) run on runners, not here.

use crate::common;
use common::Repo;
use std::path::Path;

/// Command prefixes not run here, and why.
const SKIPPED: &[(&str, &str)] = &[
    (
        "leakgate verify",
        "asks the Genesys token endpoint (network)",
    ),
    (
        "leakgate scan --verify",
        "verifies through Genesys (network)",
    ),
    (
        "leakgate scan --history --revoke",
        "revokes through the Genesys admin API (network)",
    ),
    (
        "leakgate genesys",
        "audits, creates and rotates through the Genesys admin API (network)",
    ),
    (
        "leakgate serve",
        "a long-running service; tests/it/serve.rs runs it against loopback stand-ins",
    ),
];

/// Subcommands (first words after `leakgate`) run here.
const RUNNABLE: &[&str] = &[
    "scan",
    "rules list",
    "rules check",
    "rules export",
    "baseline create",
    "baseline import",
    "install-hook",
    "completions",
    "man",
    "help",
    "--version",
    "--help",
];

/// One fenced block: its info string, its lines, the README line it starts on.
struct Block {
    lang: String,
    lines: Vec<String>,
    line: usize,
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The fenced blocks of `text` (``` fences, indented or not).
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim_start();
        if let Some(info) = l.strip_prefix("```") {
            match open.take() {
                Some(b) => out.push(b),
                None => {
                    open = Some(Block {
                        lang: info.trim().to_string(),
                        lines: Vec::new(),
                        line: i + 1,
                    });
                }
            }
        } else if let Some(b) = &mut open {
            b.lines.push(l.to_string());
        }
    }
    out
}

/// A command of a block, with what the README shows after it.
struct Example {
    command: String,
    /// The first line after the command that is not one: its output, or a comment.
    shown: Option<String>,
    line: usize,
}

/// The command lines of a `console` block (`$ ...`) or `sh` block (every line not a comment),
/// continuation lines joined, trailing comments dropped.
fn commands(block: &Block) -> Vec<Example> {
    let console = block.lang == "console";
    let mut out: Vec<Example> = Vec::new();
    let mut pending: Option<(String, usize)> = None;
    for (i, l) in block.lines.iter().enumerate() {
        let line = block.line + 1 + i;
        let text = match (&mut pending, console) {
            (Some((cmd, _)), _) => {
                cmd.push(' ');
                cmd.push_str(l.trim());
                None
            }
            (None, true) => l.strip_prefix("$ ").map(str::to_string),
            (None, false) if l.trim().is_empty() || l.trim_start().starts_with('#') => None,
            (None, false) => Some(l.clone()),
        };
        if let Some(t) = text {
            pending = Some((t, line));
        } else if pending.is_none() {
            if let Some(last) = out.last_mut() {
                if last.shown.is_none() && !l.trim().is_empty() {
                    last.shown = Some(l.trim().to_string());
                }
            }
            continue;
        }
        let Some((cmd, at)) = pending.take() else {
            continue;
        };
        if let Some(head) = cmd.strip_suffix('\\') {
            pending = Some((head.trim_end().to_string(), at));
            continue;
        }
        out.push(Example {
            command: strip_comment(&cmd).to_string(),
            shown: None,
            line: at,
        });
    }
    out
}

/// `cmd` without a trailing ` # comment`.
fn strip_comment(cmd: &str) -> &str {
    cmd.find(" #").map_or(cmd, |i| &cmd[..i]).trim()
}

/// Split a command line into words: whitespace-separated, with '...' and "..." quoting.
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in cmd.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// What to do with one `leakgate ...` command.
enum Plan {
    Run,
    Skip(&'static str),
}

/// Run, skip (listed) or fail (neither): the README's leakgate commands are all accounted for.
fn plan_for(cmd: &str, line: usize) -> Plan {
    if let Some((_, why)) = SKIPPED.iter().find(|(p, _)| cmd.starts_with(p)) {
        return Plan::Skip(why);
    }
    let w = words(cmd);
    let sub = w.get(1).map(String::as_str).unwrap_or_default();
    let two = format!("{sub} {}", w.get(2).map(String::as_str).unwrap_or_default());
    assert!(
        RUNNABLE.contains(&sub) || RUNNABLE.contains(&two.trim()),
        "README.md:{line}: `{cmd}`: a leakgate command this test neither runs nor skips; add \
         it to RUNNABLE (and the fixture) or to SKIPPED with the reason"
    );
    Plan::Run
}

/// The repository each block's commands run in: a commit without secrets (also
/// `origin/main`), then one adding a credential, the gitleaks report and detect-secrets
/// baseline the import examples read, and with `staged`, a second credential staged.
fn fixture(staged: bool) -> Repo {
    let repo = Repo::initial();
    repo.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
    repo.commit(&[("config/app.env", &common::env_file(71))], "config");
    let secret = common::genesys_secret(71);
    let report = serde_json::json!([{
        "RuleID": "generic-api-key", "File": "config/app.env", "StartLine": 2,
        "Secret": secret, "Match": format!("GENESYS_CLOUD_CLIENT_SECRET={secret}"),
    }]);
    let sha1 = sha1dc::digest(secret.as_bytes()).unwrap().to_string();
    let baseline = serde_json::json!({"version": "1.5.0", "results": {"config/app.env": [
        {"type": "Secret Keyword", "filename": "config/app.env", "hashed_secret": sha1,
         "line_number": 2}
    ]}});
    common::write_files(
        repo.path(),
        &[
            ("gitleaks-report.json", &report.to_string()),
            (".secrets.baseline", &baseline.to_string()),
        ],
    );
    // Ignored, so scans of the tree read only the planted credentials.
    common::write_files(
        repo.path(),
        &[(
            ".git/info/exclude",
            "gitleaks-report.json\n.secrets.baseline\nleakgate.sarif\n",
        )],
    );
    if staged {
        common::write_files(repo.path(), &[("staged.env", &common::env_file(72))]);
        repo.git(&["add", "staged.env"]);
    }
    repo
}

/// The exit code the README implies: a scan finds the planted credential (1) unless what it
/// shows after is a summary of none; every other command succeeds.
fn expected(words: &[String], shown: Option<&str>) -> i32 {
    let clean = shown.is_some_and(|s| s.trim_start_matches("# ").starts_with("0 secret(s)"));
    i32::from(words.get(1).is_some_and(|s| s == "scan") && !clean)
}

#[test]
fn every_offline_readme_example_runs_as_documented() {
    let text = readme();
    let blocks = blocks(&text);
    let (mut ran, mut skipped, mut configs) = (0, Vec::new(), 0);
    for block in &blocks {
        match block.lang.as_str() {
            "toml" => {
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join(".leakgate.toml");
                std::fs::write(&file, block.lines.join("\n")).unwrap();
                let out = common::leakgate()
                    .args(["rules", "check"])
                    .arg(&file)
                    .output()
                    .unwrap();
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "README.md:{}: the toml example fails `rules check`:\n{}{}",
                    block.line,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                configs += 1;
            }
            "json" if block.lines.iter().any(|l| l.contains("\"fingerprint\"")) => {
                let doc = block.lines.join("\n");
                if doc.contains("\"version\"") {
                    leakgate::baseline::Baseline::parse(Path::new("README.md"), doc.as_bytes())
                        .unwrap_or_else(|e| panic!("README.md:{}: {e}", block.line));
                }
            }
            "console" | "sh" => {
                let repo = fixture(block.lines.iter().any(|l| l.contains("--staged")));
                for ex in commands(block) {
                    // A leakgate command, alone or at the end of a pipe.
                    let Some(cmd) = ex
                        .command
                        .split('|')
                        .map(str::trim)
                        .find(|c| c.starts_with("leakgate "))
                    else {
                        // Git steps of an example run too; other programs are the reader's.
                        let w = words(&ex.command);
                        if w.first().is_some_and(|p| p == "git") {
                            let args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
                            repo.git(&args);
                        }
                        continue;
                    };
                    match plan_for(cmd, ex.line) {
                        Plan::Skip(why) => skipped.push(format!("{cmd} ({why})")),
                        Plan::Run => {
                            assert_eq!(
                                cmd, ex.command,
                                "README.md:{}: a pipe into a runnable command",
                                ex.line
                            );
                            let w = words(cmd);
                            let out = common::leakgate()
                                .current_dir(repo.path())
                                .args(&w[1..])
                                .output()
                                .unwrap();
                            let want = expected(&w, ex.shown.as_deref());
                            assert_eq!(
                                out.status.code(),
                                Some(want),
                                "README.md:{}: `{cmd}`:\n{}{}",
                                ex.line,
                                String::from_utf8_lossy(&out.stdout),
                                String::from_utf8_lossy(&out.stderr)
                            );
                            ran += 1;
                        }
                    }
                }
            }
            "" => {
                // The synopsis: every command it names is accounted for.
                for (i, l) in block.lines.iter().enumerate() {
                    if l.starts_with("leakgate ") {
                        let _ = plan_for(l, block.line + 1 + i);
                    }
                }
            }
            _ => {}
        }
    }
    // The README has these today; a parser that finds none is broken, not a README without them.
    assert!(ran >= 10, "only {ran} README commands ran");
    assert!(configs >= 1, "no toml example was checked");
    assert!(!skipped.is_empty());
}

/// The parser reads what the README writes: `$` lines, continuations, comments, quotes.
#[test]
fn the_readme_parser_reads_commands_as_written() {
    let block = Block {
        lang: "console".into(),
        lines: [
            "$ leakgate scan --history \\",
            "    --baseline b.json   # known",
            "0 secret(s) in 1 file(s)",
            "$ git commit -m \"a b\"",
        ]
        .map(String::from)
        .to_vec(),
        line: 1,
    };
    let ex = commands(&block);
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].command, "leakgate scan --history --baseline b.json");
    assert_eq!(ex[0].shown.as_deref(), Some("0 secret(s) in 1 file(s)"));
    assert_eq!(words(&ex[1].command), ["git", "commit", "-m", "a b"]);
    assert_eq!(expected(&words(&ex[0].command), ex[0].shown.as_deref()), 0);
    assert_eq!(
        expected(&words("leakgate scan"), Some("x.env:1:2: rule")),
        1
    );
}
