//! Weight files: named float32 tensors in safetensors format.
//!
//! [`WeightFile`] reads a whole file once, checks its header and keeps every tensor's dtype,
//! shape and bytes, so the frontend can report a missing tensor, a wrong dtype or a wrong shape
//! against the node that asked for it. [`write_safetensors`] writes tensors back (used by the
//! ONNX import).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{FrontendError, Result, read_file};

/// One stored tensor, as found in the file.
#[derive(Clone, Debug)]
struct StoredTensor {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// A loaded safetensors file.
#[derive(Clone, Debug)]
pub struct WeightFile {
    path: PathBuf,
    tensors: BTreeMap<String, StoredTensor>,
}

/// A float32 tensor taken from a weights file.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightTensor {
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// Its values in row-major order.
    pub data: Vec<f32>,
}

/// Why a tensor could not be taken from the file (the caller adds the node).
#[derive(Clone, Debug, PartialEq)]
pub enum WeightLookupError {
    /// No tensor of that name.
    Missing,
    /// The tensor is not float32; holds the dtype found.
    Dtype(String),
    /// The tensor holds NaN or an infinity: the first such value and its index.
    NonFinite {
        /// Row-major index of the value.
        index: usize,
        /// The value.
        value: f32,
    },
}

impl WeightFile {
    /// Reads and checks a safetensors file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses safetensors bytes; `path` names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let parsed = SafeTensors::deserialize(bytes).map_err(|e| FrontendError::Safetensors {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let tensors = parsed
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let stored = StoredTensor {
                    dtype: view.dtype(),
                    shape: view.shape().to_vec(),
                    bytes: view.data().to_vec(),
                };
                (name, stored)
            })
            .collect();
        Ok(Self {
            path: path.to_owned(),
            tensors,
        })
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names of all tensors in the file, sorted.
    pub fn names(&self) -> BTreeSet<&str> {
        self.tensors.keys().map(String::as_str).collect()
    }

    /// Takes a float32 tensor by name; NaN and infinities are refused (they would make every
    /// result NaN, reported as a class and a precision without a word).
    pub fn get(&self, name: &str) -> Result<WeightTensor, WeightLookupError> {
        let stored = self.tensors.get(name).ok_or(WeightLookupError::Missing)?;
        if stored.dtype != Dtype::F32 {
            return Err(WeightLookupError::Dtype(format!("{:?}", stored.dtype)));
        }
        let data = stored
            .bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect::<Vec<f32>>();
        if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(WeightLookupError::NonFinite { index, value });
        }
        Ok(WeightTensor {
            shape: stored.shape.clone(),
            data,
        })
    }
}

/// Writes named float32 tensors to a safetensors file.
pub fn write_safetensors(path: &Path, tensors: &[(String, WeightTensor)]) -> Result<()> {
    let out = safetensors_bytes(path, tensors)?;
    std::fs::write(path, out).map_err(|e| FrontendError::io(path, e))
}

/// The bytes of a safetensors file of named float32 tensors; `path` names it in errors.
pub fn safetensors_bytes(path: &Path, tensors: &[(String, WeightTensor)]) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, t)| t.data.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let invalid = |message: String| FrontendError::Safetensors {
        path: path.to_owned(),
        message,
    };
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, t), b)| {
            TensorView::new(Dtype::F32, t.shape.clone(), b)
                .map(|view| (name.as_str(), view))
                .map_err(|e| invalid(format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, None).map_err(|e| invalid(e.to_string()))
}
