//! Ethernet II framing (IEEE 802.3 clause 3.2.6 "Length/Type" as EtherType): 6-byte destination, 6-byte
//! source, 2-byte EtherType.

/// Ethernet II header length.
pub(crate) const HEADER_LEN: usize = 14;
/// EtherType for IPv4 (RFC 894).
pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType for ARP (RFC 826).
pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType for IPv6 (RFC 2464).
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q VLAN tag.
pub(crate) const ETHERTYPE_VLAN: u16 = 0x8100;
/// 802.1ad service VLAN tag (QinQ outer tag).
pub(crate) const ETHERTYPE_QINQ: u16 = 0x88a8;
/// The broadcast address.
pub(crate) const BROADCAST: [u8; 6] = [0xff; 6];

/// Writes an Ethernet II header into `buf[..14]`; `buf` must hold it (callers check sizes first).
pub(crate) fn emit(buf: &mut [u8], dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    buf[0..6].copy_from_slice(&dst);
    buf[6..12].copy_from_slice(&src);
    buf[12..14].copy_from_slice(&ethertype.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_layout() {
        let mut b = [0u8; 14];
        emit(&mut b, [1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], ETHERTYPE_IPV6);
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x86, 0xdd]);
    }
}
