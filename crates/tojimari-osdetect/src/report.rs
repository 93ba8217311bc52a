//! [`classify`]: exchanges in, an [`OsReport`] out: the facts, the best matches, and the sentences that
//! say why the answer is weaker (ports missing, probes unanswered). IPv6 targets go the same way: the facts
//! IPv6 cannot have (DF, IP ID) are simply not compared.
//!
//! A match is *stated* when its accuracy reaches `MatchOptions::state_at`, enough facts were compared
//! and no unrelated entry (sharing neither a family nor a vendor) comes within [`AMBIGUOUS`] points (two
//! families that close mean the facts do not decide); otherwise the near matches are listed as guesses (`guessed`), with
//! `--osscan-guess` down to 50%.

use std::time::{Duration, SystemTime};

use tojimari_core::os::{OsClass, OsMatch, OsMethod, OsReport, PortUsed, SequenceClass, TcpSequence, Uptime};
use tojimari_core::protocol::Protocol;
use tojimari_core::state::PortState;

use crate::db::{Db, Entry};
use crate::facts::{Answer, Facts};
use crate::matcher::{MatchOptions, Score, full_active, score};
use crate::sequence::difficulty;
use crate::{Exchange, Target};

/// Points within which a candidate of another family makes the best one a guess.
pub const AMBIGUOUS: u8 = 4;
/// The least compared weight for a stated match.
pub const MIN_COMPARED: u32 = 25;

pub(crate) fn classify(
    db: &Db,
    target: &Target,
    exchanges: &[Exchange],
    opts: MatchOptions,
    now: SystemTime,
) -> OsReport {
    let mut report = OsReport { method: OsMethod::Active, ..OsReport::default() };
    for (port, state, proto) in [
        (target.open_tcp, PortState::Open, Protocol::Tcp),
        (target.closed_tcp, PortState::Closed, Protocol::Tcp),
        (target.closed_udp, PortState::Closed, Protocol::Udp),
    ] {
        if let Some(port) = port {
            report.ports_used.push(PortUsed { state, proto, port });
        }
    }
    add_port_notes(target, &mut report.notes);
    let facts = Facts::read(target, exchanges);
    add_silence_notes(&facts, &mut report.notes);
    report.distance = facts.distance;
    report.uptime = facts.uptime.map(|s| Uptime {
        seconds: s,
        last_boot: now.checked_sub(Duration::from_secs(s)).unwrap_or(SystemTime::UNIX_EPOCH),
    });
    if let Some(isn) = &facts.isn {
        let index = isn.sp.unwrap_or(0);
        report.tcp_sequence =
            Some(TcpSequence { index, difficulty: difficulty(index).to_string(), values: facts.isn_values.clone() });
    }
    if let Some(c) = facts.ipid_open.or(facts.ipid_closed).or(facts.ipid_icmp) {
        report.ip_id_sequence = Some(SequenceClass { class: c.words().to_string(), values: facts.ipid_values.clone() });
    }
    if let Some(c) = facts.ts {
        report.tcp_ts_sequence = Some(SequenceClass { class: c.words(), values: facts.ts_values.clone() });
    }
    let values = facts.values();
    if values.is_empty() {
        report.notes.push("no probe was answered, so there is nothing to match".into());
        return report;
    }
    report.fingerprint = Some(facts.fingerprint());
    let full = full_active(target.dst.is_ipv6());
    let scored: Vec<(&Entry, Score)> = db.entries.iter().map(|e| (e, score(e, &values, false, full))).collect();
    let (matches, guessed) = choose(scored, opts);
    if matches.is_empty() {
        report.notes.push("no entry of the database comes close to these facts".into());
    }
    report.matches = matches;
    report.guessed = guessed;
    report
}

/// Picks the matches to list and whether they are guesses.
pub(crate) fn choose(mut scored: Vec<(&Entry, Score)>, opts: MatchOptions) -> (Vec<OsMatch>, bool) {
    scored.sort_by(|a, b| {
        b.1.accuracy.cmp(&a.1.accuracy).then(b.1.compared.cmp(&a.1.compared)).then(a.0.line.cmp(&b.0.line))
    });
    let Some(&(best, best_score)) = scored.first() else { return (vec![], false) };
    let rival = scored
        .iter()
        .find(|(e, _)| !related(e, best))
        .is_some_and(|(_, s)| s.accuracy + AMBIGUOUS > best_score.accuracy);
    let stated = best_score.accuracy >= opts.state_at && best_score.compared >= MIN_COMPARED && !rival;
    let floor = if stated {
        opts.state_at
    } else if opts.guess {
        50
    } else {
        opts.guess_at
    };
    // A stated answer names one kind of system: its unrelated runners-up are left out.
    let matches: Vec<OsMatch> = scored
        .iter()
        .filter(|(e, s)| s.accuracy >= floor && s.accuracy > 0 && (!stated || related(e, best)))
        .take(opts.limit)
        .map(|(e, s)| to_match(e, s.accuracy))
        .collect();
    (matches, !stated)
}

/// Whether two entries share a family or a vendor in any of their classes (Android and Linux, macOS and
/// iOS, two Windows): such near neighbours do not make each other ambiguous.
fn related(a: &Entry, b: &Entry) -> bool {
    a.classes.iter().any(|x| b.classes.iter().any(|y| x.family == y.family || x.vendor == y.vendor))
}

pub(crate) fn to_match(e: &Entry, accuracy: u8) -> OsMatch {
    OsMatch {
        name: e.name.clone(),
        accuracy,
        line: e.line,
        classes: e
            .classes
            .iter()
            .map(|c| OsClass {
                device_type: c.device_type.clone(),
                vendor: c.vendor.clone(),
                family: c.family.clone(),
                generation: c.generation.clone(),
                accuracy,
                cpe: c.cpe.clone(),
            })
            .collect(),
    }
}

fn add_port_notes(t: &Target, notes: &mut Vec<String>) {
    if t.open_tcp.is_none() {
        notes.push("no open TCP port was found, so 10 of 16 tests did not run".into());
    }
    if t.closed_tcp.is_none() {
        notes.push("no closed TCP port was found, so 3 of 16 tests did not run".into());
    }
    if t.closed_udp.is_none() {
        notes.push("no closed UDP port was found, so 1 of 16 tests did not run".into());
    }
}

fn add_silence_notes(f: &Facts, notes: &mut Vec<String>) {
    let silent = |a: &Option<Answer<_>>| matches!(a, Some(Answer::Silent));
    let mut names = Vec::new();
    let seq_silent = f.syn.iter().filter(|a| silent(a)).count();
    if seq_silent > 0 {
        names.push(format!("{seq_silent} of the sequence SYNs"));
    }
    if silent(&f.ecn) {
        names.push("the ECN SYN".into());
    }
    // Of the odd packets only the SYN to the closed port (T5) is answered by every stack: the silence of
    // the others is a fact of the stack (Linux ignores T2 and T3), not a sign of a firewall.
    if f.odd.get(3).is_some_and(silent) {
        names.push("T5 (the SYN to the closed port)".into());
    }
    if matches!(f.u1, Some(Answer::Silent)) {
        names.push("the UDP probe".into());
    }
    if matches!(f.ie, Some(Answer::Silent)) {
        names.push("the ICMP echoes".into());
    }
    if !names.is_empty() {
        notes.push(format!("no answer to {}", names.join(", ")));
    }
}
