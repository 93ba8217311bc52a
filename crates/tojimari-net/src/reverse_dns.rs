//! Reverse DNS through the system resolver (getnameinfo), as nmap's `-R`/default name lookups do for
//! hosts that are up; std resolves only forwards.

use std::net::IpAddr;

/// The PTR name of `addr` through the system resolver (getnameinfo with NI_NAMEREQD), blocking.
pub fn reverse_lookup(addr: IpAddr) -> Option<String> {
    let sa: socket2::SockAddr = std::net::SocketAddr::new(addr, 0).into();
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: `sa` is a valid sockaddr of the given length; `host` is writable for its full length;
    // no service buffer is requested (null, 0).
    let rc = unsafe {
        libc::getnameinfo(
            sa.as_ptr().cast(),
            sa.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    let name = name.to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_a_name() {
        // /etc/hosts answers this without any network.
        assert!(reverse_lookup("127.0.0.1".parse().unwrap()).is_some());
    }
}
