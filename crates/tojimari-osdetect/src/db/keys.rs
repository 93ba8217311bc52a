//! The fact keys an entry may use: what values each takes and how much agreeing on it weighs by default
//! (an `@N` at the end of a fact line overrides the weight). docs/os-db.md has the same table in prose.

use super::pattern::{Alt, Pattern};

/// What values a key takes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Num,
    /// A number or `none` (an option absent).
    NumOrNone,
    YesNo,
    /// Option letters (`MSTNW`) or `none`.
    Options,
    /// Flag letters (`AR`) or `none`.
    Flags,
    /// One of a fixed set of words.
    Words(&'static [&'static str]),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub kind: Kind,
    pub weight: u32,
}

const IDS: &[&str] = &["zero", "const", "incr", "incr2", "swapped", "randpos", "random", "unknown"];
const TS: &[&str] = &["none", "zero", "2hz", "100hz", "200hz", "1000hz", "other", "random"];
const ECN: &[&str] = &["ece", "ece-cwr", "cwr", "none", "silent"];
const SEQ: &[&str] = &["zero", "ack", "ack+1", "other"];
const ACK: &[&str] = &["zero", "seq", "seq+1", "other"];
const SAME: &[&str] = &["same", "changed"];
const CK: &[&str] = &["good", "zero", "bad"];
const UCK: &[&str] = &["same", "zero", "changed"];
const RUD: &[&str] = &["intact", "none", "bad"];
const UNUSED: &[&str] = &["zero", "nonzero"];
const IEDF: &[&str] = &["no", "yes", "echo", "other"];
const IECODE: &[&str] = &["zero", "echo", "other"];

/// The kind and default weight of `key`, `None` for a key the format does not have.
pub fn info(key: &str) -> Option<KeyInfo> {
    use Kind::*;
    let k = |kind, weight| Some(KeyInfo { kind, weight });
    if let Some(rest) = key.strip_prefix("passive.") {
        let (_, field) = rest.split_once('.').filter(|(side, _)| matches!(*side, "syn" | "synack"))?;
        return match field {
            "ttl" => k(Num, 4),
            "win" => k(Num, 3),
            "opts" => k(Options, 4),
            "df" => k(YesNo, 2),
            "ws" => k(NumOrNone, 2),
            "mss" => k(NumOrNone, 1),
            _ => None,
        };
    }
    if let Some((t, field)) = key.split_once('.').filter(|(t, _)| matches!(*t, "t2" | "t3" | "t4" | "t5" | "t6" | "t7"))
    {
        let _ = t;
        return match field {
            "reply" => k(YesNo, 2),
            "flags" => k(Flags, 2),
            "seq" => k(Words(SEQ), 1),
            "ack" => k(Words(ACK), 1),
            "win" => k(Num, 1),
            "df" => k(YesNo, 1),
            "opts" => k(Options, 1),
            "data" => k(YesNo, 1),
            _ => None,
        };
    }
    match key {
        "ttl" => k(Num, 6),
        "df" => k(YesNo, 2),
        "win.s1" => k(Num, 3),
        "win.s2" | "win.s3" | "win.s4" | "win.s5" | "win.s6" | "win.ecn" => k(Num, 1),
        "opts.s1" => k(Options, 5),
        "opts.s2" | "opts.s3" | "opts.s4" | "opts.s5" | "opts.s6" => k(Options, 1),
        "opts.ecn" => k(Options, 2),
        "mss" => k(NumOrNone, 1),
        "ws" => k(NumOrNone, 3),
        "ts" => k(Words(TS), 3),
        "isn.gcd" | "isn.isr" | "isn.sp" => k(Num, 1),
        "ipid.open" => k(Words(IDS), 3),
        "ipid.closed" | "ipid.icmp" => k(Words(IDS), 2),
        "ecn" => k(Words(ECN), 2),
        "u1.reply" | "u1.df" => k(YesNo, 1),
        "u1.iplen" => k(Num, 2),
        "u1.ripl" | "u1.rid" => k(Words(SAME), 1),
        "u1.ripck" => k(Words(CK), 1),
        "u1.ruck" => k(Words(UCK), 1),
        "u1.rud" => k(Words(RUD), 1),
        "u1.unused" => k(Words(UNUSED), 1),
        "ie.reply" => k(YesNo, 1),
        "ie.df" => k(Words(IEDF), 2),
        "ie.code" => k(Words(IECODE), 2),
        _ => None,
    }
}

/// Checks that every alternative of `pattern` is a value `kind` can take.
pub fn check(kind: Kind, pattern: &Pattern) -> Result<(), String> {
    for alt in &pattern.0 {
        let ok = match (kind, alt) {
            (Kind::Num | Kind::NumOrNone, Alt::Range(..)) => true,
            (Kind::NumOrNone, Alt::Word(w)) => w == "none",
            (Kind::YesNo, Alt::Word(w)) => w == "yes" || w == "no",
            (Kind::Options, Alt::Word(w)) => w == "none" || w.chars().all(|c| "MNWSTEUX".contains(c)),
            (Kind::Flags, Alt::Word(w)) => w == "none" || w.chars().all(|c| "SARFPUEC".contains(c)),
            (Kind::Words(set), Alt::Word(w)) => set.contains(&w.as_str()),
            _ => false,
        };
        if !ok {
            let shown = match alt {
                Alt::Range(a, b) if a == b => a.to_string(),
                Alt::Range(a, b) => format!("{a}-{b}"),
                Alt::Word(w) => w.clone(),
            };
            return Err(format!("`{shown}` is not a value this key takes ({})", describe(kind)));
        }
    }
    Ok(())
}

fn describe(kind: Kind) -> String {
    match kind {
        Kind::Num => "a number or range".into(),
        Kind::NumOrNone => "a number, range or `none`".into(),
        Kind::YesNo => "`yes` or `no`".into(),
        Kind::Options => "option letters MNWSTEUX or `none`".into(),
        Kind::Flags => "flag letters SARFPUEC or `none`".into(),
        Kind::Words(set) => format!("one of {}", set.join(", ")),
    }
}

/// Whether `key` reads a field only IPv4 has (DF, IP ID, the IP checksum): over IPv6 it is never measured.
pub fn ipv4_only(key: &str) -> bool {
    matches!(key, "df" | "u1.df" | "u1.rid" | "u1.ripck" | "ie.df")
        || key.starts_with("ipid.")
        || (key.starts_with('t') && key.ends_with(".df"))
}

/// The total default weight of every active key a full set of answers can be compared on: over IPv6
/// ([`ipv4_only`] keys left out) or over IPv4.
pub fn full_active_weight(v6: bool) -> u32 {
    let mut keys: Vec<String> = [
        "ttl",
        "df",
        "win.s1",
        "win.s2",
        "win.s3",
        "win.s4",
        "win.s5",
        "win.s6",
        "win.ecn",
        "opts.s1",
        "opts.s2",
        "opts.s3",
        "opts.s4",
        "opts.s5",
        "opts.s6",
        "opts.ecn",
        "mss",
        "ws",
        "ts",
        "isn.gcd",
        "isn.isr",
        "isn.sp",
        "ipid.open",
        "ipid.closed",
        "ipid.icmp",
        "ecn",
        "u1.reply",
        "u1.df",
        "u1.iplen",
        "u1.ripl",
        "u1.rid",
        "u1.ripck",
        "u1.ruck",
        "u1.rud",
        "u1.unused",
        "ie.reply",
        "ie.df",
        "ie.code",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for t in 2..=7 {
        for f in ["reply", "flags", "seq", "ack", "win", "df", "opts", "data"] {
            keys.push(format!("t{t}.{f}"));
        }
    }
    keys.iter().filter(|k| !(v6 && ipv4_only(k))).filter_map(|k| info(k)).map(|i| i.weight).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_kinds() {
        assert_eq!(info("ttl").unwrap().weight, 6);
        assert!(info("t5.flags").is_some());
        assert!(info("t8.flags").is_none());
        assert!(info("passive.synack.opts").is_some());
        assert!(info("passive.other.opts").is_none());
        assert!(info("bogus").is_none());
        assert!(check(Kind::Options, &Pattern::parse("MSTNW|none").unwrap()).is_ok());
        assert!(check(Kind::Options, &Pattern::parse("MSZ").unwrap()).is_err());
        assert!(check(Kind::Num, &Pattern::parse("yes").unwrap()).is_err());
        assert!(check(Kind::Words(IDS), &Pattern::parse("incremental").unwrap()).is_err());
        assert!(full_active_weight(false) > 100);
        // IPv6 leaves out DF (top level, t2-t7, U1, the echoes), the three IP ID classes and two quote facts.
        let v4_only = ["df", "u1.df", "u1.rid", "u1.ripck", "ie.df", "ipid.open", "ipid.closed", "ipid.icmp"];
        let t_df: u32 = (2..=7).map(|t| info(&format!("t{t}.df")).unwrap().weight).sum();
        let gone: u32 = v4_only.iter().map(|k| info(k).unwrap().weight).sum::<u32>() + t_df;
        assert_eq!(full_active_weight(true), full_active_weight(false) - gone);
        assert!(!ipv4_only("ttl") && !ipv4_only("t5.flags") && !ipv4_only("u1.iplen") && !ipv4_only("ie.code"));
    }
}
