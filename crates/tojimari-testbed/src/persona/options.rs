//! Laying out TCP options as a persona does: its own order, values and padding, minus what the SYN did
//! not offer (RFC 7323 and RFC 2018: window scale, timestamps and SACK-permitted only in answer to a SYN
//! that carried them).

use tojimari_wire::tcp::option_kind;

use super::model::TcpOpt;

/// The most option bytes a TCP header holds.
pub const MAX_OPTIONS: usize = 40;

/// What the SYN being answered offered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offered {
    /// It carried window scale.
    pub window_scale: bool,
    /// It carried SACK-permitted.
    pub sack: bool,
    /// Its timestamp value, if it carried timestamps.
    pub timestamp: Option<u32>,
}

impl Offered {
    /// A SYN that offered everything (timestamp value `tsval`).
    #[cfg(test)]
    pub const fn everything(tsval: u32) -> Offered {
        Offered { window_scale: true, sack: true, timestamp: Some(tsval) }
    }
}

/// The option bytes for `layout` answering a SYN that offered `offered`, with `tsval` the persona's
/// timestamp (`None` = the persona sends none). An option left out takes the NOPs right before it with
/// it; the block is padded with EOL to a multiple of four and cut at 40 bytes.
pub fn build(layout: &[TcpOpt], offered: Offered, tsval: Option<u32>) -> Vec<u8> {
    let mut items: Vec<TcpOpt> = Vec::with_capacity(layout.len());
    for &item in layout {
        let keep = match item {
            TcpOpt::WindowScale(_) => offered.window_scale,
            TcpOpt::SackPermitted => offered.sack,
            TcpOpt::Timestamps => offered.timestamp.is_some() && tsval.is_some(),
            TcpOpt::Mss(_) | TcpOpt::Nop | TcpOpt::Eol => true,
        };
        if !keep {
            while items.last() == Some(&TcpOpt::Nop) {
                items.pop();
            }
            continue;
        }
        items.push(item);
    }
    // End-of-list is padding at the end: it goes when what it ended went (the EOL padding below puts
    // back what the length needs).
    while items.last() == Some(&TcpOpt::Eol) {
        items.pop();
    }
    let mut bytes = Vec::with_capacity(MAX_OPTIONS);
    for item in items {
        let encoded: Vec<u8> = match item {
            TcpOpt::Mss(mss) => {
                let [hi, lo] = mss.to_be_bytes();
                vec![option_kind::MSS, 4, hi, lo]
            }
            TcpOpt::Nop => vec![option_kind::NOP],
            TcpOpt::Eol => vec![option_kind::END],
            TcpOpt::WindowScale(shift) => vec![option_kind::WINDOW_SCALE, 3, shift],
            TcpOpt::SackPermitted => vec![option_kind::SACK_PERMITTED, 2],
            TcpOpt::Timestamps => {
                let mut t = vec![option_kind::TIMESTAMPS, 10];
                t.extend_from_slice(&tsval.unwrap_or(0).to_be_bytes());
                t.extend_from_slice(&offered.timestamp.unwrap_or(0).to_be_bytes());
                t
            }
        };
        if bytes.len() + encoded.len() > MAX_OPTIONS {
            break;
        }
        bytes.extend_from_slice(&encoded);
    }
    while bytes.len() % 4 != 0 {
        bytes.push(option_kind::END);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use TcpOpt::*;

    const WINDOWS: [TcpOpt; 6] = [Mss(1460), Nop, WindowScale(8), Nop, Nop, SackPermitted];
    const LINUX: [TcpOpt; 5] = [Mss(1460), SackPermitted, Timestamps, Nop, WindowScale(7)];

    #[test]
    fn everything_offered_keeps_the_layout() {
        let b = build(&WINDOWS, Offered::everything(5), None);
        assert_eq!(b, [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]);
        let b = build(&LINUX, Offered::everything(0x0102_0304), Some(0x0a0b_0c0d));
        assert_eq!(
            b,
            [2, 4, 5, 0xb4, 4, 2, 8, 10, 0x0a, 0x0b, 0x0c, 0x0d, 1, 2, 3, 4, 1, 3, 3, 7],
            "timestamps echo the SYN's value"
        );
    }

    #[test]
    fn options_not_offered_go_with_their_padding() {
        let none = Offered::default();
        assert_eq!(build(&WINDOWS, none, None), [2, 4, 5, 0xb4]);
        let only_ws = Offered { window_scale: true, ..none };
        assert_eq!(build(&WINDOWS, only_ws, None), [2, 4, 5, 0xb4, 1, 3, 3, 8]);
        let sack_only = Offered { sack: true, ..none };
        assert_eq!(build(&LINUX, sack_only, Some(1)), [2, 4, 5, 0xb4, 4, 2, 0, 0], "EOL pads to four");
        let ts_no_clock = Offered::everything(1);
        assert_eq!(build(&[Mss(536), Timestamps], ts_no_clock, None), [2, 4, 2, 0x18], "no clock, no timestamps");
    }

    #[test]
    fn eol_padding_and_the_40_byte_cap() {
        let mac = [Mss(1460), Nop, WindowScale(6), Nop, Nop, Timestamps, SackPermitted, Eol];
        let b = build(&mac, Offered::everything(1), Some(2));
        assert_eq!(b.len(), 24);
        assert_eq!(&b[20..], [4, 2, 0, 0], "SACK, EOL, then EOL padding");
        let long = [Timestamps, Timestamps, Timestamps, Timestamps, Timestamps];
        assert!(build(&long, Offered::everything(1), Some(1)).len() <= MAX_OPTIONS);
    }
}
