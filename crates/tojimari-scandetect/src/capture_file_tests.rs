//! Captures built byte by byte: both pcap magics and byte orders, pcapng timestamp resolutions, and
//! hostile length fields.

use super::*;

const ETHERNET: u32 = 1;
const FRAME: &[u8] = b"0123456789abcdef-frame";

/// A classic pcap: `magic` decides unit and byte order (written little-endian unless `big`).
fn pcap(nanos: bool, big: bool, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let w32 = |out: &mut Vec<u8>, v: u32| out.extend(if big { v.to_be_bytes() } else { v.to_le_bytes() });
    let w16 = |out: &mut Vec<u8>, v: u16| out.extend(if big { v.to_be_bytes() } else { v.to_le_bytes() });
    let mut out = Vec::new();
    w32(&mut out, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
    w16(&mut out, 2);
    w16(&mut out, 4);
    w32(&mut out, 0);
    w32(&mut out, 0);
    w32(&mut out, 262_144);
    w32(&mut out, ETHERNET);
    for (secs, frac, data) in records {
        w32(&mut out, *secs);
        w32(&mut out, *frac);
        w32(&mut out, data.len() as u32);
        w32(&mut out, data.len() as u32);
        out.extend_from_slice(data);
    }
    out
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut padded = body.to_vec();
    padded.resize(body.len().div_ceil(4) * 4, 0);
    let total = (padded.len() + 12) as u32;
    let mut out = Vec::new();
    out.extend(kind.to_le_bytes());
    out.extend(total.to_le_bytes());
    out.extend(padded);
    out.extend(total.to_le_bytes());
    out
}

fn shb() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(0x1a2b_3c4du32.to_le_bytes());
    body.extend(1u16.to_le_bytes());
    body.extend(0u16.to_le_bytes());
    body.extend((-1i64).to_le_bytes());
    block(0x0a0d_0d0a, &body)
}

/// An interface description, with an `if_tsresol` option if `tsresol` is given.
fn idb(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(linktype.to_le_bytes());
    body.extend(0u16.to_le_bytes());
    body.extend(262_144u32.to_le_bytes());
    if let Some(value) = tsresol {
        body.extend(9u16.to_le_bytes());
        body.extend(1u16.to_le_bytes());
        body.extend([value, 0, 0, 0]);
        body.extend([0, 0, 0, 0]); // opt_endofopt
    }
    block(1, &body)
}

fn epb(interface: u32, ticks: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(interface.to_le_bytes());
    body.extend(((ticks >> 32) as u32).to_le_bytes());
    body.extend((ticks as u32).to_le_bytes());
    body.extend((data.len() as u32).to_le_bytes());
    body.extend((data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    block(6, &body)
}

/// A frame as (link type, time in microseconds, bytes).
type Owned = (u32, Option<u64>, Vec<u8>);

/// Every frame, or the error that stopped reading.
fn frames(bytes: &[u8]) -> Result<Vec<Owned>, FormatError> {
    let mut reader = CaptureReader::new(bytes)?;
    let mut out = Vec::new();
    while let Some(frame) = reader.next_frame()? {
        out.push((frame.linktype, frame.ts.map(Timestamp::as_micros), frame.data.to_vec()));
    }
    Ok(out)
}

fn times(bytes: &[u8]) -> Vec<Option<u64>> {
    frames(bytes).unwrap().into_iter().map(|(_, ts, _)| ts).collect()
}

#[test]
fn classic_pcap_microsecond_and_nanosecond_magic() {
    let t = 1_700_000_000u32;
    let micro = pcap(false, false, &[(t, 250_000, FRAME), (t + 1, 999_999, FRAME)]);
    let nano = pcap(true, false, &[(t, 250_000_000, FRAME), (t + 1, 999_999_999, FRAME)]);
    let want = vec![Some(u64::from(t) * 1_000_000 + 250_000), Some(u64::from(t + 1) * 1_000_000 + 999_999)];
    assert_eq!(times(&micro), want);
    assert_eq!(times(&nano), want);
    let big = pcap(true, true, &[(t, 250_000_000, FRAME)]);
    assert_eq!(frames(&big).unwrap(), vec![(ETHERNET, want[0], FRAME.to_vec())]);
}

#[test]
fn classic_pcap_fraction_past_a_second_is_corrupt() {
    let bad = pcap(false, false, &[(1, 1_000_000, FRAME)]);
    let err = frames(&bad).unwrap_err();
    assert!(matches!(err, FormatError::Packet { index: 0, .. }), "{err:?}");
}

#[test]
fn pcapng_without_tsresol_is_microseconds() {
    let t = 1_700_000_000_123_456u64;
    let file = [shb(), idb(1, None), epb(0, t, FRAME)].concat();
    assert_eq!(frames(&file).unwrap(), vec![(ETHERNET, Some(t), FRAME.to_vec())]);
}

#[test]
fn pcapng_honours_tsresol_per_interface() {
    let micros = 1_700_000_000_123_456u64;
    let binary_ticks = ((u128::from(micros) << 20) / 1_000_000) as u64;
    let file = [
        shb(),
        idb(1, Some(9)),         // nanoseconds
        idb(113, Some(3)),       // milliseconds, Linux cooked
        idb(1, Some(0x80 | 20)), // 2^-20 seconds
        epb(0, micros * 1000 + 789, FRAME),
        epb(1, micros / 1000, FRAME),
        epb(2, binary_ticks, FRAME),
    ]
    .concat();
    let got = frames(&file).unwrap();
    assert_eq!(got[0].0, ETHERNET);
    assert_eq!(got[1].0, 113);
    assert_eq!(
        got.iter().map(|f| f.1).collect::<Vec<_>>(),
        [Some(micros), Some(micros / 1000 * 1000), Some(((u128::from(binary_ticks) * 1_000_000) >> 20) as u64)]
    );
    // 2^-20 ticks lose less than a microsecond.
    assert!(micros - got[2].1.unwrap() <= 1);
}

#[test]
fn a_new_section_forgets_the_interfaces_of_the_last() {
    let file = [shb(), idb(1, Some(9)), shb(), epb(0, 5, FRAME)].concat();
    let err = frames(&file).unwrap_err();
    assert!(err.to_string().contains("never described"), "{err}");
}

#[test]
fn a_huge_record_length_is_refused_before_any_allocation() {
    let mut file = pcap(false, false, &[(1, 0, FRAME)]);
    // A second record header claiming 4 GiB, followed by nothing.
    for v in [2u32, 0, u32::MAX, u32::MAX] {
        file.extend(v.to_le_bytes());
    }
    let err = frames(&file).unwrap_err();
    assert!(matches!(err, FormatError::Packet { index: 1, .. }), "{err:?}");
    assert!(err.to_string().contains("past the 262144-byte limit"), "{err}");
}

#[test]
fn a_huge_pcapng_block_length_is_refused() {
    let mut file = [shb(), idb(1, None)].concat();
    file.extend(6u32.to_le_bytes());
    file.extend(0xffff_fff0u32.to_le_bytes());
    let err = frames(&file).unwrap_err();
    assert!(err.to_string().contains("past the"), "{err}");
    // A packet longer than its block.
    let mut bad = epb(0, 1, FRAME);
    bad[20..24].copy_from_slice(&1000u32.to_le_bytes());
    let err = frames(&[shb(), idb(1, None), bad].concat()).unwrap_err();
    assert!(err.to_string().contains("past the end of its block"), "{err}");
    // A packet within the block limit but past the packet limit.
    let big = vec![0u8; MAX_PACKET + 4];
    let err = frames(&[shb(), idb(1, None), epb(0, 1, &big)].concat()).unwrap_err();
    assert!(err.to_string().contains("packet length 262148 is past the 262144-byte limit"), "{err}");
    let fits = vec![0u8; MAX_PACKET];
    assert_eq!(frames(&[shb(), idb(1, None), epb(0, 1, &fits)].concat()).unwrap()[0].2.len(), MAX_PACKET);
}

#[test]
fn cut_short_and_junk() {
    let file = pcap(false, false, &[(1, 0, FRAME), (2, 0, FRAME)]);
    let err = frames(&file[..file.len() - 3]).unwrap_err();
    assert!(matches!(err, FormatError::Packet { index: 1, .. }), "{err:?}");
    assert!(matches!(frames(b"GET / HTTP/1.0\r\n"), Err(FormatError::Header(_))));
    assert!(matches!(frames(b""), Err(FormatError::Header(_))));
    // Endless zeros: an unknown magic, read no further.
    assert!(matches!(CaptureReader::new(io::repeat(0)), Err(FormatError::Header(_))));
}

#[test]
fn simple_packet_blocks_have_no_time() {
    let mut body = (FRAME.len() as u32).to_le_bytes().to_vec();
    body.extend_from_slice(FRAME);
    let file = [shb(), idb(1, None), block(3, &body)].concat();
    assert_eq!(frames(&file).unwrap(), vec![(ETHERNET, None, FRAME.to_vec())]);
}
