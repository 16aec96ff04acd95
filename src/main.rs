//! The `leakgate` binary: parse, dispatch, map the outcome to an exit code.

mod app;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match app::run(cli) {
        Ok(outcome) => ExitCode::from(outcome as u8),
        Err(e) => {
            eprintln!("leakgate: error: {e:#}");
            ExitCode::from(app::Outcome::Error as u8)
        }
    }
}
