//! The process's descriptor limit (`RLIMIT_NOFILE`), which the connect engine raises to its hard limit and
//! budgets its sockets from. std does not offer getrlimit/setrlimit.

use std::io;
use std::mem::MaybeUninit;

/// (soft, hard) `RLIMIT_NOFILE`.
pub fn nofile_limit() -> (u64, u64) {
    let mut lim = MaybeUninit::<libc::rlimit>::uninit();
    // SAFETY: getrlimit writes a full `rlimit` into the pointer on success; we read it only then.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, lim.as_mut_ptr()) };
    if rc != 0 {
        return (1024, 1024);
    }
    // SAFETY: rc == 0, so the kernel initialised the struct.
    let lim = unsafe { lim.assume_init() };
    (lim.rlim_cur, lim.rlim_max)
}

/// Sets the soft `RLIMIT_NOFILE`, keeping the hard limit.
pub fn set_nofile_soft(soft: u64) -> io::Result<()> {
    let (_, hard) = nofile_limit();
    let lim = libc::rlimit { rlim_cur: soft.min(hard), rlim_max: hard };
    // SAFETY: `lim` is a valid, initialised rlimit that outlives the call.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_readable() {
        let (soft, hard) = nofile_limit();
        assert!(soft > 0 && soft <= hard);
    }
}
