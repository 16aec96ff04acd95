//! What the global flags decide for the whole run: how much stderr says, colour, the worker
//! threads and the exit status of findings; and the standard output every command writes to.

use super::plan::Output;
use super::Outcome;
use crate::cli::{ColorArg, GlobalArgs, LogLevelArg};
use anstream::{AutoStream, ColorChoice};
use anyhow::{Context, Result};
use std::io::{self, Write};

/// How much leakgate says on stderr; each level adds to the one before. Errors are always shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Errors only (what `scan --quiet` asks for).
    Error,
    /// Warnings too.
    Warn,
    /// Hints and the summary line too, when the report does not show it on the terminal.
    Info,
    /// Per-phase timings and counts.
    Debug,
    /// Every counter of the scan.
    Trace,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

impl From<LogLevelArg> for Level {
    fn from(l: LogLevelArg) -> Self {
        match l {
            LogLevelArg::Error => Level::Error,
            LogLevelArg::Warn => Level::Warn,
            LogLevelArg::Info => Level::Info,
            LogLevelArg::Debug => Level::Debug,
            LogLevelArg::Trace => Level::Trace,
        }
    }
}

/// The global flags, resolved.
#[derive(Debug, Clone)]
pub struct Global {
    /// What stderr shows.
    pub level: Level,
    /// `--no-color`: no colour anywhere, whatever `--color` says.
    no_color: bool,
    /// Worker threads; 0 is one per core.
    threads: usize,
    /// The exit status when findings are reported.
    findings_status: u8,
}

impl Global {
    /// Resolve the global flags (clap has checked each and their conflicts).
    pub fn from_args(args: &GlobalArgs) -> Self {
        let level = match (args.log_level, args.verbose) {
            (Some(l), _) => l.into(),
            (None, 0) => Level::Info,
            (None, 1) => Level::Debug,
            (None, _) => Level::Trace,
        };
        Global {
            level,
            no_color: args.no_color,
            threads: args.threads.map_or(0, usize::from),
            findings_status: if args.exit_zero {
                0
            } else {
                args.exit_code.unwrap_or(Outcome::Findings as u8)
            },
        }
    }

    /// Set the process up before planning: colour off everywhere with `--no-color`, and rayon's
    /// global pool (which every parallel step of a scan runs on, or sizes itself by) with
    /// `--threads`.
    pub fn apply(&self) -> Result<()> {
        if self.no_color {
            ColorChoice::Never.write_global();
        }
        if self.threads > 0 {
            rayon::ThreadPoolBuilder::new()
                .num_threads(self.threads)
                .build_global()
                .context("starting the worker threads")?;
        }
        Ok(())
    }

    /// The process exit status for `outcome`: findings as `--exit-code`/`--exit-zero` say;
    /// clean is 0 and errors are 2 whatever the flags.
    pub fn status(&self, outcome: Outcome) -> u8 {
        match outcome {
            Outcome::Findings => self.findings_status,
            other => other as u8,
        }
    }

    /// These settings for a command that also has its own `--quiet`, which wins over `-v`.
    pub fn quieted(&self, quiet: bool) -> Global {
        let mut g = self.clone();
        if quiet {
            g.level = Level::Error;
        }
        g
    }

    /// Write `leakgate: LEVEL: message` to stderr when `at` is shown. `what` is only built
    /// then; it must hold counts, durations and leakgate's own words, never input.
    pub fn say(&self, at: Level, what: impl FnOnce() -> String) {
        if at <= self.level {
            // A closed stderr is no reason to fail the run.
            let _ = writeln!(io::stderr(), "leakgate: {}: {}", at.name(), what());
        }
    }
}

/// Whether a text report is coloured. `--no-color` wins over everything; `--color always`
/// colours wherever the report goes; `auto` colours standard output on a terminal unless
/// `NO_COLOR` is set and non-empty (`CLICOLOR_FORCE` forces it, `CLICOLOR=0` and `TERM=dumb`
/// turn it off: anstream's rules), and never a file.
pub fn colour(arg: ColorArg, output: &Output) -> bool {
    if ColorChoice::global() == ColorChoice::Never {
        return false;
    }
    match (arg, output) {
        (ColorArg::Never, _) | (ColorArg::Auto, Output::File(_)) => false,
        (ColorArg::Always, _) => true,
        (ColorArg::Auto, Output::Stdout) => AutoStream::choice(&io::stdout()) != ColorChoice::Never,
    }
}

/// Standard output, buffered, for a report or a listing. A reader that closes early
/// (`leakgate rules list | head -1`) ends the output, not the command: the rest is dropped and
/// the command's outcome stands, so a scan piped to `head` still exits 1 for its findings.
pub fn stdout() -> io::BufWriter<ClosableOut<io::StdoutLock<'static>>> {
    io::BufWriter::new(ClosableOut::new(io::stdout().lock()))
}

/// A writer that treats a broken pipe as the end of its output: once the reader is gone every
/// write succeeds and is dropped. Other errors (a full disk) stay errors.
pub struct ClosableOut<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> ClosableOut<W> {
    /// Wrap `inner`.
    pub fn new(inner: W) -> Self {
        ClosableOut {
            inner,
            closed: false,
        }
    }

    fn absorb<T>(&mut self, r: io::Result<T>, done: T) -> io::Result<T> {
        match r {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(done)
            }
            r => r,
        }
    }
}

impl<W: Write> Write for ClosableOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.absorb(r, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.inner.flush();
        self.absorb(r, ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone after `room` bytes.
    struct Pipe {
        room: usize,
        got: Vec<u8>,
        kind: io::ErrorKind,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.got.len() >= self.room {
                return Err(self.kind.into());
            }
            let n = buf.len().min(self.room - self.got.len());
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_broken_pipe_ends_the_output_quietly() {
        let pipe = Pipe {
            room: 5,
            got: Vec::new(),
            kind: io::ErrorKind::BrokenPipe,
        };
        let mut out = ClosableOut::new(pipe);
        out.write_all(b"0123456789").unwrap();
        writeln!(out, "more").unwrap();
        out.flush().unwrap();
        assert_eq!(out.inner.got, b"01234");
        assert!(out.closed);
    }

    #[test]
    fn other_write_errors_stay_errors() {
        let pipe = Pipe {
            room: 0,
            got: Vec::new(),
            kind: io::ErrorKind::StorageFull,
        };
        let mut out = ClosableOut::new(pipe);
        let e = out.write_all(b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn findings_status_follows_the_flags_and_errors_keep_2() {
        let g = |exit_code, exit_zero| {
            Global::from_args(&GlobalArgs {
                exit_code,
                exit_zero,
                ..GlobalArgs::default()
            })
        };
        let all = [Outcome::Clean, Outcome::Findings, Outcome::Error];
        assert_eq!(all.map(|o| g(None, false).status(o)), [0, 1, 2]);
        assert_eq!(all.map(|o| g(Some(7), false).status(o)), [0, 7, 2]);
        assert_eq!(all.map(|o| g(None, true).status(o)), [0, 0, 2]);
    }

    #[test]
    fn verbosity_and_log_level_choose_the_level() {
        let g = |verbose, log_level| {
            Global::from_args(&GlobalArgs {
                verbose,
                log_level,
                ..GlobalArgs::default()
            })
            .level
        };
        assert_eq!(g(0, None), Level::Info);
        assert_eq!(g(1, None), Level::Debug);
        assert_eq!(g(3, None), Level::Trace);
        assert_eq!(g(0, Some(LogLevelArg::Warn)), Level::Warn);
        let verbose = Global::from_args(&GlobalArgs {
            verbose: 2,
            ..GlobalArgs::default()
        });
        assert_eq!(verbose.quieted(true).level, Level::Error);
        assert_eq!(verbose.quieted(false).level, Level::Trace);
    }
}
