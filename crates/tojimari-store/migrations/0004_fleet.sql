-- Schema 4 (issue 15): a fleet scan, split into chunks that workers on any number of machines claim from
-- PostgreSQL (docs/fleet.md). The same portable SQL on SQLite, where the tables stay empty. The job queue
-- itself (graphile_worker's tables, in its own schema) only says which chunk to run next and which worker
-- is alive; these tables say what a chunk is, how far it got and whether its results are in.

-- A fleet scan: the scan row it records into, and what every worker needs to repeat it exactly.
CREATE TABLE fleet_scans (
    scan_id BIGINT PRIMARY KEY REFERENCES scans (id) ON DELETE CASCADE,
    -- JSON (tojimari-fleet's ScanOptions): the scan's options, resolved targets and seed. Workers never take
    -- them from their own command line, so two workers cannot disagree on them.
    options TEXT NOT NULL,
    positions BIGINT NOT NULL,
    chunk_size BIGINT NOT NULL,
    chunks BIGINT NOT NULL,
    -- The global --max-rate (packets per second) the live workers share; NULL when none was given.
    max_rate BIGINT,
    created_ms BIGINT NOT NULL
);

-- One chunk: positions [first, past) of the scan's probe space.
CREATE TABLE fleet_chunks (
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    chunk BIGINT NOT NULL,
    first BIGINT NOT NULL,
    past BIGINT NOT NULL,
    -- pending, running, done
    state TEXT NOT NULL,
    -- The worker that holds it (running) or completed it (done).
    worker TEXT,
    -- How many times a worker took it (more than once: a worker died or lost the database, another resumed).
    claims BIGINT NOT NULL,
    -- How many times its results were committed: 1 once done, never more (the commit is guarded).
    completions BIGINT NOT NULL,
    -- The chunk's progress (JSON, tojimari-fleet's Checkpoint): the engine's state of the current group and
    -- the reports of the groups already finished; NULL until the first save.
    checkpoint TEXT,
    checkpoint_ms BIGINT,
    probes_done BIGINT NOT NULL,
    hosts_up BIGINT NOT NULL,
    open_ports BIGINT NOT NULL,
    started_ms BIGINT,
    done_ms BIGINT,
    PRIMARY KEY (scan_id, chunk)
);

-- Every worker that ran, with its last heartbeat: the live ones share the scan's --max-rate.
CREATE TABLE fleet_workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    scan_id BIGINT,
    chunk BIGINT,
    chunks_done BIGINT NOT NULL,
    probes BIGINT NOT NULL,
    -- Its share of the rate, packets per second (NULL: no limit).
    rate BIGINT
);
