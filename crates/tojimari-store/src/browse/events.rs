//! The defensive commands' records as the "this machine" page reads them: the latest `local` snapshot
//! whole, and `watch` alerts newest first or after a cursor (for a page that polls for new ones). A cursor
//! is an event's (time, id): events are ordered by time, and by id among those of the same millisecond.

use crate::events::{EventKind, EventRow};
use crate::store::{Store, StoreError};

/// An event with its row id (part of the cursor).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventEntry {
    pub id: i64,
    pub row: EventRow,
}

impl EventEntry {
    /// This event as a cursor: the events after it are newer.
    pub fn cursor(&self) -> (i64, i64) {
        (self.row.at_ms, self.id)
    }
}

type Row = (i64, i64, i64, String, String, String);

fn entry((id, batch, at_ms, subject, body, writer_host): Row) -> EventEntry {
    EventEntry { id, row: EventRow { batch, at_ms, subject, body, writer_host } }
}

const COLUMNS: &str = "id, batch, at_ms, subject, body, writer_host";

impl Store {
    /// Every event of the newest batch of `kind` (the latest `local` snapshot), in subject order.
    pub fn latest_batch(&self, kind: EventKind) -> Result<Vec<EventEntry>, StoreError> {
        let read: Result<Vec<Row>, sqlx::Error> = self.block_on(async {
            let batch: Option<i64> =
                sqlx::query_scalar("SELECT batch FROM events WHERE kind = $1 ORDER BY at_ms DESC, id DESC LIMIT 1")
                    .bind(kind.as_str())
                    .fetch_optional(self.pool())
                    .await?;
            let Some(batch) = batch else { return Ok(Vec::new()) };
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM events WHERE kind = $1 AND batch = $2 ORDER BY subject, id"
            )))
            .bind(kind.as_str())
            .bind(batch)
            .fetch_all(self.pool())
            .await
        });
        Ok(read.map_err(|e| self.query_err("reading events", e))?.into_iter().map(entry).collect())
    }

    /// The newest `limit` events of `kind`, newest first, with their ids.
    pub fn latest_events(&self, kind: EventKind, limit: i64) -> Result<Vec<EventEntry>, StoreError> {
        let read: Result<Vec<Row>, sqlx::Error> = self.block_on(
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM events WHERE kind = $1 ORDER BY at_ms DESC, id DESC LIMIT $2"
            )))
            .bind(kind.as_str())
            .bind(limit.max(0))
            .fetch_all(self.pool()),
        );
        Ok(read.map_err(|e| self.query_err("reading events", e))?.into_iter().map(entry).collect())
    }

    /// Up to `limit` events of `kind` after the cursor `(at_ms, id)`, oldest first.
    pub fn events_after(&self, kind: EventKind, after: (i64, i64), limit: i64) -> Result<Vec<EventEntry>, StoreError> {
        let read: Result<Vec<Row>, sqlx::Error> = self.block_on(
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM events WHERE kind = $1 AND (at_ms > $2 OR (at_ms = $3 AND id > $4)) \
                 ORDER BY at_ms, id LIMIT $5"
            )))
            .bind(kind.as_str())
            .bind(after.0)
            .bind(after.0)
            .bind(after.1)
            .bind(limit.max(0))
            .fetch_all(self.pool()),
        );
        Ok(read.map_err(|e| self.query_err("reading events", e))?.into_iter().map(entry).collect())
    }
}
