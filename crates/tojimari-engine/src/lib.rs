//! tojimari-engine
