//! masscan as a peer, run so that its figures are fair, and the [`Waker`] that lets it exit.
//!
//! # Why masscan 1.3.2 stalled on the bed (issue 11, part 7)
//!
//! Measured by hand in a bed of the same shape (bridge, veth, one target with 300 listeners), with
//! `masscan -e eth0 --adapter-ip 198.18.0.1 --router-mac MAC --wait 2 -oL FILE -p1-65535 --rate 1000000`,
//! standard input from /dev/null: every probe is sent in about 0.5 s (its status line says 120-160 kpps; one
//! transmit thread doing one `send` per frame through libpcap), every answer is in within the next few ms,
//! and then the run took 5.4, 18.7 and 30.4 s with the status line counting `waiting 0-secs`,
//! `waiting -1-secs`, ... `waiting -26-secs`. `/proc/PID/task/*/wchan` and `strace -f -p` during the
//! negative countdown: the main thread prints the status every 250 ms and waits for the receive thread;
//! the receive thread sits in `poll([pcap fd, pcap's break-loop eventfd], 2, 1000)`, times out, and polls
//! again, forever: libpcap (TPACKET_V3) does not return to masscan on a timeout with no frame, so masscan
//! never looks at its "done" flag. The first frame that reaches eth0 makes `poll` return 1, and the thread
//! closes its output (the `-oL` buffer is written only then) and exits within a millisecond: sending one UDP
//! datagram from the target at that point ended both runs tried at once (4.9 s in all). The rate plays no
//! part: at `--rate 10000` with 2000 ports and `--wait 1` one run took 5.4 s and the next was still
//! `waiting -37-secs` when `timeout` killed it at 40 s. On the bench's bed
//! nothing else talks to the scanner once the scan is over, so masscan waited until something did (a
//! neighbour probe, tens of seconds later) or until the harness killed it at `--peer-timeout`; a SIGKILL
//! also threw away the part of the `-oL` output still in masscan's buffer: it writes 4 KiB blocks, and the
//! first 8 KiB of the 11 KB list hold 223 of the 300 open ports, the "74% found" of the killed runs.
//! masscan's own options do not help: `--wait` only sets when the flag is raised, `--nostatus` makes it
//! worse (masscan issues 718, 812), and there is no option for the receive path.
//!
//! So the harness does what any traffic on a real network does: while masscan runs, a [`Waker`] sends one
//! small UDP datagram every 100 ms from the target namespace to a UDP socket the bench holds open in the
//! scanner namespace (so the scanner's kernel answers nothing and the scanner's transmit counter, the
//! table's packets figure, is unchanged). masscan ignores these frames; they only let its receive thread see
//! the flag. A peer still stopped at `--peer-timeout` gets SIGINT first (masscan then writes what it found)
//! and SIGKILL only 5 s later.
//!
//! What remains is masscan's own behaviour, and the table shows it as it is:
//! - One transmit thread tops out near 150 kpps on this veth whatever `--rate` asks (1M and 100k take about
//!   the same time), and `--wait 2` seconds after the last probe are part of its time.
//! - Each probe is sent once (`--retries 0`), and masscan answers every RST of a closed port with a RST of
//!   its own (win 1200, seen with tcpdump on eth0): about 2 frames per probe where every port answers.
//! - Recall below 100%: tcpdump on the scanner's eth0 (`-Q in`, SYN-ACKs only, 0 dropped) saw all 300
//!   SYN-ACKs arrive in every run tried, while masscan listed 241-258 of them when other processes competed
//!   for the two CPUs (a waker that started a Python process every 0.3 s, a compiler) and 293-299 when
//!   the machine was quieter. Its receive thread reads every frame of the interface through one libpcap
//!   ring (14 MB, unmapped at its exit in strace): the 65,235 RSTs, and its own SYNs and RSTs too. The
//!   answers reach eth0 and the loss follows the CPU load, which points at that ring overflowing when the
//!   thread is not scheduled in time (an inference: masscan does not print libpcap's drop count, and no
//!   masscan option sets the buffer). The bench shows it in its own figures: since masscan sends one RST
//!   per RST it reads, its frames/probe minus 1 is the share of answers it read, and that share tracks its
//!   recall run for run (1.97 with 96% found, 1.62 with 60% at a load average above 2).

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tojimari_testbed::Netns;

use crate::{ToolRun, parse_masscan};

/// The scanner namespace's address (the bed's fixed layout).
const SCANNER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// The UDP port the waker's datagrams go to, held open by the bench in the scanner namespace.
const WAKE_PORT: u16 = 9;
/// How often a datagram is sent: masscan exits at most this long after its `--wait` is over.
const WAKE_EVERY: Duration = Duration::from_millis(100);

/// masscan needs the next hop's MAC and its own address spelled out in a namespace with no default route;
/// `wake` is the namespace of the target (see the module docs for why masscan needs one).
pub(crate) fn masscan<'a>(name: &str, args: &[&str], router_mac: &str, timeout: u64, wake: &'a Netns) -> ToolRun<'a> {
    let mut a: Vec<String> =
        ["-e", "eth0", "--adapter-ip", "198.18.0.1", "--router-mac", router_mac, "-oL", "-", "--wait", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    a.extend(args.iter().map(|s| s.to_string()));
    ToolRun {
        name: name.into(),
        program: "masscan".into(),
        args: a,
        parse: parse_masscan,
        timeout: Some(Duration::from_secs(timeout)),
        wake: Some(wake),
    }
}

/// Sends a datagram from a target namespace to the scanner namespace every [`WAKE_EVERY`] until dropped;
/// the scanner side is a bound socket that reads and discards them, so nothing is answered.
pub(crate) struct Waker {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Waker {
    /// Starts the sink in `scanner` and the sender in `target`.
    pub(crate) fn start(scanner: &Netns, target: &Netns) -> Result<Waker, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut waker = Waker { stop: stop.clone(), threads: Vec::new() };
        let sink = scanner
            .run_in(|| {
                let socket = UdpSocket::bind(SocketAddrV4::new(SCANNER, WAKE_PORT))?;
                socket.set_read_timeout(Some(WAKE_EVERY))?;
                Ok::<_, std::io::Error>(socket)
            })
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("waker: bind {SCANNER}:{WAKE_PORT} in the scanner namespace: {e}"))?;
        let sink_stop = stop.clone();
        waker.threads.push(std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            while !sink_stop.load(Ordering::Relaxed) {
                let _ = sink.recv(&mut buf);
            }
        }));
        let sender_stop = stop;
        let sender = target
            .spawn_in(move || {
                let Ok(socket) = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)) else { return };
                while !sender_stop.load(Ordering::Relaxed) {
                    let _ = socket.send_to(b"wake", SocketAddrV4::new(SCANNER, WAKE_PORT));
                    std::thread::sleep(WAKE_EVERY);
                }
            })
            .map_err(|e| e.to_string())?;
        waker.threads.push(sender);
        Ok(waker)
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
