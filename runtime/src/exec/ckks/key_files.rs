//! Key files of a program (DESIGN §6): the client's `secret.key` and the server's `public/`
//! directory, so `fhec keygen`, `encrypt`, `eval` and `decrypt` can run as separate processes.
//!
//! ```text
//! DIR/secret.key            SecretKey (0600; the writer refuses it inside `public/`)
//! DIR/public/params         CkksParams of the program's target
//! DIR/public/bootstrap.keys BootstrapKeys with the circuit's keys merged in (program bootstraps)
//! DIR/public/galois.keys    GaloisKeys                                  (no bootstrap)
//! DIR/public/relin.key      RelinearizationKey, if the program multiplies (no bootstrap)
//! ```
//!
//! Every file is the runtime's container (`serialize`): header with the parameter hash, the
//! key set ([`KeySetTag`]: a random id drawn at key generation and the program's hash) and
//! checksums, written atomically; a file made for other parameters, by another key generation,
//! truncated or corrupt is refused naming the file.

use super::CkksError;
use super::client::CkksClient;
use super::keys::{EvaluationKeys, Store};
use super::setup::CkksSetup;
use crate::bootstrap::BootstrapKeys;
use crate::keys::{GaloisKeys, RelinearizationKey};
use crate::serialize::{
    KeySetTag, read_ckks_file_tagged, read_header, read_params_file_with, write_ckks_file_tagged,
};
use fhec_ir::Program;
use fhec_params::SecurityPolicy;
use std::path::{Path, PathBuf};

/// The secret key's file in a key directory.
pub const SECRET_KEY_FILE: &str = "secret.key";
/// The public (server) half of a key directory.
pub const PUBLIC_DIR: &str = "public";
const PARAMS_FILE: &str = "params";
const BOOTSTRAP_KEYS_FILE: &str = "bootstrap.keys";
const GALOIS_KEYS_FILE: &str = "galois.keys";
const RELINEARIZATION_KEY_FILE: &str = "relin.key";

impl EvaluationKeys {
    /// Writes the keys and the parameters into the public directory `dir` (created if
    /// missing), each file tagged with the key set `key_set`.
    ///
    /// Errors: [`CkksError::File`] naming the file that could not be written.
    pub fn write_to(
        &self,
        setup: &CkksSetup,
        dir: &Path,
        key_set: &KeySetTag,
    ) -> Result<(), CkksError> {
        let context = setup.context();
        create_dir(dir)?;
        let params = context.params();
        write_ckks_file_tagged(&dir.join(PARAMS_FILE), context, key_set, params)?;
        match &self.store {
            Store::Bootstrapping(keys) => write_ckks_file_tagged(
                &dir.join(BOOTSTRAP_KEYS_FILE),
                context,
                key_set,
                keys.as_ref(),
            )?,
            Store::Circuit {
                galois,
                relinearization,
            } => {
                write_ckks_file_tagged(&dir.join(GALOIS_KEYS_FILE), context, key_set, galois)?;
                if let Some(key) = relinearization {
                    let path = dir.join(RELINEARIZATION_KEY_FILE);
                    write_ckks_file_tagged(&path, context, key_set, key)?;
                }
            }
        }
        Ok(())
    }

    /// Reads the keys of `program` from the public directory `dir` (only that directory is
    /// needed: the server side never sees the secret key), and the key set they belong to.
    ///
    /// Errors: [`CkksError::File`] for a missing, truncated or corrupt file, or one made for
    /// other parameters than the program's (the parameter file is checked first, so a key
    /// directory of another program is named as such); [`CkksError::KeySetMismatch`] when the
    /// files come from different key generations.
    pub fn read_from(
        setup: &CkksSetup,
        program: &Program,
        dir: &Path,
        policy: SecurityPolicy,
    ) -> Result<(Self, KeySetTag), CkksError> {
        let context = setup.context();
        let params_path = dir.join(PARAMS_FILE);
        let key_set = check_params(setup, &params_path, policy)?;
        let same_set =
            |path: &Path, found: KeySetTag| same_key_set(path, found, &params_path, key_set);
        let store = if super::keys::bootstraps(program) {
            let path = dir.join(BOOTSTRAP_KEYS_FILE);
            let (keys, found): (BootstrapKeys, _) = read_ckks_file_tagged(&path, context)?;
            same_set(&path, found)?;
            Store::Bootstrapping(Box::new(keys))
        } else {
            let path = dir.join(GALOIS_KEYS_FILE);
            let (galois, found): (GaloisKeys, _) = read_ckks_file_tagged(&path, context)?;
            same_set(&path, found)?;
            let relinearization = match program.keys.relinearization {
                Some(_) => {
                    let path = dir.join(RELINEARIZATION_KEY_FILE);
                    let (key, found): (RelinearizationKey, _) =
                        read_ckks_file_tagged(&path, context)?;
                    same_set(&path, found)?;
                    Some(key)
                }
                None => None,
            };
            Store::Circuit {
                galois,
                relinearization,
            }
        };
        Ok((Self { store }, key_set))
    }
}

impl<'s> CkksClient<'s> {
    /// Writes the secret key to `path` (mode 0600; refused inside a `public` directory),
    /// tagged with the key set `key_set`.
    ///
    /// Errors: [`CkksError::File`].
    pub fn write_secret_key(&self, path: &Path, key_set: &KeySetTag) -> Result<(), CkksError> {
        let context = self.setup().context();
        Ok(write_ckks_file_tagged(
            path,
            context,
            key_set,
            self.secret(),
        )?)
    }

    /// A client holding the secret key read from `path`, for `setup`'s parameters, and the
    /// key set the key belongs to.
    ///
    /// Errors: [`CkksError::File`] for a missing, damaged or foreign key file,
    /// [`CkksError::Key`] when the system's randomness is unavailable.
    pub fn read_secret_key(
        setup: &'s CkksSetup,
        path: &Path,
    ) -> Result<(Self, KeySetTag), CkksError> {
        let (secret, key_set) = read_ckks_file_tagged(path, setup.context())?;
        Ok((CkksClient::from_secret(setup, secret)?, key_set))
    }
}

/// The key set of a freshly generated key set for `program`: a random id and the program's
/// hash.
///
/// Errors: [`CkksError::KeySetId`] when the system's randomness is unavailable.
pub fn new_key_set(program: &Program) -> Result<KeySetTag, CkksError> {
    KeySetTag::random(program_hash(program)).map_err(CkksError::KeySetId)
}

/// BLAKE3 of the program's canonical text: what a key set records as its program.
pub fn program_hash(program: &Program) -> [u8; 32] {
    // A program that cannot be printed has no text to hash; its hash is that of the empty text,
    // which no printable program has.
    let text = program.to_ron().unwrap_or_default();
    *blake3::hash(text.as_bytes()).as_bytes()
}

/// Refuses `found` (the key set of `path`) unless it is `expected` (that of `reference`).
pub fn same_key_set(
    path: &Path,
    found: KeySetTag,
    reference: &Path,
    expected: KeySetTag,
) -> Result<(), CkksError> {
    if found != expected {
        return Err(CkksError::KeySetMismatch {
            path: path.to_path_buf(),
            reference: reference.to_path_buf(),
            found: found.to_string(),
            expected: expected.to_string(),
        });
    }
    Ok(())
}

/// Refuses a key file whose key set was generated for another program than `program`.
pub fn check_program(
    path: &Path,
    key_set: &KeySetTag,
    program: &Program,
    program_path: &Path,
) -> Result<(), CkksError> {
    if key_set.program != program_hash(program) {
        return Err(CkksError::OtherProgram {
            path: path.to_path_buf(),
            program: program_path.to_path_buf(),
        });
    }
    Ok(())
}

/// Refuses a parameter file other than `setup`'s (by its header's hash, before the parameters
/// are decoded or their security judged); returns the key set it records.
fn check_params(
    setup: &CkksSetup,
    path: &Path,
    policy: SecurityPolicy,
) -> Result<KeySetTag, CkksError> {
    let header = read_header(path)?;
    if header.params != setup.context().params().hash() {
        return Err(CkksError::ForeignKeys(path.to_path_buf()));
    }
    let params = read_params_file_with(path, policy)?;
    if params.hash() != setup.context().params().hash() {
        return Err(CkksError::ForeignKeys(path.to_path_buf()));
    }
    Ok(header.key_set)
}

fn create_dir(dir: &Path) -> Result<(), CkksError> {
    std::fs::create_dir_all(dir).map_err(|source| CkksError::Directory {
        path: PathBuf::from(dir),
        message: source.to_string(),
    })
}
