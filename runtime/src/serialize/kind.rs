//! What a serialized file holds ([`ObjectKind`]), written into every file header so that a
//! file is never mistaken for another kind of object. (Which parameters it was made for is
//! `fhec_params::ParamHash`, computed where the parameters are validated.)

use std::fmt;

/// The kind of CKKS object a file holds; its numeric code is stored in the file header.
///
/// Codes are part of the file format: never renumber a kind, only append new ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ObjectKind {
    /// A parameter set (ring degree, modulus chain, key-switching layout).
    Parameters = 1,
    /// A secret key: the only kind holding secret material.
    SecretKey = 2,
    /// A public encryption key.
    PublicKey = 3,
    /// A relinearisation key (key switching from `s^2` to `s`).
    RelinearizationKey = 4,
    /// A set of Galois keys (rotations and conjugation), indexed by Galois element.
    GaloisKeys = 5,
    /// A ciphertext.
    Ciphertext = 6,
    /// An encoded plaintext.
    Plaintext = 7,
    /// Every evaluation key a bootstrap needs (Galois, relinearisation, encapsulation).
    BootstrapKeys = 8,
}

impl ObjectKind {
    /// Every kind, in code order.
    pub const ALL: [ObjectKind; 8] = [
        ObjectKind::Parameters,
        ObjectKind::SecretKey,
        ObjectKind::PublicKey,
        ObjectKind::RelinearizationKey,
        ObjectKind::GaloisKeys,
        ObjectKind::Ciphertext,
        ObjectKind::Plaintext,
        ObjectKind::BootstrapKeys,
    ];

    /// The code stored in the file header.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The kind with this header code, or `None` for a code this build does not know.
    pub fn from_code(code: u16) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// Whether objects of this kind hold secret material. Secret files are created with mode
    /// 0600, are refused inside a directory named `public`, and every buffer that held their
    /// bytes is wiped.
    pub fn is_secret(self) -> bool {
        matches!(self, ObjectKind::SecretKey)
    }

    /// A human name used in error messages, e.g. "public key".
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Parameters => "parameter set",
            ObjectKind::SecretKey => "secret key",
            ObjectKind::PublicKey => "public key",
            ObjectKind::RelinearizationKey => "relinearisation key",
            ObjectKind::GaloisKeys => "Galois key set",
            ObjectKind::Ciphertext => "ciphertext",
            ObjectKind::Plaintext => "plaintext",
            ObjectKind::BootstrapKeys => "bootstrapping key set",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Lower-case hex of `bytes`, used in error messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for kind in ObjectKind::ALL {
            assert_eq!(ObjectKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(ObjectKind::from_code(0), None);
        assert_eq!(ObjectKind::from_code(8), Some(ObjectKind::BootstrapKeys));
        assert_eq!(ObjectKind::from_code(9), None);
    }

    #[test]
    fn only_the_secret_key_is_secret() {
        let secret: Vec<_> = ObjectKind::ALL
            .into_iter()
            .filter(|k| k.is_secret())
            .collect();
        assert_eq!(secret, vec![ObjectKind::SecretKey]);
    }
}
