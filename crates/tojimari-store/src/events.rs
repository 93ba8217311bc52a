//! What the defensive commands saw, recorded on request: `watch` alerts and `local` snapshots, as the JSON
//! objects their `-oJ` writes, grouped in batches (one watch run, one snapshot).

use crate::store::{Store, StoreError, new_id};

/// What an event is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// One alert record of `watch` (a scan incident's start, update or end).
    WatchAlert,
    /// One listening socket of a `local` snapshot.
    LocalSocket,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::WatchAlert => "watch-alert",
            EventKind::LocalSocket => "local-socket",
        }
    }
}

/// One event to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub at_ms: i64,
    /// What it is about: the scanning address of an alert, `addr:port/proto` of a socket.
    pub subject: String,
    /// The JSON object, as the command's `-oJ` writes it.
    pub body: String,
}

/// One event as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub batch: i64,
    pub at_ms: i64,
    pub subject: String,
    pub body: String,
    pub writer_host: String,
}

impl Store {
    /// A new batch number for a run of `watch` or a `local` snapshot.
    pub fn new_batch(&self) -> i64 {
        new_id()
    }

    /// Records `events` of `kind` in `batch`, in one transaction.
    pub fn record_events(
        &self,
        kind: EventKind,
        batch: i64,
        writer_host: &str,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let done: Result<(), sqlx::Error> = self.rt.block_on(async {
            let mut tx = self.write_tx().await?;
            for e in events {
                sqlx::query(
                    "INSERT INTO events (id, kind, batch, at_ms, subject, body, writer_host) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new_id())
                .bind(kind.as_str())
                .bind(batch)
                .bind(e.at_ms)
                .bind(&e.subject)
                .bind(&e.body)
                .bind(writer_host)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        });
        done.map_err(|e| self.query_err("recording events", e))
    }

    /// The latest `limit` events of `kind`, newest first.
    pub fn events(&self, kind: EventKind, limit: i64) -> Result<Vec<EventRow>, StoreError> {
        type Row = (i64, i64, String, String, String);
        let rows: Result<Vec<Row>, sqlx::Error> = self.rt.block_on(
            sqlx::query_as(
                "SELECT batch, at_ms, subject, body, writer_host FROM events WHERE kind = $1 \
                 ORDER BY at_ms DESC, id DESC LIMIT $2",
            )
            .bind(kind.as_str())
            .bind(limit)
            .fetch_all(&self.pool),
        );
        let rows = rows.map_err(|e| self.query_err("reading events", e))?;
        Ok(rows
            .into_iter()
            .map(|(batch, at_ms, subject, body, writer_host)| EventRow { batch, at_ms, subject, body, writer_host })
            .collect())
    }
}
