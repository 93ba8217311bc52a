//! `watch --store` and `local --store`: alerts and snapshots recorded in the result store as they come, by a
//! writer thread (the capture loop never waits on the database), with one closing note saying how many were
//! kept where, or one warning naming the database when it failed (the command's own outputs are not affected).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use tojimari_store::{Event, EventKind, Store, unix_ms};

use crate::messages;

/// Events per transaction at most; a batch is also written when the writer has waited this long.
const BATCH: usize = 256;
const WAIT: Duration = Duration::from_millis(100);

/// A writer thread recording events of one kind into one batch of the store.
pub struct Recorder {
    events: Option<Sender<Event>>,
    writer: Option<JoinHandle<Result<usize, String>>>,
    store_name: String,
    kind: EventKind,
}

impl Recorder {
    pub fn start(store: Store, kind: EventKind) -> Recorder {
        let (events, rx) = mpsc::channel();
        let store_name = store.name().to_string();
        let writer = std::thread::Builder::new().name("store-events".into()).spawn(move || write(&store, kind, &rx));
        match writer {
            Ok(writer) => Recorder { events: Some(events), writer: Some(writer), store_name, kind },
            Err(e) => {
                messages::warning(format!("cannot record into the result store {store_name}: {e}"));
                Recorder { events: None, writer: None, store_name, kind }
            }
        }
    }

    /// A handle that sends events to the writer (for a hook that must be `Send + 'static`).
    pub fn sender(&self) -> Option<Sender<Event>> {
        self.events.clone()
    }

    /// Waits for the writer and says how it went.
    pub fn finish(mut self) {
        self.events = None;
        let Some(writer) = self.writer.take() else { return };
        let what = match self.kind {
            EventKind::WatchAlert => "watch alert record",
            EventKind::LocalSocket => "listening socket",
        };
        match writer.join() {
            Ok(Ok(n)) => messages::note(format!("recorded {n} {what}{} in {}", plural(n), self.store_name)),
            Ok(Err(e)) => messages::warning(e),
            Err(_) => messages::warning(format!("the result store {} writer stopped", self.store_name)),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn write(store: &Store, kind: EventKind, rx: &Receiver<Event>) -> Result<usize, String> {
    let batch_id = store.new_batch();
    let host = host_name();
    let mut batch = Vec::new();
    let mut written = 0;
    let mut flush = |batch: &mut Vec<Event>| -> Result<(), String> {
        if !batch.is_empty() {
            store.record_events(kind, batch_id, &host, batch).map_err(|e| e.to_string())?;
            written += batch.len();
            batch.clear();
        }
        Ok(())
    };
    loop {
        match rx.recv_timeout(WAIT) {
            Ok(event) => {
                batch.push(event);
                if batch.len() >= BATCH {
                    flush(&mut batch)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => flush(&mut batch)?,
            Err(RecvTimeoutError::Disconnected) => {
                flush(&mut batch)?;
                return Ok(written);
            }
        }
    }
}

/// This machine's name, for the rows' writer.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// An event made of a command's JSON object, now.
pub fn event(subject: String, body: String) -> Event {
    Event { at_ms: unix_ms(SystemTime::now()), subject, body }
}
