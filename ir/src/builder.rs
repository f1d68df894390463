//! The builder the compiler emits IR with.
//!
//! One typed method per op is generated from the op table (`ops.rs`): `b.add(x, y)?`,
//! `b.rotate(x, 32)?`, `b.rotate_hoisted(x, vec![1, 2])?`, `b.plain(recipe, ty)?`. Each types
//! its result with the same rules the verifier checks, and returns a [`BuildError`] rather than
//! panicking when operands do not fit, are freed, or reuse an input/output name. Rotations, conjugations and products add the key they need to
//! the program's key set, capped at the highest level they are used at, so a freshly lowered
//! program verifies; the keys pass may later shrink the
//! set and decompose rotations onto it.

use crate::Opaque;
use crate::entity::Value;
use crate::ops::{Immediate, KeyNeed, Opcode};
use crate::program::{BootstrapSpec, GraphHash, Program};
use crate::types::Type;
use std::collections::HashSet;

/// Why the builder refused an instruction.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    /// An operand is not a typed value of the program being built.
    #[error("{op}: {value} is not a value of this program")]
    UnknownValue {
        /// The op's mnemonic.
        op: &'static str,
        /// The offending operand.
        value: Value,
    },
    /// An operand was freed by an earlier `free`.
    #[error("{op}: {value} was freed")]
    UseAfterFree {
        /// The op's mnemonic.
        op: &'static str,
        /// The offending operand.
        value: Value,
    },
    /// An input or output name is taken already.
    #[error("{op}: the name {name:?} is already used")]
    DuplicateName {
        /// The op's mnemonic.
        op: &'static str,
        /// The name.
        name: String,
    },
    /// The operands, immediate or declared type break the op's typing rule.
    #[error("{op}: {message}")]
    Type {
        /// The op's mnemonic.
        op: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Appends typed instructions to a [`Program`]; see the module documentation.
#[derive(Default)]
pub struct Builder {
    program: Program,
    /// Values freed so far (using one again is refused).
    freed: HashSet<Value>,
    /// Input and output names taken so far, by opcode.
    names: HashSet<(Opcode, String)>,
    /// The layer new instructions are attributed to.
    layer: Option<u32>,
}

impl Builder {
    /// A builder for a new, empty program.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder appending to an existing program.
    pub fn from_program(program: Program) -> Self {
        let mut builder = Builder {
            program,
            ..Builder::default()
        };
        for (_, data) in builder.program.instructions() {
            if data.opcode == Opcode::Free {
                builder.freed.extend(&data.args);
            }
            if let Immediate::Io(spec) = &data.imm {
                builder.names.insert((data.opcode, spec.name.clone()));
            }
        }
        builder
    }

    /// Declares the bootstrapping configuration `bootstrap` ops are typed with.
    pub fn set_bootstrap(&mut self, spec: BootstrapSpec) {
        self.program.bootstrap = Some(spec);
    }

    /// Records the hash of the model graph the program comes from.
    pub fn set_graph_hash(&mut self, hash: GraphHash) {
        self.program.meta.graph_hash = Some(hash);
    }

    /// Records the parameter description (opaque to the IR).
    pub fn set_params(&mut self, params: Opaque) {
        self.program.meta.params = Some(params);
    }

    /// Records where the program comes from (opaque to the IR).
    pub fn set_source(&mut self, source: Opaque) {
        self.program.meta.source = Some(source);
    }

    /// Attributes the instructions added from now on to `layer` (`None`: to no layer).
    pub fn set_layer(&mut self, layer: Option<u32>) {
        self.layer = layer;
    }

    /// The type of a value built so far.
    pub fn value_type(&self, value: Value) -> Option<&Type> {
        self.program.value_type(value)
    }

    /// The program built so far.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The finished program.
    pub fn finish(self) -> Program {
        self.program
    }

    /// `value` carried to the formal scale `target` by a `mul_const 1.0` encoded at the exact
    /// quotient (returns `value` itself when its scale is `target` already).
    ///
    /// For *unscheduled* programs (no rescales yet), whose scales otherwise multiply without
    /// bound through a chain of products: the product by the integer 1 changes no slot, and
    /// the levels pass, which chooses every encoding scale itself, drops it at no level.
    pub fn rescaled_to(
        &mut self,
        value: crate::Value,
        target: &crate::Scale,
    ) -> Result<crate::Value, BuildError> {
        let op = Opcode::MulConst.mnemonic();
        let current = self
            .value_type(value)
            .ok_or(BuildError::UnknownValue { op, value })?
            .scale
            .clone();
        if current == *target {
            return Ok(value);
        }
        let factor = target
            .checked_div(&current)
            .ok_or_else(|| BuildError::Type {
                op,
                message: format!("scale {target} / {current} overflows the exponent range"),
            })?;
        self.mul_const(
            value,
            crate::ScaledConst {
                value: 1.0,
                scale: factor,
            },
        )
    }

    /// Types and appends one instruction, returning its results (the generated per-op methods
    /// call this).
    pub(crate) fn insert(
        &mut self,
        opcode: Opcode,
        args: Vec<Value>,
        imm: Immediate,
        declared: Option<Type>,
    ) -> Result<Vec<Value>, BuildError> {
        let op = opcode.mnemonic();
        if let Some(&value) = args.iter().find(|v| self.freed.contains(v)) {
            return Err(BuildError::UseAfterFree { op, value });
        }
        let name = match &imm {
            Immediate::Io(spec) => Some((opcode, spec.name.clone())),
            _ => None,
        };
        if let Some((_, taken)) = name.as_ref().filter(|key| self.names.contains(key)) {
            return Err(BuildError::DuplicateName {
                op,
                name: taken.clone(),
            });
        }
        let offsets = imm.offsets().to_vec();
        let end = self.program.order.len();
        let (inst, results) = self
            .program
            .insert_inst(end, opcode, args.clone(), imm, declared)?;
        if let Some(data) = self.program.inst_mut(inst) {
            data.layer = self.layer;
        }
        let level = args
            .first()
            .and_then(|&a| self.program.value_type(a))
            .map_or(0, |ty| ty.level);
        let keys = &mut self.program.keys;
        match opcode.key() {
            KeyNeed::Rotation => offsets.iter().for_each(|&k| keys.add_rotation(k, level)),
            KeyNeed::Conjugation => keys.add_conjugation(level),
            KeyNeed::Relinearization => keys.add_relinearization(level),
            KeyNeed::None | KeyNeed::Bootstrapping => {}
        }
        if opcode == Opcode::Free {
            self.freed.extend(&args);
        }
        self.names.extend(name);
        Ok(results)
    }
}
