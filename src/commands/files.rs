//! Writing the CLI's own output files (programs, reports) so that a failure never leaves a
//! truncated file or loses the previous one.

use anyhow::Context;
use std::io::Read;
use std::path::Path;

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so a
/// failed write never leaves a truncated program or loses the previous one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(directory).with_context(|| {
        format!(
            "{}: cannot create a temporary file beside it",
            path.display()
        )
    })?;
    std::io::Write::write_all(&mut file, bytes)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    file.persist(path)
        .with_context(|| format!("{}: cannot replace", path.display()))?;
    Ok(())
}

/// Feeds the bytes of the file at `path` to `consume` a chunk at a time (to hash a large file
/// without holding it in memory).
pub fn read_chunks(path: &Path, mut consume: impl FnMut(&[u8])) -> anyhow::Result<()> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut buffer = vec![0; 1 << 16];
    loop {
        let read = file
            .read(&mut buffer)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        if read == 0 {
            return Ok(());
        }
        consume(&buffer[..read]);
    }
}
