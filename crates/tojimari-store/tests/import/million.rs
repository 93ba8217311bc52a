//! A million `<port>` entries (1,000 hosts of 1,000 ports, each with a service) generated on the fly
//! by a [`Read`] that never holds the document, read in flat memory: the process's peak resident size
//! (`VmHWM`) grows by far less than the document's size.
//!
//! Peak RSS is per process, so the test runs itself again as a child process with only this test, and
//! the child measures.

use std::io::{BufReader, Read};
use std::process::Command;
use std::time::Instant;

use tojimari_store::import::Limits;
use tojimari_store::import::nmap_xml::{Reader, Record};

const HOSTS: u32 = 1_000;
const PORTS_PER_HOST: u32 = 1_000;
const CHILD: &str = "TOJIMARI_STORE_MILLION_CHILD";

/// Writes the document piece by piece: the header, then one host at a time.
struct Generator {
    host: u32,
    pending: Vec<u8>,
    at: usize,
    produced: u64,
    done: bool,
}

impl Generator {
    fn new() -> Self {
        let header = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n\
            <nmaprun scanner=\"nmap\" args=\"nmap -sS -p 1-1000 198.18.0.0/22\" start=\"1700000000\" version=\"7.94\">\n\
            <scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"1000\" services=\"1-1000\"/>\n";
        Generator { host: 0, pending: header.as_bytes().to_vec(), at: 0, produced: 0, done: false }
    }

    fn refill(&mut self) {
        self.pending.clear();
        self.at = 0;
        if self.host == HOSTS {
            if !self.done {
                self.pending.extend_from_slice(
                    b"<runstats><finished time=\"1700000100\" elapsed=\"100.00\" exit=\"success\"/>\
                      <hosts up=\"1000\" down=\"0\" total=\"1000\"/></runstats>\n</nmaprun>\n",
                );
                self.done = true;
            }
            return;
        }
        let (a, b) = (self.host / 256, self.host % 256);
        self.pending.extend_from_slice(
            format!(
                "<host starttime=\"1700000000\" endtime=\"1700000001\"><status state=\"up\" reason=\"echo-reply\" reason_ttl=\"64\"/>\n\
                 <address addr=\"198.18.{a}.{b}\" addrtype=\"ipv4\"/>\n<hostnames>\n</hostnames>\n<ports>"
            )
            .as_bytes(),
        );
        for port in 1..=PORTS_PER_HOST {
            let state = if port % 2 == 0 { "open\" reason=\"syn-ack" } else { "closed\" reason=\"reset" };
            self.pending.extend_from_slice(
                format!(
                    "<port protocol=\"tcp\" portid=\"{port}\"><state state=\"{state}\" reason_ttl=\"64\"/>\
                     <service name=\"svc{port}\" product=\"Product {port}\" method=\"probed\" conf=\"10\"><cpe>cpe:/a:x:y:{port}</cpe></service></port>\n"
                )
                .as_bytes(),
            );
        }
        self.pending.extend_from_slice(b"</ports>\n<times srtt=\"100\" rttvar=\"50\" to=\"100000\"/>\n</host>\n");
        self.host += 1;
    }
}

impl Read for Generator {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            self.refill();
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        self.produced += n as u64;
        Ok(n)
    }
}

/// The process's peak resident size in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn a_million_ports_are_read_in_flat_memory() {
    if std::env::var_os(CHILD).is_none() {
        let exe = std::env::current_exe().expect("test binary");
        let out = Command::new(exe)
            .args(["import::million::a_million_ports_are_read_in_flat_memory", "--exact", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .expect("child test runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "the child run failed");
        assert!(stdout.contains("1 passed"), "the child ran the test");
        return;
    }

    let before = vm_hwm_kib();
    let started = Instant::now();
    let mut generator = Generator::new();
    let (mut hosts, mut ports, mut open, mut cpes) = (0u64, 0u64, 0u64, 0u64);
    let mut ended = false;
    for record in Reader::new(BufReader::new(&mut generator), Limits::default()) {
        match record.expect("the generated document reads") {
            Record::Run { .. } => {}
            Record::Host(host) => {
                hosts += 1;
                ports += host.ports.len() as u64;
                open += host.ports.iter().filter(|p| p.state == tojimari_core::PortState::Open).count() as u64;
                cpes += host.ports.iter().filter_map(|p| p.service.as_ref()).map(|s| s.cpe.len() as u64).sum::<u64>();
            }
            Record::RunEnd { hosts_up, .. } => {
                assert_eq!(hosts_up, 1_000);
                ended = true;
            }
        }
    }
    let elapsed = started.elapsed();
    let after = vm_hwm_kib();
    let document_kib = generator.produced / 1024;
    println!(
        "note: {ports} ports in {hosts} hosts, {document_kib} KiB of XML read in {elapsed:?}; \
         VmHWM {before} KiB before, {after} KiB after (+{} KiB)",
        after - before
    );
    assert!(ended);
    assert_eq!((hosts, ports, open, cpes), (1_000, 1_000_000, 500_000, 1_000_000));
    assert!(document_kib > 100 * 1024, "the document is large: {document_kib} KiB");
    assert!(after - before < 16 * 1024, "peak memory grew by {} KiB", after - before);
}
