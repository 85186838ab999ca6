//! JSON string escaping for the trace, byte-for-byte what `serde_json` writes, eight bytes
//! at a time. The trace is nearly all strings (12.6 MB for the attach storm) and
//! `serde_json` looks each byte up in a table with a bounds-checked split per byte (≈ 10
//! instructions a byte); here a clean run of eight bytes is one word test and the run is
//! copied in one go.
//!
//! The rules (serde_json `format_escaped_str_contents` and `CompactFormatter::
//! write_char_escape`): `"` → `\"`, `\` → `\\`, the control characters 0x08, 0x09, 0x0a,
//! 0x0c, 0x0d → `\b`, `\t`, `\n`, `\f`, `\r`, every other byte below 0x20 → `\u00xx` (lower
//! case hex); everything else, 0x7f and non-ASCII included, is copied as is.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that must be escaped; the lowest set bit is exact
/// (the borrow tricks can only misfire above a real hit).
#[inline]
fn escape_mask(w: u64) -> u64 {
    // A byte below 0x20 (bytes ≥ 0x80 are excluded by `!w`).
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b;
    (control | quote | backslash) & HIGHS
}

/// The index of the first byte at or after `from` that must be escaped. Most trace
/// strings are short (half are under eight bytes: keys, names, phases), so the tail is
/// read as overlapping words rather than copied or walked byte by byte.
#[inline]
fn find_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let len = bytes.len();
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let m = escape_mask(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        if m != 0 {
            return Some(i + lane(m));
        }
        i += 8;
    }
    if i == len {
        return None;
    }
    // The 1–7 bytes from `i`: their first four and last four (they overlap) as one word,
    // lanes 0–3 then 4–7. (Not the string's last eight bytes: a hit before `i` could
    // make the borrow tricks flag a clean byte after it.)
    let rest = &bytes[i..];
    let n = rest.len();
    if n >= 4 {
        let head = u32::from_le_bytes(rest[..4].try_into().expect("four"));
        let tail = u32::from_le_bytes(rest[n - 4..].try_into().expect("four"));
        let m = escape_mask(u64::from(head) | u64::from(tail) << 32);
        return (m != 0).then(|| {
            let k = lane(m);
            i + if k < 4 { k } else { n + k - 8 }
        });
    }
    rest.iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .map(|k| i + k)
}

/// The byte index of the lowest flagged lane of an escape mask.
#[inline]
fn lane(m: u64) -> usize {
    (m.trailing_zeros() / 8) as usize
}

/// Appends `s` to `out` as a quoted JSON string. Most strings need no escape; for them
/// this is a scan and one copy, inlined into the caller (the trace writes ≈ 80 strings a
/// line, half of them keys, so a call's own cost counts).
#[inline(always)]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if bytes.len() <= SHORT {
        return write_short(out, bytes);
    }
    match find_escape(bytes, 0) {
        None => {
            out.reserve(bytes.len() + 2);
            out.push(b'"');
            out.extend_from_slice(bytes);
            out.push(b'"');
        }
        Some(at) => write_escaped(out, bytes, at),
    }
}

/// The longest string [`write_short`] takes: most trace strings (names, phases, times,
/// uids, resourceVersions) are this long or shorter.
const SHORT: usize = 40;

/// `write_str` for a string of at most [`SHORT`] bytes: its words are tested and placed,
/// quoted, in a fixed-size array as they are read, and the array is appended whole and
/// the excess cut off — fixed-size moves instead of a `memcpy` call and per-byte pushes
/// (a short string's cost was the copy's overhead, not its bytes). The words overlap
/// (the last one ends at the string's end), so every byte is tested at least once. The
/// steps are written out, not looped: a loop of word copies is turned back into a
/// `memcpy` call by the compiler.
#[inline(always)]
fn write_short(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    let mut quoted = [0u8; SHORT + 2];
    quoted[0] = b'"';
    let mut m = 0;
    if n >= 8 {
        let mut word = |at: usize| {
            let w: [u8; 8] = bytes[at..at + 8].try_into().expect("eight bytes");
            m |= escape_mask(u64::from_le_bytes(w));
            quoted[1 + at..9 + at].copy_from_slice(&w);
        };
        // Whole words while the string goes on past them (SHORT is 40), then its last eight.
        if n > 8 {
            word(0);
        }
        if n > 16 {
            word(8);
        }
        if n > 24 {
            word(16);
        }
        if n > 32 {
            word(24);
        }
        word(n - 8);
    } else if n >= 4 {
        let head: [u8; 4] = bytes[..4].try_into().expect("four bytes");
        let tail: [u8; 4] = bytes[n - 4..].try_into().expect("four bytes");
        m = escape_mask(
            u64::from(u32::from_le_bytes(head)) | u64::from(u32::from_le_bytes(tail)) << 32,
        );
        quoted[1..5].copy_from_slice(&head);
        quoted[n - 3..n + 1].copy_from_slice(&tail);
    } else {
        let mut byte = |i: usize| {
            let b = bytes[i];
            m |= u64::from(b < 0x20 || b == b'"' || b == b'\\');
            quoted[1 + i] = b;
        };
        if n > 0 {
            byte(0);
        }
        if n > 1 {
            byte(1);
        }
        if n > 2 {
            byte(2);
        }
    }
    if m != 0 {
        let at = find_escape(bytes, 0).expect("a flagged word holds an escape");
        return write_escaped(out, bytes, at);
    }
    quoted[n + 1] = b'"';
    let len = out.len();
    out.extend_from_slice(&quoted);
    out.truncate(len + n + 2);
}

/// Whether `s` is written as it is, between quotes.
pub fn needs_no_escape(s: &str) -> bool {
    find_escape(s.as_bytes(), 0).is_none()
}

/// `write_str` for a string with something to escape, the first at `first`.
#[cold]
#[inline(never)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8], first: usize) {
    out.reserve(bytes.len() + 8);
    out.push(b'"');
    let mut start = 0;
    let mut next = Some(first);
    while let Some(at) = next {
        out.extend_from_slice(&bytes[start..at]);
        write_escape(out, bytes[at]);
        start = at + 1;
        next = find_escape(bytes, start);
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

// serde_json `CompactFormatter::write_char_escape`.
fn write_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

#[cfg(test)]
mod tests {
    use super::write_str;

    fn both(s: &str) {
        let mut fast = Vec::new();
        write_str(&mut fast, s);
        let slow = serde_json::to_vec(s).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&slow),
            "{s:?}"
        );
    }

    #[test]
    fn every_byte_alone_and_at_every_offset_matches_serde_json() {
        for c in (0u32..0x80).chain([0xe9, 0x2028, 0xfeff, 0x1f600]) {
            let c = char::from_u32(c).unwrap();
            for pre in 0..50 {
                for post in [0, 1, 7, 8, 9] {
                    let s = format!("{}{c}{}", "a".repeat(pre), "é".repeat(post));
                    both(&s);
                }
            }
        }
    }

    #[test]
    fn escapes_next_to_each_other_at_every_offset_match_serde_json() {
        // Every string of up to four of these, after 0–9 clean bytes: escapes right after
        // escapes, and bytes one above `"` and `\\` (where a borrow could misfire).
        let alphabet = ["a", "\"", "#", "\\", "]", "\n", "\u{1}", "!", "é"];
        let mut words = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = words
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
            words.dedup();
        }
        words.sort();
        words.dedup();
        for w in &words {
            for pre in (0..10).chain(30..42) {
                both(&format!("{}{w}", "z".repeat(pre)));
            }
        }
    }

    #[test]
    fn odd_strings_match_serde_json() {
        for s in [
            "",
            "plain-name-0",
            "\"quoted\" and \\back\\slashed\\",
            "line\nbreak\ttab\rcr\u{8}bs\u{c}ff\u{0}nul\u{1f}us\u{7f}del",
            "ünïcödé ✓ 😀 日本語 \u{2028}\u{2029}",
            "\"\"\"\"\"\"\"\"\"\\\\\\\\\\\\\\\\\n\n\n\n\n\n\n\n\n",
            "0123456789abcdef0123456789abcdef\"",
        ] {
            both(s);
        }
    }
}
