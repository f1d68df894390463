//! [`Codec`](super::Codec) implementations for the CKKS types, one module per family:
//! parameter sets ([`params`]), keys ([`keys`]) and ciphertexts and plaintexts ([`messages`]).
//! Each decoder validates what it reads against the parameters (its `Context`) and rebuilds the
//! object through the type's own checked constructor.
//!
//! Every CKKS object but the parameter set decodes with a
//! [`CkksContext`](crate::context::CkksContext) as context.

pub mod keys;
pub mod messages;
pub mod params;

use super::error::PayloadError;

/// A [`PayloadError::Invalid`] naming `what`.
fn invalid(what: &'static str, reason: String) -> PayloadError {
    PayloadError::Invalid { what, reason }
}
