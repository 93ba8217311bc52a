//! Web and TLS recipes: nginx (HTTP 80 and HTTPS 443, a page with a `<title>`) and
//! `openssl s_server -www` on 4433 (a TLS endpoint whose certificate and protocol versions the
//! posture chooses).

use super::certs::{self, Certificate, Kind};
use super::launch::{Announces, Context, Launch, args};
use super::probe::Probe;
use super::{DaemonError, Exposure, Tunnel};
use crate::listeners::Transport;

/// The page both web servers' clients see at `/`.
pub(super) const PAGE_TITLE: &str = "tojimari test bed";
/// openssl s_server's port.
pub(super) const TLS_PORT: u16 = 4433;

fn certificate(ctx: &Context<'_>, kind: Kind) -> Result<Certificate, DaemonError> {
    certs::make(ctx.daemon, ctx.dir, "server", kind, &ctx.addrs())
}

/// nginx: `nginx -g 'daemon off;' -p DIR -c DIR/nginx.conf -e DIR/error.log`, TLS 1.2+ on
/// 443. Exposed: a self-signed certificate; Safe: a CA-signed one.
pub(super) fn nginx(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let html = dir.dir("html")?;
    dir.file(
        "html/index.html",
        &format!(
            "<!DOCTYPE html>\n<html><head><title>{PAGE_TITLE}</title></head><body><h1>{PAGE_TITLE}</h1></body></html>\n"
        ),
    )?;
    for temp in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        dir.dir(&format!("tmp/{temp}"))?;
    }
    let (cert, exposures) = if ctx.exposed() {
        (certificate(ctx, Kind::SelfSigned)?, vec![Exposure::SelfSignedCertificate])
    } else {
        (certificate(ctx, Kind::FromCa)?, Vec::new())
    };
    let (v4, v6) = (ctx.v4, ctx.v6);
    let root = dir.path().display();
    let config = format!(
        "worker_processes 1;\n\
         pid {root}/nginx.pid;\n\
         error_log {root}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n\
         \x20 default_type text/html;\n\
         \x20 access_log {root}/access.log;\n\
         \x20 client_body_temp_path {root}/tmp/body;\n\
         \x20 proxy_temp_path {root}/tmp/proxy;\n\
         \x20 fastcgi_temp_path {root}/tmp/fastcgi;\n\
         \x20 uwsgi_temp_path {root}/tmp/uwsgi;\n\
         \x20 scgi_temp_path {root}/tmp/scgi;\n\
         \x20 server {{\n\
         \x20   listen {v4}:80; listen [{v6}]:80;\n\
         \x20   server_name bed.test;\n\
         \x20   root {html};\n\
         \x20 }}\n\
         \x20 server {{\n\
         \x20   listen {v4}:443 ssl; listen [{v6}]:443 ssl;\n\
         \x20   server_name bed.test;\n\
         \x20   root {html};\n\
         \x20   ssl_certificate {cert};\n\
         \x20   ssl_certificate_key {key};\n\
         \x20   ssl_protocols TLSv1.2 TLSv1.3;\n\
         \x20 }}\n\
         }}\n",
        cert = cert.cert,
        key = cert.key,
    );
    let config = dir.file("nginx.conf", &config)?;
    let mut launch = Launch::new(
        ctx,
        "/usr/sbin/nginx",
        args!["-g", "daemon off;", "-p", root, "-c", config, "-e", dir.join("error.log")],
        "nginx",
    );
    launch.packages.push("nginx-light".to_owned());
    launch.addrs = ctx.addrs();
    launch.announces = Announces::Version;
    launch.services = vec![
        ctx.service(Transport::Tcp, 80, "http", Tunnel::Plain, "nginx"),
        ctx.service(Transport::Tcp, 443, "http", Tunnel::Tls, "nginx"),
    ];
    launch.ready = vec![Probe::Connect((v4, 80).into()), Probe::Connect((v4, 443).into())];
    launch.exposures = exposures;
    launch.ca = cert.ca;
    Ok(launch)
}

/// `openssl s_server -www` on 4433. Exposed: an expired self-signed certificate and every
/// protocol from TLS 1.0 with `SECLEVEL=0` ciphers; Safe: a CA-signed certificate, TLS 1.2+.
pub(super) fn openssl_tls(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let accept = format!("{}:{TLS_PORT}", ctx.v4);
    let (cert, exposures, policy) = if ctx.exposed() {
        (
            certificate(ctx, Kind::Expired)?,
            vec![Exposure::ExpiredCertificate, Exposure::SelfSignedCertificate, Exposure::LegacyTls],
            args!["-cipher", "DEFAULT@SECLEVEL=0", "-min_protocol", "TLSv1"],
        )
    } else {
        (certificate(ctx, Kind::FromCa)?, Vec::new(), args!["-min_protocol", "TLSv1.2"])
    };
    let mut arguments = args!["s_server", "-accept", accept, "-cert", cert.cert, "-key", cert.key, "-www"];
    arguments.extend(policy);
    let mut launch = Launch::new(ctx, "/usr/bin/openssl", arguments, "openssl");
    launch.services = vec![ctx.service(Transport::Tcp, TLS_PORT, "http", Tunnel::Tls, "OpenSSL s_server")];
    launch.ready = vec![Probe::Connect((ctx.v4, TLS_PORT).into())];
    launch.exposures = exposures;
    launch.ca = cert.ca;
    Ok(launch)
}
