//! tojimari-net (being written)
