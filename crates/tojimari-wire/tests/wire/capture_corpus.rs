//! Regenerates `tests/corpus/frames.txt`, the corpus of real frames that `corpus.rs` reads.
//!
//! Ignored by default (needs root, tcpdump and nmap):
//! `cargo test -p tojimari-wire --test wire capture_corpus -- --ignored --nocapture`.
//! On a one-target test bed, tcpdump records in the scanner namespace (198.18.0.1, 2001:db8:18::1) on `eth0`
//! (Ethernet) and on `any` as Linux cooked v1 and v2, while nmap and tojimari (when built in
//! `target/debug`) probe the target (198.18.0.2, 2001:db8:18::2): ARP, NDP, ICMP/ICMPv6 echo, TCP SYN to an
//! open and a closed port (SYN/ACK, RST), UDP to a closed port (ICMP/ICMPv6 port unreachable). tcpdump's own
//! one-line decoding of each kept frame becomes its comment: the independent reading the corpus test checks
//! the wire layer against.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::thread::sleep;
use std::time::Duration;

use tojimari_testbed::{TestBed, testbed_or_skip};

/// Frames kept per kind of tcpdump line (addresses and numbers blanked), and in all.
const PER_KIND: usize = 2;
const MAX_FRAMES: usize = 48;

fn corpus_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/frames.txt")
}

/// One tcpdump writing `link` frames of `interface` to `file`.
fn start_dump(bed: &TestBed, interface: &str, link: &str, file: &Path) -> Child {
    let mut dump = bed.scanner().command("tcpdump");
    dump.args(["-i", interface, "-y", link, "-s", "512", "-U", "-n", "-w"]).arg(file);
    dump.spawn().expect("tcpdump")
}

/// The records of a classic pcap file (microsecond or nanosecond, either byte order): link type and frames.
fn read_pcap(bytes: &[u8]) -> (u32, Vec<Vec<u8>>) {
    let magic = u32::from_le_bytes(bytes[0..4].try_into().unwrap());
    let le = matches!(magic, 0xa1b2_c3d4 | 0xa1b2_3c4d);
    let word = |at: usize| {
        let b: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        if le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) }
    };
    let link = word(20);
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let len = word(at + 8) as usize;
        frames.push(bytes[at + 16..at + 16 + len].to_vec());
        at += 16 + len;
    }
    (link, frames)
}

/// tcpdump's one-line reading of every record of `file`, in order.
fn decode(file: &Path) -> Vec<String> {
    let out = Command::new("tcpdump").args(["-r"]).arg(file).args(["-nn", "-e", "-t"]).output().expect("tcpdump -r");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

/// A tcpdump line with each run of address and number characters blanked to one `#`, so frames of the same
/// kind share one key.
fn kind(line: &str) -> String {
    let mut key = String::new();
    for c in line.chars() {
        let number = c.is_ascii_digit() || ":.".contains(c);
        if !number {
            key.push(c);
        } else if !key.ends_with('#') {
            key.push('#');
        }
    }
    key
}

#[test]
#[ignore = "regenerates the corpus; needs root, tcpdump and nmap"]
fn capture_corpus() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    target.unlimit_icmp().expect("unlimit icmp");
    let _tcp = target.listen_tcp(&[8080]).expect("tcp listener");
    let (t4, t6) = (target.v4, target.v6);
    let dir = std::env::temp_dir().join(format!("tjm-wire-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dumps = [("eth", "eth0", "EN10MB"), ("sll", "any", "LINUX_SLL"), ("sll2", "any", "LINUX_SLL2")];
    let mut children: Vec<(&str, PathBuf, Child)> = dumps
        .iter()
        .map(|&(name, interface, link)| {
            let file = dir.join(format!("{name}.pcap"));
            let child = start_dump(&bed, interface, link, &file);
            (name, file, child)
        })
        .collect();
    sleep(Duration::from_millis(1500));
    let tojimari = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/tojimari");
    let mut script = format!(
        "ip neigh flush all; nmap -n -sn -PE --disable-arp-ping {t4}; \
         nmap -n -Pn -sS --max-retries 0 -p 8080,8081 {t4}; \
         nmap -n -Pn -sU --max-retries 0 -p 9999 {t4}; \
         nmap -n -Pn -sT -p 8080 {t4}; \
         ip -6 neigh flush all; nmap -6 -n -sn -PE --disable-arp-ping {t6}; \
         nmap -6 -n -Pn -sS --max-retries 0 -p 8080,8081 {t6}; \
         nmap -6 -n -Pn -sU --max-retries 0 -p 9999 {t6}; "
    );
    if tojimari.exists() {
        let bin = tojimari.display();
        let _ = write!(script, "{bin} scan -n -Pn -sS -p 8080,8081 {t4}; {bin} scan -n -Pn -sS -p 8080,8081 {t6}; ");
    }
    let out = bed.scanner().command("sh").args(["-c", &script]).output().expect("scanner commands");
    eprintln!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    sleep(Duration::from_millis(1500));
    let mut text = String::from(
        "# Real frames for tojimari-wire's corpus test, one per line as `LINK HEX` (LINK: eth, sll, sll2), each\n\
         # after a comment holding tcpdump's own reading of it (tcpdump -nn -e -t).\n\
         # Regenerate: cargo test -p tojimari-wire --test wire capture_corpus -- --ignored --nocapture (as root; it\n\
         # captures on a tojimari-testbed bed while nmap and tojimari probe the target).\n",
    );
    let mut per_kind: HashMap<String, usize> = HashMap::new();
    let mut kept = 0;
    for (name, file, child) in &mut children {
        let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        let _ = child.wait();
        let (_, frames) = read_pcap(&std::fs::read(&*file).expect("capture file"));
        let lines = decode(file);
        assert_eq!(frames.len(), lines.len(), "one tcpdump line per frame in {name}");
        // The cooked captures only need a few frames each: they differ from Ethernet in the link header.
        let budget = if *name == "eth" { MAX_FRAMES - 8 } else { 4 };
        let mut taken = 0;
        for (frame, line) in frames.iter().zip(&lines) {
            let count = per_kind.entry(format!("{name} {}", kind(line))).or_default();
            // Multicast listener reports (hop-by-hop header) are worth one each, not a cooked capture's budget.
            let mld = line.contains("multicast listener");
            if *count >= PER_KIND || taken >= budget || (mld && (*name != "eth" || *count >= 1)) {
                continue;
            }
            *count += 1;
            taken += 1;
            kept += 1;
            let hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(text, "# {line}\n{name} {hex}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(kept > 20, "only {kept} frames captured");
    std::fs::write(corpus_file(), text).expect("write corpus");
    eprintln!("note: {kept} frames written to {}", corpus_file().display());
}
