//! Command-line errors rendered by leakgate, never by clap: clap quotes what the user typed
//! (a webhook URL with its token, a secret pasted after the wrong flag, an unknown
//! `--client-secret=…`), and these messages end up in CI logs. Only names leakgate defines
//! (its flags, commands and accepted values) and positions on the command line are shown.
//! A typo is never answered with a flag or command that acts on the outside world or reveals
//! secrets ([`DANGEROUS`]): `--verfy` gets no suggestion rather than one that contacts Genesys.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use std::collections::HashSet;
use std::ffi::OsString;

/// Names a typo is never told to use: they contact the outside world (verify, revoke, post) or
/// show secrets. Suggestions of every other name stay.
pub const DANGEROUS: &[&str] = &[
    "--verify",
    "--revoke",
    "--revoke-action",
    "--no-redact",
    "--notify-webhook",
    "verify",
    "serve",
];

/// What `main` does with a clap error: the whole text for stderr (or stdout, for help and
/// version), and the exit code (0 for help and version, 2 for usage errors).
pub struct Rendered {
    pub text: String,
    pub to_stdout: bool,
    pub code: u8,
}

/// Render `err` from parsing `argv` against `cmd`, showing no value the user supplied.
pub fn render(err: &clap::Error, mut cmd: clap::Command, argv: &[OsString]) -> Rendered {
    match err.kind() {
        // Help and version hold only leakgate's own text.
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            return Rendered {
                text: err.render().to_string(),
                to_stdout: true,
                code: 0,
            }
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            return Rendered {
                text: err.render().to_string(),
                to_stdout: false,
                code: 2,
            }
        }
        _ => {}
    }
    // Showing an argument needs the built command (clap completes it lazily).
    cmd.build();
    let known = Known::of(&cmd);
    let argv: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // Names from clap's context, shown only when leakgate defines them (and, for a
    // suggestion, only when they are not dangerous: each of several is checked on its own).
    let names = |kind: ContextKind, safe: bool| -> Option<String> {
        let shown = |s: &String| known.has(s) && !(safe && DANGEROUS.contains(&s.as_str()));
        match err.get(kind)? {
            ContextValue::String(s) if shown(s) => Some(s.clone()),
            ContextValue::Strings(v) => {
                let kept: Vec<&str> = v.iter().filter(|s| shown(s)).map(String::as_str).collect();
                (!kept.is_empty()).then(|| kept.join(", "))
            }
            _ => None,
        }
    };
    let ours = |kind: ContextKind| names(kind, false);
    // A suggestion, unless it is dangerous.
    let suggest = |kind: ContextKind| names(kind, true);
    let arg = || ours(ContextKind::InvalidArg).unwrap_or_else(|| "an argument".into());
    // Where the offending argument is (1-based, after the program name), never what it is.
    let place = || {
        let raw = match err
            .get(ContextKind::InvalidArg)
            .or(err.get(ContextKind::InvalidSubcommand))
        {
            Some(ContextValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        raw.and_then(|r| {
            argv.iter()
                .skip(1)
                .position(|a| *a == r || (a.starts_with(&r) && !r.is_empty()))
                .map(|i| format!(" (argument {} on the command line)", i + 1))
        })
        .unwrap_or_default()
    };
    let text = match err.kind() {
        ErrorKind::UnknownArgument => {
            let mut t = format!(
                "unexpected argument{}; it is not shown, as it may hold a secret",
                place()
            );
            if let Some(s) = suggest(ContextKind::SuggestedArg) {
                t.push_str(&format!("; did you mean {s}?"));
            }
            t
        }
        ErrorKind::InvalidSubcommand => {
            let mut t = format!("unknown command{}; it is not shown", place());
            if let Some(s) = suggest(ContextKind::SuggestedSubcommand) {
                t.push_str(&format!("; did you mean {s}?"));
            }
            t
        }
        ErrorKind::InvalidValue => match ours(ContextKind::ValidValue) {
            Some(valid) => format!("invalid value for {}: expected one of {valid}", arg()),
            None => format!("invalid value for {}", arg()),
        },
        ErrorKind::ValueValidation => {
            let reason = std::error::Error::source(err)
                .map(std::string::ToString::to_string)
                .filter(|r| !echoes_input(r, &argv));
            match reason {
                Some(r) => format!("invalid value for {}: {r}", arg()),
                None => format!("invalid value for {} (see --help)", arg()),
            }
        }
        ErrorKind::MissingRequiredArgument => format!("missing required {}", arg()),
        ErrorKind::MissingSubcommand => "missing command".into(),
        ErrorKind::ArgumentConflict => match ours(ContextKind::PriorArg) {
            Some(prior) => format!("{} cannot be used with {prior}", arg()),
            None => format!("{} cannot be used with an earlier argument", arg()),
        },
        ErrorKind::NoEquals
        | ErrorKind::TooManyValues
        | ErrorKind::TooFewValues
        | ErrorKind::WrongNumberOfValues => format!("wrong number of values for {}", arg()),
        ErrorKind::InvalidUtf8 => "an argument is not valid UTF-8".into(),
        _ => "invalid command line".into(),
    };
    Rendered {
        text: format!("leakgate: error: {text}\nFor more information, try '--help'.\n"),
        to_stdout: false,
        code: 2,
    }
}

/// True when a validator's message contains any argument the user typed (or the value part of
/// `--flag=value`): leakgate's validators never quote, this is the second line of defence.
fn echoes_input(message: &str, argv: &[String]) -> bool {
    argv.iter().skip(1).any(|a| {
        let parts = std::iter::once(a.as_str()).chain(a.split_once('=').map(|(_, v)| v));
        parts
            .map(str::trim)
            .any(|p| p.len() >= 4 && message.contains(p))
    })
}

/// Every name leakgate defines: flags in each form clap shows them, commands, accepted values.
struct Known(HashSet<String>);

impl Known {
    fn of(cmd: &clap::Command) -> Self {
        let mut names = HashSet::new();
        fn walk(cmd: &clap::Command, names: &mut HashSet<String>) {
            names.insert(cmd.get_name().to_string());
            for a in cmd.get_arguments() {
                names.insert(a.to_string());
                if let Some(l) = a.get_long() {
                    names.insert(format!("--{l}"));
                }
                if let Some(s) = a.get_short() {
                    names.insert(format!("-{s}"));
                }
                for v in a.get_possible_values() {
                    names.insert(v.get_name().to_string());
                }
            }
            for s in cmd.get_subcommands() {
                walk(s, names);
            }
        }
        walk(cmd, &mut names);
        Known(names)
    }

    fn has(&self, s: &str) -> bool {
        self.0.contains(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every flag and command, as clap shows it, of `cmd` and its subcommands.
    fn names(cmd: &clap::Command, out: &mut Vec<String>) {
        out.push(cmd.get_name().to_string());
        out.extend(
            cmd.get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}"))),
        );
        for s in cmd.get_subcommands() {
            names(s, out);
        }
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        crate::cli::Cli::command().debug_assert();
    }

    #[test]
    fn every_name_that_acts_or_reveals_is_dangerous() {
        let mut all = Vec::new();
        names(&crate::cli::Cli::command(), &mut all);
        // Whatever verifies, revokes, contains, posts or shows secrets must be listed; the
        // verify tuning flags and --dry-run do nothing on their own; serve's --verify-only
        // takes action away, --notify-format only shapes what --notify-webhook posts.
        let harmless = [
            "--verify-only",
            "--notify-format",
            "--verify-rate",
            "--verify-timeout",
            "--verify-attempts",
            "--verify-time-scale",
            "--max-verify-requests",
        ];
        for n in &all {
            let risky = [
                "verify", "revoke", "contain", "redact", "reveal", "webhook", "notify",
            ]
            .iter()
            .any(|w| n.contains(w));
            if risky && !harmless.contains(&n.as_str()) {
                assert!(DANGEROUS.contains(&n.as_str()), "{n} is not in DANGEROUS");
            }
        }
        for d in DANGEROUS {
            assert!(all.iter().any(|n| n == d), "{d} no longer exists");
        }
    }
}
