//! Runs the real nmap with `-O -v` inside a test bed (scanner namespace against one target with a
//! listener) and prints its normal, XML and grepable output, as the reference the OS output of this
//! crate is checked against. Needs root and nmap; touches only the bed's own namespaces.
//!
//! `OSREF_NO_CLOSED=1` filters every other port, so that nmap finds no closed TCP port.
//!
//! `cargo run -p tojimari-output --example nmap_os_reference [-- extra nmap args]`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(bed) = tojimari_testbed::bed_or_skip(1) else {
        eprintln!("note: no test bed here (needs root)");
        return ExitCode::FAILURE;
    };
    let target = bed.target(0);
    let Ok(_open) = target.listen_tcp(&[22, 80]) else {
        eprintln!("error: cannot open the listeners");
        return ExitCode::FAILURE;
    };
    if std::env::var_os("OSREF_NO_CLOSED").is_some() {
        // Every other port filtered: nmap finds no closed TCP port and says so.
        let others: Vec<u16> = (1..=1000).filter(|p| *p != 22 && *p != 80).collect();
        if target.firewall(&tojimari_testbed::firewall::drop_tcp(&others)).is_err() {
            eprintln!("error: cannot load the firewall");
            return ExitCode::FAILURE;
        }
    }
    let extra: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::env::temp_dir().join(format!("nmap-os-reference-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return ExitCode::FAILURE;
    }
    let xml = dir.join("out.xml");
    let gnmap = dir.join("out.gnmap");
    let addr = target.v4.to_string();
    let mut command = bed.scanner().command("nmap");
    command.args(["-O", "-v", "-p", "1-100", "-oX"]).arg(&xml).arg("-oG").arg(&gnmap).args(&extra).arg(&addr);
    match command.output() {
        Ok(out) => {
            println!("=== normal ===\n{}", String::from_utf8_lossy(&out.stdout));
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
        Err(e) => {
            eprintln!("error: nmap: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!("=== xml ===\n{}", std::fs::read_to_string(&xml).unwrap_or_default());
    println!("=== grepable ===\n{}", std::fs::read_to_string(&gnmap).unwrap_or_default());
    let _ = std::fs::remove_dir_all(&dir);
    ExitCode::SUCCESS
}
