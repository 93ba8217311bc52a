//! Interfaces that go down or away while `watch` runs: a message, and the others keep
//! being watched.

use std::time::{Duration, Instant};

use tojimari_testbed::testbed_or_skip;
use tojimari_watch::WatchArgs;

use crate::support::{Watcher, sh};

fn wait_stderr(watcher: &Watcher, text: &str) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if watcher.stderr().contains(text) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn an_interface_that_goes_away_leaves_the_others_watched() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    // A veth pair inside the target (no `dummy` module on this kernel); dum0 is watched.
    target.ns.ip(&["link", "add", "dum0", "type", "veth", "peer", "name", "dum1"]).expect("add dum0");
    target.ns.ip(&["link", "set", "dum1", "up"]).expect("dum1 up");
    target.ns.ip(&["link", "set", "dum0", "up"]).expect("dum0 up");
    target.ns.ip(&["link", "add", "dum2", "type", "veth", "peer", "name", "dum3"]).expect("add dum2");
    target.ns.ip(&["link", "set", "dum2", "up"]).expect("dum2 up");
    let watcher = Watcher::start(
        &target.ns,
        WatchArgs { interfaces: vec!["dum0".into(), "dum2".into(), "eth0".into()], ..Default::default() },
    );
    target.ns.ip(&["link", "set", "dum0", "down"]).expect("dum0 down");
    assert!(wait_stderr(&watcher, "dum0 is down"), "{}", watcher.stderr());
    target.ns.ip(&["link", "del", "dum0"]).expect("delete dum0");
    assert!(wait_stderr(&watcher, "stopped watching dum0"), "{}", watcher.stderr());
    // Deleted while up.
    target.ns.ip(&["link", "del", "dum2"]).expect("delete dum2");
    assert!(wait_stderr(&watcher, "stopped watching dum2"), "{}", watcher.stderr());

    let out = sh(bed.scanner(), Duration::from_secs(30), "nmap -n -Pn -sS -T4 -p 1-50 198.18.0.2");
    assert!(out.status.success());
    let alert = watcher.wait_for(Duration::from_secs(5), |a| a["scan_type"] == "syn");
    let done = watcher.finish();
    assert!(alert.is_some(), "eth0 is still watched: {}", done.stderr);
    assert_eq!(done.code, 0, "{}", done.stderr);
}
