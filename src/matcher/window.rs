//! Line windows around a match: where context keywords and a provider's partner values are
//! looked for.

/// Start of the window `lines` lines before `pos`, capped at `lines * 128` bytes.
pub(crate) fn window_start(data: &[u8], pos: usize, lines: usize) -> usize {
    let floor = pos.saturating_sub(lines * 128);
    let mut at = pos;
    for _ in 0..=lines {
        match memchr::memrchr(b'\n', &data[floor..at]) {
            Some(i) => at = floor + i,
            None => return floor,
        }
    }
    at + 1
}

/// End of the window `lines` lines after `pos`, capped at `lines * 128` bytes.
pub(crate) fn window_end(data: &[u8], pos: usize, lines: usize) -> usize {
    let ceil = (pos + lines * 128).min(data.len());
    let mut at = pos;
    for _ in 0..=lines {
        match memchr::memchr(b'\n', &data[at..ceil]) {
            Some(i) => at += i + 1,
            None => return ceil,
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_stop_at_lines() {
        let data = b"a\nb\nc\nd\ne\n";
        let pos = 4; // 'c'
        assert_eq!(window_start(data, pos, 1), 2);
        assert_eq!(window_end(data, pos, 1), 8);
        assert_eq!(window_start(data, pos, 10), 0);
        assert_eq!(window_end(data, pos, 10), data.len());
    }
}
