//! Planning, checked on the plan itself: the command line parsed as `main` parses it, then
//! planned, without spawning the binary.

use super::scan::{PushRefs, Request};
use super::*;
use crate::cli::Cli;
use clap::error::ErrorKind;
use clap::Parser;
use leakgate::scan::fs::Input;
use leakgate::verify::{RevokeAction, VerifyError};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("leakgate").chain(args.iter().copied()))
}

fn scan_args(args: &[&str]) -> crate::cli::ScanArgs {
    match parse(args).expect("parses").command {
        crate::cli::Command::Scan(a) => a,
        _ => panic!("not a scan"),
    }
}

/// The request the scan flags make, or the planning error's message.
fn request(args: &[&str]) -> Result<Request, String> {
    Request::from_args(&scan_args(args)).map_err(|e| format!("{e:#}"))
}

fn plan_of(args: &[&str]) -> Result<Plan, String> {
    plan(parse(args).expect("parses")).map_err(|e| format!("{e:#}"))
}

fn scan_plan(args: &[&str]) -> ScanPlan {
    match plan_of(args) {
        Ok(Plan::Scan(p)) => *p,
        Ok(_) => panic!("not a scan plan"),
        Err(e) => panic!("{e}"),
    }
}

fn error_of(args: &[&str]) -> String {
    match plan_of(args) {
        Ok(_) => panic!("planned, expected an error: {args:?}"),
        Err(e) => e,
    }
}

/// A folder with an empty configuration, so no `.leakgate.toml` around the test run counts.
fn folder() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".leakgate.toml"), "").unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    (dir, path)
}

/// A lowercase UUID v4 built at test time.
fn client_id() -> String {
    let hex = |n: usize, d: char| std::iter::repeat_n(d, n).collect::<String>();
    format!(
        "{}-{}-4{}-8{}-{}",
        hex(8, 'a'),
        hex(4, 'b'),
        hex(3, 'c'),
        hex(3, 'd'),
        hex(12, 'e')
    )
}

#[test]
fn a_bare_scan_reads_the_current_folder_from_disk() {
    let r = request(&["scan"]).unwrap();
    assert_eq!(r.paths, [PathBuf::from(".")]);
    assert_eq!(r.git, None);
    assert_eq!(r.stdin_name, None);
    assert_eq!(r.config_source, ConfigSource::Disk);
}

#[test]
fn git_modes_are_typed() {
    assert_eq!(
        request(&["scan", "--staged"]).unwrap().git,
        Some(GitMode::Staged)
    );
    assert_eq!(
        request(&["scan", "--history"]).unwrap().git,
        Some(GitMode::History { all_objects: false })
    );
    assert_eq!(
        request(&["scan", "--history", "--all-objects"])
            .unwrap()
            .git,
        Some(GitMode::History { all_objects: true })
    );
}

#[test]
fn a_range_implies_history_and_reads_config_from_its_base() {
    let r = request(&["scan", "--range", "main..topic", "repo"]).unwrap();
    assert_eq!(r.git, Some(GitMode::Range("main..topic".into())));
    assert_eq!(r.config_source, ConfigSource::RangeBase);
    assert_eq!(r.paths, [PathBuf::from("repo")]);
    // --history beside --range changes nothing.
    let both = request(&["scan", "--history", "--range", "a...b"]).unwrap();
    assert_eq!(both.git, Some(GitMode::Range("a...b".into())));
}

#[test]
fn pre_push_scans_the_pushed_commits_with_the_remotes_config() {
    let push = PushRefs {
        from: Some("1111111".into()),
        to: Some("2222222".into()),
        local_branch: Some("refs/heads/topic".into()),
    };
    assert_eq!(
        push.mode(),
        (GitMode::Range("1111111..2222222".into()), None)
    );
    // Planned as a range: configuration from its base, the commit the remote already has.
    let r = request(&["scan", "--pre-push"]).unwrap();
    assert!(matches!(
        r.git,
        Some(GitMode::Range(_) | GitMode::History { .. })
    ));
    if let Some(GitMode::Range(_)) = r.git {
        assert_eq!(r.config_source, ConfigSource::RangeBase);
    }
    assert!(parse(&["scan", "--pre-push", "--staged"]).is_err());
    assert!(parse(&["scan", "--pre-push", "--range", "a..b"]).is_err());
    assert!(parse(&["scan", "--history", "--pre-push"]).is_ok());
}

#[test]
fn a_push_with_a_root_commit_scans_the_whole_pushed_ref_and_says_so() {
    let push = PushRefs {
        from: None,
        to: None,
        local_branch: Some("refs/heads/main".into()),
    };
    let (mode, note) = push.mode();
    assert_eq!(mode, GitMode::Range("refs/heads/main".into()));
    let note = note.expect("a note on stderr");
    assert!(note.contains("PRE_COMMIT_FROM_REF"), "{note}");
    assert!(
        note.contains("whole history of the pushed ref refs/heads/main"),
        "{note}"
    );

    // One ref without the other is not a range either.
    let (mode, note) = PushRefs {
        from: Some("1111111".into()),
        ..PushRefs::default()
    }
    .mode();
    assert_eq!(mode, GitMode::History { all_objects: false });
    assert!(note.unwrap().contains("full history"));

    // A ref name that could be a credential is not quoted.
    let odd = format!(
        "refs/heads/{}",
        concat!("Ab1-", "Cd2-", "Ef3-", "Gh4-", "Ij5")
    );
    let (_, note) = PushRefs {
        local_branch: Some(odd.clone()),
        ..PushRefs::default()
    }
    .mode();
    assert!(!note.unwrap().contains(&odd));
}

#[test]
fn config_from_names_a_commit_or_the_disk() {
    let r = request(&["scan", "--range", "a..b", "--config-from", "worktree"]).unwrap();
    assert_eq!(r.config_source, ConfigSource::Disk);
    let r = request(&["scan", "--range", "a..b", "--config-from", " v1.2 "]).unwrap();
    assert_eq!(r.config_source, ConfigSource::Commit("v1.2".into()));
    let r = request(&["scan", "--history", "--config-from", "HEAD~3"]).unwrap();
    assert_eq!(r.config_source, ConfigSource::Commit("HEAD~3".into()));
}

#[test]
fn conflicting_git_flags_are_refused_by_the_parser() {
    for args in [
        &["scan", "--staged", "--history"][..],
        &["scan", "--staged", "--range", "a..b"],
        &["scan", "--history", "--range", "a..b", "--all-objects"],
    ] {
        let e = parse(args).expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{args:?}");
    }
    let e = parse(&["scan", "--all-objects"]).expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument);
    let e = parse(&["scan", "--verify", "--dry-run"]).expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument);
}

#[test]
fn standard_input_is_never_a_git_source() {
    for flag in [&["--history"][..], &["--staged"], &["--range", "a..b"]] {
        let mut args = vec!["scan"];
        args.extend_from_slice(flag);
        args.push("-");
        let e = request(&args).expect_err("refused");
        assert!(
            e.contains("standard input (`-`) is scanned as a file"),
            "{e}"
        );
    }
}

#[test]
fn stdin_name_needs_standard_input_and_defaults_when_absent() {
    let e = request(&["scan", "--stdin-name", "x.env", "."]).expect_err("refused");
    assert!(e.contains("--stdin-name names standard input"), "{e}");
    let r = request(&["scan", "-", "--stdin-name", "x.env"]).unwrap();
    assert_eq!(r.stdin_name.as_deref(), Some("x.env"));
    let r = request(&["scan", "-"]).unwrap();
    assert_eq!(
        r.stdin_name.as_deref(),
        Some(leakgate::scan::fs::STDIN_NAME)
    );
}

#[test]
fn a_git_scan_takes_one_repository() {
    let e = request(&["scan", "--history", "a", "b"]).expect_err("refused");
    assert!(
        e.contains("a Git scan takes one repository path, not 2"),
        "{e}"
    );
    // Folders on disk may be many.
    assert_eq!(request(&["scan", "a", "b"]).unwrap().paths.len(), 2);
}

#[test]
fn verify_flags_are_checked_against_each_other_before_anything_is_read() {
    // The path does not exist: these fail before it is looked at.
    let e = error_of(&["scan", "--audit-log", "audit.jsonl", "no/such/path"]);
    assert!(
        e.contains("--audit-log and --notify-webhook need --verify or --revoke"),
        "{e}"
    );
    let url = "https://hooks.example.com/services/abc";
    let e = error_of(&["scan", "--verify", "--notify-webhook", url, "no/such/path"]);
    assert!(e.contains("--notify-webhook needs --revoke"), "{e}");
    let plain = "http://hooks.example.com/services/abc";
    let e = error_of(&[
        "scan",
        "--revoke",
        "--notify-webhook",
        plain,
        "no/such/path",
    ]);
    assert!(e.contains("must be https"), "{e}");
    assert!(
        !e.contains("hooks.example.com"),
        "the URL is never shown: {e}"
    );
}

#[test]
fn a_missing_path_is_quoted_only_when_it_cannot_be_a_secret() {
    let e = error_of(&["scan", "no/such/path"]);
    assert!(e.contains("no/such/path: no such file or directory"), "{e}");
    let secretish = ["Zq8", "xT2", "pL9", "vB4", "mN7", "kR1"].concat();
    let e = error_of(&["scan", ".", &secretish]);
    assert!(
        e.contains("path 2 of the 2 given to scan does not exist"),
        "{e}"
    );
    assert!(!e.contains(&secretish), "{e}");
}

#[test]
fn a_tree_scan_plan_is_complete() {
    let (_dir, path) = folder();
    let p = scan_plan(&[
        "scan",
        "--format",
        "sarif",
        "-o",
        "out.sarif",
        "--no-redact",
        &path,
    ]);
    assert_eq!(
        p.source,
        Source::Tree(vec![Input::Path(PathBuf::from(&path))])
    );
    assert_eq!(p.base, PathBuf::from(&path));
    assert_eq!(p.format, leakgate::report::Format::Sarif);
    assert_eq!(p.output, Output::File(PathBuf::from("out.sarif")));
    assert!(p.report.reveal);
    assert!(!p.report.color, "auto colour never colours a file");
    assert!(p.baseline.is_none());
    assert!(matches!(p.verify, VerifyPlan::Off));
    assert!(p.notes.is_empty());
    assert!(p.matcher.rules().count() > 0);
}

#[test]
fn stdin_and_folders_become_inputs_in_order() {
    let (_dir, path) = folder();
    let p = scan_plan(&["scan", &path, "-", "--stdin-name", "piped.env"]);
    assert_eq!(
        p.source,
        Source::Tree(vec![
            Input::Path(PathBuf::from(&path)),
            Input::Stdin {
                name: "piped.env".into()
            },
        ])
    );
}

#[test]
fn max_file_size_comes_from_the_flag_else_the_config() {
    let (dir, path) = folder();
    std::fs::write(
        dir.path().join(".leakgate.toml"),
        "[scan]\nmax_file_size = 4096\n",
    )
    .unwrap();
    assert_eq!(scan_plan(&["scan", &path]).scan.max_file_size, 4096);
    let p = scan_plan(&["scan", "--max-file-size", "1K", &path]);
    assert_eq!(p.scan.max_file_size, 1024);
}

#[test]
fn revoke_plans_the_action_and_dry_run() {
    if std::env::var_os(ADMIN_ID_ENV).is_some() || std::env::var_os(ADMIN_SECRET_ENV).is_some() {
        return; // the admin client of the environment would be planned in
    }
    let (_dir, path) = folder();
    let p = scan_plan(&[
        "scan",
        "--revoke",
        "--dry-run",
        "--revoke-action",
        "rotate",
        &path,
    ]);
    let VerifyPlan::On(opts) = &p.verify else {
        panic!("revoke implies verify");
    };
    let revoke = opts.revoke.as_ref().expect("revoke planned");
    assert_eq!(revoke.action, RevokeAction::Rotate);
    assert!(revoke.dry_run);
    assert!(revoke.admin.is_none());

    let p = scan_plan(&["scan", "--verify", "--max-verify-requests", "7", &path]);
    let VerifyPlan::On(opts) = &p.verify else {
        panic!("verify planned");
    };
    assert!(opts.revoke.is_none());
    assert_eq!(opts.max_token_requests, 7);

    // A real revoke needs the admin client: refused while planning, before any scan.
    let e = ScanPlan::from_args(&scan_args(&["scan", "--revoke", &path]))
        .err()
        .unwrap();
    assert!(matches!(e.downcast_ref(), Some(VerifyError::MissingAdmin)));
}

#[test]
fn decoys_come_from_the_config_in_force() {
    let (dir, path) = folder();
    let id = client_id();
    std::fs::write(
        dir.path().join(".leakgate.toml"),
        format!("[genesys]\ndecoy_client_ids = [\"{id}\"]\n"),
    )
    .unwrap();
    let p = scan_plan(&["scan", "--verify", &path]);
    let VerifyPlan::On(opts) = &p.verify else {
        panic!("verify planned");
    };
    assert_eq!(opts.providers.genesys.decoy_client_ids, [id]);
}

#[test]
fn a_baseline_is_read_while_planning() {
    let (dir, path) = folder();
    let file = dir.path().join("base.json");
    let e = error_of(&["scan", "--baseline", file.to_str().unwrap(), &path]);
    assert!(e.contains("base.json"), "{e}");
    let empty = leakgate::baseline::Baseline::from_entries(Vec::new());
    let mut bytes = Vec::new();
    empty.write(&mut bytes).unwrap();
    std::fs::write(&file, bytes).unwrap();
    let p = scan_plan(&["scan", "--baseline", file.to_str().unwrap(), &path]);
    assert_eq!(p.baseline.map(|b| b.len()), Some(0));
}

#[test]
fn baseline_create_keeps_the_old_baseline_and_never_verifies() {
    let e = error_of(&["baseline", "create", "--verify", "."]);
    assert!(
        e.contains("`baseline create` records findings without verifying them"),
        "{e}"
    );
    let (dir, path) = folder();
    let file = dir.path().join("old.json");
    let mut bytes = Vec::new();
    leakgate::baseline::Baseline::from_entries(Vec::new())
        .write(&mut bytes)
        .unwrap();
    std::fs::write(&file, bytes).unwrap();
    let Ok(Plan::BaselineCreate(p)) = plan_of(&[
        "baseline",
        "create",
        "--baseline",
        file.to_str().unwrap(),
        &path,
    ]) else {
        panic!("a baseline plan");
    };
    assert!(p.keep.is_some(), "the old entries are kept");
    assert!(p.scan.baseline.is_none(), "and suppress nothing");
    assert!(matches!(p.scan.verify, VerifyPlan::Off));
}

#[test]
fn verify_command_plans_one_credential_without_reading_the_secret() {
    let (dir, _path) = folder();
    let config = dir.path().join(".leakgate.toml");
    let config = config.to_str().unwrap();
    let e = error_of(&["verify", "--client-id", "not-a-uuid", "--config", config]);
    assert!(e.contains("--client-id must be a Genesys client id"), "{e}");
    let id = client_id().to_ascii_uppercase();
    let Ok(Plan::Verify(p)) = plan_of(&[
        "verify",
        "--client-id",
        &id,
        "--region",
        "eu-west-1",
        "--secret-env",
        "MY_SECRET",
        "--config",
        config,
    ]) else {
        panic!("a verify plan");
    };
    assert_eq!(p.client_id, client_id(), "trimmed and lower-cased");
    assert_eq!(p.region, Some("mypurecloud.ie"));
    assert_eq!(p.secret, SecretSource::Env("MY_SECRET".into()));
    assert_eq!(p.format, Print::Text);
    assert!(p.options.revoke.is_none());
    let Ok(Plan::Verify(p)) =
        plan_of(&["verify", "--client-id", &id, "--json", "--config", config])
    else {
        panic!("a verify plan");
    };
    assert_eq!(p.secret, SecretSource::Stdin);
    assert_eq!(p.format, Print::Json);
}

#[test]
fn install_hook_and_rules_plans() {
    let Ok(Plan::InstallHook(p)) = plan_of(&["install-hook", "--force", "repo"]) else {
        panic!("an install-hook plan");
    };
    assert_eq!(
        p,
        InstallHookPlan {
            start: PathBuf::from("repo"),
            foreign_hook: ForeignHook::Replace
        }
    );
    let Ok(Plan::InstallHook(p)) = plan_of(&["install-hook"]) else {
        panic!("an install-hook plan");
    };
    assert_eq!(p.foreign_hook, ForeignHook::Keep);
    assert_eq!(p.start, PathBuf::from("."));

    let Ok(Plan::Rules(RulesPlan::Check(source))) = plan_of(&["rules", "check"]) else {
        panic!("a rules plan");
    };
    assert_eq!(source, RuleSource::Builtin);
    let Ok(Plan::Rules(RulesPlan::Check(source))) = plan_of(&["rules", "check", "a.toml"]) else {
        panic!("a rules plan");
    };
    assert_eq!(source, RuleSource::Files(vec![PathBuf::from("a.toml")]));
}

/// `genesys` commands check their flags before reading the environment; no message quotes a
/// value (one pasted into the wrong flag may be a secret).
#[test]
fn genesys_flags_are_checked_without_quoting_values() {
    let id = ["5c90a958", "7403", "4430", "ac66", "a78795e761d1"].join("-");
    let pasted = ["Qx7mK2pLw9v", "Tn4rZs8yHb3", "cFd6gJk1ePa", "5uRq0iVo2"].concat() + "w";
    let e = plan_of(&[
        "genesys",
        "rotate",
        "--region",
        "ie",
        "--client-id",
        &pasted,
        "--secret-stdout",
    ])
    .err()
    .unwrap();
    assert!(
        e.contains("--client-id must be") && !e.contains(&pasted),
        "{e}"
    );
    let e = plan_of(&["genesys", "rotate", "--region", "ie", "--client-id", &id])
        .err()
        .unwrap();
    assert!(
        e.contains("say where the new secret goes") && e.contains("--to-command"),
        "{e}"
    );
    let e = plan_of(&[
        "genesys",
        "decoy",
        "rotate",
        "--region",
        "ie",
        "--client-id",
        &id,
    ])
    .err()
    .unwrap();
    assert!(!e.contains("--to-command"), "decoys take no hook: {e}");
    let e = plan_of(&[
        "genesys",
        "rotate",
        "--region",
        "ie",
        "--client-id",
        &id,
        "--secret-stdout",
        "--secret-out",
        "f",
    ])
    .err()
    .unwrap();
    assert!(e.contains("only one"), "{e}");
    let e = plan_of(&["genesys", "audit", "--region", &pasted])
        .err()
        .unwrap();
    assert!(
        e.contains("not a Genesys region") && !e.contains(&pasted),
        "{e}"
    );
    let e = plan_of(&[
        "genesys",
        "decoy",
        "create",
        "--region",
        "ie",
        "--role-id",
        "../x",
        "--secret-stdout",
    ])
    .err()
    .unwrap();
    assert!(e.contains("--role-id"), "{e}");
}
