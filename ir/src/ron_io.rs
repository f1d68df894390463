//! `program.ron`: the serialized form of a [`Program`], with its format version checked.
//!
//! The version is read first, on its own, so a file written by a newer fhec is refused with a
//! message saying so rather than with a confusing field error. After loading, every handle is
//! checked to name an allocated entity, so a hand-edited file cannot make the printer or the
//! verifier index out of bounds.

use crate::program::{FORMAT_VERSION, Program};
use serde::Deserialize;

/// Why a program could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RonError {
    /// The text is not RON of the expected shape.
    #[error("malformed program: {0}")]
    Syntax(String),
    /// The file has a format version this crate does not read.
    #[error(
        "program format version {found} is not supported (this fhec reads version {supported}{hint})"
    )]
    Version {
        /// Version in the file.
        found: u32,
        /// Version this crate reads and writes.
        supported: u32,
        /// A hint on what to do.
        hint: &'static str,
    },
    /// The structure refers to entities that do not exist.
    #[error("inconsistent program: {0}")]
    Inconsistent(String),
    /// Serialization failed.
    #[error("cannot serialize program: {0}")]
    Write(String),
}

#[derive(Deserialize)]
#[serde(rename = "Program")]
struct VersionProbe {
    meta: MetaProbe,
}

#[derive(Deserialize)]
#[serde(rename = "Metadata")]
struct MetaProbe {
    format_version: u32,
}

impl Program {
    /// Serializes to RON, one value or instruction per line.
    pub fn to_ron(&self) -> Result<String, RonError> {
        let config = ron::ser::PrettyConfig::new()
            .depth_limit(2)
            .indentor("  ".to_string());
        ron::ser::to_string_pretty(self, config).map_err(|e| RonError::Write(e.to_string()))
    }

    /// Reads a program written by [`Program::to_ron`], refusing other format versions.
    pub fn from_ron(text: &str) -> Result<Program, RonError> {
        let probe: VersionProbe =
            ron::from_str(text).map_err(|e| RonError::Syntax(e.to_string()))?;
        let found = probe.meta.format_version;
        if found != FORMAT_VERSION {
            let hint = if found > FORMAT_VERSION {
                "; the file was written by a newer fhec"
            } else {
                ""
            };
            return Err(RonError::Version {
                found,
                supported: FORMAT_VERSION,
                hint,
            });
        }
        let program: Program = ron::from_str(text).map_err(|e| RonError::Syntax(e.to_string()))?;
        program.check_handles().map_err(RonError::Inconsistent)?;
        Ok(program)
    }
}
