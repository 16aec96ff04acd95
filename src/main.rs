//! The `leakgate` binary: parse, plan, run, map the outcome to an exit code.

mod app;
mod cli;

use clap::{CommandFactory, Parser};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match cli::Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            // clap's own rendering quotes rejected values; ours names only flags and places.
            let r = cli::errors::render(&e, cli::Cli::command(), &argv);
            let _ = if r.to_stdout {
                write!(app::stdout(), "{}", r.text)
            } else {
                write!(std::io::stderr(), "{}", r.text)
            };
            return ExitCode::from(r.code);
        }
    };
    let global = app::Global::from_args(&cli.global);
    match app::start(cli, &global) {
        Ok(outcome) => ExitCode::from(global.status(outcome)),
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "leakgate: error: {}",
                app::messages::describe(&e)
            );
            ExitCode::from(app::Outcome::Error as u8)
        }
    }
}
