//! Arguments for scanning Git: history, commit ranges, the index.

use clap::Args;

/// Where in Git to look (owned by the history-scan work).
#[derive(Debug, Args, Default)]
pub struct GitArgs {}
