//! Thin, checked wrappers over the few libc calls every module needs: create a socket,
//! set and get a socket option. Each `unsafe` block is here or next to the call it guards.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::NetError;

/// `socket(domain, kind | SOCK_CLOEXEC, protocol)` as an owned descriptor.
pub(crate) fn socket(domain: i32, kind: i32, protocol: i32, context: &'static str) -> Result<OwnedFd, NetError> {
    // SAFETY: socket(2) takes no pointers; any return value is checked below.
    let fd = unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, protocol) };
    if fd < 0 {
        return Err(NetError::last_os(context));
    }
    // SAFETY: `fd` was just returned by socket(2), is open, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt(fd, level, name, &value, sizeof value)`.
pub(crate) fn set_option<T: Copy>(
    fd: &impl AsRawFd,
    level: i32,
    name: i32,
    value: &T,
    context: &'static str,
) -> Result<(), NetError> {
    let len = libc::socklen_t::try_from(mem::size_of::<T>()).expect("socket option fits socklen_t");
    // SAFETY: `value` points to a live, initialised `T` of exactly `len` bytes, which the
    // kernel only reads during the call.
    let rc = unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, std::ptr::from_ref(value).cast(), len) };
    if rc < 0 { Err(NetError::last_os(context)) } else { Ok(()) }
}

/// `getsockopt(fd, level, name)` into a zeroed `T`; fails unless the kernel filled all of it.
pub(crate) fn get_option<T: Copy>(
    fd: &impl AsRawFd,
    level: i32,
    name: i32,
    context: &'static str,
) -> Result<T, NetError> {
    let mut value = mem::MaybeUninit::<T>::zeroed();
    let size = mem::size_of::<T>();
    let mut len = libc::socklen_t::try_from(size).expect("socket option fits socklen_t");
    // SAFETY: `value` is writable storage of `len` bytes; the kernel writes at most `len`
    // bytes and updates `len` to what it wrote.
    let rc = unsafe { libc::getsockopt(fd.as_raw_fd(), level, name, value.as_mut_ptr().cast(), &mut len) };
    if rc < 0 {
        return Err(NetError::last_os(context));
    }
    if len as usize != size {
        return Err(NetError::Io { context, source: io::Error::other(format!("kernel wrote {len} of {size} bytes")) });
    }
    // SAFETY: the storage started zeroed (valid for the plain-data option structs this is
    // used with) and the kernel filled all of it.
    Ok(unsafe { value.assume_init() })
}
