//! `--iflist`: this network namespace's interfaces and routes, in the shape of nmap's `--iflist`.
//!
//! ```text
//! ************************INTERFACES************************
//! DEV  (SHORT) IP/MASK       TYPE     UP MTU   MAC
//! lo   (lo)    127.0.0.1/8   loopback up 65536
//! eth0 (eth0)  198.18.0.1/24 ethernet up 1500  02:00:00:00:00:01
//!
//! **************************ROUTES**************************
//! DST/MASK      DEV  METRIC GATEWAY
//! 198.18.0.0/24 eth0 0
//! 0.0.0.0/0     eth0 0      198.18.0.254
//! ```
//! One interface line per address (`(none)/0` for an interface without one); routes are the main table's
//! unicast routes, IPv4 then IPv6. Read over rtnetlink by tojimari-net; nothing is sent.

use std::fmt::Write as _;

use tojimari_net::{Interface, RouteEntry};

/// Both tables as text; pure, so the layout is testable with plain values.
pub fn render(interfaces: &[Interface], routes: &[RouteEntry]) -> String {
    let mut rows = vec![["DEV", "(SHORT)", "IP/MASK", "TYPE", "UP", "MTU", "MAC"].map(String::from).to_vec()];
    for i in interfaces {
        let kind = match i.link_type {
            _ if i.loopback => "loopback",
            1 => "ethernet",
            512 | 776 | 65534 => "point2point",
            _ => "other",
        };
        let mac = if i.mac == [0; 6] || i.loopback {
            String::new()
        } else {
            i.mac.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
        };
        let up = if i.up { "up" } else { "down" };
        let mut addrs: Vec<String> =
            i.addrs.iter().zip(&i.prefix_lens).map(|(a, p)| format!("{a}/{p}")).collect::<Vec<_>>();
        if addrs.is_empty() {
            addrs.push("(none)/0".into());
        }
        for addr in addrs {
            rows.push(vec![
                i.name.clone(),
                format!("({})", i.name),
                addr,
                kind.into(),
                up.into(),
                i.mtu.to_string(),
                mac.clone(),
            ]);
        }
    }
    let mut out = String::from("************************INTERFACES************************\n");
    table(&mut out, &rows);
    out.push_str("\n**************************ROUTES**************************\n");
    let mut rows = vec![["DST/MASK", "DEV", "METRIC", "GATEWAY"].map(String::from).to_vec()];
    for r in routes {
        let dev = r
            .ifindex
            .and_then(|ix| interfaces.iter().find(|i| i.index == ix))
            .map_or_else(|| "-".to_string(), |i| i.name.clone());
        rows.push(vec![
            format!("{}/{}", r.dst, r.prefix_len),
            dev,
            r.metric.to_string(),
            r.gateway.map(|g| g.to_string()).unwrap_or_default(),
        ]);
    }
    table(&mut out, &rows);
    out
}

/// Left-aligned columns one space apart; no trailing spaces.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let _ = write!(line, "{cell:<width$} ", width = widths[c]);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_and_routes_in_nmaps_shape() {
        let lo = Interface {
            index: 1,
            name: "lo".into(),
            mac: [0; 6],
            mtu: 65536,
            loopback: true,
            addrs: vec!["127.0.0.1".parse().unwrap()],
            prefix_lens: vec![8],
            up: true,
            link_type: 772,
        };
        let eth = Interface {
            index: 2,
            name: "eth0".into(),
            mac: [2, 0, 0, 0, 0, 1],
            mtu: 1500,
            loopback: false,
            addrs: vec![],
            prefix_lens: vec![],
            up: false,
            link_type: 1,
        };
        let routes = [RouteEntry {
            dst: "0.0.0.0".parse().unwrap(),
            prefix_len: 0,
            ifindex: Some(2),
            gateway: Some("198.18.0.254".parse().unwrap()),
            metric: 0,
        }];
        let text = render(&[lo, eth], &routes);
        assert_eq!(
            text,
            "************************INTERFACES************************\n\
             DEV  (SHORT) IP/MASK     TYPE     UP   MTU   MAC\n\
             lo   (lo)    127.0.0.1/8 loopback up   65536\n\
             eth0 (eth0)  (none)/0    ethernet down 1500  02:00:00:00:00:01\n\
             \n\
             **************************ROUTES**************************\n\
             DST/MASK  DEV  METRIC GATEWAY\n\
             0.0.0.0/0 eth0 0      198.18.0.254\n"
        );
    }
}
