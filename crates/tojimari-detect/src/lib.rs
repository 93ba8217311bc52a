//! Port-scan detection: a sans-I/O detector fed packet summaries, pcap and firewall-log readers, and live capture.
