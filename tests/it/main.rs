//! The integration tests: one binary (`autotests = false` in Cargo.toml), so the suite links the
//! library and its dependencies once. One module per area; shared helpers live in `common`.
//! A new test file goes here as a `mod` line: a file under tests/ that no `mod` names is not built.

mod common;

mod action;
mod baseline;
mod cache;
mod cli;
mod errors;
mod genesys_detection;
mod git_history;
mod git_staged;
mod github;
mod github_patterns;
mod golden;
mod grouping;
mod migrate;
mod packaging;
mod posture;
mod precommit;
mod readme;
mod rules;
mod scan_tree;
mod serve;
mod serve_docs;
mod suite;
mod trust_archive;
mod trust_config;
mod trust_fs;
mod trust_gate;
mod trust_git;
mod trust_output;
mod trust_verify;
mod verify;
