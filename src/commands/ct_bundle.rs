//! Ciphertext files of `fhec encrypt` and `fhec eval` (`in.ct`, `out.ct`): every named
//! ciphertext of a program's inputs (or outputs) in one file (`docs/file-formats.md`).
//!
//! ```text
//! magic "FHECCTB1" (8 bytes) · count u32 LE
//! per ciphertext: name length u16 LE · name (UTF-8) · length u64 LE · a complete fhec
//!                 Ciphertext file (96-byte header: parameter hash, checksums; payload)
//! ```
//!
//! Each embedded ciphertext keeps the runtime's container, so a ciphertext made for other
//! parameters, truncated or corrupt is refused by the runtime's reader; the framing around it
//! is checked here (magic, lengths against the bytes present, no trailing bytes). Errors name
//! the file and, for an embedded ciphertext, its name.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use fhec_runtime::ciphertext::Ciphertext;
use fhec_runtime::context::CkksContext;
use fhec_runtime::serialize::{from_bytes, to_bytes};

use super::files::write_atomically;

const MAGIC: &[u8; 8] = b"FHECCTB1";

/// Writes `ciphertexts` by name to `path` (atomically).
pub fn write(
    path: &Path,
    context: &CkksContext,
    ciphertexts: &BTreeMap<String, Ciphertext>,
) -> anyhow::Result<()> {
    let hash = context.params().hash();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&u32::try_from(ciphertexts.len())?.to_le_bytes());
    for (name, ct) in ciphertexts {
        let file = to_bytes(ct, &hash).with_context(|| format!("{}: {name}", path.display()))?;
        bytes.extend_from_slice(&u16::try_from(name.len())?.to_le_bytes());
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(&(file.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&file);
    }
    write_atomically(path, &bytes)
}

/// Reads the ciphertexts of `path`, made for `context`'s parameters.
pub fn read(path: &Path, context: &CkksContext) -> anyhow::Result<BTreeMap<String, Ciphertext>> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut cursor = Cursor {
        bytes: &bytes,
        path,
    };
    if cursor.take(MAGIC.len())? != MAGIC {
        bail!("{}: not an fhec ciphertext file", path.display());
    }
    let count = u32::from_le_bytes(cursor.array()?);
    let hash = context.params().hash();
    let mut ciphertexts = BTreeMap::new();
    for _ in 0..count {
        let name_len = u16::from_le_bytes(cursor.array()?);
        let name = std::str::from_utf8(cursor.take(usize::from(name_len))?)
            .with_context(|| format!("{}: a ciphertext name is not UTF-8", path.display()))?
            .to_string();
        let len = usize::try_from(u64::from_le_bytes(cursor.array()?))?;
        let label = format!("{}[{name}]", path.display());
        let ct: Ciphertext = from_bytes(cursor.take(len)?, Path::new(&label), &hash, context)?;
        ciphertexts.insert(name, ct);
    }
    if !cursor.bytes.is_empty() {
        bail!(
            "{}: {} bytes after the last ciphertext",
            path.display(),
            cursor.bytes.len()
        );
    }
    Ok(ciphertexts)
}

/// The unread rest of a file, refusing to read past its end.
struct Cursor<'a> {
    bytes: &'a [u8],
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize) -> anyhow::Result<&'a [u8]> {
        if len > self.bytes.len() {
            bail!(
                "{}: truncated ({len} bytes expected, {} left)",
                self.path.display(),
                self.bytes.len()
            );
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> anyhow::Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }
}
