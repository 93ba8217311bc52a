//! nmap's firewall/IDS evasion and spoofing options (`-f`, `--mtu`, `-D`, `-S`, `-g`, `--spoof-mac`,
//! `--data`, `--data-string`, `--data-length`, `--ip-options`, `--ttl`, `--badsum`, `--adler32`), read into the
//! raw engine's [`Evasion`] (docs/evasion.md). They shape raw port probes, so they need a raw scan; except
//! `--adler32`, which also changes `-PY` pings and, as in nmap, changes nothing when no SCTP probe is sent.

use std::net::{IpAddr, Ipv4Addr};

use clap::{ArgAction, Args};
use tojimari_engine::raw::Evasion;
use tojimari_packet::Shaping;
use tojimari_packet::shape::{MAX_DATA, MAX_IP_OPTIONS};
use tojimari_wire::SctpChecksum;

use crate::plan::UsageError;

/// The options host discovery's raw pings take (see `Shaping::for_pings`), so that `-sn` accepts them.
pub const PING_SHAPING: [&str; 2] = ["--ttl", "-D"];

/// Most decoys (nmap's limit is 128 addresses, ours included).
pub const MAX_DECOYS: usize = 127;

/// The options, as typed.
#[derive(Clone, Debug, Default, Args)]
pub struct EvasionArgs {
    /// Fragment raw probes into IPv4 fragments of 8 bytes of payload; -ff: 16 bytes [-f].
    #[arg(short = 'f', action = ArgAction::Count)]
    pub fragment: u8,
    /// Fragment raw probes into fragments of N bytes of payload (a multiple of 8).
    #[arg(long, value_name = "N")]
    pub mtu: Option<String>,
    /// Send each probe also from these decoy addresses: ADDR,ADDR,ME,RND,RND:N (ME: where ours goes; RND:
    /// a random public address) [-D].
    #[arg(short = 'D', value_name = "DECOYS")]
    pub decoys: Option<String>,
    /// Probes say they come from ADDRESS (answers reach you only if it is yours or passes you; use -e) [-S].
    #[arg(short = 'S', value_name = "ADDRESS")]
    pub source: Option<String>,
    /// Every probe leaves from this source port [-g].
    #[arg(short = 'g', long = "source-port", value_name = "PORT")]
    pub source_port: Option<String>,
    /// Frames leave from this MAC address: a full MAC, a hex prefix (the rest random) or 0 (all random).
    #[arg(long = "spoof-mac", value_name = "MAC")]
    pub spoof_mac: Option<String>,
    /// Append these bytes (hex: deadbeef, 0xdeadbeef or \xde\xad) to TCP probes; UDP probes carry them
    /// instead of the port's payload.
    #[arg(long, value_name = "HEX")]
    pub data: Option<String>,
    /// As --data, with this text.
    #[arg(long = "data-string", value_name = "TEXT")]
    pub data_string: Option<String>,
    /// As --data, with N random bytes (at most 1400).
    #[arg(long = "data-length", value_name = "N")]
    pub data_length: Option<String>,
    /// IPv4 options: R (record route), T (timestamps), U (timestamps and addresses), L ADDR... (loose
    /// source route), S ADDR... (strict), or bytes as \x07\x03...
    #[arg(long = "ip-options", value_name = "OPTIONS")]
    pub ip_options: Option<String>,
    /// IP time-to-live (IPv6 hop limit) of probes, 0-255.
    #[arg(long, value_name = "N")]
    pub ttl: Option<String>,
    /// Probes with a wrong TCP/UDP checksum: whoever answers did not check it (a firewall, a middlebox).
    #[arg(long)]
    pub badsum: bool,
    /// SCTP probes (-sY, -sZ, -PY, -sO's protocol 132) carry RFC 2960's Adler-32 checksum instead of CRC32c:
    /// only stacks older than RFC 3309 answer them.
    #[arg(long)]
    pub adler32: bool,
}

impl EvasionArgs {
    /// The options given, by nmap's spelling (for messages).
    pub fn given(&self) -> Vec<&'static str> {
        [
            (self.fragment > 0, "-f"),
            (self.mtu.is_some(), "--mtu"),
            (self.decoys.is_some(), "-D"),
            (self.source.is_some(), "-S"),
            (self.source_port.is_some(), "-g"),
            (self.spoof_mac.is_some(), "--spoof-mac"),
            (self.data.is_some(), "--data"),
            (self.data_string.is_some(), "--data-string"),
            (self.data_length.is_some(), "--data-length"),
            (self.ip_options.is_some(), "--ip-options"),
            (self.ttl.is_some(), "--ttl"),
            (self.badsum, "--badsum"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// A source of random numbers for [`evasion`], seeded by the process's hasher keys.
pub fn random() -> impl FnMut() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    let mut n = 0u64;
    move || {
        let mut h = state.build_hasher();
        h.write_u64(n);
        n += 1;
        h.finish()
    }
}

/// Reads the options; `random` gives the bytes of `--data-length` and the `RND` decoys. `ipv6`: the scan
/// is of IPv6 targets (`-6`), where options and fragments do not exist.
pub fn evasion(args: &EvasionArgs, ipv6: bool, random: &mut dyn FnMut() -> u64) -> Result<Evasion, UsageError> {
    let mut shaping =
        Shaping { ttl: args.ttl.as_deref().map(ttl).transpose()?, badsum: args.badsum, ..Shaping::default() };
    shaping.data = data(args, random)?;
    if let Some(text) = &args.ip_options {
        shaping.ip_options = ip_options(text)?;
    }
    shaping.fragment = match (&args.mtu, args.fragment) {
        (Some(text), _) => Some(mtu(text)?),
        (None, 0) => None,
        (None, n) => Some(8 * usize::from(n.min(2))),
    };
    if ipv6 && (shaping.fragment.is_some() || !shaping.ip_options.is_empty()) {
        return Err(UsageError::new(
            "-f, --mtu and --ip-options shape IPv4 packets only",
            "drop them for an IPv6 scan (-6)",
        ));
    }
    if let Some(list) = &args.decoys {
        let (decoys, me_at) = decoys(list, random)?;
        shaping.decoys = decoys;
        shaping.me_at = me_at;
    }
    let source = args.source.as_deref().map(source).transpose()?;
    let source_port = args.source_port.as_deref().map(source_port).transpose()?;
    let source_mac = args.spoof_mac.as_deref().map(|m| spoof_mac(m, random)).transpose()?;
    let sctp_checksum = if args.adler32 { SctpChecksum::Adler32 } else { SctpChecksum::Crc32c };
    Ok(Evasion { shaping, source, source_port, source_mac, sctp_checksum })
}

fn number<T: std::str::FromStr>(text: &str, option: &str, range: &str) -> Result<T, UsageError> {
    text.trim().parse().map_err(|_| {
        UsageError::new(format!("{option} takes a number {range}, not \"{text}\""), format!("for example {option} 8"))
    })
}

fn ttl(text: &str) -> Result<u8, UsageError> {
    number(text, "--ttl", "from 0 to 255")
}

fn mtu(text: &str) -> Result<usize, UsageError> {
    let n: usize = number(text, "--mtu", "(a multiple of 8)")?;
    if n == 0 || !n.is_multiple_of(8) || n > 1480 {
        return Err(UsageError::new(
            format!("--mtu {n} is not a fragment size: a multiple of 8 from 8 to 1480"),
            "for example --mtu 16 (-f is 8, -ff 16)",
        ));
    }
    Ok(n)
}

fn source(text: &str) -> Result<IpAddr, UsageError> {
    text.trim().parse().map_err(|_| {
        UsageError::new(format!("-S takes an IP address, not \"{text}\""), "for example -S 198.18.0.9 -e eth0")
    })
}

fn source_port(text: &str) -> Result<u16, UsageError> {
    let port: u16 = number(text, "-g", "from 1 to 65535")?;
    if port == 0 {
        return Err(UsageError::new("-g 0 is not a source port", "give a port from 1 to 65535, for example -g 53"));
    }
    Ok(port)
}

/// `--spoof-mac`: `0` (random), a full MAC, or its first bytes (the rest random), in hex with `:` or `-`
/// between the bytes or none. nmap also takes vendor names, from its own table of prefixes, which tojimari
/// does not have: a name is refused. A random MAC is unicast and locally administered; a given one
/// must be unicast and not all zeros (a bridge drops frames from such a source).
fn spoof_mac(text: &str, random: &mut dyn FnMut() -> u64) -> Result<[u8; 6], UsageError> {
    let example =
        "for example --spoof-mac 02:00:5e:10:20:30, a prefix such as --spoof-mac 02:00:5e, or 0 for a random MAC";
    let t = text.trim();
    let mut mac = random().to_be_bytes()[..6].try_into().unwrap_or([2, 0, 0, 0, 0, 1]);
    if t == "0" {
        mac[0] = (mac[0] & 0xfc) | 0x02;
        return Ok(mac);
    }
    let hex: String = t.chars().filter(|c| *c != ':' && *c != '-').collect();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        let vendor = t.chars().any(|c| c.is_ascii_alphabetic() && !c.is_ascii_hexdigit());
        let message = if vendor {
            format!(
                "--spoof-mac takes a MAC address, a hex prefix or 0, not the vendor name \"{t}\" (tojimari has no \
                 table of vendors' prefixes)"
            )
        } else {
            format!("--spoof-mac takes a MAC address, a hex prefix or 0, not \"{t}\"")
        };
        return Err(UsageError::new(message, example));
    }
    if !hex.len().is_multiple_of(2) || hex.len() > 12 {
        return Err(UsageError::new(
            format!("--spoof-mac \"{t}\" is not whole bytes of a MAC address (2 to 12 hex digits)"),
            example,
        ));
    }
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let byte = std::str::from_utf8(pair).ok().and_then(|p| u8::from_str_radix(p, 16).ok());
        mac[i] = byte.unwrap_or(0);
    }
    if mac[0] & 1 == 1 {
        return Err(UsageError::new(
            format!("--spoof-mac {t} is a multicast address, which no frame may come from"),
            "the first byte must be even, for example --spoof-mac 02:00:5e",
        ));
    }
    if mac == [0; 6] {
        return Err(UsageError::new("--spoof-mac 00:00:00:00:00:00 is not a usable source address", example));
    }
    Ok(mac)
}

/// `--data`, `--data-string` or `--data-length` (one of them).
fn data(args: &EvasionArgs, random: &mut dyn FnMut() -> u64) -> Result<Option<Vec<u8>>, UsageError> {
    let given = [args.data.is_some(), args.data_string.is_some(), args.data_length.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(UsageError::new(
            "--data, --data-string and --data-length contradict each other",
            "give one of them",
        ));
    }
    let bytes = if let Some(hex) = &args.data {
        Some(parse_hex(hex).ok_or_else(|| {
            UsageError::new(
                format!("--data \"{hex}\" is not hex bytes"),
                "for example --data deadbeef or --data 0x0102",
            )
        })?)
    } else if let Some(text) = &args.data_string {
        Some(text.as_bytes().to_vec())
    } else if let Some(n) = &args.data_length {
        let n: usize = number(n, "--data-length", "from 0 to 1400")?;
        if n > MAX_DATA {
            return Err(UsageError::new(
                format!("--data-length {n} is more than a probe carries (at most {MAX_DATA})"),
                "give at most 1400; the probe must fit a 1500-byte link",
            ));
        }
        Some((0..n).map(|_| random() as u8).collect())
    } else {
        None
    };
    if bytes.as_ref().is_some_and(|b| b.len() > MAX_DATA) {
        return Err(UsageError::new(
            format!("the data is longer than a probe carries (at most {MAX_DATA} bytes)"),
            "give at most 1400 bytes",
        ));
    }
    Ok(bytes)
}

/// Hex bytes: `deadbeef`, `0xdeadbeef`, `\xde\xad`, with spaces or colons allowed between bytes.
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    let digits: String = t.replace("\\x", "").chars().filter(|c| !matches!(c, ' ' | ':')).collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok()).collect()
}

/// nmap's `--ip-options` notation.
fn ip_options(text: &str) -> Result<Vec<u8>, UsageError> {
    let bad = |why: String| {
        UsageError::new(
            format!("--ip-options \"{text}\": {why}"),
            "give R, T, U, \"L ADDR ...\", \"S ADDR ...\" or bytes as \\x07\\x03...",
        )
    };
    let t = text.trim();
    let mut words = t.split_whitespace();
    let options = match words.next() {
        Some("R") => {
            // Record route with room for nine addresses (the most 40 bytes hold).
            let mut o = vec![7, 39, 4];
            o.resize(39, 0);
            o
        }
        Some(w @ ("T" | "U")) => {
            // Timestamps (flag 0), or timestamps with addresses (flag 1).
            let mut o = vec![68, 40, 5, u8::from(w == "U")];
            o.resize(40, 0);
            o
        }
        Some(w @ ("L" | "S")) => {
            let hops: Vec<Ipv4Addr> = words
                .map(|a| a.parse::<Ipv4Addr>().map_err(|_| bad(format!("\"{a}\" is not an IPv4 address"))))
                .collect::<Result<_, _>>()?;
            if hops.is_empty() || hops.len() > 9 {
                return Err(bad("a source route takes 1 to 9 addresses".into()));
            }
            let mut o = vec![if w == "L" { 131 } else { 137 }, (3 + 4 * hops.len()) as u8, 4];
            hops.iter().for_each(|h| o.extend_from_slice(&h.octets()));
            o
        }
        Some(_) if t.starts_with("\\x") => parse_hex(t).ok_or_else(|| bad("not \\x bytes".into()))?,
        _ => return Err(bad("not an option nmap's notation names".into())),
    };
    if options.len() > MAX_IP_OPTIONS {
        return Err(bad(format!("{} bytes, more than the {MAX_IP_OPTIONS} an IPv4 header holds", options.len())));
    }
    Ok(options)
}

/// `-D`: the decoys and where ours goes among them (without `ME`: last, as nmap).
fn decoys(list: &str, random: &mut dyn FnMut() -> u64) -> Result<(Vec<IpAddr>, usize), UsageError> {
    let mut decoys = Vec::new();
    let mut me_at = None;
    for item in list.split(',').map(str::trim) {
        match item {
            "ME" => {
                if me_at.replace(decoys.len()).is_some() {
                    return Err(UsageError::new("-D names ME twice", "ME marks where your own probe goes, once"));
                }
            }
            "RND" => decoys.push(random_public(random)),
            _ if item.starts_with("RND:") => {
                let n: usize = number(&item[4..], "-D RND:", "of decoys")?;
                if n > MAX_DECOYS {
                    return Err(UsageError::new(format!("-D RND:{n} is too many decoys"), "at most 127"));
                }
                (0..n).for_each(|_| decoys.push(random_public(random)));
            }
            _ => decoys.push(item.parse().map_err(|_| {
                UsageError::new(
                    format!("-D: \"{item}\" is not an IP address, ME or RND[:N]"),
                    "for example -D 198.18.0.7,ME,198.18.0.8",
                )
            })?),
        }
        if decoys.len() > MAX_DECOYS {
            return Err(UsageError::new("-D lists more than 127 decoys", "give fewer"));
        }
    }
    let me_at = me_at.unwrap_or(decoys.len());
    Ok((decoys, me_at))
}

/// A random address a decoy may have, as nmap's RND: IPv4, not private, loopback, link-local, multicast,
/// reserved, documentation or the test ranges.
fn random_public(random: &mut dyn FnMut() -> u64) -> IpAddr {
    loop {
        let a = Ipv4Addr::from(random() as u32);
        let o = a.octets();
        let special = a.is_private()
            || a.is_loopback()
            || a.is_link_local()
            || a.is_multicast()
            || a.is_broadcast()
            || a.is_documentation()
            || a.is_unspecified()
            || o[0] == 0
            || o[0] >= 240
            || (o[0] == 100 && (o[1] & 0xc0) == 64)
            || (o[0] == 198 && (o[1] & 0xfe) == 18);
        if !special {
            return IpAddr::V4(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> impl FnMut() -> u64 {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    fn read(args: EvasionArgs) -> Result<Evasion, UsageError> {
        evasion(&args, false, &mut counter())
    }

    #[test]
    fn nothing_given_changes_nothing() {
        let e = read(EvasionArgs::default()).unwrap();
        assert!(e.shaping.is_plain() && e.source.is_none() && e.source_port.is_none() && e.source_mac.is_none());
        assert!(EvasionArgs::default().given().is_empty());
    }

    #[test]
    fn fragments_ttl_ports_and_sources() {
        let e = read(EvasionArgs {
            fragment: 2,
            ttl: Some("7".into()),
            source_port: Some("53".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(e.shaping.fragment, Some(16));
        assert_eq!(e.shaping.ttl, Some(7));
        assert_eq!(e.source_port, Some(53));
        let e = read(EvasionArgs { fragment: 1, mtu: Some("24".into()), ..Default::default() }).unwrap();
        assert_eq!(e.shaping.fragment, Some(24), "--mtu wins over -f");
        for bad in ["0", "12", "x", "2000"] {
            let e = read(EvasionArgs { mtu: Some(bad.into()), ..Default::default() }).unwrap_err();
            assert!(e.message.starts_with("--mtu"), "{}", e.message);
        }
        assert!(read(EvasionArgs { ttl: Some("256".into()), ..Default::default() }).is_err());
        assert!(read(EvasionArgs { source_port: Some("0".into()), ..Default::default() }).is_err());
        assert!(read(EvasionArgs { source: Some("nope".into()), ..Default::default() }).is_err());
        let e = evasion(&EvasionArgs { fragment: 1, ..Default::default() }, true, &mut counter()).unwrap_err();
        assert!(e.message.contains("IPv4 packets only"), "{}", e.message);
    }

    #[test]
    fn data_in_its_three_spellings() {
        let hex = |t: &str| read(EvasionArgs { data: Some(t.into()), ..Default::default() }).map(|e| e.shaping.data);
        assert_eq!(hex("deadbeef").unwrap(), Some(vec![0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(hex("0x0102").unwrap(), Some(vec![1, 2]));
        assert_eq!(hex("\\xde\\xad").unwrap(), Some(vec![0xde, 0xad]));
        assert!(hex("abc").is_err() && hex("zz").is_err() && hex("").is_err());
        let e = read(EvasionArgs { data_string: Some("hi".into()), ..Default::default() }).unwrap();
        assert_eq!(e.shaping.data, Some(b"hi".to_vec()));
        let e = read(EvasionArgs { data_length: Some("25".into()), ..Default::default() }).unwrap();
        assert_eq!(e.shaping.data.map(|d| d.len()), Some(25));
        assert!(read(EvasionArgs { data_length: Some("1401".into()), ..Default::default() }).is_err());
        let both = EvasionArgs { data: Some("00".into()), data_string: Some("x".into()), ..Default::default() };
        assert!(read(both).unwrap_err().message.contains("contradict"));
    }

    #[test]
    fn ip_options_in_nmaps_notation() {
        let o = |t: &str| {
            read(EvasionArgs { ip_options: Some(t.into()), ..Default::default() }).map(|e| e.shaping.ip_options)
        };
        let r = o("R").unwrap();
        assert_eq!((r[0], r[1], r[2], r.len()), (7, 39, 4, 39));
        let u = o("U").unwrap();
        assert_eq!((u[0], u[1], u[3], u.len()), (68, 40, 1, 40));
        assert_eq!(o("L 198.18.0.1 198.18.0.2").unwrap(), vec![131, 11, 4, 198, 18, 0, 1, 198, 18, 0, 2]);
        assert_eq!(o("S 198.18.0.1").unwrap()[0], 137);
        assert_eq!(o("\\x01\\x01").unwrap(), vec![1, 1]);
        assert!(o("Q").is_err() && o("L").is_err() && o("L nope").is_err());
        assert!(o(&format!("\\x{}", "01".repeat(41))).is_err());
    }

    #[test]
    fn decoys_with_me_and_random_public_addresses() {
        let d = |t: &str| read(EvasionArgs { decoys: Some(t.into()), ..Default::default() });
        let e = d("198.18.0.7,ME,198.18.0.8").unwrap();
        assert_eq!(e.shaping.decoys.len(), 2);
        assert_eq!(e.shaping.me_at, 1);
        let e = d("198.18.0.7,198.18.0.8").unwrap();
        assert_eq!(e.shaping.me_at, 2, "without ME, ours goes last");
        let e = d("RND:50").unwrap();
        assert_eq!(e.shaping.decoys.len(), 50);
        for a in &e.shaping.decoys {
            let IpAddr::V4(v4) = a else { panic!() };
            assert!(!v4.is_private() && !v4.is_multicast() && !v4.is_loopback(), "{a}");
        }
        assert!(d("ME,ME").is_err() && d("host.example").is_err() && d("RND:500").is_err());
    }

    #[test]
    fn spoof_mac_takes_a_mac_a_prefix_or_0_and_refuses_vendor_names() {
        let mac = |t: &str| read(EvasionArgs { spoof_mac: Some(t.into()), ..Default::default() }).map(|e| e.source_mac);
        assert_eq!(mac("02:00:5e:10:20:30").unwrap(), Some([2, 0, 0x5e, 0x10, 0x20, 0x30]));
        assert_eq!(mac("02-00-5E-10-20-30").unwrap(), Some([2, 0, 0x5e, 0x10, 0x20, 0x30]));
        assert_eq!(mac("deadbeefcafe").unwrap(), Some([0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe]));
        let prefix = mac("00:20:f2").unwrap().unwrap();
        assert_eq!(prefix[..3], [0, 0x20, 0xf2]);
        let random = mac("0").unwrap().unwrap();
        assert_eq!(random[0] & 3, 2, "a random MAC is unicast and locally administered: {random:02x?}");
        let fresh = || {
            let args = EvasionArgs { spoof_mac: Some("0".into()), ..Default::default() };
            evasion(&args, false, &mut super::random()).unwrap().source_mac
        };
        assert_ne!(fresh(), fresh(), "a fresh one each run");
        for bad in ["Apple", "cisco", "0x", "123", "01:02:03:04:05:06:07", "01:00:5e", "00:00:00:00:00:00", ""] {
            let e = mac(bad).unwrap_err();
            assert!(e.to_string().contains("--spoof-mac"), "{bad}: {e}");
        }
        assert!(mac("Apple").unwrap_err().to_string().contains("vendor name"));
    }
}
