//! Resource quantities (`resource.Quantity`): `500m`, `2`, `1Gi`, `512M`, `1e3`.

/// Parses a quantity into milli-units (CPU `500m` → 500; memory `1Ki` → 1_024_000), so one
/// integer type serves every resource. Errors say what was wrong.
pub fn parse_quantity_milli(text: &str) -> Result<i128, String> {
    // `trim`, skipped when the ends are plain ASCII (nearly always: the text is a field's).
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    let s = if plain(text.as_bytes().first()) && plain(text.as_bytes().last()) {
        text
    } else {
        text.trim()
    };
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    if num.is_empty() || num == "." {
        return Err(format!("quantity {text:?} has no number"));
    }
    let (mult_num, mult_den): (i128, i128) = match suffix {
        "" => (1000, 1),
        "m" => (1, 1),
        "k" => (1000 * 1000, 1),
        "M" => (1000 * 1_000_000, 1),
        "G" => (1000 * 1_000_000_000, 1),
        "T" => (1000 * 1_000_000_000_000, 1),
        "P" => (1000 * 1_000_000_000_000_000, 1),
        "Ki" => (1000 * 1024, 1),
        "Mi" => (1000 * 1024 * 1024, 1),
        "Gi" => (1000 * 1024 * 1024 * 1024, 1),
        "Ti" => (1000 * 1024_i128.pow(4), 1),
        "Pi" => (1000 * 1024_i128.pow(5), 1),
        "n" => (1, 1_000_000),
        "u" => (1, 1000),
        s if s.starts_with(['e', 'E']) => {
            let exp: u32 = s[1..]
                .parse()
                .map_err(|_| format!("quantity {text:?} has a bad exponent"))?;
            (
                1000 * 10_i128.checked_pow(exp).ok_or("exponent too large")?,
                1,
            )
        }
        _ => {
            return Err(format!(
                "quantity {text:?} has an unknown suffix {suffix:?} (use m, k, M, G, T, Ki, Mi, Gi, Ti)"
            ));
        }
    };
    // (Byte searches: `num` is ASCII, split above at the first other character.)
    let (int_part, frac_part) = match num.bytes().position(|b| b == b'.') {
        Some(dot) => (&num[..dot], &num[dot + 1..]),
        None => (num, ""),
    };
    let negative = int_part.starts_with('-');
    let signs = int_part
        .bytes()
        .take_while(|&b| b == b'+' || b == b'-')
        .count();
    let int_digits = &int_part[signs..];
    let whole: i128 = if int_digits.is_empty() {
        0
    } else {
        int_digits
            .parse()
            .map_err(|_| format!("quantity {text:?} is not a number"))?
    };
    let mut value = whole * mult_num;
    let (mut frac_acc, mut denom) = (0_i128, 1_i128);
    for d in frac_part.bytes().take(18) {
        if !d.is_ascii_digit() {
            return Err(format!("quantity {text:?} is not a number"));
        }
        frac_acc = frac_acc * 10 + i128::from(d - b'0');
        denom *= 10;
    }
    // The 128-bit divisions only where they divide (most quantities are whole, unscaled).
    if frac_acc != 0 {
        value += frac_acc * mult_num / denom;
    }
    let value = if mult_den == 1 {
        value
    } else {
        value / mult_den
    };
    Ok(if negative { -value } else { value })
}

/// Formats a byte count the way `kubectl` shows storage (`1Gi`, `512Mi`, or plain bytes).
pub fn format_bytes(bytes: i128) -> String {
    for (suffix, unit) in [
        ("Ti", 1_i128 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ] {
        if bytes >= unit && bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quantities() {
        let cases: &[(&str, i128)] = &[
            ("500m", 500),
            ("2", 2000),
            ("0.5", 500),
            ("1Ki", 1_024_000),
            ("1Gi", 1000 * (1 << 30)),
            ("1.5Gi", 1500 * (1 << 30)),
            ("512M", 512_000_000_000),
            ("1e3", 1_000_000),
            ("100n", 0),
            (" 2Ki\t", 2_048_000),
            ("-1.25", -1250),
            ("1.000", 1000),
            ("+3u", 0),
            ("3000u", 3),
        ];
        for (t, v) in cases {
            assert_eq!(parse_quantity_milli(t), Ok(*v), "{t}");
        }
        assert!(parse_quantity_milli("1GB").is_err());
        assert!(parse_quantity_milli("abc").is_err());
        assert_eq!(format_bytes(1 << 30), "1Gi");
    }
}
