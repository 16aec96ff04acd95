//! Structure checks a rule asks for with `check = "..."`, run on the `secret` group after the
//! regex matched: a checksum or an encoding the provider documents, which a look-alike fails.
//!
//! A failed check drops the match only where the format is established beyond doubt (every
//! genuine token passes); where it is documented less exactly, a failure lowers the finding to
//! low confidence instead, so a real token is never lost to a misread specification.

use crate::rules::Check;
use base64::Engine;

/// What a check makes of one match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The secret has the structure, or the check does not apply to its shape.
    Keep,
    /// Reported at low confidence: the check failed where its specification is less certain.
    Lower,
    /// Not a secret of this kind.
    Drop,
}

/// Run `check` on `secret`, judging expiry against `now` (seconds since the Unix epoch).
pub(super) fn run(check: Check, secret: &[u8], now: u64) -> Outcome {
    let ok = match check {
        // A body of another length (GitHub reserved up to 255 characters) has no documented
        // checksum: kept as found.
        Check::GithubCrc32 | Check::NpmCrc32 if secret.len() != 40 => return Outcome::Keep,
        Check::GithubCrc32 | Check::NpmCrc32 => base62_crc32_valid(&secret[4..]),
        Check::PypiMacaroon => pypi_macaroon(secret),
        Check::Jwt => jwt_live(secret, now),
    };
    match (ok, check) {
        (true, _) => Outcome::Keep,
        // npm documents "CRC32 in our Base62 implementation" without naming the alphabet; the
        // GitHub scheme it follows is assumed, so a failure only lowers confidence.
        (false, Check::NpmCrc32) => Outcome::Lower,
        (false, _) => Outcome::Drop,
    }
}

/// The current time for [`run`], in seconds since the Unix epoch.
pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// True when the check holds for `secret` (the rule lint demands it of every example).
pub fn passes(check: Check, secret: &[u8]) -> bool {
    run(check, secret, now()) == Outcome::Keep
}

/// GMP-order base62 digits, as GitHub and npm encode the checksum.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `body` is 30 random characters then 6 base62 digits (most significant first, left-padded
/// with `0`) of the CRC-32 (IEEE) of those 30 characters; the prefix is not hashed.
/// (github.blog, "Behind GitHub's new authentication token formats", 2021.)
fn base62_crc32_valid(body: &[u8]) -> bool {
    let Some((random, sum)) = body.split_at_checked(body.len().wrapping_sub(6)) else {
        return false;
    };
    let mut value: u64 = 0;
    for &c in sum {
        let Some(d) = BASE62.iter().position(|&b| b == c) else {
            return false;
        };
        value = value * 62 + d as u64;
    }
    value == u64::from(crc32(random))
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it).
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    !data.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// Decode unpadded (or padded) base64url.
fn base64url(text: &[u8]) -> Option<Vec<u8>> {
    let text = text
        .strip_suffix(b"==")
        .or(text.strip_suffix(b"="))
        .unwrap_or(text);
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

/// A PyPI API token: `pypi-` then a base64url macaroon in the v2 binary format (libmacaroons):
/// version 2; a location of `pypi.org` or `test.pypi.org`; an identifier; caveats, each a
/// packet list ending in EOS; EOS; a 32-byte signature; nothing after.
fn pypi_macaroon(secret: &[u8]) -> bool {
    let Some(raw) = secret.strip_prefix(b"pypi-").and_then(base64url) else {
        return false;
    };
    let mut r = Packets { data: &raw, at: 1 };
    if raw.first() != Some(&2) {
        return false;
    }
    const EOS: u64 = 0;
    const LOCATION: u64 = 1;
    const IDENTIFIER: u64 = 2;
    const VID: u64 = 4;
    const SIGNATURE: u64 = 6;
    let Some((LOCATION, location)) = r.field() else {
        return false;
    };
    if location != b"pypi.org" && location != b"test.pypi.org" {
        return false;
    }
    if !matches!(r.field(), Some((IDENTIFIER, id)) if !id.is_empty()) || r.tag() != Some(EOS) {
        return false;
    }
    // Caveats until the EOS that ends the list.
    loop {
        match r.tag() {
            Some(EOS) => break,
            Some(tag) => {
                // One caveat: [location] identifier [vid] EOS.
                let mut tag = tag;
                if tag == LOCATION {
                    if r.value().is_none() {
                        return false;
                    }
                    let Some(t) = r.tag() else { return false };
                    tag = t;
                }
                if tag != IDENTIFIER || r.value().is_none() {
                    return false;
                }
                match r.tag() {
                    Some(VID) if r.value().is_some() && r.tag() == Some(EOS) => {}
                    Some(EOS) => {}
                    _ => return false,
                }
            }
            None => return false,
        }
    }
    matches!(r.field(), Some((SIGNATURE, sig)) if sig.len() == 32) && r.at == raw.len()
}

/// A reader of macaroon v2 packets: a varint tag, then a varint length and that many bytes.
struct Packets<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Packets<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.data.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn tag(&mut self) -> Option<u64> {
        self.varint()
    }

    fn value(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        let v = self.data.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(v)
    }

    fn field(&mut self) -> Option<(u64, &'a [u8])> {
        let tag = self.tag()?;
        Some((tag, self.value()?))
    }
}

/// The longest JWT examined, in bytes: a real one is a few kilobytes.
const MAX_JWT_BYTES: usize = 64 * 1024;

/// A signed JWT that still grants access: three base64url parts; a header that is a JSON
/// object whose `alg` is a string other than `none`; a payload that is a JSON object with no
/// `exp`, or an `exp` after `now`; a signature of at least 32 bytes (HS256, the shortest).
fn jwt_live(secret: &[u8], now: u64) -> bool {
    if secret.len() > MAX_JWT_BYTES {
        return false;
    }
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let object = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        match serde_json::from_slice(&base64url(part)?).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let Some(header) = object(header) else {
        return false;
    };
    let signed = header
        .get("alg")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|alg| !alg.eq_ignore_ascii_case("none"));
    let Some(claims) = object(payload) else {
        return false;
    };
    let live = match claims.get("exp") {
        Some(exp) => exp.as_f64().is_none_or(|exp| exp > now as f64),
        None => true,
    };
    signed && live && base64url(signature).is_some_and(|s| s.len() >= 32)
}

#[cfg(test)]
mod tests {
    //! The checks against an independent CRC-32 (`crc32fast`) and structures built here, then
    //! through the built-in rules: a valid token is found, one changed character is not.
    use super::*;
    use crate::{rules, Config, Matcher};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    fn random(rng: &mut fastrand::Rng, n: usize) -> String {
        (0..n)
            .map(|_| ALNUM[rng.usize(..ALNUM.len())] as char)
            .collect()
    }

    /// Base62 of `n` in GMP order, left-padded to 6 digits: written apart from the checker.
    fn base62_6(mut n: u32) -> String {
        let digits: Vec<char> = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            .chars()
            .collect();
        let mut out = vec!['0'; 6];
        for slot in out.iter_mut().rev() {
            *slot = digits[(n % 62) as usize];
            n /= 62;
        }
        out.into_iter().collect()
    }

    /// A token of `prefix` with 30 random characters and their checksum.
    fn checksummed(prefix: &str, rng: &mut fastrand::Rng) -> String {
        let body = random(rng, 30);
        format!(
            "{prefix}{body}{}",
            base62_6(crc32fast::hash(body.as_bytes()))
        )
    }

    /// The token with one character of its random part or checksum changed.
    fn altered(token: &str, rng: &mut fastrand::Rng) -> String {
        let mut b = token.as_bytes().to_vec();
        let i = rng.usize(4..b.len());
        let old = b[i];
        while b[i] == old {
            b[i] = ALNUM[rng.usize(..ALNUM.len())];
        }
        String::from_utf8(b).unwrap()
    }

    fn builtin() -> Matcher {
        Matcher::new(rules::builtin(), &Config::default()).unwrap()
    }

    /// The findings of specific rules: a generic rule may still report a value assigned to a
    /// secret-like name, whatever its shape.
    fn found(m: &Matcher, text: &str) -> Vec<(String, crate::finding::Confidence)> {
        let generic: Vec<&str> = m
            .rules()
            .filter(|r| r.generic)
            .map(|r| r.id.as_str())
            .collect();
        m.scan("src/app.env", text.as_bytes())
            .into_iter()
            .filter(|f| !generic.contains(&f.rule_id.as_str()))
            .map(|f| (f.rule_id.to_string(), f.confidence))
            .collect()
    }

    #[test]
    fn crc32_is_ieee() {
        let mut rng = fastrand::Rng::with_seed(7);
        for n in [0, 1, 30, 1000] {
            let data: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
            assert_eq!(crc32(&data), crc32fast::hash(&data));
        }
    }

    #[test]
    fn github_tokens_with_a_valid_checksum_are_found_and_altered_ones_are_not() {
        use crate::finding::Confidence::High;
        let m = builtin();
        let mut rng = fastrand::Rng::with_seed(11);
        for (prefix, rule) in [
            ("ghp_", "github-pat-classic"),
            ("gho_", "github-oauth-token"),
            ("ghu_", "github-app-user-token"),
            ("ghs_", "github-app-installation-token"),
            ("ghr_", "github-refresh-token"),
        ] {
            for _ in 0..50 {
                let token = checksummed(prefix, &mut rng);
                assert_eq!(
                    found(&m, &format!("TOKEN={token}\n")),
                    vec![(rule.to_string(), High)]
                );
                let bad = altered(&token, &mut rng);
                assert!(found(&m, &format!("TOKEN={bad}\n")).is_empty(), "{rule}");
            }
        }
    }

    #[test]
    fn a_github_token_of_another_length_has_no_checksum_to_fail() {
        let m = builtin();
        let mut rng = fastrand::Rng::with_seed(12);
        let long = format!("ghs_{}", random(&mut rng, 80));
        assert_eq!(found(&m, &format!("T={long}\n")).len(), 1);
    }

    #[test]
    fn npm_tokens_with_a_valid_checksum_are_found_and_altered_ones_lowered() {
        use crate::finding::Confidence::{High, Low};
        let m = builtin();
        let mut rng = fastrand::Rng::with_seed(13);
        for _ in 0..50 {
            let token = checksummed("npm_", &mut rng);
            let rule = "npm-access-token".to_string();
            assert_eq!(
                found(&m, &format!("NPM_TOKEN={token}\n")),
                vec![(rule.clone(), High)]
            );
            let bad = altered(&token, &mut rng);
            assert_eq!(found(&m, &format!("NPM_TOKEN={bad}\n")), vec![(rule, Low)]);
        }
    }

    /// A macaroon in the v2 binary format, built here from its packets.
    fn macaroon(location: &str, caveats: &[&[u8]], signature: &[u8]) -> Vec<u8> {
        fn packet(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
            out.push(tag);
            let mut n = value.len();
            while n >= 0x80 {
                out.push((n as u8 & 0x7F) | 0x80);
                n >>= 7;
            }
            out.push(n as u8);
            out.extend_from_slice(value);
        }
        let mut out = vec![2];
        packet(&mut out, 1, location.as_bytes());
        packet(&mut out, 2, b"\x08\x01\x12\x20user-id-of-sixteen-bytes");
        out.push(0);
        for c in caveats {
            packet(&mut out, 2, c);
            out.push(0);
        }
        out.push(0);
        packet(&mut out, 6, signature);
        out
    }

    #[test]
    fn pypi_tokens_must_be_whole_macaroons() {
        let m = builtin();
        let mut rng = fastrand::Rng::with_seed(17);
        let sig: Vec<u8> = (0..32).map(|_| rng.u8(..)).collect();
        let long_caveat = format!(
            r#"{{"version": 1, "permissions": {{"projects": ["{}"]}}}}"#,
            random(&mut rng, 200)
        );
        for location in ["pypi.org", "test.pypi.org"] {
            for caveats in [vec![], vec![long_caveat.as_bytes()]] {
                let raw = macaroon(location, &caveats, &sig);
                let token = format!("pypi-{}", B64.encode(&raw));
                assert_eq!(found(&m, &format!("TWINE_PASSWORD={token}\n")).len(), 1);
                // Cut short (a truncated paste), or with a short signature: no macaroon.
                let cut = format!("pypi-{}", B64.encode(&raw[..raw.len() - 3]));
                assert!(found(&m, &format!("TWINE_PASSWORD={cut}\n")).is_empty());
                let short = macaroon(location, &caveats, &sig[..16]);
                let short = format!("pypi-{}", B64.encode(&short));
                assert!(found(&m, &format!("TWINE_PASSWORD={short}\n")).is_empty());
            }
        }
        // The right prefix, then random text: no macaroon.
        let fake = format!("pypi-AgEIcHlwaS5vcmc{}", random(&mut rng, 120));
        assert!(!pypi_macaroon(fake.as_bytes()));
    }

    fn jwt(header: &str, claims: &str, sig_bytes: usize, rng: &mut fastrand::Rng) -> String {
        let sig: Vec<u8> = (0..sig_bytes).map(|_| rng.u8(..)).collect();
        format!(
            "{}.{}.{}",
            B64.encode(header),
            B64.encode(claims),
            B64.encode(sig)
        )
    }

    #[test]
    fn jwts_are_reported_when_signed_and_unexpired() {
        let m = builtin();
        let mut rng = fastrand::Rng::with_seed(19);
        let now = now();
        let hs = r#"{"alg":"HS256","typ":"JWT"}"#;
        let rs = r#"{"alg":"RS256","kid":"k1"}"#;
        let future = format!(r#"{{"sub":"svc-7","exp":{}}}"#, now + 86_400 * 365);
        let past = format!(r#"{{"sub":"svc-7","exp":{}}}"#, now - 86_400);
        let no_exp = r#"{"sub":"svc-7","role":"service"}"#;
        let reported = |t: &str| !found(&m, &format!("AUTH={t}\n")).is_empty();
        assert!(reported(&jwt(hs, &future, 32, &mut rng)));
        assert!(reported(&jwt(rs, no_exp, 256, &mut rng)));
        // Expired, unsigned, or with a signature too short for any algorithm: not reported.
        assert!(!reported(&jwt(hs, &past, 32, &mut rng)));
        assert!(!reported(&jwt(r#"{"alg":"none"}"#, no_exp, 32, &mut rng)));
        assert!(!reported(&jwt(hs, no_exp, 8, &mut rng)));
        // Base64 of something that is not a JSON object.
        assert!(!reported(&jwt(r#"{"alg":"HS256""#, no_exp, 32, &mut rng)));
        let t = jwt(hs, no_exp, 32, &mut rng);
        assert!(jwt_live(t.as_bytes(), now));
        assert!(!jwt_live(format!("{t}.x").as_bytes(), now));
    }

    #[test]
    fn the_checked_rule_files_pass_the_builtin_lint() {
        let ours = ["github", "npm", "pypi", "jwt"];
        let rules: Vec<_> = rules::builtin()
            .into_iter()
            .filter(|r| r.provider.as_deref().is_some_and(|p| ours.contains(&p)))
            .collect();
        assert!(rules.iter().filter(|r| r.check.is_some()).count() >= 8);
        let errors: Vec<String> = rules::lint_builtin(&rules)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }

    #[test]
    fn the_lint_demands_that_examples_pass_a_lowering_check() {
        let mut rng = fastrand::Rng::with_seed(23);
        let good = checksummed("npm_", &mut rng);
        let bad = altered(&good, &mut rng);
        let text = format!(
            r#"
[[rules]]
id = "npm-like"
name = "npm-like"
severity = "high"
keywords = ["npm_"]
regex = '(?P<secret>npm_[A-Za-z0-9]{{36}})'
check = "npm-crc32"
examples = ["{good}", "{bad}"]
negative_examples = ["npm_short"]
"#
        );
        let parsed = rules::parse("inline", &text).unwrap();
        let errors: Vec<String> = rules::lint(&parsed)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            vec!["npm-like: example 2 fails its check".to_string()]
        );
    }
}
