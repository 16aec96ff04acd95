//! Checks that turn a regex match into a secret or throw it away: entropy, placeholders,
//! template expressions, hash contexts.
//!
//! Every check judges the WHOLE value's shape (or the name it is assigned to), never a short
//! substring of it: a random secret holds any short word somewhere (`your`, `Fake`, `1234567`
//! turn up in about 1 of 2,500 random 43-character secrets), so a substring test would drop real
//! secrets at that rate, silently. The unit tests measure each check's drop rate on random values.

use aho_corasick::AhoCorasick;

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
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// True when `secret` falls below a rule's `min` entropy. The bar is lowered for short values
/// to what random strings of that length reach with near certainty (`log2(len) - 1.2`, far below
/// their mean): 16 random characters have only 4 bits at most, so a
/// fixed 3.5 would drop about 1 in 50 of them.
pub fn below_entropy(secret: &[u8], min: f64) -> bool {
    let reachable = (secret.len().max(1) as f64).log2() - 1.2;
    entropy(secret) < min.min(reachable)
}

/// Words that, as whole words of a value, mark it as a stand-in: at least one must be there.
const MARKER_WORDS: &[&str] = &[
    "your",
    "example",
    "placeholder",
    "changeme",
    "dummy",
    "redacted",
    "insert",
    "replace",
    "change",
    "sample",
    "fake",
    "here",
    "todo",
    "fixme",
    "generate",
    "xxx",
];

/// Other words a stand-in value is made of (`YOUR_CLIENT_SECRET_GOES_HERE`).
const FILLER_WORDS: &[&str] = &[
    "my",
    "the",
    "a",
    "an",
    "to",
    "of",
    "for",
    "with",
    "me",
    "goes",
    "put",
    "paste",
    "add",
    "enter",
    "set",
    "new",
    "real",
    "actual",
    "valid",
    "test",
    "live",
    "prod",
    "dev",
    "client",
    "secret",
    "key",
    "api",
    "access",
    "token",
    "password",
    "pass",
    "pwd",
    "value",
    "id",
    "app",
    "auth",
    "oauth",
    "private",
    "public",
    "account",
    "user",
    "name",
    "string",
    "credential",
    "credentials",
    "genesys",
    "cloud",
    "github",
    "aws",
    "openai",
    "stripe",
    "slack",
    "personal",
    "session",
    "bearer",
    "env",
    "variable",
    "config",
    "sk",
    "pk",
    "gh",
    "bot",
    "it",
    "this",
    "is",
    "not",
];

/// The words of a value: runs of letters or digits, split at separators, at camelCase
/// boundaries (`HTTPServer` is `HTTP`, `Server`) and around runs of three or more identical
/// characters (`AKIAXXXXXXXX` is `AKIA`, `XXXXXXXX`). All-uppercase values split only at
/// separators and digits (`CLIENT_SECRET`).
pub fn words(s: &[u8]) -> Vec<&[u8]> {
    let has_lower = s.iter().any(u8::is_ascii_lowercase);
    let mut out = Vec::new();
    let mut start = None;
    let run_len = |i: usize| s[i..].iter().take_while(|&&b| b == s[i]).count();
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if !b.is_ascii_alphanumeric() {
            if let Some(st) = start.take() {
                out.push(&s[st..i]);
            }
            i += 1;
            continue;
        }
        let run = run_len(i);
        if run >= 3 {
            if let Some(st) = start.take() {
                out.push(&s[st..i]);
            }
            out.push(&s[i..i + run]);
            i += run;
            continue;
        }
        if let Some(st) = start {
            let p = s[i - 1];
            let split = p.is_ascii_digit() != b.is_ascii_digit()
                || (has_lower && p.is_ascii_lowercase() && b.is_ascii_uppercase())
                || (has_lower
                    && p.is_ascii_uppercase()
                    && b.is_ascii_uppercase()
                    && s.get(i + 1).is_some_and(u8::is_ascii_lowercase));
            if split {
                out.push(&s[st..i]);
                start = Some(i);
            }
        } else {
            start = Some(i);
        }
        i += 1;
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

/// A run of one character standing for hidden text: `xxxx`, `0000000`, `****`, `....`.
fn is_mask_run(w: &[u8]) -> bool {
    w.len() >= 3
        && w.iter().all(|&b| b == w[0])
        && matches!(
            w[0].to_ascii_lowercase(),
            b'x' | b'0' | b'*' | b'.' | b'#' | b'9'
        )
}

/// A run counting up through digits: `1234567`, `1234567890`.
fn is_sequence(w: &[u8]) -> bool {
    w.len() >= 4
        && w[0].is_ascii_digit()
        && w.windows(2)
            .all(|p| p[1].to_ascii_lowercase() == p[0].to_ascii_lowercase() + 1 || p == b"90")
}

/// True when the whole value is a stand-in: wrapped in `<...>`, or made only of stand-in
/// words, fillers and masks with at least one marker (`your-client-secret`,
/// `YOUR_CLIENT_SECRET_GOES_HERE_XXXXXXXX`, `changeme`, `xxxxxxxx`, `ghp_xxxx...`), or ending in
/// the `EXAMPLE` AWS's documentation keys end with. A random value passes all of these by chance
/// with negligible probability: every character would have to fall inside such words.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.len() >= 2 && secret[0] == b'<' && secret[secret.len() - 1] == b'>' {
        return true;
    }
    if secret.ends_with(b"EXAMPLE") || secret.ends_with(b"EXAMPLEKEY") {
        return true;
    }
    // Mostly masked (`https://hooks.example/T00000000/B00000000/XXXXXXXXXXXX`): long runs of
    // one mask character never occur by chance.
    let alnum = secret.iter().filter(|b| b.is_ascii_alphanumeric()).count();
    let masks: usize = words(secret)
        .iter()
        .filter(|w| w.len() >= 6 && is_mask_run(w))
        .map(|w| w.len())
        .sum();
    if alnum > 0 && masks * 2 >= alnum {
        return true;
    }
    // Masks of punctuation (`****`, `....`) are not words; count them first.
    let masked = secret
        .split(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' '))
        .any(is_mask_run);
    let others_ok = secret.iter().all(|&b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b' ' | b'.' | b'*' | b'#' | b'/')
    });
    if !others_ok {
        return false;
    }
    let mut marker = masked;
    let all = words(secret);
    // A token format's fixed prefix (`ghp_`, `xoxb-`, `AIzaSy`, `GOCSPX-`) may be any word.
    let mut prefix = 0;
    let skip = all
        .iter()
        .take_while(|w| {
            prefix += w.len();
            prefix <= 6
        })
        .count();
    for (i, &w) in all.iter().enumerate() {
        let lower = w.to_ascii_lowercase();
        let is = |list: &[&str]| list.iter().any(|x| x.as_bytes() == lower.as_slice());
        if is(MARKER_WORDS) || is_mask_run(w) || is_sequence(w) || lower == b"changeme" {
            marker = true;
        } else if !is(FILLER_WORDS) && i >= skip {
            return false;
        }
    }
    marker
}

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

    /// True when one of the words occurs in the name part of `lead` (the text before a value):
    /// a hit inside a long token that does not read like words is part of an earlier VALUE on
    /// the line (a secret before this one in a bundle), not of a name, and does not count.
    pub fn found_in_name(&self, lead: &[u8]) -> bool {
        let Some(ac) = &self.0 else { return false };
        // A token ends at what ends a value: space, quotes, punctuation between values.
        let token =
            |b: &u8| b.is_ascii_graphic() && !b"\"'`,;:=()[]{}<>&?".contains(b) || *b >= 0x80;
        ac.find_overlapping_iter(lead).any(|m| {
            let lo = lead[..m.start()]
                .iter()
                .rposition(|b| !token(b))
                .map_or(0, |i| i + 1);
            let hi = lead[m.start()..]
                .iter()
                .position(|b| !token(b))
                .map_or(lead.len(), |i| m.start() + i);
            let run = &lead[lo..hi];
            let at = m.start() - lo;
            let starts_word = !lead[m.start()].is_ascii_alphanumeric()
                || words(run)
                    .iter()
                    .any(|w| w.as_ptr() as usize - run.as_ptr() as usize == at);
            run.len() < 16 || (wordy(run, 0, 25) && starts_word)
        })
    }
}

/// True when the value is a placeholder, a template expression, an environment lookup or a
/// variable reference rather than a literal secret. Judged on the whole value: see
/// [`is_placeholder`].
pub fn is_not_literal(secret: &[u8]) -> bool {
    if is_placeholder(secret) {
        return true;
    }
    // Template expressions and references: ${X}, {{ x }}, $(cmd), %X%, #{x}, $X, @X@
    let s = secret;
    let env_name = |inner: &[u8]| {
        !inner.is_empty()
            && inner
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
    };
    let wrapped =
        |c: u8| s.len() > 2 && s[0] == c && s[s.len() - 1] == c && env_name(&s[1..s.len() - 1]);
    if s.starts_with(b"${")
        || s.starts_with(b"{{")
        || s.starts_with(b"$(")
        || s.starts_with(b"#{")
        || s.starts_with(b"%(")
        || wrapped(b'%')
        || wrapped(b'@')
        || (s.len() > 1 && s[0] == b'$' && (s[1].is_ascii_alphabetic() || s[1] == b'_'))
    {
        return true;
    }
    let lower = secret[..secret.len().min(16)].to_ascii_lowercase();
    for prefix in [
        &b"var."[..],
        b"local.",
        b"process.env",
        b"import.meta.env",
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

/// True when the value reads like words (an identifier such as
/// `PureCloudPlatformClientV2ApiClientInstances`) rather than random characters: nearly all of
/// it is in words of three or more letters that hold a vowel, with few digits, and a vowel share
/// like text. Random characters break into many short words, so they almost never pass (the
/// unit tests measure it).
pub fn looks_like_words(secret: &[u8]) -> bool {
    // Below 20 letters a value is too short to tell words from chance (a random 16-character
    // value passes the checks below about once in a thousand): it is kept. Text has a vowel
    // share near 38%, random base64 19%; constants such as `CLIENT_HANDSHAKE_TRAFFIC_SECRET`
    // (32%) are words too: 30% is asked, and the word checks below do the separating.
    wordy(secret, 20, 30) || names_itself(secret)
}

/// Words that name a secret. A value made of words that holds one is the name of a secret
/// (`AUTH_AZURE_AD_CLIENT_SECRET`, `foobar-refresh-token`, `resolveCredentials`), not one.
const SECRET_NAMES: [&[u8]; 9] = [
    b"token",
    b"secret",
    b"password",
    b"passwd",
    b"credential",
    b"auth",
    b"key",
    b"apikey",
    b"pwd",
];

/// The pieces of an identifier: split at `_`, `-` and `.`, and before each uppercase letter
/// that follows a lowercase one (`resolveCredentials` -> `resolve`, `Credentials`).
fn segments(v: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..=v.len() {
        let sep = i < v.len() && matches!(v[i], b'_' | b'-' | b'.');
        let hump =
            i > 0 && i < v.len() && v[i].is_ascii_uppercase() && v[i - 1].is_ascii_lowercase();
        if i == v.len() || sep || hump {
            if start < i {
                out.push(&v[start..i]);
            }
            start = if sep { i + 1 } else { i };
        }
    }
    out
}

/// True for a letter run that reads like a word: a vowel in every five letters and no run of
/// more than four consonants (`COGNITO`, `previous`; not `xQzkt`).
fn pronounceable(w: &[u8]) -> bool {
    let vowel = |b: &u8| b"aeiouyAEIOUY".contains(b);
    w.iter().all(u8::is_ascii_alphabetic)
        && w.iter().filter(|b| vowel(b)).count() * 5 >= w.len()
        && w.split(vowel).all(|c| c.len() <= 4)
}

/// True when the value is an identifier made of words rather than random characters:
/// - `snake_case` or `SCREAMING_CASE` (one case, `_` between pieces) whose every piece is a
///   pronounceable word or a number of at most two digits: `previous_context`,
///   `COGNITO_USER_POOLS`, `CLIENT_TRAFFIC_SECRET_0`;
/// - or pieces in one case of which one names a secret (`foobar-refresh-token`,
///   `access_token_kwargs`), or camelCase words without digits of which one names a secret
///   (`RefreshTokenError`, `resolveCredentials`).
///
/// Random values almost never qualify: a base64 character is a lowercase letter or `_` with
/// odds 27/64, so 16 of them are one case with `_` about once in 800,000, and must then also
/// split into words; a camelCase piece spelling `Token` or `Secret` at a hump is rarer still.
/// The unit tests measure the drop rate on random values.
fn names_itself(v: &[u8]) -> bool {
    let letters = v.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let digits = v.iter().filter(|b| b.is_ascii_digit()).count();
    if letters < 8
        || digits > 2
        || !v
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(b))
    {
        return false;
    }
    let one_case = !v.iter().any(u8::is_ascii_lowercase) || !v.iter().any(u8::is_ascii_uppercase);
    let pieces = segments(v);
    if pieces.len() < 2 {
        return false;
    }
    let small_number = |p: &[u8]| p.len() <= 2 && p.iter().all(u8::is_ascii_digit);
    let wordlike = |p: &[u8]| pronounceable(p) || small_number(p);
    if one_case && v.contains(&b'_') && pieces.iter().all(|p| wordlike(p)) {
        return true;
    }
    if !one_case && digits > 0 {
        return false;
    }
    let names_secret = |p: &[u8]| {
        let lower = p.to_ascii_lowercase();
        SECRET_NAMES.iter().any(|n| {
            // `Credentials`, `authorizer`; a camel piece must spell one of four letters or
            // more (three letters occur by chance).
            lower == *n || (n.len() >= 4 && lower.starts_with(n))
        }) && (one_case || p.len() >= 4)
    };
    // A one-case value with separators that spells a secret's name is a name, whatever its
    // other pieces (`access_token_kwargs`, `AUTH_AZURE_AD_B2C_CLIENT_SECRET`); in camelCase the
    // other pieces must be words too.
    pieces.iter().any(|p| names_secret(p)) && (one_case || pieces.iter().all(|p| wordlike(p)))
}

/// The shape test of [`looks_like_words`] for values of at least `min_letters` letters, of
/// which at least `vowel_pct` percent are vowels.
fn wordy(secret: &[u8], min_letters: usize, vowel_pct: usize) -> bool {
    let digits = secret.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = secret.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let vowels = secret.iter().filter(|b| b"aeiouAEIOU".contains(b)).count();
    if letters < min_letters.max(1) || digits > 4 || vowels * 100 < letters * vowel_pct {
        return false;
    }
    // SNAKE_CASE constants have separators; random uppercase (base32) has none.
    let separators = secret
        .iter()
        .filter(|b| matches!(b, b'_' | b'-' | b'.'))
        .count();
    if !secret.iter().any(u8::is_ascii_lowercase) && separators * 12 < secret.len() {
        return false;
    }
    let ws = words(secret);
    if ws.iter().filter(|w| w[0].is_ascii_digit()).count() > 2 {
        return false;
    }
    let alpha = || ws.iter().filter(|w| w[0].is_ascii_alphabetic());
    // Random text breaks into many one- and two-letter pieces (`Vp`, `O`, `x`).
    if alpha().filter(|w| w.len() <= 2).count() > (letters / 16).max(1) {
        return false;
    }
    let vowel = |b: &u8| b"aeiouyAEIOUY".contains(b);
    let mixed_case = secret.iter().any(u8::is_ascii_lowercase);
    // In a camelCase value, an uppercase run is an acronym, not a word (random text has many).
    let pronounceable = |w: &&&[u8]| {
        w.len() >= 3
            && !(mixed_case && w.iter().all(u8::is_ascii_uppercase))
            && w.iter().filter(|b| vowel(b)).count() * 5 >= w.len()
            && w.split(vowel).all(|consonants| consonants.len() <= 4)
    };
    let in_words: usize = alpha().filter(pronounceable).map(|w| w.len()).sum();
    // Short values must be words all but throughout: chance fills 85% of 24 random letters
    // with word-like pieces about once in 100,000 tries.
    // (Names before a value, `vowel_pct` 25, keep the looser bar: `aws_access_key_id`.)
    let share = if letters < 32 && vowel_pct > 25 {
        19
    } else {
        17
    };
    in_words * 20 >= letters * share
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
        assert!(is_not_literal(b"import.meta.env.AUTH_HASURA_SECRET"));
        assert!(is_not_literal(b"<your-client-secret>"));
        assert!(is_not_literal(b"YOUR_CLIENT_SECRET"));
        assert!(is_not_literal(b"$CLIENT_SECRET"));
        assert!(is_not_literal(b"%APPDATA%"));
        assert!(!is_not_literal(
            b"q8Xz-3vLp_Rt7Wm2Kc9Nf4Hs6Jd1Gb5Ya0Te8Uo3Ii"
        ));
    }

    #[test]
    fn placeholders_by_whole_shape() {
        for p in [
            &b"your-client-secret"[..],
            b"<YOUR_SECRET>",
            b"xxxxxxxxxxxxxxxxxxxx",
            b"changeme",
            b"change_me",
            b"YOUR_CLIENT_SECRET_GOES_HERE_XXXXXXXXXXXXXXX",
            b"your-openai-api-key",
            b"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            b"AKIAXXXXXXXXXXXXXXXX",
            b"AKIAIOSFODNN7EXAMPLE",
            b"sk_test_1234567890",
            b"********************",
            b"my-fake-token",
        ] {
            assert!(is_placeholder(p), "{}", String::from_utf8_lossy(p));
        }
        // Random values with a placeholder word inside; the secret-shaped ones are joined from
        // parts, so none sits whole in the source.
        for s in [
            &b"q8Xz3vLpRt7Wm2yourAb3Kc9Nf4Hs6Jd1Gb5Ya0Te8"[..],
            &[&b"Fake9sKq2LmZp0Wx7RtYu"[..], b"3VbNc4Hd6Jf1Gs5Ak8Eo2I"].concat()[..],
            &[&b"gh"[..], b"p_sampleQ8xZ3vLpRt7Wm2Kc9Nf4Hs6Jd1Gb5Y"].concat()[..],
            b"AKIA1234567QXZTBWMRY",
        ] {
            assert!(!is_placeholder(s), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn words_split_like_identifiers() {
        let w = |s: &[u8]| -> Vec<String> {
            words(s)
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect()
        };
        assert_eq!(w(b"HTTPServerV2"), ["HTTP", "Server", "V", "2"]);
        assert_eq!(w(b"CLIENT_SECRET"), ["CLIENT", "SECRET"]);
        assert_eq!(w(b"AKIAXXXXXXXX"), ["AKIA", "XXXXXXXX"]);
    }

    #[test]
    fn words_versus_random() {
        for w in [
            &b"PureCloudPlatformClientV2ApiClientInstances"[..],
            b"get_genesys_cloud_oauth_client_credentials",
            b"CloudflareApiTokenForTheProductionDnsZon",
            b"X-Authorization-Token-Header",
            b"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            b"SERVER_HANDSHAKE_TRAFFIC_SECRET",
        ] {
            assert!(looks_like_words(w), "{}", String::from_utf8_lossy(w));
        }
        assert!(!looks_like_words(
            b"q8Xz-3vLp_Rt7Wm2Kc9Nf4Hs6Jd1Gb5Ya0Te8Uo3Ii"
        ));
    }

    #[test]
    fn not_after_ignores_words_inside_an_earlier_value() {
        let set = WordSet::new(&["kid", "hash"]);
        assert!(set.found_in_name(b"\"kid\": \""));
        assert!(set.found_in_name(b"password_hash = \""));
        assert!(!set.found_in_name(b"q8Xz3vLpRt7Wm2KidAb3Kc9Nf4Hs6Jd1Gb5Ya0Te8,"));
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

    /// Each value check's drop rate on random values of the random-shaped rules' alphabets and
    /// lengths (Genesys 43 base64url, GitHub 36 base62 after `ghp_`, AWS 40 base64 and 16
    /// base32 after `AKIA`, generic 16 of its class): none may drop one in this many.
    #[test]
    fn identifiers_made_of_words_are_not_secrets() {
        for v in [
            "previous_context",
            "normalized_package",
            "COGNITO_USER_POOLS",
            "GATEWAY_IAM_ROLE",
            "CLIENT_TRAFFIC_SECRET_0",
            "AUTH_AZURE_AD_B2C_CLIENT_SECRET",
            "DATABASE_AUTH_TOKEN",
            "username_password",
            "foobar-refresh-token",
            "x-eventbridge-key",
            "access_token_kwargs",
            "stripe-api-dev-key",
            "RefreshTokenError",
            "resolveCredentials",
            "authorizerResource",
        ] {
            assert!(looks_like_words(v.as_bytes()), "{v}");
        }
        // Random pieces, digits in camelCase, a passphrase without a secret's name: kept.
        for v in [
            "xq_zvbnt_kprw_mmxl",
            "resolveCredentials7",
            "TokenQx7vLp9Zr2Wd",
            "another-audience",
            "Kp4_vN9s_Qw2_zT7",
            "tyrgmeSecretwqpzx",
        ] {
            assert!(!looks_like_words(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn random_values_pass_every_value_check() {
        // More samples for a measurement: LEAKGATE_DROP_SAMPLES=10000000.
        let n: usize = std::env::var("LEAKGATE_DROP_SAMPLES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50_000);
        let b64url = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        // (prefix, alphabet, length, min_entropy, random: whether the words check applies)
        type Shape<'a> = (&'a [u8], &'a [u8], usize, Option<f64>, bool);
        let shapes: [Shape; 6] = [
            (b"", b64url, 43, Some(3.8), true),
            (b"ghp_", &b64url[..62], 36, None, false),
            (
                b"",
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                40,
                Some(4.0),
                false,
            ),
            (
                b"AKIA",
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                16,
                None,
                false,
            ),
            (
                b"",
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/=~!@^*-",
                16,
                Some(3.5),
                true,
            ),
            (
                b"",
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/=~!@^*-",
                24,
                Some(3.5),
                true,
            ),
        ];
        let mut rng = fastrand::Rng::with_seed(8);
        let names = WordSet::new(&["kid", "hash", "salt", "iv=", "etag", "nonce"]);
        for (prefix, alphabet, len, min, random) in shapes {
            let mut dropped = [0usize; 5];
            let mut prev = Vec::new();
            for _ in 0..n {
                let mut s = prefix.to_vec();
                s.extend((0..len).map(|_| alphabet[rng.usize(..alphabet.len())]));
                dropped[0] += usize::from(is_not_literal(&s));
                dropped[1] += usize::from(random && looks_like_words(&s));
                dropped[2] += usize::from(low_variety(&s, 6));
                dropped[3] += usize::from(min.is_some_and(|m| below_entropy(&s, m)));
                // The name check sees what precedes a value: here the previous one, as in a
                // bundle of values separated by `,`.
                // (The matcher also never reads a name back past the end of an earlier match,
                // which protects short values further.)
                let lead = [&prev[..], b","].concat();
                if !alphabet.contains(&b'=') {
                    dropped[4] +=
                        usize::from(names.found_in_name(&lead[lead.len().saturating_sub(48)..]));
                }
                prev = s;
            }
            assert_eq!(
                dropped,
                [0; 5],
                "{} x {len}: [literal, words, variety, entropy, not_after] of {n}",
                String::from_utf8_lossy(prefix)
            );
        }
    }
}
