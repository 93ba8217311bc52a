//! Exposure findings: the lock-up judgement on what version detection found, and safe active checks (no writes, no brute force).
