//! The [`Codec`] trait: how a CKKS type turns into a file payload and back.
//!
//! # Implementing `Codec`
//!
//! 1. Pick the type's [`ObjectKind`] and start at `VERSION = 1`.
//! 2. `encode` writes the fields in a fixed order with the [`Writer`]'s methods. Write lengths
//!    that the reader cannot infer (`u64_slice`, `bytes`); write fixed-size data without
//!    one (`u64s`, `fixed_bytes`) when the reader knows the size from fields read before
//!    (e.g. N and the level give a polynomial's size).
//! 3. `decode` reads the same fields in the same order, and *validates* them against what it
//!    knows (its `Context`, typically the parameters: the ring degree, the primes, the number
//!    of levels): every length gets a limit derived from what came before (`r.u64_vec(max)`),
//!    every value a range check (a residue below its prime); anything wrong is a
//!    [`PayloadError::Invalid`] naming the field. Never `unwrap` or index unchecked: the bytes
//!    come from a file. The container has already checked that the file was made for the
//!    parameters the caller expects (by hash); the context lets `decode` check the content
//!    conforms to them too.
//! 4. Secret types wipe what they held: keep secret coefficients in a type that zeroizes on
//!    drop, and wrap temporary secret buffers in `zeroize::Zeroizing`.
//! 5. Add a round-trip test and a golden test pinning the bytes.
//!
//! # Changing a format
//!
//! Never change what an existing version means. To change the layout, bump `VERSION`, keep the
//! old decoder as `decode_v1` (the "versions" of the type are the arms of `decode`'s `match`),
//! and add an upgrade function `fn upgrade_v1(old: V1) -> Self` that turns the old form into the
//! new one. Files of newer versions than `VERSION` are refused by the container before `decode`
//! is called.
//!
//! ```
//! use fhec_runtime::serialize::{Codec, ObjectKind, ParamHash, PayloadError, Reader, Writer};
//!
//! /// A toy stand-in for a CKKS object: a level and its coefficients.
//! struct Limbs {
//!     level: u32,
//!     coeffs: Vec<u64>,
//! }
//!
//! impl Codec for Limbs {
//!     const KIND: ObjectKind = ObjectKind::Plaintext;
//!     const VERSION: u32 = 2;
//!     /// The highest level the parameters allow.
//!     type Context = u32;
//!
//!     fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
//!         w.u32(self.level)?;
//!         w.u64_slice(&self.coeffs)
//!     }
//!
//!     fn decode(r: &mut Reader<'_>, version: u32, max_level: &u32) -> Result<Self, PayloadError> {
//!         match version {
//!             // Version 1 had no level: upgrade by assuming level 0.
//!             1 => Ok(Limbs { level: 0, coeffs: r.u64_vec(1 << 20)? }),
//!             2 => {
//!                 let level = r.u32()?;
//!                 if level > *max_level {
//!                     return Err(PayloadError::Invalid {
//!                         what: "level",
//!                         reason: format!("{level} exceeds the parameters' {max_level}"),
//!                     });
//!                 }
//!                 Ok(Limbs { level, coeffs: r.u64_vec(1 << 20)? })
//!             }
//!             version => Err(PayloadError::UnsupportedVersion { kind: Self::KIND, version }),
//!         }
//!     }
//! }
//!
//! let params = ParamHash([3; 32]);
//! let bytes = fhec_runtime::serialize::to_bytes(&Limbs { level: 2, coeffs: vec![5, 6] }, &params)?;
//! let back: Limbs = fhec_runtime::serialize::from_bytes(&bytes, "memory".as_ref(), &params, &7)?;
//! assert_eq!((back.level, back.coeffs), (2, vec![5, 6]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::error::PayloadError;
use super::kind::ObjectKind;
use super::reader::Reader;
use super::writer::Writer;

/// A type that can be stored in an fhec file (see the module documentation for how to
/// implement it and how to change its format).
pub trait Codec: Sized {
    /// The kind written into the header; reading a file of another kind is refused.
    const KIND: ObjectKind;

    /// The payload version `encode` writes; `decode` must read it and every older version it
    /// still supports. Starts at 1.
    const VERSION: u32;

    /// What decoding validates against and needs to rebuild the object (e.g. the parameters:
    /// ring degree, primes); `()` for objects that describe themselves completely.
    type Context: ?Sized;

    /// Writes the payload.
    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError>;

    /// Reads a payload of the given `version` (at most [`Codec::VERSION`]) and validates it
    /// against `context`.
    fn decode(
        r: &mut Reader<'_>,
        version: u32,
        context: &Self::Context,
    ) -> Result<Self, PayloadError>;
}
