//! Writers for text, JSON and SARIF. Each writes a finished, sorted report into the `Write` it
//! is given.

mod json;
mod sarif;
mod text;

pub use json::write_json;
pub use sarif::{to_sarif, write_sarif, MAX_RELATED_LOCATIONS};
pub use text::{escape_control, summary, write_text};

use crate::finding::ScanReport;
use std::io::{self, Write};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

/// How a report is written.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Show secrets instead of redacting them.
    pub reveal: bool,
    /// Colour the text output (only on a terminal).
    pub color: bool,
    /// Text lists every other place of each secret, not only how many there are.
    pub all_locations: bool,
    /// Rules, for the descriptions SARIF carries.
    pub rules: Vec<crate::rules::Rule>,
}

/// Write `report` in `format`.
pub fn write(
    format: Format,
    report: &ScanReport,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => write_text(report, opts, out),
        Format::Json => write_json(report, opts, out),
        Format::Sarif => write_sarif(report, opts, out),
    }
}
