//! Arguments for scanning Git: history, commit ranges, the index; and installing the hook.

use clap::Args;
use std::path::PathBuf;

/// Where in Git to look.
#[derive(Debug, Args, Default)]
pub struct GitArgs {
    /// Scan every blob reachable from any ref (branches, tags, remotes, stash), each once,
    /// with the commit that introduced it. PATH is the repository (default `.`).
    #[arg(long)]
    pub history: bool,
    /// Only what the commits in RANGE introduced (`A..B`, `A...B`): a pull request or push
    /// check. Implies --history.
    #[arg(long, value_name = "RANGE")]
    pub range: Option<String>,
    /// With --history, also scan objects no ref reaches (amended commits, deleted branches);
    /// findings there are marked unreachable.
    #[arg(long, requires = "history", conflicts_with = "range")]
    pub all_objects: bool,
    /// Scan what is staged for the next commit, reporting only secrets it would add (for a
    /// pre-commit hook).
    #[arg(long, conflicts_with_all = ["history", "range", "all_objects", "pre_push"])]
    pub staged: bool,
    /// For the pre-commit framework's pre-push hook: scan what the push adds,
    /// `$PRE_COMMIT_FROM_REF..$PRE_COMMIT_TO_REF`. Without them (a push that includes a root
    /// commit) the whole ancestry of `$PRE_COMMIT_LOCAL_BRANCH`, else the full history.
    /// Implies --history.
    #[arg(long, conflicts_with_all = ["range", "all_objects"])]
    pub pre_push: bool,
    /// Read `.leakgate.toml`, and a --config or --baseline file inside the repository, from
    /// commit REV instead of the disk; `worktree` reads them from the disk. Default with
    /// --range: the range's base (`A` of `A..B`, the merge base of `A...B`), so a change cannot
    /// weaken the configuration that gates it.
    #[arg(long, value_name = "REV")]
    pub config_from: Option<String>,
    /// With --history or --range: keep the blobs already scanned clean (with these rules,
    /// configuration and leakgate version) in FILE, and read only the others next time.
    #[arg(long, value_name = "FILE", conflicts_with = "staged")]
    pub cache: Option<PathBuf>,
}

/// Arguments of `leakgate install-hook`.
#[derive(Debug, Args)]
pub struct InstallHookArgs {
    /// The repository (default: the one containing the current folder).
    pub repo: Option<PathBuf>,
    /// Replace an existing pre-commit hook that leakgate did not write (it is kept as
    /// `pre-commit.bak`).
    #[arg(long)]
    pub force: bool,
}
