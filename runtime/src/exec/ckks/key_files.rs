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
//! Every file is the runtime's container (`serialize`): header with the parameter hash and
//! checksums, written atomically; a file made for other parameters, truncated or corrupt is
//! refused naming the file.

use super::CkksError;
use super::client::CkksClient;
use super::keys::{EvaluationKeys, Store};
use super::setup::CkksSetup;
use crate::bootstrap::BootstrapKeys;
use crate::keys::{GaloisKeys, RelinearizationKey};
use crate::serialize::{read_ckks_file, read_params_file_with, write_ckks_file};
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
    /// missing).
    ///
    /// Errors: [`CkksError::File`] naming the file that could not be written.
    pub fn write_to(&self, setup: &CkksSetup, dir: &Path) -> Result<(), CkksError> {
        let context = setup.context();
        create_dir(dir)?;
        write_ckks_file(&dir.join(PARAMS_FILE), context, context.params())?;
        match &self.store {
            Store::Bootstrapping(keys) => {
                write_ckks_file(&dir.join(BOOTSTRAP_KEYS_FILE), context, keys.as_ref())?
            }
            Store::Circuit {
                galois,
                relinearization,
            } => {
                write_ckks_file(&dir.join(GALOIS_KEYS_FILE), context, galois)?;
                if let Some(key) = relinearization {
                    write_ckks_file(&dir.join(RELINEARIZATION_KEY_FILE), context, key)?;
                }
            }
        }
        Ok(())
    }

    /// Reads the keys of `program` from the public directory `dir` (only that directory is
    /// needed: the server side never sees the secret key).
    ///
    /// Errors: [`CkksError::File`] for a missing, truncated or corrupt file, or one made for
    /// other parameters than the program's (the parameter file is checked first, so a key
    /// directory of another program is named as such).
    pub fn read_from(
        setup: &CkksSetup,
        program: &Program,
        dir: &Path,
        policy: SecurityPolicy,
    ) -> Result<Self, CkksError> {
        let context = setup.context();
        check_params(setup, &dir.join(PARAMS_FILE), policy)?;
        let store = if super::keys::bootstraps(program) {
            let keys: BootstrapKeys = read_ckks_file(&dir.join(BOOTSTRAP_KEYS_FILE), context)?;
            Store::Bootstrapping(Box::new(keys))
        } else {
            let galois: GaloisKeys = read_ckks_file(&dir.join(GALOIS_KEYS_FILE), context)?;
            let relinearization = match program.keys.relinearization {
                Some(_) => Some(read_ckks_file::<RelinearizationKey>(
                    &dir.join(RELINEARIZATION_KEY_FILE),
                    context,
                )?),
                None => None,
            };
            Store::Circuit {
                galois,
                relinearization,
            }
        };
        Ok(Self { store })
    }
}

impl<'s> CkksClient<'s> {
    /// Writes the secret key to `path` (mode 0600; refused inside a `public` directory).
    ///
    /// Errors: [`CkksError::File`].
    pub fn write_secret_key(&self, path: &Path) -> Result<(), CkksError> {
        Ok(write_ckks_file(
            path,
            self.setup().context(),
            self.secret(),
        )?)
    }

    /// A client holding the secret key read from `path`, for `setup`'s parameters.
    ///
    /// Errors: [`CkksError::File`] for a missing, damaged or foreign key file,
    /// [`CkksError::Key`] when the system's randomness is unavailable.
    pub fn read_secret_key(setup: &'s CkksSetup, path: &Path) -> Result<Self, CkksError> {
        let secret = read_ckks_file(path, setup.context())?;
        CkksClient::from_secret(setup, secret)
    }
}

/// Refuses a parameter file other than `setup`'s.
fn check_params(setup: &CkksSetup, path: &Path, policy: SecurityPolicy) -> Result<(), CkksError> {
    let params = read_params_file_with(path, policy)?;
    if params.hash() != setup.context().params().hash() {
        return Err(CkksError::ForeignKeys(path.to_path_buf()));
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<(), CkksError> {
    std::fs::create_dir_all(dir).map_err(|source| CkksError::Directory {
        path: PathBuf::from(dir),
        message: source.to_string(),
    })
}
