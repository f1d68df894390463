//! The data-directory rule (DESIGN §7), in one place for the whole CLI.
//!
//! Data (CIFAR-10 batches, shipped weights, reference logits) is found through an explicit
//! directory (`--data DIR`), else the `FHEC_DATA` environment variable, else `../shared/data`
//! relative to the current directory when that exists. Otherwise the error says how to point
//! at the data.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{FrontendError, Result};

/// The environment variable naming the data directory.
pub const DATA_ENV_VAR: &str = "FHEC_DATA";

/// The conventional location relative to the working directory.
const SIBLING_DATA: &str = "../shared/data";

/// The inputs of the data-directory rule; resolution happens only when data is needed, so
/// commands that do not touch data work without one.
#[derive(Clone, Debug)]
pub struct DataDirSearch {
    explicit: Option<PathBuf>,
    env: Option<OsString>,
    cwd: PathBuf,
}

impl DataDirSearch {
    /// The rule for this process: `explicit` (from `--data`), the environment, the current
    /// directory.
    pub fn from_process(explicit: Option<PathBuf>) -> Self {
        Self {
            explicit,
            env: std::env::var_os(DATA_ENV_VAR).filter(|v| !v.is_empty()),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    /// The rule with every input given (for tests and embedding).
    pub fn new(explicit: Option<PathBuf>, env: Option<OsString>, cwd: PathBuf) -> Self {
        Self { explicit, env, cwd }
    }

    /// The data directory, or an error saying where it looked and how to set it.
    pub fn resolve(&self) -> Result<PathBuf> {
        let must_exist = |dir: PathBuf, origin: &str| {
            if dir.is_dir() {
                Ok(dir)
            } else {
                Err(FrontendError::DataDirNotFound {
                    tried: format!("{origin} names {}, which is not a directory", dir.display()),
                })
            }
        };
        if let Some(dir) = &self.explicit {
            return must_exist(self.cwd.join(dir), "--data");
        }
        if let Some(dir) = &self.env {
            return must_exist(self.cwd.join(dir), DATA_ENV_VAR);
        }
        let sibling = self.cwd.join(SIBLING_DATA);
        if sibling.is_dir() {
            return Ok(sibling);
        }
        Err(FrontendError::DataDirNotFound {
            tried: format!(
                "no --data, {DATA_ENV_VAR} unset and {} does not exist",
                sibling.display()
            ),
        })
    }

    /// A user-given file path: as given when it exists (relative to the working directory),
    /// otherwise relative to the data directory when the file is there, otherwise as given
    /// (so the error names the path the user wrote).
    pub fn locate(&self, path: &Path) -> PathBuf {
        let direct = self.cwd.join(path);
        if direct.exists() || path.is_absolute() {
            return direct;
        }
        match self.resolve() {
            Ok(dir) if dir.join(path).exists() => dir.join(path),
            _ => direct,
        }
    }

    /// A file inside the data directory.
    pub fn file(&self, relative: &Path) -> Result<PathBuf> {
        Ok(self.resolve()?.join(relative))
    }
}
