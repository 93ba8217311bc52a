-- Schema 3 (issue 14, the web pages).
-- Each host observation keeps a digest of what `diff` compares (src/digest.rs), so two big scans are compared
-- by their differing hosts only (NULL in rows written before: such hosts are always loaded and compared),
-- and its number of open ports, so a scan's totals need not read its port rows (filled here for the rows
-- written before).
ALTER TABLE host_obs ADD COLUMN digest TEXT;
ALTER TABLE host_obs ADD COLUMN open_ports BIGINT;
UPDATE host_obs SET open_ports = (SELECT COUNT(*) FROM port_obs p WHERE p.scan_id = host_obs.scan_id
    AND p.host_id = host_obs.host_id AND p.state = 'open');

-- A scan's totals and the comparison of two scans read only this index (not the hosts' detail), and a
-- scan's hosts are read a page at a time in their output order.
CREATE INDEX host_obs_browse ON host_obs (scan_id, host_id, state, digest, open_ports);
CREATE INDEX host_obs_scan_seq ON host_obs (scan_id, seq);

-- The ports table filters by product without reading every port's observation: the current state keeps
-- the product of the observation it came from (filled here for the rows written before).
ALTER TABLE current_ports ADD COLUMN product TEXT;
UPDATE current_ports SET product = (SELECT p.product FROM port_obs p WHERE p.scan_id = current_ports.last_scan_id
    AND p.host_id = current_ports.host_id AND p.proto = current_ports.proto AND p.port = current_ports.port);

-- ... and by finding id, from the few ports that have it.
CREATE INDEX findings_finding ON findings (finding);
