//! STUB: being written by the targets helper.
