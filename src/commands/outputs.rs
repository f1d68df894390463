//! Where a command may write, checked before it starts any work: every output path must name a
//! file in an existing, writable directory; it must not be one of the command's inputs (the
//! same file, however it is spelled), another of its outputs, a secret key, or a file inside
//! a key directory. A command that fails these checks has touched nothing and spent no time.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::bail;
use fhec_runtime::exec::{PUBLIC_DIR, SECRET_KEY_FILE};

/// The directory a file path lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Refuses any output of `outputs` that a command must not write (see the module
/// documentation), before the command does any work. `inputs` are every file the command reads
/// (missing ones are skipped: the command reports them itself).
pub fn check_outputs(outputs: &[&Path], inputs: &[&Path]) -> anyhow::Result<()> {
    let mut seen: BTreeMap<PathBuf, &Path> = BTreeMap::new();
    for &output in outputs {
        let dir = check_writable_file_path(output)?;
        if is_secret_key(output) {
            bail!(
                "{}: refusing to write over a secret key (its ciphertexts would be lost for good)",
                output.display()
            );
        }
        if is_key_dir(&dir) {
            bail!(
                "{}: refusing to write inside the key directory {}",
                output.display(),
                dir.display()
            );
        }
        for &input in inputs {
            if same_file(output, input) {
                bail!(
                    "{}: the output would overwrite the input {}",
                    output.display(),
                    input.display()
                );
            }
        }
        let resolved = dir.join(output.file_name().unwrap_or_default());
        if let Some(earlier) = seen.insert(resolved, output) {
            bail!(
                "{}: named twice as an output (also as {})",
                output.display(),
                earlier.display()
            );
        }
    }
    Ok(())
}

/// Checks that `path` names a file (not a directory) in an existing directory this process can
/// create files in; returns that directory, resolved.
fn check_writable_file_path(path: &Path) -> anyhow::Result<PathBuf> {
    if path.file_name().is_none() {
        bail!("{}: the output names no file", path.display());
    }
    if path.is_dir() {
        bail!("{}: the output is a directory", path.display());
    }
    let dir = parent_dir(path);
    let resolved = match std::fs::canonicalize(dir) {
        Ok(resolved) if resolved.is_dir() => resolved,
        Ok(_) => bail!("{}: {} is not a directory", path.display(), dir.display()),
        Err(error) => bail!(
            "{}: the directory {} does not exist ({error})",
            path.display(),
            dir.display()
        ),
    };
    check_dir_writable(&resolved)
        .map_err(|error| anyhow::anyhow!("{}: cannot write in {error}", path.display()))?;
    Ok(resolved)
}

/// Creates and removes a temporary file in `dir`: the only reliable test that the outputs can
/// be written there (permissions, read-only mounts, `/proc`).
pub fn check_dir_writable(dir: &Path) -> Result<(), String> {
    tempfile::Builder::new()
        .prefix(".fhec-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|error| format!("{} ({})", dir.display(), error.kind()))
}

/// Whether `path` is named like a secret key or already holds one (by its file header).
fn is_secret_key(path: &Path) -> bool {
    let named = path.file_name() == Some(OsStr::new(SECRET_KEY_FILE));
    let holds =
        fhec_runtime::serialize::read_header(path).is_ok_and(|header| header.kind.is_secret());
    named || holds
}

/// Whether `dir` is a key directory of `fhec keygen`: it holds a `secret.key`, or it is the
/// public half (named `public`, holding the parameter file).
pub fn is_key_dir(dir: &Path) -> bool {
    let public = dir
        .file_name()
        .is_some_and(|name| name.eq_ignore_ascii_case(PUBLIC_DIR));
    dir.join(SECRET_KEY_FILE).exists() || (public && dir.join("params").is_file())
}

/// Whether `a` and `b` are the same existing file (hard links and symbolic links included).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a_meta), Ok(b_meta)) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                a_meta.dev() == b_meta.dev() && a_meta.ino() == b_meta.ino()
            }
            #[cfg(not(unix))]
            {
                let _ = (a_meta, b_meta);
                std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_over_inputs_secret_keys_and_each_other_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.ron");
        std::fs::write(&input, "x").unwrap();
        let spelled_otherwise = dir.path().join(".").join("in.ron");
        let error = check_outputs(&[&spelled_otherwise], &[&input]).unwrap_err();
        assert!(error.to_string().contains("overwrite the input"), "{error}");

        let secret = dir.path().join(SECRET_KEY_FILE);
        let error = check_outputs(&[&secret], &[]).unwrap_err();
        assert!(error.to_string().contains("secret key"), "{error}");

        let out = dir.path().join("out.ct");
        let error = check_outputs(&[&out, &dir.path().join("./out.ct")], &[]).unwrap_err();
        assert!(error.to_string().contains("named twice"), "{error}");

        let missing = dir.path().join("nowhere").join("out.ct");
        let error = check_outputs(&[&missing], &[]).unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");

        check_outputs(&[&out], &[&input]).unwrap();
        assert!(!out.exists(), "the check writes nothing");
    }

    #[test]
    fn files_in_a_key_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SECRET_KEY_FILE), "k").unwrap();
        let error = check_outputs(&[&dir.path().join("out.ct")], &[]).unwrap_err();
        assert!(error.to_string().contains("key directory"), "{error}");
    }
}
