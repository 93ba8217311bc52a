//! Compact port ranges as `port_folds` keeps them (`"1-21,23-79,81"`): read back into sorted, merged
//! `(first, last)` pairs, and written from them. Text that is not a range list (a stray word, a port past
//! 65535, `9-3`) is skipped piece by piece, never a panic: a damaged row loses only its bad pieces.

/// The ranges of `text`, sorted and merged (`"80,1-21,22"` is `[(1, 22), (80, 80)]`).
pub fn parse_port_ranges(text: &str) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = text
        .split(',')
        .filter_map(|piece| {
            let piece = piece.trim();
            let (lo, hi) = piece.split_once('-').unwrap_or((piece, piece));
            let (lo, hi) = (lo.trim().parse::<u16>().ok()?, hi.trim().parse::<u16>().ok()?);
            (lo <= hi).then_some((lo, hi))
        })
        .collect();
    merge_ranges(&mut out);
    out
}

/// Sorts `ranges` and merges those that overlap or touch.
pub fn merge_ranges(ranges: &mut Vec<(u16, u16)>) {
    ranges.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    *ranges = merged;
}

/// `[(1, 21), (23, 23)]` as `"1-21,23"`.
pub fn format_port_ranges(ranges: &[(u16, u16)]) -> String {
    let parts: Vec<String> =
        ranges.iter().map(|&(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") }).collect();
    parts.join(",")
}

/// How many ports `ranges` holds.
pub fn count_ports(ranges: &[(u16, u16)]) -> u64 {
    ranges.iter().map(|&(lo, hi)| u64::from(hi - lo) + 1).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_sorted_and_merged() {
        assert_eq!(parse_port_ranges("1-21,23-79"), [(1, 21), (23, 79)]);
        assert_eq!(parse_port_ranges("80,1-21,22"), [(1, 22), (80, 80)]);
        assert_eq!(parse_port_ranges(" 5 , 3-4 "), [(3, 5)]);
        assert_eq!(parse_port_ranges("65535,0"), [(0, 0), (65535, 65535)]);
    }

    #[test]
    fn damaged_pieces_are_skipped() {
        assert_eq!(parse_port_ranges("x,9-3,70000,1-2-3,4"), [(4, 4)]);
        assert!(parse_port_ranges("").is_empty());
    }

    #[test]
    fn ranges_are_written_compactly_and_counted() {
        let r = [(1, 21), (23, 23), (65535, 65535)];
        assert_eq!(format_port_ranges(&r), "1-21,23,65535");
        assert_eq!(parse_port_ranges(&format_port_ranges(&r)), r);
        assert_eq!(count_ports(&r), 23);
    }
}
