//! Planning: the parsed command line becomes one complete, validated plan per command. Every
//! flag is read here, once, checked against the others and turned into typed values; the
//! commands receive plans and never see an argument struct.

mod genesys;
mod import;
mod scan;
mod serve;
#[cfg(test)]
mod tests;
mod trusted;
mod verify;

pub use genesys::{AdminPlan, GenesysPlan};
pub use import::ImportPlan;
pub use scan::{BaselinePlan, ConfigSource, GitMode, Output, ScanPlan, Source};
pub use serve::ServePlan;
pub use verify::{SecretSource, VerifyCommandPlan, VerifyPlan, ADMIN_ID_ENV, ADMIN_SECRET_ENV};

use crate::cli::{BaselineCommand, Cli, Command, ExportFormatArg, InstallHookArgs, RulesCommand};
use anyhow::Result;
use leakgate::config::Config;
use leakgate::matcher::Matcher;
use leakgate::rules;
use std::path::{Path, PathBuf};

/// One command, planned.
pub enum Plan {
    /// `leakgate scan`.
    Scan(Box<ScanPlan>),
    /// `leakgate baseline create`.
    BaselineCreate(Box<BaselinePlan>),
    /// `leakgate baseline import`.
    BaselineImport(Box<ImportPlan>),
    /// `leakgate verify`.
    Verify(Box<VerifyCommandPlan>),
    /// `leakgate genesys ...`.
    Genesys(Box<GenesysPlan>),
    /// `leakgate serve`.
    Serve(Box<ServePlan>),
    /// `leakgate install-hook`.
    InstallHook(InstallHookPlan),
    /// `leakgate rules ...`.
    Rules(RulesPlan),
    /// `leakgate completions SHELL`.
    Completions(clap_complete::Shell),
    /// `leakgate man [COMMAND]`: leakgate's page, or a command's.
    Man(Option<String>),
}

/// `leakgate install-hook`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallHookPlan {
    /// Where to look for the repository.
    pub start: PathBuf,
    /// What to do with a pre-commit hook leakgate did not write.
    pub foreign_hook: ForeignHook,
}

/// A pre-commit hook that leakgate did not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignHook {
    /// Stop, and say how to add leakgate to it.
    Keep,
    /// Move it to `pre-commit.bak` and write ours.
    Replace,
}

/// `leakgate rules ...`.
pub enum RulesPlan {
    /// Print the rules in force.
    List {
        /// The built-in rules plus the configuration's.
        matcher: Box<Matcher>,
        format: Print,
    },
    /// Lint rule files, or the built-in rules.
    Check(RuleSource),
    /// Print the rules in force of one provider as GitHub custom patterns.
    Export {
        /// The rules in force of the provider, in order.
        rules: Vec<leakgate::rules::Rule>,
        provider: String,
        format: Print,
    },
}

/// How `rules list` and `verify` print: for people, or as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Print {
    Text,
    Json,
}

/// The rules `rules check` lints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSource {
    /// The rules compiled into leakgate, with the stricter built-in lint.
    Builtin,
    /// These rule files.
    Files(Vec<PathBuf>),
}

/// Plan the parsed command line.
pub fn plan(cli: Cli) -> Result<Plan> {
    Ok(match cli.command {
        Command::Scan(args) => Plan::Scan(Box::new(ScanPlan::from_args(&args)?)),
        Command::Baseline {
            command: BaselineCommand::Create(args),
        } => Plan::BaselineCreate(Box::new(BaselinePlan::from_args(&args)?)),
        Command::Baseline {
            command: BaselineCommand::Import(args),
        } => Plan::BaselineImport(Box::new(ImportPlan::from_args(&args)?)),
        Command::Verify(args) => Plan::Verify(Box::new(VerifyCommandPlan::from_args(&args)?)),
        Command::Genesys { command } => {
            Plan::Genesys(Box::new(GenesysPlan::from_command(command)?))
        }
        Command::Serve(args) => Plan::Serve(Box::new(ServePlan::from_args(&args)?)),
        Command::InstallHook(args) => Plan::InstallHook(install_hook(&args)),
        Command::Rules { command } => Plan::Rules(rules_plan(command)?),
        Command::Completions { shell } => Plan::Completions(shell),
        Command::Man { command } => Plan::Man(command),
    })
}

fn install_hook(args: &InstallHookArgs) -> InstallHookPlan {
    InstallHookPlan {
        start: args.repo.clone().unwrap_or_else(|| PathBuf::from(".")),
        foreign_hook: if args.force {
            ForeignHook::Replace
        } else {
            ForeignHook::Keep
        },
    }
}

fn rules_plan(command: RulesCommand) -> Result<RulesPlan> {
    Ok(match command {
        RulesCommand::List { json, config } => {
            let config = load_config(config.as_deref())?;
            RulesPlan::List {
                matcher: Box::new(Matcher::new(rules::builtin(), &config)?),
                format: if json { Print::Json } else { Print::Text },
            }
        }
        RulesCommand::Check { files } if files.is_empty() => RulesPlan::Check(RuleSource::Builtin),
        RulesCommand::Check { files } => RulesPlan::Check(RuleSource::Files(files)),
        RulesCommand::Export {
            format: ExportFormatArg::GithubCustomPatterns,
            json,
            provider,
            config,
        } => {
            let config = load_config(config.as_deref())?;
            let matcher = Matcher::new(rules::builtin(), &config)?;
            let rules: Vec<_> = matcher
                .rules()
                .filter(|r| r.provider.as_deref() == Some(provider.as_str()))
                .cloned()
                .collect();
            if rules.is_empty() {
                anyhow::bail!("no rules in force for the provider {provider:?}");
            }
            RulesPlan::Export {
                rules,
                provider,
                format: if json { Print::Json } else { Print::Text },
            }
        }
    })
}

/// The configuration `file` names, else `.leakgate.toml` at the root of the repository (or
/// folder) leakgate runs in.
fn load_config(file: Option<&Path>) -> Result<Config> {
    Ok(match file {
        Some(f) => Config::load(f)?,
        None => Config::discover(&base_for(Path::new(".")))?.0,
    })
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
