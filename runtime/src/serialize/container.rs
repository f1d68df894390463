//! The container: a [`Header`] followed by one object's payload, written to and read from files
//! (or memory) with every check the header allows.
//!
//! Writing streams the payload straight to the file behind a placeholder header, then seeks
//! back to fill in the length and checksum: the object is never held twice in memory. Reading
//! checks the header completely (magic, version, integrity, kind, payload version, parameters,
//! length against the real file length) before the payload is decoded, and decodes it while
//! hashing it.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

use zeroize::Zeroizing;

use super::atomic::write_atomically;
use super::codec::Codec;
use super::error::{FileError, PayloadError, Problem};
use super::header::{HEADER_LEN, Header, MAX_PAYLOAD_LEN};
use super::key_set::KeySetTag;
use super::reader::Reader;
use super::writer::Writer;
use fhec_params::ParamHash;

/// Writes `value`, made for the parameters `params`, to `path`, atomically: on failure the
/// previous file (if any) is untouched and nothing else is left behind.
///
/// Secret kinds ([`ObjectKind::is_secret`](super::ObjectKind::is_secret)) are created with
/// mode 0600 and refused inside a directory named `public`.
pub fn write_file<T: Codec>(path: &Path, params: &ParamHash, value: &T) -> Result<(), FileError> {
    write_file_tagged(path, params, &KeySetTag::NONE, value)
}

/// [`write_file`] for an object of the key set `key_set` (recorded in the header).
pub fn write_file_tagged<T: Codec>(
    path: &Path,
    params: &ParamHash,
    key_set: &KeySetTag,
    value: &T,
) -> Result<(), FileError> {
    write_atomically(path, T::KIND, |file| {
        write_container(file, params, key_set, value)
    })
}

/// Reads a `T` made for the parameters `params` from `path`, refusing a file of another kind,
/// for other parameters, of a newer version, truncated, corrupt or not from fhec.
/// `context` is what decoding validates the content against (see [`Codec::Context`]).
pub fn read_file<T: Codec>(
    path: &Path,
    params: &ParamHash,
    context: &T::Context,
) -> Result<T, FileError> {
    read_file_checked(path, Some(params), context).map(|(value, _)| value)
}

/// [`read_file`], also returning the key set the file's header records.
pub fn read_file_tagged<T: Codec>(
    path: &Path,
    params: &ParamHash,
    context: &T::Context,
) -> Result<(T, KeySetTag), FileError> {
    read_file_checked(path, Some(params), context).map(|(value, header)| (value, header.key_set))
}

/// Reads a `T` whatever parameters it was made for, and returns their hash: for a parameter-set
/// file, whose caller learns the parameters from it (and should check the returned hash
/// against the hash of the decoded parameters).
pub fn read_file_any_params<T: Codec>(
    path: &Path,
    context: &T::Context,
) -> Result<(T, ParamHash), FileError> {
    read_file_checked(path, None, context).map(|(value, header)| (value, header.params))
}

/// Reads and checks only the header of the file at `path` (e.g. to say what a file holds).
pub fn read_header(path: &Path) -> Result<Header, FileError> {
    let mut file = open(path)?;
    let file_len = file_len(path, &file)?;
    read_start(&mut file, file_len).map_err(|problem| FileError::new(path, problem))
}

/// The bytes of a complete file holding `value` (header included), for tests and transports
/// other than files. The buffer is sized exactly before writing, so it never reallocates, and
/// is wiped on drop: a secret object leaves no stray copy.
pub fn to_bytes<T: Codec>(
    value: &T,
    params: &ParamHash,
) -> Result<Zeroizing<Vec<u8>>, PayloadError> {
    to_bytes_tagged(value, params, &KeySetTag::NONE)
}

/// [`to_bytes`] for an object of the key set `key_set`.
pub fn to_bytes_tagged<T: Codec>(
    value: &T,
    params: &ParamHash,
    key_set: &KeySetTag,
) -> Result<Zeroizing<Vec<u8>>, PayloadError> {
    let mut sink = io::sink();
    let mut measure = Writer::new(&mut sink);
    value.encode(&mut measure)?;
    let payload_len = measure.position();
    drop(measure);
    let mut bytes = Zeroizing::new(Vec::with_capacity(HEADER_LEN + payload_len as usize));
    write_container(&mut Cursor::new(&mut *bytes), params, key_set, value).map_err(|problem| {
        match problem {
            Problem::EncodeFailed { source, .. } => source,
            other => PayloadError::Io(io::Error::other(other.to_string())),
        }
    })?;
    Ok(bytes)
}

/// Reads a `T` from the bytes of a complete file; `name` stands for the file in errors.
pub fn from_bytes<T: Codec>(
    bytes: &[u8],
    name: &Path,
    params: &ParamHash,
    context: &T::Context,
) -> Result<T, FileError> {
    from_bytes_tagged(bytes, name, params, context).map(|(value, _)| value)
}

/// [`from_bytes`], also returning the key set the header records.
pub fn from_bytes_tagged<T: Codec>(
    bytes: &[u8],
    name: &Path,
    params: &ParamHash,
    context: &T::Context,
) -> Result<(T, KeySetTag), FileError> {
    let mut source = bytes;
    read_container(&mut source, bytes.len() as u64, Some(params), context)
        .map(|(value, header)| (value, header.key_set))
        .map_err(|problem| FileError::new(name, problem))
}

fn read_file_checked<T: Codec>(
    path: &Path,
    params: Option<&ParamHash>,
    context: &T::Context,
) -> Result<(T, Header), FileError> {
    let mut file = open(path)?;
    let file_len = file_len(path, &file)?;
    read_container(&mut file, file_len, params, context)
        .map_err(|problem| FileError::new(path, problem))
}

fn open(path: &Path) -> Result<File, FileError> {
    File::open(path).map_err(|source| {
        FileError::new(
            path,
            Problem::Io {
                action: "cannot open",
                source,
            },
        )
    })
}

fn file_len(path: &Path, file: &File) -> Result<u64, FileError> {
    file.metadata().map(|meta| meta.len()).map_err(|source| {
        FileError::new(
            path,
            Problem::Io {
                action: "cannot stat",
                source,
            },
        )
    })
}

/// Placeholder header, payload, then the real header over the placeholder.
fn write_container<T: Codec, W: Write + Seek>(
    sink: &mut W,
    params: &ParamHash,
    key_set: &KeySetTag,
    value: &T,
) -> Result<(), Problem> {
    let write_error = |source| Problem::Io {
        action: "cannot write",
        source,
    };
    sink.write_all(&[0u8; HEADER_LEN]).map_err(write_error)?;
    let mut writer = Writer::new(sink);
    value
        .encode(&mut writer)
        .map_err(|error| encode_problem::<T>(error))?;
    let (payload_len, payload_checksum) = writer
        .finish()
        .map_err(|error| encode_problem::<T>(error))?;
    if payload_len > MAX_PAYLOAD_LEN {
        return Err(Problem::PayloadTooLarge {
            len: payload_len,
            max: MAX_PAYLOAD_LEN,
        });
    }
    let header = Header {
        kind: T::KIND,
        payload_version: T::VERSION,
        params: *params,
        payload_len,
        payload_checksum,
        key_set: *key_set,
    };
    sink.seek(SeekFrom::Start(0)).map_err(write_error)?;
    sink.write_all(&header.to_bytes()).map_err(write_error)
}

fn encode_problem<T: Codec>(error: PayloadError) -> Problem {
    match error {
        PayloadError::Io(source) => Problem::Io {
            action: "cannot write",
            source,
        },
        source => Problem::EncodeFailed {
            kind: T::KIND,
            source,
        },
    }
}

/// Reads and parses the header from the start of `source`.
fn read_start(source: &mut dyn Read, file_len: u64) -> Result<Header, Problem> {
    let mut start = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match source.read(&mut start[got..]) {
            Ok(0) => break,
            Ok(count) => got += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Problem::Io {
                    action: "cannot read",
                    source,
                });
            }
        }
    }
    Header::parse(&start[..got], file_len)
}

/// Checks the header against what the caller expects, then decodes and verifies the payload.
fn read_container<T: Codec>(
    source: &mut dyn Read,
    file_len: u64,
    params: Option<&ParamHash>,
    context: &T::Context,
) -> Result<(T, Header), Problem> {
    let header = read_start(source, file_len)?;
    check_header::<T>(&header, file_len, params)?;
    let read_error = |source| Problem::Io {
        action: "cannot read",
        source,
    };

    let mut reader = Reader::new(source, header.payload_len);
    let decoded = T::decode(&mut reader, header.payload_version, context);
    if let Err(PayloadError::Io(source)) = decoded {
        return Err(read_error(source));
    }
    let finished = reader.finish().map_err(read_error)?;
    // A checksum mismatch explains any decoding failure: report the corruption, not its symptom.
    if finished.checksum != header.payload_checksum {
        return Err(Problem::CorruptPayload);
    }
    let malformed = |source| Problem::Malformed {
        kind: T::KIND,
        source,
    };
    let value = decoded.map_err(malformed)?;
    if finished.unread > 0 {
        return Err(malformed(PayloadError::Invalid {
            what: "payload",
            reason: format!("{} bytes left over after decoding", finished.unread),
        }));
    }
    Ok((value, header))
}

/// The checks of a parsed header that depend on what the caller expects.
fn check_header<T: Codec>(
    header: &Header,
    file_len: u64,
    params: Option<&ParamHash>,
) -> Result<(), Problem> {
    if header.kind != T::KIND {
        return Err(Problem::WrongKind {
            expected: T::KIND,
            found: header.kind,
        });
    }
    if header.payload_version == 0 || header.payload_version > T::VERSION {
        return Err(Problem::UnsupportedPayloadVersion {
            kind: T::KIND,
            found: header.payload_version,
            newest: T::VERSION,
        });
    }
    if let Some(expected) = params
        && header.params != *expected
    {
        return Err(Problem::ParamsMismatch {
            expected: *expected,
            found: header.params,
        });
    }
    if header.payload_len > MAX_PAYLOAD_LEN {
        return Err(Problem::PayloadTooLarge {
            len: header.payload_len,
            max: MAX_PAYLOAD_LEN,
        });
    }
    let file_has = file_len.saturating_sub(HEADER_LEN as u64);
    if file_has < header.payload_len {
        return Err(Problem::TruncatedPayload {
            header_says: header.payload_len,
            file_has,
        });
    }
    if file_has > header.payload_len {
        return Err(Problem::TrailingBytes {
            extra: file_has - header.payload_len,
        });
    }
    Ok(())
}
