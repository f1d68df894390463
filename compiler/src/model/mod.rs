//! The model description: what a user writes (or `fhec import` produces) to describe a network.
//!
//! A description is a RON file naming the model, where its weights are, its input(s) with
//! shape and preprocessing, a list of nodes and the one output. Each node has a name, an
//! operator ([`Op`]) and the names of its inputs (model inputs or other nodes); a node's output
//! carries the node's name. Weights are referenced by safetensors tensor name. See
//! `docs/models.md` for the format with an example.

mod ops;

pub use ops::{Activation, Op};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{FrontendError, MAX_DESCRIPTION_BYTES, Result, read_file_capped};

/// The most elements a tensor read from a file may have: 2^30, 4 GiB of float32, far beyond
/// any network fhec compiles. Shapes in model, ONNX and weight files are user data; products
/// of their dimensions are computed with checked arithmetic and held to this bound before
/// anything is allocated from them.
pub const MAX_TENSOR_ELEMENTS: usize = 1 << 30;

/// The number of elements of a tensor of `shape`, or `None` when that number overflows or
/// exceeds [`MAX_TENSOR_ELEMENTS`]. A shape with a zero dimension has no elements, whatever
/// the others.
pub fn tensor_elements(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape
        .iter()
        .try_fold(1usize, |count, &dim| count.checked_mul(dim))
        .filter(|&count| count <= MAX_TENSOR_ELEMENTS)
}

/// The error for a shape that [`tensor_elements`] refuses.
pub(crate) fn too_large(shape: &[usize]) -> String {
    format!("shape {shape:?} has more than {MAX_TENSOR_ELEMENTS} elements (2^30)")
}

/// A parsed (not yet validated) model description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Model", deny_unknown_fields)]
pub struct ModelDescription {
    /// The model's name, reported by `fhec plain` and recorded in compiled programs.
    pub name: String,
    /// Where the default weights are; `--weights` overrides it.
    pub weights: WeightsLocation,
    /// The model inputs.
    pub inputs: Vec<InputDescription>,
    /// The nodes, in any order (the frontend sorts them).
    pub nodes: Vec<NodeDescription>,
    /// The name of the node (or input) whose value is the model output.
    pub output: String,
}

/// Where a model's default weights file is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WeightsLocation {
    /// Relative to the data directory (shipped models whose weights are data, not code).
    DataDir(PathBuf),
    /// Relative to the directory holding the model file (e.g. what `fhec import` writes).
    ModelDir(PathBuf),
}

/// A model input: its per-sample shape (no batch axis) and how raw data becomes its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Input", deny_unknown_fields)]
pub struct InputDescription {
    /// The name nodes use to read the input.
    pub name: String,
    /// Per-sample shape, e.g. `[3, 32, 32]` (channels, height, width).
    pub shape: Vec<usize>,
    /// How raw pixels become the input; absent means the values are used as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocess: Option<Preprocess>,
}

/// Per-channel image normalisation: `x = (pixel / pixel_max - mean[c]) / std[c]`, in float32.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocess {
    /// The raw value that maps to 1.0 (255 for 8-bit images).
    pub pixel_max: f32,
    /// Per-channel mean subtracted after scaling (one value per channel, or one for all).
    pub mean: Vec<f32>,
    /// Per-channel standard deviation divided by last (one value per channel, or one for all).
    pub std: Vec<f32>,
}

impl Preprocess {
    /// Normalises one value of channel `channel`, with the exact float32 operation order of
    /// the reference (`(x / pixel_max - mean) / std`).
    pub fn apply(&self, channel: usize, raw: f32) -> f32 {
        let pick = |v: &[f32]| if v.len() == 1 { v[0] } else { v[channel] };
        (raw / self.pixel_max - pick(&self.mean)) / pick(&self.std)
    }
}

/// One node of the description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Node", deny_unknown_fields)]
pub struct NodeDescription {
    /// The node's name, which is also the name of its output.
    pub name: String,
    /// The operator.
    pub op: Op,
    /// Names of the inputs, in operator order.
    pub inputs: Vec<String>,
}

fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

impl ModelDescription {
    /// Reads and parses a model file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = read_file_capped(path, MAX_DESCRIPTION_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|e| FrontendError::Syntax {
            path: path.to_owned(),
            line: 1,
            column: 1,
            message: format!("not UTF-8 text: {e}"),
        })?;
        Self::from_ron(&text, path)
    }

    /// Parses a model description; `path` only names the source in errors. Besides the syntax
    /// only the input sizes are checked here (each input's element count is computed without
    /// overflow and at most [`MAX_TENSOR_ELEMENTS`]); the frontend validates the rest.
    pub fn from_ron(text: &str, path: &Path) -> Result<Self> {
        let description: Self =
            ron_options()
                .from_str(text)
                .map_err(|e: ron::error::SpannedError| FrontendError::Syntax {
                    path: path.to_owned(),
                    line: e.span.start.line,
                    column: e.span.start.col,
                    message: e.code.to_string(),
                })?;
        if let Some(input) = description
            .inputs
            .iter()
            .find(|input| tensor_elements(&input.shape).is_none())
        {
            return Err(FrontendError::Graph {
                path: path.to_owned(),
                node: input.name.clone(),
                message: format!("input {}", too_large(&input.shape)),
            });
        }
        Ok(description)
    }

    /// Writes the description as human-readable RON.
    pub fn to_ron(&self) -> String {
        let pretty = ron::ser::PrettyConfig::new()
            .struct_names(true)
            .indentor("    ")
            .depth_limit(2)
            .extensions(ron::extensions::Extensions::IMPLICIT_SOME);
        let mut text = ron::ser::to_string_pretty(self, pretty)
            .expect("a model description always serializes: it holds only strings and numbers");
        text.push('\n');
        text
    }

    /// The default weights file of the model at `model_path`; `data_dir` is asked for only
    /// when the weights live in the data directory.
    pub fn default_weights_path(
        &self,
        model_path: &Path,
        data_dir: impl FnOnce() -> Result<PathBuf>,
    ) -> Result<PathBuf> {
        match &self.weights {
            WeightsLocation::DataDir(rel) => Ok(data_dir()?.join(rel)),
            WeightsLocation::ModelDir(rel) => Ok(model_path
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join(rel)),
        }
    }
}
