//! masscan itself, run in a test bed against a target with listeners: its `-oJ` and `-oL` files read
//! back to the ports the target really has open. With `TOJIMARI_SAVE_MASSCAN=dir` the files are also saved
//! as `dir/masscan-1.3.2.json` and `dir/masscan-1.3.2.list` (that is how `tests/data/masscan-1.3.2.json`
//! and `.list` were made).
//!
//! masscan's receive thread does not see that the scan is over until a frame reaches its interface
//! (tojimari-bench's masscan module tells the story), so a datagram goes from the target to the scanner
//! every 100 ms while it runs.

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tojimari_core::report::HostState;
use tojimari_core::{PortState, Protocol, Reason};
use tojimari_store::import::nmap_xml::Record;
use tojimari_store::import::{Format, Limits};
use tojimari_testbed::testbed_or_skip;

#[test]
fn masscan_json_and_list_of_a_test_bed_target_read_back() {
    if Command::new("masscan").arg("--version").output().is_err() {
        eprintln!("note: masscan is not installed; skipped");
        return;
    }
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _listeners = target.listen_tcp(&[22, 80]).expect("listeners");
    let mac = target.ns.command("cat").arg("/sys/class/net/eth0/address").output().expect("mac").stdout;
    let mac = String::from_utf8_lossy(&mac).trim().to_string();
    let addr = target.v4.to_string();
    let dir = std::env::temp_dir().join(format!("tojimari-store-live-masscan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let waker = target
        .ns
        .spawn_in(move || {
            let Ok(socket) = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)) else { return };
            while !flag.load(Ordering::Relaxed) {
                let _ = socket.send_to(b"wake", SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 1), 9));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .expect("waker");

    let mut files = Vec::new();
    for (option, name) in [("-oJ", "masscan-1.3.2.json"), ("-oL", "masscan-1.3.2.list")] {
        let path = dir.join(name);
        let out = bed
            .scanner()
            .command("timeout")
            .args(["-s", "INT", "-k", "5", "60", "masscan", "-p22,80,81", &addr, "--rate", "100", "--wait", "2"])
            .args(["-e", "eth0", "--adapter-ip", "198.18.0.1", "--router-mac", &mac, option])
            .arg(&path)
            .output()
            .expect("masscan runs");
        assert!(out.status.success(), "masscan failed: {}", String::from_utf8_lossy(&out.stderr));
        files.push((name, std::fs::read(&path).expect("masscan wrote its file")));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = waker.join();
    let _ = std::fs::remove_dir_all(&dir);

    for (name, bytes) in files {
        if let Ok(save) = std::env::var("TOJIMARI_SAVE_MASSCAN") {
            std::fs::write(std::path::Path::new(&save).join(name), &bytes).expect("save");
        }
        let format = Format::detect(&bytes).unwrap_or_else(|| panic!("{name} detected"));
        assert_eq!(format, if name.ends_with("json") { Format::MasscanJson } else { Format::MasscanList });
        let records: Vec<Record> =
            format.reader(&bytes[..], Limits::default()).collect::<Result<_, _>>().expect("masscan's file reads");
        let hosts: Vec<_> = records
            .iter()
            .filter_map(|r| match r {
                Record::Host(h) => Some(h),
                _ => None,
            })
            .collect();
        assert_eq!(hosts.len(), 1, "{name}: one host, its ports grouped: {records:#?}");
        let host = hosts[0];
        assert_eq!((host.addr, host.state), (IpAddr::V4(target.v4), HostState::Up));
        let ports: Vec<_> = host.ports.iter().map(|p| (p.proto, p.port, p.state)).collect();
        assert_eq!(ports, [(Protocol::Tcp, 22, PortState::Open), (Protocol::Tcp, 80, PortState::Open)], "{name}");
        if format == Format::MasscanJson {
            assert!(host.ports.iter().all(|p| p.reason == Reason::SynAck && p.reason_ttl == 64), "{host:#?}");
        }
    }
}
