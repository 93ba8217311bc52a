//! OS detection in every format, against what nmap 7.93 wrote for `-O -v -p 1-100` against a test-bed
//! target (a Linux namespace with 22 and 80 listening; `cargo run -p tojimari-output --example
//! nmap_os_reference` runs it again): the same lines, in the same places, with tojimari's matches.

use serde_json::{Value, json};
use tojimari_core::report::{DisplayOptions, RunExit, ServiceInfo, ServiceMethod};
use tojimari_core::{HostReport, Sink};
use tojimari_output::{GrepableSink, JsonLinesSink, NormalDestination, NormalSink, XmlSink};

use crate::fixtures::*;

pub fn render(mut sink: Box<dyn Sink>, capture: &Capture, verbose: u8, host: HostReport) -> String {
    let (scans, _) = os_scanned_host(os_none());
    let display = DisplayOptions { verbose, ..DisplayOptions::default() };
    feed(sink.as_mut(), &run_info("t -O", scans, display), &[host], &summary(1, 1, 1000, RunExit::Success));
    capture.text()
}

pub fn normal(verbose: u8, os: tojimari_core::os::OsReport) -> String {
    let capture = Capture::default();
    let sink = NormalSink::new(capture.writer(), NormalDestination::Terminal).with_service_names(names);
    render(Box::new(sink), &capture, verbose, os_scanned_host(os).1)
}

pub fn xml(verbose: u8, os: tojimari_core::os::OsReport) -> String {
    let capture = Capture::default();
    render(Box::new(XmlSink::new(capture.writer()).with_service_names(names)), &capture, verbose, os_scanned_host(os).1)
}

pub fn grepable(os: tojimari_core::os::OsReport) -> String {
    let capture = Capture::default();
    render(Box::new(GrepableSink::new(capture.writer()).with_service_names(names)), &capture, 0, os_scanned_host(os).1)
}

pub fn jsonl(os: tojimari_core::os::OsReport) -> String {
    let capture = Capture::default();
    render(Box::new(JsonLinesSink::new(capture.writer()).with_service_names(names)), &capture, 0, os_scanned_host(os).1)
}

/// The lines between the port table (ending with 80/tcp) and the empty line that ends the host.
fn os_section(text: &str) -> &str {
    let start = text.find("80/tcp open  http\n").expect("port table") + "80/tcp open  http\n".len();
    let end = start + text[start..].find("\ntojimari done").expect("footer");
    &text[start..end]
}

#[test]
fn normal_stated_match_with_verbose_is_nmaps_section() {
    // nmap 7.93 -O -v (book example 8.1 and the bed run): the same lines in the same order.
    assert_eq!(
        os_section(&normal(1, os_stated())),
        "Device type: general purpose\n\
         Running: Linux 5.X|6.X\n\
         OS CPE: cpe:/o:linux:linux_kernel:5 cpe:/o:linux:linux_kernel:6\n\
         OS details: Linux 5.0 - 6.8\n\
         Uptime guess: 0.512 days (since Sat Nov 21 13:19:54 2026)\n\
         Network Distance: 1 hop\n\
         TCP Sequence Prediction: Difficulty=260 (Good luck!)\n\
         IP ID Sequence Generation: All zeros\n"
    );
}

#[test]
fn normal_without_verbose_leaves_out_uptime_and_sequences() {
    assert_eq!(
        os_section(&normal(0, os_stated())),
        "Device type: general purpose\n\
         Running: Linux 5.X|6.X\n\
         OS CPE: cpe:/o:linux:linux_kernel:5 cpe:/o:linux:linux_kernel:6\n\
         OS details: Linux 5.0 - 6.8\n\
         Network Distance: 1 hop\n"
    );
}

#[test]
fn normal_guesses_with_a_warning_like_nmaps_no_closed_port_run() {
    // nmap -O -v --osscan-guess with every other port filtered printed the warning first, the guesses,
    // "No exact OS matches for host (test conditions non-ideal).", then distance and sequences.
    assert_eq!(
        os_section(&normal(1, os_guessed())),
        "Warning: OSScan results may be unreliable because we could not find at least 1 open and 1 closed port\n\
         Device type: general purpose|router\n\
         Running (JUST GUESSING): Linux 5.X|4.X (96%), MikroTik RouterOS 7.X (90%)\n\
         OS CPE: cpe:/o:linux:linux_kernel:5 cpe:/o:linux:linux_kernel:4 cpe:/o:mikrotik:routeros:7 \
         cpe:/o:linux:linux_kernel:5.6\n\
         Aggressive OS guesses: Linux 5.0 - 6.8 (96%), Linux 4.4 - 4.19 (92%), MikroTik RouterOS 7 (90%)\n\
         No exact OS matches for host (test conditions non-ideal).\n\
         Network Distance: 1 hop\n\
         TCP Sequence Prediction: Difficulty=263 (Good luck!)\n\
         IP ID Sequence Generation: All zeros\n"
    );
}

#[test]
fn normal_guesses_in_ideal_conditions_give_the_fingerprint() {
    // nmap in ideal conditions: "No exact OS matches for host ...", "TCP/IP fingerprint:", its lines, an
    // empty line, then uptime and distance.
    let mut os = os_guessed();
    os.notes.clear();
    os.fingerprint = Some("ttl=64 df=y\nwin=65160".into());
    let section = normal(0, os);
    assert!(
        os_section(&section).ends_with(
            "No exact OS matches for host.\nTCP/IP fingerprint:\nttl=64 df=y\nwin=65160\n\nNetwork Distance: 1 hop\n"
        ),
        "{section}"
    );
}

#[test]
fn normal_no_match_and_hops() {
    assert_eq!(
        os_section(&normal(0, os_none())),
        "No OS matches for host\n\
         TCP/IP fingerprint:\n\
         ttl=64 df=y win=65160\n\
         opts=M,S,T,N,W7\n\
         \n\
         Network Distance: 2 hops\n"
    );
}

#[test]
fn normal_scattered_classes_leave_out_the_summary_lines() {
    // Three (vendor, family) pairs: nmap left Device type and Running out of its guessed run.
    let mut os = os_guessed();
    os.matches[1].classes.push(os_class("webcam", "AXIS", "embedded", None, 92, &[]));
    let section = normal(0, os);
    let section = os_section(&section);
    assert!(section.starts_with("Warning: OSScan"), "{section}");
    assert!(!section.contains("Device type") && !section.contains("Running") && !section.contains("OS CPE"));
    assert!(section.contains("\nAggressive OS guesses: Linux 5.0 - 6.8 (96%), "), "{section}");
}

#[test]
fn normal_passive_guess_is_its_own_line_never_nmaps_os_lines() {
    let text = normal(1, os_passive());
    assert_eq!(
        os_section(&text),
        "OS guess (passive, from the SYN/ACKs): Linux 5.X (85%), FreeBSD 13.X (60%); 1 hop away\n"
    );
    for nmap_line in ["OS details", "Running", "Device type", "Network Distance", "Aggressive"] {
        assert!(!text.contains(nmap_line), "{nmap_line}");
    }
    let mut empty = os_passive();
    empty.matches.clear();
    assert_eq!(os_section(&normal(1, empty)), "");
}

#[test]
fn normal_os_lines_come_before_service_info() {
    // nmap -A: the OS lines, then "Service Info".
    let (scans, mut host) = os_scanned_host(os_stated());
    let mut ssh = ServiceInfo::named("ssh", ServiceMethod::Probed, 10);
    ssh.ostype = Some("Linux".into());
    host.ports[21].service = Some(Box::new(ssh));
    let capture = Capture::default();
    let mut sink = NormalSink::new(capture.writer(), NormalDestination::Terminal).with_service_names(names);
    let display = DisplayOptions { versions: true, ..DisplayOptions::default() };
    feed(&mut sink, &run_info("t -A", scans, display), &[host], &summary(1, 1, 1000, RunExit::Success));
    let text = capture.text();
    assert!(text.contains("Network Distance: 1 hop\nService Info: OS: Linux\n\ntojimari done"), "{text}");
}

/// The host's children from `<os>` to `<times>`.
fn os_block(text: &str) -> &str {
    let start = text.find("</ports>\n").expect("ports") + "</ports>\n".len();
    let end = text.find("<times ").expect("times");
    &text[start..end]
}

#[test]
fn xml_stated_match_is_nmaps_os_element() {
    // Element by element as nmap 7.93 wrote for the bed's target, with our match.
    assert_eq!(
        os_block(&xml(1, os_stated())),
        r#"<os><portused state="open" proto="tcp" portid="22"/>
<portused state="closed" proto="tcp" portid="1"/>
<portused state="closed" proto="udp" portid="36950"/>
<osmatch name="Linux 5.0 - 6.8" accuracy="100" line="12">
<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="5.X" accuracy="100"><cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass>
<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="6.X" accuracy="100"><cpe>cpe:/o:linux:linux_kernel:6</cpe></osclass>
</osmatch>
</os>
<uptime seconds="44237" lastboot="Sat Nov 21 13:19:54 2026"/>
<distance value="1"/>
<tcpsequence index="260" difficulty="Good luck!" values="7D2AE5BD,1AE53602,71DEFA16,2B88D085,3BD7F66A,A6D9C0B7"/>
<ipidsequence class="All zeros" values="0,0,0,0,0,0"/>
<tcptssequence class="1000HZ" values="2A2FD48,2A2FDAC,2A2FE10,2A2FE74,2A2FED8,2A2FF3C"/>
"#
    );
}

#[test]
fn xml_no_match_keeps_the_fingerprint_and_classes_without_generation() {
    let none = xml(0, os_none());
    assert_eq!(
        os_block(&none),
        "<os><portused state=\"open\" proto=\"tcp\" portid=\"22\"/>\n\
         <portused state=\"closed\" proto=\"tcp\" portid=\"1\"/>\n\
         <osfingerprint fingerprint=\"ttl=64 df=y win=65160&#10;opts=M,S,T,N,W7\"/>\n\
         </os>\n<distance value=\"2\"/>\n<ipidsequence class=\"Incremental\" values=\"3E6F,3E70,3E71\"/>\n"
    );
    let mut os = os_guessed();
    os.matches[0].classes = vec![os_class("", "AXIS", "embedded", None, 96, &[])];
    let text = xml(0, os);
    assert!(text.contains("<osclass vendor=\"AXIS\" osfamily=\"embedded\" accuracy=\"96\"/>\n</osmatch>"), "{text}");
}

#[test]
fn xml_passive_guess_is_a_host_script_not_os() {
    let text = xml(0, os_passive());
    assert_eq!(
        os_block(&text),
        "<hostscript><script id=\"os-passive\" output=\"Linux 5.X (85%), FreeBSD 13.X (60%); 1 hop away\"/></hostscript>\n"
    );
    assert!(!text.contains("<os>") && !text.contains("<distance"), "{text}");
}

/// The grepable line of the host's ports.
fn ports_line(text: &str) -> &str {
    text.lines().find(|l| l.contains("\tPorts: ")).expect("ports line")
}

#[test]
fn grepable_fields_follow_ignored_state_as_nmaps() {
    // nmap -O -v -oG: "...\tIgnored State: closed (98)\tSeq Index: 262\tIP ID Seq: All zeros", with
    // "\tOS: ..." before them when a match is stated.
    let prefix = "Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///\tIgnored State: closed (98)";
    assert_eq!(
        ports_line(&grepable(os_stated())),
        format!("{prefix}\tOS: Linux 5.0 - 6.8\tSeq Index: 260\tIP ID Seq: All zeros")
    );
    assert_eq!(ports_line(&grepable(os_guessed())), format!("{prefix}\tSeq Index: 263\tIP ID Seq: All zeros"));
    assert_eq!(ports_line(&grepable(os_none())), format!("{prefix}\tIP ID Seq: Incremental"));
    assert_eq!(ports_line(&grepable(os_passive())), prefix);
    let mut two = os_stated();
    two.matches.push(os_match("Linux 4.19", 100, 40, Vec::new()));
    assert!(ports_line(&grepable(two)).contains("\tOS: Linux 5.0 - 6.8 or Linux 4.19\t"));
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn jsonl_os_line_comes_before_the_host_line() {
    let lines = json_lines(&jsonl(os_stated()));
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["run", "port", "port", "os", "host", "summary"]);
    assert_eq!(
        lines[3],
        json!({
            "type": "os", "addr": "198.18.0.2", "method": "active",
            "matches": [{"name": "Linux 5.0 - 6.8", "accuracy": 100, "line": 12, "classes": [
                {"type": "general purpose", "vendor": "Linux", "family": "Linux", "generation": "5.X",
                 "accuracy": 100, "cpe": ["cpe:/o:linux:linux_kernel:5"]},
                {"type": "general purpose", "vendor": "Linux", "family": "Linux", "generation": "6.X",
                 "accuracy": 100, "cpe": ["cpe:/o:linux:linux_kernel:6"]}]}],
            "guessed": false,
            "ports_used": [{"state": "open", "proto": "tcp", "port": 22}, {"state": "closed", "proto": "tcp", "port": 1},
                           {"state": "closed", "proto": "udp", "port": 36950}],
            "distance": 1, "uptime_s": 44237, "last_boot": (T0 - 44_237) as f64,
            "tcp_sequence": {"index": 260, "difficulty": "Good luck!",
                             "values": [0x7D2A_E5BDu32, 0x1AE5_3602u32, 0x71DE_FA16u32, 0x2B88_D085u32, 0x3BD7_F66Au32, 0xA6D9_C0B7u32]},
            "ip_id_sequence": {"class": "All zeros", "values": [0, 0, 0, 0, 0, 0]},
            "ts_sequence": {"class": "1000HZ", "values": [0x02A2_FD48u32, 0x02A2_FDACu32, 0x02A2_FE10u32, 0x02A2_FE74u32, 0x02A2_FED8u32, 0x02A2_FF3Cu32]},
            "notes": []
        })
    );
}

#[test]
fn jsonl_guessed_none_and_passive() {
    let guessed = &json_lines(&jsonl(os_guessed()))[3];
    assert_eq!(guessed["guessed"], true);
    assert_eq!(guessed["notes"], json!(["we could not find at least 1 open and 1 closed port"]));
    let accuracies: Vec<&Value> = guessed["matches"].as_array().unwrap().iter().map(|m| &m["accuracy"]).collect();
    assert_eq!(accuracies, [&json!(96), &json!(92), &json!(90)]);
    assert!(guessed.get("uptime_s").is_none() && guessed.get("ts_sequence").is_none());

    let none = &json_lines(&jsonl(os_none()))[3];
    assert_eq!(none["matches"], json!([]));
    assert_eq!(none["fingerprint"], "ttl=64 df=y win=65160\nopts=M,S,T,N,W7");
    assert_eq!(none["ip_id_sequence"], json!({"class": "Incremental", "values": [0x3E6F, 0x3E70, 0x3E71]}));

    let passive = &json_lines(&jsonl(os_passive()))[3];
    assert_eq!(passive["method"], "passive");
    assert_eq!(passive["matches"][0]["name"], "Linux 5.X");
    assert_eq!(passive["matches"][0]["classes"][0]["cpe"], json!([]));
    assert_eq!(passive["distance"], 1);

    // A host without a report gets no os line.
    let (scans, mut host) = os_scanned_host(os_none());
    host.os = None;
    let capture = Capture::default();
    let mut sink = JsonLinesSink::new(capture.writer()).with_service_names(names);
    feed(&mut sink, &run_info("t", scans, DisplayOptions::default()), &[host], &summary(1, 1, 1, RunExit::Success));
    assert!(!capture.text().contains(r#""type":"os""#));
}
