-- tojimari's result store, schema 1 (docs/design/store.md). Portable SQL: the same file runs on SQLite and
-- PostgreSQL. Ids are 63-bit values the writer picks (no sequences, so several machines can share one
-- PostgreSQL); times are Unix milliseconds.

CREATE TABLE scans (
    id BIGINT PRIMARY KEY,
    no BIGINT NOT NULL UNIQUE,
    argv TEXT NOT NULL,
    profile TEXT NOT NULL,
    scope_targets TEXT NOT NULL,
    scope_ports TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    ended_ms BIGINT,
    status TEXT NOT NULL,
    -- Where the results came from: tojimari (a scan or check run), nmap-xml, masscan, jsonl (an import).
    source TEXT NOT NULL,
    -- The run's header and summary (JSON, for export: what the outputs print); NULL until known.
    run_info TEXT,
    summary TEXT,
    writer_host TEXT NOT NULL,
    writer_pid BIGINT NOT NULL,
    writer_boot TEXT NOT NULL
);

CREATE TABLE hosts (
    id BIGINT PRIMARY KEY,
    addr TEXT NOT NULL UNIQUE
);

CREATE TABLE host_obs (
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    host_id BIGINT NOT NULL REFERENCES hosts (id),
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    hostnames TEXT NOT NULL,
    os_name TEXT,
    os_accuracy BIGINT,
    distance BIGINT,
    -- The host's place in the scan's output order.
    seq BIGINT NOT NULL,
    -- When the host was observed (its end time, Unix milliseconds): the time of its ports' current state.
    seen_ms BIGINT NOT NULL,
    -- Everything else the outputs print about the host (JSON: reason TTL, names with kinds, times, OS report).
    detail TEXT NOT NULL,
    PRIMARY KEY (scan_id, host_id)
);

CREATE TABLE port_obs (
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    host_id BIGINT NOT NULL REFERENCES hosts (id),
    proto TEXT NOT NULL,
    port BIGINT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    service TEXT,
    product TEXT,
    version TEXT,
    tunnel TEXT,
    cert_sha256 TEXT,
    reason_ttl BIGINT NOT NULL,
    -- The whole service (JSON: method, confidence, extra info, CPEs, details, findings); NULL when none.
    detail TEXT,
    PRIMARY KEY (scan_id, host_id, proto, port)
);

-- Ports every output folds (nmap's extraports: more than 25 of a host's ports in one state that is not
-- open, open|filtered or unfiltered) are kept as one row per (state, protocol, reason) with compact port
-- ranges ("1-21,23-79"), not one row each: a /16 sweep's closed ports would otherwise be most of the store.
-- A port is covered by a scan when it has a port_obs row or lies in one of its fold rows.
CREATE TABLE port_folds (
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    host_id BIGINT NOT NULL REFERENCES hosts (id),
    proto TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    ports TEXT NOT NULL,
    PRIMARY KEY (scan_id, host_id, proto, state, reason)
);

CREATE TABLE findings (
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    host_id BIGINT NOT NULL REFERENCES hosts (id),
    proto TEXT NOT NULL,
    port BIGINT NOT NULL,
    finding TEXT NOT NULL,
    severity TEXT NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (scan_id, host_id, proto, port, finding)
);

CREATE TABLE current_ports (
    host_id BIGINT NOT NULL REFERENCES hosts (id),
    proto TEXT NOT NULL,
    port BIGINT NOT NULL,
    state TEXT NOT NULL,
    service TEXT,
    first_seen_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    last_changed_ms BIGINT NOT NULL,
    last_scan_id BIGINT NOT NULL,
    PRIMARY KEY (host_id, proto, port)
);

CREATE INDEX scans_started ON scans (started_ms);
CREATE INDEX host_obs_host ON host_obs (host_id);
