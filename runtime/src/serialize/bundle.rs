//! Ciphertext bundles (`in.ct`, `out.ct` of `fhec encrypt` and `fhec eval`): every named
//! ciphertext of a program's inputs (or outputs) in one file, bound to one key set.
//!
//! ```text
//! magic "FHECCTB2" (8 bytes) · key-set tag (48 bytes, KeySetTag) · count u32 LE
//! per ciphertext: name length u16 LE · name (UTF-8) · length u64 LE · a complete fhec
//!                 Ciphertext file (header with parameter hash, the same key set, checksums)
//! ```
//!
//! Each embedded ciphertext keeps the container, so one made for other parameters, truncated
//! or corrupt is refused by the container's reader; the framing around it is checked here:
//! magic, a count and lengths within what the parameters allow (checked before the bytes are
//! read, so `/dev/zero` or a forged length cannot exhaust memory), names unique, valid UTF-8
//! and non-empty, every ciphertext of the bundle's key set, no trailing bytes. Errors name the
//! file and, for an embedded ciphertext, its name (`in.ct[image]`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::atomic::write_atomically;
use super::container::{from_bytes_tagged, to_bytes_tagged};
use super::error::{FileError, Problem};
use super::header::HEADER_LEN;
use super::key_set::{KEY_SET_TAG_LEN, KeySetTag};
use super::kind::{ObjectKind, hex};
use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;

/// The first bytes of a bundle.
pub const BUNDLE_MAGIC: &[u8; 8] = b"FHECCTB2";

/// The most ciphertexts a bundle may hold (a program's inputs or outputs are a few dozen).
pub const MAX_BUNDLE_CIPHERTEXTS: u32 = 4096;

/// Bytes a ciphertext's payload may take besides its polynomials (scale, slots, level, lengths).
const PAYLOAD_OVERHEAD: u64 = 4096;

/// A bundle: the key set it was made under and its ciphertexts by name.
#[derive(Clone, Debug)]
pub struct CiphertextBundle {
    /// The key set every ciphertext belongs to.
    pub key_set: KeySetTag,
    /// The ciphertexts by name.
    pub ciphertexts: BTreeMap<String, Ciphertext>,
}

/// Writes `bundle` to `path` (atomically), for `context`'s parameters.
pub fn write_bundle(
    path: &Path,
    context: &CkksContext,
    bundle: &CiphertextBundle,
) -> Result<(), FileError> {
    let hash = context.params().hash();
    let fail = |problem| FileError::new(path, problem);
    let count = u32::try_from(bundle.ciphertexts.len()).map_err(|_| {
        fail(Problem::BundleFraming {
            reason: "too many ciphertexts".into(),
        })
    })?;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(BUNDLE_MAGIC);
    bytes.extend_from_slice(&bundle.key_set.to_bytes());
    bytes.extend_from_slice(&count.to_le_bytes());
    for (name, ct) in &bundle.ciphertexts {
        let file = to_bytes_tagged(ct, &hash, &bundle.key_set).map_err(|source| {
            fail(Problem::EncodeFailed {
                kind: ObjectKind::Ciphertext,
                source,
            })
        })?;
        let name_len = u16::try_from(name.len()).map_err(|_| {
            fail(Problem::BundleFraming {
                reason: format!("ciphertext name of {} bytes", name.len()),
            })
        })?;
        bytes.extend_from_slice(&name_len.to_le_bytes());
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(&(file.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&file);
    }
    write_atomically(path, ObjectKind::Ciphertext, |file| {
        file.write_all(&bytes).map_err(|source| Problem::Io {
            action: "cannot write",
            source,
        })
    })
}

/// Reads the bundle at `path`, made for `context`'s parameters, holding at most
/// `max_ciphertexts` ciphertexts (the program's inputs or outputs).
pub fn read_bundle(
    path: &Path,
    context: &CkksContext,
    max_ciphertexts: u32,
) -> Result<CiphertextBundle, FileError> {
    let max_ciphertexts = max_ciphertexts.min(MAX_BUNDLE_CIPHERTEXTS);
    let max_len = bundle_len_bound(context, max_ciphertexts);
    let bytes = read_capped(path, max_len)?;
    bundle_from_bytes(&bytes, path, context, max_ciphertexts)
}

/// Parses the bytes of a bundle; `path` names it in errors.
pub fn bundle_from_bytes(
    bytes: &[u8],
    path: &Path,
    context: &CkksContext,
    max_ciphertexts: u32,
) -> Result<CiphertextBundle, FileError> {
    let fail = |problem| FileError::new(path, problem);
    let framing = |reason: String| fail(Problem::BundleFraming { reason });
    let mut cursor = Cursor { bytes };
    let magic = cursor.take(BUNDLE_MAGIC.len()).map_err(&framing)?;
    if magic != BUNDLE_MAGIC {
        return Err(fail(Problem::NotABundle {
            starts_with: hex(magic),
        }));
    }
    let key_set = KeySetTag::from_bytes(&cursor.array().map_err(&framing)?);
    let count = u32::from_le_bytes(cursor.array().map_err(&framing)?);
    if count > max_ciphertexts {
        return Err(framing(format!(
            "{count} ciphertexts, the program has at most {max_ciphertexts}"
        )));
    }
    let hash = context.params().hash();
    let max_ct = max_ciphertext_len(context);
    let mut ciphertexts = BTreeMap::new();
    for _ in 0..count {
        let name_len = u16::from_le_bytes(cursor.array().map_err(&framing)?);
        let name = std::str::from_utf8(cursor.take(usize::from(name_len)).map_err(&framing)?)
            .map_err(|_| framing("a ciphertext name is not UTF-8".into()))?
            .to_string();
        if name.is_empty() {
            return Err(framing("a ciphertext has an empty name".into()));
        }
        let len = u64::from_le_bytes(cursor.array().map_err(&framing)?);
        if len > max_ct {
            return Err(framing(format!(
                "ciphertext {name:?} announces {len} bytes, the parameters allow at most {max_ct}"
            )));
        }
        let label = PathBuf::from(format!("{}[{name}]", path.display()));
        let embedded = cursor.take(len as usize).map_err(&framing)?;
        let (ct, found): (Ciphertext, _) = from_bytes_tagged(embedded, &label, &hash, context)?;
        if found != key_set {
            return Err(FileError::new(
                &label,
                Problem::BundleFraming {
                    reason: format!("{found}, the bundle says {key_set}"),
                },
            ));
        }
        if ciphertexts.insert(name.clone(), ct).is_some() {
            return Err(framing(format!("ciphertext {name:?} appears twice")));
        }
    }
    if !cursor.bytes.is_empty() {
        return Err(fail(Problem::TrailingBytes {
            extra: cursor.bytes.len() as u64,
        }));
    }
    Ok(CiphertextBundle {
        key_set,
        ciphertexts,
    })
}

/// The largest file (header and container) one ciphertext at the top level may take.
fn max_ciphertext_len(context: &CkksContext) -> u64 {
    let params = context.params();
    let limbs = params.q_primes().len() as u64;
    2 * params.degree() as u64 * limbs * 8 + PAYLOAD_OVERHEAD + HEADER_LEN as u64
}

/// The largest bundle of `count` ciphertexts (names of at most 64 KiB each).
fn bundle_len_bound(context: &CkksContext, count: u32) -> u64 {
    let framing = (BUNDLE_MAGIC.len() + KEY_SET_TAG_LEN + 4) as u64;
    let per_ct = 2 + u64::from(u16::MAX) + 8 + max_ciphertext_len(context);
    framing + u64::from(count) * per_ct
}

/// Reads at most `max` bytes of `path`, refusing a longer file (or an endless device).
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    let io = |action| move |source| FileError::new(path, Problem::Io { action, source });
    let file = File::open(path).map_err(io("cannot open"))?;
    let len = file.metadata().map_err(io("cannot stat"))?.len();
    let too_large = || FileError::new(path, Problem::FileTooLarge { max });
    if len > max {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(io("cannot read"))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The unread rest of a bundle, refusing to read past its end.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        if len > self.bytes.len() {
            return Err(format!(
                "truncated ({len} bytes expected, {} left)",
                self.bytes.len()
            ));
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}
