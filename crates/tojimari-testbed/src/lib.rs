//! tojimari-testbed
