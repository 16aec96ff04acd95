//! Handing a new client secret over exactly once: to a file created owner-only that must not
//! exist yet, to standard output on explicit request, or to a command's standard input (argv
//! only, no shell; the secret never in argv or the environment). Nothing else ever sees it.

use crate::verify::Secret;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a `--to-command` hook may run.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(120);

/// Where a new secret goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// A new file, mode 0600; an existing file is never overwritten.
    File(PathBuf),
    /// The writer the caller gives (standard output), as one line.
    Stdout,
    /// This program and its arguments, run without a shell; the secret is its standard input.
    Command(Vec<OsString>),
}

/// Why a hand-over failed. Messages never hold the secret.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("{} already exists: refusing to overwrite it", crate::finding::display_path(.0.as_os_str().as_encoded_bytes()))]
    Exists(PathBuf),
    #[error("writing the secret to {}", crate::finding::display_path(path.as_os_str().as_encoded_bytes()))]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the secret to standard output")]
    Stdout(#[source] std::io::Error),
    #[error("the command {0} was not found or is not executable")]
    NoCommand(String),
    #[error("running the command {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the command {program} failed ({status})")]
    Failed { program: String, status: String },
    #[error("the command {0} did not finish within {HOOK_TIMEOUT:?} and was stopped")]
    Timeout(String),
}

impl Handover {
    /// Check, before anything changes in Genesys, that the hand-over can happen: the file does
    /// not exist, the command can be found.
    pub fn preflight(&self) -> Result<(), HandoverError> {
        match self {
            Handover::File(p) if p.symlink_metadata().is_ok() => {
                Err(HandoverError::Exists(p.clone()))
            }
            Handover::Command(argv) => {
                let program = argv.first().map(PathBuf::from).unwrap_or_default();
                find_program(&program)
                    .map(|_| ())
                    .ok_or_else(|| HandoverError::NoCommand(shown(argv)))
            }
            _ => Ok(()),
        }
    }

    /// Deliver `secret` once; `out` is standard output for [`Handover::Stdout`]. Returns a
    /// description for the audit log (where it went, never what).
    pub fn deliver(&self, secret: &Secret, out: &mut dyn Write) -> Result<String, HandoverError> {
        let line = format!("{}\n", secret.expose());
        match self {
            Handover::File(path) => {
                write_new(path, line.as_bytes())?;
                Ok(format!(
                    "written to {} (mode 0600)",
                    crate::finding::display_path(path.as_os_str().as_encoded_bytes())
                ))
            }
            Handover::Stdout => {
                out.write_all(line.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(HandoverError::Stdout)?;
                Ok("written to standard output".into())
            }
            Handover::Command(argv) => {
                run_hook(argv, line.as_bytes())?;
                Ok(format!("given on standard input to {}", shown(argv)))
            }
        }
    }
}

/// The program's name as messages show it (its arguments may be paths or names of secrets).
fn shown(argv: &[OsString]) -> String {
    argv.first()
        .map(|p| crate::finding::display_path(p.as_encoded_bytes()))
        .unwrap_or_default()
}

/// Create `path` owner-only (it must not exist) and write `data`.
fn write_new(path: &Path, data: &[u8]) -> Result<(), HandoverError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            HandoverError::Exists(path.to_path_buf())
        } else {
            HandoverError::File {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|source| HandoverError::File {
            path: path.to_path_buf(),
            source,
        })
}

/// The program a hook names: a path as given, else the first match on `PATH`.
fn find_program(program: &Path) -> Option<PathBuf> {
    let runnable = |p: &Path| {
        let Ok(m) = p.metadata() else { return false };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            m.is_file() && m.permissions().mode() & 0o111 != 0
        }
        #[cfg(not(unix))]
        {
            m.is_file()
        }
    };
    if program.as_os_str().is_empty() {
        return None;
    }
    if program.components().count() > 1 || program.is_absolute() {
        return runnable(program).then(|| program.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| runnable(p))
}

/// Run the hook with `input` on stdin; its stdout goes nowhere (it could echo the secret), its
/// stderr to ours. The admin client's variables are removed from its environment.
fn run_hook(argv: &[OsString], input: &[u8]) -> Result<(), HandoverError> {
    let program = shown(argv);
    let path = argv
        .first()
        .map(PathBuf::from)
        .and_then(|p| find_program(&p))
        .ok_or_else(|| HandoverError::NoCommand(program.clone()))?;
    let mut cmd = Command::new(path);
    cmd.args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("LEAKGATE_GENESYS_ADMIN_") {
            cmd.env_remove(k);
        }
    }
    let spawn_err = |source| HandoverError::Spawn {
        program: program.clone(),
        source,
    };
    let mut child = cmd.spawn().map_err(spawn_err)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that exits without reading is judged by its status below.
        let _ = stdin.write_all(input);
    }
    let start = Instant::now();
    loop {
        match child.try_wait().map_err(spawn_err)? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => {
                return Err(HandoverError::Failed {
                    program,
                    status: status.to_string(),
                })
            }
            None if start.elapsed() > HOOK_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HandoverError::Timeout(program));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
