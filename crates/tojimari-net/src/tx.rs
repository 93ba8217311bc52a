//! [`FrameSender`]: one sending thread's way of putting whole Ethernet frames on one interface, chosen at
//! run time. A TPACKET_V2 transmit ring ([`crate::tx_ring`]) where the kernel grants one: frames are built
//! in place in memory the kernel reads, and one `send` call kicks a whole batch. Where the ring is refused
//! (an old kernel, no privilege for it, memory short) or cannot work (a loopback interface, whose IPv4
//! frames take a raw-socket detour), `sendmmsg` from a queue of buffers: the same frames, one copy more.
//! [`SendMethod`] says which, and why, for `-v`.

use std::fmt;
use std::os::fd::{AsFd, OwnedFd};

use crate::error::NetError;
use crate::filter::Filter;
use crate::socket::{PacketSender, attach_filter, bind};
use crate::sys;
use crate::tx_ring::{MAX_FRAME as MMSG_FRAME, TxRing, TxRingConfig, kick};

const PACKET_LOSS: libc::c_int = 14;
const PACKET_QDISC_BYPASS: libc::c_int = 20;
const PACKET_VNET_HDR: libc::c_int = 15;
/// Frames queued for one `sendmmsg` on the fallback path.
const MMSG_BATCH: usize = 256;

/// How a [`FrameSender`] sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendMethod {
    /// A PACKET_TX_RING of `slots` frames; `qdisc_bypass` when the kernel let frames skip the queueing
    /// discipline (PACKET_QDISC_BYPASS).
    Ring { slots: usize, qdisc_bypass: bool, linear: bool },
    /// `sendmmsg` batches, because of `why`; `refused` when the kernel refused the ring (rather than the
    /// ring being turned off or impossible on the interface).
    Mmsg { why: String, refused: bool },
}

impl SendMethod {
    /// A short name: `tx-ring` or `sendmmsg`.
    pub fn name(&self) -> &'static str {
        match self {
            SendMethod::Ring { .. } => "tx-ring",
            SendMethod::Mmsg { .. } => "sendmmsg",
        }
    }
}

impl fmt::Display for SendMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendMethod::Ring { slots, qdisc_bypass, linear } => {
                write!(f, "tx-ring (PACKET_TX_RING, TPACKET_V2, {slots} slots")?;
                if *qdisc_bypass {
                    f.write_str(", qdisc bypass")?;
                }
                if *linear {
                    f.write_str(", frames copied whole")?;
                }
                f.write_str(")")
            }
            SendMethod::Mmsg { why, .. } => write!(f, "sendmmsg ({why})"),
        }
    }
}

/// Whether to try the transmit ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendPreference {
    /// The ring where the kernel grants it, `sendmmsg` elsewhere.
    Auto,
    /// `sendmmsg` only (for comparison, or where the ring misbehaves).
    Mmsg,
}

/// One thread's sender on one interface. Not shared: each sending thread owns its own.
#[derive(Debug)]
pub struct FrameSender {
    path: Path,
    method: SendMethod,
    /// Frames queued and not yet handed to the kernel.
    pending: usize,
}

#[derive(Debug)]
enum Path {
    // Field order is drop order: unmap the ring before closing its socket.
    Ring { ring: TxRing, fd: OwnedFd },
    Mmsg { sender: PacketSender, bufs: Vec<Vec<u8>>, lens: Vec<usize> },
}

impl FrameSender {
    /// Opens a sender on `ifindex`: the ring if `preference` allows and the kernel grants it, `sendmmsg`
    /// otherwise (never an error for a refused ring; errors are for no privilege or no interface).
    pub fn open(ifindex: u32, preference: SendPreference) -> Result<FrameSender, NetError> {
        FrameSender::open_with(ifindex, preference, TxRingConfig::default())
    }

    /// As [`FrameSender::open`], with the ring's sizes given.
    pub fn open_with(ifindex: u32, preference: SendPreference, ring: TxRingConfig) -> Result<FrameSender, NetError> {
        // A loopback interface needs the raw-socket detour that only the `sendmmsg` path has.
        let loopback = crate::interface::link_by_index(&mut crate::netlink::Netlink::open()?, ifindex)?.loopback;
        let (why, refused) = if loopback {
            ("loopback: IPv4 frames go through a raw IPv4 socket".to_string(), false)
        } else if preference == SendPreference::Mmsg {
            ("the transmit ring was turned off".to_string(), false)
        } else {
            match open_ring(ifindex, ring) {
                Ok((ring, fd, qdisc_bypass, linear)) => {
                    let method = SendMethod::Ring { slots: ring.slots(), qdisc_bypass, linear };
                    return Ok(FrameSender { path: Path::Ring { ring, fd }, method, pending: 0 });
                }
                // Without the privilege for a packet socket at all, sendmmsg cannot help either.
                Err(NetError::PermissionDenied) => return Err(NetError::PermissionDenied),
                Err(e) => (format!("the transmit ring was refused: {e}"), true),
            }
        };
        let sender = PacketSender::open(ifindex)?;
        let bufs = (0..MMSG_BATCH).map(|_| vec![0u8; MMSG_FRAME]).collect();
        Ok(FrameSender {
            path: Path::Mmsg { sender, bufs, lens: vec![0; MMSG_BATCH] },
            method: SendMethod::Mmsg { why, refused },
            pending: 0,
        })
    }

    /// The packet socket this sender sends on (for [`crate::Handoff`]).
    pub fn socket_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match &self.path {
            Path::Ring { fd, .. } => fd.as_raw_fd(),
            Path::Mmsg { sender, .. } => sender.as_fd().as_raw_fd(),
        }
    }

    /// How this sender sends.
    pub fn method(&self) -> &SendMethod {
        &self.method
    }

    /// Frames queued and not yet handed to the kernel.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Whether a frame can be queued now without a [`FrameSender::flush`] first.
    pub fn ready(&self) -> bool {
        match &self.path {
            Path::Ring { ring, .. } => ring.ready(),
            Path::Mmsg { bufs, .. } => self.pending < bufs.len(),
        }
    }

    /// Lets `fill` build a frame in the next free buffer and queues it if `fill` returns its length
    /// (0: nothing queued). Returns false, calling nothing, when no buffer is free: flush and retry.
    pub fn push(&mut self, fill: &mut dyn FnMut(&mut [u8]) -> usize) -> bool {
        if !self.ready() {
            return false;
        }
        let len = match &mut self.path {
            Path::Ring { ring, .. } => ring.fill(fill),
            Path::Mmsg { bufs, lens, .. } => {
                let len = fill(&mut bufs[self.pending]).min(MMSG_FRAME);
                lens[self.pending] = len;
                len
            }
        };
        if len > 0 {
            self.pending += 1;
        }
        true
    }

    /// Hands every queued frame to the kernel. Returns how many it took; what a full device queue left
    /// (ENOBUFS) stays queued for the next flush. Errors: the interface went down
    /// ([`NetError::InterfaceDown`]), or another send failure.
    pub fn flush(&mut self) -> Result<usize, NetError> {
        if self.pending == 0 {
            return Ok(0);
        }
        match &mut self.path {
            Path::Ring { ring, fd } => {
                kick(fd.as_fd())?;
                // The kernel takes the requested slots in order: if the last one is still requested, a full
                // queue stopped it, and the rest go with the next kick (the caller pauses and flushes again).
                if ring.unsent() {
                    return Ok(0);
                }
                let n = self.pending;
                self.pending = 0;
                Ok(n)
            }
            Path::Mmsg { sender, bufs, lens } => {
                let frames: Vec<&[u8]> = bufs[..self.pending].iter().zip(lens.iter()).map(|(b, &l)| &b[..l]).collect();
                let n = sender.send_batch(&frames)?;
                if n < self.pending {
                    bufs[..self.pending].rotate_left(n);
                    lens[..self.pending].rotate_left(n);
                }
                self.pending -= n;
                Ok(n)
            }
        }
    }
}

/// A send-only AF_PACKET socket with a transmit ring: (ring, socket, qdisc bypass granted, frames copied
/// whole thanks to a virtio-net header).
fn open_ring(ifindex: u32, config: TxRingConfig) -> Result<(TxRing, OwnedFd, bool, bool), NetError> {
    let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0, "open AF_PACKET socket")?;
    attach_filter(&fd, &Filter::drop_all())?;
    let one: libc::c_int = 1;
    // Malformed frames are dropped rather than stopping the ring.
    sys::set_option(&fd, libc::SOL_PACKET, PACKET_LOSS, &one, "set PACKET_LOSS")?;
    // Frames go straight to the driver, past the queueing discipline; not fatal where refused.
    let qdisc_bypass =
        sys::set_option(&fd, libc::SOL_PACKET, PACKET_QDISC_BYPASS, &one, "set PACKET_QDISC_BYPASS").is_ok();
    // Small frames are copied whole into the socket buffer rather than attached by page (see TxRing).
    let linear = sys::set_option(&fd, libc::SOL_PACKET, PACKET_VNET_HDR, &one, "set PACKET_VNET_HDR").is_ok();
    let ring = TxRing::setup(fd.as_fd(), config, linear)?;
    bind(&fd, ifindex, 0)?;
    Ok((ring, fd, qdisc_bypass, linear))
}
