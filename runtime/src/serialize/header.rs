//! The fixed 144-byte header that starts every fhec file, and the checks that read it.
//!
//! Layout (all integers little-endian; `docs/file-formats.md` is the reference):
//!
//! | offset | size | field |
//! | ------ | ---- | ----- |
//! | 0      | 8    | magic `89 46 48 45 43 0d 0a 1a` (`\x89FHEC\r\n\x1a`) |
//! | 8      | 2    | format version (u16), currently 1 |
//! | 10     | 2    | object kind code (u16, [`ObjectKind`]) |
//! | 12     | 4    | payload version (u32, the object's [`Codec::VERSION`](super::Codec::VERSION)) |
//! | 16     | 32   | parameter hash |
//! | 48     | 8    | payload length in bytes (u64) |
//! | 56     | 32   | payload checksum: BLAKE3 of the payload |
//! | 88     | 16   | key-set id ([`KeySetTag`]; zero: bound to no key set) |
//! | 104    | 32   | key set's program hash (zero with the id) |
//! | 136    | 8    | header checksum: first 8 bytes of BLAKE3 of bytes 0..136 |
//!
//! The header checksum covers the payload checksum, so together they cover header and payload;
//! keeping a separate header checksum lets a reader refuse a damaged header *before* it trusts
//! any of its fields (a flipped bit in the kind or parameter hash is reported as corruption, not
//! as a wrong kind). The format version sits right after the magic so that a future format may
//! change everything after it.

use super::error::Problem;
use super::key_set::{KEY_SET_TAG_LEN, KeySetTag};
use super::kind::{ObjectKind, hex};
use fhec_params::ParamHash;

/// The first 8 bytes of every fhec file. The non-ASCII first byte and the CR LF / Ctrl-Z tail
/// catch files mangled by text-mode transfers, as in PNG's signature.
pub const MAGIC: [u8; 8] = [0x89, b'F', b'H', b'E', b'C', b'\r', b'\n', 0x1a];

/// The container format version this build writes and reads (2: the key-set tag; version 1
/// files, without it, are refused so that no file escapes the key-set check).
pub const FORMAT_VERSION: u16 = 2;

/// Length of the header in bytes; the payload starts right after it.
pub const HEADER_LEN: usize = 144;

/// The largest payload a file may announce (1 TiB). A reader also refuses any payload longer
/// than what the file actually holds, so a corrupt length never makes it allocate.
pub const MAX_PAYLOAD_LEN: u64 = 1 << 40;

const VERSION_AT: usize = 8;
const KIND_AT: usize = 10;
const PAYLOAD_VERSION_AT: usize = 12;
const PARAMS_AT: usize = 16;
const PAYLOAD_LEN_AT: usize = 48;
const PAYLOAD_CHECKSUM_AT: usize = 56;
const KEY_SET_AT: usize = 88;
const HEADER_CHECKSUM_AT: usize = 136;

/// The decoded fields of a valid header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// What the file holds.
    pub kind: ObjectKind,
    /// The version of the payload's encoding ([`Codec::VERSION`](super::Codec::VERSION) at
    /// writing time).
    pub payload_version: u32,
    /// The parameters the object was made for.
    pub params: ParamHash,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// BLAKE3 of the payload.
    pub payload_checksum: [u8; 32],
    /// The key set the object belongs to ([`KeySetTag::NONE`]: none).
    pub key_set: KeySetTag,
}

impl Header {
    /// The header's 96 bytes, header checksum included.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0u8; HEADER_LEN];
        bytes[..VERSION_AT].copy_from_slice(&MAGIC);
        bytes[VERSION_AT..KIND_AT].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes[KIND_AT..PAYLOAD_VERSION_AT].copy_from_slice(&self.kind.code().to_le_bytes());
        bytes[PAYLOAD_VERSION_AT..PARAMS_AT].copy_from_slice(&self.payload_version.to_le_bytes());
        bytes[PARAMS_AT..PAYLOAD_LEN_AT].copy_from_slice(&self.params.0);
        bytes[PAYLOAD_LEN_AT..PAYLOAD_CHECKSUM_AT].copy_from_slice(&self.payload_len.to_le_bytes());
        bytes[PAYLOAD_CHECKSUM_AT..KEY_SET_AT].copy_from_slice(&self.payload_checksum);
        bytes[KEY_SET_AT..HEADER_CHECKSUM_AT].copy_from_slice(&self.key_set.to_bytes());
        let checksum = header_checksum(&bytes);
        bytes[HEADER_CHECKSUM_AT..].copy_from_slice(&checksum);
        bytes
    }

    /// Reads a header from the first bytes of a file (`start` holds up to [`HEADER_LEN`]
    /// bytes, fewer only when the file is shorter; `file_len` is the whole file's length).
    ///
    /// Checks, in this order: the magic (or a prefix of it, for a file cut short inside it),
    /// the format version, that the header is complete, the header checksum, and that the kind
    /// code is known. What the caller expects (kind, parameters, length against the file) is
    /// checked by the caller.
    pub fn parse(start: &[u8], file_len: u64) -> Result<Header, Problem> {
        let magic_part = start.len().min(MAGIC.len());
        if start[..magic_part] != MAGIC[..magic_part] {
            return Err(Problem::NotFhec {
                starts_with: hex(&start[..magic_part]),
            });
        }
        if start.len() < KIND_AT {
            return Err(Problem::TruncatedHeader { file_len });
        }
        let format_version = u16::from_le_bytes(field(start, VERSION_AT));
        if format_version != FORMAT_VERSION {
            return Err(Problem::UnknownFormatVersion {
                found: format_version,
            });
        }
        if start.len() < HEADER_LEN {
            return Err(Problem::TruncatedHeader { file_len });
        }
        if start[HEADER_CHECKSUM_AT..HEADER_LEN] != header_checksum(start) {
            return Err(Problem::CorruptHeader);
        }
        let code = u16::from_le_bytes(field(start, KIND_AT));
        let kind = ObjectKind::from_code(code).ok_or(Problem::UnknownKind { code })?;
        Ok(Header {
            kind,
            payload_version: u32::from_le_bytes(field(start, PAYLOAD_VERSION_AT)),
            params: ParamHash(field(start, PARAMS_AT)),
            payload_len: u64::from_le_bytes(field(start, PAYLOAD_LEN_AT)),
            payload_checksum: field(start, PAYLOAD_CHECKSUM_AT),
            key_set: KeySetTag::from_bytes(&field::<KEY_SET_TAG_LEN>(start, KEY_SET_AT)),
        })
    }
}

/// The `N` bytes of `bytes` starting at `at` (the caller has checked the length).
fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

/// The first 8 bytes of BLAKE3 over the header's bytes before the checksum.
fn header_checksum(header: &[u8]) -> [u8; 8] {
    let digest = blake3::hash(&header[..HEADER_CHECKSUM_AT]);
    field(digest.as_bytes(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            kind: ObjectKind::Ciphertext,
            payload_version: 3,
            params: ParamHash([7; 32]),
            payload_len: 1 << 20,
            payload_checksum: [9; 32],
            key_set: KeySetTag {
                id: [5; 16],
                program: [6; 32],
            },
        }
    }

    #[test]
    fn header_round_trips() {
        let bytes = sample().to_bytes();
        assert_eq!(Header::parse(&bytes, 1 << 30).unwrap(), sample());
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let bytes = sample().to_bytes();
        for at in 0..HEADER_LEN {
            let mut damaged = bytes;
            damaged[at] ^= 0x10;
            let problem = Header::parse(&damaged, 1 << 30).unwrap_err();
            let expected = match at {
                0..8 => matches!(problem, Problem::NotFhec { .. }),
                8..10 => matches!(problem, Problem::UnknownFormatVersion { .. }),
                _ => matches!(problem, Problem::CorruptHeader),
            };
            assert!(expected, "byte {at}: got {problem}");
        }
    }

    #[test]
    fn prefixes_of_the_magic_are_truncated_not_foreign() {
        let bytes = sample().to_bytes();
        for len in 0..HEADER_LEN {
            let problem = Header::parse(&bytes[..len], len as u64).unwrap_err();
            assert!(
                matches!(problem, Problem::TruncatedHeader { .. }),
                "{len}: {problem}"
            );
        }
    }
}
