//! tojimari-output
