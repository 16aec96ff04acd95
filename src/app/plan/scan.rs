//! Planning a scan: what to read and how, the configuration and baseline in force (from the
//! trusted commit when there is one), the report, and the verify step.

use super::trusted::Trusted;
use super::verify::{self, VerifyPlan};
use super::{base_for, plainly_not_a_secret};
use crate::cli::{FormatArg, ScanArgs};
use anyhow::{bail, Result};
use leakgate::baseline::Baseline;
use leakgate::config::Config;
use leakgate::matcher::Matcher;
use leakgate::report::{Format, ReportOptions};
use leakgate::rules;
use leakgate::scan::fs::{Input, STDIN_NAME};
use leakgate::scan::ScanOptions;
use std::path::{Path, PathBuf};

/// `--config-from` value that reads from the disk.
const WORKTREE: &str = "worktree";

/// Everything `leakgate scan` does, validated and resolved.
pub struct ScanPlan {
    /// What is read.
    pub source: Source,
    /// The folder findings' paths are relative to: the repository root, or the scan root.
    pub base: PathBuf,
    /// The configuration in force (from the trusted commit when there is one).
    pub config: Config,
    pub matcher: Matcher,
    pub scan: ScanOptions,
    pub format: Format,
    pub report: ReportOptions,
    pub output: Output,
    /// Print nothing on stderr but errors.
    pub quiet: bool,
    /// Each secret once, with its other places (`--no-group` clears it).
    pub group: bool,
    /// `--cache`: the history or range scan's file of blobs known clean.
    pub cache: Option<PathBuf>,
    /// Findings listed here are suppressed and counted.
    pub baseline: Option<Baseline>,
    pub verify: VerifyPlan,
    /// Warnings from planning (a configuration the change modifies, a baseline the trusted
    /// commit lacks), shown with the report's.
    pub notes: Vec<String>,
}

/// What a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Files, folders and standard input, as the disk has them.
    Tree(Vec<Input>),
    /// One repository, read through Git. `repo` is the path as given, for messages.
    Git { repo: PathBuf, mode: GitMode },
}

/// Which of a repository's contents a Git scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitMode {
    /// What is staged for the next commit, against HEAD.
    Staged,
    /// Every blob reachable from any ref; with `all_objects`, the unreachable ones too.
    History { all_objects: bool },
    /// Only what the commits of the range (`A..B`, `A...B`) introduce.
    Range(String),
}

impl GitMode {
    /// The range spec, for a range scan.
    pub fn range(&self) -> Option<&str> {
        match self {
            GitMode::Range(spec) => Some(spec),
            _ => None,
        }
    }
}

/// Where the configuration (and a baseline inside the repository) is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The disk.
    Disk,
    /// This commit (`--config-from REV`).
    Commit(String),
    /// The base of the range scanned (the default for a range).
    RangeBase,
}

/// Where a report or baseline is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    /// `--output FILE`; `-` (or no flag) is standard output.
    fn from_arg(file: Option<&Path>) -> Self {
        match file {
            None => Output::Stdout,
            Some(f) if f.as_os_str() == "-" => Output::Stdout,
            Some(f) => Output::File(f.to_path_buf()),
        }
    }

    /// The file, when the output is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Output::Stdout => None,
            Output::File(f) => Some(f),
        }
    }
}

/// `leakgate baseline create`: a scan whose findings become a baseline.
pub struct BaselinePlan {
    /// The scan (with no baseline of its own and no verify step).
    pub scan: ScanPlan,
    /// Entries of an earlier baseline kept in the new one.
    pub keep: Option<Baseline>,
}

/// What the scan flags ask for, checked against each other; nothing on disk is read yet.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Request {
    /// What to scan, as given (default `.`).
    pub paths: Vec<PathBuf>,
    /// `None` for the disk; else the Git mode (one repository path).
    pub git: Option<GitMode>,
    /// The name standard input is shown as, when `-` is among the paths.
    pub stdin_name: Option<String>,
    pub config_source: ConfigSource,
    /// Said on stderr with the report's warnings: what a pre-push scan reads when it is more
    /// than the pushed commits.
    pub note: Option<String>,
}

/// What pre-commit tells a pre-push hook about the push, in its environment. It sets the two
/// refs for a push onto a commit the remote has (`from` = the remote's commit) and for a new
/// branch whose commits have a parent the remote has (`from` = that parent); for a push that
/// includes a root commit it sets neither, only the local branch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct PushRefs {
    pub from: Option<String>,
    pub to: Option<String>,
    pub local_branch: Option<String>,
}

impl PushRefs {
    /// `PRE_COMMIT_FROM_REF`, `PRE_COMMIT_TO_REF` and `PRE_COMMIT_LOCAL_BRANCH`; empty ones are
    /// absent.
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        PushRefs {
            from: var("PRE_COMMIT_FROM_REF"),
            to: var("PRE_COMMIT_TO_REF"),
            local_branch: var("PRE_COMMIT_LOCAL_BRANCH"),
        }
    }

    /// The scan of a push: `from..to`; else the pushed ref's ancestry; else the full history.
    /// The note says why when it is not `from..to`.
    pub(super) fn mode(self) -> (GitMode, Option<String>) {
        const WHY: &str = "pre-push: PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF are not set (a push that includes a root commit, or not run by pre-commit)";
        match self {
            PushRefs {
                from: Some(from),
                to: Some(to),
                ..
            } => (GitMode::Range(format!("{from}..{to}")), None),
            PushRefs {
                local_branch: Some(branch),
                ..
            } => {
                let shown = if plainly_not_a_secret(&branch) {
                    branch.as_str()
                } else {
                    "(not quoted: it could be a secret)"
                };
                let note = format!("{WHY}: scanning the whole history of the pushed ref {shown}");
                (GitMode::Range(branch), Some(note))
            }
            PushRefs { .. } => (
                GitMode::History { all_objects: false },
                Some(format!("{WHY}: scanning the full history")),
            ),
        }
    }
}

impl Request {
    pub(super) fn from_args(args: &ScanArgs) -> Result<Self> {
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        let g = &args.git;
        let mut note = None;
        let git = if g.staged {
            Some(GitMode::Staged)
        } else if let Some(range) = &g.range {
            Some(GitMode::Range(range.clone()))
        } else if g.pre_push {
            let (mode, why) = PushRefs::from_env().mode();
            note = why;
            Some(mode)
        } else if g.history {
            Some(GitMode::History {
                all_objects: g.all_objects,
            })
        } else {
            None
        };
        let stdin = paths.iter().any(|p| is_stdin(p));
        if stdin && git.is_some() {
            bail!("standard input (`-`) is scanned as a file, not with --staged, --history or --range");
        }
        if args.stdin_name.is_some() && !stdin {
            bail!("--stdin-name names standard input: give `-` among the paths");
        }
        let history_like = matches!(git, Some(GitMode::History { .. } | GitMode::Range(_)));
        if g.cache.is_some() && !history_like {
            bail!("--cache keeps what a history scan read: use it with --history or --range");
        }
        if git.is_some() && paths.len() > 1 {
            bail!("a Git scan takes one repository path, not {}", paths.len());
        }
        let config_source = match g.config_from.as_deref().map(str::trim) {
            Some(WORKTREE) => ConfigSource::Disk,
            Some(rev) => ConfigSource::Commit(rev.to_string()),
            // A pre-push range's base is the commit the remote has: trusted like a PR's base.
            None if matches!(git, Some(GitMode::Range(_))) => ConfigSource::RangeBase,
            None => ConfigSource::Disk,
        };
        Ok(Request {
            paths,
            git,
            stdin_name: stdin.then(|| args.stdin_name.clone().unwrap_or_else(|| STDIN_NAME.into())),
            config_source,
            note,
        })
    }

    /// What is read: the Git repository, or each path (absolute) and standard input.
    fn source(&self) -> Source {
        match &self.git {
            Some(mode) => Source::Git {
                repo: self.paths[0].clone(),
                mode: mode.clone(),
            },
            None => Source::Tree(
                self.paths
                    .iter()
                    .map(|p| match &self.stdin_name {
                        Some(name) if is_stdin(p) => Input::Stdin { name: name.clone() },
                        _ => Input::Path(std::path::absolute(p).unwrap_or_else(|_| p.clone())),
                    })
                    .collect(),
            ),
        }
    }
}

impl ScanPlan {
    /// Plan `leakgate scan`.
    pub fn from_args(args: &ScanArgs) -> Result<Self> {
        let mut plan = Resolved::from_args(args)?;
        let baseline = match &args.baseline.baseline {
            Some(file) => Some(plan.baseline(file)?),
            None => None,
        };
        let verify = verify::scan_plan(&args.verify, &plan.config)?;
        Ok(plan.finish(args, baseline, verify))
    }
}

impl BaselinePlan {
    /// Plan `leakgate baseline create`.
    pub fn from_args(args: &ScanArgs) -> Result<Self> {
        let v = &args.verify;
        if v.verify || v.revoke || v.audit_log.is_some() || v.notify_webhook.is_some() {
            bail!("`baseline create` records findings without verifying them: --verify, --revoke, --audit-log and --notify-webhook do not apply");
        }
        let mut plan = Resolved::from_args(args)?;
        let keep = match &args.baseline.baseline {
            Some(file) => Some(plan.baseline(file)?),
            None => None,
        };
        Ok(BaselinePlan {
            scan: plan.finish(args, None, VerifyPlan::Off),
            keep,
        })
    }
}

/// A scan's request with its inputs checked, the trusted commit found and the configuration
/// read: what both `scan` and `baseline create` need.
struct Resolved {
    request: Request,
    base: PathBuf,
    trusted: Option<Trusted>,
    config: Config,
    matcher: Matcher,
    notes: Vec<String>,
}

impl Resolved {
    fn from_args(args: &ScanArgs) -> Result<Self> {
        verify::check_flags(&args.verify)?;
        let request = Request::from_args(args)?;
        let paths = &request.paths;
        for (n, p) in paths.iter().enumerate().filter(|(_, p)| !is_stdin(p)) {
            if std::fs::symlink_metadata(p).is_err() {
                // A value typed after a flag that takes none lands here, and it may be a
                // secret: quoted only when no part of it could be one.
                let shown = p.to_str().filter(|s| plainly_not_a_secret(s));
                match shown {
                    Some(s) => bail!("{s}: no such file or directory"),
                    None => bail!(
                        "path {} of the {} given to scan does not exist (not quoted: it could be a secret)",
                        n + 1,
                        paths.len()
                    ),
                }
            }
        }
        // Standard input says nothing about where config lives: the first path does, or `.`.
        let first = paths.iter().find(|p| !is_stdin(p));
        let first = first.map_or(Path::new("."), PathBuf::as_path);
        let base = base_for(first);
        let range = request.git.as_ref().and_then(GitMode::range);
        let trusted = Trusted::resolve(&request.config_source, range, first)?;
        let mut notes: Vec<String> = request.note.iter().cloned().collect();
        let config = match &trusted {
            Some(t) => t.config(args.config.as_deref(), &mut notes)?,
            None => match &args.config {
                Some(file) => Config::load(file)?,
                None => Config::discover(&base)?.0,
            },
        };
        let matcher = Matcher::new(rules::builtin(), &config)?;
        Ok(Resolved {
            request,
            base,
            trusted,
            config,
            matcher,
            notes,
        })
    }

    /// The baseline at `file`: from the trusted commit when there is one and the file lies in
    /// the repository, else from the disk.
    fn baseline(&mut self, file: &Path) -> Result<Baseline> {
        if let Some(t) = &self.trusted {
            if let Some(b) = t.baseline(file, &mut self.notes)? {
                return Ok(b);
            }
        }
        Ok(Baseline::load(file)?)
    }

    fn finish(self, args: &ScanArgs, baseline: Option<Baseline>, verify: VerifyPlan) -> ScanPlan {
        let Resolved {
            request,
            base,
            config,
            matcher,
            notes,
            ..
        } = self;
        let mut scan = ScanOptions {
            no_ignore: args.no_ignore,
            follow_links: args.follow_links,
            ..ScanOptions::default()
        };
        if let Some(n) = args.max_file_size.or(config.scan.max_file_size) {
            scan.max_file_size = n;
        }
        let output = Output::from_arg(args.output.as_deref());
        let report = ReportOptions {
            reveal: args.no_redact,
            color: crate::app::global::colour(args.color, &output),
            all_locations: args.all_locations,
            rules: matcher.rules().cloned().collect(),
        };
        ScanPlan {
            source: request.source(),
            base,
            config,
            matcher,
            scan,
            format: match args.format {
                FormatArg::Text => Format::Text,
                FormatArg::Json => Format::Json,
                FormatArg::Sarif => Format::Sarif,
            },
            report,
            output,
            quiet: args.quiet,
            group: !args.no_group,
            cache: args.git.cache.clone(),
            baseline,
            verify,
            notes,
        }
    }
}

/// Whether a path on the command line means standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}
