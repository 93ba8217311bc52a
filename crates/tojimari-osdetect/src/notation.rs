//! Our notation for facts, shared by the database (docs/os-db.md), the fingerprint a report shows and the
//! matcher: a fact is a [`Value`] (a number or a word), TCP options and flags are written as letters.
//!
//! **Options** are written one letter per option, in wire order: `M` MSS, `N` NOP, `W` window scale,
//! `S` SACK permitted, `T` timestamps, `E` end of list, `U` any other kind, `X` a malformed option (the
//! walk stops there); `none` for no options. `MSTNW` is Linux's answer to a SYN offering everything.
//! The *detailed* form (fingerprints only) adds values: `M1460,S,T11,N,W7` (`T` followed by whether
//! TSval and TSecr are non-zero).
//!
//! **Flags** are written in the fixed order `S A R F P U E C` (SYN, ACK, RST, FIN, PSH, URG, ECE, CWR):
//! `AR` is a reset with ACK, `SA` a SYN/ACK; `none` for no flag.

use std::fmt;

use crate::reply::Opt;

/// One fact's value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Num(u32),
    Word(String),
}

impl Value {
    pub fn word(s: &str) -> Value {
        Value::Word(s.to_string())
    }

    pub fn yes_no(b: bool) -> Value {
        Value::word(if b { "yes" } else { "no" })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Num(n) => write!(f, "{n}"),
            Value::Word(w) => f.write_str(w),
        }
    }
}

/// The option letters of an options list (`MSTNW`, or `none`).
pub(crate) fn option_letters(opts: &[Opt]) -> String {
    let s: String = opts
        .iter()
        .map(|o| match o {
            Opt::Mss(_) => 'M',
            Opt::Nop => 'N',
            Opt::Ws(_) => 'W',
            Opt::Sack => 'S',
            Opt::Ts(..) => 'T',
            Opt::Eol => 'E',
            Opt::Other(_) => 'U',
            Opt::Broken => 'X',
        })
        .collect();
    if s.is_empty() { "none".into() } else { s }
}

/// The detailed form: `M1460,S,T11,N,W7`.
pub(crate) fn option_detail(opts: &[Opt]) -> String {
    let parts: Vec<String> = opts
        .iter()
        .map(|o| match o {
            Opt::Mss(v) => format!("M{v}"),
            Opt::Nop => "N".into(),
            Opt::Ws(s) => format!("W{s}"),
            Opt::Sack => "S".into(),
            Opt::Ts(a, b) => format!("T{}{}", u8::from(*a != 0), u8::from(*b != 0)),
            Opt::Eol => "E".into(),
            Opt::Other(k) => format!("U{k}"),
            Opt::Broken => "X".into(),
        })
        .collect();
    if parts.is_empty() { "none".into() } else { parts.join(",") }
}

/// Flag letters in the order `S A R F P U E C`.
pub fn flag_letters(flags: u8) -> String {
    const ORDER: [(u8, char); 8] =
        [(0x02, 'S'), (0x10, 'A'), (0x04, 'R'), (0x01, 'F'), (0x08, 'P'), (0x20, 'U'), (0x40, 'E'), (0x80, 'C')];
    let s: String = ORDER.iter().filter(|(bit, _)| flags & bit != 0).map(|&(_, c)| c).collect();
    if s.is_empty() { "none".into() } else { s }
}

/// The usual initial TTLs a TTL seen on arrival was counted down from.
pub fn initial_ttl(seen: u8) -> u8 {
    match seen {
        0..=32 => 32,
        33..=64 => 64,
        65..=128 => 128,
        _ => 255,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        let opts = [Opt::Mss(1460), Opt::Sack, Opt::Ts(5, 0), Opt::Nop, Opt::Ws(7)];
        assert_eq!(option_letters(&opts), "MSTNW");
        assert_eq!(option_detail(&opts), "M1460,S,T10,N,W7");
        assert_eq!(option_letters(&[]), "none");
        assert_eq!(option_letters(&[Opt::Other(30), Opt::Broken]), "UX");
        assert_eq!(flag_letters(0x14), "AR");
        assert_eq!(flag_letters(0x12), "SA");
        assert_eq!(flag_letters(0), "none");
        assert_eq!(flag_letters(0xff), "SARFPUEC");
    }

    #[test]
    fn ttls() {
        assert_eq!(initial_ttl(64), 64);
        assert_eq!(initial_ttl(63), 64);
        assert_eq!(initial_ttl(120), 128);
        assert_eq!(initial_ttl(250), 255);
        assert_eq!(initial_ttl(1), 32);
    }
}
