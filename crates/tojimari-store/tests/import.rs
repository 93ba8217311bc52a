//! Integration tests of `tojimari_store::import`: real nmap files, tojimari's own XML read back,
//! a million ports in flat memory, and hostile input.

mod import {
    mod hostile;
    mod jsonl_file;
    mod jsonl_round_trip;
    mod live_masscan;
    mod live_nmap;
    mod masscan_file;
    mod million;
    mod real_file;
    mod round_trip;
}
