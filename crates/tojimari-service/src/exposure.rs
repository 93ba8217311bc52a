//! The exposure-check step after naming: builds a `tojimari_exposure::CheckContext` for the port and files
//! the findings and details into its [`ServiceInfo`].
//!
//! The passive judgement runs on every named port; active checks (which connect again) only where a probe
//! named the service, so a services-table guess never sends a protocol exchange to the wrong kind of server.

use std::net::SocketAddr;
use std::time::SystemTime;

use tojimari_core::{Protocol, ServiceInfo, ServiceMethod};
use tojimari_exposure::CheckContext;
use tojimari_tls::{LegacySupport, TlsFacts};

use crate::options::IdentifyOptions;

/// Runs the checks for one port and adds what they found to `info`.
pub(crate) async fn check(
    addr: SocketAddr,
    transport: Protocol,
    info: &mut ServiceInfo,
    tls: Option<&TlsFacts>,
    legacy: Option<&LegacySupport>,
    now: SystemTime,
    opts: &IdentifyOptions,
) {
    let (findings, details) = {
        let ctx = CheckContext {
            addr,
            transport,
            service: info,
            tls,
            legacy,
            now,
            timeout: opts.connect_timeout + opts.probe_wait_cap,
        };
        if info.method == ServiceMethod::Probed {
            // Passive and active merged: where both speak about one id (ftp-cleartext), the active one wins.
            tojimari_exposure::evaluate(&ctx).await
        } else {
            (tojimari_exposure::judge(&ctx), Vec::new())
        }
    };
    info.findings.extend(findings);
    info.details.extend(details);
}
