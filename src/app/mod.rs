//! The commands: each runs a [`plan::Plan`] (the validated command line) and decides the exit
//! code. A scan runs its source, then the baseline, then the verify step, then the report.

mod baseline;
mod genesys;
mod git;
pub mod global;
pub mod messages;
pub mod plan;
mod serve;
mod verify;

use anyhow::{Context, Result};
use clap::CommandFactory;
pub use global::{stdout, Global, Level};
use leakgate::finding::{ScanReport, VerificationStatus};
use leakgate::matcher::Matcher;
use leakgate::report::{self, Format};
use leakgate::rules;
use leakgate::scan;
use plan::{Output, Plan, Print, RuleSource, RulesPlan, ScanPlan, Source, VerifyPlan};
use std::io::Write;
use std::time::Instant;

/// How a run ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean = 0,
    Findings = 1,
    Error = 2,
}

/// Set the process up as the global flags say, plan the command line, and run it.
pub fn start(cli: crate::cli::Cli, global: &Global) -> Result<Outcome> {
    global.apply()?;
    let t = Instant::now();
    let plan = plan::plan(cli)?;
    let quiet = match &plan {
        Plan::Scan(p) => p.quiet,
        Plan::BaselineCreate(p) => p.scan.quiet,
        _ => false,
    };
    global.quieted(quiet).say(Level::Debug, || {
        format!(
            "planned in {} ms; {} worker thread(s)",
            t.elapsed().as_millis(),
            rayon::current_num_threads()
        )
    });
    run(plan, global)
}

/// Run a planned command.
pub fn run(plan: Plan, global: &Global) -> Result<Outcome> {
    match plan {
        Plan::Scan(plan) => scan_command(*plan, global),
        Plan::BaselineCreate(mut plan) => {
            plan.scan.quiet = global.quieted(plan.scan.quiet).level < Level::Warn;
            baseline::create(*plan)
        }
        Plan::BaselineImport(plan) => baseline::import(&plan),
        Plan::Rules(plan) => rules_command(plan, global),
        Plan::Verify(plan) => verify::command(*plan),
        Plan::Genesys(plan) => genesys::command(*plan),
        Plan::Serve(plan) => serve::run(*plan),
        Plan::InstallHook(plan) => git::install_hook(&plan),
        Plan::Completions(shell) => {
            let mut out = stdout();
            clap_complete::generate(shell, &mut crate::cli::Cli::command(), "leakgate", &mut out);
            out.flush()?;
            Ok(Outcome::Clean)
        }
        Plan::Man(command) => {
            let mut cmd = crate::cli::Cli::command();
            // Built, so a command's page has the global flags and its full name.
            cmd.build();
            let page = match command {
                None => clap_mangen::Man::new(cmd),
                Some(name) => {
                    let sub = cmd
                        .find_subcommand(&name)
                        .context("no manual page for that command")?;
                    clap_mangen::Man::new(sub.clone())
                        .title(format!("leakgate-{name}"))
                        .source(format!("leakgate {}", env!("CARGO_PKG_VERSION")))
                }
            };
            let mut out = stdout();
            page.render(&mut out)?;
            out.flush()?;
            Ok(Outcome::Clean)
        }
    }
}

fn scan_command(mut plan: ScanPlan, global: &Global) -> Result<Outcome> {
    let global = &global.quieted(plan.quiet);
    // Everything that reads `quiet` (the progress bar, warnings) follows the level.
    plan.quiet = global.level < Level::Warn;
    global.say(Level::Debug, || {
        format!("{} rule(s) in force", plan.matcher.rules().count())
    });
    let t = Instant::now();
    let mut report = collect(&plan)?;
    global.say(Level::Debug, || {
        format!(
            "read in {} ms: {} {}, {} bytes, {} secret(s), {} error(s)",
            t.elapsed().as_millis(),
            report.stats.files,
            report.kind.unit(),
            report.stats.bytes,
            report.secrets(),
            report.errors.len()
        )
    });
    report.warnings.append(&mut plan.notes);
    if let Some(b) = &plan.baseline {
        b.suppress(&mut report);
        global.say(Level::Debug, || {
            format!(
                "baseline suppressed {} finding(s)",
                report.stats.suppressed_by_baseline
            )
        });
    }
    // Taken, not copied: the options may hold the admin client's secret.
    let step = std::mem::replace(&mut plan.verify, VerifyPlan::Off);
    // Run even when off: it marks the configuration's decoys.
    let t = Instant::now();
    verify::apply(step, &plan.config, &mut report)?;
    global.say(Level::Debug, || {
        format!("verify step in {} ms", t.elapsed().as_millis())
    });
    finish(&plan, report, global)
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

/// Write the report, then on stderr what `level` shows (warnings, hints, the summary when the
/// report is not text on standard output, and always the errors), and map the result to an
/// outcome.
fn finish(plan: &ScanPlan, report: ScanReport, global: &Global) -> Result<Outcome> {
    let level = global.level;
    let t = Instant::now();
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
            let mut out = stdout();
            report::write(plan.format, &report, &plan.report, &mut out)?;
            out.flush()?;
        }
    }
    global.say(Level::Debug, || {
        format!("report written in {} ms", t.elapsed().as_millis())
    });
    global.say(Level::Trace, || {
        // Counts and milliseconds only.
        format!("counters {}", serde_json::json!(report.stats))
    });
    let mut err = std::io::stderr().lock();
    if level >= Level::Warn {
        for w in &report.warnings {
            writeln!(err, "leakgate: warning: {}", report::escape_control(w))?;
        }
    }
    if level >= Level::Info {
        git::hint(plan, &report, &mut err)?;
    }
    // The console sees the summary and the errors in a text report on standard output; with a
    // report file, JSON or SARIF they come here.
    if plan.format != Format::Text || plan.output != Output::Stdout {
        if level >= Level::Info {
            writeln!(err, "leakgate: {}", report::summary(&report))?;
        }
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

fn rules_command(plan: RulesPlan, global: &Global) -> Result<Outcome> {
    let mut out = stdout();
    match plan {
        RulesPlan::List { matcher, format } => {
            list_rules(&matcher, format, &mut out)?;
            out.flush()?;
            Ok(Outcome::Clean)
        }
        RulesPlan::Export {
            rules,
            provider,
            format,
        } => {
            let exports = leakgate::github::patterns::export(&rules);
            match format {
                Print::Json => {
                    serde_json::to_writer_pretty(
                        &mut out,
                        &leakgate::github::patterns::json(&exports),
                    )?;
                    writeln!(out)?;
                }
                Print::Text => write!(out, "{}", leakgate::github::patterns::text(&exports))?,
            }
            out.flush()?;
            let refused = exports.iter().filter(|e| e.is_err()).count();
            global.say(Level::Info, || {
                format!(
                    "{} {provider} rule(s) exported as GitHub custom patterns, {refused} not exportable",
                    exports.len() - refused
                )
            });
            Ok(if refused == 0 {
                Outcome::Clean
            } else {
                Outcome::Findings
            })
        }
        RulesPlan::Check(source) => {
            // Rule files are linted together (ids unique across them); each problem names the
            // file its rule came from (built-in rules have none).
            let mut rules = Vec::new();
            let mut origin = Vec::new();
            let errors = match &source {
                RuleSource::Builtin => {
                    rules = rules::builtin();
                    rules::lint_builtin(&rules)
                }
                RuleSource::Files(files) => {
                    for f in files {
                        let found = rules_in(f)?;
                        origin.extend(std::iter::repeat_n(f, found.len()));
                        rules.extend(found);
                    }
                    rules::lint(&rules)
                }
            };
            for e in &errors {
                let file = rules
                    .iter()
                    .position(|r| r.id == e.rule_id)
                    .and_then(|i| origin.get(i));
                match file {
                    Some(f) => writeln!(
                        out,
                        "{}: {e}",
                        report::escape_control(&f.display().to_string())
                    )?,
                    None => writeln!(out, "{e}")?,
                }
            }
            writeln!(
                out,
                "{} rule(s) checked, {} problem(s)",
                rules.len(),
                errors.len()
            )?;
            out.flush()?;
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
