//! The GitHub Action: read `action.yml`, run its shell steps in order as a runner would (inputs
//! and expressions substituted, `GITHUB_*` variables and an event payload set, step outputs and
//! `GITHUB_PATH` carried between steps) in a temporary repository, with the built binary first on
//! PATH so the install step is skipped. `uses:` steps cannot run here; their inputs are checked,
//! and actions/cache/restore and save can be played by a [`FakeCache`].

use crate::common;
use common::{commit, env_file};

use common::{git, git_init, write_files};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use yaml_rust2::{Yaml, YamlLoader};

const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

// The actions action.yml uses, pinned by commit (zizmor's unpinned-uses): v4.3.0 and v4.36.2.
const CACHE_RESTORE: &str = "actions/cache/restore@0057852bfaa89a56745cba8c7296529d2fc39830";
const CACHE_SAVE: &str = "actions/cache/save@0057852bfaa89a56745cba8c7296529d2fc39830";
const UPLOAD_SARIF: &str =
    "github/codeql-action/upload-sarif@8aad20d150bbac5944a9f9d289da16a4b0d87c1e";

fn action_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> Yaml {
    let text = std::fs::read_to_string(action_dir().join("action.yml")).unwrap();
    YamlLoader::load_from_str(&text)
        .expect("action.yml parses")
        .remove(0)
}

fn steps(action: &Yaml) -> &Vec<Yaml> {
    action["runs"]["steps"].as_vec().expect("runs.steps")
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn map(y: &Yaml) -> BTreeMap<String, String> {
    y.as_hash()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (scalar(k).unwrap(), scalar(v).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A small evaluator for the expressions action.yml uses: contexts, string literals, `==`, `!=`,
// `!`, `&&`, `||`, parentheses and the status functions. Anything else panics, so a typo in
// action.yml fails the test rather than evaluating to an empty string.

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Bool(bool),
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Bool(b) => *b,
            Val::Str(s) => !s.is_empty(),
        }
    }
    fn text(&self) -> String {
        match self {
            Val::Bool(b) => b.to_string(),
            Val::Str(s) => s.clone(),
        }
    }
}

/// What expressions can see.
struct Context<'a> {
    inputs: &'a BTreeMap<String, String>,
    outputs: &'a BTreeMap<String, BTreeMap<String, String>>,
    outcomes: &'a BTreeMap<String, String>,
    job_failed: bool,
    values: &'a BTreeMap<String, String>,
}

impl Context<'_> {
    fn lookup(&self, path: &str) -> String {
        let parts: Vec<&str> = path.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self
                .inputs
                .get(*name)
                .cloned()
                .unwrap_or_else(|| panic!("action.yml uses undeclared input {name}")),
            ["steps", id, "outputs", name] => self
                .outputs
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            ["steps", id, "outcome" | "conclusion"] => {
                self.outcomes.get(*id).cloned().unwrap_or_default()
            }
            _ => self
                .values
                .get(path)
                .cloned()
                .unwrap_or_else(|| panic!("unknown context {path} in action.yml")),
        }
    }

    fn eval(&self, expr: &str) -> Val {
        let tokens = tokenize(expr);
        let mut p = Parser {
            tokens: &tokens,
            pos: 0,
            cx: self,
        };
        let v = p.or();
        assert_eq!(p.pos, tokens.len(), "trailing tokens in {expr:?}");
        v
    }

    /// An `if:` condition; without a status function, `success() && (...)` is implied.
    fn condition(&self, cond: Option<&str>) -> bool {
        let Some(cond) = cond else {
            return !self.job_failed;
        };
        let cond = cond.trim();
        let cond = cond
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(cond);
        let has_status = ["always()", "success()", "failure()", "cancelled()"]
            .iter()
            .any(|f| cond.contains(f));
        let v = self.eval(cond).truthy();
        if has_status {
            v
        } else {
            v && !self.job_failed
        }
    }

    /// Substitute every `${{ ... }}` in `text`.
    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed ${{") + start;
            out.push_str(&self.eval(&rest[start + 3..end]).text());
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Op(&'static str),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut lit = String::new();
            i += 1;
            loop {
                assert!(i < b.len(), "unterminated string in {s:?}");
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        lit.push('\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                lit.push(b[i] as char);
                i += 1;
            }
            out.push(Tok::Str(lit));
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < b.len()
                && ((b[i] as char).is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-' | b'.'))
            {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_string()));
        } else {
            let op = ["==", "!=", "&&", "||", "!", "(", ")"]
                .into_iter()
                .find(|op| s[i..].starts_with(op))
                .unwrap_or_else(|| panic!("unsupported expression {s:?}"));
            out.push(Tok::Op(op));
            i += op.len();
        }
    }
    out
}

struct Parser<'t, 'c> {
    tokens: &'t [Tok],
    pos: usize,
    cx: &'c Context<'c>,
}

impl Parser<'_, '_> {
    fn eat(&mut self, op: &str) -> bool {
        if self.tokens.get(self.pos)
            == Some(&Tok::Op(match op {
                "==" => "==",
                "!=" => "!=",
                "&&" => "&&",
                "||" => "||",
                "!" => "!",
                "(" => "(",
                ")" => ")",
                _ => unreachable!(),
            }))
        {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn or(&mut self) -> Val {
        let mut v = self.and();
        while self.eat("||") {
            let r = self.and();
            v = if v.truthy() { v } else { r };
        }
        v
    }
    fn and(&mut self) -> Val {
        let mut v = self.cmp();
        while self.eat("&&") {
            let r = self.cmp();
            v = if v.truthy() { r } else { v };
        }
        v
    }
    fn cmp(&mut self) -> Val {
        let l = self.unary();
        // String comparison in GitHub expressions ignores case.
        if self.eat("==") {
            let r = self.unary();
            return Val::Bool(l.text().eq_ignore_ascii_case(&r.text()));
        }
        if self.eat("!=") {
            let r = self.unary();
            return Val::Bool(!l.text().eq_ignore_ascii_case(&r.text()));
        }
        l
    }
    fn unary(&mut self) -> Val {
        if self.eat("!") {
            return Val::Bool(!self.unary().truthy());
        }
        if self.eat("(") {
            let v = self.or();
            assert!(self.eat(")"), "missing )");
            return v;
        }
        match self.tokens.get(self.pos).cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Val::Str(s)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.eat("(") {
                    assert!(self.eat(")"), "functions take no arguments here: {name}");
                    return Val::Bool(match name.as_str() {
                        "always" => true,
                        "success" => !self.cx.job_failed,
                        "failure" => self.cx.job_failed,
                        "cancelled" => false,
                        _ => panic!("unsupported function {name}()"),
                    });
                }
                match name.as_str() {
                    "true" => Val::Bool(true),
                    "false" => Val::Bool(false),
                    _ => Val::Str(self.cx.lookup(&name)),
                }
            }
            t => panic!("unexpected token {t:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The runner.

/// A `uses:` step the runner would have run, with its `with:` inputs evaluated.
#[derive(Debug)]
struct UsesStep {
    /// The step's `id:`.
    id: String,
    uses: String,
    with: BTreeMap<String, String>,
}

/// What a run of the action did.
#[derive(Debug)]
struct ActionRun {
    /// Outcome per step id (or name): success, failure or skipped.
    outcomes: BTreeMap<String, String>,
    /// Outputs per step id.
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The action's outputs, evaluated.
    action_outputs: BTreeMap<String, String>,
    /// The `uses:` steps whose condition held.
    used: Vec<UsesStep>,
    /// True when a step failed: the job fails.
    failed: bool,
    /// Everything the steps printed.
    log: String,
    workspace: PathBuf,
    /// The event the run was for.
    event: String,
    /// The key of the entry a [`FakeCache`] restored, if any.
    restored: Option<String>,
    /// The folders the steps added to `GITHUB_PATH`, in order.
    added_path: Vec<PathBuf>,
    /// What the steps wrote to `GITHUB_STEP_SUMMARY`.
    summary: String,
    /// The runner's folder (`RUNNER_TEMP` is `_temp` in it), kept until the run is dropped.
    runner: tempfile::TempDir,
}

impl ActionRun {
    fn output(&self, name: &str) -> &str {
        self.action_outputs
            .get(name)
            .map_or_else(|| panic!("no action output {name}"), String::as_str)
    }

    fn sarif(&self) -> Value {
        let path = self.workspace.join(self.output("sarif-file"));
        let doc: Value = serde_json::from_slice(
            &std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), self.log)),
        )
        .unwrap();
        common::validate_sarif(&doc);
        doc
    }

    /// The paths of the SARIF results, sorted.
    fn sarif_paths(&self) -> Vec<String> {
        let doc = self.sarif();
        let mut paths: Vec<String> = doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        paths.sort();
        paths
    }

    fn upload(&self) -> Option<&UsesStep> {
        self.uses("github/codeql-action/upload-sarif@")
    }

    /// The `uses:` step that ran whose action starts with `prefix`.
    fn uses(&self, prefix: &str) -> Option<&UsesStep> {
        self.used.iter().find(|u| u.uses.starts_with(prefix))
    }

    /// The `uses:` step that ran with this `id:`.
    fn step(&self, id: &str) -> Option<&UsesStep> {
        self.used.iter().find(|u| u.id == id)
    }

    fn restore(&self) -> Option<&UsesStep> {
        self.step("scan-cache-restore")
    }

    fn save(&self) -> Option<&UsesStep> {
        self.step("scan-cache-save")
    }

    /// Whether any step of the source build's cache ran.
    fn build_cache_used(&self) -> bool {
        self.step("build-cache").is_some() || self.step("build-cache-save").is_some()
    }

    /// The value given to `--cache` on the logged command line, if any.
    fn cache_arg(&self) -> Option<String> {
        let line = self
            .log
            .lines()
            .find(|l| l.starts_with("+ leakgate scan"))?;
        let mut words = line.split(' ');
        words.find(|w| *w == "--cache")?;
        words.next().map(str::to_string)
    }
}

/// actions/cache as the service behaves for one branch: entries are never overwritten; a
/// restore takes the exact key, else the newest entry whose key starts with a restore key.
#[derive(Default)]
struct FakeCache {
    /// (key, content), oldest first.
    entries: RefCell<Vec<(String, Vec<u8>)>>,
}

impl FakeCache {
    fn put(&self, key: &str, content: &[u8]) {
        let mut entries = self.entries.borrow_mut();
        if !entries.iter().any(|(k, _)| k == key) {
            entries.push((key.to_string(), content.to_vec()));
        }
    }

    fn keys(&self) -> Vec<String> {
        self.entries
            .borrow()
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Play a restore step: write the entry found to `path`; the key it was stored under.
    fn restore(&self, with: &BTreeMap<String, String>) -> Option<String> {
        let entries = self.entries.borrow();
        let prefixes: Vec<&str> = with
            .get("restore-keys")
            .map(|r| r.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
            .unwrap_or_default();
        let (key, content) = entries
            .iter()
            .rev()
            .find(|(k, _)| *k == with["key"])
            .or_else(|| {
                prefixes
                    .iter()
                    .find_map(|p| entries.iter().rev().find(|(k, _)| k.starts_with(p)))
            })?;
        let path = Path::new(&with["path"]);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        Some(key.clone())
    }

    /// Play a save step: store `path` under `key` when the file exists (else the real action
    /// only warns).
    fn save(&self, with: &BTreeMap<String, String>) {
        if let Ok(content) = std::fs::read(&with["path"]) {
            self.put(&with["key"], &content);
        }
    }
}

/// How the runner differs from the default one.
#[derive(Default)]
struct RunOptions<'a> {
    /// Instead of the test's PATH (after the built binary's folder).
    path: Option<Vec<PathBuf>>,
    /// Leave the built binary's folder off PATH, so the action installs leakgate.
    no_built_binary: bool,
    /// Plays the cache steps; without it they only have their inputs checked.
    cache: Option<&'a FakeCache>,
    /// `github.action_ref`: the ref in `uses: owner/repo@ref` (empty for a local action).
    action_ref: &'a str,
    /// More environment, after the runner's own (e.g. `RUNNER_OS`, `LEAKGATE_RELEASE_BASE_URL`).
    env: Vec<(&'a str, String)>,
    /// Stop after the step with this id.
    until: Option<&'a str>,
}

/// A run id no other run of this test process has, as GitHub gives every workflow run.
fn next_run_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1000);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// What the runner sets `GITHUB_REF` to for `payload`: the pushed ref, a pull request's merge
/// ref, else the default branch (schedule, workflow_dispatch).
fn github_ref(payload: &Value) -> String {
    if let Some(r) = payload["ref"].as_str() {
        return r.to_string();
    }
    if let Some(n) = payload["pull_request"]["number"].as_u64() {
        return format!("refs/pull/{n}/merge");
    }
    "refs/heads/main".to_string()
}

/// Run the action's steps in `workspace` for `event` with `payload` and `inputs`.
fn run_action(workspace: &Path, event: &str, payload: Value, inputs: &[(&str, &str)]) -> ActionRun {
    run_action_with(workspace, event, payload, inputs, RunOptions::default())
}

/// [`run_action`] on a runner set up as `options` say.
fn run_action_with(
    workspace: &Path,
    event: &str,
    payload: Value,
    inputs: &[(&str, &str)],
    options: RunOptions,
) -> ActionRun {
    let github_ref = github_ref(&payload);
    let action = action();
    let runner = tempfile::tempdir().unwrap();
    let temp = runner.path().join("_temp");
    std::fs::create_dir_all(&temp).unwrap();
    let event_path = runner.path().join("event.json");
    std::fs::write(&event_path, serde_json::to_vec_pretty(&payload).unwrap()).unwrap();
    let summary = runner.path().join("summary.md");
    let path_file = runner.path().join("path.txt");
    std::fs::write(&path_file, "").unwrap();

    let mut all_inputs = BTreeMap::new();
    for (name, spec) in action["inputs"].as_hash().unwrap() {
        let name = scalar(name).unwrap();
        all_inputs.insert(name, scalar(&spec["default"]).unwrap_or_default());
    }
    for (k, v) in inputs {
        assert!(all_inputs.contains_key(*k), "action.yml has no input {k}");
        all_inputs.insert(k.to_string(), v.to_string());
    }

    let bin_dir = Path::new(env!("CARGO_BIN_EXE_leakgate"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut path_entries = if options.no_built_binary {
        Vec::new()
    } else {
        vec![bin_dir]
    };
    path_entries.extend(
        options
            .path
            .unwrap_or_else(|| std::env::split_paths(&std::env::var_os("PATH").unwrap()).collect()),
    );

    let action_path = action_dir();
    let values: BTreeMap<String, String> = [
        ("github.action_path", action_path.to_str().unwrap()),
        ("github.action_ref", options.action_ref),
        ("github.workspace", workspace.to_str().unwrap()),
        ("github.event_name", event),
        ("github.event_path", event_path.to_str().unwrap()),
        ("github.token", "test-token"),
        ("runner.temp", temp.to_str().unwrap()),
        ("runner.os", "Linux"),
        ("runner.arch", "X64"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let repo_dir = workspace.join(&all_inputs["path"]);
    // A `path` that is no repository is the action's error to report.
    let head = if repo_dir.join(".git").exists() {
        git(&repo_dir, &["rev-parse", "HEAD"]).trim().to_string()
    } else {
        String::new()
    };
    let base_env: Vec<(&str, String)> = vec![
        ("CI", "true".into()),
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_ACTION_PATH", action_path.display().to_string()),
        ("GITHUB_WORKSPACE", workspace.display().to_string()),
        ("GITHUB_EVENT_NAME", event.into()),
        ("GITHUB_EVENT_PATH", event_path.display().to_string()),
        ("GITHUB_SHA", head),
        ("GITHUB_REF", github_ref),
        ("GITHUB_RUN_ID", next_run_id()),
        ("GITHUB_RUN_ATTEMPT", "1".into()),
        ("GITHUB_JOB", "secrets".into()),
        ("GITHUB_REPOSITORY", "example/app".into()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ("GITHUB_PATH", path_file.display().to_string()),
        ("RUNNER_TEMP", temp.display().to_string()),
        ("RUNNER_OS", "Linux".into()),
        ("RUNNER_ARCH", "X64".into()),
        ("NO_COLOR", "1".into()),
        ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ("GIT_CONFIG_GLOBAL", "/dev/null".into()),
    ];

    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    let mut used = Vec::new();
    let mut failed = false;
    let mut log = String::new();
    let mut restored = None;
    let mut added_path = Vec::new();

    let mut done = false;
    for (i, step) in steps(&action).iter().enumerate() {
        if done {
            break;
        }
        let id = scalar(&step["id"])
            .or_else(|| scalar(&step["name"]))
            .unwrap_or_else(|| format!("step{i}"));
        done = options.until == Some(id.as_str());
        let cx = Context {
            inputs: &all_inputs,
            outputs: &outputs,
            outcomes: &outcomes,
            job_failed: failed,
            values: &values,
        };
        if !cx.condition(scalar(&step["if"]).as_deref()) {
            outcomes.insert(id, "skipped".into());
            continue;
        }
        if let Some(uses) = scalar(&step["uses"]) {
            let with: BTreeMap<String, String> = map(&step["with"])
                .into_iter()
                .map(|(k, v)| (k, cx.substitute(&v)))
                .collect();
            if let Some(cache) = options.cache {
                match id.as_str() {
                    "scan-cache-restore" => restored = cache.restore(&with),
                    "scan-cache-save" => cache.save(&with),
                    _ => {}
                }
            }
            used.push(UsesStep {
                id: id.clone(),
                uses,
                with,
            });
            outcomes.insert(id, "success".into());
            continue;
        }
        let run =
            scalar(&step["run"]).unwrap_or_else(|| panic!("step {id} has neither run nor uses"));
        assert_eq!(
            scalar(&step["shell"]).as_deref(),
            Some("bash"),
            "step {id}: composite run steps need `shell: bash` to run on every OS"
        );
        let script = runner.path().join(format!("step{i}.sh"));
        std::fs::write(&script, cx.substitute(&run)).unwrap();
        let output_file = runner.path().join(format!("output{i}.txt"));
        std::fs::write(&output_file, "").unwrap();

        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(workspace)
            .env("PATH", std::env::join_paths(&path_entries).unwrap())
            .env("GITHUB_OUTPUT", &output_file)
            .env_remove("LEAKGATE_GENESYS_ADMIN_CLIENT_ID")
            .env_remove("LEAKGATE_GENESYS_ADMIN_CLIENT_SECRET");
        for (k, v) in &base_env {
            cmd.env(k, v);
        }
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        for (k, v) in map(&step["env"]) {
            cmd.env(k, cx.substitute(&v));
        }
        let out = cmd.output().expect("run bash");
        log.push_str(&format!(
            "--- step {id} (exit {:?})\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
        outputs.insert(
            id.clone(),
            parse_outputs(&std::fs::read_to_string(&output_file).unwrap()),
        );
        // GITHUB_PATH additions apply to the following steps, first on PATH.
        let added: Vec<PathBuf> = std::fs::read_to_string(&path_file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| PathBuf::from(l.trim()))
            .collect();
        for p in added.iter().rev() {
            path_entries.insert(0, p.clone());
        }
        added_path.extend(added);
        std::fs::write(&path_file, "").unwrap();
        if out.status.success() {
            outcomes.insert(id, "success".into());
        } else {
            outcomes.insert(id, "failure".into());
            failed = true;
        }
    }

    let cx = Context {
        inputs: &all_inputs,
        outputs: &outputs,
        outcomes: &outcomes,
        job_failed: failed,
        values: &values,
    };
    let action_outputs = action["outputs"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                scalar(k).unwrap(),
                cx.substitute(&scalar(&v["value"]).unwrap()),
            )
        })
        .collect();
    ActionRun {
        outcomes,
        outputs,
        action_outputs,
        used,
        failed,
        log,
        workspace: workspace.to_path_buf(),
        event: event.to_string(),
        restored,
        added_path,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        runner,
    }
}

/// Parse a `GITHUB_OUTPUT` file: `name=value` lines and `name<<DELIM` blocks.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// A repository whose `main` once held a secret (`legacy.env`, since deleted: only in history)
/// and a `feature` branch, checked out, that adds another (`app.env`).
struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// `main`'s tip: the pull request's base.
    base: String,
    /// `feature`'s tip: the pull request's head.
    head: String,
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("work");
    std::fs::create_dir(&path).unwrap();
    git_init(&path);
    write_files(
        &path,
        &[("README.md", "# app\n"), ("legacy.env", &env_file(101))],
    );
    commit(&path, &[], "first");
    std::fs::remove_file(path.join("legacy.env")).unwrap();
    let base = commit(&path, &[], "rotate and remove the old credential");
    git(&path, &["checkout", "-q", "-b", "feature"]);
    write_files(&path, &[("app.env", &env_file(102))]);
    let head = commit(&path, &[], "add app config");
    Repo {
        _dir: dir,
        path,
        base,
        head,
    }
}

fn pull_request(base: &str, head: &str) -> Value {
    json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"ref": "main", "sha": base},
            "head": {"ref": "feature", "sha": head}
        }
    })
}

/// The code-scanning category for what a run scanned: one per kind of coverage, so no upload
/// closes the alerts of another.
fn expected_category(run: &ActionRun) -> &'static str {
    match run.outputs["scan"]["scanned"].as_str() {
        "history" => "leakgate/history",
        "tree" => "leakgate/tree",
        "range" if run.event.starts_with("pull_request") => "leakgate/pr",
        "range" => "leakgate/range",
        other => panic!("scanned {other:?}"),
    }
}

/// Checks every run shares: the SARIF validates, the outputs are set, the upload step got the
/// report under the category of what was scanned, and the cache is used exactly when the plan
/// says so, at the path the plan names.
fn check_common(run: &ActionRun, findings: usize) {
    assert_eq!(run.outcomes["scan"], "success", "{}", run.log);
    assert_eq!(run.output("findings"), findings.to_string(), "{}", run.log);
    assert_eq!(run.sarif_paths().len(), findings);
    let upload = run.upload().expect("upload step ran");
    assert_eq!(upload.with["sarif_file"], run.output("sarif-file"));
    assert_eq!(
        upload.with["category"],
        expected_category(run),
        "{}",
        run.log
    );
    assert_eq!(run.output("category"), expected_category(run));
    let plan = &run.outputs["plan"];
    if plan["cache"] == "true" {
        let path = plan["cache-file"].as_str();
        assert_eq!(run.cache_arg().as_deref(), Some(path), "{}", run.log);
        assert_eq!(run.restore().expect("restore step ran").with["path"], path);
        assert_eq!(run.save().expect("save step ran").with["path"], path);
    } else {
        assert_eq!(plan["cache"], "false");
        assert_eq!(run.cache_arg(), None, "{}", run.log);
        assert!(run.restore().is_none() && run.save().is_none());
    }
    // The built binary was on PATH with the right version: nothing to install.
    assert_eq!(
        run.outputs["install-plan"]["install"], "false",
        "{}",
        run.log
    );
    assert!(!run.build_cache_used());
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn action_yml_declares_the_inputs_outputs_and_upload_step() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs: Vec<String> = action["inputs"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| scalar(k).unwrap())
        .collect();
    for name in [
        "mode",
        "args",
        "config",
        "baseline",
        "sarif-file",
        "upload-sarif",
        "fail-on-findings",
        "verify",
        "revoke",
        "cache",
        "category",
        "path",
        "version",
    ] {
        assert!(inputs.contains(&name.to_string()), "input {name}");
    }
    assert_eq!(
        scalar(&action["inputs"]["cache"]["default"]).as_deref(),
        Some("true")
    );
    assert_eq!(
        scalar(&action["inputs"]["sarif-file"]["default"]).as_deref(),
        Some("leakgate.sarif")
    );
    for name in ["findings", "sarif-file", "category"] {
        assert!(
            scalar(&action["outputs"][name]["value"]).is_some(),
            "output {name}"
        );
    }

    let steps = steps(&action);
    let upload = steps
        .iter()
        .find(|s| {
            scalar(&s["uses"]).is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("an upload-sarif step");
    assert_eq!(scalar(&upload["uses"]).as_deref(), Some(UPLOAD_SARIF));
    let with = map(&upload["with"]);
    assert_eq!(with["sarif_file"], "${{ steps.scan.outputs.sarif-file }}");
    assert_eq!(with["category"], "${{ steps.plan.outputs.category }}");
    assert_eq!(
        with["checkout_path"],
        "${{ steps.scan.outputs.checkout-path }}"
    );
    // Only a report this run's scan wrote, complete, is uploaded.
    assert_eq!(
        scalar(&upload["if"]).as_deref(),
        Some(
            "always() && inputs.upload-sarif == 'true' && steps.scan.outcome == 'success' \
             && steps.scan.outputs.sarif-written == 'true'"
        )
    );

    // The source build's cache: restored before the build, saved right after it (not in a
    // post step, which is skipped when the job fails on a finding).
    let by_id = |id: &str| {
        steps
            .iter()
            .find(|s| scalar(&s["id"]).as_deref() == Some(id))
            .unwrap_or_else(|| panic!("a step with id {id}"))
    };
    let (restore, save) = (by_id("build-cache"), by_id("build-cache-save"));
    assert_eq!(scalar(&restore["uses"]).as_deref(), Some(CACHE_RESTORE));
    assert_eq!(scalar(&save["uses"]).as_deref(), Some(CACHE_SAVE));
    for cache in [restore, save] {
        let with = map(&cache["with"]);
        assert_eq!(
            with["key"],
            "${{ steps.install-release.outputs.cache-key }}"
        );
        assert_eq!(with["path"], "${{ steps.install-release.outputs.root }}");
    }
    assert_eq!(
        scalar(&restore["if"]).as_deref(),
        Some("steps.install-release.outputs.build == 'true'")
    );
    assert_eq!(
        scalar(&save["if"]).as_deref(),
        Some(
            "steps.install-build.outcome == 'success' \
             && steps.build-cache.outputs.cache-hit != 'true'"
        )
    );

    // Every run step is bash, and inputs reach scripts through env:, never pasted into code.
    for step in steps.iter().filter(|s| !s["run"].is_badvalue()) {
        assert_eq!(scalar(&step["shell"]).as_deref(), Some("bash"));
        let run = scalar(&step["run"]).unwrap();
        // No expression at all in a script (template injection): values come through env:.
        assert!(
            !run.contains("${{") && !run.contains("inputs."),
            "an expression pasted into a script: {run}"
        );
    }
}

#[test]
fn tree_mode_scans_the_checkout_and_gates_as_configured() {
    let repo = repo();
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({"inputs": {}}),
        &[("mode", "tree"), ("sarif-file", "custom.sarif")],
    );
    check_common(&run, 1);
    assert_eq!(run.sarif_paths(), ["app.env"]);
    assert_eq!(run.output("sarif-file"), "custom.sarif");
    assert_eq!(run.outputs["scan"]["scanned"], "tree");
    assert_eq!(run.output("category"), "leakgate/tree");
    assert_eq!(run.outputs["scan"]["exit-code"], "1");
    assert!(run.failed, "findings fail the job by default");
    assert_eq!(run.outcomes["Gate on findings"], "failure");
    assert!(run.log.contains("::error"), "{}", run.log);

    // fail-on-findings: false reports but passes; upload-sarif: false skips the upload.
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[
            ("mode", "tree"),
            ("fail-on-findings", "false"),
            ("upload-sarif", "false"),
        ],
    );
    assert!(!run.failed, "{}", run.log);
    assert_eq!(run.output("findings"), "1");
    assert!(run.upload().is_none());
    run.sarif();

    // `args` reach the scan, split on whitespace: every file is now too large to scan.
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree"), ("args", "  --max-file-size   8 ")],
    );
    check_common(&run, 0);
    assert!(run.log.contains("--max-file-size 8 ."), "{}", run.log);

    // A clean tree passes.
    std::fs::remove_file(repo.path.join("app.env")).unwrap();
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree")],
    );
    check_common(&run, 0);
    assert!(!run.failed, "{}", run.log);
}

#[test]
fn errors_fail_the_job_even_without_fail_on_findings() {
    let repo = repo();
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[
            ("mode", "tree"),
            ("config", "no-such-config.toml"),
            ("fail-on-findings", "false"),
        ],
    );
    assert_eq!(run.outputs["scan"]["exit-code"], "2", "{}", run.log);
    assert!(run.failed);
    assert_eq!(run.outcomes["Gate on findings"], "failure");

    let run = run_action(&repo.path, "schedule", json!({}), &[("mode", "sideways")]);
    assert!(run.failed);
    assert_eq!(run.outcomes["plan"], "failure");
    assert_eq!(run.outcomes["scan"], "skipped");
    // Nothing to upload, and no error about a missing report on top of the real one.
    assert!(run.upload().is_none());
    assert!(run.log.contains("mode must be"), "{}", run.log);
}

#[test]
fn baseline_input_suppresses_known_findings() {
    let repo = repo();
    let out = common::run_in(
        &repo.path,
        &["baseline", "create", "--output", ".leakgate-baseline.json"],
    );
    assert_eq!(out.status.code(), Some(0));
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree"), ("baseline", ".leakgate-baseline.json")],
    );
    check_common(&run, 0);
    assert!(!run.failed, "{}", run.log);
}

#[test]
fn pull_request_scans_only_base_to_head() {
    let repo = repo();
    let run = run_action(
        &repo.path,
        "pull_request",
        pull_request(&repo.base, &repo.head),
        &[],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "range", "{}", run.log);
    assert_eq!(
        run.outputs["scan"]["range"],
        format!("{}..{}", repo.base, repo.head)
    );
    check_common(&run, 1);
    assert_eq!(run.output("category"), "leakgate/pr");
    assert_eq!(run.outputs["plan"]["cache"], "false");
    // legacy.env lives only in the base's history: not this pull request's doing.
    assert_eq!(run.sarif_paths(), ["app.env"]);
    assert!(run.failed);

    // A pull request that adds no secret passes.
    git(&repo.path, &["checkout", "-q", "-b", "docs", &repo.base]);
    write_files(&repo.path, &[("docs.md", "# docs\n")]);
    let head = commit(&repo.path, &[], "docs");
    let run = run_action(
        &repo.path,
        "pull_request",
        pull_request(&repo.base, &head),
        &[],
    );
    check_common(&run, 0);
    assert!(!run.failed, "{}", run.log);
}

#[test]
fn a_pull_request_cannot_weaken_the_config_that_gates_it() {
    let repo = repo();
    // The pull request also allows every path in its own .leakgate.toml.
    write_files(
        &repo.path,
        &[(".leakgate.toml", "[allow]\npaths = [\"**\"]\n")],
    );
    let head = commit(&repo.path, &[], "allow everything");
    let run = run_action(
        &repo.path,
        "pull_request",
        pull_request(&repo.base, &head),
        &[],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "range", "{}", run.log);
    assert!(run.log.contains("--config-from"), "{}", run.log);
    check_common(&run, 1);
    assert!(run.failed, "the base's config is in force: {}", run.log);
    assert!(
        run.log.contains(".leakgate.toml differs")
            && run
                .log
                .contains("config changes inside the range are not in force"),
        "{}",
        run.log
    );
}

#[test]
fn push_to_another_branch_scans_before_to_after() {
    let repo = repo();
    let payload = json!({
        "ref": "refs/heads/feature",
        "before": repo.base,
        "after": repo.head,
        "created": false,
        "deleted": false,
        "forced": false,
        "repository": {"name": "app", "default_branch": "main"}
    });
    let run = run_action(
        &repo.path,
        "push",
        payload,
        &[("fail-on-findings", "false")],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "range", "{}", run.log);
    assert_eq!(
        run.outputs["scan"]["range"],
        format!("{}..{}", repo.base, repo.head)
    );
    check_common(&run, 1);
    assert_eq!(run.output("category"), "leakgate/range");
    assert_eq!(run.outputs["plan"]["cache"], "false");
    assert_eq!(run.sarif_paths(), ["app.env"]);
    assert!(!run.failed, "fail-on-findings is false: {}", run.log);
}

/// The fixture with only `main` (the feature branch merged away), checked out: `legacy.env`
/// was committed and then deleted, so it is in the history but not in HEAD. Also returns the
/// first commit, the `before` of a push whose `after` is `main`.
fn default_branch_repo() -> (Repo, String) {
    let repo = repo();
    git(&repo.path, &["checkout", "-q", "main"]);
    git(&repo.path, &["branch", "-q", "-D", "feature"]);
    let first = git(&repo.path, &["rev-parse", "main~1"]).trim().to_string();
    (repo, first)
}

fn default_branch_push(before: &str, after: &str) -> Value {
    json!({
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": false,
        "deleted": false,
        "forced": false,
        "repository": {"name": "app", "default_branch": "main", "master_branch": "main"}
    })
}

#[test]
fn a_push_to_the_default_branch_scans_the_full_history_with_the_cache() {
    let (repo, first) = default_branch_repo();
    let run = run_action(
        &repo.path,
        "push",
        default_branch_push(&first, &repo.base),
        &[],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    check_common(&run, 1);
    // The push only deleted legacy.env; its secret is still in the history, so the default
    // branch's upload still reports it and its alert stays open.
    assert_eq!(run.sarif_paths(), ["legacy.env"]);
    assert!(run.failed);
    assert_eq!(run.output("category"), "leakgate/history");
    // The configuration in force is the one before the push.
    assert!(
        run.log.contains(&format!(
            "+ leakgate scan --history --config-from {first} --cache "
        )),
        "{}",
        run.log
    );

    // The cache: outside the workspace, passed to leakgate, restored before and saved after
    // under a key whose restore key is its prefix.
    let plan = &run.outputs["plan"];
    assert_eq!(plan["cache"], "true");
    let path = PathBuf::from(&plan["cache-file"]);
    assert!(path.is_absolute(), "{}", path.display());
    assert!(!path.starts_with(&repo.path), "{}", path.display());
    assert_eq!(run.cache_arg(), Some(plan["cache-file"].clone()));
    let restore = run.restore().expect("restore step ran");
    let save = run.save().expect("save step ran");
    assert_eq!(restore.with["key"], plan["cache-key"]);
    assert_eq!(restore.with["restore-keys"], plan["cache-restore-key"]);
    assert_eq!(save.with["key"], plan["cache-key"]);
    assert!(plan["cache-restore-key"].starts_with("leakgate-history-Linux-"));
    assert!(
        plan["cache-key"].starts_with(&plan["cache-restore-key"])
            && plan["cache-key"].len() > plan["cache-restore-key"].len(),
        "{plan:?}"
    );
    assert!(run.log.contains("none restored"), "{}", run.log);
    // The steps' order: restore, scan, save, upload; the save ran although the job is red.
    let order: Vec<&str> = run.used.iter().map(|u| u.uses.as_str()).collect();
    assert_eq!(order, [CACHE_RESTORE, CACHE_SAVE, UPLOAD_SARIF]);
    assert_eq!(run.outcomes["Gate on findings"], "failure");

    // mode: range keeps the push's own range, without the cache.
    let run = run_action(
        &repo.path,
        "push",
        default_branch_push(&first, &repo.base),
        &[("mode", "range")],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "range", "{}", run.log);
    check_common(&run, 0);
    assert_eq!(run.output("category"), "leakgate/range");

    // After a force-push the old tip is gone: still the full history, the checkout's config.
    let gone = "1".repeat(40);
    let run = run_action(
        &repo.path,
        "push",
        default_branch_push(&gone, &repo.base),
        &[],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    check_common(&run, 1);
    assert!(
        run.log.contains("::warning") && run.log.contains("force-push"),
        "{}",
        run.log
    );
    assert!(!run.log.contains("--config-from"), "{}", run.log);
}

#[test]
fn the_cache_restores_the_newest_earlier_run_of_the_same_prefix() {
    let (repo, first) = default_branch_repo();
    let payload = || default_branch_push(&first, &repo.base);
    // A first run names the prefix every run of this job shares.
    let run = run_action(&repo.path, "push", payload(), &[]);
    let prefix = run.outputs["plan"]["cache-restore-key"].clone();
    let key1 = run.outputs["plan"]["cache-key"].clone();

    // Earlier runs' entries, oldest first; the newest is another OS's. What they hold is not a
    // valid cache: leakgate must rebuild it, never trust it.
    let cache = FakeCache::default();
    cache.put(&format!("{prefix}1-1"), b"older");
    cache.put(&format!("{prefix}2-1"), b"newer");
    cache.put(&prefix.replace("-Linux-", "-Windows-"), b"other os");
    let options = || RunOptions {
        cache: Some(&cache),
        ..RunOptions::default()
    };
    let run = run_action_with(&repo.path, "push", payload(), &[], options());
    let key2 = run.outputs["plan"]["cache-key"].clone();
    assert_ne!(key1, key2, "every run saves under its own key");
    assert_eq!(
        run.restored.as_deref(),
        Some(format!("{prefix}2-1").as_str())
    );
    assert!(
        run.log.contains("restored from an earlier run"),
        "{}",
        run.log
    );
    check_common(&run, 1);
    assert_eq!(run.sarif_paths(), ["legacy.env"], "{}", run.log);
    // Saved under this run's key, though the findings fail the job.
    assert!(run.failed);
    assert!(cache.keys().contains(&key2), "{:?}", cache.keys());

    // The next run restores what this one saved.
    let run = run_action_with(&repo.path, "push", payload(), &[], options());
    assert_eq!(run.restored.as_deref(), Some(key2.as_str()));
    check_common(&run, 1);
    assert_eq!(run.sarif_paths(), ["legacy.env"], "{}", run.log);
}

#[test]
fn cache_false_scans_the_default_branch_without_the_cache() {
    let (repo, first) = default_branch_repo();
    let run = run_action(
        &repo.path,
        "push",
        default_branch_push(&first, &repo.base),
        &[("cache", "false")],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    assert_eq!(run.outputs["plan"]["cache"], "false");
    assert_eq!(run.outputs["plan"]["cache-file"], "");
    // check_common: no --cache, no restore or save step.
    check_common(&run, 1);
    assert_eq!(run.output("category"), "leakgate/history");
}

#[test]
fn action_yml_restores_the_cache_before_the_scan_and_saves_it_always() {
    let action = action();
    let steps = steps(&action);
    let position = |prefix: &str| {
        steps
            .iter()
            .position(|s| {
                scalar(&s["uses"]).is_some_and(|u| u.starts_with(prefix))
                    || scalar(&s["id"]).is_some_and(|id| id == prefix)
            })
            .unwrap_or_else(|| panic!("no step {prefix}"))
    };
    let (plan, restore, scan, save) = (
        position("plan"),
        position("scan-cache-restore"),
        position("scan"),
        position("scan-cache-save"),
    );
    assert!(plan < restore && restore < scan && scan < save);
    assert_eq!(
        scalar(&steps[restore]["uses"]).as_deref(),
        Some(CACHE_RESTORE)
    );
    assert_eq!(scalar(&steps[save]["uses"]).as_deref(), Some(CACHE_SAVE));
    let restore_with = map(&steps[restore]["with"]);
    let save_with = map(&steps[save]["with"]);
    // The same path and key on both sides (the path is part of an entry's identity).
    assert_eq!(restore_with["path"], "${{ steps.plan.outputs.cache-file }}");
    assert_eq!(save_with["path"], restore_with["path"]);
    assert_eq!(restore_with["key"], "${{ steps.plan.outputs.cache-key }}");
    assert_eq!(save_with["key"], restore_with["key"]);
    assert_eq!(
        restore_with["restore-keys"],
        "${{ steps.plan.outputs.cache-restore-key }}"
    );
    assert_eq!(
        scalar(&steps[restore]["if"]).as_deref(),
        Some("steps.plan.outputs.cache == 'true'")
    );
    let save_if = scalar(&steps[save]["if"]).unwrap();
    assert!(
        save_if.starts_with("always() && ")
            && save_if.contains("steps.plan.outputs.cache == 'true'"),
        "{save_if}"
    );
    // The scan reads the plan's cache file.
    let scan_env = map(&steps[scan]["env"]);
    assert_eq!(
        scan_env["LEAKGATE_CACHE_FILE"],
        "${{ steps.plan.outputs.cache-file }}"
    );
}

#[test]
fn first_push_of_a_new_branch_scans_the_full_history() {
    let repo = repo();
    let payload = json!({
        "ref": "refs/heads/feature",
        "before": ZERO_SHA,
        "after": repo.head,
        "created": true,
        "deleted": false
    });
    let run = run_action(&repo.path, "push", payload, &[]);
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    check_common(&run, 2);
    assert_eq!(run.sarif_paths(), ["app.env", "legacy.env"]);
    assert!(run.failed);
}

#[test]
fn a_new_branch_cannot_weaken_the_config_that_gates_it() {
    let repo = repo();
    write_files(
        &repo.path,
        &[(".leakgate.toml", "[allow]\npaths = [\"**\"]\n")],
    );
    let head = commit(&repo.path, &[], "allow everything");
    let payload = json!({
        "ref": "refs/heads/feature",
        "before": ZERO_SHA,
        "after": head,
        "created": true,
        "deleted": false,
        "repository": {"name": "app", "default_branch": "main"}
    });
    let run = run_action(&repo.path, "push", payload, &[]);
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    assert!(
        run.log.contains(&format!("--config-from {}", repo.base)),
        "the default branch's config gates a new branch: {}",
        run.log
    );
    check_common(&run, 2);
    assert!(run.failed, "{}", run.log);
}

#[test]
fn scheduled_run_scans_the_full_history() {
    let repo = repo();
    let run = run_action(
        &repo.path,
        "schedule",
        json!({"schedule": "17 3 * * *"}),
        &[],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    check_common(&run, 2);
    assert_eq!(run.output("category"), "leakgate/history");
    // A scheduled run is on the default branch, though its payload does not say so.
    assert_eq!(run.outputs["plan"]["cache"], "true", "{}", run.log);
    assert_eq!(run.sarif_paths(), ["app.env", "legacy.env"]);
    assert!(run.failed);
    assert_eq!(run.outcomes["Gate on findings"], "failure");
}

#[test]
fn shallow_checkout_warns_and_scans_what_exists() {
    let repo = repo();
    let clone_parent = tempfile::tempdir().unwrap();
    let clone = clone_parent.path().join("clone");
    let url = format!("file://{}", repo.path.display());
    git(
        clone_parent.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            "feature",
            &url,
            clone.to_str().unwrap(),
        ],
    );
    let run = run_action(
        &clone,
        "pull_request",
        pull_request(&repo.base, &repo.head),
        &[],
    );
    assert!(
        run.log.contains("::warning") && run.log.contains("shallow"),
        "{}",
        run.log
    );
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    // Only the head commit was fetched: its tree holds app.env.
    check_common(&run, 1);
    assert_eq!(run.sarif_paths(), ["app.env"]);
}

/// A folder holding links to only the named tools: a runner without jq or Python.
fn minimal_tools(dir: &Path, tools: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap()).collect();
    for tool in tools {
        let found = path
            .iter()
            .map(|p| p.join(tool))
            .find(|p| p.is_file() && !p.to_string_lossy().contains("shims"))
            .unwrap_or_else(|| panic!("{tool} not on PATH"));
        #[cfg(unix)]
        std::os::unix::fs::symlink(std::fs::canonicalize(&found).unwrap(), bin.join(tool)).unwrap();
    }
    bin
}

#[cfg(unix)]
#[test]
fn reads_the_event_without_jq_or_python() {
    let repo = repo();
    let tools = tempfile::tempdir().unwrap();
    let bin = minimal_tools(
        tools.path(),
        &[
            "bash", "git", "sed", "grep", "tr", "head", "cut", "wc", "cat", "sort", "find", "rm",
        ],
    );
    // A push still scans before..after: the fallback reads top-level fields.
    let payload = json!({
        "ref": "refs/heads/feature",
        "before": repo.base,
        "after": repo.head,
        "created": false,
        "repository": {"name": "app", "created_at": 1}
    });
    let minimal = || RunOptions {
        path: Some(vec![bin.clone()]),
        ..RunOptions::default()
    };
    let run = run_action_with(&repo.path, "push", payload, &[], minimal());
    assert_eq!(run.outputs["scan"]["scanned"], "range", "{}", run.log);
    check_common(&run, 1);

    // The default branch is found too: a push to it scans the full history, with the cache.
    let payload = json!({
        "ref": "refs/heads/main",
        "before": repo.base,
        "after": repo.base,
        "created": false,
        "repository": {"name": "app", "default_branch": "main"}
    });
    let run = run_action_with(&repo.path, "push", payload, &[], minimal());
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    assert_eq!(run.outputs["plan"]["cache"], "true", "{}", run.log);
    check_common(&run, 2);

    // A pull request's nested fields need jq or Python: warn, and scan the full history.
    let run = run_action_with(
        &repo.path,
        "pull_request",
        pull_request(&repo.base, &repo.head),
        &[],
        minimal(),
    );
    assert!(run.log.contains("::warning"), "{}", run.log);
    assert_eq!(run.outputs["scan"]["scanned"], "history", "{}", run.log);
    check_common(&run, 2);
}

// ---------------------------------------------------------------------------------------------
// Installing the release binary, against a stand-in release server.

/// The release targets, by the runner's `RUNNER_OS` and `RUNNER_ARCH`.
const TARGETS: [(&str, &str, &str); 5] = [
    ("Linux", "X64", "x86_64-unknown-linux-musl"),
    ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
    ("macOS", "X64", "x86_64-apple-darwin"),
    ("macOS", "ARM64", "aarch64-apple-darwin"),
    ("Windows", "X64", "x86_64-pc-windows-msvc"),
];

/// A stand-in for GitHub's release downloads on 127.0.0.1 (an OS-picked port): serves the
/// files under its folder at `/releases/download/<path>`, 404 for anything else, and records
/// every request. A path can be made to answer 503 a number of times first. Stopped on drop.
struct ReleaseServer {
    port: u16,
    files: tempfile::TempDir,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    unavailable: std::sync::Arc<std::sync::Mutex<BTreeMap<String, u32>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReleaseServer {
    fn start() -> ReleaseServer {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let files = tempfile::tempdir().unwrap();
        let root = files.path().to_path_buf();
        let requests: std::sync::Arc<std::sync::Mutex<Vec<String>>> = std::sync::Arc::default();
        let unavailable: std::sync::Arc<std::sync::Mutex<BTreeMap<String, u32>>> =
            std::sync::Arc::default();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (log, busy, halt) = (
            std::sync::Arc::clone(&requests),
            std::sync::Arc::clone(&unavailable),
            std::sync::Arc::clone(&stop),
        );
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                stream
                    .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // The headers, up to the blank line.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "" {
                    line.clear();
                }
                let path = request_line
                    .split(' ')
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                log.lock().unwrap().push(path.clone());
                let mut busy = busy.lock().unwrap();
                let (status, body) = match busy.get_mut(&path) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        ("503 Service Unavailable", Vec::new())
                    }
                    _ => match path
                        .strip_prefix("/releases/download/")
                        .filter(|p| !p.split('/').any(|s| s == ".." || s.is_empty()))
                        .and_then(|p| std::fs::read(root.join(p)).ok())
                    {
                        Some(body) => ("200 OK", body),
                        None => ("404 Not Found", b"Not Found".to_vec()),
                    },
                };
                drop(busy);
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream
                    .write_all(head.as_bytes())
                    .and_then(|()| stream.write_all(&body));
            }
        });
        ReleaseServer {
            port,
            files,
            requests,
            unavailable,
            stop,
            thread: Some(thread),
        }
    }

    /// What the action is given as `LEAKGATE_RELEASE_BASE_URL`.
    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/releases/download", self.port)
    }

    /// Serve `content` at `/releases/download/<path>`.
    fn put(&self, path: &str, content: &[u8]) {
        let file = self.files.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }

    /// Answer 503 to the first `times` requests for `/releases/download/<path>`.
    fn unavailable(&self, path: &str, times: u32) {
        self.unavailable
            .lock()
            .unwrap()
            .insert(format!("/releases/download/{path}"), times);
    }

    /// The paths requested so far, in order, without the `/releases/download/` prefix.
    fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.trim_start_matches("/releases/download/").to_string())
            .collect()
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The archive name of a release asset.
fn asset_name(version: &str, target: &str) -> String {
    let ext = if target.contains("windows") {
        "zip"
    } else {
        "tar.gz"
    };
    format!("leakgate-{version}-{target}.{ext}")
}

/// A release archive as the release workflow builds it: the binary (`leakgate`, or
/// `leakgate.exe` for Windows) at the top level, beside a README.
fn release_archive(target: &str, binary: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let readme = b"# leakgate\n";
    if target.contains("windows") {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        zip.start_file("README.md", opts).unwrap();
        zip.write_all(readme).unwrap();
        zip.start_file("leakgate.exe", opts).unwrap();
        zip.write_all(binary).unwrap();
        zip.finish().unwrap().into_inner()
    } else {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (name, content, mode) in [
            ("README.md", &readme[..], 0o644),
            ("leakgate", binary, 0o755),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(mode);
            header.set_cksum();
            tar.append_data(&mut header, name, content).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }
}

/// A stand-in binary: a script that says it is leakgate `version` built for `target`.
fn stub_binary(version: &str, target: &str) -> Vec<u8> {
    format!("#!/bin/sh\necho \"leakgate {version} {target}\"\n").into_bytes()
}

/// Publish release `version` on `server`: an archive per target holding `binary(target)`,
/// and SHA256SUMS listing them all.
fn publish(server: &ReleaseServer, version: &str, binary: impl Fn(&str) -> Vec<u8>) {
    let mut sums = String::new();
    for (_, _, target) in TARGETS {
        let name = asset_name(version, target);
        let archive = release_archive(target, &binary(target));
        sums.push_str(&format!("{}  {name}\n", sha256_hex(&archive)));
        server.put(&format!("v{version}/{name}"), &archive);
    }
    server.put(&format!("v{version}/SHA256SUMS"), sums.as_bytes());
}

/// The test's PATH without any folder holding a leakgate.
fn path_without_leakgate() -> Vec<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .filter(|p| !p.join("leakgate").exists() && !p.join("leakgate.exe").exists())
        .collect()
}

/// Run the install steps only (up to the source build) on a runner with `os` and `arch` and no
/// leakgate on PATH (besides `extra_path`, first), downloading from `server`.
fn run_install(
    repo: &Path,
    server: &ReleaseServer,
    (os, arch): (&str, &str),
    action_ref: &str,
    inputs: &[(&str, &str)],
    extra_path: &[PathBuf],
) -> ActionRun {
    let mut path = extra_path.to_vec();
    path.extend(path_without_leakgate());
    run_action_with(
        repo,
        "workflow_dispatch",
        json!({}),
        inputs,
        RunOptions {
            path: Some(path),
            no_built_binary: true,
            action_ref,
            env: vec![
                ("RUNNER_OS", os.to_string()),
                ("RUNNER_ARCH", arch.to_string()),
                ("LEAKGATE_RELEASE_BASE_URL", server.base_url()),
            ],
            until: Some("build-cache-save"),
            ..RunOptions::default()
        },
    )
}

/// Where the release step installs `target`'s binary of `version` in `run`.
fn release_bin(run: &ActionRun, version: &str, target: &str) -> PathBuf {
    run.runner
        .path()
        .join("_temp")
        .join(format!("leakgate-{version}-{target}"))
        .join("bin")
}

/// Check that `run` installed the release binary of `version` for `target` and nothing else:
/// on PATH, the right one, no source build, and exactly the archive and SHA256SUMS fetched.
fn check_release_installed(run: &ActionRun, server: &ReleaseServer, version: &str, target: &str) {
    assert_eq!(run.outcomes["install-release"], "success", "{}", run.log);
    assert!(!run.failed, "{}", run.log);
    assert_eq!(run.outputs["install-plan"]["version"], version);
    assert_eq!(run.outputs["install-release"]["build"], "false");
    assert_eq!(run.outcomes["install-build"], "skipped");
    assert!(!run.build_cache_used());
    let bin = release_bin(run, version, target);
    assert_eq!(run.added_path, std::slice::from_ref(&bin), "{}", run.log);
    let exe = if target.contains("windows") {
        "leakgate.exe"
    } else {
        "leakgate"
    };
    let out = Command::new(bin.join(exe))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("leakgate {version} {target}"),
        "the binary built for {target}"
    );
    assert_eq!(
        server.requests(),
        [
            format!("v{version}/{}", asset_name(version, target)),
            format!("v{version}/SHA256SUMS")
        ]
    );
}

#[cfg(unix)]
#[test]
fn installs_the_release_for_each_os_and_arch_of_the_action_ref() {
    let repo = repo();
    for (os, arch, target) in TARGETS.iter().filter(|t| t.0 != "Windows") {
        let server = ReleaseServer::start();
        publish(&server, "9.8.7", |t| stub_binary("9.8.7", t));
        let run = run_install(&repo.path, &server, (os, arch), "v9.8.7", &[], &[]);
        check_release_installed(&run, &server, "9.8.7", target);
        assert!(run.log.contains("Verified leakgate-9.8.7-"), "{}", run.log);
    }
}

#[cfg(unix)]
#[test]
#[ignore = "needs unzip: scripts/test.sh runs it where unzip is present (Windows runners without it use PowerShell's Expand-Archive, untested here)"]
fn installs_the_windows_zip_with_unzip() {
    let repo = repo();
    let server = ReleaseServer::start();
    publish(&server, "9.8.7", |t| stub_binary("9.8.7", t));
    let run = run_install(&repo.path, &server, ("Windows", "X64"), "v9.8.7", &[], &[]);
    check_release_installed(&run, &server, "9.8.7", "x86_64-pc-windows-msvc");
}

#[cfg(unix)]
#[test]
fn the_version_comes_from_the_action_ref_or_the_version_input() {
    let repo = repo();
    let server = ReleaseServer::start();
    let source = env!("CARGO_PKG_VERSION");
    let plan = |action_ref: &str, inputs: &[(&str, &str)]| {
        let mut path = path_without_leakgate();
        path.insert(0, PathBuf::from("/nonexistent"));
        run_action_with(
            &repo.path,
            "workflow_dispatch",
            json!({}),
            inputs,
            RunOptions {
                path: Some(path),
                no_built_binary: true,
                action_ref,
                env: vec![("LEAKGATE_RELEASE_BASE_URL", server.base_url())],
                until: Some("install-plan"),
                ..RunOptions::default()
            },
        )
    };
    for (action_ref, inputs, want) in [
        ("v2.3.4", &[][..], "2.3.4"),
        ("v2.3.4-rc.1", &[], "2.3.4-rc.1"),
        // A branch, a moving major tag or a commit: the checkout's own version.
        ("main", &[], source),
        ("v1", &[], source),
        ("0123456789abcdef0123456789abcdef01234567", &[], source),
        ("", &[], source),
        // The input wins over the ref.
        ("v2.3.4", &[("version", "3.0.1")], "3.0.1"),
        ("main", &[("version", "v3.0.1")], "3.0.1"),
    ] {
        let run = plan(action_ref, inputs);
        assert_eq!(run.outcomes["install-plan"], "success", "{}", run.log);
        assert_eq!(
            run.outputs["install-plan"]["version"], want,
            "ref {action_ref:?}, inputs {inputs:?}"
        );
        assert_eq!(run.outputs["install-plan"]["install"], "true");
    }
    for bad in ["latest", "1.2", "1.2.3; rm -rf /"] {
        let run = plan("v2.3.4", &[("version", bad)]);
        assert_eq!(
            run.outcomes["install-plan"], "failure",
            "{bad}: {}",
            run.log
        );
        assert!(run.log.contains("::error"), "{}", run.log);
    }
    assert!(server.requests().is_empty(), "planning downloads nothing");
}

#[cfg(unix)]
#[test]
fn a_checksum_that_does_not_match_is_refused() {
    let repo = repo();
    let (os, arch, target) = TARGETS[0];
    let name = asset_name("9.8.7", target);
    let refused = |server: &ReleaseServer, why: &str| {
        let run = run_install(&repo.path, server, (os, arch), "v9.8.7", &[], &[]);
        assert_eq!(run.outcomes["install-release"], "failure", "{}", run.log);
        assert!(run.failed);
        assert!(run.log.contains(why), "{why}: {}", run.log);
        // Nothing on PATH, no binary left, and no fall back to a build.
        assert!(run.added_path.is_empty(), "{:?}", run.added_path);
        assert!(!release_bin(&run, "9.8.7", target).join("leakgate").exists());
        assert_eq!(run.outcomes["install-build"], "skipped");
        assert!(!run.build_cache_used());
    };

    // The archive is not the one SHA256SUMS names.
    let server = ReleaseServer::start();
    publish(&server, "9.8.7", |t| stub_binary("9.8.7", t));
    server.put(
        &format!("v9.8.7/{name}"),
        &release_archive(target, &stub_binary("9.8.7", "tampered")),
    );
    refused(&server, "checksum mismatch");

    // SHA256SUMS has no line for this archive (only other targets').
    let server = ReleaseServer::start();
    publish(&server, "9.8.7", |t| stub_binary("9.8.7", t));
    let sums =
        String::from_utf8(std::fs::read(server.files.path().join("v9.8.7/SHA256SUMS")).unwrap())
            .unwrap()
            .lines()
            .filter(|l| !l.ends_with(&name))
            .map(|l| format!("{l}\n"))
            .collect::<String>();
    server.put("v9.8.7/SHA256SUMS", sums.as_bytes());
    refused(&server, "has no line for");

    // No SHA256SUMS at all.
    let server = ReleaseServer::start();
    publish(&server, "9.8.7", |t| stub_binary("9.8.7", t));
    std::fs::remove_file(server.files.path().join("v9.8.7/SHA256SUMS")).unwrap();
    refused(&server, "no SHA256SUMS");

    // A verified archive whose binary is another version.
    let server = ReleaseServer::start();
    publish(&server, "9.8.7", |t| stub_binary("9.8.6", t));
    refused(&server, "not 9.8.7");
}

/// A `cargo` that records its arguments in `log` and "builds" a leakgate of `version` into
/// the `--root` it is given.
fn cargo_stub(dir: &Path, log: &Path, version: &str) -> PathBuf {
    let bin = dir.join("cargo-stub");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
printf '%s\n' "$*" >> '{log}'
root=
while [ $# -gt 0 ]; do
  [ "$1" = --root ] && root=$2
  shift
done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "leakgate {version} source"\n' > "$root/bin/leakgate"
chmod +x "$root/bin/leakgate"
"#,
        log = log.display()
    );
    let cargo = bin.join("cargo");
    std::fs::write(&cargo, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

#[cfg(unix)]
#[test]
fn no_release_falls_back_to_the_cached_source_build() {
    let repo = repo();
    let source = env!("CARGO_PKG_VERSION");
    let tools = tempfile::tempdir().unwrap();
    let log = tools.path().join("cargo.log");
    let cargo = cargo_stub(tools.path(), &log, source);

    // No release of the action's version (a commit between releases): 404, then the build.
    let server = ReleaseServer::start();
    publish(&server, "9.8.7", |t| stub_binary("9.8.7", t));
    let run = run_install(
        &repo.path,
        &server,
        ("Linux", "X64"),
        "main",
        &[],
        std::slice::from_ref(&cargo),
    );
    assert!(!run.failed, "{}", run.log);
    let asset = asset_name(source, "x86_64-unknown-linux-musl");
    assert_eq!(
        server.requests(),
        [format!("v{source}/{asset}")],
        "no retry of a 404"
    );
    assert!(
        run.log.contains("::warning") && run.log.contains("HTTP 404"),
        "says why: {}",
        run.log
    );
    let release = &run.outputs["install-release"];
    assert_eq!(release["build"], "true");
    let root = run
        .runner
        .path()
        .join("_temp")
        .join(format!("leakgate-{source}"));
    assert_eq!(release["root"], root.display().to_string());
    let key = &release["cache-key"];
    assert!(
        key.starts_with(&format!("leakgate-Linux-X64-{source}-")),
        "{key}"
    );
    assert_eq!(
        key.len(),
        format!("leakgate-Linux-X64-{source}-").len() + 33
    );
    let cache = run.step("build-cache").expect("the build's cache step ran");
    let saved = run.step("build-cache-save").expect("the build was saved");
    assert_eq!(saved.with, cache.with);
    assert_eq!(cache.with["path"], release["root"]);
    assert_eq!(&cache.with["key"], key);
    assert_eq!(run.outcomes["install-build"], "success");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().trim(),
        format!(
            "install --locked --path {} --root {}",
            action_dir().display(),
            root.display()
        )
    );
    assert_eq!(run.added_path, [root.join("bin")]);

    // No release build for the runner (Windows on ARM): straight to the build, nothing fetched.
    std::fs::remove_file(&log).unwrap();
    let server = ReleaseServer::start();
    let run = run_install(
        &repo.path,
        &server,
        ("Windows", "ARM64"),
        "",
        &[],
        std::slice::from_ref(&cargo),
    );
    assert!(!run.failed, "{}", run.log);
    assert!(server.requests().is_empty());
    assert_eq!(run.outputs["install-release"]["build"], "true");
    assert!(
        run.log
            .contains("No release build exists for Windows ARM64"),
        "{}",
        run.log
    );
    assert!(log.exists(), "cargo ran");

    // A version the source is not, with no release: no build of the wrong version.
    std::fs::remove_file(&log).unwrap();
    let run = run_install(
        &repo.path,
        &server,
        ("Linux", "X64"),
        "",
        &[("version", "9.9.9")],
        std::slice::from_ref(&cargo),
    );
    assert_eq!(run.outcomes["install-release"], "failure", "{}", run.log);
    assert!(
        run.log.contains("the action's source is version"),
        "{}",
        run.log
    );
    assert!(!log.exists(), "cargo did not run");
    assert!(run.added_path.is_empty());
}

#[cfg(unix)]
#[test]
fn a_busy_release_server_is_retried() {
    let repo = repo();
    let server = ReleaseServer::start();
    publish(&server, "9.8.7", |t| stub_binary("9.8.7", t));
    let target = "aarch64-apple-darwin";
    let name = format!("v9.8.7/{}", asset_name("9.8.7", target));
    server.unavailable(&name, 1);
    let run = run_install(&repo.path, &server, ("macOS", "ARM64"), "v9.8.7", &[], &[]);
    assert_eq!(run.outcomes["install-release"], "success", "{}", run.log);
    assert_eq!(
        server.requests(),
        [name.clone(), name, "v9.8.7/SHA256SUMS".to_string()]
    );

    // Always busy: the retries are bounded and the step fails, with no build.
    let server = ReleaseServer::start();
    publish(&server, "9.8.7", |t| stub_binary("9.8.7", t));
    let name = format!("v9.8.7/{}", asset_name("9.8.7", target));
    server.unavailable(&name, 1000);
    let run = run_install(&repo.path, &server, ("macOS", "ARM64"), "v9.8.7", &[], &[]);
    assert_eq!(run.outcomes["install-release"], "failure", "{}", run.log);
    assert!(run.log.contains("HTTP 503"), "{}", run.log);
    assert_eq!(server.requests().len(), 4, "one try and three retries");
    assert_eq!(run.outcomes["install-build"], "skipped");
}

#[cfg(unix)]
#[test]
fn the_action_scans_with_the_release_binary_it_installed() {
    let repo = repo();
    let server = ReleaseServer::start();
    let version = env!("CARGO_PKG_VERSION");
    // The "release binary" runs the built one, so the rest of the action works as released.
    let real = env!("CARGO_BIN_EXE_leakgate");
    publish(&server, version, |_| {
        format!("#!/bin/sh\nexec '{real}' \"$@\"\n").into_bytes()
    });
    let run = run_action_with(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree")],
        RunOptions {
            path: Some(path_without_leakgate()),
            no_built_binary: true,
            action_ref: &format!("v{version}"),
            env: vec![("LEAKGATE_RELEASE_BASE_URL", server.base_url())],
            ..RunOptions::default()
        },
    );
    assert_eq!(
        run.outputs["install-plan"]["install"], "true",
        "{}",
        run.log
    );
    assert_eq!(
        run.outputs["install-release"]["build"], "false",
        "{}",
        run.log
    );
    assert_eq!(
        run.added_path,
        [release_bin(&run, version, "x86_64-unknown-linux-musl")]
    );
    assert_eq!(run.outcomes["scan"], "success", "{}", run.log);
    assert_eq!(run.output("findings"), "1", "{}", run.log);
    assert_eq!(run.sarif_paths(), ["app.env"]);
    assert!(run.upload().is_some());
}

// ---------------------------------------------------------------------------------------------
// The report: what is uploaded, under which category, and the step summary.

/// A summary cell as the action escapes it: every character but letters, digits and ` ./-:,=+@()`
/// as a numeric character reference, so no path or secret can shape the Markdown.
fn summary_cell(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || " ./-:,=+@()".contains(c) {
                c.to_string()
            } else {
                format!("&#{};", c as u32)
            }
        })
        .collect()
}

/// The summary row of a Genesys secret found at `place` (`path:line`) in `commit` (empty for
/// a tree scan).
fn summary_row(place: &str, commit: &str, secret: &str) -> String {
    format!(
        "| genesys-client-secret | critical | {} | {} | {} |",
        summary_cell(place),
        commit.get(..12).unwrap_or(commit),
        summary_cell(&format!("{}*****", &secret[..4]))
    )
}

#[test]
fn the_step_summary_is_a_table_of_redacted_findings() {
    let repo = repo();
    let first = git(&repo.path, &["rev-parse", "main~1"]).trim().to_string();
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "history"), ("fail-on-findings", "false")],
    );
    check_common(&run, 2);
    let lines: Vec<&str> = run.summary.lines().collect();
    assert!(
        lines.contains(&"**2 finding(s)**: 2 critical"),
        "{}",
        run.summary
    );
    let header = lines
        .iter()
        .position(|l| *l == "| Rule | Severity | Where | Commit | Secret |")
        .unwrap_or_else(|| panic!("{}", run.summary));
    assert_eq!(lines[header + 1], "|---|---|---|---|---|");
    assert_eq!(
        lines[header + 2..],
        [
            summary_row("app.env:2", &repo.head, &common::genesys_secret(102)),
            summary_row("legacy.env:2", &first, &common::genesys_secret(101)),
        ]
    );
    for seed in [101, 102] {
        assert!(!run.summary.contains(&common::genesys_secret(seed)));
    }

    // Asked for --no-redact, leakgate puts the secret in the SARIF; the summary still hides it.
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[
            ("mode", "tree"),
            ("args", "--no-redact"),
            ("fail-on-findings", "false"),
        ],
    );
    check_common(&run, 1);
    let secret = common::genesys_secret(102);
    assert!(run.sarif().to_string().contains(&secret));
    assert!(!run.summary.contains(&secret), "{}", run.summary);
    assert!(
        run.summary.contains(&summary_row("app.env:2", "", &secret)),
        "{}",
        run.summary
    );
}

#[test]
fn the_step_summary_caps_its_table_and_escapes_what_the_repository_names() {
    let repo = repo();
    // 54 more secrets, untracked (a tree scan reads them), one under a name made of Markdown.
    let mut files: Vec<(String, String)> = (0..53)
        .map(|i| (format!("conf/{i:02}.env"), env_file(300 + i)))
        .collect();
    files.push(("a|b*_[x](y)`<i>.env".to_string(), env_file(400)));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    write_files(&repo.path, &files);
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree"), ("fail-on-findings", "false")],
    );
    check_common(&run, 55);
    assert!(
        run.summary
            .lines()
            .any(|l| l == "**55 finding(s)**: 55 critical"),
        "{}",
        run.summary
    );
    let rows: Vec<&str> = run
        .summary
        .lines()
        .filter(|l| l.starts_with("| genesys-client-secret |"))
        .collect();
    assert_eq!(rows.len(), 50, "{}", run.summary);
    assert!(
        run.summary
            .lines()
            .any(|l| l == "... and 5 more: see code scanning or the SARIF report."),
        "{}",
        run.summary
    );
    // The odd name sorts after app.env: its row is whole, every Markdown character escaped.
    assert_eq!(
        rows[1],
        summary_row("a|b*_[x](y)`<i>.env:2", "", &common::genesys_secret(400)),
        "{}",
        run.summary
    );
    assert!(rows[1].contains("| a&#124;b&#42;&#95;&#91;x&#93;(y)&#96;&#60;i&#62;.env:2 |"));
    for row in &rows {
        assert_eq!(row.matches('|').count(), 6, "{row}");
    }
}

#[test]
fn a_stale_report_is_never_uploaded() {
    let repo = repo();
    let stale = repo.path.join("leakgate.sarif");
    let plant = || std::fs::write(&stale, "{\"stale\": true}").unwrap();

    // leakgate fails (exit 2): the earlier step's report is gone, nothing is uploaded.
    plant();
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree"), ("config", "no-such-config.toml")],
    );
    assert_eq!(run.outputs["scan"]["exit-code"], "2", "{}", run.log);
    assert_eq!(run.outputs["scan"]["sarif-written"], "false");
    assert!(run.upload().is_none(), "{}", run.log);
    assert!(!stale.exists(), "{}", run.log);
    assert!(run.log.contains("left by an earlier step"), "{}", run.log);

    // The scan never runs (the plan fails): no upload, and the stale report is gone too.
    plant();
    let run = run_action(&repo.path, "schedule", json!({}), &[("mode", "sideways")]);
    assert_eq!(run.outcomes["scan"], "skipped");
    assert!(run.upload().is_none());
    assert!(!stale.exists(), "{}", run.log);

    // A scan that runs uploads its own report (the stale one is not valid SARIF).
    plant();
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree")],
    );
    check_common(&run, 1);
    assert_eq!(run.outputs["scan"]["sarif-written"], "true");
}

#[test]
fn the_category_input_overrides_the_computed_one() {
    let repo = repo();
    let run = run_action(
        &repo.path,
        "pull_request",
        pull_request(&repo.base, &repo.head),
        &[("category", "secrets/leakgate-pr")],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "range", "{}", run.log);
    assert_eq!(run.output("category"), "secrets/leakgate-pr");
    assert_eq!(
        run.upload().expect("uploaded").with["category"],
        "secrets/leakgate-pr"
    );
    assert_eq!(run.sarif_paths(), ["app.env"]);

    // One line only: a category cannot smuggle other step outputs in.
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree"), ("category", "a\nscanned=tree")],
    );
    assert_eq!(run.outcomes["plan"], "failure", "{}", run.log);
    assert!(run.upload().is_none());
}

#[test]
fn the_path_input_scans_a_repository_inside_the_workspace() {
    let repo = repo();
    // The workspace holds the repository in `work/`, as `actions/checkout` with `path: work`.
    let workspace = repo.path.parent().unwrap().to_path_buf();
    let out = common::run_in(
        &repo.path,
        &["baseline", "create", "--output", ".leakgate-baseline.json"],
    );
    assert_eq!(out.status.code(), Some(0));

    let run = run_action(
        &workspace,
        "pull_request",
        pull_request(&repo.base, &repo.head),
        &[("path", "work")],
    );
    assert_eq!(run.outputs["scan"]["scanned"], "range", "{}", run.log);
    check_common(&run, 1);
    assert_eq!(run.sarif_paths(), ["app.env"]);
    // The report is in the workspace; code scanning is told where the repository is.
    assert!(workspace.join("leakgate.sarif").is_file());
    assert!(!repo.path.join("leakgate.sarif").exists());
    assert_eq!(
        std::fs::canonicalize(&run.upload().unwrap().with["checkout_path"]).unwrap(),
        std::fs::canonicalize(&repo.path).unwrap()
    );

    // The baseline resolves in the repository, not the workspace.
    let run = run_action(
        &workspace,
        "workflow_dispatch",
        json!({}),
        &[
            ("path", "work"),
            ("mode", "tree"),
            ("baseline", ".leakgate-baseline.json"),
        ],
    );
    check_common(&run, 0);
    assert!(!run.failed, "{}", run.log);

    // A path that is not there is an error, before any scan.
    let run = run_action(
        &workspace,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree"), ("path", "nowhere")],
    );
    assert!(run.failed);
    assert_eq!(run.outcomes["plan"], "failure", "{}", run.log);
}

#[test]
fn annotations_escape_what_the_repository_names() {
    let repo = repo();
    write_files(&repo.path, &[("x,line=1,title=y:z.env", &env_file(500))]);
    let run = run_action(
        &repo.path,
        "workflow_dispatch",
        json!({}),
        &[("mode", "tree"), ("fail-on-findings", "false")],
    );
    check_common(&run, 2);
    let annotations: Vec<&str> = run
        .log
        .lines()
        .filter(|l| l.starts_with("::error file="))
        .collect();
    assert_eq!(annotations.len(), 2, "{}", run.log);
    for a in annotations {
        // file=VALUE,line=N,title=VALUE::message: the name adds no property and ends none.
        let props = a
            .strip_prefix("::error ")
            .unwrap()
            .split("::")
            .next()
            .unwrap();
        let keys: Vec<&str> = props
            .split(',')
            .map(|p| p.split('=').next().unwrap())
            .collect();
        assert_eq!(keys, ["file", "line", "title"], "{a}");
    }
}
