//! Golden bytes (STYLE #33): the exact file of a small object is pinned here, so any accidental
//! change of the container or of the payload primitives fails this test. An intended change
//! bumps a version and adds a new golden file, keeping the old one to prove old files still
//! read, or (format 1, without the key-set tag) that they are refused as what they are.

use std::path::Path;

use fhec_runtime::serialize::{
    Codec, HEADER_LEN, Header, KeySetTag, ObjectKind, ParamHash, PayloadError, Problem, Reader,
    Writer, from_bytes, from_bytes_tagged, to_bytes_tagged,
};

/// A small object using every payload primitive.
#[derive(Debug, PartialEq)]
struct Golden {
    level: u32,
    flag: u8,
    scale: f64,
    seed: [u8; 32],
    label: Vec<u8>,
    limbs: Vec<Vec<u64>>,
}

impl Codec for Golden {
    const KIND: ObjectKind = ObjectKind::Plaintext;
    const VERSION: u32 = 1;
    type Context = ();

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.u32(self.level)?;
        w.u8(self.flag)?;
        w.f64(self.scale)?;
        w.fixed_bytes(&self.seed)?;
        w.bytes(&self.label)?;
        w.u64(self.limbs.len() as u64)?;
        self.limbs.iter().try_for_each(|limb| w.u64_slice(limb))
    }

    fn decode(r: &mut Reader<'_>, _version: u32, _: &()) -> Result<Self, PayloadError> {
        let level = r.u32()?;
        let flag = r.u8()?;
        let scale = r.f64()?;
        let seed = r.array()?;
        let label = r.bytes(16)?;
        let count = r.u64()?;
        let limbs = (0..count)
            .map(|_| r.u64_vec(16))
            .collect::<Result<_, _>>()?;
        Ok(Golden {
            level,
            flag,
            scale,
            seed,
            label,
            limbs,
        })
    }
}

fn golden() -> Golden {
    Golden {
        level: 3,
        flag: 1,
        scale: 2f64.powi(40),
        seed: std::array::from_fn(|i| i as u8),
        label: b"fhec".to_vec(),
        limbs: vec![vec![1, 2, 3], vec![u64::MAX - 58]],
    }
}

fn params() -> ParamHash {
    ParamHash(std::array::from_fn(|i| 0xa0 + i as u8))
}

fn key_set() -> KeySetTag {
    KeySetTag {
        id: std::array::from_fn(|i| 0x10 + i as u8),
        program: std::array::from_fn(|i| 0x40 + i as u8),
    }
}

/// The file in format 2, 16 bytes a line.
const GOLDEN_HEX: &str = "
89464845430d0a1a0200070001000000
a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
b0b1b2b3b4b5b6b7b8b9babbbcbdbebf
71000000000000007d7bf29ac127677e
10ec900f36bee57305c7ba8e3d0af8a3
e03eabaa552ec5381011121314151617
18191a1b1c1d1e1f4041424344454647
48494a4b4c4d4e4f5051525354555657
58595a5b5c5d5e5f74fc35c345da6db1
03000000010000000000007042000102
030405060708090a0b0c0d0e0f101112
131415161718191a1b1c1d1e1f040000
00000000006668656302000000000000
00030000000000000001000000000000
00020000000000000003000000000000
000100000000000000c5ffffffffffff
ff
";

/// The same object's file in format 1 (no key-set tag), 16 bytes a line.
const GOLDEN_V1_HEX: &str = "
89464845430d0a1a0100070001000000
a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
b0b1b2b3b4b5b6b7b8b9babbbcbdbebf
71000000000000007d7bf29ac127677e
10ec900f36bee57305c7ba8e3d0af8a3
e03eabaa552ec53896082448413fa04c
03000000010000000000007042000102
030405060708090a0b0c0d0e0f101112
131415161718191a1b1c1d1e1f040000
00000000006668656302000000000000
00030000000000000001000000000000
00020000000000000003000000000000
000100000000000000c5ffffffffffff
ff
";

fn hex_lines(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|line| {
            line.iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
                + "\n"
        })
        .collect()
}

fn unhex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .flat_map(|line| (0..line.len()).step_by(2).map(move |at| &line[at..at + 2]))
        .map(|pair| u8::from_str_radix(pair, 16).unwrap())
        .collect()
}

#[test]
fn the_file_of_a_small_object_is_pinned() {
    let bytes = to_bytes_tagged(&golden(), &params(), &key_set()).unwrap();
    assert_eq!(
        hex_lines(&bytes),
        GOLDEN_HEX.trim_start(),
        "the file format changed"
    );
}

#[test]
fn the_pinned_file_still_reads() {
    let bytes = unhex(GOLDEN_HEX);
    let (back, tag): (Golden, _) =
        from_bytes_tagged(&bytes, Path::new("golden"), &params(), &()).unwrap();
    assert_eq!((back, tag), (golden(), key_set()));
}

#[test]
fn a_format_1_file_is_refused_as_such() {
    let bytes = unhex(GOLDEN_V1_HEX);
    let error = from_bytes::<Golden>(&bytes, Path::new("old"), &params(), &()).unwrap_err();
    assert!(
        matches!(error.problem(), Problem::UnknownFormatVersion { found: 1 }),
        "{error}"
    );
}

/// The header fields sit where `docs/file-formats.md` says, and the checksums are the BLAKE3
/// digests it describes.
#[test]
fn the_layout_matches_the_documentation() {
    let bytes = to_bytes_tagged(&golden(), &params(), &key_set()).unwrap();
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    assert_eq!(&bytes[0..8], b"\x89FHEC\r\n\x1a");
    assert_eq!(u16_at(8), 2, "format version");
    assert_eq!(u16_at(10), ObjectKind::Plaintext.code());
    assert_eq!(bytes[12..16], 1u32.to_le_bytes(), "payload version");
    assert_eq!(bytes[16..48], params().0);
    assert_eq!(HEADER_LEN, 144);
    let payload = &bytes[144..];
    assert_eq!(bytes[48..56], (payload.len() as u64).to_le_bytes());
    assert_eq!(bytes[56..88], *blake3::hash(payload).as_bytes());
    assert_eq!(bytes[88..104], key_set().id);
    assert_eq!(bytes[104..136], key_set().program);
    assert_eq!(bytes[136..144], blake3::hash(&bytes[..136]).as_bytes()[..8]);
    let header = Header::parse(&bytes[..144], bytes.len() as u64).unwrap();
    assert_eq!(header.payload_len, 113);
}
