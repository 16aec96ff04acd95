//! `leakgate baseline create`: a scan's findings written as a baseline; `leakgate baseline
//! import`: another scanner's known findings, found again by leakgate, written as one.

use super::plan::{BaselinePlan, ImportPlan, Output};
use super::Outcome;
use anyhow::{Context, Result};
use leakgate::baseline::import::{import_file, ImportOptions};
use leakgate::baseline::{Baseline, BaselineEntry};
use leakgate::report::escape_control;
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
    write(&baseline, &plan.output)?;
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

/// Import a gitleaks report or detect-secrets baseline: write the baseline of what leakgate
/// recovered, then on stderr the counts and each finding not imported (by place and rule,
/// never by secret). A file read is exit 0, however many were not recoverable.
pub fn import(plan: &ImportPlan) -> Result<Outcome> {
    let imported = import_file(
        &plan.file,
        &ImportOptions {
            matcher: &plan.matcher,
            root: &plan.root,
            max_file_size: plan.max_file_size,
        },
    )?;
    write(&imported.baseline, &plan.output)?;
    let mut err = std::io::stderr().lock();
    for n in &imported.not_imported {
        writeln!(
            err,
            "leakgate: not imported: {}:{} ({}): {}",
            escape_control(&n.path),
            n.line,
            escape_control(&n.rule),
            n.reason
        )?;
    }
    writeln!(
        err,
        "leakgate: {} {}: imported {}, not recoverable {}; baseline of {} entr{} written to {}",
        imported.format,
        escape_control(&plan.file.display().to_string()),
        imported.recovered,
        imported.not_imported.len(),
        imported.baseline.len(),
        if imported.baseline.len() == 1 {
            "y"
        } else {
            "ies"
        },
        plan.output.file().map_or_else(
            || "standard output".into(),
            |p| escape_control(&p.display().to_string()).into_owned()
        )
    )?;
    Ok(Outcome::Clean)
}

/// Write `baseline` where `output` says.
fn write(baseline: &Baseline, output: &Output) -> Result<()> {
    match output {
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
    Ok(())
}
