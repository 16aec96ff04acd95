//! Secrets inside archives users commit (zip, jar, tar, gzip, tar.gz), found by magic bytes and
//! shown as `outer!member`; hostile archives (bombs, deep nests, corrupt or encrypted ones)
//! reported, never followed, and the rest of the scan completed. Archives are built at test time.

use crate::common;
use common::Repo;

use common::{findings, git, run_in, scan_json, scan_json_capped};
use serde_json::Value;
use std::io::{Cursor, Write};
use std::path::Path;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// Two lines of preamble, then a Genesys pair: the secret is on line 4.
fn genesys_env(seed: u64) -> String {
    format!(
        "# settings\n\n{}GENESYS_CLOUD_REGION=eu-west-1\n",
        common::env_file(seed)
    )
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_of(members: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // Raw bytes: a member name is whatever the archive says.
        let field = &mut h.as_old_mut().name;
        field[..name.len()].copy_from_slice(name);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip_of(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn write(dir: &Path, rel: &str, data: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

/// The secret findings' (path, line) pairs.
fn secret_places(doc: &Value) -> Vec<(String, u64)> {
    findings(doc)
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap_or("").contains("secret"))
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn errors(doc: &Value) -> Vec<(String, String)> {
    doc["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Scan `dir`, expecting exactly one Genesys secret at `path`, line 4, and exit 1.
fn assert_found_at(dir: &Path, path: &str) -> Value {
    let (code, doc) = scan_json(dir, &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(secret_places(&doc), vec![(path.to_string(), 4)], "{doc:#}");
    assert!(errors(&doc).is_empty(), "{doc:#}");
    doc
}

#[test]
fn secret_in_zip_is_found_with_bang_path_and_member_line() {
    let dir = tempfile::tempdir().unwrap();
    let env = genesys_env(1);
    write(
        dir.path(),
        "bundle.zip",
        &zip_of(&[("README", b"hello\n"), ("config/app.env", env.as_bytes())]),
    );
    let doc = assert_found_at(dir.path(), "bundle.zip!config/app.env");
    assert_eq!(doc["stats"]["archives"], 1);
    assert_eq!(doc["stats"]["archive_members"], 2);
    assert_eq!(doc["stats"]["files"], 2, "members count as files scanned");
    assert_eq!(doc["stats"]["skipped_binary"], 0, "the archive is scanned");
}

#[test]
fn code_scanning_points_at_the_archive_and_names_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let env = genesys_env(21);
    let inner = zip_of(&[("config/app.env", env.as_bytes())]);
    write(
        dir.path(),
        "dist/bundle.tar",
        &tar_of(&[(b"lib/app.jar", &inner)]),
    );
    let doc = assert_found_at(dir.path(), "dist/bundle.tar!lib/app.jar!config/app.env");
    assert_eq!(findings(&doc)[0]["archive"], "dist/bundle.tar");
    let out = run_in(dir.path(), &["scan", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    common::validate_sarif(&sarif);
    let result = &sarif["runs"][0]["results"][0];
    let place = &result["locations"][0]["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], "dist/bundle.tar");
    assert_eq!(place["region"]["startLine"], 1);
    assert_eq!(
        result["properties"]["archive_member_path"],
        "dist/bundle.tar!lib/app.jar!config/app.env"
    );
    assert_eq!(result["properties"]["archive_member_line"], 4);
    assert!(
        result["message"]["text"]
            .as_str()
            .unwrap()
            .contains("in dist/bundle.tar!lib/app.jar!config/app.env at line 4"),
        "{result}"
    );
}

#[test]
fn jar_and_other_zip_kinds_are_found_by_magic_not_name() {
    let env = genesys_env(2);
    let data = zip_of(&[("META-INF/app.properties", env.as_bytes())]);
    for name in ["app.jar", "site.war", "pkg.whl", "lib.nupkg", "data.bin"] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, &data);
        assert_found_at(dir.path(), &format!("{name}!META-INF/app.properties"));
    }
}

#[test]
fn secret_in_tar_tar_gz_and_gz_is_found() {
    let env = genesys_env(3);
    let tar = tar_of(&[(b"etc/app.env", env.as_bytes())]);

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src.tar", &tar);
    assert_found_at(dir.path(), "src.tar!etc/app.env");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src.tar.gz", &gzip_of(&tar));
    let doc = assert_found_at(dir.path(), "src.tar.gz!etc/app.env");
    assert_eq!(doc["stats"]["archives"], 1, "tar in gzip is one archive");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.env.gz", &gzip_of(env.as_bytes()));
    assert_found_at(dir.path(), "app.env.gz!app.env");
}

#[test]
fn nested_jar_in_tar_gz_is_found_with_full_path() {
    let dir = tempfile::tempdir().unwrap();
    let env = genesys_env(4);
    let jar = zip_of(&[("META-INF/app.properties", env.as_bytes())]);
    let tgz = gzip_of(&tar_of(&[(b"README", b"release\n"), (b"lib/x.jar", &jar)]));
    write(dir.path(), "release.tar.gz", &tgz);
    let doc = assert_found_at(
        dir.path(),
        "release.tar.gz!lib/x.jar!META-INF/app.properties",
    );
    assert_eq!(doc["stats"]["archives"], 2);
    assert_eq!(doc["stats"]["archive_members"], 3);
}

/// `levels` zips, each inside the next, the innermost holding the secret.
fn nest(levels: usize, env: &str) -> (Vec<u8>, String) {
    let mut data = env.as_bytes().to_vec();
    let mut inner = "app.env".to_string();
    for level in (1..=levels).rev() {
        let name = inner.clone();
        data = zip_of(&[(&name, &data)]);
        inner = format!("l{level}.zip");
    }
    let mut shown = String::from("l1.zip");
    for level in 2..=levels {
        shown.push_str(&format!("!l{level}.zip"));
    }
    shown.push_str("!app.env");
    (data, shown)
}

#[test]
fn nesting_four_deep_is_read_and_deeper_is_reported() {
    let env = genesys_env(5);
    let dir = tempfile::tempdir().unwrap();
    let (data, shown) = nest(4, &env);
    write(dir.path(), "l1.zip", &data);
    assert_found_at(dir.path(), &shown);

    let dir = tempfile::tempdir().unwrap();
    let (data, _) = nest(5, &env);
    write(dir.path(), "l1.zip", &data);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2, "a part not read is an error: {doc:#}");
    assert!(secret_places(&doc).is_empty());
    assert_eq!(
        errors(&doc),
        vec![(
            "l1.zip!l2.zip!l3.zip!l4.zip!l5.zip".to_string(),
            "archive nested more than 4 deep; not expanded".to_string()
        )]
    );
}

/// A raw deflate stream of `prefix` then `mib` MiB of zeros, built in milliseconds: one
/// compressed MiB of zeros (sync-flushed, so byte-aligned and not final) decodes to the same
/// zeros after any window of zeros, so it is repeated rather than compressed again.
fn deflate_zeros(prefix: &[u8], mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut c = Compress::new(Compression::best(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut run = |input: &[u8], flush| {
        let mut out = Vec::with_capacity(input.len() / 100 + 1024);
        let before = c.total_in();
        loop {
            let used = (c.total_in() - before) as usize;
            c.compress_vec(&input[used..], &mut out, flush).unwrap();
            if (c.total_in() - before) as usize == input.len() && out.len() < out.capacity() {
                return out;
            }
            out.reserve(1024);
        }
    };
    let mut stream = run(&[prefix, &zeros].concat(), FlushCompress::Sync);
    let again = run(&zeros, FlushCompress::Sync);
    for _ in 1..mib {
        stream.extend_from_slice(&again);
    }
    stream.extend(run(&[], FlushCompress::Finish));
    stream
}

/// A one-member zip, written by hand, of `mib` MiB of zeros that declares `declared` bytes (the
/// CRC is never reached, so it is left zero).
fn zero_zip(name: &str, mib: usize, declared: u32) -> Vec<u8> {
    let data = deflate_zeros(b"", mib);
    let (n, csize) = (name.len() as u16, data.len() as u32);
    let mut z = Vec::new();
    z.extend(0x0403_4b50u32.to_le_bytes());
    z.extend([20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method, time, date, crc
    z.extend(csize.to_le_bytes());
    z.extend(declared.to_le_bytes());
    z.extend(n.to_le_bytes());
    z.extend([0, 0]);
    z.extend(name.as_bytes());
    z.extend(&data);
    let cd = z.len() as u32;
    z.extend(0x0201_4b50u32.to_le_bytes());
    z.extend([20, 0, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend(csize.to_le_bytes());
    z.extend(declared.to_le_bytes());
    z.extend(n.to_le_bytes());
    z.extend([0; 12]); // extra, comment, disk, internal and external attributes
    z.extend(0u32.to_le_bytes()); // local header offset
    z.extend(name.as_bytes());
    let cd_size = z.len() as u32 - cd;
    z.extend(0x0605_4b50u32.to_le_bytes());
    z.extend([0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend(cd_size.to_le_bytes());
    z.extend(cd.to_le_bytes());
    z.extend([0, 0]);
    z
}

/// A gzip of `prefix` then `mib` MiB of zeros (trailer CRC left zero: never reached).
fn zero_gzip(prefix: &[u8], mib: usize) -> Vec<u8> {
    let mut g = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    g.extend(deflate_zeros(prefix, mib));
    g.extend([0; 8]);
    g
}

/// Offsets of the local and central headers of a one-member zip.
fn headers(data: &[u8]) -> (usize, usize) {
    let find = |sig: &[u8]| data.windows(4).position(|w| w == sig).unwrap();
    (find(b"PK\x03\x04"), find(b"PK\x01\x02"))
}

#[test]
fn zip_bomb_is_reported_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = zero_zip("zeros.bin", 200, 200 << 20);
    assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
    // The same bomb lying about its size: caught by counting while inflating.
    let liar = zero_zip("zeros.bin", 200, 1000);
    write(dir.path(), "bomb.zip", &bomb);
    write(dir.path(), "liar.zip", &liar);
    // Inflating the bomb would need 200 MiB per member; the scan stays far below.
    let (code, doc) = scan_json_capped(dir.path(), &[], Some(1024));
    assert_eq!(code, 2, "{doc:#}");
    assert!(findings(&doc).is_empty());
    let errs = errors(&doc);
    assert!(
        errs.contains(&(
            "bomb.zip!zeros.bin".to_string(),
            "compression ratio over 100; not expanded".to_string()
        )),
        "{errs:?}"
    );
    assert!(
        errs.contains(&(
            "liar.zip!zeros.bin".to_string(),
            "compression ratio over 100; not expanded".to_string()
        )),
        "the lying member is reported: {errs:?}"
    );
}

#[test]
fn gzip_and_tar_gz_bombs_are_counted_while_inflating() {
    let dir = tempfile::tempdir().unwrap();
    // gzip keeps no trustworthy size: only counting can catch these.
    write(dir.path(), "zeros.gz", &zero_gzip(b"", 200));
    let header = &tar_of(&[(b"zeros", &[])])[..512];
    let mut header = header.to_vec();
    let mut h = tar::Header::from_byte_slice(&header).clone();
    h.set_size(200 << 20);
    h.set_cksum();
    header.copy_from_slice(h.as_bytes());
    write(dir.path(), "zeros.tar.gz", &zero_gzip(&header, 200));
    write(dir.path(), "ok.env", genesys_env(6).as_bytes());
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "the sibling's secret is found: {doc:#}");
    assert_eq!(secret_places(&doc), vec![("ok.env".to_string(), 4)]);
    let ratio = "compression ratio over 100; not expanded".to_string();
    assert_eq!(
        errors(&doc),
        vec![
            ("zeros.gz!zeros".to_string(), ratio.clone()),
            ("zeros.tar.gz".to_string(), ratio)
        ]
    );
}

#[test]
fn corrupt_archives_are_errors_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let first = genesys_env(7);
    let filler: Vec<u8> = (0..20_000u32).flat_map(u32::to_le_bytes).collect();
    let whole = zip_of(&[("first.env", first.as_bytes()), ("filler.bin", &filler)]);
    // Cut inside the second member: the central directory is gone.
    let (_, central) = headers(&whole);
    write(dir.path(), "cut.zip", &whole[..central - 100]);
    let tar = gzip_of(&tar_of(&[
        (b"a.env", genesys_env(8).as_bytes()),
        (b"b", &filler),
    ]));
    write(dir.path(), "cut.tar.gz", &tar[..tar.len() / 2]);
    write(
        dir.path(),
        "junk.zip",
        b"PK\x03\x04 not really a zip archive\n",
    );
    write(dir.path(), "sibling.env", genesys_env(9).as_bytes());

    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        secret_places(&doc),
        vec![
            ("cut.tar.gz!a.env".to_string(), 4),
            ("cut.zip!first.env".to_string(), 4),
            ("sibling.env".to_string(), 4),
        ],
        "members before the damage and the sibling are scanned"
    );
    let errs = errors(&doc);
    for archive in ["cut.zip", "cut.tar.gz", "junk.zip"] {
        assert!(
            errs.iter().any(|(p, _)| p.starts_with(archive)),
            "{archive} is reported: {errs:?}"
        );
    }
    assert_eq!(doc["stats"]["errors"].as_u64().unwrap(), errs.len() as u64);
}

#[test]
fn encrypted_members_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = zip_of(&[("secret.env", genesys_env(10).as_bytes())]);
    let (local, central) = headers(&data);
    // Set the "encrypted" flag: the member cannot be read without a password.
    data[local + 6] |= 1;
    data[central + 8] |= 1;
    write(dir.path(), "locked.zip", &data);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(
        errors(&doc),
        vec![(
            "locked.zip!secret.env".to_string(),
            "encrypted archive member; cannot be read".to_string()
        )]
    );
}

#[test]
fn hostile_member_names_are_only_names() {
    let dir = tempfile::tempdir().unwrap();
    let env = genesys_env(11);
    let tar = tar_of(&[(b"../../escape\xff\x1b.env", env.as_bytes())]);
    write(dir.path(), "t/evil.tar", &tar);
    let doc = assert_found_at(dir.path(), "t/evil.tar!../../escape\\xff\u{1b}.env");
    assert_eq!(doc["stats"]["files"], 1);
    assert!(!dir.path().join("escape\u{fffd}\u{1b}.env").exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn binary_members_count_as_skipped_binary_and_text_summary_names_archives() {
    let dir = tempfile::tempdir().unwrap();
    let zip = zip_of(&[
        ("img.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
        ("a.txt", b"hi\n"),
    ]);
    write(dir.path(), "assets.zip", &zip);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["stats"]["skipped_binary"], 1);
    assert_eq!(doc["stats"]["files"], 1);
    let out = run_in(dir.path(), &["scan"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("1 archive(s) expanded, 2 member(s); skipped 1 binary"),
        "{text}"
    );
}

#[test]
fn history_finds_a_secret_in_a_committed_zip() {
    let dir = Repo::new();
    write(
        dir.path(),
        "dist/bundle.zip",
        &zip_of(&[("conf/app.env", genesys_env(12).as_bytes())]),
    );
    dir.commit(&[], "add bundle");
    dir.git(&["rm", "-q", "dist/bundle.zip"]);
    dir.commit(&[], "remove bundle");
    let (code, doc) = scan_json(dir.path(), &["--history"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        secret_places(&doc),
        vec![("dist/bundle.zip!conf/app.env".to_string(), 4)]
    );
    assert!(findings(&doc)[0]["commit"].is_string(), "{doc:#}");
}

#[test]
fn staged_scan_reads_archives_and_does_not_repeat_committed_secrets() {
    let dir = Repo::new();
    let old = genesys_env(13);
    write(dir.path(), "b.zip", &zip_of(&[("old.env", old.as_bytes())]));
    dir.commit(&[], "base");
    // The archive changes: the committed secret stays, a new one comes in.
    let new = genesys_env(14);
    write(
        dir.path(),
        "b.zip",
        &zip_of(&[("old.env", old.as_bytes()), ("new.env", new.as_bytes())]),
    );
    git(dir.path(), &["add", "."]);
    let (code, doc) = scan_json(dir.path(), &["--staged"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(secret_places(&doc), vec![("b.zip!new.env".to_string(), 4)]);
}

#[test]
fn an_archive_of_unreadable_members_is_given_up_after_a_hundred() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..150).map(|i| format!("m{i:03}")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x\n"[..])).collect();
    let mut data = zip_of(&members);
    // Every member "encrypted".
    let at: Vec<usize> = data
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x01\x02")
        .map(|(i, _)| i)
        .collect();
    for i in at {
        data[i + 8] |= 1;
    }
    write(dir.path(), "many.zip", &data);
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2);
    let errs = errors(&doc);
    assert_eq!(errs.len(), 101, "{errs:?}");
    assert_eq!(
        errs[0],
        (
            "many.zip".to_string(),
            "100 unreadable members; the rest of the archive was not read".to_string()
        )
    );
}
