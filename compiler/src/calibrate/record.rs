//! The calibration record: a model's calibration saved beside its description
//! (`models/NAME.calibration.ron` for `models/NAME.ron`), so compiling needs no training data.
//!
//! The record names the model and carries a hash of everything calibration depends on (the
//! graph's operators, shapes, wiring, preprocessing and weight values, [`model_hash`]); a
//! record whose hash differs from the loaded model's is stale and refused, naming the file and
//! how to make a new one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{CalibrateError, Calibration};
use crate::graph::TensorGraph;
use crate::lower::bindings::graph_weights;

/// A calibration with the identity of the model it was measured on.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct CalibrationRecord {
    /// The model's name.
    pub model: String,
    /// [`model_hash`] of the graph calibrated, hex.
    pub model_hash: String,
    /// The measured ranges.
    pub calibration: Calibration,
}

/// A hash of what a calibration depends on: the graph as printed (operators, shapes, wiring,
/// preprocessing) and the value of every weight, hex.
pub fn model_hash(graph: &TensorGraph) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(graph.to_string().as_bytes());
    for (name, tensor) in graph_weights(graph) {
        hasher.update(name.as_bytes());
        for &dim in tensor.shape() {
            hasher.update(&(dim as u64).to_le_bytes());
        }
        for value in tensor.iter() {
            hasher.update(&value.to_bits().to_le_bytes());
        }
    }
    hasher.finalize().to_hex().to_string()
}

/// Where the record of the model described by `model` lives: `NAME.calibration.ron` beside
/// `NAME.ron`.
pub fn record_path(model: &Path) -> PathBuf {
    let stem = model.file_stem().map_or_else(
        || "model".to_owned(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    model.with_file_name(format!("{stem}.calibration.ron"))
}

impl CalibrationRecord {
    /// The record of `calibration`, measured on `graph`.
    pub fn new(graph: &TensorGraph, calibration: Calibration) -> Self {
        Self {
            model: graph.name.clone(),
            model_hash: model_hash(graph),
            calibration,
        }
    }

    /// The record as RON text.
    pub fn to_ron(&self) -> String {
        let config = ron::ser::PrettyConfig::new().depth_limit(3);
        ron::ser::to_string_pretty(self, config).expect("a calibration record always serializes")
    }

    /// Reads a record, naming the file in errors.
    pub fn read(path: &Path) -> Result<Self, CalibrateError> {
        let error = |message: String| CalibrateError::Record {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
        ron::from_str(&text).map_err(|e| error(format!("not a calibration record: {e}")))
    }

    /// The calibration, when the record was measured on `graph`; otherwise an error saying
    /// the record (`path`) is stale.
    pub fn for_graph(
        &self,
        graph: &TensorGraph,
        path: &Path,
    ) -> Result<&Calibration, CalibrateError> {
        let hash = model_hash(graph);
        if self.model != graph.name || self.model_hash != hash {
            return Err(CalibrateError::Record {
                path: path.display().to_string(),
                message: format!(
                    "stale: recorded for model `{}` with hash {}, but `{}` now hashes to {}; \
                     recalibrate with `fhec calibrate` (or compile with --calibrate DIR)",
                    self.model,
                    short(&self.model_hash),
                    graph.name,
                    short(&hash)
                ),
            });
        }
        Ok(&self.calibration)
    }
}

/// The first 12 hex digits, enough to tell hashes apart in a message.
fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}
