//! A stand-in for `tojimari watch` until the CLI wires it:
//! `watch [-i IFACE]... [--pcap FILE]... [--log FILE]... [-oJ FILE] [--syslog] [--for SECS] [--net CIDR]... [-q]`.

use std::time::Duration;

use tojimari_watch::WatchArgs;

fn main() {
    let mut args = WatchArgs::default();
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        let mut value = || argv.next().unwrap_or_default();
        match flag.as_str() {
            "-i" => args.interfaces.push(value()),
            "--pcap" => args.pcap.push(value().into()),
            "--log" => args.log.push(value().into()),
            "-oJ" => args.json = Some(value().into()),
            "--syslog" => args.syslog = true,
            "-q" | "--quiet" => args.quiet = true,
            "--for" => args.duration = value().trim_end_matches('s').parse().ok().map(Duration::from_secs_f64),
            "--net" => match value().parse() {
                Ok(net) => args.nets.push(net),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            },
            other => {
                eprintln!("error: unknown argument {other:?}");
                std::process::exit(2);
            }
        }
    }
    let code = tojimari_watch::run(args, &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(code);
}
