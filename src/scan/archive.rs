//! Scanning inside archives users commit: zip (and jar, war, apk, nupkg, whl: all zip), tar,
//! gzip and tar in gzip, found by their magic bytes, never by file name.
//!
//! Members come back to [`Tally::scan_blob`] as blobs of their own, shown as
//! `outer!member` (`a.tar.gz!lib/x.jar!META-INF/app.properties`), so nested archives,
//! binary members and line numbers behave as for any file. Every archive is hostile input:
//! nothing is ever written to disk, declared sizes are never trusted (bytes are counted while
//! inflating and reading stops at the cap), and each limit that stops a read is reported as an
//! [`InputError`](crate::finding::InputError) naming the member, never passed over in silence.

use super::Tally;
use crate::finding::display_path;
use crate::matcher::Matcher;
use std::cell::Cell;
use std::io::{self, Cursor, Read};

/// Archives inside archives are expanded up to this depth (a jar in a zip in a tar.gz is 3).
pub const MAX_DEPTH: usize = 4;
/// A member that inflates past this many times its compressed size...
pub const MAX_RATIO: u64 = 100;
/// ... and past this many bytes is a compression bomb: reported, not expanded.
pub const RATIO_FLOOR: u64 = 4 << 20;
/// Bytes one top-level archive may expand to, all members and nested archives together.
pub const MAX_EXPANDED: u64 = 1 << 30;
/// Unreadable members one archive may report before the rest of it is given up (a crafted zip
/// can hold tens of thousands of bombs).
const MAX_MEMBER_ERRORS: usize = 100;
/// Size of a tar header block.
const TAR_BLOCK: usize = 512;

/// Where the scan is in a nest of archives, and what the current top-level archive may still
/// expand to. Lives in [`Tally`] so that members can go back through [`Tally::scan_blob`].
#[derive(Debug, Clone)]
pub struct Nesting {
    /// Cap on one expanded member: the scan's `max_file_size`.
    pub(super) max_member_size: u64,
    depth: usize,
    /// Bytes the current top-level archive may still expand to.
    budget: u64,
    /// The budget ran out: nothing more of this top-level archive is read.
    exhausted: bool,
}

impl Default for Nesting {
    fn default() -> Self {
        Nesting {
            max_member_size: super::DEFAULT_MAX_FILE_SIZE,
            depth: 0,
            budget: MAX_EXPANDED,
            exhausted: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Tar,
    Gzip,
}

/// The archive format `data` starts with, by magic bytes.
fn detect(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if data.starts_with(b"\x1f\x8b\x08") {
        Some(Kind::Gzip)
    } else if is_tar_header(data) {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// True when `block` starts with a POSIX or GNU tar header whose checksum holds: the magic
/// alone could sit at offset 257 of a text file.
fn is_tar_header(block: &[u8]) -> bool {
    let Some(h) = block.get(..TAR_BLOCK) else {
        return false;
    };
    if &h[257..262] != b"ustar" {
        return false;
    }
    let field = &h[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    let Ok(Ok(stored)) = std::str::from_utf8(&digits).map(|s| u32::from_str_radix(s, 8)) else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == stored
}

/// If `data` is an archive, expand it: each member is scanned through [`Tally::scan_blob`] and
/// everything that could not be read is reported. Returns false when `data` is no archive, or
/// one that could not be opened at all (reported; the caller then treats the bytes as any blob,
/// so a text file that merely starts like an archive is still scanned).
pub(super) fn expand(t: &mut Tally, matcher: &Matcher, path: &str, data: &[u8]) -> bool {
    let Some(kind) = detect(data) else {
        return false;
    };
    if t.archive.exhausted {
        // The top-level archive's budget is spent; the error was reported once already.
        return true;
    }
    if t.archive.depth >= MAX_DEPTH {
        t.error(
            path,
            format!("archive nested more than {MAX_DEPTH} deep; not expanded"),
        );
        return true;
    }
    let top = t.archive.depth == 0;
    if top {
        t.archive.budget = MAX_EXPANDED;
        t.archive.exhausted = false;
    }
    t.archive.depth += 1;
    let first_finding = t.findings.len();
    // The archive readers are third-party parsers fed hostile bytes: should one panic, that
    // archive is an error and the scan goes on (the tally holds plain counts, safe to keep).
    let expanded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match kind {
        Kind::Zip => zip(t, matcher, path, data),
        Kind::Tar => tar(t, matcher, path, Cursor::new(data), None),
        Kind::Gzip => gzip(t, matcher, path, data),
    }));
    t.archive.depth -= 1;
    let opened = expanded.unwrap_or_else(|_| {
        t.error(
            path,
            "archive reader failed on malformed input; not expanded",
        );
        true
    });
    if top {
        t.archive.exhausted = false;
        for f in &mut t.findings[first_finding..] {
            f.archive = Some(path.to_string());
        }
    }
    if opened {
        t.stats.archives += 1;
    }
    opened
}

/// What reading one member produced.
enum Member {
    Data(Vec<u8>),
    TooLarge,
    OverBudget,
    /// The read failed after the bytes given (an inflating error, a bad checksum, a cut).
    Failed(Vec<u8>, io::Error),
}

/// Read one member, counting bytes: at most the member cap and what the top-level archive may
/// still expand to. Never sized by what the archive declares.
fn read_member(t: &mut Tally, r: &mut dyn Read) -> Member {
    let cap = t.archive.max_member_size;
    let limit = cap.min(t.archive.budget);
    let mut buf = Vec::new();
    let got = r.take(limit.saturating_add(1)).read_to_end(&mut buf);
    let n = buf.len() as u64;
    t.archive.budget = t.archive.budget.saturating_sub(n);
    match got {
        Err(e) => Member::Failed(buf, e),
        Ok(_) if n > limit && limit < cap => Member::OverBudget,
        Ok(_) if n > limit => Member::TooLarge,
        Ok(_) => Member::Data(buf),
    }
}

/// Counts what an inflating reader gives and fails once it is over [`MAX_RATIO`] times `base`
/// (the compressed bytes it came from) and over [`RATIO_FLOOR`].
struct Meter<'a, R> {
    inner: R,
    out: u64,
    base: u64,
    tripped: &'a Cell<bool>,
}

impl<R> Meter<'_, R> {
    /// Whether what came out so far is over the ratio; a member stopped at the size cap is
    /// judged here too, so a bomb is named as one however large the cap.
    fn over(&self) -> bool {
        let over = self.out > RATIO_FLOOR && self.out / MAX_RATIO > self.base;
        if over {
            self.tripped.set(true);
        }
        over
    }
}

impl<R: Read> Read for Meter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.over() {
            return Err(io::Error::other("compression ratio limit"));
        }
        Ok(n)
    }
}

/// Read one member of `compressed` bytes through a [`Meter`]; `tripped` tells afterwards
/// whether its ratio was over the limit.
fn read_metered(t: &mut Tally, inner: impl Read, compressed: u64, tripped: &Cell<bool>) -> Member {
    let mut meter = Meter {
        inner,
        out: 0,
        base: compressed,
        tripped,
    };
    let got = read_member(t, &mut meter);
    meter.over();
    got
}

fn ratio_message() -> String {
    format!("compression ratio over {MAX_RATIO}; not expanded")
}

fn budget_message() -> String {
    format!("archive expands past {MAX_EXPANDED} bytes in all; the rest was not read")
}

/// `outer!name`, the name shown exactly (non-UTF-8 escaped), whatever it holds: it only ever
/// names, never reaches the file system.
fn member_path(outer: &str, name: &[u8]) -> String {
    format!("{outer}!{}", display_path(name))
}

/// An underlying error for people: its first line, control characters escaped (archive
/// libraries may quote header bytes).
fn describe(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or("");
    crate::report::escape_control(line).into_owned()
}

/// Hand one member's bytes back to the scan, or count and report why they were not read.
/// Returns false when the rest of the archive must not be read.
fn finish_member(
    t: &mut Tally,
    matcher: &Matcher,
    shown: &str,
    got: Member,
    tripped: bool,
    errors: &mut usize,
) -> bool {
    let mut fail = |t: &mut Tally, message: String| {
        t.error(shown, message);
        *errors += 1;
        *errors < MAX_MEMBER_ERRORS
    };
    match got {
        Member::Data(data) => {
            t.scan_blob(matcher, shown, &data);
            !t.archive.exhausted
        }
        Member::TooLarge if tripped => fail(t, ratio_message()),
        Member::TooLarge => {
            t.stats.skipped_too_large += 1;
            true
        }
        Member::OverBudget => {
            t.error(shown, budget_message());
            t.archive.exhausted = true;
            false
        }
        Member::Failed(_, _) if tripped => fail(t, ratio_message()),
        Member::Failed(data, e) => {
            // What was read before the damage is still scanned.
            if !data.is_empty() {
                t.scan_blob(matcher, shown, &data);
            }
            fail(t, format!("reading archive member: {}", describe(&e)))
        }
    }
}

/// A member given up after too many errors.
fn too_many_errors(t: &mut Tally, path: &str) {
    t.error(
        path,
        format!("{MAX_MEMBER_ERRORS} unreadable members; the rest of the archive was not read"),
    );
}

/// Expand a zip from its central directory; if that cannot be read (truncated, corrupt), the
/// error is reported and the members are read from their local headers as far as they go.
fn zip(t: &mut Tally, matcher: &Matcher, path: &str, data: &[u8]) -> bool {
    let mut archive = match zip::ZipArchive::new(Cursor::new(data)) {
        Ok(a) => a,
        Err(e) => return zip_stream(t, matcher, path, data, &describe(&e)),
    };
    let mut errors = 0;
    for i in 0..archive.len() {
        if errors >= MAX_MEMBER_ERRORS {
            too_many_errors(t, path);
            break;
        }
        // Metadata first, raw: an encrypted or unsupported member is named, not just failed.
        let (shown, encrypted, dir, compressed, declared) = match archive.by_index_raw(i) {
            Ok(f) => (
                member_path(path, f.name_raw()),
                f.encrypted(),
                f.is_dir(),
                f.compressed_size(),
                f.size(),
            ),
            Err(e) => {
                t.error(path, format!("zip member {i}: {}", describe(&e)));
                errors += 1;
                continue;
            }
        };
        if dir {
            continue;
        }
        t.stats.archive_members += 1;
        if matcher.path_allowed(&shown) {
            t.stats.skipped_allowed_paths += 1;
            continue;
        }
        if encrypted {
            t.error(&shown, "encrypted archive member; cannot be read");
            errors += 1;
            continue;
        }
        // The declared compressed size bounds nothing: the bytes present do.
        let compressed = compressed.min(data.len() as u64);
        if declared > RATIO_FLOOR && declared / MAX_RATIO > compressed {
            t.error(&shown, ratio_message());
            errors += 1;
            continue;
        }
        let tripped = Cell::new(false);
        let got = match archive.by_index(i) {
            Ok(file) => read_metered(t, file, compressed, &tripped),
            Err(e) => Member::Failed(Vec::new(), io::Error::other(describe(&e))),
        };
        if !finish_member(t, matcher, &shown, got, tripped.get(), &mut errors) {
            if errors >= MAX_MEMBER_ERRORS {
                too_many_errors(t, path);
            }
            break;
        }
    }
    true
}

/// Read a zip whose central directory is unreadable member by member from the front, so what
/// precedes the damage is still scanned. Returns false when not one member could be read.
fn zip_stream(t: &mut Tally, matcher: &Matcher, path: &str, data: &[u8], why: &str) -> bool {
    let mut reader = Cursor::new(data);
    let mut members = 0u64;
    let mut errors = 0;
    let mut stopped = None;
    loop {
        let tripped = Cell::new(false);
        let (shown, got) = match zip::read::read_zipfile_from_stream(&mut reader) {
            Ok(None) => break,
            Err(e) => {
                stopped = Some(describe(&e));
                break;
            }
            Ok(Some(file)) => {
                if file.is_dir() {
                    continue;
                }
                let shown = member_path(path, file.name_raw());
                members += 1;
                t.stats.archive_members += 1;
                if matcher.path_allowed(&shown) {
                    t.stats.skipped_allowed_paths += 1;
                    continue;
                }
                if file.encrypted() {
                    t.error(&shown, "encrypted archive member; cannot be read");
                    continue;
                }
                let compressed = file.compressed_size();
                (shown, read_metered(t, file, compressed, &tripped))
            }
        };
        if !finish_member(t, matcher, &shown, got, tripped.get(), &mut errors) {
            break;
        }
    }
    if members == 0 {
        t.error(path, format!("corrupt zip archive: {why}; not expanded"));
        return false;
    }
    let tail = stopped.map(|s| format!(" ({s})")).unwrap_or_default();
    t.error(
        path,
        format!(
            "corrupt zip archive: {why}; {members} member(s) before the damage were scanned{tail}"
        ),
    );
    true
}

/// Expand a tar read from `reader`. `ratio` is the flag of the inflating meter underneath, for a
/// tar in gzip. Returns false when the tar could not be read at all.
fn tar(
    t: &mut Tally,
    matcher: &Matcher,
    path: &str,
    reader: impl Read,
    ratio: Option<&Cell<bool>>,
) -> bool {
    let tripped = || ratio.is_some_and(Cell::get);
    let mut archive = tar::Archive::new(reader);
    let mut members = 0u64;
    let mut errors = 0;
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            t.error(path, format!("corrupt tar archive: {}", describe(&e)));
            return false;
        }
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                if tripped() {
                    t.error(path, ratio_message());
                } else {
                    t.error(
                        path,
                        format!(
                            "corrupt tar archive after {members} member(s): {}",
                            describe(&e)
                        ),
                    );
                }
                return true;
            }
        };
        let kind = entry.header().entry_type();
        let shown = member_path(path, &entry.path_bytes());
        use tar::EntryType as E;
        match kind {
            E::Regular | E::Continuous | E::GNUSparse => {}
            E::Symlink | E::Link => {
                members += 1;
                t.stats.archive_members += 1;
                t.stats.skipped_symlinks += 1;
                continue;
            }
            _ => continue,
        }
        members += 1;
        t.stats.archive_members += 1;
        if matcher.path_allowed(&shown) {
            t.stats.skipped_allowed_paths += 1;
            continue;
        }
        let got = read_member(t, &mut entry);
        if let (Member::Failed(..), true) = (&got, tripped()) {
            // The gzip stream under the tar is a bomb: name the archive, read no further.
            t.error(path, ratio_message());
            return true;
        }
        if !finish_member(t, matcher, &shown, got, false, &mut errors) {
            if errors >= MAX_MEMBER_ERRORS {
                too_many_errors(t, path);
            }
            return true;
        }
    }
    true
}

/// Expand a gzip stream (concatenated members too): a tar inside is expanded as one archive with
/// the gzip (`a.tar.gz!dir/file`), anything else is one member named by the gzip header or the
/// outer name without `.gz`.
fn gzip(t: &mut Tally, matcher: &Matcher, path: &str, data: &[u8]) -> bool {
    let tripped = Cell::new(false);
    let mut meter = Meter {
        inner: flate2::read::MultiGzDecoder::new(data),
        out: 0,
        base: data.len() as u64,
        tripped: &tripped,
    };
    let mut head = Vec::with_capacity(TAR_BLOCK);
    if let Err(e) = (&mut meter).take(TAR_BLOCK as u64).read_to_end(&mut head) {
        t.error(path, format!("corrupt gzip stream: {}", describe(&e)));
        return false;
    }
    if is_tar_header(&head) {
        t.archive.budget = t.archive.budget.saturating_sub(head.len() as u64);
        return tar(
            t,
            matcher,
            path,
            Cursor::new(head).chain(meter),
            Some(&tripped),
        );
    }
    let name = meter
        .inner
        .header()
        .and_then(|h| h.filename())
        .map_or_else(|| gunzipped_name(path).into_bytes(), <[u8]>::to_vec);
    let shown = member_path(path, &name);
    t.stats.archive_members += 1;
    if matcher.path_allowed(&shown) {
        t.stats.skipped_allowed_paths += 1;
        return true;
    }
    let got = read_member(t, &mut Cursor::new(head).chain(&mut meter));
    meter.over();
    let mut errors = 0;
    finish_member(t, matcher, &shown, got, tripped.get(), &mut errors);
    true
}

/// The name a gzip without a stored name unpacks to: the outer file name without `.gz`
/// (`.tgz` gives `.tar`).
fn gunzipped_name(path: &str) -> String {
    let last = path.rsplit(['/', '!']).next().unwrap_or(path);
    let lower = last.to_ascii_lowercase();
    let name = if lower.ends_with(".tgz") {
        format!("{}.tar", &last[..last.len() - 4])
    } else if lower.ends_with(".gz") {
        last[..last.len() - 3].to_string()
    } else {
        last.to_string()
    };
    if name.is_empty() {
        "gzip-content".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_needs_magic_and_checksum() {
        let mut h = vec![0u8; TAR_BLOCK];
        h[..4].copy_from_slice(b"file");
        h[257..263].copy_from_slice(b"ustar\0");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum::<u32>() + 8 * 32;
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h[155] = b' ';
        assert!(is_tar_header(&h));
        h[0] = b'x';
        assert!(!is_tar_header(&h), "a wrong checksum is no tar");
        let mut text = vec![b'a'; 600];
        text[257..262].copy_from_slice(b"ustar");
        assert!(!is_tar_header(&text));
    }

    #[test]
    fn gunzipped_names() {
        assert_eq!(gunzipped_name("dir/a.txt.gz"), "a.txt");
        assert_eq!(gunzipped_name("x.zip!b.TGZ"), "b.tar");
        assert_eq!(gunzipped_name(".gz"), "gzip-content");
        assert_eq!(gunzipped_name("plain"), "plain");
    }

    /// Small valid archives of each kind, nested ones too.
    fn seeds() -> Vec<Vec<u8>> {
        use std::io::Write;
        let text = b"key = value\nGENESYS_CLOUD_CLIENT_SECRET = not-a-real-one\n".repeat(4);
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for name in ["a.txt", "dir/b.env"] {
            z.start_file(name, opts).unwrap();
            z.write_all(&text).unwrap();
        }
        let zip = z.finish().unwrap().into_inner();
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in [("a.txt", &text[..]), ("lib/x.jar", &zip[..])] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append_data(&mut h, name, data).unwrap();
        }
        let tar = b.into_inner().unwrap();
        let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        g.write_all(&tar).unwrap();
        let tgz = g.finish().unwrap();
        vec![zip, tar, tgz]
    }

    #[test]
    fn damaged_archives_never_panic() {
        let matcher = Matcher::new(crate::rules::builtin(), &crate::Config::default()).unwrap();
        let mut rng = fastrand::Rng::with_seed(8);
        for seed in seeds() {
            for _ in 0..400 {
                let mut data = seed.clone();
                for _ in 0..rng.usize(1..8) {
                    let i = rng.usize(..data.len());
                    data[i] = rng.u8(..);
                }
                if rng.bool() {
                    data.truncate(rng.usize(1..=data.len()));
                }
                let mut t = Tally::default();
                t.scan_blob(&matcher, "fuzz", &data);
                assert_eq!(t.archive.depth, 0);
                assert_eq!(t.stats.errors as usize, t.errors.len());
            }
        }
    }

    #[test]
    fn control_characters_are_escaped_in_errors() {
        assert_eq!(describe(&"bad\x1b[2Jname\nsecond"), "bad\\x1b[2Jname");
    }
}
