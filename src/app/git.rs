//! Git sources from the command line: history and ranges (with a progress bar on a terminal),
//! staged changes, and installing the pre-commit hook.

use super::plan::{ForeignHook, GitMode, InstallHookPlan, ScanPlan, Source};
use super::Outcome;
use anyhow::{bail, Context, Result};
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use leakgate::finding::ScanReport;
use leakgate::scan::git::{scan_history, scan_staged, GitError, HistoryOptions, Progress};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// First line after the shebang of the hook `install-hook` writes; marks it as ours.
const HOOK_MARKER: &str = "# leakgate pre-commit hook";

/// Scan the repository at `repo` as `mode` says.
pub fn scan(plan: &ScanPlan, repo: &Path, mode: &GitMode) -> Result<ScanReport> {
    let options = match mode {
        GitMode::Staged => {
            return scan_staged(repo, &plan.matcher, &plan.scan).map_err(|e| {
                in_context(e, || {
                    format!("scanning what is staged in {}", repo.display())
                })
            });
        }
        GitMode::History { all_objects } => HistoryOptions {
            range: None,
            all_objects: *all_objects,
            cache: plan.cache.clone(),
        },
        GitMode::Range(spec) => HistoryOptions {
            range: Some(spec.clone()),
            all_objects: false,
            cache: plan.cache.clone(),
        },
    };
    let progress = Progress::default();
    let show = !plan.quiet && std::io::stderr().is_terminal();
    with_progress(show, &progress, || {
        scan_history(repo, &plan.matcher, &plan.scan, &options, &progress)
    })
    .map_err(|e| in_context(e, || format!("scanning the history of {}", repo.display())))
}

/// `e` under `context`, unless `e` names the repository's path itself (it would show twice).
fn in_context(e: GitError, context: impl FnOnce() -> String) -> anyhow::Error {
    match e {
        GitError::NotARepository { .. } | GitError::Open { .. } | GitError::Bare { .. } => {
            anyhow::Error::new(e)
        }
        other => anyhow::Error::new(other).context(context()),
    }
}

/// After the report of a staged scan that blocks a commit: how to allow a false positive.
pub fn hint(plan: &ScanPlan, report: &ScanReport, err: &mut dyn Write) -> std::io::Result<()> {
    let staged = matches!(
        plan.source,
        Source::Git {
            mode: GitMode::Staged,
            ..
        }
    );
    if !staged || report.findings.is_empty() {
        return Ok(());
    }
    writeln!(
        err,
        "leakgate: commit blocked: the staged changes add {} secret(s), shown above as file:line:column and rule.\n\
         leakgate: remove the secret (and rotate it if it was ever shared), then `git add` again.\n\
         leakgate: a false positive? add a `leakgate:allow` comment on its line, or allow it in .leakgate.toml\n\
         leakgate:   ([allow] paths = [\"glob\"], values = [\"regex\"] or rules = [\"rule-id\"]);\n\
         leakgate: to skip the check once: git commit --no-verify",
        report.findings.len()
    )
}

/// Run `scan` while a thread draws `progress` on stderr (when `show`).
fn with_progress<T>(show: bool, progress: &Progress, scan: impl FnOnce() -> T) -> T {
    if !show {
        return scan();
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| draw(progress, &done));
        let out = scan();
        done.store(true, Relaxed);
        out
    })
}

/// Draw `progress` until `done`: elapsed time and the commits walked, then the blobs scanned
/// with elapsed time, an estimate of the time left, and the read rate.
fn draw(progress: &Progress, done: &AtomicBool) {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .expect("valid template"),
    );
    let mut scanning_since = None;
    while !done.load(Relaxed) {
        let total = progress.blobs_total.load(Relaxed);
        if total == 0 {
            bar.set_message(format!(
                "walking history: {} commits",
                progress.commits.load(Relaxed)
            ));
        } else {
            let since = *scanning_since.get_or_insert_with(|| {
                bar.set_length(total);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{elapsed_precise}] scanning blobs [{bar:30}] {pos}/{len} ETA {eta} {msg}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                // The walk made no progress on this bar: estimate from the scan's own rate.
                // Elapsed time keeps counting from the start of the walk.
                bar.reset_eta();
                Instant::now()
            });
            let bytes = progress.bytes_done.load(Relaxed);
            let secs = since.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!(
                "{} ({}/s)",
                HumanBytes(bytes),
                HumanBytes((bytes as f64 / secs) as u64)
            ));
            bar.set_position(progress.blobs_done.load(Relaxed));
        }
        bar.tick();
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

/// `leakgate install-hook`: write `pre-commit` into the repository's hooks folder.
pub fn install_hook(plan: &InstallHookPlan) -> Result<Outcome> {
    let start = &plan.start;
    let repo = gix::discover(start)
        .with_context(|| format!("{}: not in a Git repository", start.display()))?;
    let dir = hooks_dir(&repo);
    let hook = dir.join("pre-commit");
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(HOOK_MARKER) {
            if plan.foreign_hook == ForeignHook::Keep {
                bail!(
                    "{} exists and was not written by leakgate; add `leakgate scan --staged` to it, or use --force to replace it (the old hook is kept as pre-commit.bak)",
                    hook.display()
                );
            }
            let backup = dir.join("pre-commit.bak");
            std::fs::rename(&hook, &backup)
                .with_context(|| format!("moving {} aside", hook.display()))?;
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let exe = std::env::current_exe().context("locating the leakgate binary")?;
    std::fs::write(&hook, hook_script(&exe))
        .with_context(|| format!("writing {}", hook.display()))?;
    make_executable(&hook)?;
    writeln!(super::stdout(), "installed {}", hook.display())?;
    Ok(Outcome::Clean)
}

/// `core.hooksPath` when set (relative to the work tree), else `hooks` in the common Git dir.
fn hooks_dir(repo: &gix::Repository) -> PathBuf {
    let configured = repo
        .config_snapshot()
        .string("core.hooksPath")
        .map(|p| PathBuf::from(p.to_string()));
    match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or_else(|| repo.common_dir()).join(p),
        None => repo.common_dir().join("hooks"),
    }
}

/// The hook: leakgate from PATH if there is one, else the binary that installed it.
fn hook_script(exe: &Path) -> String {
    let quoted = format!("'{}'", exe.display().to_string().replace('\'', r"'\''"));
    format!(
        "#!/bin/sh\n\
         {HOOK_MARKER}, written by `leakgate install-hook`.\n\
         # Blocks commits that add secrets. Skip once with `git commit --no-verify`.\n\
         if command -v leakgate >/dev/null 2>&1; then\n\
         \x20   exec leakgate scan --staged\n\
         fi\n\
         exec {quoted} scan --staged\n"
    )
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}
