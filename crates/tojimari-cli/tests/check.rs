//! `tojimari check`: the ready-made checks on a test-bed host whose ground truth the test sets up.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::process::{Command, Output};

use tojimari_testbed::{TestBed, firewall, testbed_or_skip};

/// `command` under the locale `lang` (`LANG`; `None`: no locale variable at all), whatever the machine's.
fn locale<'a>(command: &'a mut Command, lang: Option<&str>) -> &'a mut Command {
    command.env_remove("LC_ALL").env_remove("LC_MESSAGES");
    match lang {
        Some(lang) => command.env("LANG", lang),
        None => command.env_remove("LANG"),
    }
}

/// `tojimari check ARGS` in the test bed's scanner namespace, with no locale set (English).
fn check(bed: &TestBed, args: &[&str]) -> (String, Output) {
    check_in(bed, None, args)
}

/// `tojimari check ARGS` under the locale `lang`.
fn check_in(bed: &TestBed, lang: Option<&str>, args: &[&str]) -> (String, Output) {
    let mut command = bed.scanner().command(env!("CARGO_BIN_EXE_tojimari"));
    let out = locale(&mut command, lang).arg("check").args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "check {args:?}: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    (text, out)
}

fn row<'a>(text: &'a str, port: &str) -> &'a str {
    text.lines().find(|l| l.trim_start().starts_with(port)).unwrap_or_else(|| panic!("no row {port} in\n{text}"))
}

#[test]
fn quick_check_tells_open_closed_and_stealth_ports() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22, 12345]).unwrap();
    target.firewall(&firewall::drop_tcp(&[80, 443, 8080])).unwrap();
    let addr = target.v4.to_string();
    let (text, _) = check(&bed, &["quick", &addr]);
    assert!(row(&text, "22/tcp").contains("OPEN"), "{text}");
    assert!(row(&text, "21/tcp").contains("CLOSED"), "{text}");
    assert!(row(&text, "80/tcp").contains("STEALTH"), "{text}");
    assert!(row(&text, "8080/tcp").contains("STEALTH"), "{text}");
    // A trojan port that is open is listed with its name, and called out in the advice.
    assert!(row(&text, "12345/tcp").contains("NetBus") && row(&text, "12345/tcp").contains("OPEN"), "{text}");
    assert!(text.contains("12345/tcp OPEN: a well-known backdoor port (NetBus)"), "{text}");
    assert!(text.contains("22/tcp OPEN: SSH is fine"), "{text}");
    assert!(text.contains("ICMP echo: ANSWERED"), "{text}");
    assert!(text.contains("A machine that serves nothing should show every port STEALTH."), "{text}");
}

#[test]
fn a_host_that_drops_everything_is_all_stealth() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    target.firewall(&firewall::random_loss(100)).unwrap();
    let addr = target.v4.to_string();
    let (text, _) = check(&bed, &["trojan", &addr]);
    assert!(text.contains("Every port is STEALTH"), "{text}");
    assert!(text.contains("Verdict: 0 OPEN, 0 CLOSED, "), "{text}");
    let (text, _) = check(&bed, &["stealth", &addr]);
    assert!(text.contains("Every port is STEALTH to every probe type: a stateful firewall"), "{text}");
}

#[test]
fn stealth_check_tells_a_stateless_filter() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22]).unwrap();
    let common: Vec<u16> =
        vec![21, 23, 25, 53, 79, 80, 110, 113, 135, 139, 143, 443, 445, 1080, 1900, 2869, 3128, 5000, 8080];
    target.firewall(&firewall::drop_pure_syn(&common)).unwrap();
    let addr = target.v4.to_string();
    let (text, _) = check(&bed, &["stealth", &addr]);
    // SYN dropped, FIN/NULL/Xmas reach the closed port and get a reset.
    let r = row(&text, "80/tcp");
    assert!(r.contains("STEALTH  CLOSED   CLOSED   CLOSED"), "{text}");
    assert!(text.contains("a STATELESS filter"), "{text}");
    assert!(row(&text, "22/tcp").contains("OPEN"), "{text}");
}

#[test]
fn tcp_check_lists_open_ports_and_counts_the_rest() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[25, 631]).unwrap();
    target.firewall(&firewall::drop_tcp(&[1, 2, 3])).unwrap();
    let addr = target.v4.to_string();
    let (text, _) = check(&bed, &["tcp", &addr]);
    assert!(row(&text, "25/tcp").contains("OPEN") && row(&text, "631/tcp").contains("OPEN"), "{text}");
    assert!(text.contains("(other ports: 1019 CLOSED, 3 STEALTH)"), "{text}");
    assert!(text.contains("Verdict: 2 OPEN, 1019 CLOSED, 3 STEALTH of 1024 ports."), "{text}");
}

#[test]
fn unknown_check_and_missing_target_are_usage_errors() {
    for args in [&["nosuch", "198.18.0.2"][..], &["quick"][..]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tojimari")).arg("check").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("hint"), "{err}");
    }
}

/// Without raw-socket privilege `quick` runs as a connect scan, says ICMP echo was not tested, and a target
/// after `--` is simply a target.
#[test]
fn quick_check_without_privilege_checks_a_target_given_after_double_dash() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22, 31337]).unwrap();
    target.firewall(&firewall::drop_tcp(&[80])).unwrap();
    let addr = target.v4.to_string();
    let mut command = bed.scanner().command("setpriv");
    let out = locale(&mut command, None)
        .args(["--bounding-set", "-net_raw", "--inh-caps", "-net_raw", env!("CARGO_BIN_EXE_tojimari")])
        .args(["check", "quick", "--", &addr])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{text}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("tojimari check quick: {addr}")), "{text}");
    assert!(row(&text, "22/tcp").contains("OPEN"), "{text}");
    assert!(row(&text, "21/tcp").contains("CLOSED"), "{text}");
    assert!(row(&text, "80/tcp").contains("STEALTH"), "{text}");
    assert!(row(&text, "31337/tcp").contains("OPEN"), "{text}");
    assert!(!text.contains("/udp"), "a UDP scan needs raw sockets: {text}");
    assert!(
        text.contains("ICMP echo: not tested: sending ICMP echo needs root (or the CAP_NET_RAW capability)"),
        "{text}"
    );
}

/// With a Japanese locale the report is in Japanese: the verdicts keep their Latin words with a Japanese
/// explanation, the advice and headings are Japanese, the columns still line up; `C` or `--lang en` is
/// English as before, and `--lang ja` wins over an English locale.
#[test]
fn quick_check_speaks_the_readers_language() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22, 12345]).unwrap();
    target.firewall(&firewall::drop_tcp(&[80, 443, 8080])).unwrap();
    let addr = target.v4.to_string();
    let (ja, _) = check_in(&bed, Some("ja_JP.UTF-8"), &["quick", &addr]);
    assert!(row(&ja, "22/tcp").contains("OPEN（開いている）"), "{ja}");
    assert!(row(&ja, "21/tcp").contains("CLOSED（閉じている）"), "{ja}");
    assert!(row(&ja, "80/tcp").contains("STEALTH（応答なし）"), "{ja}");
    assert!(row(&ja, "12345/tcp").contains("トロイの木馬: NetBus"), "{ja}");
    assert!(ja.contains("22/tcp OPEN（開いている）: SSH はリモート管理に使ってかまいません"), "{ja}");
    assert!(ja.contains("12345/tcp OPEN（開いている）: よく知られたバックドアのポートです（NetBus）"), "{ja}");
    assert!(ja.contains("`tojimari local --port 12345`"), "{ja}");
    assert!(ja.contains("ICMP エコー（ping）: ANSWERED（応答あり）"), "{ja}");
    assert!(ja.contains("判定: ") && ja.contains("すべてのポートが STEALTH（応答なし）になるはずです"), "{ja}");
    assert!(!ja.contains("Verdict") && !ja.contains("RESULT"), "English left in the Japanese report: {ja}");
    // The heading's columns start where the rows' do, counted in terminal columns (a kana takes two).
    let heading = ja.lines().find(|l| l.contains("ポート")).unwrap_or_else(|| panic!("no heading in {ja}"));
    let column = |line: &str, word: &str| tojimari_i18n::width::display_width(&line[..line.find(word).unwrap()]);
    assert_eq!(column(heading, "名前"), column(row(&ja, "22/tcp"), "SSH"), "{ja}");
    assert_eq!(column(heading, "結果"), column(row(&ja, "22/tcp"), "OPEN"), "{ja}");

    for (lang, args) in [(Some("C"), vec!["quick", &addr]), (Some("ja_JP.UTF-8"), vec!["quick", "--lang", "en", &addr])]
    {
        let (en, _) = check_in(&bed, lang, &args);
        assert!(row(&en, "22/tcp").ends_with("OPEN"), "{en}");
        assert!(en.contains("22/tcp OPEN: SSH is fine") && en.contains("Verdict: "), "{lang:?} {args:?}: {en}");
        assert!(!en.contains("開いている"), "{lang:?} {args:?}: {en}");
    }
    let (ja, _) = check_in(&bed, Some("en_US.UTF-8"), &["trojan", "--lang", "ja", &addr]);
    assert!(row(&ja, "12345/tcp").contains("OPEN（開いている）"), "{ja}");
}

/// The stealth check's verdict in Japanese: the stateless filter named, the probe columns kept.
#[test]
fn stealth_check_in_japanese_names_a_stateless_filter() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let common: Vec<u16> =
        vec![21, 22, 23, 25, 53, 79, 80, 110, 113, 135, 139, 143, 443, 445, 1080, 1900, 2869, 3128, 5000, 8080];
    target.firewall(&firewall::drop_pure_syn(&common)).unwrap();
    let addr = target.v4.to_string();
    let (ja, _) = check_in(&bed, Some("ja_JP.UTF-8"), &["stealth", &addr]);
    assert!(row(&ja, "80/tcp").contains("STEALTH  CLOSED   CLOSED   CLOSED"), "{ja}");
    assert!(ja.contains("判定:\n  20 個のポートが、SYN は破棄するのに FIN/NULL/Xmas にはリセットを返します"), "{ja}");
    assert!(ja.contains("STATELESS（状態を持たない）フィルター"), "{ja}");
    let heading = ja.lines().find(|l| l.contains("ポート")).unwrap_or_else(|| panic!("no heading in {ja}"));
    assert!(heading.contains("名前") && heading.ends_with("XMAS"), "{ja}");
}

#[test]
fn a_bad_language_is_a_usage_error_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_tojimari"))
        .args(["check", "quick", "--lang", "klingon", "198.18.0.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: --lang must be en (English) or ja (Japanese), not \"klingon\""), "{err}");
    assert!(err.contains("(hint: for example: tojimari check quick --lang ja TARGET)"), "{err}");
}
