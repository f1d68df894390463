//! Opaque data the IR carries without interpreting it: input/output slot layouts and the
//! parameter description. The compiler and runtime own those types; the IR stores their RON
//! text, so `fhec-ir` does not depend on them and a layout type can grow without an IR change.
//!
//! In `program.ron` the text is embedded as inline RON (not as an escaped string); in the IR's
//! textual form it is printed as a quoted string.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A RON document held as text; see the module documentation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Opaque(String);

/// Why data could not be turned into, or read back from, an [`Opaque`].
#[derive(Debug, thiserror::Error)]
#[error("opaque data: {0}")]
pub struct OpaqueError(String);

impl Opaque {
    /// Serialises `value` to RON.
    pub fn encode<T: Serialize>(value: &T) -> Result<Self, OpaqueError> {
        ron::to_string(value)
            .map(Opaque)
            .map_err(|e| OpaqueError(e.to_string()))
    }

    /// Wraps RON text, checking that it is one well-formed RON value.
    pub fn from_ron(text: &str) -> Result<Self, OpaqueError> {
        ron::value::RawValue::from_ron(text).map_err(|e| OpaqueError(e.to_string()))?;
        Ok(Opaque(text.trim().to_string()))
    }

    /// Reads the data back as a `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, OpaqueError> {
        ron::from_str(&self.0).map_err(|e| OpaqueError(e.to_string()))
    }

    /// The RON text.
    pub fn as_ron(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Serialize for Opaque {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = ron::value::RawValue::from_ron(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Opaque {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<ron::value::RawValue>::deserialize(deserializer)?;
        Ok(Opaque(raw.get_ron().trim().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Layout {
        channels: u32,
        gap: u32,
    }

    #[test]
    fn encodes_and_decodes() {
        let layout = Layout {
            channels: 16,
            gap: 2,
        };
        let opaque = Opaque::encode(&layout).unwrap();
        assert_eq!(opaque.as_ron(), "(channels:16,gap:2)");
        assert_eq!(opaque.decode::<Layout>().unwrap(), layout);
        assert!(Opaque::from_ron("(unclosed").is_err());
    }
}
