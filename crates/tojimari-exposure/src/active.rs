//! The active checks: which ones apply to a port, and running them each under its own time limit.
//!
//! Every check opens its own short connection (or UDP socket), sends only read-only requests, reads at
//! most [`READ_CAP`](crate::exchange::READ_CAP) bytes and closes. A check that fails (refused, timed out,
//! junk) reports nothing: an unreachable door is not an open one.

use tojimari_core::{Detail, Finding, Protocol};

use crate::context::CheckContext;
use crate::exchange::bounded;
use crate::{elasticsearch, ftp, memcached, mongodb, redis, smb, snmp, vnc};

/// What one check found.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub findings: Vec<Finding>,
    pub details: Vec<Detail>,
}

/// The active checks, one per protocol.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ActiveCheck {
    /// FEAT (AUTH TLS offered?) and anonymous login: `ftp-cleartext` evidence, `ftp-anonymous`.
    Ftp,
    /// PING / INFO server: `redis-noauth`.
    Redis,
    /// UDP `stats`: `memcached-udp`.
    MemcachedUdp,
    /// GET sysDescr.0 with default communities: `snmp-default-community`.
    Snmp,
    /// listDatabases: `mongodb-noauth`.
    Mongodb,
    /// GET / and /_cat/indices: `elasticsearch-noauth`.
    Elasticsearch,
    /// SMB1 NEGOTIATE: `smbv1`.
    Smb1,
    /// RFB security types: `vnc-noauth`.
    Vnc,
}

/// The checks that apply to `ctx`, from the service name (and product, port and transport).
///
/// Checks over plain TCP are skipped when the service was found inside TLS: they would speak cleartext to
/// a TLS listener.
pub fn planned(ctx: &CheckContext) -> Vec<ActiveCheck> {
    let name = ctx.name();
    let product = ctx.product();
    let tcp_clear = ctx.transport == Protocol::Tcp && !ctx.in_tls();
    let mut plan = Vec::new();
    if tcp_clear && name == "ftp" {
        plan.push(ActiveCheck::Ftp);
    }
    if tcp_clear && name == "redis" {
        plan.push(ActiveCheck::Redis);
    }
    if name == "memcached" {
        plan.push(ActiveCheck::MemcachedUdp);
    }
    if ctx.transport == Protocol::Udp && (name == "snmp" || ctx.addr.port() == 161) {
        plan.push(ActiveCheck::Snmp);
    }
    if tcp_clear && (name == "mongodb" || name == "mongod" || product.contains("mongodb")) {
        plan.push(ActiveCheck::Mongodb);
    }
    let search = ["elasticsearch", "opensearch"];
    if tcp_clear && (search.contains(&name.as_str()) || search.iter().any(|s| product.contains(s))) {
        plan.push(ActiveCheck::Elasticsearch);
    }
    if ctx.transport == Protocol::Tcp && matches!(name.as_str(), "microsoft-ds" | "netbios-ssn" | "smb") {
        plan.push(ActiveCheck::Smb1);
    }
    if tcp_clear && (name == "vnc" || name == "rfb") {
        plan.push(ActiveCheck::Vnc);
    }
    plan
}

/// Runs the planned active checks, each bounded by `ctx.timeout`.
pub async fn active(ctx: &CheckContext<'_>) -> (Vec<Finding>, Vec<Detail>) {
    let mut findings = Vec::new();
    let mut details = Vec::new();
    for check in planned(ctx) {
        let result = match check {
            ActiveCheck::Ftp => bounded(ctx.timeout, ftp::check(ctx)).await,
            ActiveCheck::Redis => bounded(ctx.timeout, redis::check(ctx)).await,
            // The UDP checks gather answers until their own deadline (ctx.timeout) and keep what came.
            ActiveCheck::MemcachedUdp => memcached::check(ctx).await,
            ActiveCheck::Snmp => snmp::check(ctx).await,
            ActiveCheck::Mongodb => bounded(ctx.timeout, mongodb::check(ctx)).await,
            ActiveCheck::Elasticsearch => bounded(ctx.timeout, elasticsearch::check(ctx)).await,
            ActiveCheck::Smb1 => bounded(ctx.timeout, smb::check(ctx)).await,
            ActiveCheck::Vnc => bounded(ctx.timeout, vnc::check(ctx)).await,
        };
        if let Ok(outcome) = result {
            findings.extend(outcome.findings);
            details.extend(outcome.details);
        }
    }
    (findings, details)
}

/// [`judge`](crate::judge) and [`active`] together: where both report the same id, the active finding
/// (which saw more) replaces the passive one.
pub async fn evaluate(ctx: &CheckContext<'_>) -> (Vec<Finding>, Vec<Detail>) {
    let (active_findings, details) = active(ctx).await;
    let mut findings: Vec<Finding> =
        crate::judge(ctx).into_iter().filter(|f| !active_findings.iter().any(|a| a.id == f.id)).collect();
    findings.extend(active_findings);
    (findings, details)
}
