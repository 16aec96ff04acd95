//! One finding per secret: the same secret in many versions, files and commits is one finding,
//! led by the place introduced first, with its other places counted (JSON `places`, `commits`),
//! listed (JSON `occurrences`, text `--all-locations`, SARIF `relatedLocations`, bounded), and
//! every place on its own with `--no-group`. Repositories are built at test time; secrets are
//! generated, and no output of any run may show one.

use crate::common;
use common::{env_file, findings, genesys_env, github_token, leakgate, paths, validate_sarif};
use common::{write_files, Repo};
use serde_json::{json, Value};
use std::path::Path;

/// What one run printed, checked to hold no secret of `secrets`.
struct Run {
    code: i32,
    stdout: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// Run `leakgate args` in `dir`, asserting that neither stdout nor stderr shows any of
/// `secrets` past the four characters redaction keeps.
fn run(dir: &Path, args: &[&str], secrets: &[&str]) -> Run {
    let out = leakgate()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run leakgate");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    for secret in secrets {
        let hidden = &secret[4..];
        assert!(
            !stdout.contains(hidden) && !stderr.contains(hidden),
            "{args:?} shows a secret:\n{stdout}\n{stderr}"
        );
    }
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout,
    }
}

/// The one finding of `doc`.
fn only(doc: &Value) -> &Value {
    match findings(doc).as_slice() {
        [f] => f,
        other => panic!("{} findings: {doc:#}", other.len()),
    }
}

/// `(path, line, commit)` of each occurrence of `f`.
fn occurrences(f: &Value) -> Vec<(&str, u64, Option<&str>)> {
    f["occurrences"]
        .as_array()
        .expect("occurrences")
        .iter()
        .map(|o| {
            (
                o["path"].as_str().unwrap(),
                o["line"].as_u64().unwrap(),
                o["commit"].as_str(),
            )
        })
        .collect()
}

/// The summary: the last line of a text report.
fn summary(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

#[test]
fn thirty_versions_of_a_file_are_one_finding_led_by_the_first() {
    let repo = Repo::initial();
    let secret = common::genesys_secret(101);
    let version = |i: usize| format!("REVISION={i}\n{}", env_file(101));
    // The first version by someone else, so the finding names who introduced the secret.
    write_files(repo.path(), &[("app.env", &version(0))]);
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        "the secret arrives",
        "--author=First Author <first@example.com>",
    ]);
    let mut ids = vec![repo.git(&["rev-parse", "HEAD"]).trim().to_string()];
    for i in 1..30 {
        ids.push(repo.commit(&[("app.env", &version(i))], &format!("revision {i}")));
    }
    let dir = repo.path();
    let secrets = [secret.as_str()];

    let r = run(dir, &["scan", "--history", "--format", "json"], &secrets);
    assert_eq!(r.code, 1);
    let doc = r.json();
    let f = only(&doc);
    assert_eq!(f["rule_id"], "genesys-client-secret");
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("app.env"), Some(3))
    );
    assert_eq!(f["commit"], ids[0].as_str());
    assert_eq!(f["author"], "First Author");
    assert_eq!(f["email"], "first@example.com");
    assert_eq!(
        (f["places"].as_u64(), f["commits"].as_u64()),
        (Some(30), Some(30))
    );
    // The other 29, parents first, each in the commit that made it.
    let expected: Vec<_> = ids[1..]
        .iter()
        .map(|id| ("app.env", 3, Some(id.as_str())))
        .collect();
    assert_eq!(occurrences(f), expected);

    // Each place on its own: 30 findings, one per commit, none with other places.
    let r = run(
        dir,
        &["scan", "--history", "--format", "json", "--no-group"],
        &secrets,
    );
    let doc = r.json();
    let mut commits: Vec<_> = findings(&doc)
        .iter()
        .inspect(|f| {
            assert_eq!((&f["places"], &f["occurrences"]), (&json!(1), &json!([])));
        })
        .map(|f| f["commit"].as_str().unwrap().to_string())
        .collect();
    commits.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(commits, all);

    // Text: counted, not listed; the summary speaks of blobs and commits.
    let r = run(dir, &["scan", "--history"], &secrets);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(&format!(
            "    commit {} by First Author <first@example.com> on ",
            ids[0]
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("    also in 29 other place(s) (introduced by 30 commit(s) in all)\n"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("      app.env:3:29"), "{}", r.stdout);
    assert!(
        summary(&r.stdout)
            .starts_with("1 secret(s) at 30 place(s) in 31 blob(s) of 31 commit(s), "),
        "{}",
        r.stdout
    );
    let r = run(dir, &["scan", "--history", "--all-locations"], &secrets);
    for id in &ids[1..] {
        let line = format!("\n      app.env:3:29 in commit {id}\n");
        assert!(r.stdout.contains(&line), "{line:?} in {}", r.stdout);
    }

    // SARIF: one result; the 29 others related, each naming its commit; valid by the schema.
    let r = run(dir, &["scan", "--history", "--format", "sarif"], &secrets);
    let sarif = r.json();
    validate_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let [result] = results.as_slice() else {
        panic!("{sarif:#}")
    };
    assert_eq!(result["properties"]["places"], 30);
    assert_eq!(result["properties"]["commits"], 30);
    assert_eq!(result["properties"]["commit"], ids[0].as_str());
    let related = result["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 29);
    for (loc, id) in related.iter().zip(&ids[1..]) {
        assert_eq!(
            loc["message"]["text"],
            format!("also here (commit {})", &id[..12])
        );
        assert_eq!(loc["properties"]["commit"], id.as_str());
        let place = &loc["physicalLocation"];
        assert_eq!(place["artifactLocation"]["uri"], "app.env");
        assert_eq!(place["region"]["startLine"], 3);
    }
    let location_ids: Vec<_> = related.iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(location_ids, (1..=29).collect::<Vec<_>>());
}

#[test]
fn a_secret_moved_renamed_removed_and_added_back_is_one_finding() {
    let repo = Repo::initial();
    let secret = common::genesys_secret(102);
    let env = env_file(102);
    let moved = format!("# moved\n{env}");
    let renamed = format!("# moved and renamed\n{env}");
    let c1 = repo.commit(&[("a.env", &env)], "add a.env");
    let c2 = repo.commit(
        &[("a.env", "OTHER=1\n"), ("b.env", &moved)],
        "move to b.env",
    );
    std::fs::remove_file(repo.path().join("b.env")).unwrap();
    let c3 = repo.commit(&[("c.env", &renamed)], "rename b.env to c.env");
    repo.commit(&[("c.env", "# moved and renamed\n")], "remove the secret");
    // Put back as it was (a revert: the very blob of c3), then once more elsewhere.
    repo.commit(&[("c.env", &renamed)], "add it back");
    let c6 = repo.commit(&[("d.env", &format!("X=1\nY=2\n{env}"))], "and in d.env");
    let (dir, secrets) = (repo.path(), [secret.as_str()]);

    let doc = run(dir, &["scan", "--history", "--format", "json"], &secrets).json();
    let f = only(&doc);
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("a.env"), Some(2))
    );
    assert_eq!(f["commit"], c1.as_str());
    assert_eq!(
        (f["places"].as_u64(), f["commits"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(
        occurrences(f),
        [
            ("b.env", 3, Some(c2.as_str())),
            ("c.env", 3, Some(c3.as_str())),
            ("d.env", 4, Some(c6.as_str())),
        ]
    );
    // The revert brought back c3's blob: no new place, but that version of c.env is in the two
    // commits since (the revert and the last one) as well.
    assert_eq!(f["occurrences"][1]["other_commits"], 2);
    let r = run(dir, &["scan", "--history", "--all-locations"], &secrets);
    let line =
        format!("\n      c.env:3:29 in commit {c3}; this version also in 2 other commit(s)\n");
    assert!(r.stdout.contains(&line), "{line:?} in {}", r.stdout);

    let doc = run(
        dir,
        &["scan", "--history", "--format", "json", "--no-group"],
        &secrets,
    )
    .json();
    assert_eq!(paths(&doc), ["a.env", "b.env", "c.env", "d.env"]);
}

#[test]
fn the_same_secret_in_two_files_of_a_tree_is_one_finding_with_two_places() {
    let dir = tempfile::tempdir().unwrap();
    let secret = common::genesys_secret(103);
    let copy = format!("# copy\n{}", genesys_env(103));
    write_files(
        dir.path(),
        &[("app.env", &genesys_env(103)), ("deploy/prod.env", &copy)],
    );
    let (dir, secrets) = (dir.path(), [secret.as_str()]);

    let r = run(dir, &["scan", "--format", "json"], &secrets);
    assert_eq!(r.code, 1);
    let doc = r.json();
    let f = only(&doc);
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("app.env"), Some(3))
    );
    assert_eq!((&f["places"], &f["commits"]), (&json!(2), &Value::Null));
    assert_eq!(
        f["occurrences"],
        json!([{"path": "deploy/prod.env", "line": 4, "column": 29, "end_line": 4,
                "end_column": 72, "commit": null}])
    );

    let r = run(dir, &["scan", "--format", "json", "--no-group"], &secrets);
    let doc = r.json();
    assert_eq!(paths(&doc), ["app.env", "deploy/prod.env"]);
    for f in findings(&doc) {
        assert_eq!((&f["places"], &f["occurrences"]), (&json!(1), &json!([])));
    }

    // Text: the other place counted (no commits outside Git), listed only when asked.
    let grouped = run(dir, &["scan"], &secrets).stdout;
    assert!(
        grouped.contains("\n    also in 1 other place(s)\n"),
        "{grouped}"
    );
    assert!(!grouped.contains("deploy/prod.env"), "{grouped}");
    let listed = run(dir, &["scan", "--all-locations"], &secrets).stdout;
    assert!(
        listed.contains("\n      deploy/prod.env:4:29\n"),
        "{listed}"
    );
    let apart = run(dir, &["scan", "--no-group"], &secrets).stdout;
    assert!(apart.contains("\ndeploy/prod.env:4:29: "), "{apart}");
    assert!(!apart.contains("also in"), "{apart}");
    // The summary is the same either way: one secret, two places, two files.
    for text in [&grouped, &listed, &apart] {
        assert!(
            summary(text).starts_with("1 secret(s) at 2 place(s) in 2 file(s), "),
            "{text}"
        );
    }
}

#[test]
fn sarif_lists_at_most_the_bound_of_related_locations_and_counts_them_all() {
    use leakgate::report::MAX_RELATED_LOCATIONS as MAX;
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(107);
    let body: String = (0..30).map(|_| rng.alphanumeric()).collect();
    let token = github_token(&body);
    let lines: String = (0..MAX + 30)
        .map(|i| format!("token_{i} = \"{token}\"\n"))
        .collect();
    write_files(dir.path(), &[("tokens.py", &lines)]);
    let r = run(
        dir.path(),
        &["scan", "--format", "sarif"],
        &[token.as_str()],
    );
    assert_eq!(r.code, 1);
    let sarif = r.json();
    validate_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let [result] = results.as_slice() else {
        panic!("{sarif:#}")
    };
    assert_eq!(result["properties"]["places"], MAX + 30);
    assert!(
        result["properties"].get("commits").is_none(),
        "no commits outside Git"
    );
    let text = result["message"]["text"].as_str().unwrap();
    assert!(
        text.ends_with(&format!(
            " Also in {} other place(s), the first {MAX} listed as related locations.",
            MAX + 29
        )),
        "{text}"
    );
    let related = result["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), MAX);
    for (i, loc) in related.iter().enumerate() {
        assert_eq!(loc["id"], i + 1);
        assert_eq!(loc["message"]["text"], "also here");
        assert_eq!(loc["physicalLocation"]["region"]["startLine"], i + 2);
    }
}

#[cfg(unix)]
#[test]
fn listed_places_are_escaped_like_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let secret = common::genesys_secret(104);
    let crafted = "z\u{1b}[2J\rforged.env:1:1: ok\n.env";
    write_files(
        dir.path(),
        &[("a.env", &genesys_env(104)), (crafted, &genesys_env(104))],
    );
    let r = run(dir.path(), &["scan", "--all-locations"], &[secret.as_str()]);
    assert_eq!(r.code, 1);
    let shown = "\n      z\\x1b[2J\\rforged.env:1:1: ok\\n.env:3:29\n";
    assert!(r.stdout.contains(shown), "{:?}", r.stdout);
    assert!(!r.stdout.contains(['\u{1b}', '\r']), "{:?}", r.stdout);
    assert!(
        !r.stdout.lines().any(|l| l.starts_with("forged")),
        "{}",
        r.stdout
    );
    // JSON keeps the name exact (its own escaping makes it safe).
    let doc = run(
        dir.path(),
        &["scan", "--format", "json"],
        &[secret.as_str()],
    )
    .json();
    assert_eq!(only(&doc)["occurrences"][0]["path"], crafted);
}

#[test]
fn summaries_say_what_was_read() {
    let repo = Repo::initial();
    let secrets = [101, 105, 106].map(common::genesys_secret);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    repo.commit(&[("app.env", &genesys_env(105))], "one secret");
    let dir = repo.path();
    let said = |args: &[&str]| {
        let r = run(dir, args, &secrets);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stdout);
        summary(&r.stdout).to_string()
    };
    let tree = said(&["scan"]);
    assert!(tree.starts_with("1 secret(s) in 2 file(s), "), "{tree}");
    let history = said(&["scan", "--history"]);
    assert!(
        history.starts_with("1 secret(s) in 2 blob(s) of 2 commit(s), "),
        "{history}"
    );
    repo.commit(
        &[("b.env", &format!("# b\n{}", genesys_env(106)))],
        "another",
    );
    let range = said(&["scan", "--history", "--range", "HEAD~1..HEAD"]);
    assert!(
        range.starts_with("1 secret(s) in 1 blob(s) introduced by 1 commit(s), "),
        "{range}"
    );
    write_files(dir, &[("c.env", &format!("# c\n{}", genesys_env(101)))]);
    repo.git(&["add", "c.env"]);
    let staged = said(&["scan", "--staged"]);
    assert!(
        staged.starts_with("1 secret(s) in 1 staged blob(s), "),
        "{staged}"
    );
}
