//! The interpreter: runs a program's instructions in order on a [`Backend`].
//!
//! Values are dropped right after their last use (computed once before the run), so memory
//! stays bounded even before the schedule pass inserts `free`s; an explicit `free` also drops
//! its value and makes any later read an error.
//!
//! [`run_observed`] shows every ciphertext an instruction defines to an [`Observer`] before
//! anything is dropped: what progress reports and per-layer precision measurements hook into.

use super::backend::Backend;
use fhec_ir::{
    Immediate, InstData, Opcode, PlaintextSource, Program, RecipeError, Type, Value, inst_text,
};
use std::collections::BTreeMap;

/// Why a program could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program declares an input the caller did not bind.
    #[error("input {0:?} is not bound")]
    MissingInput(String),
    /// The caller bound a name the program has no input for.
    #[error("the program has no input named {0:?}")]
    UnknownInput(String),
    /// An instruction reads a value that holds nothing (undefined, or of the wrong kind).
    #[error("{inst}: {message}")]
    Malformed {
        /// The instruction, printed.
        inst: String,
        /// What is wrong.
        message: String,
    },
    /// An instruction reads a value after its `free`.
    #[error("{inst}: {value} was freed")]
    UseAfterFree {
        /// The instruction, printed.
        inst: String,
        /// The freed value.
        value: Value,
    },
    /// A plaintext recipe could not be materialised.
    #[error("{inst}: {source}")]
    Recipe {
        /// The instruction, printed.
        inst: String,
        /// The materialisation error.
        source: RecipeError,
    },
    /// The backend refused an operation.
    #[error("{inst}: {source}")]
    Backend {
        /// The instruction, printed.
        inst: String,
        /// The backend's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// What a value slot of the interpreter holds.
enum Slot<B: Backend> {
    Empty,
    Cipher(B::Cipher),
    Plain(B::Plain),
    Freed,
    /// Dropped after its last use (no later instruction reads it).
    Dead,
}

/// For each value, the position of the last instruction that reads it (none: never read).
fn last_uses(program: &Program) -> Vec<Option<usize>> {
    let mut last = vec![None; program.value_count()];
    for (position, (_, data)) in program.instructions().enumerate() {
        if data.opcode == Opcode::Free {
            continue;
        }
        for &arg in &data.args {
            if let Some(slot) = last.get_mut(arg.as_u32() as usize) {
                *slot = Some(position);
            }
        }
    }
    last
}

struct State<'p, B: Backend> {
    program: &'p Program,
    slots: Vec<Slot<B>>,
}

impl<B: Backend> State<'_, B> {
    fn fail(data: &InstData, message: impl Into<String>) -> ExecError {
        ExecError::Malformed {
            inst: inst_text(data),
            message: message.into(),
        }
    }

    fn slot(&self, data: &InstData, value: Value) -> Result<&Slot<B>, ExecError> {
        match self.slots.get(value.as_u32() as usize) {
            Some(Slot::Freed) => Err(ExecError::UseAfterFree {
                inst: inst_text(data),
                value,
            }),
            Some(Slot::Empty | Slot::Dead) | None => {
                Err(Self::fail(data, format!("{value} is not defined")))
            }
            Some(slot) => Ok(slot),
        }
    }

    fn cipher(&self, data: &InstData, index: usize) -> Result<&B::Cipher, ExecError> {
        let value = *data
            .args
            .get(index)
            .ok_or_else(|| Self::fail(data, "missing operand"))?;
        match self.slot(data, value)? {
            Slot::Cipher(c) => Ok(c),
            _ => Err(Self::fail(data, format!("{value} is not a ciphertext"))),
        }
    }

    fn plain(&self, data: &InstData, index: usize) -> Result<&B::Plain, ExecError> {
        let value = *data
            .args
            .get(index)
            .ok_or_else(|| Self::fail(data, "missing operand"))?;
        match self.slot(data, value)? {
            Slot::Plain(p) => Ok(p),
            _ => Err(Self::fail(data, format!("{value} is not a plaintext"))),
        }
    }

    fn result_type(&self, data: &InstData) -> Result<&Type, ExecError> {
        data.results
            .first()
            .and_then(|&v| self.program.value_type(v))
            .ok_or_else(|| Self::fail(data, "result has no type"))
    }

    fn define(&mut self, data: &InstData, value: Value, slot: Slot<B>) -> Result<(), ExecError> {
        let index = value.as_u32() as usize;
        match self.slots.get_mut(index) {
            Some(s @ Slot::Empty) => {
                *s = slot;
                Ok(())
            }
            _ => Err(Self::fail(data, format!("{value} is defined twice"))),
        }
    }
}

fn backend_error<E: std::error::Error + Send + Sync + 'static>(
    data: &InstData,
) -> impl FnOnce(E) -> ExecError + '_ {
    move |e| ExecError::Backend {
        inst: inst_text(data),
        source: Box::new(e),
    }
}

/// Watches a run: told of every instruction once it has executed.
pub trait Observer<C> {
    /// The instruction at `position` (program order, counting from 0) has run and defined
    /// the ciphertexts `results` (empty for instructions that define none or only plaintexts).
    fn executed(&mut self, position: usize, data: &InstData, results: &[(Value, &C)]);
}

/// An observer that watches nothing.
impl<C> Observer<C> for () {
    fn executed(&mut self, _: usize, _: &InstData, _: &[(Value, &C)]) {}
}

/// Runs `program` on `backend` with `inputs` bound by name and plaintext recipes materialised
/// by `plaintexts`; returns the outputs by name. Every declared input must be bound, and only
/// those.
pub fn run<B: Backend>(
    program: &Program,
    backend: &mut B,
    inputs: BTreeMap<String, B::Cipher>,
    plaintexts: &dyn PlaintextSource,
) -> Result<BTreeMap<String, B::Cipher>, ExecError> {
    run_observed(program, backend, inputs, plaintexts, &mut ())
}

/// [`run`], telling `observer` of each instruction as it completes.
pub fn run_observed<B: Backend>(
    program: &Program,
    backend: &mut B,
    mut inputs: BTreeMap<String, B::Cipher>,
    plaintexts: &dyn PlaintextSource,
    observer: &mut dyn Observer<B::Cipher>,
) -> Result<BTreeMap<String, B::Cipher>, ExecError> {
    if let Some(extra) = inputs
        .keys()
        .find(|name| !program.inputs().any(|(spec, _)| &spec.name == *name))
    {
        return Err(ExecError::UnknownInput(extra.clone()));
    }
    let mut state = State::<B> {
        program,
        slots: (0..program.value_count()).map(|_| Slot::Empty).collect(),
    };
    let mut outputs = BTreeMap::new();
    let last_use = last_uses(program);
    for (position, (_, data)) in program.instructions().enumerate() {
        let fail = |message: &str| State::<B>::fail(data, message);
        let results: Vec<Slot<B>> = match (data.opcode, &data.imm) {
            (Opcode::Input, Immediate::Io(spec)) => {
                let x = inputs
                    .remove(&spec.name)
                    .ok_or_else(|| ExecError::MissingInput(spec.name.clone()))?;
                let ty = state.result_type(data)?;
                backend.check_input(&x, ty).map_err(backend_error(data))?;
                vec![Slot::Cipher(x)]
            }
            (Opcode::Output, Immediate::Io(spec)) => {
                outputs.insert(spec.name.clone(), state.cipher(data, 0)?.clone());
                Vec::new()
            }
            (Opcode::Plain, Immediate::Recipe(recipe)) => {
                let ty = state.result_type(data)?;
                let values = plaintexts
                    .slots(recipe, ty.slots as usize)
                    .map_err(|source| ExecError::Recipe {
                        inst: inst_text(data),
                        source,
                    })?;
                vec![Slot::Plain(
                    backend.encode(values, ty).map_err(backend_error(data))?,
                )]
            }
            (Opcode::Free, _) => {
                let value = *data.args.first().ok_or_else(|| fail("missing operand"))?;
                // A value already dropped after its last use is simply recorded as freed;
                // anything else must be live (undefined values and double frees are errors).
                if !matches!(state.slots.get(value.as_u32() as usize), Some(Slot::Dead)) {
                    state.slot(data, value)?;
                }
                state.slots[value.as_u32() as usize] = Slot::Freed;
                Vec::new()
            }
            (Opcode::RotateHoisted, Immediate::Offsets(ks)) => {
                let ty = state.result_type(data)?;
                let a = state.cipher(data, 0)?;
                let rotated = backend
                    .rotate_hoisted(a, ks, ty)
                    .map_err(backend_error(data))?;
                if rotated.len() != data.results.len() {
                    return Err(fail("the backend returned the wrong number of rotations"));
                }
                rotated.into_iter().map(Slot::Cipher).collect()
            }
            (opcode, imm) => {
                let ty = state.result_type(data)?;
                let a = state.cipher(data, 0)?;
                let value = match (opcode, imm) {
                    (Opcode::Add, _) => backend.add(a, state.cipher(data, 1)?, ty),
                    (Opcode::Sub, _) => backend.sub(a, state.cipher(data, 1)?, ty),
                    (Opcode::Mul, _) => backend.mul(a, state.cipher(data, 1)?, ty),
                    (Opcode::Neg, _) => backend.neg(a, ty),
                    (Opcode::AddPlain, _) => backend.add_plain(a, state.plain(data, 1)?, ty),
                    (Opcode::MulPlain, _) => backend.mul_plain(a, state.plain(data, 1)?, ty),
                    (Opcode::MulConst, Immediate::ScaledConst(c)) => {
                        backend.mul_const(a, c.value, &c.scale, ty)
                    }
                    (Opcode::AddConst, Immediate::Const(c)) => backend.add_const(a, *c, ty),
                    (Opcode::Rotate, Immediate::Offset(k)) => backend.rotate(a, *k, ty),
                    (Opcode::Conjugate, _) => backend.conjugate(a, ty),
                    (Opcode::Rescale, _) => backend.rescale(a, ty),
                    (Opcode::LevelDown, _) => backend.level_down(a, ty),
                    (Opcode::Bootstrap, _) => backend.bootstrap(a, ty),
                    _ => return Err(fail("immediate does not match the opcode")),
                };
                vec![Slot::Cipher(value.map_err(backend_error(data))?)]
            }
        };
        if results.len() != data.results.len() {
            return Err(fail("result count does not match the opcode"));
        }
        for (&value, slot) in data.results.iter().zip(results) {
            state.define(data, value, slot)?;
        }
        let defined: Vec<(Value, &B::Cipher)> = data
            .results
            .iter()
            .filter_map(|&value| match state.slots.get(value.as_u32() as usize) {
                Some(Slot::Cipher(c)) => Some((value, c)),
                _ => None,
            })
            .collect();
        observer.executed(position, data, &defined);
        // Drop what no later instruction reads (memory stays bounded without `free`s).
        for &arg in &data.args {
            let index = arg.as_u32() as usize;
            if last_use.get(index).copied().flatten() == Some(position)
                && let Some(slot @ (Slot::Cipher(_) | Slot::Plain(_))) = state.slots.get_mut(index)
            {
                *slot = Slot::Dead;
            }
        }
    }
    Ok(outputs)
}
