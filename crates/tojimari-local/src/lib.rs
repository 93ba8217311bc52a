//! This machine's listening sockets and the processes that own them.
