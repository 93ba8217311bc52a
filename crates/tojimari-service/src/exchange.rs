//! One probe on one connection: send the payload, read the answer, and try the database's match lines as
//! bytes arrive, so a service that answers is named without waiting out the probe's timeout.
//!
//! Reading stops at the first of: a hard match, the probe's wait, the peer closing or resetting, or the
//! response cap. A soft match shortens the wait to a short grace (the product line usually follows in the
//! same or the next segment). Whatever arrived is kept and matched once more at the end, so a server that
//! closes mid-banner or never stops talking still gets its partial answer judged.

use std::io;
use std::time::Duration;

use tojimari_probedb::{Match, ProbeDb, ProbeId};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

/// After a soft match, how much longer to read for the rest of the answer.
const SOFT_GRACE: Duration = Duration::from_millis(250);
/// Re-match at most this often while bytes keep dribbling in (besides when the buffer doubles).
const REMATCH_INTERVAL: Duration = Duration::from_millis(100);
/// Bytes asked for per read.
const READ_CHUNK: usize = 8192;

/// Why reading an answer stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// A hard match: nothing more needed.
    Matched,
    /// The peer closed its side (FIN).
    Closed,
    /// The peer reset the connection, or writing the probe failed.
    Reset,
    /// The wait elapsed (or the soft-match grace).
    TimedOut,
    /// The response cap was reached.
    Full,
}

impl Ending {
    /// The peer ended the connection itself.
    pub(crate) fn hung_up(self) -> bool {
        matches!(self, Ending::Closed | Ending::Reset)
    }
}

/// What one probe got back.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub probe: ProbeId,
    pub bytes: Vec<u8>,
    pub matched: Option<Match>,
    pub ending: Ending,
    /// From the payload being sent (or, for the NULL probe, the connection being ready) to the end.
    pub elapsed: Duration,
}

/// Sends `probe`'s payload on `conn` and reads its answer for at most `wait`, keeping at most `max_bytes`.
pub(crate) async fn converse<S>(conn: &mut S, db: &ProbeDb, probe: ProbeId, wait: Duration, max_bytes: usize) -> Reply
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let start = Instant::now();
    let mut deadline = start + wait;
    let mut reply =
        Reply { probe, bytes: Vec::new(), matched: None, ending: Ending::TimedOut, elapsed: Duration::ZERO };
    let payload = &db.probe(probe).payload;
    if !payload.is_empty() {
        let sent = match timeout_at(deadline, async {
            conn.write_all(payload).await?;
            conn.flush().await
        })
        .await
        {
            Ok(result) => result,
            Err(_) => Err(io::ErrorKind::TimedOut.into()),
        };
        if let Err(e) = sent {
            // A server that closes before reading (tcpwrapped, or a banner-then-close) may still have sent
            // something: read what is buffered below, but remember the failure if nothing comes.
            reply.ending = if e.kind() == io::ErrorKind::TimedOut { Ending::TimedOut } else { Ending::Reset };
            deadline = deadline.min(Instant::now() + Duration::from_millis(50));
        }
    }

    let mut chunk = vec![0u8; READ_CHUNK];
    let mut matched_len = 0usize;
    let mut matched_at = start;
    loop {
        let room = max_bytes.saturating_sub(reply.bytes.len());
        if room == 0 {
            reply.ending = Ending::Full;
            break;
        }
        let want = room.min(READ_CHUNK);
        match timeout_at(deadline, conn.read(&mut chunk[..want])).await {
            Err(_) => {
                if reply.ending != Ending::Reset {
                    reply.ending = Ending::TimedOut;
                }
                break;
            }
            Ok(Ok(0)) => {
                reply.ending = Ending::Closed;
                break;
            }
            Ok(Ok(n)) => reply.bytes.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => {
                reply.ending = Ending::Reset;
                break;
            }
        }
        // Matching costs a pass over the buffer: do it when the buffer doubled or some time passed, so a
        // server dribbling one byte at a time cannot make this quadratic.
        let now = Instant::now();
        if reply.bytes.len() >= matched_len.saturating_mul(2) || now.duration_since(matched_at) >= REMATCH_INTERVAL {
            matched_len = reply.bytes.len();
            matched_at = now;
            reply.matched = db.match_response(probe, &reply.bytes);
            match &reply.matched {
                Some(m) if !m.soft => {
                    reply.ending = Ending::Matched;
                    break;
                }
                Some(_) => deadline = deadline.min(now + SOFT_GRACE),
                None => {}
            }
        }
    }
    if reply.ending != Ending::Matched && !reply.bytes.is_empty() && matched_len != reply.bytes.len() {
        reply.matched = db.match_response(probe, &reply.bytes);
    }
    reply.elapsed = start.elapsed();
    reply
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use tokio::io::{AsyncWriteExt, duplex};

    use super::*;

    fn db() -> &'static ProbeDb {
        static DB: OnceLock<ProbeDb> = OnceLock::new();
        DB.get_or_init(|| {
            let text = "Probe TCP NULL q||\ntotalwaitms 5000\n\
                match ssh m|^SSH-2\\.0-Full_(\\d+)\\r\\n| p/Full/ v/$1/\n\
                softmatch ssh m|^SSH-2\\.0-|\n\
                Probe TCP Ping q|PING\\r\\n|\nrarity 1\n\
                match pong m|^PONG\\r\\n| p/Pong/\n";
            ProbeDb::parse(text, "unit").unwrap()
        })
    }

    fn probe(name: &str) -> ProbeId {
        db().find(tojimari_probedb::Transport::Tcp, name).unwrap()
    }

    #[tokio::test]
    async fn hard_match_ends_reading_at_once() {
        let (mut ours, mut theirs) = duplex(1 << 16);
        theirs.write_all(b"SSH-2.0-Full_7\r\n").await.unwrap();
        let start = Instant::now();
        let reply = converse(&mut ours, db(), probe("NULL"), Duration::from_secs(5), 1 << 16).await;
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(reply.ending, Ending::Matched);
        assert_eq!(reply.matched.unwrap().version.as_deref(), Some("7"));
        drop(theirs);
    }

    #[tokio::test]
    async fn payload_is_sent_and_answer_matched() {
        let (mut ours, mut theirs) = duplex(1 << 16);
        let server = tokio::spawn(async move {
            let mut request = [0u8; 6];
            theirs.read_exact(&mut request).await.unwrap();
            assert_eq!(&request, b"PING\r\n");
            theirs.write_all(b"PONG\r\n").await.unwrap();
            theirs
        });
        let reply = converse(&mut ours, db(), probe("Ping"), Duration::from_secs(5), 1 << 16).await;
        assert_eq!(reply.matched.unwrap().product.as_deref(), Some("Pong"));
        drop(server.await.unwrap());
    }

    #[tokio::test]
    async fn soft_match_waits_only_a_grace() {
        let (mut ours, mut theirs) = duplex(1 << 16);
        theirs.write_all(b"SSH-2.0-Other\r\n").await.unwrap();
        let start = Instant::now();
        let reply = converse(&mut ours, db(), probe("NULL"), Duration::from_secs(5), 1 << 16).await;
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        assert_eq!(reply.ending, Ending::TimedOut);
        assert!(reply.matched.unwrap().soft);
        drop(theirs);
    }

    #[tokio::test]
    async fn response_is_capped() {
        let (mut ours, mut theirs) = duplex(1 << 16);
        tokio::spawn(async move { while theirs.write_all(&[b'x'; 4096]).await.is_ok() {} });
        let reply = converse(&mut ours, db(), probe("NULL"), Duration::from_secs(5), 10_000).await;
        assert_eq!((reply.ending, reply.bytes.len()), (Ending::Full, 10_000));
        assert!(reply.matched.is_none());
    }

    #[tokio::test]
    async fn close_keeps_the_partial_answer() {
        let (mut ours, mut theirs) = duplex(1 << 16);
        theirs.write_all(b"SSH-2.0-Fu").await.unwrap();
        drop(theirs);
        let reply = converse(&mut ours, db(), probe("NULL"), Duration::from_secs(5), 1 << 16).await;
        assert_eq!((reply.ending, reply.bytes.as_slice()), (Ending::Closed, &b"SSH-2.0-Fu"[..]));
        assert!(reply.matched.unwrap().soft);
    }

    #[tokio::test]
    async fn silence_times_out() {
        let (mut ours, theirs) = duplex(1 << 16);
        let reply = converse(&mut ours, db(), probe("NULL"), Duration::from_millis(200), 1 << 16).await;
        assert_eq!(reply.ending, Ending::TimedOut);
        assert!(reply.bytes.is_empty() && reply.matched.is_none());
        drop(theirs);
    }
}
