//! Baselines: suppressing known findings on a scan, and `leakgate baseline create`.

use super::{Outcome, ScanPlan};
use crate::cli::{BaselineCommand, ScanArgs};
use anyhow::{Context, Result};
use leakgate::baseline::Baseline;
use leakgate::finding::ScanReport;
use std::io::Write;
use std::path::Path;

/// Drop the findings the baseline file lists, counting them. In a range scan a baseline inside
/// the repository is read at the trusted commit, as the configuration is.
pub fn apply(plan: &ScanPlan, args: &ScanArgs, report: &mut ScanReport) -> Result<()> {
    if let Some(file) = &args.baseline.baseline {
        load(plan, file, &mut report.warnings)?.suppress(report);
    }
    Ok(())
}

/// The baseline at `file`: from the trusted commit when the plan has one and the file lies in
/// the repository, else from the disk.
fn load(plan: &ScanPlan, file: &Path, warnings: &mut Vec<String>) -> Result<Baseline> {
    match &plan.trusted {
        Some(t) => match t.baseline(file, warnings)? {
            Some(b) => Ok(b),
            None => Ok(Baseline::load(file)?),
        },
        None => Ok(Baseline::load(file)?),
    }
}

/// Run `leakgate baseline ...`.
pub fn command(command: BaselineCommand) -> Result<Outcome> {
    match command {
        BaselineCommand::Create(args) => create(&args),
    }
}

/// Scan, then write every finding (plus the entries of `--baseline`, when given) as a baseline.
/// Findings never fail this command; unreadable inputs do, after the file is written, since a
/// baseline made from a partial scan may miss what they hold.
fn create(args: &ScanArgs) -> Result<Outcome> {
    let plan = ScanPlan::from_args(args)?;
    let report = super::collect(&plan, args)?;
    let mut findings: Vec<_> = report
        .findings
        .iter()
        .map(leakgate::baseline::BaselineEntry::from_finding)
        .collect();
    let mut warnings = plan.notes.clone();
    if let Some(old) = &args.baseline.baseline {
        findings.extend(load(&plan, old, &mut warnings)?.findings);
    }
    let baseline = Baseline::from_entries(findings);
    match &args.output {
        Some(file) => {
            let mut out = std::io::BufWriter::new(
                std::fs::File::create(file)
                    .with_context(|| format!("creating {}", file.display()))?,
            );
            baseline.write(&mut out)?;
            out.flush()
                .with_context(|| format!("writing {}", file.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            baseline.write(&mut out)?;
            out.flush()?;
        }
    }
    let mut err = std::io::stderr().lock();
    if !args.quiet {
        for w in warnings.iter().chain(&report.warnings) {
            writeln!(err, "leakgate: warning: {w}")?;
        }
    }
    for e in &report.errors {
        writeln!(err, "leakgate: error: {}: {}", e.path, e.message)?;
    }
    if !args.quiet {
        writeln!(
            err,
            "leakgate: baseline of {} finding(s) written to {}",
            baseline.len(),
            args.output
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "standard output".into())
        )?;
    }
    Ok(if report.errors.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}
