//! TLS certificates made with the `openssl` command line for a daemon's directory: a fresh
//! self-signed one, an expired self-signed one (valid 2020-2021, made with `openssl ca
//! -selfsign` and explicit dates), or one signed by a fresh per-daemon CA.
//!
//! Every certificate is RSA 2048 for CN `bed.test`, with the target's addresses as
//! subjectAltNames.

use std::net::IpAddr;
use std::process::Command;

use super::workdir::WorkDir;
use super::{Daemon, DaemonError};
use crate::netns::run_checked;

/// The common name of every certificate made here.
pub(super) const COMMON_NAME: &str = "bed.test";

/// Paths of a certificate and its private key (PEM).
#[derive(Debug, Clone)]
pub(super) struct Certificate {
    pub(super) cert: String,
    pub(super) key: String,
    /// The CA certificate that signed it, when it is not self-signed.
    pub(super) ca: Option<String>,
}

/// Which certificate to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Self-signed, valid for 30 days from now.
    SelfSigned,
    /// Self-signed, valid 2020-2021.
    Expired,
    /// Signed by a fresh CA (returned in [`Certificate::ca`]).
    FromCa,
}

/// Makes a `kind` certificate named `name` (files `name.pem`, `name.key`) in `dir`.
pub(super) fn make(
    daemon: Daemon,
    dir: &WorkDir,
    name: &str,
    kind: Kind,
    addrs: &[IpAddr],
) -> Result<Certificate, DaemonError> {
    let cert = dir.join(&format!("{name}.pem"));
    let key = dir.join(&format!("{name}.key"));
    let san = subject_alt_names(addrs);
    let subject = format!("/CN={COMMON_NAME}");
    let run = |step: &str, args: &[&str]| -> Result<(), DaemonError> {
        let mut command = Command::new("openssl");
        command.args(args);
        run_checked(&mut command, None).map(drop).map_err(|e| DaemonError::setup(daemon, step, e))
    };
    match kind {
        Kind::SelfSigned => {
            run(
                "make a self-signed certificate",
                &[
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", &subject, "-addext", &san,
                    "-keyout", &key, "-out", &cert,
                ],
            )?;
            Ok(Certificate { cert, key, ca: None })
        }
        Kind::Expired => {
            let csr = dir.join(&format!("{name}.csr"));
            let ca_dir = dir.dir(&format!("{name}-ca"))?;
            dir.file(&format!("{name}-ca/index.txt"), "")?;
            dir.file(&format!("{name}-ca/serial"), "1000\n")?;
            let config = dir.file(&format!("{name}-ca.cnf"), &ca_config(&ca_dir, &san))?;
            run(
                "make a certificate request",
                &["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", &subject, "-keyout", &key, "-out", &csr],
            )?;
            run(
                "self-sign an expired certificate",
                &[
                    "ca",
                    "-batch",
                    "-config",
                    &config,
                    "-selfsign",
                    "-keyfile",
                    &key,
                    "-in",
                    &csr,
                    "-startdate",
                    "20200101000000Z",
                    "-enddate",
                    "20210101000000Z",
                    "-extensions",
                    "leaf",
                    "-notext",
                    "-out",
                    &cert,
                ],
            )?;
            Ok(Certificate { cert, key, ca: None })
        }
        Kind::FromCa => {
            let ca_cert = dir.join(&format!("{name}-ca.pem"));
            let ca_key = dir.join(&format!("{name}-ca.key"));
            let csr = dir.join(&format!("{name}.csr"));
            let extensions = dir.file(
                &format!("{name}.ext"),
                &format!("basicConstraints=CA:FALSE\n{san}\nextendedKeyUsage=serverAuth\n"),
            )?;
            run(
                "make a CA",
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "30",
                    "-subj",
                    "/CN=tojimari test bed CA",
                    "-keyout",
                    &ca_key,
                    "-out",
                    &ca_cert,
                ],
            )?;
            run(
                "make a certificate request",
                &["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", &subject, "-keyout", &key, "-out", &csr],
            )?;
            run(
                "sign the certificate with the CA",
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    &ca_cert,
                    "-CAkey",
                    &ca_key,
                    "-CAcreateserial",
                    "-days",
                    "30",
                    "-sha256",
                    "-extfile",
                    &extensions,
                    "-out",
                    &cert,
                ],
            )?;
            Ok(Certificate { cert, key, ca: Some(ca_cert) })
        }
    }
}

/// `subjectAltName=DNS:bed.test,IP:...`.
fn subject_alt_names(addrs: &[IpAddr]) -> String {
    let mut san = format!("subjectAltName=DNS:{COMMON_NAME}");
    for addr in addrs {
        san.push_str(&format!(",IP:{addr}"));
    }
    san
}

/// A minimal `openssl ca` configuration whose database lives in `ca_dir`.
fn ca_config(ca_dir: &str, san: &str) -> String {
    format!(
        "[ca]\ndefault_ca = bed\n\
         [bed]\ndatabase = {ca_dir}/index.txt\nserial = {ca_dir}/serial\nnew_certs_dir = {ca_dir}\n\
         default_md = sha256\npolicy = any\nunique_subject = no\n\
         [any]\ncommonName = supplied\n\
         [leaf]\nbasicConstraints = CA:FALSE\n{san}\n"
    )
}
