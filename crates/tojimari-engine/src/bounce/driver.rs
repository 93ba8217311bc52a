//! The I/O edge of the bounce scan: control connections on threads, each driving one [`Session`] with
//! blocking reads bounded by the session's deadline, all sharing one host's [`Board`].
//!
//! Several connections ask about different ports at once (nmap uses one). A connection the server turns
//! away with 421 (too many users) before it ever logged in retires: the server's limit is the scan's. A
//! connection that ends (a drop, a hang, nonsense, or the silence of a filtered port) is opened again and
//! logs in anew; one that keeps ending without a verdict retires, and when the last one retires with ports
//! left the scan fails with what the server did, keeping every verdict already had.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::board::{Board, UNPRIVILEGED};
use super::reply::{Reply, ReplyReader};
use super::session::{Closed, Ending, Session, Step, Timeouts, Verdict};
use crate::control::Control;

/// Sessions in a row that end without a verdict before a connection retires.
const MAX_BARREN: u32 = 3;
/// 421s in a row a connection that has logged in before takes before it retires.
const MAX_TURNED_AWAY: u32 = 20;

/// Why a host's scan could not finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fatal {
    /// The qualifying PORT was refused (the reply).
    BounceRefused(String),
    LoginRefused(String),
    /// No connection could go on (what the last one met).
    Stopped(String),
}

/// A host's scan, finished or not.
#[derive(Debug)]
pub struct HostRun {
    pub board: Board,
    pub fatal: Option<Fatal>,
    /// Connections the server turned away with 421 before they ever logged in (its session limit).
    pub turned_away: usize,
    /// The most connections logged in at once.
    pub sessions: usize,
    /// What the last session that ended badly met.
    pub last_failure: Option<String>,
}

/// What the connections share.
struct Shared {
    board: Board,
    fatal: Option<Fatal>,
    active: usize,
    turned_away: usize,
    logged_in_now: usize,
    most_logged_in: usize,
    last_failure: Option<String>,
}

/// Scans `ports` of `target` through the relay at `relay` over at most `connections` control connections.
#[allow(clippy::too_many_arguments)]
pub fn scan_host(
    relay: SocketAddr,
    user: &str,
    password: &str,
    target: Ipv4Addr,
    ports: &[u16],
    connections: usize,
    attempts: u8,
    timeouts: Timeouts,
    control: &Control,
) -> HostRun {
    let qualify_port = ports.iter().copied().find(|&p| p >= UNPRIVILEGED).unwrap_or(UNPRIVILEGED);
    let connections = connections.clamp(1, ports.len().max(1));
    let shared = Mutex::new(Shared {
        board: Board::new(ports.iter().copied(), attempts),
        fatal: None,
        active: connections,
        turned_away: 0,
        logged_in_now: 0,
        most_logged_in: 0,
        last_failure: None,
    });
    let worker = Worker { relay, user, password, target, qualify_port, timeouts, control, shared: &shared };
    std::thread::scope(|scope| {
        for index in 0..connections {
            let worker = &worker;
            // Staggered a little, so that a server's accept queue and fork rate are not hit all at once.
            scope.spawn(move || {
                std::thread::sleep(Duration::from_millis(5 * index as u64));
                worker.run(index)
            });
        }
    });
    let shared = shared.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    HostRun {
        board: shared.board,
        fatal: shared.fatal,
        turned_away: shared.turned_away,
        sessions: shared.most_logged_in,
        last_failure: shared.last_failure,
    }
}

struct Worker<'a> {
    relay: SocketAddr,
    user: &'a str,
    password: &'a str,
    target: Ipv4Addr,
    qualify_port: u16,
    timeouts: Timeouts,
    control: &'a Control,
    shared: &'a Mutex<Shared>,
}

/// How one session went.
struct SessionEnd {
    closed: Option<Closed>,
    verdicts: usize,
}

impl Worker<'_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether there is nothing more for this connection to do.
    fn over(&self) -> bool {
        let shared = self.lock();
        self.control.is_cancelled() || shared.fatal.is_some() || shared.board.finished()
    }

    fn run(&self, index: usize) {
        let mut barren = 0u32;
        let mut turned_away = 0u32;
        let mut ever_logged_in = false;
        let mut last = String::from("no connection was tried");
        loop {
            if self.over() {
                break;
            }
            if self.lock().board.waiting() == 0 {
                // Ports are in flight elsewhere; one may come back unanswered.
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let end = match TcpStream::connect_timeout(&self.relay, self.timeouts.reply) {
                Ok(stream) => self.session(stream, &mut ever_logged_in),
                Err(e) => {
                    last = format!("cannot connect to the FTP server {}: {e}", self.relay);
                    self.lock().last_failure = Some(last.clone());
                    SessionEnd { closed: None, verdicts: 0 }
                }
            };
            let Some(closed) = end.closed else {
                // Finished, cancelled, or no connection.
                if end.verdicts == 0 && !self.over() {
                    barren += 1;
                    if barren >= MAX_BARREN {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200 * u64::from(barren)));
                }
                continue;
            };
            let silence = closed.ending == Ending::AfterSilence;
            match closed.ending {
                Ending::BounceRefused(reply) => {
                    self.fail(Fatal::BounceRefused(reply));
                    return;
                }
                Ending::LoginRefused(reply) => {
                    self.fail(Fatal::LoginRefused(reply));
                    return;
                }
                Ending::TooMany(reply) => {
                    last = format!("the FTP server turned the connection away: \"{reply}\"");
                    if !ever_logged_in && index > 0 {
                        self.lock().turned_away += 1;
                        break;
                    }
                    turned_away += 1;
                    if turned_away >= MAX_TURNED_AWAY {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100 * u64::from(turned_away.min(10))));
                    continue;
                }
                Ending::AfterSilence => {}
                Ending::Hung(step) => last = format!("the FTP server did not answer {step} in time"),
                Ending::Nonsense(what) => last = format!("the FTP server sent what is no fitting FTP reply: {what}"),
                Ending::Dropped => last = "the FTP server closed the control connection".to_string(),
            }
            turned_away = 0;
            if !silence {
                self.lock().last_failure = Some(last.clone());
            }
            if end.verdicts > 0 || silence {
                barren = 0;
            } else {
                barren += 1;
                if barren >= MAX_BARREN {
                    break;
                }
            }
        }
        let mut shared = self.lock();
        shared.active -= 1;
        if shared.active == 0 && !shared.board.finished() && shared.fatal.is_none() && !self.control.is_cancelled() {
            shared.fatal = Some(Fatal::Stopped(last));
        }
    }

    fn fail(&self, fatal: Fatal) {
        let mut shared = self.lock();
        shared.fatal.get_or_insert(fatal);
        shared.active -= 1;
    }

    /// Drives one session over `stream` until it closes or nothing is left to ask.
    fn session(&self, mut stream: TcpStream, ever_logged_in: &mut bool) -> SessionEnd {
        let _ = stream.set_nodelay(true);
        let mut session =
            Session::new(Instant::now(), self.target, self.user, self.password, self.qualify_port, self.timeouts);
        let mut reader = ReplyReader::new();
        let mut buf = [0u8; 4096];
        let mut verdicts = 0usize;
        let mut counted = false;
        let mut steps: VecDeque<Step> = VecDeque::new();
        let mut replies: VecDeque<Reply> = VecDeque::new();
        let end = loop {
            while let Some(step) = steps.pop_front() {
                match step {
                    Step::Send(command) => {
                        if stream.write_all(format!("{command}\r\n").as_bytes()).is_err() {
                            // After what is queued (a verdict already had is kept), the session ends.
                            steps.extend(session.closed());
                        }
                    }
                    Step::Verdict(port, verdict) => {
                        verdicts += 1;
                        self.record(port, verdict);
                    }
                    Step::Ready => {
                        if !counted {
                            counted = true;
                            *ever_logged_in = true;
                            let mut shared = self.lock();
                            shared.logged_in_now += 1;
                            shared.most_logged_in = shared.most_logged_in.max(shared.logged_in_now);
                        }
                        if !session.is_idle() {
                            // A write failed since: the session is over, and a port taken now would be
                            // asked nowhere and never come back.
                            continue;
                        }
                        match self.next_port() {
                            Some(port) => steps.extend(session.ask(Instant::now(), port)),
                            None => {
                                let _ = stream.write_all(b"QUIT\r\n");
                                break;
                            }
                        }
                    }
                    Step::Close(closed) => {
                        if let Some(port) = closed.unanswered {
                            self.lock().board.unanswered(port);
                        }
                        if counted {
                            self.lock().logged_in_now -= 1;
                        }
                        return SessionEnd { closed: Some(closed), verdicts };
                    }
                }
            }
            // One reply at a time, its steps carried out before the next is read: a reply that ends the
            // session (vsftpd's "500 OOPS: child died" right behind its refusal, in the same segment) must
            // not come before the idle session has taken its next port, or that port is asked nowhere.
            if let Some(reply) = replies.pop_front() {
                steps.extend(session.reply(Instant::now(), &reply));
                continue;
            }
            if session.is_done() || (steps.is_empty() && !session_waiting(&session)) {
                break SessionEnd { closed: None, verdicts };
            }
            let now = Instant::now();
            let wait = session.deadline().map_or(Duration::from_millis(200), |d| d.saturating_duration_since(now));
            let _ = stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
            match stream.read(&mut buf) {
                Ok(0) => steps.extend(session.closed()),
                Ok(n) => match reader.push(&buf[..n]) {
                    Ok(read) => replies.extend(read),
                    Err(e) => steps.extend(session.garbage(e.to_string())),
                },
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    steps.extend(session.tick(Instant::now()));
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => steps.extend(session.closed()),
            }
        };
        if counted {
            self.lock().logged_in_now -= 1;
        }
        end
    }

    /// The next port for an idle session: waits while others' ports are in flight (one may come back).
    fn next_port(&self) -> Option<u16> {
        loop {
            {
                let mut shared = self.lock();
                if self.control.is_cancelled() || shared.fatal.is_some() {
                    return None;
                }
                if let Some(port) = shared.board.next_port() {
                    return Some(port);
                }
                if shared.board.finished() {
                    return None;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn record(&self, port: u16, verdict: Verdict) {
        let progress = &self.control.progress;
        progress.ports_done.fetch_add(1, Ordering::Relaxed);
        if verdict == Verdict::Open {
            progress.open.fetch_add(1, Ordering::Relaxed);
        }
        progress.sent.fetch_add(1, Ordering::Relaxed);
        self.lock().board.answer(port, verdict);
    }
}

/// Whether the session still waits for something from the server (a deadline is set).
fn session_waiting(session: &Session) -> bool {
    session.deadline().is_some()
}
