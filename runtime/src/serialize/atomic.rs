//! Atomic replacement of a file: write a temporary file in the target's directory, fsync it,
//! rename it over the target, fsync the directory. Readers see the old file or the new one,
//! never a mix; on any failure the old file is untouched and the temporary file is removed.
//!
//! Secret files are created with mode 0600 from the start (never chmod-ed after the bytes are
//! in), and are refused inside a directory named `public`.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{FileError, Problem};
use super::kind::ObjectKind;

/// Distinguishes the temporary files of concurrent writes from one process.
static NEXT_TEMP_ID: AtomicU64 = AtomicU64::new(0);

/// How many temporary names to try before giving up (another process may hold a name).
const TEMP_ATTEMPTS: u32 = 16;

/// Replaces the file at `path` with what `fill` writes, atomically. `kind` decides whether the
/// file is secret.
pub(crate) fn write_atomically(
    path: &Path,
    kind: ObjectKind,
    fill: impl FnOnce(&mut File) -> Result<(), Problem>,
) -> Result<(), FileError> {
    let fail = |problem| FileError::new(path, problem);
    let io = |action| move |source| FileError::new(path, Problem::Io { action, source });
    if kind.is_secret() && is_inside_public_dir(path) {
        return Err(fail(Problem::SecretInPublicDir { kind }));
    }
    let file_name = path.file_name().ok_or_else(|| {
        let source = io::Error::new(io::ErrorKind::InvalidInput, "the path names no file");
        fail(Problem::Io {
            action: "cannot write",
            source,
        })
    })?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };

    let (mut file, temp) = create_temp(dir, file_name, kind.is_secret())
        .map_err(io("cannot create a temporary file beside it"))?;
    fill(&mut file).map_err(fail)?;
    file.sync_all()
        .map_err(io("cannot flush the temporary file to disk"))?;
    drop(file);
    fs::rename(&temp.path, path).map_err(io("cannot rename the temporary file over it"))?;
    temp.keep();
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io("cannot flush its directory to disk"))
}

/// Whether `path` lies inside a directory named `public` (in any letter case): any directory
/// the path names, or its parent directory once symbolic links are resolved (so a link to
/// `keys/public` is caught too). Directories above the resolved parent do not count: a home
/// directory under some `/srv/public` is not the key store's public half.
fn is_inside_public_dir(path: &Path) -> bool {
    let is_public = |name: &OsStr| name.eq_ignore_ascii_case("public");
    let parent = path.parent().unwrap_or(Path::new(""));
    let named = parent.components().any(|part| match part {
        Component::Normal(name) => is_public(name),
        _ => false,
    });
    let resolved = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    named || fs::canonicalize(resolved).is_ok_and(|dir| dir.file_name().is_some_and(is_public))
}

/// Creates `dir/.NAME.PID.ID.tmp`, exclusively, with mode 0600 if `secret`.
fn create_temp(dir: &Path, file_name: &OsStr, secret: bool) -> io::Result<(File, TempFile)> {
    let mut last_error = None;
    for _ in 0..TEMP_ATTEMPTS {
        let id = NEXT_TEMP_ID.fetch_add(1, Ordering::Relaxed);
        let mut name = std::ffi::OsString::from(".");
        name.push(file_name);
        name.push(format!(".{}.{id}.tmp", std::process::id()));
        let path = dir.join(name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if secret { 0o600 } else { 0o666 });
        }
        #[cfg(not(unix))]
        let _ = secret;
        match options.open(&path) {
            Ok(file) => return Ok((file, TempFile { path, kept: false })),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no temporary name available")))
}

/// A temporary file removed on drop unless [`TempFile::keep`] was called (after the rename):
/// every early return and every panic between creation and rename cleans up.
struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            // Nothing more can be done if this fails; the caller needs the original error.
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_directories_are_recognised_lexically() {
        assert!(is_inside_public_dir(Path::new("keys/public/secret.key")));
        assert!(is_inside_public_dir(Path::new("/a/PUBLIC/b/secret.key")));
        assert!(!is_inside_public_dir(Path::new("keys/secret.key")));
        assert!(!is_inside_public_dir(Path::new(
            "keys/publicity/secret.key"
        )));
        // A file *named* public is not inside a public directory.
        assert!(!is_inside_public_dir(Path::new("keys/public")));
    }
}
