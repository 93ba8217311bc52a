//! `tojimari serve` for the tests that drive it (over HTTP, and in a browser): the server started in the
//! bed's scanner namespace on a store of its own, and the steps of starting a check from its page.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::TestBed;
use tojimari_testbed::http::{Client, Response};

/// A running `tojimari serve`, killed (by pid) when dropped.
pub struct Served {
    pub child: Child,
    pub addr: SocketAddr,
    _dir: super::Scratch,
}

impl Served {
    pub fn start(bed: &TestBed, name: &str, extra: &[&str]) -> Served {
        let dir = super::Scratch::new(&format!("serve-{name}"));
        let db = dir.0.join("store.db");
        let mut cmd = bed.scanner().command(env!("CARGO_BIN_EXE_tojimari"));
        cmd.args(["serve", "--db", db.to_str().unwrap()]).args(extra);
        if !extra.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = cmd.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut said = Vec::new();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else { panic!("serve ended before listening: {said:?}") };
            if let Some(rest) = line.split("on http://").nth(1) {
                break rest.split('/').next().unwrap().parse().unwrap();
            }
            said.push(line);
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served { child, addr, _dir: dir }
    }

    pub fn db(&self) -> String {
        self._dir.0.join("store.db").to_string_lossy().into_owned()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `profile` on `target` from the New check page; returns the check's page path.
pub fn start_check(c: &mut Client, target: &str, profile: &str, options: &str) -> Response {
    let csrf = c.csrf("/check");
    c.post("/check", &[("csrf", &csrf), ("target", target), ("profile", profile), ("options", options)])
}

/// Starts a check as [`start_check`] and returns the path of its page the server sent the browser to.
pub fn start_and_follow(c: &mut Client, target: &str, profile: &str, options: &str) -> String {
    let r = start_check(c, target, profile, options);
    assert_eq!(r.status, 303, "{}", r.body);
    let path = r.header("location").unwrap().to_string();
    assert!(path.starts_with("/checks/"), "{path}");
    path
}

/// Polls the check's page until it says done (or failed); returns the last page.
pub fn wait_done(c: &mut Client, path: &str, limit: Duration) -> Response {
    let start = Instant::now();
    loop {
        let page = c.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        if page.body.contains("data-over=\"1\"") {
            return page;
        }
        assert!(start.elapsed() < limit, "check not done after {limit:?}:\n{}", page.body);
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The open ports the store's latest scan recorded for `addr`, by `tojimari history`.
pub fn open_ports_recorded(bed: &TestBed, db: &str, addr: &str) -> Vec<u16> {
    let out = bed
        .scanner()
        .command(env!("CARGO_BIN_EXE_tojimari"))
        .args(["export", "latest", "-oJ", "-", "--db", db])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut ports: Vec<u16> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "port" && v["addr"] == addr && v["state"] == "open")
        .filter_map(|v| v["port"].as_u64().map(|p| p as u16))
        .collect();
    ports.sort_unstable();
    ports
}
