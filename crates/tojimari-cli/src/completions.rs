//! `tojimari completions SHELL` and `tojimari man`: shell completion scripts and the man page, generated
//! from the same clap definitions as `--help` ([`crate::args::Cli`]), so they never say something else.
//!
//! The generated files are checked in (`docs/completions/`, `docs/man/tojimari.1`); a test regenerates them
//! and fails when they drift from the definitions.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::{Cli, CompletionShell};

/// The program name the scripts complete.
const BIN: &str = "tojimari";

/// Writes the completion script for `shell`.
pub fn write_completions(shell: CompletionShell, out: &mut dyn Write) -> io::Result<()> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    // clap_complete writes through a `Write` and panics on a write error; render to memory first so a
    // closed pipe stays an `io::Error` for `main` to judge.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut script);
    out.write_all(&script)?;
    out.flush()
}

/// Writes the man page (section 1, roff) of `tojimari` and its subcommands.
pub fn write_man_page(out: &mut dyn Write) -> io::Result<()> {
    let command = Cli::command();
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    // Each visible subcommand's own options, so `man tojimari` is the whole reference.
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let name = sub.get_name();
        writeln!(page, ".SH \"TOJIMARI {}\"", name.to_uppercase())?;
        let sub = sub.clone().bin_name(format!("{BIN} {name}"));
        let man = clap_mangen::Man::new(sub);
        // The synopsis and options of the subcommand, without another title block.
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        man.render_options_section(&mut part)?;
        man.render_extra_section(&mut part)?;
        page.extend_from_slice(&demote_sections(&part));
    }
    man.render_extra_section(&mut page)?;
    man.render_version_section(&mut page)?;
    out.write_all(&once_preamble(&page))?;
    out.flush()
}

/// clap_mangen starts every section it renders with the same two-line string definition; one at the top
/// of the page is enough.
fn once_preamble(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let mut seen = (false, false);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let first = match line {
            ".ie \\n(.g .ds Aq \\(aq" => !std::mem::replace(&mut seen.0, true),
            ".el .ds Aq '" => !std::mem::replace(&mut seen.1, true),
            _ => true,
        };
        if first {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// A subcommand's sections (`.SH NAME`) become subsections (`.SS NAME`) under its own heading.
fn demote_sections(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        match line.strip_prefix(".SH ") {
            Some(rest) => out.push_str(&format!(".SS {rest}")),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shell_gets_a_script_naming_every_subcommand() {
        for shell in [CompletionShell::Bash, CompletionShell::Zsh, CompletionShell::Fish] {
            let mut out = Vec::new();
            write_completions(shell, &mut out).unwrap();
            let script = String::from_utf8(out).unwrap();
            for sub in ["scan", "ports", "check", "local", "watch", "completions"] {
                assert!(script.contains(sub), "{shell:?} lacks {sub}");
            }
            assert!(script.contains("top-ports"), "{shell:?} lacks scan's options");
        }
    }

    #[test]
    fn the_man_page_has_every_subcommand_and_its_options() {
        let mut out = Vec::new();
        write_man_page(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.starts_with(".ie"), "{}", &page[..80.min(page.len())]);
        assert!(page.contains(".TH tojimari 1"), "title");
        for section in ["TOJIMARI SCAN", "TOJIMARI LOCAL", "TOJIMARI WATCH", "TOJIMARI CHECK"] {
            assert!(page.contains(section), "{section}");
        }
        assert!(!page.contains("TOJIMARI MAN"), "the hidden subcommand is not documented");
        assert!(page.contains("top\\-ports"), "scan's options");
    }

    #[test]
    fn subsections_under_a_subcommand() {
        assert_eq!(demote_sections(b".SH OPTIONS\n.TP\n"), b".SS OPTIONS\n.TP\n");
        let twice = b".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.SH A\n.ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.SH B\n";
        assert_eq!(once_preamble(twice), b".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.SH A\n.SH B\n");
    }
}
