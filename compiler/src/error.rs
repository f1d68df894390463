//! The frontend's one error type.
//!
//! Every failure a user can cause (a malformed model file, weights that do not fit the graph,
//! a corrupt ONNX file, a missing or truncated data file) is a variant here. Each message names
//! the file it comes from and, where there is one, the node, so the CLI can print it as one
//! line. Nothing in the frontend panics on user input.

use std::path::PathBuf;

/// What went wrong while reading a model, its weights, an ONNX file or the dataset.
#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The model description is not valid RON or does not match the format.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The model file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The description is well formed but its graph is not (names, arity, cycles, attributes).
    #[error("{path}: node `{node}`: {message}")]
    Graph {
        /// The model file.
        path: PathBuf,
        /// The node (or input) at fault.
        node: String,
        /// The problem.
        message: String,
    },
    /// Tensor shapes do not fit together (input shape, operand shapes).
    #[error("{path}: node `{node}`: shape mismatch: {message}")]
    Shape {
        /// The model file.
        path: PathBuf,
        /// The node whose input shapes do not fit.
        node: String,
        /// The problem.
        message: String,
    },
    /// A tensor the model names is not in the weights file.
    #[error("{path}: node `{node}`: weight `{tensor}` is not in {weights}")]
    MissingWeight {
        /// The model file.
        path: PathBuf,
        /// The node that needs the tensor.
        node: String,
        /// The tensor name.
        tensor: String,
        /// The weights file.
        weights: PathBuf,
    },
    /// A weight tensor has a shape the node cannot use.
    #[error("{path}: node `{node}`: weight `{tensor}` {mismatch} ({weights})")]
    WeightShape {
        /// The model file.
        path: PathBuf,
        /// The node.
        node: String,
        /// The tensor name.
        tensor: String,
        /// The shape found and the one expected.
        mismatch: Box<ShapeMismatch>,
        /// The weights file.
        weights: PathBuf,
    },
    /// A weight tensor is not float32.
    #[error("{path}: node `{node}`: weight `{tensor}` is {found}, expected F32 ({weights})")]
    WeightDtype {
        /// The model file.
        path: PathBuf,
        /// The node.
        node: String,
        /// The tensor name.
        tensor: String,
        /// The dtype found in the file.
        found: String,
        /// The weights file.
        weights: PathBuf,
    },
    /// A weight tensor holds NaN or an infinity.
    #[error(
        "{weights}: tensor `{tensor}` (node `{node}` of {path}) holds {value} at index {index}; \
         weights must be finite"
    )]
    WeightNotFinite {
        /// The model file.
        path: PathBuf,
        /// The node.
        node: String,
        /// The tensor name.
        tensor: String,
        /// The first non-finite value's index.
        index: usize,
        /// That value.
        value: f32,
        /// The weights file.
        weights: PathBuf,
    },
    /// A safetensors file is truncated or corrupt.
    #[error("{path}: not a valid safetensors file: {message}")]
    Safetensors {
        /// The weights file.
        path: PathBuf,
        /// What the reader found.
        message: String,
    },
    /// An ONNX file cannot be decoded or its graph is malformed.
    #[error("{path}: {message}")]
    Onnx {
        /// The ONNX file.
        path: PathBuf,
        /// The problem.
        message: String,
    },
    /// An ONNX node uses an operator (or an attribute value) the importer does not support.
    #[error("{path}: node `{node}`: unsupported ONNX operator {op}{detail}")]
    UnsupportedOnnx {
        /// The ONNX file.
        path: PathBuf,
        /// The node name (or its first output when unnamed).
        node: String,
        /// The operator type.
        op: String,
        /// Empty, or `: <attribute problem>`.
        detail: String,
    },
    /// Values handed to the executor do not fit the model's inputs.
    #[error("model input `{node}`: {message}")]
    InputMismatch {
        /// The model input.
        node: String,
        /// The problem.
        message: String,
    },
    /// No data directory could be found.
    #[error(
        "no data directory: {tried}; pass --data DIR or set FHEC_DATA to the folder holding \
         cifar10/ and resnet20/"
    )]
    DataDirNotFound {
        /// Where the search looked.
        tried: String,
    },
    /// A dataset or logits file does not have the expected layout.
    #[error("{path}: {message}")]
    Data {
        /// The data file.
        path: PathBuf,
        /// The problem.
        message: String,
    },
}

/// A tensor's shape and the shape it should have had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("has shape {found:?}, expected {expected}")]
pub struct ShapeMismatch {
    /// The shape needed, e.g. `[16, 3, _, _]` (`_` = any size).
    pub expected: String,
    /// The shape in the file.
    pub found: Vec<usize>,
}

/// Result alias of the frontend.
pub type Result<T, E = FrontendError> = std::result::Result<T, E>;

impl FrontendError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// The largest input file any reader accepts (model descriptions, weights, ONNX, data
/// batches): far above any real model this tool compiles, far below what would exhaust memory.
pub const MAX_INPUT_FILE_BYTES: u64 = 1 << 30;

/// The largest model description (RON text) accepted: thousands of nodes fit in a few MiB.
pub const MAX_DESCRIPTION_BYTES: u64 = 64 << 20;

/// Reads a whole file of at most [`MAX_INPUT_FILE_BYTES`], naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    read_file_capped(path, MAX_INPUT_FILE_BYTES)
}

/// Reads a whole file of at most `max` bytes, refusing a larger one before reading it (by its
/// length) or while reading it (a device or pipe that never ends), naming it in the error.
pub fn read_file_capped(path: &std::path::Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let too_large = || {
        FrontendError::io(
            path,
            std::io::Error::other(format!("larger than the {max}-byte limit for this file")),
        )
    };
    let file = std::fs::File::open(path).map_err(|e| FrontendError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| FrontendError::io(path, e))?
        .len();
    if len > max {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FrontendError::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}
