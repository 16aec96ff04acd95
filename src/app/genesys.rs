//! `leakgate genesys ...`: runs a [`GenesysPlan`] on one admin session, prints the report (a
//! table or JSON) and decides the exit code. New secrets reach only their hand-over.

use super::plan::{AdminPlan, GenesysPlan, Print};
use super::{stdout, Outcome};
use anyhow::{bail, Context, Result};
use leakgate::providers::genesys::decoy::{self, DecoyStatus};
use leakgate::providers::genesys::handover::Handover;
use leakgate::providers::genesys::posture::{
    AuditOptions, AuditReport, ClientReport, Session, Severity, Usage, NOT_EXPOSED,
};
use leakgate::providers::genesys::rotate::{Confirmation, Rotation};
use leakgate::report::escape_control;
use std::io::Write;

/// The warning every rotation prints: what the platform does not offer.
const SINGLE_SECRET_WARNING: &str = "Genesys Cloud keeps one secret per OAuth client (the Platform API documents only POST /api/v2/oauth/clients/{id}/secret, which replaces it); there is no overlapping second secret, so the old secret stops working now and everything still using it fails until it has the new one";

/// Run a planned `genesys` command.
pub fn command(plan: GenesysPlan) -> Result<Outcome> {
    match plan {
        GenesysPlan::Audit {
            admin,
            format,
            fail_on,
            usage,
        } => audit(admin, format, fail_on, usage),
        GenesysPlan::DecoyCreate {
            admin,
            spec,
            handover,
            config_path,
        } => {
            handover.preflight()?;
            let mut session = open(&admin)?;
            let created = session.create_decoy(&spec);
            let (id, secret) = match created {
                Ok(c) => c,
                Err(e) => {
                    finish(session);
                    return Err(e.into());
                }
            };
            // The id is recorded before the hand-over: a decoy that exists is one to know of.
            let recorded = decoy::add_decoy_id(&config_path, &id);
            let delivered = session.deliver(&id, &secret, &handover, &mut stdout());
            drop(secret);
            finish(session);
            let mut err = std::io::stderr().lock();
            let shown = escape_control(&config_path.display().to_string()).into_owned();
            match recorded {
                Ok(_) => writeln!(err, "leakgate: decoy {id} created; its id is in {shown} (decoy_client_ids)")?,
                Err(e) => writeln!(
                    err,
                    "leakgate: error: decoy {id} created but not recorded ({}); add it to [genesys] decoy_client_ids by hand",
                    super::messages::describe(&anyhow::Error::new(e))
                )?,
            }
            match delivered {
                Ok(d) => writeln!(err, "leakgate: its secret was {d}; it is shown nowhere else")?,
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "decoy {id} created but its secret was not handed over: run `leakgate genesys decoy rotate --client-id {id}`"
                    )))
                }
            }
            Ok(Outcome::Clean)
        }
        GenesysPlan::DecoyList { admin, format } => {
            let mut session = open(&admin)?;
            let ids = admin.config.providers.genesys.decoy_client_ids.clone();
            let list = session.decoy_status(&ids, &admin.config.providers.genesys.policy);
            finish(session);
            emit(format, &list, |l, out| decoy_table(l, out))?;
            // As a scan: a decoy found wanting before one that could not be read.
            Ok(if list.iter().any(|d| d.exists.is_some() && !d.harmless) {
                Outcome::Findings
            } else if list.iter().any(|d| d.exists.is_none()) {
                Outcome::Error
            } else {
                Outcome::Clean
            })
        }
        GenesysPlan::DecoyRotate {
            admin,
            client_id,
            handover,
        } => {
            let decoys = &admin.config.providers.genesys.decoy_client_ids;
            if !listed(decoys, &client_id) {
                refuse(&admin, &client_id, &format!("client {client_id} is not in [genesys] decoy_client_ids; rotate other clients with `leakgate genesys rotate`"))?;
            }
            rotate(&admin, &client_id, &handover, false)
        }
        GenesysPlan::Rotate {
            admin,
            client_id,
            force,
            handover,
        } => {
            let g = &admin.config.providers.genesys;
            let refusal = if client_id == admin.admin_id {
                Some("refusing to rotate the admin client this command runs as; rotate it from another admin client".to_string())
            } else if listed(&g.decoy_client_ids, &client_id) {
                Some(format!("client {client_id} is a decoy: use `leakgate genesys decoy rotate`, which never uses the decoy (a token request would raise its alarm)"))
            } else if listed(&g.protected_client_ids, &client_id) && !force {
                Some(format!("client {client_id} is in [genesys] protected_client_ids: rotating it is an outage for what uses it; add --force to rotate it anyway"))
            } else {
                None
            };
            if let Some(why) = refusal {
                refuse(&admin, &client_id, &why)?;
            }
            writeln!(
                std::io::stderr(),
                "leakgate: warning: {SINGLE_SECRET_WARNING}"
            )?;
            rotate(&admin, &client_id, &handover, true)
        }
    }
}

/// Record the refusal in the audit log (nothing is sent), then fail with it.
fn refuse(admin: &AdminPlan, id: &str, why: &str) -> Result<()> {
    let mut session = open(admin)?;
    session.refuse_rotation(id, why);
    finish(session);
    bail!("{why}")
}

fn listed(ids: &[String], id: &str) -> bool {
    ids.iter().any(|d| d.trim().eq_ignore_ascii_case(id))
}

fn open(admin: &AdminPlan) -> Result<Session> {
    Ok(Session::open(admin.options.clone(), admin.domain)?)
}

/// Close the session (its admin token is deleted) and show its warnings.
fn finish(session: Session) {
    let summary = session.finish();
    let mut err = std::io::stderr().lock();
    for w in &summary.warnings {
        let _ = writeln!(err, "leakgate: warning: {}", escape_control(w));
    }
}

fn rotate(admin: &AdminPlan, id: &str, handover: &Handover, confirm: bool) -> Result<Outcome> {
    let mut session = open(admin)?;
    let result = session.rotate_client(id, handover, &mut stdout(), confirm);
    finish(session);
    let r: Rotation = result?;
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "leakgate: the secret of {} ({}) was regenerated and {}",
        r.client_id,
        escape_control(r.client_name.as_deref().unwrap_or("unnamed")),
        r.delivered
    )?;
    Ok(match &r.confirmation {
        Confirmation::Live => {
            writeln!(err, "leakgate: the new secret was confirmed: the token endpoint issued a token for it (deleted at once)")?;
            Outcome::Clean
        }
        Confirmation::Skipped(why) => {
            writeln!(err, "leakgate: the new secret was not checked: {why}")?;
            Outcome::Clean
        }
        Confirmation::NotConfirmed(why) => {
            writeln!(
                err,
                "leakgate: error: the new secret was handed over but not confirmed live: {}",
                escape_control(why)
            )?;
            Outcome::Error
        }
    })
}

fn audit(
    admin: AdminPlan,
    format: Print,
    fail_on: Option<Severity>,
    usage: bool,
) -> Result<Outcome> {
    let g = &admin.config.providers.genesys;
    let opts = AuditOptions {
        policy: g.policy.clone(),
        decoy_client_ids: g.decoy_client_ids.clone(),
        protected_client_ids: g.protected_client_ids.clone(),
        usage,
    };
    let mut session = open(&admin)?;
    let result = session.audit(&opts);
    finish(session);
    let report = result.context("the audit could not read the org's OAuth clients")?;
    emit(format, &report, |r, out| audit_table(r, out))?;
    let mut err = std::io::stderr().lock();
    if format == Print::Json {
        for e in &report.errors {
            writeln!(err, "leakgate: error: {}", escape_control(e))?;
        }
    }
    let failing = fail_on.is_some_and(|f| report.worst().is_some_and(|w| w >= f));
    Ok(if failing {
        Outcome::Findings
    } else if !report.errors.is_empty() {
        Outcome::Error
    } else {
        Outcome::Clean
    })
}

/// Write `doc` on standard output as JSON, or as `table` writes it.
fn emit<T: serde::Serialize + ?Sized>(
    format: Print,
    doc: &T,
    table: impl FnOnce(&T, &mut dyn Write) -> Result<()>,
) -> Result<()> {
    let mut out = stdout();
    if format == Print::Json {
        serde_json::to_writer_pretty(&mut out, doc)?;
        writeln!(out)?;
    } else {
        table(doc, &mut out)?;
    }
    out.flush()?;
    Ok(())
}

/// Cut to `n` characters, control characters escaped.
fn cell(s: &str, n: usize) -> String {
    let s = escape_control(s);
    if s.chars().count() > n {
        s.chars().take(n.saturating_sub(1)).collect::<String>() + "…"
    } else {
        s.into_owned()
    }
}

/// The day of an ISO-8601 date (its first 10 characters).
fn day(d: &str) -> String {
    escape_control(&d.chars().take(10).collect::<String>()).into_owned()
}

fn date(d: Option<&str>) -> String {
    d.map_or_else(|| "-".to_string(), day)
}

fn last_use(c: &ClientReport) -> String {
    match &c.usage {
        Usage::Known(u) => match &u.last_used {
            Some(d) => day(d),
            None if u.requests > 0 => format!("{} req/{}d", u.requests, u.days),
            None => format!("none in {}d", u.days),
        },
        Usage::NotQueried => "not asked".into(),
        Usage::Unavailable { .. } => "unavailable".into(),
    }
}

fn audit_table(r: &AuditReport, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "OAuth clients in {}: {}", r.region, r.clients.len())?;
    writeln!(
        out,
        "{:<36}  {:<28}  {:<18}  {:<8}  {:>6}  {:<24}  {:<10}  {:<10}",
        "CLIENT ID", "NAME", "GRANT", "STATE", "TTL s", "ROLES", "CREATED", "LAST USE"
    )?;
    for c in &r.clients {
        let k = &c.client;
        let mut name = k.name.clone().unwrap_or_else(|| "-".into());
        if c.decoy {
            name = format!("{name} [decoy]");
        } else if c.protected {
            name = format!("{name} [protected]");
        }
        let roles = k
            .roles
            .iter()
            .map(|g| g.role_name.clone().unwrap_or_else(|| g.role_id.clone()))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "{:<36}  {:<28}  {:<18}  {:<8}  {:>6}  {:<24}  {:<10}  {:<10}",
            cell(&k.id, 36),
            cell(&name, 28),
            cell(k.grant.as_deref().unwrap_or("-"), 18),
            cell(k.state.as_deref().unwrap_or("-"), 8),
            k.token_lifetime_secs
                .map_or_else(|| "-".to_string(), |t| t.to_string()),
            cell(if roles.is_empty() { "-" } else { &roles }, 24),
            date(k.date_created.as_deref()),
            last_use(c),
        )?;
    }
    writeln!(
        out,
        "Secret age and IP restrictions: {NOT_EXPOSED} (the OAuth client record has no such fields); not checked."
    )?;
    writeln!(out)?;
    writeln!(out, "Findings: {}", r.findings.len())?;
    for f in &r.findings {
        writeln!(
            out,
            "{:<8}  {}  {}: {}",
            f.severity.as_str(),
            cell(&f.client_id, 36),
            cell(f.client_name.as_deref().unwrap_or("-"), 40),
            escape_control(&f.message)
        )?;
    }
    if !r.errors.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Errors (the audit is incomplete where these say): {}",
            r.errors.len()
        )?;
        for e in &r.errors {
            writeln!(out, "error: {}", escape_control(e))?;
        }
    }
    Ok(())
}

fn decoy_table(list: &[DecoyStatus], out: &mut dyn Write) -> Result<()> {
    if list.is_empty() {
        writeln!(
            out,
            "no decoys configured ([genesys] decoy_client_ids is empty)"
        )?;
        return Ok(());
    }
    for d in list {
        let state = match (d.exists, d.harmless) {
            (None, _) => "unknown",
            (Some(false), _) => "missing",
            (Some(true), true) => "harmless",
            (Some(true), false) => "NOT harmless",
        };
        writeln!(
            out,
            "{:<36}  {:<12}  {:<28}  {:<8}  {}",
            cell(&d.client_id, 36),
            state,
            cell(d.name.as_deref().unwrap_or("-"), 28),
            cell(d.state.as_deref().unwrap_or("-"), 8),
            d.token_lifetime_secs
                .map_or_else(|| "-".to_string(), |t| format!("{t} s"))
        )?;
        for p in &d.problems {
            writeln!(out, "    {}", escape_control(p))?;
        }
    }
    Ok(())
}
