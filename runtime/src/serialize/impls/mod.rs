//! [`Codec`](super::Codec) implementations for the CKKS types, one module per family:
//! parameter sets ([`params`]), keys ([`keys`]), bootstrapping's key set ([`bootstrap_keys`])
//! and ciphertexts and plaintexts ([`messages`]).
//! Each decoder validates what it reads against the parameters (its `Context`) and rebuilds the
//! object through the type's own checked constructor.
//!
//! Every CKKS object but the parameter set decodes with a
//! [`CkksContext`](crate::context::CkksContext) as context.

pub mod bootstrap_keys;
pub mod keys;
pub mod messages;
pub mod params;

use std::path::Path;

use super::error::{FileError, PayloadError};
use super::key_set::KeySetTag;
use super::{Codec, read_file, read_file_tagged, write_file, write_file_tagged};
use crate::context::CkksContext;

/// Writes a CKKS object made with `context`'s parameters (their hash goes in the header).
pub fn write_ckks_file<T: Codec>(
    path: &Path,
    context: &CkksContext,
    value: &T,
) -> Result<(), FileError> {
    write_file(path, &context.params().hash(), value)
}

/// Reads a CKKS object for `context`: refused unless made with the same parameters, and
/// validated against them. The hash cannot disagree with the context, as it could when passed
/// to [`read_file`] separately.
pub fn read_ckks_file<T: Codec<Context = CkksContext>>(
    path: &Path,
    context: &CkksContext,
) -> Result<T, FileError> {
    read_file(path, &context.params().hash(), context)
}

/// [`write_ckks_file`] for an object of the key set `key_set`.
pub fn write_ckks_file_tagged<T: Codec>(
    path: &Path,
    context: &CkksContext,
    key_set: &KeySetTag,
    value: &T,
) -> Result<(), FileError> {
    write_file_tagged(path, &context.params().hash(), key_set, value)
}

/// [`read_ckks_file`], also returning the key set the file records.
pub fn read_ckks_file_tagged<T: Codec<Context = CkksContext>>(
    path: &Path,
    context: &CkksContext,
) -> Result<(T, KeySetTag), FileError> {
    read_file_tagged(path, &context.params().hash(), context)
}

/// A [`PayloadError::Invalid`] naming `what`.
fn invalid(what: &'static str, reason: String) -> PayloadError {
    PayloadError::Invalid { what, reason }
}
