//! How a program's inputs and outputs map to tensors, recorded in the program itself.
//!
//! Every `input`/`output` instruction carries, as its opaque layout, an [`IoDescription`]: the
//! tensor (model node), which of its ciphertexts this one is, the slot [`Layout`], the factor
//! and offset the slots hold (`factor · x + offset`, see `factors.rs`) and, for inputs, the
//! model's preprocessing. The client packs with [`IoDescription::pack`] and the decryptor
//! reads with [`unpack`], so encrypt/decrypt need nothing but the program.
//!
//! The first input also carries the [`ProgramSource`]: the model and weights the program was
//! compiled from, the calibration and the chosen approximations (so `fhec run` can use the
//! same weights and compare with the tensor-level `--approx` model). It lives there until the
//! IR's metadata has a field of its own for it (requested in `/work/wt/mail/lower-needs-ir`).

use crate::calibrate::Calibration;
use crate::layout::{Layout, LayoutError};
use crate::model::Preprocess;
use crate::poly::ActivationApprox;
use fhec_ir::{IoSpec, Opaque, Program};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a program comes from; see the module documentation.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ProgramSource {
    /// The model description, as given to `fhec compile`.
    pub model: String,
    /// The weights file the program was compiled with.
    pub weights: String,
    /// The calibration the approximations were chosen from, if any.
    pub calibration: Option<Calibration>,
    /// The approximation of every activation node, by node name.
    pub approximations: BTreeMap<String, ActivationApprox>,
}

/// One ciphertext of a program input or output; see the module documentation.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct IoDescription {
    /// The model node whose tensor this is.
    pub tensor: String,
    /// The tensor's shape as the model has it (e.g. `[10]` for logits).
    pub shape: Vec<usize>,
    /// Which ciphertext of the layout this one is.
    pub part: usize,
    /// Where the tensor's elements live.
    pub layout: Layout,
    /// Element slots hold `factor · x + offset`.
    pub factor: f64,
    /// See `factor`.
    pub offset: f64,
    /// The preprocessing the client applies to raw input values first (inputs only).
    pub preprocess: Option<Preprocess>,
    /// The program's provenance (first input only).
    pub source: Option<ProgramSource>,
}

/// Why an input or output description could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// An `input`/`output` layout is not an [`IoDescription`].
    #[error("{kind} {name:?}: its layout is not an fhec tensor description: {message}")]
    Description {
        /// `input` or `output`.
        kind: &'static str,
        /// The IoSpec name.
        name: String,
        /// The decoding error.
        message: String,
    },
    /// Data does not fit a layout.
    #[error("{tensor}: {source}")]
    Layout {
        /// The tensor.
        tensor: String,
        /// The layout's complaint.
        source: LayoutError,
    },
    /// The program lacks a tensor or one of its ciphertexts.
    #[error("{0}")]
    Missing(String),
}

impl IoDescription {
    /// The IoSpec name of this ciphertext: the tensor name, with `#part` when the tensor
    /// needs several ciphertexts.
    pub fn spec_name(&self) -> String {
        if self.layout.cts() == 1 {
            self.tensor.clone()
        } else {
            format!("{}#{}", self.tensor, self.part)
        }
    }

    /// The IoSpec of this ciphertext.
    pub fn spec(&self) -> IoSpec {
        let layout = Opaque::encode(self).expect("an IoDescription always serializes to RON");
        IoSpec {
            name: self.spec_name(),
            layout,
        }
    }

    /// Reads the description back from an IoSpec.
    pub fn from_spec(spec: &IoSpec, kind: &'static str) -> Result<Self, IoError> {
        spec.layout.decode().map_err(|e| IoError::Description {
            kind,
            name: spec.name.clone(),
            message: e.to_string(),
        })
    }

    /// The slot values of this ciphertext for a row-major tensor `x` (already preprocessed):
    /// `factor · x + offset` on element slots (every replica), zero elsewhere.
    pub fn pack(&self, x: &[f64]) -> Result<Vec<f64>, IoError> {
        let scaled: Vec<f64> = x.iter().map(|v| self.factor * v + self.offset).collect();
        let mut cts = self
            .layout
            .pack(&scaled)
            .map_err(|source| IoError::Layout {
                tensor: self.tensor.clone(),
                source,
            })?;
        if self.part >= cts.len() {
            return Err(IoError::Missing(format!(
                "{}: part {} of a layout with {} ciphertexts",
                self.tensor,
                self.part,
                cts.len()
            )));
        }
        Ok(cts.swap_remove(self.part))
    }
}

/// The descriptions of a program's inputs (`outputs = false`) or outputs, in program order,
/// with their IoSpec names.
pub fn descriptions(program: &Program, outputs: bool) -> Result<Vec<IoDescription>, IoError> {
    let kind = if outputs { "output" } else { "input" };
    let specs: Vec<&IoSpec> = if outputs {
        program.outputs().map(|(s, _)| s).collect()
    } else {
        program.inputs().map(|(s, _)| s).collect()
    };
    specs
        .into_iter()
        .map(|spec| IoDescription::from_spec(spec, kind))
        .collect()
}

/// The provenance recorded in a program (see the module documentation).
pub fn program_source(program: &Program) -> Result<ProgramSource, IoError> {
    if program.inputs().next().is_none() {
        return Err(IoError::Missing(
            "the program has no input instruction (is its `order` list damaged?)".into(),
        ));
    }
    descriptions(program, false)?
        .into_iter()
        .find_map(|d| d.source)
        .ok_or_else(|| {
            IoError::Missing("the program records no model and weights (compiled by fhec?)".into())
        })
}

/// The tensor `name` read back from output ciphertexts `values` (by IoSpec name), with the
/// factor and offset undone: row-major values.
pub fn unpack(
    descriptions: &[IoDescription],
    name: &str,
    values: &BTreeMap<String, Vec<f64>>,
) -> Result<Vec<f64>, IoError> {
    let parts: Vec<&IoDescription> = descriptions.iter().filter(|d| d.tensor == name).collect();
    let first = parts
        .first()
        .ok_or_else(|| IoError::Missing(format!("the program has no tensor {name:?}")))?;
    let mut cts = vec![Vec::new(); first.layout.cts()];
    for d in &parts {
        let value = values
            .get(&d.spec_name())
            .ok_or_else(|| IoError::Missing(format!("no value for {:?}", d.spec_name())))?;
        if let Some(slot) = cts.get_mut(d.part) {
            slot.clone_from(value);
        }
    }
    let raw = first
        .layout
        .unpack(&cts)
        .map_err(|source| IoError::Layout {
            tensor: name.to_string(),
            source,
        })?;
    Ok(raw
        .into_iter()
        .map(|v| (v - first.offset) / first.factor)
        .collect())
}
