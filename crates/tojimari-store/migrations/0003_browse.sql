-- Schema 3 (issue 14, the web pages): each host observation's digest of what `diff` compares (see
-- src/digest.rs), so two big scans are compared by their differing hosts only; NULL in rows written before
-- (such hosts are always loaded and compared). A scan's hosts a page at a time in their output order.

ALTER TABLE host_obs ADD COLUMN digest TEXT;

CREATE INDEX host_obs_scan_seq ON host_obs (scan_id, seq);
