//! Columns for terminal tables whose words may be Japanese: the width a terminal gives a text (East Asian
//! wide and fullwidth characters take two columns, UAX #11), and padding and truncating by that width.
//! ASCII pads exactly as `format!("{:<N}")` does, so English tables are unchanged.

/// Whether a character takes two terminal columns: the wide and fullwidth blocks of UAX #11 (CJK,
/// kana, Hangul, fullwidth forms). Ambiguous-width characters (`…`) count as one, as most terminals
/// outside East Asian legacy settings show them.
fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD)
}

/// The columns `text` takes in a terminal.
pub fn display_width(text: &str) -> usize {
    text.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

/// `text` followed by spaces up to `width` columns (unchanged when already as wide).
pub fn pad_end(text: &str, width: usize) -> String {
    let mut out = text.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(display_width(text))));
    out
}

/// `text` cut to at most `width` columns, ending in `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    if display_width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = if is_wide(c) { 2 } else { 1 };
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_pads_as_format_does() {
        for (text, width) in [("PORT", 10), ("NAME", 34), ("exactly", 7), ("longer than", 4), ("", 3)] {
            assert_eq!(pad_end(text, width), format!("{text:<width$}"));
        }
    }

    #[test]
    fn japanese_takes_two_columns() {
        assert_eq!(display_width("ポート"), 6);
        assert_eq!(display_width("OPEN（開いている）"), 4 + 2 * 7);
        assert_eq!(pad_end("名前", 6), "名前  ");
        assert_eq!(display_width("…"), 1);
    }

    #[test]
    fn truncation_by_columns() {
        assert_eq!(truncate("short", 34), "short");
        let long = "x".repeat(40);
        assert_eq!(truncate(&long, 34), format!("{}…", "x".repeat(33)));
        assert_eq!(display_width(&truncate(&long, 34)), 34);
        let ja = "トロイの木馬: 非常に長い名前のバックドア";
        let cut = truncate(ja, 20);
        assert!(display_width(&cut) <= 20 && cut.ends_with('…'), "{cut}");
    }
}
