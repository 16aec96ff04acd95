//! Orchestration: turn parsed arguments into validated options, run the scan, then the
//! optional steps, then the report, and decide the exit code.

mod baseline;
mod git;
mod trusted;
mod verify;

use crate::cli::{Cli, ColorArg, Command, FormatArg, RulesCommand, ScanArgs};
use anyhow::{bail, Context, Result};
use leakgate::config::Config;
use leakgate::finding::{ScanReport, VerificationStatus};
use leakgate::matcher::Matcher;
use leakgate::report::{self, Format, ReportOptions};
use leakgate::rules;
use leakgate::scan::fs::{Input, STDIN_NAME};
use leakgate::scan::{self, ScanOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// How a run ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean = 0,
    Findings = 1,
    Error = 2,
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Scan(args) => scan_command(&args),
        Command::Baseline { command } => baseline::command(command),
        Command::Rules { command } => rules_command(command),
        Command::Verify(args) => verify::command(&args),
        Command::InstallHook(args) => git::install_hook(&args),
    }
}

/// Everything a scan needs, validated.
pub struct ScanPlan {
    /// What to scan, as given (default `.`).
    pub paths: Vec<PathBuf>,
    /// The folder findings' paths are relative to: the repository root, or the scan root.
    pub base: PathBuf,
    pub config: Config,
    pub matcher: Matcher,
    pub scan: ScanOptions,
    pub format: Format,
    pub report: ReportOptions,
    /// The commit configuration and baseline are read from (the base of a range scan), or
    /// `None` for the disk.
    pub trusted: Option<trusted::Trusted>,
    /// Warnings from planning (a configuration the change modifies), shown with the report's.
    pub notes: Vec<String>,
}

impl ScanPlan {
    fn from_args(args: &ScanArgs) -> Result<Self> {
        verify::check_flags(&args.verify)?;
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        let stdin = paths.iter().any(|p| is_stdin(p));
        if stdin && (args.git.staged || args.git.history || args.git.range.is_some()) {
            bail!("standard input (`-`) is scanned as a file, not with --staged, --history or --range");
        }
        if args.stdin_name.is_some() && !stdin {
            bail!("--stdin-name names standard input: give `-` among the paths");
        }
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
        let trusted = trusted::Trusted::for_scan(args, first)?;
        let mut notes = Vec::new();
        let config = match &trusted {
            Some(t) => t.config(args.config.as_deref(), &mut notes)?,
            None => match &args.config {
                Some(file) => Config::load(file)?,
                None => Config::discover(&base)?.0,
            },
        };
        let matcher = Matcher::new(rules::builtin(), &config)?;
        let mut scan = ScanOptions {
            no_ignore: args.no_ignore,
            follow_links: args.follow_links,
            ..ScanOptions::default()
        };
        if let Some(n) = args.max_file_size.or(config.scan.max_file_size) {
            scan.max_file_size = n;
        }
        let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
        let report = ReportOptions {
            reveal: args.no_redact,
            color: match args.color {
                ColorArg::Always => true,
                ColorArg::Never => false,
                ColorArg::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
            },
            rules: matcher.rules().cloned().collect(),
        };
        let format = match args.format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
        };
        Ok(ScanPlan {
            paths,
            base,
            config,
            matcher,
            scan,
            format,
            report,
            trusted,
            notes,
        })
    }
}

/// Whether a path on the command line means standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// True when no part of `s` between separators is long and mixed enough to be a credential
/// (16 characters or more drawing on three of: upper case, lower case, digits, symbols).
pub(crate) fn plainly_not_a_secret(s: &str) -> bool {
    s.split(['/', '\\', '.', ' ']).all(|part| {
        let classes = [
            part.bytes().any(|b| b.is_ascii_uppercase()),
            part.bytes().any(|b| b.is_ascii_lowercase()),
            part.bytes().any(|b| b.is_ascii_digit()),
            part.bytes().any(|b| !b.is_ascii_alphanumeric()),
        ];
        part.len() < 16 || classes.iter().filter(|&&c| c).count() < 3
    }) && !s.chars().any(char::is_control)
}

/// The folder paths are reported against: the repository root when the first path is inside a
/// Git working tree, else the path itself (or its folder, for a file).
fn base_for(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = if abs.is_dir() {
        abs.clone()
    } else {
        abs.parent().map(Path::to_path_buf).unwrap_or(abs.clone())
    };
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(dir)
}

fn scan_command(args: &ScanArgs) -> Result<Outcome> {
    let plan = ScanPlan::from_args(args)?;
    let mut report = collect(&plan, args)?;
    report.warnings.extend(plan.notes.iter().cloned());
    baseline::apply(&plan, args, &mut report)?;
    verify::apply(&plan, args, &mut report)?;
    finish(&plan, args, report)
}

/// Run the scan the plan names (a Git source, else the folders), before baselines and
/// verification.
fn collect(plan: &ScanPlan, args: &ScanArgs) -> Result<ScanReport> {
    Ok(match git::scan(plan, args)? {
        Some(report) => report,
        None => {
            let inputs: Vec<Input> = plan
                .paths
                .iter()
                .map(|p| {
                    if is_stdin(p) {
                        let name = args.stdin_name.clone();
                        Input::Stdin {
                            name: name.unwrap_or_else(|| STDIN_NAME.into()),
                        }
                    } else {
                        Input::Path(std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                    }
                })
                .collect();
            scan::fs::scan_inputs(&plan.matcher, &inputs, &plan.base, &plan.scan)
        }
    })
}

/// Write the report and warnings, and map the result to an outcome.
fn finish(plan: &ScanPlan, args: &ScanArgs, report: ScanReport) -> Result<Outcome> {
    match &args.output {
        Some(file) => {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(file)
                    .with_context(|| format!("creating {}", file.display()))?,
            );
            report::write(plan.format, &report, &plan.report, &mut f)?;
            f.flush()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            report::write(plan.format, &report, &plan.report, &mut lock)?;
            lock.flush()?;
        }
    }
    let mut err = std::io::stderr().lock();
    if !args.quiet {
        for w in &report.warnings {
            writeln!(err, "leakgate: warning: {}", report::escape_control(w))?;
        }
        git::hint(args, &report, &mut err)?;
    }
    if plan.format != Format::Text || args.output.is_some() {
        for e in &report.errors {
            writeln!(
                err,
                "leakgate: error: {}: {}",
                report::escape_control(&e.path),
                report::escape_control(&e.message)
            )?;
        }
    }
    // Decoys are planted on purpose: reported, never a failure.
    let failing = report
        .findings
        .iter()
        .filter(|f| f.verification.as_ref().map(|v| v.status) != Some(VerificationStatus::Decoy));
    Ok(if failing.count() > 0 {
        Outcome::Findings
    } else if !report.errors.is_empty() {
        Outcome::Error
    } else {
        Outcome::Clean
    })
}

fn rules_command(command: RulesCommand) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match command {
        RulesCommand::List { json, config } => {
            let config = match config {
                Some(f) => Config::load(&f)?,
                None => Config::discover(&base_for(Path::new(".")))?.0,
            };
            let matcher = Matcher::new(rules::builtin(), &config)?;
            if json {
                let all: Vec<_> = matcher.rules().collect();
                serde_json::to_writer_pretty(&mut out, &all)?;
                writeln!(out)?;
            } else {
                for r in matcher.rules() {
                    writeln!(
                        out,
                        "{:<40} {:<9} {:<7} {}",
                        r.id,
                        r.severity.to_string(),
                        r.confidence.to_string(),
                        r.name
                    )?;
                }
            }
            Ok(Outcome::Clean)
        }
        RulesCommand::Check { files } => {
            let mut rules = Vec::new();
            let errors = if files.is_empty() {
                rules = rules::builtin();
                rules::lint_builtin(&rules)
            } else {
                for f in &files {
                    rules.extend(rules::load_file(f)?);
                }
                rules::lint(&rules)
            };
            for e in &errors {
                writeln!(out, "{e}")?;
            }
            writeln!(
                out,
                "{} rule(s) checked, {} problem(s)",
                rules.len(),
                errors.len()
            )?;
            Ok(if errors.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Findings
            })
        }
    }
}
