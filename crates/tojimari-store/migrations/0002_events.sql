-- Schema 2: what the defensive commands saw, recorded on request (`--store`): `watch` alerts (one row per
-- alert record: start, update, end of a scan incident) and `local` snapshots (one row per listening socket).
-- `body` is the JSON object the command's own -oJ writes for it, so one reader serves both; `batch` groups
-- the rows of one watch run or one local snapshot.

CREATE TABLE events (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    batch BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    writer_host TEXT NOT NULL
);

CREATE INDEX events_kind_at ON events (kind, at_ms);
