//! Command-line types (clap derive). `app::plan` turns them into validated plans; nothing else
//! in the app sees them.

mod baseline;
pub mod errors;
mod genesys;
mod git;
mod serve;
mod verify;

pub use baseline::{BaselineArgs, BaselineCommand, ImportArgs};
pub use genesys::{
    AdminArgs, DecoyCommand, GenesysCommand, HandoverArgs, PostureFormat, SeverityArg,
};
pub use git::{GitArgs, InstallHookArgs};
pub use serve::{LogFormatArg, NotifyFormatArg, ServeArgs};
pub use verify::{RevokeActionArg, VerifyArgs, VerifyCommandArgs};

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// A fast, exact secret scanner for Git, built first for Genesys Cloud OAuth client credentials.
#[derive(Debug, Parser)]
#[command(name = "leakgate", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, before or after its name (`leakgate -v scan`, `leakgate scan -v`).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Say more on stderr: -v adds per-phase timings and counts (debug), -vv every counter
    /// (trace).
    #[arg(short, long, action = ArgAction::Count, global = true, conflicts_with = "log_level")]
    pub verbose: u8,
    /// What stderr shows: error, warn, info (default: warnings, hints and the summary when the
    /// report is not text on the terminal), debug (+ timings and counts), trace (+ every counter).
    #[arg(long, value_enum, value_name = "LEVEL", global = true)]
    pub log_level: Option<LogLevelArg>,
    /// Never colour output (as `--color never`, or a non-empty NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Worker threads (default 0: one per core).
    #[arg(short = 'j', long, value_name = "N", global = true,
          value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub threads: Option<u16>,
    /// Exit status when findings are reported (default 1): 0 to 255, except 2, which errors
    /// keep.
    #[arg(long, value_name = "N", global = true, value_parser = parse_exit_code,
          conflicts_with = "exit_zero")]
    pub exit_code: Option<u8>,
    /// Exit 0 when findings are reported; errors still exit 2.
    #[arg(long, global = true)]
    pub exit_zero: bool,
}

/// The commands `leakgate man COMMAND` has a page for.
const MAN_PAGES: [&str; 8] = [
    "scan",
    "serve",
    "baseline",
    "verify",
    "genesys",
    "install-hook",
    "rules",
    "completions",
];

/// Values of `--log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevelArg {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Parse `--exit-code`: a status from 0 to 255 other than 2, which stays the status of errors so
/// a script can always tell "found something" from "could not finish".
fn parse_exit_code(s: &str) -> Result<u8, String> {
    match s.trim().parse::<u8>() {
        Ok(2) => Err("2 is the status of errors: pick another for findings".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("must be a whole number from 0 to 255 (not 2)".into()),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a working tree, folder, Git history, commit range or the staged changes.
    Scan(ScanArgs),
    /// Make baselines (records of known findings that later scans suppress), or import one from
    /// gitleaks or detect-secrets.
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Check one Genesys credential: secret from stdin or an environment variable, never argv.
    /// Exit 0 not live, 1 live, 2 no conclusion or error.
    Verify(VerifyCommandArgs),
    /// Genesys Cloud org posture through the admin API: audit every OAuth client, plant and
    /// check decoys, rotate secrets.
    Genesys {
        #[command(subcommand)]
        command: GenesysCommand,
    },
    /// Run the GitHub secret-scanning response service: signed webhooks in, live Genesys
    /// credentials contained, alerts resolved.
    Serve(Box<ServeArgs>),
    /// Install a Git pre-commit hook that runs `leakgate scan --staged`.
    InstallHook(InstallHookArgs),
    /// List or check rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print a shell completion script to standard output (e.g. `leakgate completions bash >
    /// ~/.local/share/bash-completion/completions/leakgate`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output (`leakgate man | man -l -`).
    Man {
        /// A command's own page, with all its flags (`leakgate man scan`).
        #[arg(value_parser = MAN_PAGES)]
        command: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print the rules in force (built-in plus those in the configuration).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Configuration file (default: .leakgate.toml in the current repository).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Lint rule files or the rules of configuration files (default: the built-in rules): ids,
    /// regexes, examples.
    Check {
        /// Rule files or configuration files such as .leakgate.toml (TOML) to check.
        files: Vec<PathBuf>,
    },
    /// Print one provider's rules in another tool's form (GitHub secret-scanning custom
    /// patterns), so that tool recognises the same secrets.
    Export {
        /// The form to print.
        #[arg(long, value_enum)]
        format: ExportFormatArg,
        /// Print JSON (one object per rule) instead of text.
        #[arg(long)]
        json: bool,
        /// The provider whose rules are exported.
        #[arg(long, default_value = "genesys")]
        provider: String,
        /// Configuration file (default: .leakgate.toml in the current repository).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Forms `rules export` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    /// GitHub secret scanning's custom-pattern form: secret format, before and after secret,
    /// must-not-match requirements, test strings.
    GithubCustomPatterns,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Sarif,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// Arguments of `leakgate scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, folders or streams to scan (default: `.`); `-` reads standard input; with
    /// --history, the repository.
    pub paths: Vec<PathBuf>,
    /// The name standard input (`-`) is shown as in findings (default `<stdin>`).
    #[arg(long, value_name = "NAME")]
    pub stdin_name: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output (`-` is standard output); the
    /// summary line still goes to stderr.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Configuration file (default: .leakgate.toml at the repository root, or the scan root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Show secrets in the output instead of redacting them.
    #[arg(long)]
    pub no_redact: bool,
    /// When to colour text output (auto: on a terminal, unless NO_COLOR; CLICOLOR_FORCE forces).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorArg,
    /// Scan files that .gitignore excludes.
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_links: bool,
    /// Skip files larger than SIZE (bytes, or with K, M, G suffix). Default 50M.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Print nothing on stderr but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Report every place on its own, instead of each secret once with its other places.
    #[arg(long)]
    pub no_group: bool,
    /// In text output, list every other place of each secret (JSON always lists them).
    #[arg(long)]
    pub all_locations: bool,

    #[command(flatten)]
    pub git: GitArgs,
    #[command(flatten)]
    pub baseline: BaselineArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Parse a size such as `1048576`, `512K`, `50M` or `2G` (at least 1 byte, at most 1 TiB).
/// Messages never quote the value: it may be a secret pasted after the wrong flag.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err("unknown size suffix: use K, M or G".into()),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n = digits
        .trim()
        .parse::<u64>()
        .map_err(|_| "not a size: use a number of bytes, optionally with K, M or G".to_string())?;
    match n.checked_mul(mult) {
        Some(n) if (1..=leakgate::config::MAX_FILE_SIZE_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be from 1 byte to {} bytes (1 TiB)",
            leakgate::config::MAX_FILE_SIZE_LIMIT
        )),
    }
}
