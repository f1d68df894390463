//! The errors of serialization, at its two boundaries: [`PayloadError`] is what a
//! [`Codec`](super::Codec) implementation sees while encoding or decoding a payload (it knows no
//! file), and [`FileError`] is what a caller of `write_file`/`read_file` sees: the file's path
//! and one [`Problem`] saying exactly what is wrong with it.
//!
//! Messages never contain payload bytes: a secret key's content can never reach a log through
//! an error.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::header::{FORMAT_VERSION, HEADER_LEN, MAGIC};
use super::kind::{ObjectKind, hex};
use fhec_params::ParamHash;

/// A problem met while encoding or decoding one object's payload.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// A read needed more bytes than the payload has left.
    #[error("reading {what} needs {needed} bytes but only {remaining} remain in the payload")]
    Truncated {
        /// What was being read, e.g. "u64 slice".
        what: &'static str,
        /// Bytes the read needed.
        needed: u64,
        /// Bytes left in the payload.
        remaining: u64,
    },
    /// A length prefix (read or written) exceeds the limit the caller set for that item.
    #[error("{what} has length {len}, more than its limit of {max}")]
    TooLong {
        /// What the length counts, e.g. "byte string".
        what: &'static str,
        /// The length found.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The bytes decoded, but do not describe a valid object (reported by a `Codec` impl).
    #[error("{what}: {reason}")]
    Invalid {
        /// The field or object at fault, e.g. "ciphertext level".
        what: &'static str,
        /// Why it is invalid, e.g. "level 9 exceeds the 7 levels of the parameters".
        reason: String,
    },
    /// A `Codec` impl does not (or no longer) decode this payload version.
    #[error("payload version {version} of a {kind} cannot be decoded by this build")]
    UnsupportedVersion {
        /// The object kind.
        kind: ObjectKind,
        /// The version found in the file.
        version: u32,
    },
    /// Reading or writing the underlying stream failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What is wrong with a file; always reported inside a [`FileError`] naming the file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// An operating-system call failed; `action` says which ("cannot open", "cannot rename ...").
    #[error("{action}: {source}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file does not start with fhec's magic bytes.
    #[error("not an fhec file: it starts with {starts_with}, fhec files start with {}", hex(&MAGIC))]
    NotFhec {
        /// Its first bytes, in hex.
        starts_with: String,
    },
    /// A ciphertext bundle does not start with its magic bytes.
    #[error(
        "not an fhec ciphertext bundle: it starts with {starts_with}, bundles start with {}",
        hex(super::bundle::BUNDLE_MAGIC)
    )]
    NotABundle {
        /// Its first bytes, in hex.
        starts_with: String,
    },
    /// A ciphertext bundle's framing is wrong (count, names, lengths, key sets).
    #[error("{reason}")]
    BundleFraming {
        /// What is wrong.
        reason: String,
    },
    /// The file is longer than any valid file of its kind for these parameters.
    #[error("larger than the {max} bytes any such file of these parameters takes")]
    FileTooLarge {
        /// The limit.
        max: u64,
    },
    /// The file ends inside the header.
    #[error("truncated: file has {file_len} bytes, the header alone needs {HEADER_LEN}")]
    TruncatedHeader {
        /// The file's length in bytes.
        file_len: u64,
    },
    /// The file ends before the payload the header announces.
    #[error("truncated: header says {header_says} payload bytes, file has {file_has}")]
    TruncatedPayload {
        /// Payload bytes the header announces.
        header_says: u64,
        /// Payload bytes the file has.
        file_has: u64,
    },
    /// The header's format version is not one this build reads.
    #[error(
        "unknown format version {found} (this fhec reads version {FORMAT_VERSION}; \
         files of another fhec version must be made again)"
    )]
    UnknownFormatVersion {
        /// The version found.
        found: u16,
    },
    /// The header's own checksum does not match its bytes.
    #[error(
        "corrupt header: its checksum does not match (the file was damaged after it was written)"
    )]
    CorruptHeader,
    /// The header's object-kind code is not one this build knows.
    #[error("unknown object kind code {code} (was the file written by a newer fhec?)")]
    UnknownKind {
        /// The code found.
        code: u16,
    },
    /// The file holds another kind of object than the one asked for.
    #[error("wrong kind of object: file holds a {found}, expected a {expected}")]
    WrongKind {
        /// The kind asked for.
        expected: ObjectKind,
        /// The kind the file holds.
        found: ObjectKind,
    },
    /// The payload version is newer than (or older than anything) this build decodes.
    #[error("unsupported {kind} version {found} (this fhec reads versions 1 to {newest})")]
    UnsupportedPayloadVersion {
        /// The object kind.
        kind: ObjectKind,
        /// The version found.
        found: u32,
        /// The newest version this build writes and reads.
        newest: u32,
    },
    /// The file was made for other parameters.
    #[error(
        "made for other parameters: file has parameter hash {}..., expected {}...",
        hex(&found.0[..8]),
        hex(&expected.0[..8])
    )]
    ParamsMismatch {
        /// The parameter hash the caller expected.
        expected: ParamHash,
        /// The parameter hash in the file.
        found: ParamHash,
    },
    /// The header announces a payload larger than any fhec writes.
    #[error("payload too large: header says {len} payload bytes, the limit is {max}")]
    PayloadTooLarge {
        /// Payload bytes the header announces.
        len: u64,
        /// The limit, [`MAX_PAYLOAD_LEN`](super::MAX_PAYLOAD_LEN).
        max: u64,
    },
    /// The file continues past the payload the header announces.
    #[error("trailing bytes: file has {extra} bytes after the payload's end")]
    TrailingBytes {
        /// Bytes after the payload's end.
        extra: u64,
    },
    /// The payload's checksum does not match its bytes.
    #[error(
        "corrupt payload: its checksum does not match (the file was damaged after it was written)"
    )]
    CorruptPayload,
    /// The payload's checksum matches but its content does not decode: a format bug or a file
    /// written by an incompatible build.
    #[error("malformed {kind}: {source}")]
    Malformed {
        /// The kind being decoded.
        kind: ObjectKind,
        /// What the decoder found.
        source: PayloadError,
    },
    /// Encoding the object failed while writing; the previous file, if any, is untouched.
    #[error("cannot encode {kind}: {source}")]
    EncodeFailed {
        /// The kind being encoded.
        kind: ObjectKind,
        /// What the encoder reported.
        source: PayloadError,
    },
    /// A secret object was to be written inside a directory named `public`.
    #[error(
        "refusing to write a {kind} inside a directory named `public`: \
         secret material is never stored beside public keys"
    )]
    SecretInPublicDir {
        /// The secret kind.
        kind: ObjectKind,
    },
}

/// A serialized file could not be written or read: which file, and what is wrong with it.
///
/// Displays as one line, e.g.
/// `keys/public/rot.key: truncated: header says 1048576 payload bytes, file has 12288`.
#[derive(Debug)]
pub struct FileError {
    path: PathBuf,
    problem: Problem,
}

impl FileError {
    /// An error about the file at `path`.
    pub fn new(path: &Path, problem: Problem) -> Self {
        FileError {
            path: path.to_path_buf(),
            problem,
        }
    }

    /// The file concerned.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl Error for FileError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.problem.source()
    }
}
