//! Trust in what the matcher finds and what output shows: no secret dropped by a placeholder
//! word inside it or an invalid byte beside it, no secret printed unredacted in any format, no
//! terminal control from crafted names, findings capped per file and said so, and properties
//! over random bytes.

use crate::common;

use common::{client_id, findings, genesys_secret, run_in, scan_json, write_files};
use leakgate::finding::{display_path, Finding};
use leakgate::{Config, Matcher};
use proptest::prelude::*;
use std::sync::LazyLock;

/// The built-in rules with no per-file cap, compiled once for the whole test binary.
static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new(leakgate::rules::builtin(), &Config::default())
        .unwrap()
        .with_max_findings_per_file(usize::MAX)
});

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn random_over(rng: &mut fastrand::Rng, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[rng.usize(..alphabet.len())] as char)
        .collect()
}

/// A GitHub classic token, generated: `ghp_`, 30 base62 characters and their checksum.
fn github_pat(rng: &mut fastrand::Rng) -> String {
    common::github_token(&random_over(rng, BASE62, 30))
}

/// An AWS access key id shape, generated: `AKIA` and 16 base32 characters.
fn aws_key_id(rng: &mut fastrand::Rng) -> String {
    let body = random_over(rng, BASE32, 16);
    format!("{}{}{body}", "AK", "IA")
}

/// An AWS secret access key shape, generated: 40 base64 characters.
fn aws_secret(rng: &mut fastrand::Rng) -> String {
    loop {
        let s = random_over(rng, BASE64, 40);
        if leakgate::matcher::entropy(s.as_bytes()) >= 4.0 {
            return s;
        }
    }
}

/// `secret` with `word` written over it at a random place in `range` (same length, so the
/// shape stays valid).
fn splice(
    rng: &mut fastrand::Rng,
    secret: &str,
    word: &str,
    range: std::ops::Range<usize>,
) -> String {
    let at = rng.usize(range.start..range.end - word.len());
    format!("{}{word}{}", &secret[..at], &secret[at + word.len()..])
}

fn found(findings: &[Finding], secret: &str) -> bool {
    findings.iter().any(|f| f.secret == secret)
}

/// Placeholder words spliced inside random secrets (Genesys, GitHub, AWS), 20,000 in all: each
/// is found. A placeholder is judged on the whole value, never on a word inside it.
#[test]
fn placeholder_words_inside_random_secrets_do_not_hide_them() {
    let words = [
        "your",
        "Your",
        "YOUR",
        "Fake",
        "fake",
        "sample",
        "Sample",
        "Dummy",
        "dummy",
        "xxxx",
        "XXXX",
        "1234567",
        "example",
        "Example",
        "changeme",
        "placeholder",
        "redacted",
        "insert",
        "replace",
        "0000000",
    ];
    let upper = [
        "YOUR", "FAKE", "DUMMY", "XXXX", "SAMPLE", "EXAMPLE", "REDACTED", "INSERT",
    ];
    let mut rng = fastrand::Rng::with_seed(0x7a11);
    let mut blob = String::new();
    let mut planted = Vec::new();
    for i in 0..5_000u64 {
        let word = words[i as usize % words.len()];
        let g = splice(&mut rng, &genesys_secret(i + 1_000_000), word, 0..42);
        blob.push_str(&format!("GENESYS_CLOUD_CLIENT_SECRET={g}\n"));
        planted.push(g);
        // The word goes into the random part; the checksum is of what the token holds.
        let body = random_over(&mut rng, BASE62, 30);
        let gh = common::github_token(&splice(&mut rng, &body, word, 0..30));
        blob.push_str(&format!("GITHUB_TOKEN={gh}\n"));
        planted.push(gh);
        let w = upper[i as usize % upper.len()];
        let id = aws_key_id(&mut rng);
        let id = splice(&mut rng, &id, w, 4..20);
        blob.push_str(&format!("aws_access_key_id = {id}\n"));
        planted.push(id);
        let key = aws_secret(&mut rng);
        let key = splice(&mut rng, &key, word, 0..40);
        blob.push_str(&format!("aws_secret_access_key = {key}\n"));
        planted.push(key);
    }
    let findings = MATCHER.scan("config.env", blob.as_bytes());
    let secrets: std::collections::HashSet<&str> =
        findings.iter().map(|f| f.secret.as_str()).collect();
    let missed: Vec<&String> = planted
        .iter()
        .filter(|s| !secrets.contains(s.as_str()))
        .collect();
    assert!(
        missed.is_empty(),
        "{} of {} planted secrets missed, e.g. {}",
        missed.len(),
        planted.len(),
        missed
            .first()
            .map(|s| leakgate::finding::redact(s))
            .unwrap_or_default()
    );
}

/// The placeholders users write are still not reported.
#[test]
fn whole_value_placeholders_are_not_reported() {
    let lines = [
        "GENESYS_CLOUD_CLIENT_SECRET=<your-client-secret>",
        "GENESYS_CLOUD_CLIENT_SECRET=YOUR_CLIENT_SECRET_GOES_HERE_XXXXXXXXXXXXXXX",
        "genesys client_secret = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxA",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "DB_PASSWORD=changeme",
        "OPENAI_API_KEY=your-openai-api-key",
        "api_key = \"<YOUR_SECRET>\"",
    ];
    for line in lines {
        let f = MATCHER.scan(".env", line.as_bytes());
        assert!(
            f.is_empty(),
            "{line}: {:?}",
            f.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
        );
    }
}

/// A bundle of Genesys secrets on one line, separated by `,`: an earlier secret is never read
/// as the name of the next (a `hash` or `kid` inside it would drop it).
#[test]
fn secrets_in_a_one_line_bundle_are_all_found() {
    let secrets: Vec<String> = (0..3_000).map(|i| genesys_secret(i + 5_000_000)).collect();
    // A Genesys name every 50 values keeps each in its rule's context window.
    let blob: String = secrets
        .chunks(50)
        .map(|c| format!("genesys:[\"{}\"],", c.join("\",\"")))
        .collect();
    let findings = MATCHER.scan("bundle.js", blob.as_bytes());
    let missed = secrets.iter().filter(|s| !found(&findings, s)).count();
    assert_eq!(missed, 0, "{missed} of {} missed", secrets.len());
}

/// An invalid UTF-8 byte right before or after a secret does not hide it.
#[test]
fn invalid_utf8_beside_a_secret_does_not_hide_it() {
    let mut rng = fastrand::Rng::with_seed(2);
    for (i, bad) in [[0xffu8], [0xc3], [0x80], [0xfe]].iter().enumerate() {
        let g = genesys_secret(40 + i as u64);
        let gh = github_pat(&mut rng);
        let id = aws_key_id(&mut rng);
        for (before, after) in [(true, false), (false, true), (true, true)] {
            let mut data = b"# genesys\n".to_vec();
            for s in [&g, &gh, &id] {
                data.extend_from_slice(b"x=");
                if before {
                    data.extend_from_slice(bad);
                }
                data.extend_from_slice(s.as_bytes());
                if after {
                    data.extend_from_slice(bad);
                }
                data.push(b'\n');
            }
            let findings = MATCHER.scan("data.bin.txt", &data);
            for s in [&g, &gh, &id] {
                assert!(
                    found(&findings, s),
                    "byte {bad:?} (before {before}, after {after}) hid {}",
                    leakgate::finding::redact(s)
                );
            }
        }
    }
}

/// A folder with several distinct secrets: two rules on one line, a second secret on a
/// reported secret's line, one on an allowed line, one silenced by a configured value beside a
/// reported one, one dropped by a filter beside a reported one. Returns (dir, every secret).
fn planted_tree() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(99);
    let (g1, g2, g3, g4) = (
        genesys_secret(901),
        genesys_secret(902),
        genesys_secret(903),
        genesys_secret(904),
    );
    let id = client_id(901);
    let (gh1, gh2, gh3) = (
        github_pat(&mut rng),
        github_pat(&mut rng),
        github_pat(&mut rng),
    );
    let silenced = github_pat(&mut rng);
    let (ak, sk) = (aws_key_id(&mut rng), aws_secret(&mut rng));
    let config = format!("[allow]\nvalues = [\"^{silenced}$\"]\n");
    write_files(
        dir.path(),
        &[
            (".leakgate.toml", &config),
            (
                "app.env",
                &format!(
                    "GENESYS_CLOUD_CLIENT_ID={id}\nGENESYS_CLOUD_CLIENT_SECRET={g1}\n\
                     tokens: {gh1} {gh2} genesys_secret={g2}\n\
                     quiet = {gh3} {g3} # leakgate:allow\n\
                     aws_access_key_id = {ak} aws_secret_access_key = {sk}\n"
                ),
            ),
            (
                "more.js",
                &format!(
                    "const a = \"{}\"; const b = \"{silenced}\";\n// genesys nonce={g4} {}\n",
                    github_pat(&mut fastrand::Rng::with_seed(5)),
                    github_pat(&mut fastrand::Rng::with_seed(6)),
                ),
            ),
        ],
    );
    let mut all = vec![g1, g2, g3, g4, gh1, gh2, gh3, silenced, ak, sk];
    all.push(github_pat(&mut fastrand::Rng::with_seed(5)));
    all.push(github_pat(&mut fastrand::Rng::with_seed(6)));
    (dir, all)
}

/// No planted secret appears whole, or past its shown prefix, in any format's stdout, stderr or
/// output file; `--no-redact` shows them (so the check can fail).
#[test]
fn no_format_shows_a_planted_secret_unless_asked() {
    let (dir, secrets) = planted_tree();
    let leaks = |text: &str| -> Vec<String> {
        secrets
            .iter()
            .filter(|s| text.contains(&s[4..]) || text.contains(&s[s.len() - 12..]))
            .map(|s| leakgate::finding::redact(s))
            .collect()
    };
    for format in ["text", "json", "sarif"] {
        let out = run_in(dir.path(), &["scan", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let shown = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            leaks(&shown).is_empty(),
            "{format} leaks {:?}",
            leaks(&shown)
        );
        let file = dir.path().join(format!("report.{format}"));
        let out = run_in(
            dir.path(),
            &[
                "scan",
                "--format",
                format,
                "--output",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(1));
        let written = std::fs::read_to_string(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
        assert!(
            leaks(&written).is_empty(),
            "{format} file leaks {:?}",
            leaks(&written)
        );
        let shown = String::from_utf8_lossy(&out.stderr);
        assert!(leaks(&shown).is_empty(), "{format} stderr leaks");
    }
    // The reported ones are shown when asked.
    let out = run_in(dir.path(), &["scan", "--no-redact"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    for s in &secrets[..2] {
        assert!(shown.contains(s.as_str()), "--no-redact hides a secret");
    }
    let (_, doc) = scan_json(dir.path(), &["--no-redact"]);
    let listed: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&secrets[0].as_str()) && listed.contains(&secrets[4].as_str()));
}

/// A reported secret's snippet hides every other secret on its line, whatever became of it.
#[test]
fn snippets_hide_every_other_secret_on_the_line() {
    let mut rng = fastrand::Rng::with_seed(3);
    let (a, b) = (github_pat(&mut rng), github_pat(&mut rng));
    let dropped = genesys_secret(77);
    let line = format!(
        "genesys: {a}, {b}, nonce={dropped}, aws_access_key_id={}\n",
        aws_key_id(&mut rng)
    );
    let findings = MATCHER.scan("x.txt", line.as_bytes());
    assert!(findings.len() >= 3, "{findings:?}");
    for f in &findings {
        let shown = format!(
            "{}{}{}",
            f.snippet.before,
            f.snippet.matched(false),
            f.snippet.after
        );
        for s in [&a, &b, &dropped] {
            assert!(
                !shown.contains(&s[4..]),
                "snippet of {} shows another secret: {shown}",
                f.rule_id
            );
        }
        assert!(!format!("{f:?}").contains(&f.secret[4..]));
    }
}

/// Names with newlines, ESC, CR and bidi overrides are escaped in text output; JSON keeps them
/// exact; SARIF URIs are valid and decode to the exact path.
#[test]
fn crafted_names_are_escaped_in_text_and_exact_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "evil\nfake.rs:1:1: all clear\r\x1b[2K.env",
        "rtl\u{202e}vne.txt",
        "a b#c%d?e[f]g h caf\u{e9}:x.env",
    ];
    for (i, name) in names.iter().enumerate() {
        std::fs::write(
            dir.path().join(name),
            format!(
                "GENESYS_CLOUD_CLIENT_SECRET={}\n",
                genesys_secret(600 + i as u64)
            ),
        )
        .unwrap();
    }
    let out = run_in(dir.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\x1b') && !text.contains('\r') && !text.contains('\u{202e}'));
    assert!(
        text.contains("evil\\nfake.rs:1:1: all clear\\r\\x1b[2K.env:1:29"),
        "{text}"
    );
    assert!(text.contains("rtl\\u{202e}vne.txt"), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("fake.rs")),
        "a name forged a line: {text}"
    );

    let (_, doc) = scan_json(dir.path(), &[]);
    let mut paths: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    let mut want = names.to_vec();
    want.sort_unstable();
    assert_eq!(paths, want);

    let out = run_in(dir.path(), &["scan", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::validate_sarif(&sarif);
    for r in sarif["runs"][0]["results"].as_array().unwrap() {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            uri.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/%".contains(&b)),
            "not a valid URI reference: {uri}"
        );
        let decoded = percent_encoding::percent_decode_str(uri)
            .decode_utf8()
            .unwrap();
        assert!(
            names.contains(&decoded.as_ref()),
            "{uri} decodes to {decoded}"
        );
    }
}

/// A one-line bundle dense with findings, with one inline allow elsewhere: every finding is
/// counted, at most the per-file cap is listed, and the rest is said in a warning naming the
/// file (exit code still 1).
#[test]
fn findings_over_the_per_file_cap_are_counted_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(11);
    let tokens: Vec<String> = (0..2_500).map(|_| github_pat(&mut rng)).collect();
    write_files(
        dir.path(),
        &[
            (
                "bundle.min.js",
                &format!("{}\n// leakgate:allow\n", tokens.join(",")),
            ),
            ("few.js", &format!("{}\n", tokens[..3].join(","))),
        ],
    );
    // The cap is per file: each place on its own (few.js repeats three of the bundle's).
    let out = run_in(dir.path(), &["scan", "--format", "json", "--no-group"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = findings(&doc);
    assert_eq!(
        listed
            .iter()
            .filter(|f| f["path"] == "bundle.min.js")
            .count(),
        1000
    );
    assert_eq!(listed.iter().filter(|f| f["path"] == "few.js").count(), 3);
    assert_eq!(doc["stats"]["findings_over_cap"], 1500);
    let warned = doc["warnings"].as_array().unwrap();
    assert!(
        warned.iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("bundle.min.js") && w.contains("1500")
        }),
        "{warned:?}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("bundle.min.js"));
    // Grouped, the listed ones are 1000 secrets, three of them in both files.
    let (code, doc) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc).len(), 1000);
    let twice: Vec<_> = findings(&doc)
        .iter()
        .filter(|f| f["places"] != 1)
        .map(|f| (&f["path"], &f["places"], &f["occurrences"][0]["path"]))
        .collect();
    assert_eq!(twice.len(), 3, "{twice:?}");
    assert!(
        twice
            .iter()
            .all(|t| t.0 == "bundle.min.js" && t.1 == 2 && t.2 == "few.js"),
        "{twice:?}"
    );
    assert_eq!(doc["stats"]["findings_over_cap"], 1500);

    std::fs::write(
        dir.path().join(".leakgate.toml"),
        "[scan]\nmax_findings_per_file = 10\n",
    )
    .unwrap();
    let (code, doc) = scan_json(dir.path(), &["--no-group"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc).len(), 13);
    assert_eq!(doc["stats"]["findings_over_cap"], 2490);
}

/// Where a finding's line and column point, in bytes.
fn offset_of(data: &[u8], f: &Finding) -> usize {
    let mut line_start = 0;
    for _ in 1..f.line {
        line_start += memchr::memchr(b'\n', &data[line_start..]).unwrap() + 1;
    }
    line_start + f.column - 1
}

fn check_findings(data: &[u8], findings: &[Finding]) {
    for f in findings {
        assert!(f.line >= 1 && f.end_line >= f.line && f.column >= 1);
        let at = offset_of(data, f);
        assert!(at <= data.len());
        if f.rule_id == "genesys-basic-credentials" {
            continue; // its secret is decoded from the match
        }
        let mut end = at;
        // The secret's bytes are there: its shown form is `display_path` of them.
        while end <= data.len() && display_path(&data[at..end]).len() < f.secret.len() {
            end += 1;
        }
        assert!(end <= data.len(), "{} runs past the data", f.rule_id);
        assert_eq!(display_path(&data[at..end]), f.secret, "{}", f.rule_id);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random bytes never panic the matcher, and every finding points inside the data at its
    /// secret.
    #[test]
    fn random_bytes_are_scanned_safely(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_findings(&data, &MATCHER.scan("r.txt", &data));
    }

    /// Random text (printable, newlines, invalid bytes) with generated secrets and a Genesys
    /// pair spliced in: no panic, findings point at their secrets, the pair is found whole.
    #[test]
    fn planted_secrets_in_random_bytes_are_found(
        pieces in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64),
                "[ -~\n]{0,64}".prop_map(String::into_bytes),
            ],
            1..12,
        ),
        seed in any::<u64>(),
        at in any::<prop::sample::Index>(),
    ) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (id, secret) = (client_id(seed), genesys_secret(seed));
        let pat = github_pat(&mut rng);
        let pair = format!(
            "\nGENESYS_CLOUD_CLIENT_ID={id}\nGENESYS_CLOUD_CLIENT_SECRET={secret}\ntoken: {pat}\n"
        );
        let i = at.index(pieces.len() + 1);
        let mut data = Vec::new();
        for (j, p) in pieces.iter().enumerate() {
            if j == i {
                data.extend_from_slice(pair.as_bytes());
            }
            data.extend_from_slice(p);
        }
        if i == pieces.len() {
            data.extend_from_slice(pair.as_bytes());
        }
        let found = MATCHER.scan("planted.env", &data);
        check_findings(&data, &found);
        let g = found.iter().find(|f| f.secret == secret);
        prop_assert!(g.is_some(), "planted Genesys secret not found");
        prop_assert_eq!(
            g.unwrap().pair.as_ref().and_then(|p| p.id.clone()),
            Some(id)
        );
        prop_assert!(found.iter().any(|f| f.secret == pat), "planted token not found");
    }
}
