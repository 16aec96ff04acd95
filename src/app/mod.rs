//! The commands: each runs a [`plan::Plan`] (the validated command line) and decides the exit
//! code. A scan runs its source, then the baseline, then the verify step, then the report.

mod baseline;
mod git;
pub mod messages;
pub mod plan;
mod verify;

use anyhow::{Context, Result};
use leakgate::finding::{ScanReport, VerificationStatus};
use leakgate::matcher::Matcher;
use leakgate::report::{self, Format};
use leakgate::rules;
use leakgate::scan;
use plan::{Output, Plan, Print, RuleSource, RulesPlan, ScanPlan, Source, VerifyPlan};
use std::io::Write;

/// How a run ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean = 0,
    Findings = 1,
    Error = 2,
}

/// Run a planned command.
pub fn run(plan: Plan) -> Result<Outcome> {
    match plan {
        Plan::Scan(plan) => scan_command(*plan),
        Plan::BaselineCreate(plan) => baseline::create(*plan),
        Plan::BaselineImport(plan) => baseline::import(&plan),
        Plan::Rules(plan) => rules_command(plan),
        Plan::Verify(plan) => verify::command(*plan),
        Plan::InstallHook(plan) => git::install_hook(&plan),
    }
}

fn scan_command(mut plan: ScanPlan) -> Result<Outcome> {
    let mut report = collect(&plan)?;
    report.warnings.append(&mut plan.notes);
    if let Some(b) = &plan.baseline {
        b.suppress(&mut report);
    }
    // Taken, not copied: the options may hold the admin client's secret.
    let step = std::mem::replace(&mut plan.verify, VerifyPlan::Off);
    verify::apply(step, &plan.config, &mut report)?;
    finish(&plan, report)
}

/// Run the scan the plan names (a Git source, else the folders), before baselines and
/// verification.
fn collect(plan: &ScanPlan) -> Result<ScanReport> {
    let mut report = match &plan.source {
        Source::Git { repo, mode } => git::scan(plan, repo, mode)?,
        Source::Tree(inputs) => {
            scan::fs::scan_inputs(&plan.matcher, inputs, &plan.base, &plan.scan)
        }
    };
    messages::add_hints(&mut report);
    if plan.group {
        report.group();
    }
    Ok(report)
}

/// Write the report and warnings, and map the result to an outcome.
fn finish(plan: &ScanPlan, report: ScanReport) -> Result<Outcome> {
    match &plan.output {
        Output::File(file) => {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(file)
                    .with_context(|| format!("creating {}", file.display()))?,
            );
            report::write(plan.format, &report, &plan.report, &mut f)?;
            f.flush()?;
        }
        Output::Stdout => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            report::write(plan.format, &report, &plan.report, &mut lock)?;
            lock.flush()?;
        }
    }
    let mut err = std::io::stderr().lock();
    if !plan.quiet {
        for w in &report.warnings {
            writeln!(err, "leakgate: warning: {}", report::escape_control(w))?;
        }
        git::hint(plan, &report, &mut err)?;
    }
    if plan.format != Format::Text || plan.output != Output::Stdout {
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

fn rules_command(plan: RulesPlan) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match plan {
        RulesPlan::List { matcher, format } => {
            list_rules(&matcher, format, &mut out)?;
            Ok(Outcome::Clean)
        }
        RulesPlan::Check(source) => {
            let mut rules = Vec::new();
            let errors = match &source {
                RuleSource::Builtin => {
                    rules = rules::builtin();
                    rules::lint_builtin(&rules)
                }
                RuleSource::Files(files) => {
                    // Each file's rules are linted together (ids unique across them), and each
                    // problem names the file its rule came from.
                    let mut origin = Vec::new();
                    for f in files {
                        let found = rules_in(f)?;
                        origin.extend(std::iter::repeat_n(f, found.len()));
                        rules.extend(found);
                    }
                    let errors = rules::lint(&rules);
                    for e in &errors {
                        let file = rules
                            .iter()
                            .position(|r| r.id == e.rule_id)
                            .map(|i| origin[i].display().to_string());
                        match file {
                            Some(f) => writeln!(out, "{}: {e}", report::escape_control(&f))?,
                            None => writeln!(out, "{e}")?,
                        }
                    }
                    errors
                }
            };
            if matches!(source, RuleSource::Builtin) {
                for e in &errors {
                    writeln!(out, "{e}")?;
                }
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

/// The rules `file` holds: a configuration's `[[rules]]` when it is one (named
/// `.leakgate.toml`, or holding keys besides `rules`: `[allow]`, `[scan]`, a provider's
/// section), checked as a configuration is when loaded; else a rule file's.
fn rules_in(file: &std::path::Path) -> Result<Vec<leakgate::rules::Rule>> {
    let named_config = file
        .file_name()
        .is_some_and(|n| n == leakgate::config::CONFIG_FILE_NAME);
    let has_other_keys = || {
        let Ok(bytes) = leakgate::config::read_regular(file, rules::MAX_RULE_FILE_BYTES) else {
            return false;
        };
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| toml::from_str::<toml::Table>(t).ok())
            .is_some_and(|t| t.keys().any(|k| k != "rules"))
    };
    Ok(if named_config || has_other_keys() {
        let config = leakgate::config::Config::load(file)?;
        // The allowlists compile too, as a scan would need them; the rules are the linter's.
        let allow_only = leakgate::config::Config {
            rules: Vec::new(),
            ..config.clone()
        };
        Matcher::new(Vec::new(), &allow_only)
            .with_context(|| report::escape_control(&file.display().to_string()).into_owned())?;
        config.rules
    } else {
        // A file that cannot be read or parsed gets the rule loader's own error.
        rules::load_file(file)?
    })
}

/// `rules list`: the rules in force, as a table or JSON.
fn list_rules(matcher: &Matcher, format: Print, out: &mut impl Write) -> Result<()> {
    match format {
        Print::Json => {
            let all: Vec<_> = matcher.rules().collect();
            serde_json::to_writer_pretty(&mut *out, &all)?;
            writeln!(out)?;
        }
        Print::Text => {
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
    }
    Ok(())
}
