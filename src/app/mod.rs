//! Orchestration: turn parsed arguments into validated options, run the scan, then the
//! optional steps, then the report, and decide the exit code.

mod baseline;
mod git;
mod verify;

use crate::cli::{Cli, ColorArg, Command, FormatArg, RulesCommand, ScanArgs};
use anyhow::{bail, Context, Result};
use leakgate::config::Config;
use leakgate::finding::{ScanReport, VerificationStatus};
use leakgate::matcher::Matcher;
use leakgate::report::{self, Format, ReportOptions};
use leakgate::rules;
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
}

impl ScanPlan {
    fn from_args(args: &ScanArgs) -> Result<Self> {
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        for p in &paths {
            if std::fs::symlink_metadata(p).is_err() {
                bail!("{}: no such file or directory", p.display());
            }
        }
        let base = base_for(&paths[0]);
        let config = match &args.config {
            Some(file) => Config::load(file)?,
            None => Config::discover(&base)?.0,
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
        })
    }
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
            let abs: Vec<PathBuf> = plan
                .paths
                .iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .collect();
            scan::fs::scan_paths(&plan.matcher, &abs, &plan.base, &plan.scan)
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
            if files.is_empty() {
                rules = rules::builtin();
            }
            for f in &files {
                rules.extend(rules::load_file(f)?);
            }
            let errors = rules::lint(&rules);
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
