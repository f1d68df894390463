//! [`KeySetTag`]: which key set, and which program, a file belongs to. Every file `fhec keygen`
//! writes and every ciphertext encrypted or evaluated under its keys carries the same tag in
//! its header, so a ciphertext decrypted (or evaluated) with the keys of another `keygen`,
//! which would give garbage with exit code 0, is refused instead, naming both files.
//!
//! The id is drawn from the operating system's randomness, independently of every key: it
//! reveals nothing about the secret key. Files not bound to a key set (parameter files of
//! benchmarks, tests) carry [`KeySetTag::NONE`].

use std::fmt;

use super::kind::hex;

/// Bytes of a [`KeySetTag`] in a file header.
pub const KEY_SET_TAG_LEN: usize = 48;

/// A key set's random id and the hash of the program its keys were generated for.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySetTag {
    /// Random, drawn once per `keygen`.
    pub id: [u8; 16],
    /// BLAKE3 of the program the keys were generated for (its canonical text).
    pub program: [u8; 32],
}

impl KeySetTag {
    /// The tag of a file bound to no key set.
    pub const NONE: KeySetTag = KeySetTag {
        id: [0; 16],
        program: [0; 32],
    };

    /// A fresh tag for the program whose hash is `program`, its id from the operating
    /// system's randomness.
    ///
    /// Errors: the system's randomness is unavailable.
    pub fn random(program: [u8; 32]) -> Result<Self, getrandom::Error> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)?;
        Ok(KeySetTag { id, program })
    }

    /// Whether this is [`KeySetTag::NONE`].
    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }

    /// The 48 bytes stored in a header: id, then program hash.
    pub fn to_bytes(&self) -> [u8; KEY_SET_TAG_LEN] {
        let mut bytes = [0u8; KEY_SET_TAG_LEN];
        bytes[..16].copy_from_slice(&self.id);
        bytes[16..].copy_from_slice(&self.program);
        bytes
    }

    /// The tag stored in `bytes` (as [`Self::to_bytes`] writes it).
    pub fn from_bytes(bytes: &[u8; KEY_SET_TAG_LEN]) -> Self {
        let mut tag = Self::NONE;
        tag.id.copy_from_slice(&bytes[..16]);
        tag.program.copy_from_slice(&bytes[16..]);
        tag
    }
}

impl fmt::Display for KeySetTag {
    /// `key set 1a2b3c4d… (program 5e6f7a8b…)`, or `no key set`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("no key set");
        }
        write!(
            f,
            "key set {}… (program {}…)",
            hex(&self.id[..4]),
            hex(&self.program[..4])
        )
    }
}

impl fmt::Debug for KeySetTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
