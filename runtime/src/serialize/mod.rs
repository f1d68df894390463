//! Files of fhec's CKKS objects (parameters, keys, ciphertexts, plaintexts): one container
//! format for all of them, safe to read from untrusted or damaged storage.
//!
//! A file is a 144-byte [`Header`] (magic, format version, [`ObjectKind`], payload version,
//! [`ParamHash`], payload length and checksum, [`KeySetTag`], header checksum) followed by the object's payload, which its
//! [`Codec`] impl writes through a [`Writer`] and reads back through a [`Reader`].
//!
//! - Reading refuses, each with its own [`Problem`] in a [`FileError`] naming the file: a file
//!   that is not fhec's, of an unknown format version, truncated (in the header or the
//!   payload), corrupt (header or payload checksum), of another kind, of an unsupported payload
//!   version, made for other parameters, with an absurd length or trailing bytes, or whose
//!   payload does not decode.
//! - Lengths are checked against the real file length before anything is allocated.
//! - Writing is atomic (temporary file, fsync, rename) and streams: the payload is hashed on
//!   its way to the file, never built in memory first.
//! - Secret objects are created 0600, never inside a `public` directory, and every buffer that
//!   held their bytes is wiped; no secret byte reaches an error message or `Debug` output.
//!
//! Every CKKS type implements [`Codec`]: `CkksParams` (read back with [`read_params_file`]),
//! `SecretKey`, `PublicKey`, `RelinearizationKey`, `GaloisKeys`, `Ciphertext`,
//! `SeededCiphertext` and `Plaintext` (read and written for a `CkksContext` with
//! [`read_ckks_file`] and [`write_ckks_file`]):
//!
//! ```no_run
//! # use fhec_runtime::{context::CkksContext, keys::PublicKey, serialize::*};
//! # fn demo(context: &CkksContext, key: &PublicKey) -> Result<(), FileError> {
//! let path = std::path::Path::new("keys/public/public.key");
//! write_ckks_file(path, context, key)?;
//! let back: PublicKey = read_ckks_file(path, context)?;
//! # Ok(()) }
//! ```
//!
//! `docs/file-formats.md` describes the byte layout for readers outside this crate.

mod atomic;
mod bundle;
mod codec;
mod container;
mod error;
mod header;
mod impls;
mod key_set;
mod kind;
mod poly;
mod reader;
mod writer;

pub use bundle::{
    BUNDLE_MAGIC, CiphertextBundle, MAX_BUNDLE_CIPHERTEXTS, bundle_from_bytes, read_bundle,
    write_bundle,
};
pub use codec::Codec;
pub use container::{
    from_bytes, from_bytes_tagged, read_file, read_file_any_params, read_file_tagged, read_header,
    to_bytes, to_bytes_tagged, write_file, write_file_tagged,
};
pub use error::{FileError, PayloadError, Problem};
pub use fhec_params::ParamHash;
pub use header::{FORMAT_VERSION, HEADER_LEN, Header, MAGIC, MAX_PAYLOAD_LEN};
pub use impls::params::{read_params_file, read_params_file_with};
pub use impls::{read_ckks_file, read_ckks_file_tagged, write_ckks_file, write_ckks_file_tagged};
pub use key_set::{KEY_SET_TAG_LEN, KeySetTag};
pub use kind::ObjectKind;
pub use poly::{read_poly, write_poly};
pub use reader::Reader;
pub use writer::Writer;
