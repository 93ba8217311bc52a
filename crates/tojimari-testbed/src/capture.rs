//! tcpdump inside a namespace, for tests that look at packets as a host saw them: started on an interface
//! writing a pcap file, ready once tcpdump says it listens, stopped with SIGTERM (so it flushes and closes the
//! file) by its pid.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::netns::Netns;

/// How long tcpdump may take to start listening.
const READY: Duration = Duration::from_secs(10);

/// A running capture. Dropped without [`Tcpdump::stop`], it is killed.
#[derive(Debug)]
pub struct Tcpdump {
    child: Child,
    path: PathBuf,
}

impl Tcpdump {
    /// Starts tcpdump on `iface` of `ns`, keeping `snaplen` bytes of each packet that `filter` (tcpdump's
    /// syntax) takes, into the pcap file `path`; returns once it captures.
    pub fn start(ns: &Netns, iface: &str, path: &Path, snaplen: u32, filter: &str) -> Result<Tcpdump> {
        let mut child = ns
            .command("tcpdump")
            .args(["-i", iface, "-s", &snaplen.to_string(), "-U", "--immediate-mode", "-w"])
            .arg(path)
            .args(filter.split_whitespace())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn { command: "tcpdump".into(), source })?;
        let stderr = child.stderr.take();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Some(stderr) = stderr else { return };
            for line in std::io::BufReader::new(stderr).lines().map_while(std::io::Result::ok) {
                if line.contains("listening on") {
                    let _ = ready_tx.send(());
                }
            }
        });
        let mut capture = Tcpdump { child, path: path.to_path_buf() };
        if ready_rx.recv_timeout(READY).is_err() {
            capture.end(Signal::SIGKILL);
            return Err(Error::Invalid(format!("tcpdump on {iface} did not start listening within {READY:?}")));
        }
        // The kernel's socket filter is attached just after the line is printed.
        std::thread::sleep(Duration::from_millis(200));
        Ok(capture)
    }

    /// Stops the capture (after a moment for packets still on their way) and returns the pcap file's path.
    pub fn stop(mut self) -> PathBuf {
        std::thread::sleep(Duration::from_millis(300));
        self.end(Signal::SIGTERM);
        self.path.clone()
    }

    fn end(&mut self, signal: Signal) {
        if let Ok(None) = self.child.try_wait()
            && let Ok(pid) = i32::try_from(self.child.id())
        {
            let _ = kill(Pid::from_raw(pid), signal);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        self.end(Signal::SIGKILL);
    }
}
