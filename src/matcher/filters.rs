//! Checks that turn a regex match into a secret or throw it away: entropy, placeholders,
//! template expressions, hash contexts.

use aho_corasick::AhoCorasick;
use std::sync::LazyLock;

/// Shannon entropy of `s` in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Words that mark a value as a stand-in rather than a secret.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "placeholder",
    "your",
    "xxxx",
    "changeme",
    "change_me",
    "dummy",
    "redacted",
    "insert",
    "replace",
    "sample",
    "fake",
    "<",
    ">",
    "****",
    "....",
    "0000000",
    "1234567",
];

/// Bytes of a line looked at before a value for the name it is assigned to.
const LEAD: usize = 48;

/// The text just before `pos` on its line, at most [`LEAD`] bytes: where a value's name is.
/// Looks back no further than that, so a match deep in a one-line bundle costs the same.
pub fn lead(data: &[u8], pos: usize) -> &[u8] {
    let floor = pos.saturating_sub(LEAD);
    let start = memchr::memrchr(b'\n', &data[floor..pos]).map_or(floor, |i| floor + i + 1);
    &data[start..pos]
}

/// A set of words found ASCII case-insensitively, compiled once.
pub struct WordSet(Option<AhoCorasick>);

impl WordSet {
    /// Compile `words`; an empty list matches nothing.
    pub fn new<S: AsRef<[u8]>>(words: &[S]) -> Self {
        WordSet(if words.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(words)
                .ok()
        })
    }

    /// True when one of the words occurs in `hay`.
    pub fn found_in(&self, hay: &[u8]) -> bool {
        self.0.as_ref().is_some_and(|ac| ac.is_match(hay))
    }
}

static PLACEHOLDERS: LazyLock<WordSet> = LazyLock::new(|| WordSet::new(PLACEHOLDER_WORDS));

/// True when the value is a placeholder, a template expression, an environment lookup or a
/// variable reference rather than a literal secret.
pub fn is_not_literal(secret: &[u8]) -> bool {
    if PLACEHOLDERS.found_in(secret) {
        return true;
    }
    // Template expressions and references: ${X}, {{ x }}, $(cmd), %X%, #{x}, $X, @x@
    let s = secret;
    if s.starts_with(b"${")
        || s.starts_with(b"{{")
        || s.starts_with(b"$(")
        || s.starts_with(b"#{")
        || s.starts_with(b"%(")
        || (s.len() > 2 && s[0] == b'%' && s[s.len() - 1] == b'%')
        || (s.len() > 2 && s[0] == b'@' && s[s.len() - 1] == b'@')
        || (s.len() > 1 && s[0] == b'$' && (s[1].is_ascii_alphabetic() || s[1] == b'_'))
    {
        return true;
    }
    let lower = secret[..secret.len().min(16)].to_ascii_lowercase();
    for prefix in [
        &b"var."[..],
        b"local.",
        b"process.env",
        b"os.environ",
        b"os.getenv",
        b"env.",
        b"secrets.",
        b"env(",
        b"getenv(",
    ] {
        if lower.starts_with(prefix) {
            return true;
        }
    }
    false
}

/// True when fewer than `min` distinct bytes make up the value (`aaaa...`, `abababab...`).
pub fn low_variety(secret: &[u8], min: usize) -> bool {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in secret {
        if !seen[b as usize] {
            seen[b as usize] = true;
            n += 1;
            if n >= min {
                return false;
            }
        }
    }
    true
}

/// True when the text just before the match marks it as a digest: `sha256-`, `sha384-`,
/// `sha512-` (subresource integrity, lockfile `integrity`).
pub fn follows_hash_marker(before: &[u8]) -> bool {
    let tail = &before[before.len().saturating_sub(8)..];
    let lower = tail.to_ascii_lowercase();
    [
        &b"sha1-"[..],
        b"sha256-",
        b"sha384-",
        b"sha512-",
        b"sha256:",
        b"sha512:",
    ]
    .iter()
    .any(|m| lower.ends_with(m))
}

/// True when the value reads like words (an identifier) rather than random characters: at most
/// one digit and a vowel share among letters like English text. Random base64 has about 19%.
pub fn looks_like_words(secret: &[u8]) -> bool {
    let digits = secret.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = secret.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let vowels = secret.iter().filter(|b| b"aeiouAEIOU".contains(b)).count();
    digits <= 1 && letters > 0 && vowels * 10 > letters * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn literals_and_references() {
        assert!(is_not_literal(b"${GENESYS_CLOUD_CLIENT_SECRET}"));
        assert!(is_not_literal(b"{{ secrets.GC_SECRET }}"));
        assert!(is_not_literal(b"var.client_secret"));
        assert!(is_not_literal(b"<your-client-secret>"));
        assert!(is_not_literal(b"YOUR_CLIENT_SECRET"));
        assert!(is_not_literal(b"$CLIENT_SECRET"));
        assert!(!is_not_literal(
            b"q8Xz-3vLp_Rt7Wm2Kc9Nf4Hs6Jd1Gb5Ya0Te8Uo3Ii"
        ));
    }

    #[test]
    fn words_versus_random() {
        assert!(looks_like_words(
            b"PureCloudPlatformClientV2ApiClientInstances"
        ));
        assert!(looks_like_words(
            b"get_genesys_cloud_oauth_client_credentials"
        ));
        assert!(!looks_like_words(
            b"q8Xz-3vLp_Rt7Wm2Kc9Nf4Hs6Jd1Gb5Ya0Te8Uo3Ii"
        ));
    }

    #[test]
    fn lead_stops_at_the_line_and_the_cap() {
        let data = b"first line\nclient_secret = X";
        assert_eq!(lead(data, data.len() - 1), b"client_secret = ");
        let long = [b'a'; 100];
        assert_eq!(lead(&long, 100).len(), 48);
        assert_eq!(lead(b"x", 0), b"");
    }

    #[test]
    fn hash_markers() {
        assert!(follows_hash_marker(b"\"integrity\": \"sha512-"));
        assert!(!follows_hash_marker(b"secret = \""));
    }
}
