//! Value types: ciphertexts and plaintexts with their level, exact scale and slot count.
//!
//! Printed `ct<l=11, s=2^40, n=16384>` / `pt<l=11, s=2^40, n=16384>`. Because level and scale
//! are part of the type, the verifier checks levels and scales without any analysis.

use crate::scale::Scale;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Whether a value is encrypted or a plaintext (a recipe encoded on demand).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum ValueKind {
    /// A ciphertext, printed `ct`.
    Cipher,
    /// A plaintext, printed `pt`.
    Plain,
}

impl ValueKind {
    /// The keyword of the textual form.
    pub fn keyword(self) -> &'static str {
        match self {
            ValueKind::Cipher => "ct",
            ValueKind::Plain => "pt",
        }
    }
}

/// The type of an SSA value.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Type {
    /// Ciphertext or plaintext.
    pub kind: ValueKind,
    /// Level: the index of the last chain prime still present (`0` = only `q0` left).
    pub level: u32,
    /// The exact scale of the encoded message.
    pub scale: Scale,
    /// Number of complex slots used (a power of two).
    pub slots: u32,
}

impl Type {
    /// A ciphertext type.
    pub fn cipher(level: u32, scale: Scale, slots: u32) -> Self {
        Type {
            kind: ValueKind::Cipher,
            level,
            scale,
            slots,
        }
    }

    /// A plaintext type.
    pub fn plain(level: u32, scale: Scale, slots: u32) -> Self {
        Type {
            kind: ValueKind::Plain,
            level,
            scale,
            slots,
        }
    }

    /// True for ciphertexts.
    pub fn is_cipher(&self) -> bool {
        self.kind == ValueKind::Cipher
    }

    /// The same type with another level and scale.
    pub fn with_level_scale(&self, level: u32, scale: Scale) -> Self {
        Type {
            kind: self.kind,
            level,
            scale,
            slots: self.slots,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}<l={}, s={}, n={}>",
            self.kind.keyword(),
            self.level,
            self.scale,
            self.slots
        )
    }
}

impl fmt::Debug for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Type {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        crate::parser::parse_type(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses() {
        let ty = Type::cipher(11, Scale::pow2(40), 16384);
        assert_eq!(ty.to_string(), "ct<l=11, s=2^40, n=16384>");
        assert_eq!("ct<l=11, s=2^40, n=16384>".parse::<Type>().unwrap(), ty);
        let pt = Type::plain(3, Scale::pow2(80).rescaled_at(4).unwrap(), 8);
        assert_eq!(pt.to_string().parse::<Type>().unwrap(), pt);
        assert!("ct<l=1, n=8, s=2^40>".parse::<Type>().is_err());
    }
}
