//! `leakgate baseline create`: a scan's findings written as a baseline.

use super::plan::{BaselinePlan, Output};
use super::Outcome;
use anyhow::{Context, Result};
use leakgate::baseline::{Baseline, BaselineEntry};
use std::io::Write;

/// Scan, then write every finding (plus the entries of `--baseline`, when given) as a baseline.
/// Findings never fail this command; unreadable inputs do, after the file is written, since a
/// baseline made from a partial scan may miss what they hold.
pub fn create(plan: BaselinePlan) -> Result<Outcome> {
    let BaselinePlan { scan: plan, keep } = plan;
    let report = super::collect(&plan)?;
    let mut findings: Vec<_> = report
        .findings
        .iter()
        .map(BaselineEntry::from_finding)
        .collect();
    if let Some(old) = keep {
        findings.extend(old.findings);
    }
    let baseline = Baseline::from_entries(findings);
    match &plan.output {
        Output::File(file) => {
            let mut out = std::io::BufWriter::new(
                std::fs::File::create(file)
                    .with_context(|| format!("creating {}", file.display()))?,
            );
            baseline.write(&mut out)?;
            out.flush()
                .with_context(|| format!("writing {}", file.display()))?;
        }
        Output::Stdout => {
            let mut out = super::stdout();
            baseline.write(&mut out)?;
            out.flush()?;
        }
    }
    let mut err = std::io::stderr().lock();
    if !plan.quiet {
        for w in plan.notes.iter().chain(&report.warnings) {
            writeln!(err, "leakgate: warning: {w}")?;
        }
    }
    for e in &report.errors {
        writeln!(err, "leakgate: error: {}: {}", e.path, e.message)?;
    }
    if !plan.quiet {
        writeln!(
            err,
            "leakgate: baseline of {} finding(s) written to {}",
            baseline.len(),
            plan.output
                .file()
                .map_or_else(|| "standard output".into(), |p| p.display().to_string())
        )?;
    }
    Ok(if report.errors.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Error
    })
}
