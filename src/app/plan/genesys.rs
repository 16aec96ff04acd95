//! Planning `leakgate genesys ...`: the region, the admin client from the environment, the
//! network options (as `scan --revoke` builds them), the configuration's decoy, protected and
//! policy settings, and where a new secret goes.

use super::verify::{admin_from_env, options, ADMIN_ID_ENV, ADMIN_SECRET_ENV};
use super::{base_for, load_config, Print};
use crate::cli::{
    AdminArgs, DecoyCommand, GenesysCommand, HandoverArgs, PostureFormat, RevokeActionArg,
    SeverityArg, VerifyArgs,
};
use anyhow::{bail, Context, Result};
use leakgate::config::{Config, CONFIG_FILE_NAME};
use leakgate::providers::genesys::{self, decoy, handover::Handover, posture};
use leakgate::verify::VerifyOptions;
use std::path::{Path, PathBuf};

/// The admin session of a `genesys` command.
#[derive(Debug)]
pub struct AdminPlan {
    /// The region domain.
    pub domain: &'static str,
    /// Network options with the admin client (in `revoke`).
    pub options: VerifyOptions,
    /// The admin client's id (never rotated by these commands).
    pub admin_id: String,
    pub config: Config,
}

/// One `genesys` command, planned.
#[derive(Debug)]
pub enum GenesysPlan {
    Audit {
        admin: AdminPlan,
        format: Print,
        fail_on: Option<posture::Severity>,
        usage: bool,
    },
    DecoyCreate {
        admin: AdminPlan,
        spec: decoy::DecoySpec,
        handover: Handover,
        /// The configuration file the id is added to.
        config_path: PathBuf,
    },
    DecoyList {
        admin: AdminPlan,
        format: Print,
    },
    DecoyRotate {
        admin: AdminPlan,
        client_id: String,
        handover: Handover,
    },
    Rotate {
        admin: AdminPlan,
        client_id: String,
        force: bool,
        handover: Handover,
    },
}

impl GenesysPlan {
    /// Plan a `genesys` command line.
    pub fn from_command(command: GenesysCommand) -> Result<Self> {
        Ok(match command {
            GenesysCommand::Audit(a) => GenesysPlan::Audit {
                admin: admin_plan(&a.admin)?,
                format: print(a.format),
                fail_on: a.fail_on.map(severity),
                usage: !a.no_usage,
            },
            GenesysCommand::Decoy {
                command: DecoyCommand::Create(a),
            } => {
                let handover = secret_handover(&a.handover, None)?;
                let name = a.name.unwrap_or_else(|| decoy::DEFAULT_NAME.to_string());
                if name.trim().is_empty() || name.chars().count() > 100 {
                    bail!("--name must be 1 to 100 characters");
                }
                for r in a.role_ids.iter().chain(a.division_id.iter()) {
                    if !(1..=64).contains(&r.len())
                        || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        bail!("--role-id and --division-id take ids (letters, digits and -)");
                    }
                }
                let config_path = match &a.admin.config {
                    Some(p) => p.clone(),
                    None => base_for(Path::new(".")).join(CONFIG_FILE_NAME),
                };
                GenesysPlan::DecoyCreate {
                    admin: admin_plan(&a.admin)?,
                    spec: decoy::DecoySpec {
                        name,
                        description: a
                            .description
                            .unwrap_or_else(|| decoy::DEFAULT_DESCRIPTION.to_string()),
                        role_ids: a.role_ids,
                        division_id: a.division_id,
                    },
                    handover,
                    config_path,
                }
            }
            GenesysCommand::Decoy {
                command: DecoyCommand::List(a),
            } => GenesysPlan::DecoyList {
                admin: admin_plan(&a.admin)?,
                format: print(a.format),
            },
            GenesysCommand::Decoy {
                command: DecoyCommand::Rotate(a),
            } => GenesysPlan::DecoyRotate {
                handover: secret_handover(&a.handover, None)?,
                client_id: client_id(&a.client_id)?,
                admin: admin_plan(&a.admin)?,
            },
            GenesysCommand::Rotate(a) => GenesysPlan::Rotate {
                handover: secret_handover(&a.handover, Some(&a.to_command))?,
                client_id: client_id(&a.client_id)?,
                force: a.force,
                admin: admin_plan(&a.admin)?,
            },
        })
    }
}

fn print(f: PostureFormat) -> Print {
    match f {
        PostureFormat::Text => Print::Text,
        PostureFormat::Json => Print::Json,
    }
}

fn severity(s: SeverityArg) -> posture::Severity {
    match s {
        SeverityArg::Info => posture::Severity::Info,
        SeverityArg::Low => posture::Severity::Low,
        SeverityArg::Medium => posture::Severity::Medium,
        SeverityArg::High => posture::Severity::High,
        SeverityArg::Critical => posture::Severity::Critical,
    }
}

fn client_id(raw: &str) -> Result<String> {
    let id = raw.trim().to_ascii_lowercase();
    if !genesys::is_client_id(&id) {
        // Not quoted: a value pasted into the wrong flag may be a secret.
        bail!("--client-id must be a Genesys client id (a lowercase UUID v4)");
    }
    Ok(id)
}

/// Exactly one place for the new secret; `command` is `--to-command`, where the command has it.
fn secret_handover(h: &HandoverArgs, command: Option<&[std::ffi::OsString]>) -> Result<Handover> {
    let mut chosen = Vec::new();
    if let Some(p) = &h.secret_out {
        chosen.push(Handover::File(p.clone()));
    }
    if h.secret_stdout {
        chosen.push(Handover::Stdout);
    }
    if let Some(argv) = command.filter(|c| !c.is_empty()) {
        chosen.push(Handover::Command(argv.to_vec()));
    }
    match chosen.len() {
        1 => Ok(chosen.remove(0)),
        0 => bail!(
            "say where the new secret goes: --secret-out FILE or --secret-stdout{}",
            if command.is_some() {
                " or --to-command CMD"
            } else {
                ""
            }
        ),
        _ => bail!("give only one of --secret-out, --secret-stdout and --to-command"),
    }
}

fn admin_plan(a: &AdminArgs) -> Result<AdminPlan> {
    // Not quoted: a value pasted into the wrong flag may be a secret.
    let domain = genesys::region_domain(&a.region).with_context(|| {
        format!(
            "--region: not a Genesys region; use one of {} (the name or its domain)",
            genesys::region_list()
        )
    })?;
    let config = load_config(a.config.as_deref())?;
    let Some(admin) = admin_from_env()? else {
        bail!("genesys commands need the admin client's credentials in {ADMIN_ID_ENV} and {ADMIN_SECRET_ENV}");
    };
    let v = VerifyArgs {
        revoke: true,
        revoke_action: RevokeActionArg::Rotate,
        audit_log: a.audit_log.clone(),
        verify_rate: a.rate,
        verify_timeout: a.timeout,
        verify_attempts: a.attempts,
        verify_time_scale: a.time_scale,
        ..VerifyArgs::default()
    };
    Ok(AdminPlan {
        domain,
        options: options(&v, &config)?,
        admin_id: admin.client_id.to_ascii_lowercase(),
        config,
    })
}
