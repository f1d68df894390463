//! What `fhec keygen`, `encrypt`, `eval` and `decrypt` share: the compiled program they all
//! name first, the key directory, the CKKS setup rebuilt from it (insecure parameters only with `--insecure`),
//! and the INSECURE banner.

use std::path::{Path, PathBuf};

use anyhow::Context;
use fhec_compiler::error::{MAX_INPUT_FILE_BYTES, read_file_capped};
use fhec_ir::Program;
use fhec_params::{SecurityLevel, SecurityPolicy};
use fhec_runtime::exec::{CkksClient, CkksSetup, SECRET_KEY_FILE, check_program};
use fhec_runtime::serialize::KeySetTag;

/// The program, the key directory and the insecure opt-in, common to the four commands.
#[derive(clap::Args)]
pub struct ProgramFile {
    /// The compiled program (RON).
    pub program: PathBuf,
    /// The key directory: `DIR` (with `secret.key`) for keygen, encrypt and decrypt;
    /// `DIR/public` for eval.
    #[arg(long)]
    pub keys: PathBuf,
    /// Accept a program compiled for INSECURE parameters (tests only; outputs say so).
    #[arg(long)]
    pub insecure: bool,
}

/// A program with its CKKS setup.
pub struct Loaded {
    /// The program.
    pub program: Program,
    /// Its parameters and context.
    pub setup: CkksSetup,
    /// `"128-bit"` or `"INSECURE"`.
    pub security: &'static str,
}

impl ProgramFile {
    /// Reads the program and rebuilds its context; prints the INSECURE banner when it applies.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let path = &self.program;
        let program = read_program(path)?;
        let setup = CkksSetup::from_program(&program, self.policy())
            .with_context(|| path.display().to_string())?;
        let security = match setup.security() {
            SecurityLevel::Bits128 => "128-bit",
            SecurityLevel::Insecure => {
                eprintln!("WARNING: INSECURE parameters: for testing only");
                "INSECURE"
            }
        };
        Ok(Loaded {
            program,
            setup,
            security,
        })
    }

    /// `DIR/secret.key`, refused when its permissions let anyone but the owner read or write
    /// it (as ssh refuses such a private key): a key others could read is no longer secret,
    /// and one they could write may have been replaced.
    pub fn secret_key_path(&self) -> anyhow::Result<PathBuf> {
        let path = self.keys.join(SECRET_KEY_FILE);
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(&path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "{}: permissions {mode:03o} let others read or write the secret key; \
                     refusing to use it (run `chmod 600 {}` if it was never exposed)",
                    path.display(),
                    path.display()
                );
            }
        }
        Ok(path)
    }

    /// The client of `loaded` with `secret_key` (from [`Self::secret_key_path`]), and the key
    /// set it belongs to, refused when its keys were generated for another program.
    pub fn client<'s>(
        &self,
        loaded: &'s Loaded,
        secret_key: &Path,
    ) -> anyhow::Result<(CkksClient<'s>, KeySetTag)> {
        let (client, key_set) = CkksClient::read_secret_key(&loaded.setup, secret_key)?;
        check_program(secret_key, &key_set, &loaded.program, &self.program)?;
        Ok((client, key_set))
    }

    /// The policy the flags ask for.
    pub fn policy(&self) -> SecurityPolicy {
        if self.insecure {
            SecurityPolicy::AllowInsecure
        } else {
            SecurityPolicy::Require128Bit
        }
    }
}

/// Reads a compiled program (at most [`MAX_INPUT_FILE_BYTES`]), naming the file in errors.
pub fn read_program(path: &Path) -> anyhow::Result<Program> {
    let bytes = read_file_capped(path, MAX_INPUT_FILE_BYTES)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))?;
    Program::from_ron(text).with_context(|| path.display().to_string())
}
