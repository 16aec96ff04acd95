//! What content is before it is scanned: text (as it is, or UTF-16 decoded to UTF-8), binary,
//! or a Git LFS pointer. Every source (folders, stdin, Git blobs) decides the same way.

use std::borrow::Cow;

/// Bytes looked at to decide whether content is binary or UTF-16 without a BOM.
const PROBE: usize = 8 * 1024;

/// Git LFS only takes blobs under this size for pointers.
const LFS_POINTER_MAX: usize = 1024;

/// How text content is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Scanned byte for byte: UTF-8, ASCII, Latin-1 or anything byte-oriented.
    Bytes,
    /// UTF-16 little-endian: what Windows PowerShell's `>` and `Out-File` and many Windows
    /// tools write.
    Utf16Le,
    /// UTF-16 big-endian.
    Utf16Be,
}

impl Encoding {
    /// The bytes the matcher reads: `data` itself, or its UTF-16 decoded to UTF-8 without the
    /// byte-order mark (an unpaired surrogate becomes U+FFFD, an odd last byte is dropped).
    /// Lines of decoded text are the file's lines; columns count bytes of the decoded UTF-8,
    /// which for ASCII text is the character's position on the line.
    pub fn decode(self, data: &[u8]) -> Cow<'_, [u8]> {
        let unit: fn([u8; 2]) -> u16 = match self {
            Encoding::Bytes => return Cow::Borrowed(data),
            Encoding::Utf16Le => u16::from_le_bytes,
            Encoding::Utf16Be => u16::from_be_bytes,
        };
        let body = if self.bom_of(data) { &data[2..] } else { data };
        let units = body.chunks_exact(2).map(|u| unit([u[0], u[1]]));
        let mut out = String::with_capacity(body.len());
        for c in char::decode_utf16(units) {
            out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        Cow::Owned(out.into_bytes())
    }

    /// Whether `data` starts with this encoding's byte-order mark.
    fn bom_of(self, data: &[u8]) -> bool {
        match self {
            Encoding::Bytes => false,
            Encoding::Utf16Le => data.starts_with(&[0xff, 0xfe]),
            Encoding::Utf16Be => data.starts_with(&[0xfe, 0xff]),
        }
    }
}

/// Whether `data` is UTF-16, and which byte order.
///
/// With a byte-order mark, UTF-16 when some code unit after it has a zero high byte: any ASCII
/// character (a newline, a space, every character of a secret) has one, while a Latin-1 or
/// byte-oriented file that merely starts with `FF FE` has no NUL in those places. Without a
/// mark, UTF-16 when at least 90% of the code units in the first 8 KiB are printable ASCII (or
/// tab, CR, LF) with a zero high byte: "every other byte NUL" in ASCII text.
pub fn utf16(data: &[u8]) -> Option<Encoding> {
    if let Some(enc) = [Encoding::Utf16Le, Encoding::Utf16Be]
        .into_iter()
        .find(|e| e.bom_of(data))
    {
        let high = usize::from(enc == Encoding::Utf16Le);
        return data[2..]
            .chunks_exact(2)
            .any(|u| u[high] == 0)
            .then_some(enc);
    }
    let probe = &data[..data.len().min(PROBE) & !1];
    let units = probe.len() / 2;
    // UTF-16 of ASCII text is half NUL bytes: text without one is ruled out at memchr speed.
    if units < 2 || memchr::memchr(0, probe).is_none() {
        return None;
    }
    let ascii = |lo: u8, hi: u8| hi == 0 && (lo.is_ascii_graphic() || b" \t\r\n".contains(&lo));
    let share = |high: usize| {
        probe
            .chunks_exact(2)
            .filter(|u| ascii(u[1 - high], u[high]))
            .count()
    };
    if share(1) * 10 >= units * 9 {
        Some(Encoding::Utf16Le)
    } else if share(0) * 10 >= units * 9 {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

/// Starts of formats that are binary by definition (executables, compressed and image data).
/// Each holds a byte no text file starts with, so no text is taken for one of them.
const BINARY_MAGIC: &[&[u8]] = &[
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe", // Java class, Mach-O universal
    b"\x00asm",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"\x1f\x8b",   // gzip
    b"PK\x03\x04", // zip, jar
    b"PK\x05\x06", // empty zip
    b"7z\xbc\xaf\x27\x1c",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd", // zstd
    b"Rar!\x1a\x07",
    b"SQLite format 3\x00",
];

/// Whether `data` is binary: it starts with a known binary magic number, or more than 10% of
/// its first 8 KiB are NUL or other control bytes (tab, LF, VT, FF, CR and ESC are text).
///
/// A share, not "any NUL": text with a stray NUL, NUL-separated lists (`find -print0`, a dump
/// of `/proc/*/environ`) and text with a few control characters are mostly printable and are
/// scanned, while executables, object files and databases are full of NULs and random
/// (compressed, encrypted) data has about 11% control bytes. Callers check for UTF-16 first:
/// its ASCII text is half NUL.
pub fn is_binary(data: &[u8]) -> bool {
    if BINARY_MAGIC.iter().any(|m| data.starts_with(m)) {
        return true;
    }
    let probe = &data[..data.len().min(PROBE)];
    // Comparisons, not a table, counted a byte wide per 255 bytes (no overflow): the count
    // compiles to vector compares, and the probe of every blob is read at memory speed.
    let control: usize = probe
        .chunks(255)
        .map(|c| usize::from(c.iter().map(|&b| u8::from(is_control(b))).sum::<u8>()))
        .sum();
    control * 10 > probe.len()
}

/// The bytes [`is_binary`] counts: C0 controls other than tab, LF, VT, FF, CR and ESC, and DEL.
#[inline]
fn is_control(b: u8) -> bool {
    (b < 0x20 && !(0x09..=0x0d).contains(&b) && b != 0x1b) || b == 0x7f
}

/// Whether `data` is exactly a Git LFS pointer as the spec defines it: under 1024 bytes, the
/// line `version https://git-lfs.github.com/spec/v1`, then `key value` lines with keys in
/// sorted order, each ending in LF, holding `oid sha256:<64 lowercase hex>` and
/// `size <digits>` and otherwise only `ext-<digit>-<name> sha256:<hex>` extension lines.
/// Nothing else: a file that merely starts like a pointer, or carries any other line where a
/// secret could sit, is scanned.
pub fn is_lfs_pointer(data: &[u8]) -> bool {
    const VERSION: &[u8] = b"version https://git-lfs.github.com/spec/v1\n";
    if data.len() >= LFS_POINTER_MAX || !data.starts_with(VERSION) {
        return false;
    }
    let Some(body) = data[VERSION.len()..].strip_suffix(b"\n") else {
        return false;
    };
    let (mut prev, mut oid, mut size): (&[u8], bool, bool) = (b"", false, false);
    for line in body.split(|&b| b == b'\n') {
        let Some(space) = line.iter().position(|&b| b == b' ') else {
            return false;
        };
        let (key, value) = (&line[..space], &line[space + 1..]);
        if key <= prev {
            return false;
        }
        prev = key;
        let ok = match key {
            b"oid" => {
                oid = true;
                is_sha256_oid(value)
            }
            b"size" => {
                size = true;
                !value.is_empty() && value.iter().all(u8::is_ascii_digit)
            }
            _ => is_extension_key(key) && is_sha256_oid(value),
        };
        if !ok {
            return false;
        }
    }
    oid && size
}

/// `sha256:` and 64 lowercase hex digits.
fn is_sha256_oid(value: &[u8]) -> bool {
    value.strip_prefix(b"sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    })
}

/// `ext-<digit>-<name>`, the name lowercase letters and digits.
fn is_extension_key(key: &[u8]) -> bool {
    match key {
        [b'e', b'x', b't', b'-', d, b'-', name @ ..] => {
            d.is_ascii_digit()
                && !name.is_empty()
                && name
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xff, 0xfe] } else { Vec::new() };
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn utf16_with_and_without_bom_decodes() {
        let text = "first=1\r\nsecond=\u{e9}t\u{e9}\r\nthird=3\r\n";
        for bom in [true, false] {
            let data = utf16le(text, bom);
            let enc = utf16(&data).expect("detected");
            assert_eq!(enc, Encoding::Utf16Le);
            assert_eq!(&*enc.decode(&data), text.as_bytes());
        }
        let mut be = vec![0xfe, 0xff];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(utf16(&be), Some(Encoding::Utf16Be));
        assert_eq!(&*Encoding::Utf16Be.decode(&be), text.as_bytes());
    }

    #[test]
    fn a_latin1_file_starting_like_a_bom_is_bytes() {
        assert_eq!(utf16(b"\xff\xfe garbage \xc3\x28\nkey=value\n"), None);
        assert_eq!(utf16(b"plain ascii text\n"), None);
        // Unpaired surrogates and an odd tail never panic.
        let odd = [0xff, 0xfe, b'a', 0, 0x00, 0xd8, b'b'];
        assert_eq!(&*Encoding::Utf16Le.decode(&odd), "a\u{fffd}".as_bytes());
    }

    #[test]
    fn control_bytes_are_the_c0_controls_but_whitespace_and_esc_and_del() {
        for b in 0..=255u8 {
            let listed = matches!(b, 0x00..=0x08 | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f);
            assert_eq!(is_control(b), listed, "{b:#04x}");
        }
        // The share is of the probe: 10% is text, one byte more is binary.
        let mut data = vec![b'a'; 1000];
        data[..100].fill(0x01);
        assert!(!is_binary(&data));
        data[100] = 0x7f;
        assert!(is_binary(&data));
    }

    #[test]
    fn binary_is_a_share_or_a_magic_number() {
        let mut stray = b"key=value\0".to_vec();
        stray.extend_from_slice(&b"line of text\n".repeat(10));
        assert!(!is_binary(&stray));
        let environ = b"HOME=/root\0PATH=/usr/bin:/bin\0LANG=C.UTF-8\0".repeat(20);
        assert!(!is_binary(&environ));
        assert!(is_binary(&[0u8; 64]));
        assert!(is_binary(
            b"\x7fELF\x02\x01\x01 mostly text after the magic"
        ));
        assert!(is_binary(b"PK\x03\x04 text"));
        assert!(!is_binary(b""));
        let mut rng = fastrand::Rng::with_seed(1);
        let random: Vec<u8> = (0..8192).map(|_| rng.u8(..)).collect();
        assert!(is_binary(&random));
    }

    #[test]
    fn only_an_exact_lfs_pointer_is_one() {
        let oid = format!("sha256:{}", "ab12".repeat(16));
        let pointer =
            format!("version https://git-lfs.github.com/spec/v1\noid {oid}\nsize 12345\n");
        assert!(is_lfs_pointer(pointer.as_bytes()));
        let ext = format!(
            "version https://git-lfs.github.com/spec/v1\next-0-foo {oid}\noid {oid}\nsize 1\n"
        );
        assert!(is_lfs_pointer(ext.as_bytes()));
        for bad in [
            // Starts like one, then anything.
            format!("version https://git-lfs.github.com/spec/v1\noid {oid}\nsize 1\nsecret x\n"),
            format!("version https://git-lfs.github.com/spec/v1\nsize 1\noid {oid}\n"),
            format!("version https://git-lfs.github.com/spec/v1\noid {oid}\nsize 1"),
            format!("version https://git-lfs.github.com/spec/v1\noid {oid}\nsize 1x\n"),
            format!("version https://git-lfs.github.com/spec/v1\noid {oid}\n"),
            format!(
                "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 1\n",
                "A".repeat(64)
            ),
            format!("version https://git-lfs.github.com/spec/v1\noid {oid}\noid {oid}\nsize 1\n"),
            format!("version https://git-lfs.github.com/spec/v1\noid {oid}\nsize 1\n\n"),
            "version https://git-lfs.github.com/spec/v1\n".to_string(),
        ] {
            assert!(!is_lfs_pointer(bad.as_bytes()), "{bad:?}");
        }
    }
}
