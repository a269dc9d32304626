use mosaic_sa_core::files::{as_bytes, checksum_bytes, read_u64_file, Fingerprint, OutHeader, U64Writer, SELFSIM_MAGIC};

fn header() -> OutHeader {
    let fp = Fingerprint { width: 2, n_tokens: 10, n_docs: 1, file_size: 148, checksum: 7 };
    OutHeader { magic: *SELFSIM_MAGIC, pointer_width: 8, flags: 1, fp, param: 50, count1: 3, count2: 4, param2: 0, payload_checksum: 0 }
}

/// The streamed writer (buffered pushes and direct slices, across several buffer
/// flushes, header rewritten at the end) writes exactly the bytes of the header
/// with the payload's checksum followed by the payload.
#[test]
fn streamed_u64_file_is_header_then_payload() {
    let dir = std::env::temp_dir().join(format!("mosaic-files-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.ss");
    let payload: Vec<u64> = (0..200_003u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i >> 3)).collect();
    let mut w = U64Writer::create(&path, header()).unwrap();
    let (a, rest) = payload.split_at(140_001);
    for &x in a {
        w.push(x).unwrap();
    }
    w.extend(&rest[..7]).unwrap();
    for &x in &rest[7..50_000] {
        w.push(x).unwrap();
    }
    w.extend(&rest[50_000..]).unwrap();
    w.finish().unwrap();

    let mut want_h = header();
    want_h.payload_checksum = checksum_bytes(as_bytes(&payload));
    let mut want = want_h.to_bytes().to_vec();
    want.extend_from_slice(as_bytes(&payload));
    assert_eq!(std::fs::read(&path).unwrap(), want);
    let (h, got) = read_u64_file(&path, SELFSIM_MAGIC, "self-similar").unwrap();
    assert_eq!(got, payload);
    assert_eq!(h.count1, 3);

    // dropped before finish: nothing is left, the earlier file stays
    let mut w = U64Writer::create(&path, header()).unwrap();
    w.push(1).unwrap();
    drop(w);
    assert_eq!(std::fs::read(&path).unwrap(), want);
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 1, "{left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
