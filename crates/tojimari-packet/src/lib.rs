//! tojimari-packet (being written)
