//! leakgate: a secret scanner for Git, built first for Genesys Cloud OAuth client credentials.
//!
//! Data flows one way: [`rules`] are compiled into a [`matcher::Matcher`]; a source in [`scan`]
//! (a folder, Git history, the index) turns inputs into blobs and blobs into
//! [`finding::Finding`]s; [`verify`] may check and contain Genesys credentials; [`report`]
//! writes the result. The binary sequences these; the library never prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod baseline;
pub mod config;
pub mod finding;
pub mod genesys;
pub mod matcher;
pub mod report;
pub mod rules;
pub mod scan;
pub mod verify;

pub use config::Config;
pub use finding::{Finding, ScanReport};
pub use matcher::Matcher;
