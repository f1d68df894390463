//! The data-directory rule, in one place for the whole CLI.
//!
//! Data (CIFAR-10 batches, weights, reference logits) is found through an explicit directory
//! (`--data DIR`), else the `FHEC_DATA` environment variable, else `../shared/data` relative
//! to the current directory when that exists, else the small sample shipped in the
//! repository (`models/sample`: 100 test images, the ResNet-20 weights, their reference
//! logits). Every command says which one it used ([`DataDir::describe`]).

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{FrontendError, Result};

/// The environment variable naming the data directory.
pub const DATA_ENV_VAR: &str = "FHEC_DATA";

/// The conventional location relative to the working directory.
const SIBLING_DATA: &str = "../shared/data";

/// The test batch, relative to a data directory.
pub const TEST_BATCH: &str = "cifar10/test_batch.bin";

/// The sample shipped in the repository (`models/sample` at the root of the source tree this
/// binary was built from): the last resort of the rule, so a fresh clone runs with nothing
/// beside it.
pub fn shipped_sample_dir() -> PathBuf {
    let compiler_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    compiler_crate
        .parent()
        .unwrap_or(compiler_crate)
        .join("models/sample")
}

/// Which step of the rule gave the data directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataOrigin {
    /// `--data DIR`.
    Flag,
    /// The `FHEC_DATA` environment variable.
    Env,
    /// `../shared/data` beside the working directory.
    Sibling,
    /// The sample shipped in the repository.
    Sample,
}

impl fmt::Display for DataOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataOrigin::Flag => "--data",
            DataOrigin::Env => DATA_ENV_VAR,
            DataOrigin::Sibling => "../shared/data beside the working directory",
            DataOrigin::Sample => "the sample shipped in the repository",
        })
    }
}

/// A resolved data directory and how it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    /// The directory.
    pub path: PathBuf,
    /// The step of the rule that chose it.
    pub origin: DataOrigin,
}

impl DataDir {
    /// Images in the directory's test batch (from its size; 0 when it has none).
    pub fn test_images(&self) -> u64 {
        std::fs::metadata(self.path.join(TEST_BATCH)).map_or(0, |m| m.len() / 3073)
    }

    /// One line for the user: which directory, why, and how many test images it holds.
    pub fn describe(&self) -> String {
        format!(
            "data: {} ({}), {} test images",
            self.path.display(),
            self.origin,
            self.test_images()
        )
    }
}

/// The inputs of the data-directory rule; resolution happens only when data is needed, so
/// commands that do not touch data work without one.
#[derive(Clone, Debug)]
pub struct DataDirSearch {
    explicit: Option<PathBuf>,
    env: Option<OsString>,
    cwd: PathBuf,
    sample: Option<PathBuf>,
}

impl DataDirSearch {
    /// The rule for this process: `explicit` (from `--data`), the environment, the current
    /// directory, the shipped sample.
    pub fn from_process(explicit: Option<PathBuf>) -> Self {
        Self {
            explicit,
            env: std::env::var_os(DATA_ENV_VAR).filter(|v| !v.is_empty()),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            sample: Some(shipped_sample_dir()),
        }
    }

    /// The rule with every input given and no shipped sample (for tests and embedding).
    pub fn new(explicit: Option<PathBuf>, env: Option<OsString>, cwd: PathBuf) -> Self {
        Self {
            explicit,
            env,
            cwd,
            sample: None,
        }
    }

    /// The same rule with `sample` as its last resort.
    pub fn with_sample(mut self, sample: PathBuf) -> Self {
        self.sample = Some(sample);
        self
    }

    /// The data directory, or an error saying where it looked and how to set it.
    pub fn resolve(&self) -> Result<PathBuf> {
        Ok(self.resolve_dir()?.path)
    }

    /// The data directory and the step of the rule that chose it.
    pub fn resolve_dir(&self) -> Result<DataDir> {
        let must_exist = |dir: PathBuf, origin: DataOrigin| {
            if dir.is_dir() {
                Ok(DataDir { path: dir, origin })
            } else {
                Err(FrontendError::DataDirNotFound {
                    tried: format!("{origin} names {}, which is not a directory", dir.display()),
                })
            }
        };
        if let Some(dir) = &self.explicit {
            return must_exist(self.cwd.join(dir), DataOrigin::Flag);
        }
        if let Some(dir) = &self.env {
            return must_exist(self.cwd.join(dir), DataOrigin::Env);
        }
        let sibling = self.cwd.join(SIBLING_DATA);
        if sibling.is_dir() {
            return Ok(DataDir {
                path: sibling,
                origin: DataOrigin::Sibling,
            });
        }
        if let Some(sample) = self.sample.as_ref().filter(|dir| dir.is_dir()) {
            return Ok(DataDir {
                path: sample.clone(),
                origin: DataOrigin::Sample,
            });
        }
        Err(FrontendError::DataDirNotFound {
            tried: format!(
                "no --data, {DATA_ENV_VAR} unset, {} does not exist and no shipped sample",
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
