//! The `Program`: typed SSA values, an ordered instruction list, the rotation key set and the
//! metadata that travels with a compiled artifact.
//!
//! Values and instructions live in arenas ([`EntityMap`]); the program order is a separate
//! list of instruction handles, so passes reorder or drop instructions without invalidating
//! handles. A value's type is stored once, with the value. Inputs and outputs are the `input`
//! and `output` instructions (name and opaque layout in their immediates).

use crate::entity::{EntityMap, Inst, Value};
use crate::opaque::Opaque;
use crate::ops::{Immediate, IoSpec, Opcode};
use crate::scale::Scale;
use crate::types::Type;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The serialized format version this crate writes; older or newer files are refused.
/// Version 2: key sets carry per-key level caps, instructions a layer, metadata a source.
pub const FORMAT_VERSION: u32 = 2;

/// The BLAKE3 (or other 256-bit) hash of the model graph a program was compiled from, so a
/// stale artifact is detected. Printed and serialized as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct GraphHash(pub [u8; 32]);

impl fmt::Display for GraphHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for GraphHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for GraphHash {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("graph hash must be 64 hex digits, found {text:?}"));
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(GraphHash(bytes))
    }
}

impl From<GraphHash> for String {
    fn from(hash: GraphHash) -> String {
        hash.to_string()
    }
}

impl TryFrom<String> for GraphHash {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

/// The evaluation keys a program may use, each with the highest level it serves.
///
/// A key used only up to level `l` is generated (and stored) only over the primes of level `l`
/// plus the special primes (DESIGN §4-5), so the cap is part of the key set: the verifier
/// refuses a use above it, and the memory model sizes each key by it.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct KeySet {
    /// Rotation offset → the highest level a rotation by that offset happens at.
    pub rotations: BTreeMap<i32, u32>,
    /// The conjugation key, with its level cap, if generated.
    pub conjugation: Option<u32>,
    /// The relinearisation key (needed by `mul`), with its level cap, if generated.
    pub relinearization: Option<u32>,
}

impl KeySet {
    /// Adds (or raises the cap of) the rotation key for `offset` so it serves `level`.
    pub fn add_rotation(&mut self, offset: i32, level: u32) {
        let cap = self.rotations.entry(offset).or_insert(level);
        *cap = (*cap).max(level);
    }

    /// Adds (or raises the cap of) the conjugation key.
    pub fn add_conjugation(&mut self, level: u32) {
        self.conjugation = Some(self.conjugation.map_or(level, |cap| cap.max(level)));
    }

    /// Adds (or raises the cap of) the relinearisation key.
    pub fn add_relinearization(&mut self, level: u32) {
        self.relinearization = Some(self.relinearization.map_or(level, |cap| cap.max(level)));
    }

    /// The rotation offsets that have a key, in increasing order.
    pub fn rotation_offsets(&self) -> impl Iterator<Item = i32> + '_ {
        self.rotations.keys().copied()
    }
}

/// What a `bootstrap` consumes and produces, as the bootstrapping configuration fixes it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct BootstrapSpec {
    /// The level a `bootstrap` operand must be at.
    pub input_level: u32,
    /// The scale a `bootstrap` operand must have.
    pub input_scale: Scale,
    /// The level of every bootstrap result.
    pub output_level: u32,
    /// The scale of every bootstrap result.
    pub output_scale: Scale,
}

/// One model layer: a node of the source model that emitted instructions. An instruction's
/// [`InstData::layer`] indexes [`Metadata::layers`], so that reports can name the layer
/// where time or precision goes.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Layer {
    /// The node name (or `<node> (output)` for the output instructions).
    pub name: String,
    /// The node's operation (`Conv2d`, `Relu`, ...).
    pub op: String,
}

/// Facts about the artifact rather than the computation.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Metadata {
    /// Serialized format version ([`FORMAT_VERSION`] for programs this crate builds).
    pub format_version: u32,
    /// Hash of the model graph compiled, if the program came from a model.
    pub graph_hash: Option<GraphHash>,
    /// The CKKS parameter description chosen by the params pass (opaque to the IR).
    pub params: Option<Opaque>,
    /// Where the program comes from (model, weights, calibration, activation choices), as the
    /// compiler describes it (opaque to the IR).
    #[serde(default)]
    pub source: Option<Opaque>,
    /// Peak memory the schedule predicts for a run (DESIGN §5: values, keys, bootstrapping
    /// constants), in bytes, once the passes have scheduled the program; `run` reports it
    /// beside the measured peak.
    #[serde(default)]
    pub predicted_peak_bytes: Option<u64>,
    /// The model layers the instructions' `layer` fields index (empty for programs not
    /// lowered from a model).
    #[serde(default)]
    pub layers: Vec<Layer>,
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            format_version: FORMAT_VERSION,
            graph_hash: None,
            params: None,
            source: None,
            predicted_peak_bytes: None,
            layers: Vec::new(),
        }
    }
}

/// One instruction: an opcode, its value operands, its immediate and its results.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct InstData {
    /// What the instruction does.
    pub opcode: Opcode,
    /// Value operands, in the op table's order.
    pub args: Vec<Value>,
    /// The immediate operand (its shape is the op's [`ImmKind`](crate::ImmKind)).
    pub imm: Immediate,
    /// Values defined by this instruction.
    pub results: Vec<Value>,
    /// The model layer the instruction belongs to (an index the compiler's layer table
    /// defines), for per-layer statistics; passes give the instructions they insert the layer
    /// of the instruction they serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
}

/// A compiled (or in-compilation) HE program; see the module documentation.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Program {
    /// Version, model hash, parameters.
    pub meta: Metadata,
    /// Rotation and conjugation keys available.
    pub keys: KeySet,
    /// The bootstrapping configuration, if the program bootstraps.
    pub bootstrap: Option<BootstrapSpec>,
    /// The type of every value (`None` for a value referenced but never given a type, which
    /// the parser keeps so the verifier can report it).
    pub(crate) values: EntityMap<Value, Option<Type>>,
    pub(crate) insts: EntityMap<Inst, InstData>,
    pub(crate) order: Vec<Inst>,
}

impl Program {
    /// An empty program with default metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// The instructions in program order.
    pub fn order(&self) -> &[Inst] {
        &self.order
    }

    /// The program order, for passes that reorder or drop instructions.
    pub fn order_mut(&mut self) -> &mut Vec<Inst> {
        &mut self.order
    }

    /// The data of an instruction.
    pub fn inst(&self, inst: Inst) -> Option<&InstData> {
        self.insts.get(inst)
    }

    /// The instructions in program order with their data.
    pub fn instructions(&self) -> impl Iterator<Item = (Inst, &InstData)> {
        self.order
            .iter()
            .filter_map(|&i| self.insts.get(i).map(|d| (i, d)))
    }

    /// The type of a value, if it has one.
    pub fn value_type(&self, value: Value) -> Option<&Type> {
        self.values.get(value).and_then(Option::as_ref)
    }

    /// Number of value handles allocated (including values of dropped instructions).
    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    /// Allocates a new value of type `ty` (for passes; it is defined once an instruction lists
    /// it as a result).
    pub fn make_value(&mut self, ty: Type) -> Value {
        self.values.push(Some(ty))
    }

    /// Allocates an instruction without placing it in the program order.
    pub fn make_inst(&mut self, data: InstData) -> Inst {
        self.insts.push(data)
    }

    /// The program's inputs (`input` instructions) in order, with their result value.
    pub fn inputs(&self) -> impl Iterator<Item = (&IoSpec, Value)> {
        self.io(Opcode::Input)
            .filter_map(|(spec, d)| Some((spec, *d.results.first()?)))
    }

    /// The program's outputs (`output` instructions) in order, with the value output.
    pub fn outputs(&self) -> impl Iterator<Item = (&IoSpec, Value)> {
        self.io(Opcode::Output)
            .filter_map(|(spec, d)| Some((spec, *d.args.first()?)))
    }

    fn io(&self, opcode: Opcode) -> impl Iterator<Item = (&IoSpec, &InstData)> {
        self.instructions()
            .filter(move |(_, d)| d.opcode == opcode)
            .filter_map(|(_, d)| match &d.imm {
                Immediate::Io(spec) => Some((spec, d)),
                _ => None,
            })
    }

    /// Checks that every handle stored in the program names an allocated entity, so that the
    /// printer and verifier can index freely (used after deserialization).
    pub(crate) fn check_handles(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for &inst in &self.order {
            if !seen.insert(inst) {
                return Err(format!("program order names {inst} twice"));
            }
            let data = self
                .insts
                .get(inst)
                .ok_or_else(|| format!("program order names {inst}, which does not exist"))?;
            for &v in data.args.iter().chain(&data.results) {
                if !self.values.contains(v) {
                    return Err(format!("{inst} refers to {v}, which does not exist"));
                }
            }
        }
        Ok(())
    }
}
