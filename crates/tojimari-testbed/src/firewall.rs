//! Firewall presets: nftables rulesets that make ports of a target look filtered, rejected,
//! reset, stateless-firewalled or lossy. Load one with [`Target::firewall`](crate::Target::firewall)
//! (or [`Netns::nft`](crate::Netns::nft)).
//!
//! Each preset owns one `inet` table (IPv4 and IPv6 alike) named `tojimari_<preset>` with an
//! `input` chain, and flushes that table first, so presets combine and loading one again
//! replaces it. An empty port list gives a table without rules.

/// Drop TCP packets to `ports`: no answer at all, so a scan sees them *filtered*.
pub fn drop_tcp(ports: &[u16]) -> String {
    port_rule("drop_tcp", "tcp dport", ports, "drop")
}

/// Drop UDP packets to `ports` (no ICMP port-unreachable either).
pub fn drop_udp(ports: &[u16]) -> String {
    port_rule("drop_udp", "udp dport", ports, "drop")
}

/// Answer TCP and UDP packets to `ports` with ICMP(v6) destination-unreachable,
/// administratively prohibited (code 13 for IPv4, code 1 for IPv6): *filtered* with a reason.
/// Pair with [`Target::unlimit_icmp`](crate::Target::unlimit_icmp) so every probe gets one.
pub fn reject_admin_prohibited(ports: &[u16]) -> String {
    port_rule(
        "reject_admin_prohibited",
        "meta l4proto { tcp, udp } th dport",
        ports,
        "reject with icmpx admin-prohibited",
    )
}

/// Answer TCP packets to `ports` with a RST, as a closed port does, even where a listener is
/// open behind the firewall.
pub fn reject_tcp_reset(ports: &[u16]) -> String {
    port_rule("reject_tcp_reset", "tcp dport", ports, "reject with tcp reset")
}

/// A stateless firewall: drop only pure SYNs (SYN set, ACK clear) to `ports`; everything else
/// (ACK, FIN, NULL, Xmas probes) passes. A SYN scan sees *filtered*, an ACK scan *unfiltered*.
pub fn drop_pure_syn(ports: &[u16]) -> String {
    port_rule("drop_pure_syn", "tcp dport", ports, "tcp flags & (syn | ack) == syn drop")
}

/// Drop `percent`% of all incoming packets at random (0 drops nothing, 100 or more drops
/// everything).
/// IPv6 neighbour discovery is exempt, so addresses keep resolving; the loss applies to
/// probes and to the handshake packets of a connection alike.
pub fn random_loss(percent: u8) -> String {
    let mut rules = vec!["icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept".to_owned()];
    match percent {
        0 => {}
        // nft refuses `< 100` (the value must lie in 0..=99): drop unconditionally.
        100.. => rules.push("drop".to_owned()),
        _ => rules.push(format!("numgen random mod 100 < {percent} drop")),
    }
    table("random_loss", &rules)
}

/// Removes every preset (and any other rule) from the namespace: `flush ruleset`.
pub fn clear() -> String {
    "flush ruleset\n".to_owned()
}

/// `MATCH { p1, p2 } VERDICT` in table `tojimari_<name>`; no rule for an empty port list.
fn port_rule(name: &str, matcher: &str, ports: &[u16], verdict: &str) -> String {
    let rules = if ports.is_empty() {
        Vec::new()
    } else {
        let set = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        vec![format!("{matcher} {{ {set} }} {verdict}")]
    };
    table(name, &rules)
}

/// A table with one input-hook chain holding `rules`. Declaring and flushing the table first
/// makes loading it idempotent.
fn table(name: &str, rules: &[String]) -> String {
    let table = format!("inet tojimari_{name}");
    let mut text = format!(
        "table {table}\n\
         flush table {table}\n\
         table {table} {{\n\
         \tchain input {{\n\
         \t\ttype filter hook input priority 0; policy accept;\n"
    );
    for rule in rules {
        text.push_str("\t\t");
        text.push_str(rule);
        text.push('\n');
    }
    text.push_str("\t}\n}\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_tcp_lists_the_ports_in_one_set() {
        let text = drop_tcp(&[22, 80]);
        assert!(text.starts_with("table inet tojimari_drop_tcp\nflush table inet tojimari_drop_tcp\n"));
        assert!(text.contains("\t\ttcp dport { 22, 80 } drop\n"), "{text}");
    }

    #[test]
    fn empty_port_list_has_no_rule() {
        let text = reject_tcp_reset(&[]);
        assert!(!text.contains("dport"), "{text}");
        assert!(text.contains("hook input"));
    }

    #[test]
    fn presets_use_distinct_tables() {
        let names: Vec<String> = [
            drop_tcp(&[1]),
            drop_udp(&[1]),
            reject_admin_prohibited(&[1]),
            reject_tcp_reset(&[1]),
            drop_pure_syn(&[1]),
            random_loss(5),
        ]
        .iter()
        .map(|t| t.lines().next().unwrap().to_owned())
        .collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn random_loss_edges() {
        assert!(random_loss(250).contains("\t\tdrop\n"));
        assert!(random_loss(100).contains("\t\tdrop\n"));
        assert!(random_loss(5).contains("numgen random mod 100 < 5 drop"));
        assert!(!random_loss(0).contains("drop"));
    }
}
