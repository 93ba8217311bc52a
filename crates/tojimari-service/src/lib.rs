//! Service and version detection (-sV): probes open ports in parallel with the probe database, inside TLS where needed.
