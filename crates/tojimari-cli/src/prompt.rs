//! `tojimari local --stop`'s question on the terminal: the question on stderr, the answer from standard
//! input, which must be a terminal (else nobody is asked and nothing is stopped; `--yes` answers for
//! scripts).

use std::io::{self, IsTerminal, Write};

use tojimari_local::{Answer, Prompt, read_answer};

/// Asks on the terminal.
#[derive(Copy, Clone, Debug, Default)]
pub struct TerminalPrompt;

impl Prompt for TerminalPrompt {
    fn ask(&mut self, question: &str) -> io::Result<Answer> {
        let stdin = io::stdin();
        if !stdin.is_terminal() {
            return Ok(Answer::NotATerminal);
        }
        let mut stderr = io::stderr().lock();
        write!(stderr, "{question}")?;
        stderr.flush()?;
        let answer = read_answer(&mut stdin.lock())?;
        if answer == Answer::EndOfInput {
            // The question is still open on its line: what follows starts a line of its own.
            writeln!(stderr)?;
        }
        Ok(answer)
    }
}
