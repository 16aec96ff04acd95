//! Genesys pairing: the client id assigned near a secret, the region its context names, and
//! the `client_id:client_secret` pair inside a Basic credential.

use super::facts::{is_client_id, is_client_secret, region_domain};
use crate::providers::{lead, window_end, window_start, WordSet};
use base64::Engine;
use regex::bytes::Regex;
use std::sync::LazyLock;

static UUID_V4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b")
        .unwrap()
});

static REGION_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u)\b(mypurecloud\.com\.au|mypurecloud\.(?:com|ie|de|jp)|[a-z0-9]+\.(?:pure\.cloud|us-gov-pure\.cloud|eusc-pure\.cloud))\b",
    )
    .unwrap()
});

static REGION_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u)\b((?:us|eu|ap|ca|sa|me|mx|eusc[-_]de)[-_](?:east|west|central|south|north|northeast|southeast)[-_][1-3])\b",
    )
    .unwrap()
});

/// Names that mark a UUID as the client id of a pair.
const ID_NAMES: &[&str] = &[
    "client_id",
    "clientid",
    "client-id",
    "oauthclient_id",
    "client_credentials",
    "_id",
    "\"id\"",
    "'id'",
    "id=",
    "id:",
    "id =",
    "username",
    "user",
    "-u ",
    "login",
];

static ID_WORDS: LazyLock<WordSet> = LazyLock::new(|| WordSet::new(ID_NAMES));

/// Lines searched on each side of a secret for its client id.
const PAIR_LINES: usize = 8;
/// Bytes on each side of a secret within which a region mention counts.
const REGION_REACH: usize = 64 * 1024;

/// The client id nearest to a secret at `start..end` of `data` (an id assigned to an id-like
/// name before any other), and whether it was so assigned.
pub fn client_id_near(
    data: &[u8],
    start: usize,
    end: usize,
    uuids: &Uuids,
) -> Option<(String, bool)> {
    let lo = window_start(data, start, PAIR_LINES);
    let hi = window_end(data, end, PAIR_LINES);
    let mut best: Option<(bool, usize, String)> = None;
    for (ms, me) in uuids.within(lo, hi) {
        if ms < end && me > start {
            continue;
        }
        let id = String::from_utf8_lossy(&data[ms..me]).to_ascii_lowercase();
        let lead = lead(data, ms);
        let named = ID_WORDS.found_in(lead) || data.get(me) == Some(&b':') && me + 1 == start;
        let distance = if me <= start { start - me } else { ms - end };
        let better = match &best {
            None => true,
            Some((bn, bd, _)) => {
                (named, std::cmp::Reverse(distance)) > (*bn, std::cmp::Reverse(*bd))
            }
        };
        if better {
            best = Some((named, distance, id));
        }
    }
    best.map(|(named, _, id)| (id, named))
}

/// Every UUID v4 in a blob, in order: found once per blob, so pairing many secrets on one long
/// line costs a lookup each, not a search of the window.
#[derive(Debug, Default)]
pub struct Uuids(Vec<(usize, usize)>);

impl Uuids {
    /// Find the UUIDs in `data`.
    pub fn find(data: &[u8]) -> Self {
        Uuids(
            UUID_V4
                .find_iter(data)
                .map(|m| (m.start(), m.end()))
                .collect(),
        )
    }

    /// The UUIDs wholly inside `lo..hi`.
    fn within(&self, lo: usize, hi: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let first = self.0.partition_point(|&(s, _)| s < lo);
        self.0[first..]
            .iter()
            .take_while(move |&&(_, e)| e <= hi)
            .copied()
    }
}

/// Decode a Basic credential (base64 of `id:secret`) into a Genesys-shaped pair.
pub fn decode_basic(b64: &[u8]) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64))
        .ok()?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = id.to_ascii_lowercase();
    (is_client_id(&id) && is_client_secret(secret)).then(|| (id, secret.to_string()))
}

/// Every place in a blob that names a Genesys region, in order: hosts anywhere, AWS-style
/// names where the text says they are a region or environment. Built once per blob.
#[derive(Debug, Default)]
pub struct Regions(Vec<(usize, &'static str)>);

impl Regions {
    /// Find the region mentions in `data`.
    pub fn find(data: &[u8]) -> Self {
        let mut found = Vec::new();
        for m in REGION_HOST.find_iter(data) {
            if let Some(d) = region_domain(&String::from_utf8_lossy(m.as_bytes())) {
                found.push((m.start(), d));
            }
        }
        for m in REGION_NAME.find_iter(data) {
            let lead = lead(data, m.start()).to_ascii_lowercase();
            let says_region = memchr::memmem::find(&lead, b"region").is_some()
                || memchr::memmem::find(&lead, b"environment").is_some();
            if says_region {
                if let Some(d) = region_domain(&String::from_utf8_lossy(m.as_bytes())) {
                    found.push((m.start(), d));
                }
            }
        }
        found.sort_unstable();
        Regions(found)
    }

    /// The region mentioned nearest to `pos`, within reach.
    pub fn nearest(&self, pos: usize) -> Option<&'static str> {
        let i = self.0.partition_point(|(at, _)| *at < pos);
        [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|j| self.0.get(j))
            .map(|(at, d)| (at.abs_diff(pos), *d))
            .filter(|(dist, _)| *dist <= REGION_REACH)
            .min_by_key(|(dist, _)| *dist)
            .map(|(_, d)| d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_from_enum_host_and_terraform() {
        let near = |t: &[u8]| Regions::find(t).nearest(t.len() - 1);
        assert_eq!(
            near(b"x = PureCloudRegionHosts.eu_west_1\nsecret"),
            Some("mypurecloud.ie")
        );
        let t = b"url = 'https://login.usw2.pure.cloud/oauth/token'\nsecret";
        assert_eq!(near(t), Some("usw2.pure.cloud"));
        assert_eq!(
            near(b"aws_region = \"ap-southeast-2\"\nsecret"),
            Some("mypurecloud.com.au")
        );
        assert_eq!(near(b"bucket in eu-west-1\nsecret"), None);
        let t = b"region: eu-west-1\nA\nregion: us-west-2\nB";
        assert_eq!(
            Regions::find(t).nearest(t.len() - 1),
            Some("usw2.pure.cloud")
        );
        assert_eq!(Regions::find(t).nearest(12), Some("mypurecloud.ie"));
    }
}
