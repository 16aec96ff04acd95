//! Errors as the user reads them. The library's messages name no flags; where the remedy for a
//! library error is a flag or a command, it is worded here, where the command line is known.

use super::plan::{plainly_not_a_secret, ADMIN_ID_ENV, ADMIN_SECRET_ENV};
use leakgate::finding::ScanReport;
use leakgate::scan::git::{join_causes, GitError, RevisionProblem};
use leakgate::verify::VerifyError;

/// How to get the rest of a shallow clone's history.
const UNSHALLOW: &str =
    "deepen it with `git fetch --unshallow` (in GitHub Actions: actions/checkout with `fetch-depth: 0`)";

/// The whole message for an error that ended a run: each cause in turn, joined by `: ` as
/// anyhow's `{:#}` does, with the library errors below worded for the command line, and each
/// cause shown once (a cause whose text already ends with its source's is cut short).
pub fn describe(err: &anyhow::Error) -> String {
    join_causes(
        err.chain()
            .map(|cause| worded(cause).unwrap_or_else(|| cause.to_string())),
    )
}

/// Add to a finished scan's warnings the flags that would have changed what was skipped.
pub fn add_hints(report: &mut ScanReport) {
    if report.stats.skipped_too_large > 0 {
        report.warnings.push(
            "to scan what is over the size limit, raise it with --max-file-size SIZE (or max_file_size under [scan] in .leakgate.toml)".into(),
        );
    }
}

/// The command-line wording of one library error, when it has one.
fn worded(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(e) = cause.downcast_ref::<VerifyError>() {
        return match e {
            VerifyError::MissingAdmin => Some(format!(
                "--revoke needs the admin client's credentials in {ADMIN_ID_ENV} and {ADMIN_SECRET_ENV}"
            )),
            _ => None,
        };
    }
    if let Some(e) = cause.downcast_ref::<GitError>() {
        return match e {
            GitError::Bare { .. } => Some(format!("{e} (run in a work tree, or use --history)")),
            GitError::Range {
                problem,
                revision,
                shallow,
            } => {
                let text = revision.text();
                let safe = !text.is_empty() && plainly_not_a_secret(text);
                let name = if safe { text } else { "the revision given" };
                let fetch = match revision.remote_branch() {
                    Some((remote, branch)) if safe => format!("`git fetch {remote} {branch}`"),
                    _ => "`git fetch`".to_string(),
                };
                // `HEAD~3` in a shallow clone: the ancestor was not fetched, the ref exists.
                let ancestry = text.contains(['~', '^']);
                Some(match (problem, shallow) {
                    (RevisionProblem::Unknown, Some(n)) if ancestry => format!(
                        "{name} does not resolve in this shallow clone, whose history stops at {n} commit(s) whose parents were not fetched; {UNSHALLOW}"
                    ),
                    (RevisionProblem::Unknown, Some(n)) => format!(
                        "{name} does not resolve in this shallow clone, whose history stops at {n} commit(s) whose parents were not fetched; fetch it ({fetch}) or the whole history (`git fetch --unshallow`; in GitHub Actions: actions/checkout with `fetch-depth: 0`)"
                    ),
                    (RevisionProblem::Unknown, None) => format!(
                        "{name} does not resolve: no such revision in this repository; fetch it first ({fetch}; in GitHub Actions: actions/checkout with `fetch-depth: 0`)"
                    ),
                    (RevisionProblem::NotACommit, _) => format!("{name}: {problem}"),
                    (_, Some(_)) => format!("{e}; {UNSHALLOW}"),
                    (_, None) => e.to_string(),
                })
            }
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use std::path::PathBuf;

    #[test]
    fn missing_admin_names_the_flag_and_the_variables() {
        let e = anyhow::Error::new(VerifyError::MissingAdmin);
        let text = describe(&e);
        assert!(text.starts_with("--revoke needs"), "{text}");
        assert!(
            text.contains(ADMIN_ID_ENV) && text.contains(ADMIN_SECRET_ENV),
            "{text}"
        );
    }

    #[test]
    fn a_bare_repository_under_context_gets_the_history_hint_once() {
        let e = Err::<(), _>(GitError::Bare {
            path: PathBuf::from("repo.git"),
        })
        .context("scanning what is staged in repo.git")
        .unwrap_err();
        let text = describe(&e);
        assert!(
            text.starts_with("scanning what is staged in repo.git: repo.git: a bare repository"),
            "{text}"
        );
        assert_eq!(text.matches("--history").count(), 1, "{text}");
    }

    #[test]
    fn skipped_large_files_get_the_flag_that_scans_them() {
        let mut report = ScanReport::default();
        add_hints(&mut report);
        assert!(report.warnings.is_empty(), "nothing skipped, no hint");
        report.stats.skipped_too_large = 2;
        add_hints(&mut report);
        assert_eq!(report.warnings.len(), 1);
        assert!(report.warnings[0].contains("--max-file-size"));
    }

    #[test]
    fn other_errors_read_as_anyhow_shows_them() {
        let e = Err::<(), _>(std::io::Error::other("disk on fire"))
            .context("writing out.json")
            .unwrap_err();
        assert_eq!(describe(&e), format!("{e:#}"));
    }
}
