//! The static-fleet recipes of docs/static-fleet.md, run as they are written: the GNU parallel script
//! (docs/recipes/static-fleet-parallel.sh, with `ON` running each shard in its own test-bed scanner namespace
//! instead of over ssh) and the Kubernetes Indexed Job's container command (docs/recipes/static-fleet-job.yaml,
//! read from the YAML, with `JOB_COMPLETION_INDEX` 0, 1, 2, one shard per scanner namespace). Three scanner
//! namespaces, each with its own source address, scan one AnyIP target range with a known ground truth; each
//! recipe's three files are imported as one scan, which must equal an unsharded scan of the range and the
//! ground truth. The target's firewall counts the packets from each scanner: all three took part.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tojimari_core::PortState;
use tojimari_store::{ScanRef, Store};
use tojimari_testbed::{Netns, Scratch, testbed_or_skip};

/// The range target 0 answers for (AnyIP), and the part of it the exclude file leaves out.
const NET: &str = "198.19.7.0/24";
const EXCLUDED: std::ops::RangeInclusive<u8> = 250..=255;
const PORTS: &str = "1-40";
const SEED: &str = "2026";
const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/recipes");

/// Port 33 is dropped for the lower half of the range (filtered there); packets from each scanner counted,
/// and packets to the excluded addresses.
const FIREWALL: &str = "table ip tjm5fleet {\n chain input { type filter hook input priority -50;\n  \
                        ip saddr 198.18.0.3 counter\n  ip saddr 198.18.0.4 counter\n  ip saddr 198.18.0.5 counter\n  \
                        ip daddr 198.19.7.250-198.19.7.255 counter\n  \
                        ip daddr 198.19.7.0/25 tcp dport 33 drop\n }\n}\n";

/// The ground truth: (address, port) -> state, for every address not excluded and every port of `PORTS`.
fn truth() -> BTreeMap<(IpAddr, u16), PortState> {
    let mut truth = BTreeMap::new();
    for host in (0..=255u8).filter(|h| !EXCLUDED.contains(h)) {
        let addr = IpAddr::from([198, 19, 7, host]);
        for port in 1..=40u16 {
            let state = match port {
                7 | 22 => PortState::Open,
                33 if host < 128 => PortState::Filtered,
                33 => PortState::Open,
                _ => PortState::Closed,
            };
            truth.insert((addr, port), state);
        }
    }
    truth
}

/// Every port of a recorded scan, and whether every host in it is up.
fn recorded(db: &str, no: i64) -> (BTreeMap<(IpAddr, u16), PortState>, bool) {
    let store = Store::open(db).unwrap();
    let scan = store.find_scan(ScanRef::No(no)).unwrap().expect("the scan is there");
    let mut ports = BTreeMap::new();
    let mut all_up = true;
    store
        .for_each_host(scan.id, |h| {
            all_up &= h.state == tojimari_core::report::HostState::Up;
            for p in &h.ports {
                ports.insert((h.addr, p.port), p.state);
            }
            Ok::<(), ()>(())
        })
        .unwrap();
    (ports, all_up)
}

/// The scan number of `imported ... as scan N`.
fn scan_no(out: &Output) -> i64 {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let line = stdout.lines().rfind(|l| l.starts_with("imported ")).unwrap_or_else(|| panic!("{stdout}\n{stderr}"));
    assert!(line.contains(&format!("from shards 1/3, 2/3, 3/3 of seed {SEED} as scan")), "{line}");
    line.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("a scan number")
}

/// PATH with the tojimari under test first, as the recipes call `tojimari`.
fn path_with_tojimari() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_tojimari")).parent().expect("a directory").display().to_string();
    format!("{bin}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Packets from each scanner, and to the excluded addresses, as the target counted them.
fn per_scanner(target: &Netns) -> Vec<u64> {
    let out = target.run(&["nft", "list", "table", "ip", "tjm5fleet"]).expect("nft lists the table");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let counts: Vec<u64> = text
        .split("counter packets ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().and_then(|n| n.parse().ok()).expect("a count"))
        .collect();
    target.run(&["nft", "reset", "counters", "table", "ip", "tjm5fleet"]).expect("nft resets the counters");
    counts
}

/// The Indexed Job's container: its shell script and environment, from the YAML (which must parse).
fn job(yaml: &Path) -> (String, Vec<(String, String)>, u64) {
    let out = Command::new("python3")
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"])
        .arg(yaml)
        .output()
        .expect("python3 runs (scripts/test installs python3-yaml)");
    assert!(out.status.success(), "the Job's YAML does not parse: {}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let spec = &doc["spec"];
    assert_eq!((doc["kind"].as_str(), spec["completionMode"].as_str()), (Some("Job"), Some("Indexed")));
    let completions = spec["completions"].as_u64().expect("completions");
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let container = &spec["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], serde_json::json!(["/bin/sh", "-c"]));
    let script = container["args"][0].as_str().expect("the script").to_string();
    let env: Vec<(String, String)> = container["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["value"].as_str().unwrap().to_string()))
        .collect();
    let shards = env.iter().find(|(k, _)| k == "SHARDS").map(|(_, v)| v.parse::<u64>().unwrap());
    assert_eq!(shards, Some(completions), "SHARDS is the number of completions");
    (script, env, completions)
}

#[test]
fn the_recipes_shard_a_scan_over_three_scanners_and_import_merges_it_exactly() {
    let bed = testbed_or_skip!(4);
    // Target 0 answers for NET; targets 1..3 are the fleet's scanners, each with its own address.
    bed.add_anyip_v4(0, NET).unwrap();
    let target = bed.target(0);
    let via = target.v4.to_string();
    for i in 1..=3 {
        bed.target(i).ns.ip(&["route", "add", NET, "via", &via]).unwrap();
    }
    let _listeners = target.listen_tcp(&[7, 22, 33]).unwrap();
    target.firewall(FIREWALL).unwrap();
    let dir = Scratch::new("tjm5-static-fleet");
    let exclude = dir.path("exclude.txt");
    std::fs::write(&exclude, "198.19.7.250-255\n").unwrap();
    let db = dir.path("store.db");
    let truth = truth();
    let path = path_with_tojimari();
    let env = |cmd: &mut Command| {
        cmd.env("PATH", &path)
            .env("TOJIMARI_DB", &db)
            .env("SEED", SEED)
            .env("PORTS", PORTS)
            .env("TARGETS", NET)
            .env("EXCLUDE", &exclude);
    };

    // (b) GNU parallel: the script as shipped, ON running shard {} in scanner namespace t{}.
    let out_b = PathBuf::from(dir.path("parallel"));
    std::fs::create_dir_all(&out_b).unwrap();
    let mut script = Command::new("sh");
    script.arg(Path::new(DOCS).join("static-fleet-parallel.sh"));
    env(&mut script);
    script.env("SHARDS", "3").env("OUT", &out_b).env("ON", format!("ip netns exec {}-t{{}}", bed.prefix()));
    let out = script.output().expect("the recipe runs");
    let parallel_scan = scan_no(&out);
    let counts = per_scanner(&target.ns);
    assert!(counts[..3].iter().all(|c| *c > 0), "every scanner sent: {counts:?}");
    assert_eq!(counts[3], 0, "nothing reached the excluded addresses");

    // (a) The Indexed Job's container command, one pod per scanner namespace, all at once.
    let (job_script, job_env, completions) = job(&Path::new(DOCS).join("static-fleet-job.yaml"));
    assert_eq!(completions, 3);
    let out_a = PathBuf::from(dir.path("job"));
    std::fs::create_dir_all(&out_a).unwrap();
    let pods: Vec<_> = (0..completions)
        .map(|index| {
            let mut pod = bed.target(index as usize + 1).ns.command("sh");
            pod.args(["-c", &job_script]);
            pod.envs(job_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            env(&mut pod);
            pod.env("OUT", &out_a).env("JOB_COMPLETION_INDEX", index.to_string());
            pod.spawn().expect("the pod's command starts")
        })
        .collect();
    for pod in pods {
        let out = pod.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let files: Vec<PathBuf> = (1..=3).map(|i| out_a.join(format!("shard-{i}.xml"))).collect();
    let mut import = Command::new(env!("CARGO_BIN_EXE_tojimari"));
    import.args(["import", "--db", &db]).args(&files);
    let job_scan = scan_no(&import.output().unwrap());
    let counts = per_scanner(&target.ns);
    assert!(counts[..3].iter().all(|c| *c > 0), "every pod sent: {counts:?}");
    assert_eq!(counts[3], 0, "nothing reached the excluded addresses");

    // The same scan unsharded, from the bed's own scanner.
    let whole = dir.path("whole.xml");
    let out = bed
        .scanner()
        .command(env!("CARGO_BIN_EXE_tojimari"))
        .args(["scan", "-sS", "-n", "-Pn", "--no-store", "-p", PORTS, "--seed", SEED, "--excludefile", &exclude])
        .args(["-oX", &whole, NET])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_tojimari")).args(["import", "--db", &db, &whole]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let whole_scan = Store::open(&db).unwrap().scans().unwrap()[0].no;

    let (whole_ports, whole_up) = recorded(&db, whole_scan);
    assert!(whole_up);
    assert_eq!(whole_ports, truth, "the unsharded scan is the ground truth");
    for (recipe, no) in [("parallel", parallel_scan), ("job", job_scan)] {
        let (ports, up) = recorded(&db, no);
        assert!(up, "{recipe}: every host up");
        assert_eq!(ports.len(), truth.len(), "{recipe}");
        assert_eq!(ports, whole_ports, "{recipe}: the merged shards are the unsharded scan");
        let scan = Store::open(&db).unwrap().find_scan(ScanRef::No(no)).unwrap().unwrap();
        assert!(!scan.argv.contains("--shard"), "{recipe}: {}", scan.argv);
        assert!(scan.argv.contains(&format!("--seed {SEED}")), "{recipe}: {}", scan.argv);
    }
}
