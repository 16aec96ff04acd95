//! Planning `leakgate baseline import`.

use super::{base_for, Output};
use crate::cli::ImportArgs;
use anyhow::Result;
use leakgate::config::Config;
use leakgate::matcher::Matcher;
use leakgate::rules;
use std::path::{Path, PathBuf};

/// `leakgate baseline import`, resolved.
pub struct ImportPlan {
    /// The gitleaks report or detect-secrets baseline.
    pub file: PathBuf,
    pub output: Output,
    /// The folder the file's paths are relative to.
    pub root: PathBuf,
    /// The rules in force there, as a scan would use them.
    pub matcher: Matcher,
    /// Files larger than this are not read.
    pub max_file_size: u64,
}

impl ImportPlan {
    /// Resolve the arguments: the root (default: FILE's folder), the configuration in force at
    /// it, the output.
    pub fn from_args(args: &ImportArgs) -> Result<Self> {
        let root = args.root.clone().unwrap_or_else(|| {
            args.file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        });
        let config = match &args.config {
            Some(f) => Config::load(f)?,
            None => Config::discover(&base_for(&root))?.0,
        };
        let max_file_size = config
            .scan
            .max_file_size
            .unwrap_or(leakgate::scan::DEFAULT_MAX_FILE_SIZE);
        // Every finding of a file is listed: an import must not miss one past the per-file cap.
        let matcher =
            Matcher::new(rules::builtin(), &config)?.with_max_findings_per_file(usize::MAX);
        let output = match &args.output {
            Some(f) if f.as_os_str() != "-" => Output::File(f.clone()),
            _ => Output::Stdout,
        };
        Ok(ImportPlan {
            file: args.file.clone(),
            output,
            root,
            matcher,
            max_file_size,
        })
    }
}
