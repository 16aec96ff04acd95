//! SARIF 2.1.0 as GitHub code scanning reads it: repo-relative URIs, `startLine`,
//! `partialFingerprints`, one `tool.driver.rules` entry per rule used.

use super::ReportOptions;
use crate::finding::{Finding, Occurrence, ScanReport, Severity, VerificationStatus};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The key under which findings' fingerprints appear in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "leakgate/v1";

/// At most this many other places of one secret are listed in a result's `relatedLocations`
/// (GitHub code scanning keeps no more locations per result); its `places` property counts
/// them all.
pub const MAX_RELATED_LOCATIONS: usize = 100;

/// Characters escaped in a relative URI reference (paths keep their `/`): everything RFC 3986
/// does not allow in a path, `%` itself, and `:` (a first segment with `:` would read as a
/// scheme). Non-ASCII is percent-encoded as UTF-8 by the encoder.
const URI_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b':')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn level(f: &Finding) -> ResultLevel {
    if f.verification
        .as_ref()
        .is_some_and(|v| v.status == VerificationStatus::Active)
    {
        return ResultLevel::Error;
    }
    match f.severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low => ResultLevel::Note,
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn bag(map: BTreeMap<String, Value>, tags: Option<Vec<String>>) -> PropertyBag {
    PropertyBag {
        tags,
        additional_properties: map,
    }
}

fn descriptor(f: &Finding, opts: &ReportOptions) -> ReportingDescriptor {
    let rule = opts.rules.iter().find(|r| r.id == f.rule_id);
    let description = rule
        .map(|r| r.description.clone())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| f.rule_name.clone());
    let level = match f.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    };
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".into(),
        json!(security_severity(f.severity)),
    );
    props.insert("precision".into(), json!(precision(f)));
    let help = format!(
        "{description}\n\nRotate the credential at its provider, then remove it from the code and history. To allow a false positive, add `leakgate:allow` in a comment on the line or an allowlist entry in .leakgate.toml."
    );
    ReportingDescriptor::builder()
        .id(f.rule_id.to_string())
        .name(camel(&f.rule_id))
        .short_description(text(f.rule_name.clone()))
        .full_description(text(description))
        .help(text(help))
        .default_configuration(ReportingConfiguration {
            level: Some(json!(level)),
            ..Default::default()
        })
        .properties(bag(props, Some(vec!["security".into(), "secret".into()])))
        .build()
}

fn text(t: String) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(t).build()
}

fn precision(f: &Finding) -> &'static str {
    match f.confidence {
        crate::finding::Confidence::High => "high",
        crate::finding::Confidence::Medium => "medium",
        crate::finding::Confidence::Low => "low",
    }
}

fn camel(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn result(f: &Finding, index: usize, opts: &ReportOptions) -> SarifResult {
    let mut props = BTreeMap::new();
    props.insert("severity".into(), json!(f.severity));
    props.insert("confidence".into(), json!(f.confidence));
    props.insert("secret".into(), json!(f.shown_secret(opts.reveal)));
    if let Some(g) = &f.git {
        // A blob no commit holds: the four are null.
        let c = g.commit.as_ref();
        props.insert("commit".into(), json!(c.map(|c| c.id)));
        props.insert("author".into(), json!(c.map(|c| &c.author)));
        props.insert("email".into(), json!(c.map(|c| &c.email)));
        props.insert("date".into(), json!(c.map(|c| &c.date)));
        if g.unreachable {
            props.insert("unreachable".into(), json!(true));
        }
    }
    for (k, v) in [
        ("pair", serde_json::to_value(&f.pair)),
        ("verification", serde_json::to_value(&f.verification)),
        ("revocation", serde_json::to_value(&f.revocation)),
    ] {
        if let Ok(v) = v {
            if !v.is_null() {
                props.insert(k.into(), v);
            }
        }
    }
    // A line inside an archive member is no line of the archive: code scanning is pointed at
    // the archive file itself, and the member and its line are named.
    if f.archive.is_some() {
        props.insert("archive_member_path".into(), json!(f.path));
        props.insert("archive_member_line".into(), json!(f.line));
    }
    props.insert("places".into(), json!(f.places()));
    if f.git.is_some() {
        props.insert("commits".into(), json!(f.commits()));
    }
    let here = physical(
        &f.path,
        f.archive.as_deref(),
        (f.line, f.column),
        (f.end_line, f.end_column),
    );
    let mut message = format!("{} found", f.rule_name);
    if f.archive.is_some() {
        message.push_str(&format!(" in {} at line {}", f.path, f.line));
    }
    if let Some(c) = f.commit() {
        message.push_str(&format!(" (introduced in commit {})", c.id.short()));
    }
    if let Some(v) = &f.verification {
        if v.status == VerificationStatus::Active {
            message.push_str(": verified live, rotate it now");
        }
    }
    message.push('.');
    let others = f.occurrences.len();
    if others > 0 {
        message.push_str(&format!(" Also in {others} other place(s)"));
        if f.git.is_some() {
            message.push_str(&format!(
                " (introduced by {} commit(s) in all)",
                f.commits()
            ));
        }
        if others > MAX_RELATED_LOCATIONS {
            message.push_str(&format!(
                ", the first {MAX_RELATED_LOCATIONS} listed as related locations"
            ));
        }
        message.push('.');
    }
    let related: Vec<Location> = f
        .occurrences
        .iter()
        .take(MAX_RELATED_LOCATIONS)
        .zip(1..)
        .map(|(o, id)| related(o, id, f.git.is_some()))
        .collect();
    let builder = SarifResult::builder()
        .rule_id(f.rule_id.to_string())
        .rule_index(index as i64)
        .level(level(f))
        .message(Message {
            text: Some(message),
            ..Default::default()
        })
        .locations(vec![Location {
            physical_location: Some(here),
            ..Default::default()
        }])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            f.fingerprint.to_string(),
        )]))
        .properties(bag(props, None));
    if related.is_empty() {
        builder.build()
    } else {
        builder.related_locations(related).build()
    }
}

/// Where code scanning is pointed for one place of a secret: the file and the secret's region;
/// for an archive member (no line of the archive), the archive file at line 1.
fn physical(
    path: &str,
    archive: Option<&str>,
    (line, column): (usize, usize),
    (end_line, end_column): (usize, usize),
) -> PhysicalLocation {
    let (uri_path, region) = match archive {
        Some(archive) => (
            archive,
            Region {
                start_line: Some(1),
                ..Default::default()
            },
        ),
        None => (
            path,
            Region {
                start_line: Some(line as i64),
                start_column: Some(column as i64),
                end_line: Some(end_line as i64),
                end_column: Some(end_column as i64),
                ..Default::default()
            },
        ),
    };
    PhysicalLocation {
        artifact_location: Some(ArtifactLocation {
            uri: Some(utf8_percent_encode(uri_path, URI_ESCAPES).to_string()),
            uri_base_id: Some("%SRCROOT%".into()),
            ..Default::default()
        }),
        region: Some(region),
        ..Default::default()
    }
}

/// Another place of a result's secret, as a related location numbered `id`: `also here`, the
/// archive member and its line when in one, and the commit in a Git scan (`git`).
fn related(o: &Occurrence, id: i64, git: bool) -> Location {
    let mut text = "also here".to_string();
    let mut props = BTreeMap::new();
    if o.archive.is_some() {
        text.push_str(&format!(": {} at line {}", o.path, o.line));
        props.insert("archive_member_path".into(), json!(o.path));
        props.insert("archive_member_line".into(), json!(o.line));
    }
    if git {
        match o.commit {
            Some(c) => text.push_str(&format!(" (commit {})", c.short())),
            None => text.push_str(" (in no commit)"),
        }
        props.insert("commit".into(), json!(o.commit));
    }
    Location {
        id: Some(id),
        message: Some(Message {
            text: Some(text),
            ..Default::default()
        }),
        physical_location: Some(physical(
            &o.path,
            o.archive.as_deref(),
            (o.line, o.column),
            (o.end_line, o.end_column),
        )),
        properties: (!props.is_empty()).then(|| bag(props, None)),
        ..Default::default()
    }
}

/// The SARIF log for a report.
pub fn to_sarif(report: &ScanReport, opts: &ReportOptions) -> Sarif {
    let mut rules: Vec<ReportingDescriptor> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ids: Vec<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let first = report.findings.iter().find(|f| f.rule_id == id);
        if let Some(f) = first {
            index.insert(id, rules.len());
            rules.push(descriptor(f, opts));
        }
    }
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| result(f, index[f.rule_id.as_str()], opts))
        .collect();
    let mut driver = ToolComponent::builder()
        .name("leakgate")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let repo = env!("CARGO_PKG_REPOSITORY");
    if !repo.is_empty() {
        driver.information_uri = Some(repo.into());
    }
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation(report)])
        .build();
    Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// How the run went: successful only when every input was read, and each warning (a
/// shallow history, skipped files) and error as a notification, so what was not read travels
/// with the results.
fn invocation(report: &ScanReport) -> Invocation {
    let note = |level: &str, text: String| {
        Notification::builder()
            .level(json!(level))
            .message(Message::builder().text(text).build())
            .build()
    };
    let notes: Vec<Notification> = report
        .warnings
        .iter()
        .map(|w| note("warning", w.clone()))
        .chain(
            report
                .errors
                .iter()
                .map(|e| note("error", format!("{}: {}", e.path, e.message))),
        )
        .collect();
    let mut invocation = Invocation::builder()
        .execution_successful(report.errors.is_empty())
        .build();
    if !notes.is_empty() {
        invocation.tool_execution_notifications = Some(notes);
    }
    invocation
}

/// Write the report as a SARIF 2.1.0 log.
pub fn write_sarif(
    report: &ScanReport,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_sarif(report, opts))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_valid_and_exact() {
        let path = "a b/c#d%e?f[g]\\h caf\u{e9}:x.env";
        let uri = utf8_percent_encode(path, URI_ESCAPES).to_string();
        assert_eq!(uri, "a%20b/c%23d%25e%3Ff%5Bg%5D%5Ch%20caf%C3%A9%3Ax.env");
        let back = percent_encoding::percent_decode_str(&uri)
            .decode_utf8()
            .unwrap();
        assert_eq!(back, path);
    }
}
