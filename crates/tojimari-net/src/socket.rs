//! AF_PACKET sockets: [`PacketSocket`] receives through a TPACKET_V3 ring behind a BPF filter
//! and can send; [`PacketSender`] only sends, so a sender thread and a receiver thread can
//! each own their socket. Frames are complete Ethernet frames in both directions.

use std::ffi::CString;
use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::NetError;
use crate::filter::Filter;
use crate::interface;
use crate::netlink::Netlink;
use crate::ring::{Ring, RingConfig};
use crate::sys;
use tojimari_wire::{EtherType, EthernetFrame, Ipv4Packet, ipv4};

/// Frames per `sendmmsg` call (the kernel's UIO_MAXIOV cap on one call).
const BATCH: usize = 1024;
/// The Ethernet header: destination, source, ethertype.
const ETH_HLEN: usize = 14;

/// Whether this process may open AF_PACKET raw sockets (CAP_NET_RAW). Opens a socket that
/// receives nothing (protocol 0) and closes it.
///
/// Closing a packet socket waits for an RCU grace period in the kernel (some 10-20 ms), so the probe
/// socket is closed on a thread of its own, and the caller goes on at once.
pub fn raw_allowed() -> bool {
    match sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0, "probe AF_PACKET") {
        Ok(fd) => {
            // Without a thread to spare, the closure and the descriptor are dropped here: time lost, no more.
            let _ = std::thread::Builder::new().name("close-probe".into()).spawn(move || drop(fd));
            true
        }
        Err(_) => false,
    }
}

/// Receive counters of a [`PacketSocket`], totals since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxStats {
    /// Frames that passed the filter, including the dropped ones.
    pub packets: u64,
    /// Frames that passed the filter but found the ring full and were lost.
    pub drops: u64,
}

/// `struct tpacket_stats_v3`.
#[repr(C)]
#[derive(Clone, Copy)]
struct StatsV3 {
    packets: u32,
    drops: u32,
    freeze_q_cnt: u32,
}

/// A raw AF_PACKET socket on one interface, with a TPACKET_V3 receive ring behind a BPF
/// filter. It sends too ([`send_batch`](PacketSocket::send_batch) takes `&self`); for a
/// sender on another thread, see [`try_clone_sender`](PacketSocket::try_clone_sender).
///
/// Frames this host sends are not read back (PACKET_IGNORE_OUTGOING), except on loopback,
/// which delivers every sent frame once more as incoming: callers must tolerate seeing
/// their own probes there.
///
/// Loopback and IPv4: Linux drops IPv4 packets that arrive on a device without a route
/// attached when their destination is in 127/8 or their source is one of the host's own
/// addresses ("martians"; `route_localnet`, `accept_local`), and a frame injected with
/// AF_PACKET has none. So on a loopback interface, IPv4 frames are sent without their
/// Ethernet header through a raw IPv4 socket (IP_HDRINCL, bound to the device), which
/// takes the normal output path and is delivered like local traffic. IPv6 frames (and
/// anything else) go out as frames.
#[derive(Debug)]
pub struct PacketSocket {
    // Field order is drop order: unmap the ring before closing the socket.
    ring: Ring,
    fd: OwnedFd,
    /// On loopback: the raw IPv4 socket that IPv4 frames go out through (see [`Loopback4`]).
    ip4: Option<Loopback4>,
    ifindex: u32,
    packets: AtomicU64,
    drops: AtomicU64,
}

impl PacketSocket {
    /// Opens an AF_PACKET/SOCK_RAW socket for all protocols on interface `ifindex` (0: every interface, for
    /// capture; such a socket cannot send IPv4 frames to loopback), with
    /// `filter` attached and a receive ring of `ring`'s size.
    ///
    /// The socket is created with protocol 0 (it receives nothing), configured (filter,
    /// PACKET_IGNORE_OUTGOING, ring), and only then bound to ETH_P_ALL on the interface, so
    /// no unfiltered frame ever reaches the ring.
    ///
    /// Errors: [`NetError::PermissionDenied`] without CAP_NET_RAW; [`NetError::NoInterface`]
    /// for an unknown index; [`NetError::Invalid`] for a bad ring size.
    pub fn open(ifindex: u32, filter: &Filter, ring: RingConfig) -> Result<PacketSocket, NetError> {
        let ip4 = Loopback4::open_if_loopback(ifindex)?;
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0, "open AF_PACKET socket")?;
        attach_filter(&fd, filter)?;
        let one: libc::c_int = 1;
        sys::set_option(&fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one, "set PACKET_IGNORE_OUTGOING")?;
        let ring = Ring::setup(fd.as_fd(), ring)?;
        bind(&fd, ifindex, libc::ETH_P_ALL as u16)?;
        Ok(PacketSocket { ring, fd, ip4, ifindex, packets: AtomicU64::new(0), drops: AtomicU64::new(0) })
    }

    /// Also read the frames this host sends (clears PACKET_IGNORE_OUTGOING). A scanner's receiver wants
    /// only replies; a scan detector needs the host's own answers (SYN/ACK, RST, ICMP unreachable) too.
    pub fn see_outgoing(&self) -> Result<(), NetError> {
        let zero: libc::c_int = 0;
        sys::set_option(&self.fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &zero, "clear PACKET_IGNORE_OUTGOING")
    }

    /// The interface this socket is bound to (0: every interface).
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends complete Ethernet frames, up to 1024 per `sendmmsg` call, and returns how many
    /// the kernel took. On ENOBUFS or EAGAIN (a full queue) it returns the number sent so
    /// far, maybe 0, so the caller can back off and resend the rest; other errors fail.
    ///
    /// On a loopback interface, IPv4 frames are sent through a raw IPv4 socket instead
    /// (see [`PacketSocket`]); they still show up on the interface as frames.
    pub fn send_batch(&self, frames: &[&[u8]]) -> Result<usize, NetError> {
        send_frames(self.fd.as_fd(), self.ip4.as_ref(), frames)
    }

    /// Waits up to `timeout` for received frames and calls `f` for each (bytes from the
    /// Ethernet header on). Returns how many frames it delivered; 0 after a timeout.
    ///
    /// Reads every block the kernel has handed over (at most one ring's worth per call) and
    /// returns them to the kernel. A block is handed over when full or `frame_timeout_ms`
    /// after its first frame, which bounds the latency.
    pub fn recv(&mut self, timeout: Duration, f: &mut dyn FnMut(&[u8])) -> Result<usize, NetError> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let (mut frames, mut blocks) = (0, 0);
            while blocks < self.ring.block_count() {
                match self.ring.read_block(f) {
                    Some(n) => {
                        frames += n;
                        blocks += 1;
                    }
                    None => break,
                }
            }
            if blocks > 0 {
                return Ok(frames);
            }
            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if remaining.is_zero() {
                return Ok(0);
            }
            self.wait(remaining)?;
        }
    }

    /// `poll(2)` for the next block, up to `remaining`.
    fn wait(&self, remaining: Duration) -> Result<(), NetError> {
        let ms = remaining.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, live for the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(NetError::os("poll AF_PACKET socket", e))
            };
        }
        if pfd.revents & libc::POLLERR != 0 {
            let code: libc::c_int = sys::get_option(&self.fd, libc::SOL_SOCKET, libc::SO_ERROR, "read socket error")?;
            if code != 0 {
                return Err(NetError::os("receive on AF_PACKET socket", io::Error::from_raw_os_error(code)));
            }
        }
        Ok(())
    }

    /// The kernel's receive counters (PACKET_STATISTICS), as totals since the socket was
    /// opened: the kernel resets its counters on every read, so they are accumulated here.
    pub fn stats(&self) -> Result<RxStats, NetError> {
        let now: StatsV3 =
            sys::get_option(&self.fd, libc::SOL_PACKET, libc::PACKET_STATISTICS, "read PACKET_STATISTICS")?;
        let _ = now.freeze_q_cnt;
        let packets = self.packets.fetch_add(u64::from(now.packets), Ordering::Relaxed) + u64::from(now.packets);
        let drops = self.drops.fetch_add(u64::from(now.drops), Ordering::Relaxed) + u64::from(now.drops);
        Ok(RxStats { packets, drops })
    }

    /// A separate socket on the same interface that only sends, for a sender thread.
    pub fn try_clone_sender(&self) -> Result<PacketSender, NetError> {
        PacketSender::open(self.ifindex)
    }
}

impl AsFd for PacketSocket {
    /// The socket, for registering with a poller (readable when a block is ready).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// An AF_PACKET socket that only sends complete Ethernet frames on one interface. It is
/// bound with protocol 0 and a drop-all filter, so it never queues anything received.
#[derive(Debug)]
pub struct PacketSender {
    fd: OwnedFd,
    ip4: Option<Loopback4>,
    ifindex: u32,
}

impl PacketSender {
    /// Opens a send-only AF_PACKET socket on interface `ifindex`.
    pub fn open(ifindex: u32) -> Result<PacketSender, NetError> {
        let ip4 = Loopback4::open_if_loopback(ifindex)?;
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0, "open AF_PACKET socket")?;
        attach_filter(&fd, &Filter::drop_all())?;
        // Protocol 0 registers no receive hook at all; the kernel reads each frame's
        // ethertype from its Ethernet header when sending.
        bind(&fd, ifindex, 0)?;
        Ok(PacketSender { fd, ip4, ifindex })
    }

    /// The interface this socket sends on.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// As [`PacketSocket::send_batch`] (including the loopback IPv4 detour).
    pub fn send_batch(&self, frames: &[&[u8]]) -> Result<usize, NetError> {
        send_frames(self.fd.as_fd(), self.ip4.as_ref(), frames)
    }
}

impl AsFd for PacketSender {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Attaches `filter` with SO_ATTACH_FILTER.
pub(crate) fn attach_filter(fd: &impl AsRawFd, filter: &Filter) -> Result<(), NetError> {
    let insns = filter.insns();
    let prog = libc::sock_fprog {
        len: u16::try_from(insns.len())
            .map_err(|_| NetError::Invalid { what: "BPF filter", reason: format!("{} instructions", insns.len()) })?,
        // The kernel only reads the program; `Insn` has the layout of `sock_filter`.
        filter: insns.as_ptr().cast::<libc::sock_filter>().cast_mut(),
    };
    sys::set_option(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog, "attach BPF filter")
}

/// Binds an AF_PACKET socket to `ifindex` for `protocol` (host order; 0 receives nothing).
pub(crate) fn bind(fd: &OwnedFd, ifindex: u32, protocol: u16) -> Result<(), NetError> {
    // SAFETY: sockaddr_ll is plain integers and arrays, valid when zeroed.
    let mut addr: libc::sockaddr_ll = unsafe { mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as libc::c_ushort;
    addr.sll_protocol = protocol.to_be();
    addr.sll_ifindex = i32::try_from(ifindex)
        .map_err(|_| NetError::Invalid { what: "interface index", reason: ifindex.to_string() })?;
    // SAFETY: `addr` is a live sockaddr_ll and the length passed is its size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            std::ptr::from_ref(&addr).cast(),
            mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ENODEV) => NetError::NoInterface { name: format!("#{ifindex}") },
            _ => NetError::os("bind AF_PACKET socket", e),
        });
    }
    Ok(())
}

/// Raw IPv4 sockets (IPPROTO_RAW, so IP_HDRINCL) through which a loopback socket sends its
/// IPv4 frames (see [`PacketSocket`]).
///
/// `lo` is bound to the loopback device, so a frame for a foreign address can never leave by
/// another interface; it carries everything but [`Detour::Own`] frames. An address of another
/// interface (the scanner's own LAN address) cannot go through it: its local route names that
/// other device, so a lookup forced onto `lo` misses it and yields a plain unicast route, and
/// the kernel then takes the looped-back probe in without ever answering it (TCP sends a reset
/// only for packets routed as local). So a frame from an address to itself outside 127/8 goes
/// through `own`, which is bound to no device: the routing table sends it to the local address
/// it names, through the loopback device, as locally generated traffic takes.
#[derive(Debug)]
struct Loopback4 {
    lo: OwnedFd,
    own: OwnedFd,
}

/// Which of [`Loopback4`]'s sockets an IPv4 frame takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Detour {
    /// Bound to the loopback device: 127/8, and addresses on the loopback device.
    Lo,
    /// Unbound: a probe from one of this host's own addresses outside 127/8 to that same address.
    Own,
}

impl Detour {
    /// The socket for an IPv4 frame (one that [`is_ipv4`] accepted).
    fn of(frame: &[u8]) -> Detour {
        let ip = Ipv4Packet::new_unchecked(&frame[ETH_HLEN..]);
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        if src == dst && !dst.is_loopback() { Detour::Own } else { Detour::Lo }
    }
}

impl Loopback4 {
    fn open_if_loopback(ifindex: u32) -> Result<Option<Loopback4>, NetError> {
        if ifindex == 0 {
            // Bound to every interface (capture only): there is no one device to send through.
            return Ok(None);
        }
        let link = interface::link_by_index(&mut Netlink::open()?, ifindex)?;
        if !link.loopback {
            return Ok(None);
        }
        let fd = sys::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW, "open raw IPv4 socket")?;
        let name = CString::new(link.name).map_err(|_| NetError::Netlink { what: "interface name with NUL" })?;
        let name = name.as_bytes_with_nul();
        // SAFETY: `name` is a live NUL-terminated buffer of the length passed.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_BINDTODEVICE,
                name.as_ptr().cast(),
                name.len() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(NetError::last_os("bind raw IPv4 socket to the loopback device"));
        }
        let own = sys::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW, "open raw IPv4 socket")?;
        Ok(Some(Loopback4 { lo: fd, own }))
    }

    fn fd(&self, detour: Detour) -> BorrowedFd<'_> {
        match detour {
            Detour::Lo => self.lo.as_fd(),
            Detour::Own => self.own.as_fd(),
        }
    }
}

/// Whether `frame` is a whole-enough IPv4 frame for the loopback detour.
fn is_ipv4(frame: &[u8]) -> bool {
    frame.len() >= ETH_HLEN + ipv4::HEADER_LEN && EthernetFrame::new_unchecked(frame).ethertype() == EtherType::IPV4
}

/// Sends `frames` in runs: on loopback, runs of IPv4 frames through `ip4` (the socket each
/// frame's [`Detour`] names), everything else through the packet socket. Stops at the first run
/// the kernel did not take whole.
fn send_frames(packet: BorrowedFd<'_>, ip4: Option<&Loopback4>, frames: &[&[u8]]) -> Result<usize, NetError> {
    let Some(ip4) = ip4 else {
        return send_mmsg(packet, frames, Via::Packet);
    };
    let way = |f: &[u8]| is_ipv4(f).then(|| Detour::of(f));
    let mut sent = 0;
    let mut rest = frames;
    while let Some(first) = rest.first() {
        let detour = way(first);
        let run = rest.iter().take_while(|f| way(f) == detour).count();
        let n = match detour {
            Some(detour) => send_mmsg(ip4.fd(detour), &rest[..run], Via::Ip4),
            None => send_mmsg(packet, &rest[..run], Via::Packet),
        }?;
        sent += n;
        if n < run {
            break;
        }
        rest = &rest[run..];
    }
    Ok(sent)
}

/// How [`send_mmsg`] hands frames to its socket.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    /// Whole frames to a bound AF_PACKET socket.
    Packet,
    /// IPv4 packets (the frame minus its Ethernet header) to a raw IPv4 socket, each
    /// addressed to its own destination.
    Ip4,
}

/// `sendmmsg` in batches of [`BATCH`]; see [`PacketSocket::send_batch`].
fn send_mmsg(fd: BorrowedFd<'_>, frames: &[&[u8]], via: Via) -> Result<usize, NetError> {
    let mut sent = 0;
    let cap = frames.len().min(BATCH);
    let mut iovs: Vec<libc::iovec> = Vec::with_capacity(cap);
    let mut names: Vec<libc::sockaddr_in> = Vec::with_capacity(if via == Via::Ip4 { cap } else { 0 });
    let mut msgs: Vec<libc::mmsghdr> = Vec::with_capacity(cap);
    for chunk in frames.chunks(BATCH) {
        iovs.clear();
        names.clear();
        for frame in chunk {
            let bytes = match via {
                Via::Packet => *frame,
                Via::Ip4 => {
                    let ip = &frame[ETH_HLEN..];
                    // SAFETY: sockaddr_in is plain integers, valid when zeroed.
                    let mut name: libc::sockaddr_in = unsafe { mem::zeroed() };
                    name.sin_family = libc::AF_INET as libc::sa_family_t;
                    let dst = Ipv4Packet::new_unchecked(ip).dst_addr();
                    name.sin_addr.s_addr = u32::from_ne_bytes(dst.octets());
                    names.push(name);
                    ip
                }
            };
            iovs.push(libc::iovec { iov_base: bytes.as_ptr().cast_mut().cast(), iov_len: bytes.len() });
        }
        msgs.clear();
        for (i, iov) in iovs.iter_mut().enumerate() {
            // SAFETY: mmsghdr is plain integers and pointers, valid when zeroed (no name,
            // no control data).
            let mut msg: libc::mmsghdr = unsafe { mem::zeroed() };
            msg.msg_hdr.msg_iov = iov;
            msg.msg_hdr.msg_iovlen = 1;
            if let Some(name) = names.get_mut(i) {
                msg.msg_hdr.msg_name = std::ptr::from_mut(name).cast();
                msg.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            msgs.push(msg);
        }
        let mut done = 0;
        while done < msgs.len() {
            let want = u32::try_from(msgs.len() - done).expect("at most BATCH");
            // SAFETY: `msgs[done..]` are valid mmsghdrs whose iovec and name point into
            // `iovs`, `names` and the borrowed frames, all live and unmoved for the call; the
            // kernel only reads them (and writes `msg_len`).
            let rc = unsafe { libc::sendmmsg(fd.as_raw_fd(), msgs[done..].as_mut_ptr(), want, 0) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS | libc::EAGAIN) => return Ok(sent),
                    _ => return Err(NetError::os("sendmmsg", e)),
                }
            }
            let n = rc as usize;
            done += n;
            sent += n;
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_move_between_threads() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<PacketSocket>();
        send_and_sync::<PacketSender>();
    }

    #[test]
    fn only_whole_ipv4_frames_take_the_loopback_detour() {
        let mut frame = vec![0u8; 54];
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
        assert!(is_ipv4(&frame));
        assert!(!is_ipv4(&frame[..30]));
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert!(!is_ipv4(&frame));
    }

    #[test]
    fn only_an_own_address_probing_itself_outside_127_leaves_unbound() {
        let frame = |src: [u8; 4], dst: [u8; 4]| {
            let mut f = vec![0u8; 54];
            f[12..14].copy_from_slice(&[0x08, 0x00]);
            f[ETH_HLEN + 12..ETH_HLEN + 16].copy_from_slice(&src);
            f[ETH_HLEN + 16..ETH_HLEN + 20].copy_from_slice(&dst);
            f
        };
        assert_eq!(Detour::of(&frame([198, 18, 0, 1], [198, 18, 0, 1])), Detour::Own);
        assert_eq!(Detour::of(&frame([127, 0, 0, 1], [127, 0, 0, 1])), Detour::Lo);
        // An AnyIP range routed to lo: the bound socket reaches it.
        assert_eq!(Detour::of(&frame([198, 18, 0, 1], [198, 19, 0, 7])), Detour::Lo);
        assert_eq!(Detour::of(&frame([127, 0, 0, 1], [198, 18, 0, 1])), Detour::Lo);
    }
}
