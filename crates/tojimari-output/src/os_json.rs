//! The JSON Lines `os` line (its format is specified with the others in [`crate::jsonl`]).

use std::net::IpAddr;

use serde::Serialize;
use tojimari_core::os::{OsClass, OsMatch, OsMethod, OsReport, PortUsed, SequenceClass, TcpSequence};

use crate::datetime::unix_secs_f64;

#[derive(Serialize)]
pub(crate) struct OsLine<'a> {
    addr: IpAddr,
    method: &'static str,
    matches: Vec<MatchLine<'a>>,
    guessed: bool,
    ports_used: Vec<PortUsedLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_boot: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp_sequence: Option<TcpSequenceLine<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_id_sequence: Option<SequenceLine<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts_sequence: Option<SequenceLine<'a>>,
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a str>,
}

#[derive(Serialize)]
struct MatchLine<'a> {
    name: &'a str,
    accuracy: u8,
    line: u32,
    classes: Vec<ClassLine<'a>>,
}

#[derive(Serialize)]
struct ClassLine<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    device_type: Option<&'a str>,
    vendor: &'a str,
    family: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation: Option<&'a str>,
    accuracy: u8,
    cpe: &'a [String],
}

#[derive(Serialize)]
struct PortUsedLine {
    state: &'static str,
    proto: &'static str,
    port: u16,
}

#[derive(Serialize)]
struct TcpSequenceLine<'a> {
    index: u32,
    difficulty: &'a str,
    values: &'a [u32],
}

#[derive(Serialize)]
struct SequenceLine<'a> {
    class: &'a str,
    values: &'a [u32],
}

impl<'a> OsLine<'a> {
    pub(crate) fn new(addr: IpAddr, os: &'a OsReport) -> OsLine<'a> {
        OsLine {
            addr,
            method: match os.method {
                OsMethod::Active => "active",
                OsMethod::Passive => "passive",
            },
            matches: os.matches.iter().map(match_line).collect(),
            guessed: os.guessed,
            ports_used: os.ports_used.iter().map(port_used).collect(),
            distance: os.distance,
            uptime_s: os.uptime.map(|u| u.seconds),
            last_boot: os.uptime.map(|u| unix_secs_f64(u.last_boot)),
            tcp_sequence: os.tcp_sequence.as_ref().map(tcp_sequence),
            ip_id_sequence: os.ip_id_sequence.as_ref().map(sequence),
            ts_sequence: os.tcp_ts_sequence.as_ref().map(sequence),
            notes: &os.notes,
            fingerprint: os.fingerprint.as_deref(),
        }
    }
}

fn match_line(m: &OsMatch) -> MatchLine<'_> {
    MatchLine {
        name: &m.name,
        accuracy: m.accuracy.min(100),
        line: m.line,
        classes: m.classes.iter().map(class_line).collect(),
    }
}

fn class_line(c: &OsClass) -> ClassLine<'_> {
    ClassLine {
        device_type: (!c.device_type.is_empty()).then_some(c.device_type.as_str()),
        vendor: &c.vendor,
        family: &c.family,
        generation: c.generation.as_deref(),
        accuracy: c.accuracy.min(100),
        cpe: &c.cpe,
    }
}

fn port_used(p: &PortUsed) -> PortUsedLine {
    PortUsedLine { state: p.state.as_str(), proto: p.proto.as_str(), port: p.port }
}

fn tcp_sequence(s: &TcpSequence) -> TcpSequenceLine<'_> {
    TcpSequenceLine { index: s.index, difficulty: &s.difficulty, values: &s.values }
}

fn sequence(s: &SequenceClass) -> SequenceLine<'_> {
    SequenceLine { class: &s.class, values: &s.values }
}
