//! One control connection to the FTP relay, as a state machine without I/O: replies and `now` in, commands
//! and verdicts out.
//!
//! The conversation: the 220 greeting, `USER`/`PASS`, then a *qualifying* `PORT` naming the target and an
//! unprivileged port (a `PORT` alone opens nothing: it only shows whether the server accepts a third party's
//! address; a 5xx here is a server that refuses bounces, told at once). Then, per port, `PORT
//! a,b,c,d,p1,p2` and `LIST`, whose reply is the verdict:
//!
//! | reply to `LIST`                          | verdict                                  |
//! |------------------------------------------|------------------------------------------|
//! | 1xx (150, 125: the data connection opens), 2xx, 426 | open                          |
//! | 425 within [`Timeouts::slow_refusal`]    | closed (the target refused the relay)    |
//! | 425 later than that                      | filtered (the relay's own connect timed out) |
//! | nothing within [`Timeouts::hang`]        | filtered; the connection is given up     |
//! | 5xx (vsftpd: `500 OOPS: Illegal port request`) | the relay refuses this port          |
//!
//! A 5xx to the per-port `PORT` is the relay refusing that port too, except vsftpd's `500 OOPS:` about
//! anything but the port (`priv_sock_get_cmd`, a helper process that died): that is the session failing,
//! which ends it, and the port is asked again on another connection. After a preliminary 1xx the session
//! waits for the transfer's end (2xx, or 4xx when aborted); if it does not come within
//! [`Timeouts::transfer`] it sends `ABOR` and waits for the abort's reply. Completion replies that arrive
//! while nothing is pending (the second reply of an `ABOR` that crossed the transfer's end) are skipped.
//!
//! Anything else (a reply that fits no step, bytes that are no reply, the connection closing) ends the
//! session: the port in flight, if any, is handed back unanswered ([`Closed::unanswered`]) so that another
//! connection asks again; no verdict is ever guessed.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::reply::Reply;

/// How long the session waits at each step.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// For a reply to any command but `LIST` (greeting, login, `PORT`, `ABOR`).
    pub reply: Duration,
    /// For the reply to `LIST`: silence this long is a filtered port.
    pub hang: Duration,
    /// A 425 later than this after `LIST` is the relay's connect timing out (filtered), not a refusal.
    pub slow_refusal: Duration,
    /// For the end of a transfer after its 1xx, before `ABOR`.
    pub transfer: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            reply: Duration::from_secs(10),
            hang: Duration::from_secs(5),
            slow_refusal: Duration::from_millis(2500),
            transfer: Duration::from_secs(3),
        }
    }
}

/// What the relay's answer says about a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Open,
    Closed,
    /// Silence, or the relay's own connect timing out.
    Filtered,
    /// The relay would not connect to this port (its reply).
    Refused(String),
}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// 421 (vsftpd: "There are too many connected users"): the server's limit of sessions.
    TooMany(String),
    /// The login was refused (the reply).
    LoginRefused(String),
    /// The qualifying `PORT` was refused: the server relays to no third party (the reply).
    BounceRefused(String),
    /// No reply in time (the step that hung).
    Hung(&'static str),
    /// A `LIST` went unanswered: the port was filtered and the connection is out of step.
    AfterSilence,
    /// A reply that fits no step, or bytes that are no reply.
    Nonsense(String),
    /// The server closed the connection.
    Dropped,
}

/// The session is over: the I/O edge closes the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    pub ending: Ending,
    /// The port asked about and not answered (to ask again elsewhere).
    pub unanswered: Option<u16>,
    /// Whether the login had succeeded.
    pub logged_in: bool,
}

/// What the I/O edge does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Write this command (CRLF is added by the edge).
    Send(String),
    /// A port's verdict.
    Verdict(u16, Verdict),
    /// The session is idle: give it a port ([`Session::ask`]).
    Ready,
    /// Close the connection.
    Close(Closed),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Phase {
    Greeting,
    User,
    Pass,
    Qualify,
    Idle,
    Port(u16),
    List(u16, Instant),
    Transfer,
    Abort,
    Done,
}

/// One control connection's state.
#[derive(Debug)]
pub struct Session {
    target: Ipv4Addr,
    user: String,
    password: String,
    qualify_port: u16,
    timeouts: Timeouts,
    phase: Phase,
    deadline: Option<Instant>,
    logged_in: bool,
}

impl Session {
    /// A session that bounces to `target`, logging in as `user`; `qualify_port` (1024 or above) is the port
    /// the qualifying `PORT` names. Starts waiting for the greeting.
    pub fn new(now: Instant, target: Ipv4Addr, user: &str, password: &str, qualify_port: u16, t: Timeouts) -> Self {
        Session {
            target,
            user: user.to_string(),
            password: password.to_string(),
            qualify_port,
            timeouts: t,
            phase: Phase::Greeting,
            deadline: Some(now + t.reply),
            logged_in: false,
        }
    }

    /// When [`Session::tick`] must be called if no reply comes first.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the session ended.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether the session is logged in and waits for a port to ask about ([`Session::ask`] takes one).
    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Idle
    }

    /// Asks about `port` (only when idle; otherwise nothing happens).
    pub fn ask(&mut self, now: Instant, port: u16) -> Vec<Step> {
        if self.phase != Phase::Idle {
            return Vec::new();
        }
        self.wait(now, Phase::Port(port), self.timeouts.reply);
        vec![Step::Send(self.port_command(port))]
    }

    /// A reply came.
    pub fn reply(&mut self, now: Instant, r: &Reply) -> Vec<Step> {
        let text = || r.first.clone();
        match self.phase {
            Phase::Greeting => match r.code {
                220 => self.send(now, Phase::User, format!("USER {}", self.user)),
                120 => Vec::new(),
                421 => self.close(Ending::TooMany(text()), None),
                _ => self.close(Ending::Nonsense(text()), None),
            },
            Phase::User => match r.code {
                331 => self.send(now, Phase::Pass, format!("PASS {}", self.password)),
                230 => self.logged(now),
                421 => self.close(Ending::TooMany(text()), None),
                _ => self.close(Ending::LoginRefused(text()), None),
            },
            Phase::Pass => match r.code {
                230 | 202 => self.logged(now),
                421 => self.close(Ending::TooMany(text()), None),
                _ => self.close(Ending::LoginRefused(text()), None),
            },
            Phase::Qualify => match r.class() {
                2 if r.code == 200 => self.idle(),
                // The ABOR-crossing completion replies never come here; anything 5xx is a refusal.
                5 => self.close(Ending::BounceRefused(text()), None),
                _ if r.code == 421 => self.close(Ending::TooMany(text()), None),
                _ => self.close(Ending::Nonsense(text()), None),
            },
            Phase::Port(port) => match r.code {
                200 => {
                    self.wait(now, Phase::List(port, now), self.timeouts.hang);
                    vec![Step::Send("LIST".into())]
                }
                // A late completion reply (an ABOR's, or a transfer's that crossed it): not this PORT's.
                225 | 226 | 250 => Vec::new(),
                421 => self.close(Ending::Dropped, Some(port)),
                500..=599 if broke_down(&r.text) => self.close(Ending::Dropped, Some(port)),
                500..=599 => {
                    let mut steps = vec![Step::Verdict(port, Verdict::Refused(text()))];
                    steps.extend(self.idle());
                    steps
                }
                _ => self.close(Ending::Nonsense(text()), Some(port)),
            },
            Phase::List(port, since) => {
                let verdict = match r.code {
                    100..=199 => {
                        self.wait(now, Phase::Transfer, self.timeouts.transfer);
                        return vec![Step::Verdict(port, Verdict::Open)];
                    }
                    200..=299 | 426 => Verdict::Open,
                    425 if now.saturating_duration_since(since) > self.timeouts.slow_refusal => Verdict::Filtered,
                    425 => Verdict::Closed,
                    421 => return self.close(Ending::Dropped, Some(port)),
                    500..=599 if broke_down(&r.text) => return self.close(Ending::Dropped, Some(port)),
                    500..=599 => Verdict::Refused(text()),
                    _ => return self.close(Ending::Nonsense(text()), Some(port)),
                };
                let mut steps = vec![Step::Verdict(port, verdict)];
                steps.extend(self.idle());
                steps
            }
            Phase::Transfer => match r.class() {
                1 => Vec::new(),
                2 | 4 | 5 => self.idle(),
                _ => self.close(Ending::Nonsense(text()), None),
            },
            Phase::Abort => match r.class() {
                1 | 4 => Vec::new(),
                2 => self.idle(),
                _ => self.close(Ending::Nonsense(text()), None),
            },
            Phase::Idle => match r.class() {
                2 => Vec::new(),
                _ if r.code == 421 => self.close(Ending::Dropped, None),
                _ => self.close(Ending::Nonsense(text()), None),
            },
            Phase::Done => Vec::new(),
        }
    }

    /// Time passed; acts if the deadline is reached.
    pub fn tick(&mut self, now: Instant) -> Vec<Step> {
        match self.deadline {
            Some(deadline) if now >= deadline => {}
            _ => return Vec::new(),
        }
        match self.phase {
            Phase::Greeting => self.close(Ending::Hung("the greeting"), None),
            Phase::User | Phase::Pass => self.close(Ending::Hung("the login"), None),
            Phase::Qualify => self.close(Ending::Hung("PORT"), None),
            Phase::Port(port) => self.close(Ending::Hung("PORT"), Some(port)),
            Phase::List(port, _) => {
                let mut steps = vec![Step::Verdict(port, Verdict::Filtered)];
                steps.extend(self.close(Ending::AfterSilence, None));
                steps
            }
            Phase::Transfer => self.send(now, Phase::Abort, "ABOR".into()),
            Phase::Abort => self.close(Ending::Hung("ABOR"), None),
            Phase::Idle | Phase::Done => Vec::new(),
        }
    }

    /// The bytes read were no FTP reply.
    pub fn garbage(&mut self, what: String) -> Vec<Step> {
        let unanswered = self.in_flight();
        self.close(Ending::Nonsense(what), unanswered)
    }

    /// The server closed the connection.
    pub fn closed(&mut self) -> Vec<Step> {
        if self.phase == Phase::Done {
            return Vec::new();
        }
        let unanswered = self.in_flight();
        self.close(Ending::Dropped, unanswered)
    }

    fn in_flight(&self) -> Option<u16> {
        match self.phase {
            Phase::Port(port) | Phase::List(port, _) => Some(port),
            _ => None,
        }
    }

    fn port_command(&self, port: u16) -> String {
        let [a, b, c, d] = self.target.octets();
        format!("PORT {a},{b},{c},{d},{},{}", port >> 8, port & 0xff)
    }

    fn logged(&mut self, now: Instant) -> Vec<Step> {
        self.logged_in = true;
        let command = self.port_command(self.qualify_port);
        self.send(now, Phase::Qualify, command)
    }

    fn send(&mut self, now: Instant, phase: Phase, command: String) -> Vec<Step> {
        self.wait(now, phase, self.timeouts.reply);
        vec![Step::Send(command)]
    }

    fn wait(&mut self, now: Instant, phase: Phase, limit: Duration) {
        self.phase = phase;
        self.deadline = Some(now + limit);
    }

    fn idle(&mut self) -> Vec<Step> {
        self.phase = Phase::Idle;
        self.deadline = None;
        vec![Step::Ready]
    }

    fn close(&mut self, ending: Ending, unanswered: Option<u16>) -> Vec<Step> {
        self.phase = Phase::Done;
        self.deadline = None;
        vec![Step::Close(Closed { ending, unanswered, logged_in: self.logged_in })]
    }
}

/// Whether a 5xx reply says the relay's session broke down rather than refusing the port: vsftpd ends a
/// session with `500 OOPS: ...` when one of its own processes fails; only `Illegal port request` is about
/// the port.
fn broke_down(text: &str) -> bool {
    text.contains("OOPS:") && !text.contains("Illegal port request")
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 3);

    fn r(line: &str) -> Reply {
        let mut reader = super::super::reply::ReplyReader::new();
        reader.push(format!("{line}\r\n").as_bytes()).unwrap().remove(0)
    }

    /// A session logged in and qualified, at `t0`.
    fn ready(t0: Instant) -> Session {
        let mut s = Session::new(t0, T, "anonymous", "-wwwuser@", 1024, Timeouts::default());
        assert_eq!(s.reply(t0, &r("220 (vsFTPd 3.0.3)")), [Step::Send("USER anonymous".into())]);
        assert_eq!(s.reply(t0, &r("331 Please specify the password.")), [Step::Send("PASS -wwwuser@".into())]);
        assert_eq!(s.reply(t0, &r("230 Login successful.")), [Step::Send("PORT 198,18,0,3,4,0".into())]);
        assert_eq!(s.reply(t0, &r("200 PORT command successful. Consider using PASV.")), [Step::Ready]);
        s
    }

    fn verdict_after(list_reply: &str, after: Duration) -> Vec<Step> {
        let t0 = Instant::now();
        let mut s = ready(t0);
        assert_eq!(s.ask(t0, 1500), [Step::Send("PORT 198,18,0,3,5,220".into())]);
        assert_eq!(s.reply(t0, &r("200 PORT command successful.")), [Step::Send("LIST".into())]);
        s.reply(t0 + after, &r(list_reply))
    }

    #[test]
    fn list_replies_are_read_as_nmap_reads_them() {
        let ms = Duration::from_millis;
        assert_eq!(verdict_after("150 Here comes the directory listing.", ms(5)), [Step::Verdict(1500, Verdict::Open)]);
        assert_eq!(verdict_after("226 Directory send OK.", ms(5))[0], Step::Verdict(1500, Verdict::Open));
        assert_eq!(
            verdict_after("425 Failed to establish connection.", ms(5)),
            [Step::Verdict(1500, Verdict::Closed), Step::Ready]
        );
        assert_eq!(
            verdict_after("425 Failed to establish connection.", ms(10_000))[0],
            Step::Verdict(1500, Verdict::Filtered)
        );
        assert_eq!(
            verdict_after("500 OOPS: Illegal port request", ms(1))[0],
            Step::Verdict(1500, Verdict::Refused("500 OOPS: Illegal port request".into()))
        );
        // vsftpd's own failure is no answer about the port: the session ends and the port is asked again.
        let Step::Close(c) = &verdict_after("500 OOPS: priv_sock_get_cmd", ms(1))[0] else { panic!() };
        assert_eq!((c.unanswered, &c.ending), (Some(1500), &Ending::Dropped));
        let Step::Close(c) = &verdict_after("331 what?", ms(1))[0] else { panic!() };
        assert_eq!(c.unanswered, Some(1500), "a reply that fits no step answers nothing");
    }

    #[test]
    fn silence_after_list_is_filtered_and_ends_the_session() {
        let t0 = Instant::now();
        let mut s = ready(t0);
        s.ask(t0, 3000);
        s.reply(t0, &r("200 ok"));
        assert!(s.tick(t0 + Duration::from_secs(1)).is_empty());
        let steps = s.tick(s.deadline().unwrap());
        assert_eq!(steps[0], Step::Verdict(3000, Verdict::Filtered));
        assert!(matches!(&steps[1], Step::Close(Closed { ending: Ending::AfterSilence, unanswered: None, .. })));
        assert!(s.is_done());
    }

    #[test]
    fn a_transfer_that_does_not_end_is_aborted_and_late_replies_are_skipped() {
        let t0 = Instant::now();
        let mut s = ready(t0);
        s.ask(t0, 80);
        s.reply(t0, &r("200 ok"));
        assert_eq!(s.reply(t0, &r("150 Here comes the directory listing.")), [Step::Verdict(80, Verdict::Open)]);
        assert_eq!(s.tick(s.deadline().unwrap()), [Step::Send("ABOR".into())]);
        assert!(s.reply(t0, &r("426 Failure writing network stream.")).is_empty());
        assert_eq!(s.reply(t0, &r("226 ABOR successful.")), [Step::Ready]);
        s.ask(t0, 81);
        // The transfer's own 226 crossing the ABOR arrives now: skipped, the PORT's 200 is awaited.
        assert!(s.reply(t0, &r("225 No transfer to ABOR.")).is_empty());
        assert_eq!(s.reply(t0, &r("200 ok")), [Step::Send("LIST".into())]);
    }

    #[test]
    fn refusals_at_each_step() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, T, "u", "p", 1024, Timeouts::default());
        let Step::Close(c) = &s.reply(t0, &r("421 There are too many connected users, please try later."))[0] else {
            panic!()
        };
        assert!(matches!(c.ending, Ending::TooMany(_)) && !c.logged_in);

        let mut s = Session::new(t0, T, "u", "p", 1024, Timeouts::default());
        s.reply(t0, &r("220 hi"));
        s.reply(t0, &r("331 pw"));
        let Step::Close(c) = &s.reply(t0, &r("530 Login incorrect."))[0] else { panic!() };
        assert!(matches!(c.ending, Ending::LoginRefused(_)));

        let mut s = Session::new(t0, T, "u", "p", 1024, Timeouts::default());
        s.reply(t0, &r("220 hi"));
        s.reply(t0, &r("230 in"));
        let Step::Close(c) = &s.reply(t0, &r("500 Illegal PORT command."))[0] else { panic!() };
        assert_eq!(c.ending, Ending::BounceRefused("500 Illegal PORT command.".into()));
        assert!(c.logged_in);
    }

    #[test]
    fn a_refused_port_command_is_that_ports_refusal() {
        let t0 = Instant::now();
        let mut s = ready(t0);
        s.ask(t0, 22);
        assert_eq!(s.reply(t0, &r("504 no")), [Step::Verdict(22, Verdict::Refused("504 no".into())), Step::Ready]);
    }

    #[test]
    fn a_drop_or_a_hang_hands_the_port_back() {
        let t0 = Instant::now();
        let mut s = ready(t0);
        s.ask(t0, 2000);
        let Step::Close(c) = &s.closed()[0] else { panic!() };
        assert_eq!((c.ending.clone(), c.unanswered), (Ending::Dropped, Some(2000)));
        assert!(s.closed().is_empty());

        let mut s = ready(t0);
        s.ask(t0, 2001);
        let Step::Close(c) = &s.tick(t0 + Duration::from_secs(60))[0] else { panic!() };
        assert_eq!((c.ending.clone(), c.unanswered), (Ending::Hung("PORT"), Some(2001)));

        let mut s = ready(t0);
        s.ask(t0, 2002);
        s.reply(t0, &r("200 ok"));
        let Step::Close(c) = &s.garbage("junk".into())[0] else { panic!() };
        assert_eq!(c.unanswered, Some(2002));
    }

    #[test]
    fn greeting_timeout_and_ask_when_busy() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, T, "u", "p", 1024, Timeouts::default());
        assert!(s.ask(t0, 1).is_empty());
        assert!(matches!(
            &s.tick(t0 + Duration::from_secs(11))[0],
            Step::Close(Closed { ending: Ending::Hung(_), .. })
        ));
    }
}
