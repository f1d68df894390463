//! `fhec keygen program.ron --keys DIR [--force] [--insecure]`: the client's keys of a program
//! (DESIGN §6, §7): `DIR/secret.key` (0600, never under `public/`) and `DIR/public/` (the
//! parameters and every evaluation key the program and its bootstraps need, level-capped),
//! which is all `fhec eval` gets. Every file records a fresh random key-set id and the
//! program's hash, which every ciphertext made under the keys carries too. Prints a JSON
//! summary.
//!
//! An existing key directory is never lost by accident: it is refused unless `--force`, and even
//! then the new keys are generated into a temporary directory beside it and only renamed into
//! place once every file is written, so a failure part-way leaves the old keys untouched.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use fhec_runtime::exec::{CkksClient, PUBLIC_DIR, SECRET_KEY_FILE, new_key_set};
use serde_json::json;

use super::client_server::ProgramFile;
use super::limits;
use super::outputs::{check_dir_writable, is_key_dir, parent_dir, same_file};
use super::run::thread_pool;

/// Arguments of `fhec keygen`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    program: ProgramFile,
    /// Replace the keys of an existing key directory (every ciphertext made under them is lost).
    #[arg(long)]
    force: bool,
    /// Threads (default: all cores).
    #[arg(long, value_parser = limits::parse_threads)]
    threads: Option<usize>,
}

/// Generates and writes the keys.
pub fn run(args: Args) -> anyhow::Result<()> {
    let keys_dir = &args.program.keys;
    let replacing = check_key_dir(keys_dir, &args.program.program, args.force)?;
    let loaded = args.program.load()?;
    let (pool, _) = thread_pool(args.threads)?;
    let start = Instant::now();
    let spinner = super::progress::spinner("generating keys".into());
    let generated = pool.install(|| CkksClient::generate(&loaded.setup, &loaded.program));
    spinner.finish_and_clear();
    let (client, keys) =
        generated.with_context(|| format!("{}: key generation", args.program.program.display()))?;
    let keygen_s = start.elapsed().as_secs_f64();
    let key_set = new_key_set(&loaded.program)?;

    let staging = tempfile::Builder::new()
        .prefix(".fhec-keys-")
        .tempdir_in(parent_dir(keys_dir))
        .with_context(|| {
            format!(
                "{}: cannot create a directory beside it",
                keys_dir.display()
            )
        })?;
    client.write_secret_key(&staging.path().join(SECRET_KEY_FILE), &key_set)?;
    keys.write_to(&loaded.setup, &staging.path().join(PUBLIC_DIR), &key_set)?;
    install(staging, keys_dir, replacing)?;

    let summary = json!({
        "keys": keys_dir.display().to_string(),
        "security": loaded.security,
        "eval_key_bytes": keys.size_bytes(),
        "keygen_s": keygen_s,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// Checks, before any work, that keys may be written to `dir`; returns whether an existing key
/// directory is to be replaced (`--force`).
fn check_key_dir(dir: &Path, program: &Path, force: bool) -> anyhow::Result<bool> {
    let shown = dir.display();
    let public = |part: &std::ffi::OsStr| part.eq_ignore_ascii_case(PUBLIC_DIR);
    if dir.iter().any(public) {
        bail!(
            "{shown}: a key directory cannot be inside a `public` directory (the secret key would be published)"
        );
    }
    if same_file(dir, program) {
        bail!("{shown}: the key directory is the program file");
    }
    let parent = parent_dir(dir);
    if !parent.is_dir() {
        bail!("{shown}: the directory {} does not exist", parent.display());
    }
    check_dir_writable(parent)
        .map_err(|error| anyhow::anyhow!("{shown}: cannot write in {error}"))?;
    if !dir.exists() {
        return Ok(false);
    }
    if !dir.is_dir() {
        bail!("{shown}: exists and is not a directory");
    }
    let empty = std::fs::read_dir(dir)
        .with_context(|| format!("{shown}: cannot list"))?
        .next()
        .is_none();
    if empty {
        return Ok(true);
    }
    let holds_keys = is_key_dir(dir) || dir.join(PUBLIC_DIR).is_dir();
    match (holds_keys, force) {
        (true, true) => Ok(true),
        (true, false) => bail!(
            "{shown}: already holds keys; replacing them loses every ciphertext made under them \
             (give --force to replace them, or choose another directory)"
        ),
        (false, _) => bail!("{shown}: not empty and not a key directory; choose another directory"),
    }
}

/// Moves the fully written `staging` directory to `dir`; an existing `dir` is moved aside first
/// and put back if the move fails, then removed.
fn install(staging: tempfile::TempDir, dir: &Path, replacing: bool) -> anyhow::Result<()> {
    let shown = dir.display();
    let old = replacing.then(|| aside_name(dir));
    if let Some(old) = &old {
        std::fs::rename(dir, old)
            .with_context(|| format!("{shown}: cannot move the old keys aside"))?;
    }
    if let Err(error) = std::fs::rename(staging.path(), dir) {
        if let Some(old) = &old {
            // Put the old keys back; if even that fails, say where they are.
            if std::fs::rename(old, dir).is_err() {
                bail!(
                    "{shown}: cannot install the new keys ({error}); the old keys are in {}",
                    old.display()
                );
            }
        }
        bail!("{shown}: cannot install the new keys ({error}); the old keys are untouched");
    }
    // The directory now lives at `dir`: nothing for the guard to remove.
    let _ = staging.keep();
    if let Some(old) = old {
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("{}: cannot remove the replaced keys", old.display()))?;
    }
    Ok(())
}

/// A free name beside `dir` for its old contents while the new keys move in.
fn aside_name(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_dir(dir).join(format!(".{name}.replaced-{}", std::process::id()))
}
