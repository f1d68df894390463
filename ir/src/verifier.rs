//! The verifier: checks a program against the IR's rules and reports **every** violation,
//! each with the instruction handle, its printed form and a message, e.g.
//! `op12 (%7 = rescale %5): level 0 cannot be rescaled`.
//!
//! Rules (each has a `test verify` filetest under `ir/tests/filetests/verify/`):
//!
//! 1. **Defined before use**: every operand is defined by an instruction earlier in the
//!    program order (`use_before_def.fhir`, `undefined_value.fhir`).
//! 2. **Single definition**: no value is defined twice (`double_definition.fhir`).
//! 3. **Operand types**: operand count and kind (ct/pt) as the op table says, equal slot
//!    counts, the immediate of the op's shape (`operand_kind.fhir`, `slot_mismatch.fhir`).
//! 4. **Result types**: every result's type is the one the op's rule gives, and declared types
//!    (inputs, plaintexts) are well formed (`result_type.fhir`, `declared_type.fhir`).
//! 5. **Levels**: binary ops (ct×ct and ct×pt) need equal levels; `rescale` needs level ≥ 1
//!    and divides the scale by `q_level`; `level_down` only lowers (`level_mismatch.fhir`,
//!    `rescale_level_zero.fhir`, `level_down_raise.fhir`, `rescale_scale.fhir`).
//! 6. **Scales**: `add`, `sub`, `add_plain` need exactly equal scales; multiplications
//!    multiply them; constants are finite (`scale_mismatch.fhir`, `plain_scale.fhir`).
//! 7. **Keys**: every rotation offset has a key in the program's key set, `conjugate` needs
//!    the conjugation key and `mul` the relinearisation key, each with a level cap at least
//!    the operand's level; offsets are non-zero, below the slot count and distinct in a group
//!    (`missing_rotation_key.fhir`, `missing_conjugation_key.fhir`, `rotation_offset.fhir`).
//! 8. **Bootstrap**: the program declares a bootstrapping configuration; the operand is at its
//!    input level and scale; the result has its output level and scale (`bootstrap_*.fhir`).
//! 9. **Free**: no use of a value after its `free`, no second `free` (`use_after_free.fhir`,
//!    `double_free.fhir`).
//! 10. **Interface**: at least one `output`; input names and output names unique
//!     (`no_output.fhir`, `duplicate_io_name.fhir`).
//!
//! 11. **Chain** (only [`verify_with`] given [`ChainFacts`]): every value's level, key cap and
//!     the bootstrap levels are within the chain; slot counts are at most `N/2`; plaintext
//!     and constant encoding scales are at least 1; every scale leaves the headroom below `Q_l` of its level
//!     (`ir/tests/chain_facts.rs`).
//!
//! Errors that concern the program as a whole (rule 10's "no output") have no instruction.

use crate::chain::ChainFacts;
use crate::entity::{Inst, Value};
use crate::ops::{Immediate, KeyNeed, Opcode};
use crate::printer::inst_text;
use crate::program::{InstData, Program};
use crate::rules::{RuleCtx, type_instruction};
use crate::types::Type;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// One rule violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierError {
    /// The offending instruction (`None` for program-level errors).
    pub inst: Option<Inst>,
    /// The instruction as printed, without its type (empty for program-level errors).
    pub printed: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for VerifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inst {
            Some(inst) => write!(f, "{inst} ({}): {}", self.printed, self.message),
            None => write!(f, "program: {}", self.message),
        }
    }
}

/// All violations found in one program (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} verifier error(s):\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct VerifierErrors(pub Vec<VerifierError>);

/// Checks every rule listed in the module documentation and returns all violations.
pub fn verify(program: &Program) -> Result<(), VerifierErrors> {
    verify_with(program, None)
}

/// [`verify`], plus rule 11 when the modulus chain is known (see [`ChainFacts`]).
pub fn verify_with(program: &Program, chain: Option<&ChainFacts>) -> Result<(), VerifierErrors> {
    let mut v = Verifier {
        program,
        errors: Vec::new(),
    };
    v.run();
    if let Some(chain) = chain {
        v.check_chain(chain);
    }
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(VerifierErrors(v.errors))
    }
}

/// What the walk over the program order has seen so far.
#[derive(Default)]
struct Scope {
    /// The first definition of every value anywhere in the program.
    definitions: HashMap<Value, Inst>,
    /// Values defined by an instruction already walked.
    defined: HashMap<Value, Inst>,
    /// Values freed so far, by the `free` that freed them.
    freed: HashMap<Value, Inst>,
    /// Input and output names taken so far.
    names: HashMap<(Opcode, String), Inst>,
}

struct Verifier<'a> {
    program: &'a Program,
    errors: Vec<VerifierError>,
}

impl Verifier<'_> {
    fn report(&mut self, inst: Inst, message: impl Into<String>) {
        let printed = self.program.inst(inst).map(inst_text).unwrap_or_default();
        self.errors.push(VerifierError {
            inst: Some(inst),
            printed,
            message: message.into(),
        });
    }

    fn run(&mut self) {
        let program = self.program;
        let mut scope = Scope {
            definitions: all_definitions(program),
            ..Scope::default()
        };
        let mut outputs = 0;
        for (inst, data) in program.instructions() {
            self.check_lifetimes(inst, data, &mut scope);
            self.check_names(inst, data, &mut scope.names);
            outputs += usize::from(data.opcode == Opcode::Output);
            self.check_types(inst);
            self.check_keys(inst);
        }
        if outputs == 0 {
            let message = "the program has no output".to_string();
            self.errors.push(VerifierError {
                inst: None,
                printed: String::new(),
                message,
            });
        }
    }

    /// Rules 1, 2 and 9: operands defined earlier and not freed; results defined once.
    fn check_lifetimes(&mut self, inst: Inst, data: &InstData, scope: &mut Scope) {
        for &arg in &data.args {
            let message = if let Some(free) = scope.freed.get(&arg) {
                if data.opcode == Opcode::Free {
                    format!("{arg} is freed twice (first by {free})")
                } else {
                    format!("{arg} is used after it is freed by {free}")
                }
            } else if scope.defined.contains_key(&arg) {
                continue;
            } else if let Some(def) = scope.definitions.get(&arg) {
                format!("{arg} is used before its definition by {def}")
            } else {
                format!("{arg} is never defined")
            };
            self.report(inst, message);
        }
        if data.opcode == Opcode::Free {
            scope.freed.extend(data.args.iter().map(|&a| (a, inst)));
        }
        for &result in &data.results {
            match scope.defined.entry(result) {
                Entry::Occupied(first) => self.report(
                    inst,
                    format!("{result} is already defined by {}", first.get()),
                ),
                Entry::Vacant(slot) => {
                    slot.insert(inst);
                }
            }
        }
    }

    /// Rule 10: input names and output names are unique.
    fn check_names(
        &mut self,
        inst: Inst,
        data: &InstData,
        names: &mut HashMap<(Opcode, String), Inst>,
    ) {
        let Immediate::Io(spec) = &data.imm else {
            return;
        };
        match names.entry((data.opcode, spec.name.clone())) {
            Entry::Occupied(first) => {
                let (op, name, first) = (data.opcode.mnemonic(), &spec.name, first.get());
                self.report(
                    inst,
                    format!("{op} name {name:?} is already used by {first}"),
                );
            }
            Entry::Vacant(slot) => {
                slot.insert(inst);
            }
        }
    }

    fn check_types(&mut self, inst: Inst) {
        let program = self.program;
        let Some(data) = program.inst(inst) else {
            return;
        };
        // An operand without a type is undefined, which rule 1 reports already.
        let Some(args) = data
            .args
            .iter()
            .map(|&a| program.value_type(a))
            .collect::<Option<Vec<&Type>>>()
        else {
            return;
        };
        let Some(results) = data
            .results
            .iter()
            .map(|&r| program.value_type(r).cloned())
            .collect::<Option<Vec<Type>>>()
        else {
            return self.report(inst, "a result has no type");
        };
        let ctx = RuleCtx {
            bootstrap: program.bootstrap.as_ref(),
        };
        let expected = match type_instruction(&ctx, data.opcode, &args, &data.imm, &results) {
            Ok(expected) => expected,
            Err(message) => return self.report(inst, message),
        };
        if expected.len() != results.len() {
            return self.report(
                inst,
                format!(
                    "defines {} result(s), the op gives {}",
                    results.len(),
                    expected.len()
                ),
            );
        }
        for ((result, ty), want) in data.results.iter().zip(&results).zip(&expected) {
            if ty != want {
                self.report(
                    inst,
                    format!("{result} is declared {ty}, but the op gives {want}"),
                );
            }
        }
    }

    fn check_keys(&mut self, inst: Inst) {
        let Some(data) = self.program.inst(inst) else {
            return;
        };
        let level = data
            .args
            .first()
            .and_then(|&a| self.program.value_type(a))
            .map(|ty| ty.level);
        let keys = &self.program.keys;
        let mut problems = Vec::new();
        let mut check = |what: String, cap: Option<u32>| match (cap, level) {
            (None, _) => problems.push(format!("no {what} in the key set")),
            (Some(cap), Some(level)) if level > cap => problems.push(format!(
                "the {what} serves levels up to {cap}, used at level {level}"
            )),
            _ => {}
        };
        match data.opcode.key() {
            KeyNeed::Rotation => {
                for &k in data.imm.offsets() {
                    check(
                        format!("rotation key for offset {k}"),
                        keys.rotations.get(&k).copied(),
                    );
                }
            }
            KeyNeed::Conjugation => check("conjugation key".into(), keys.conjugation),
            KeyNeed::Relinearization => check("relinearisation key".into(), keys.relinearization),
            KeyNeed::None | KeyNeed::Bootstrapping => {}
        }
        for problem in problems {
            self.report(inst, problem);
        }
    }
}

impl Verifier<'_> {
    fn report_program(&mut self, message: String) {
        self.errors.push(VerifierError {
            inst: None,
            printed: String::new(),
            message,
        });
    }

    /// Rule 11: the program fits the modulus chain.
    fn check_chain(&mut self, chain: &ChainFacts) {
        let program = self.program;
        let Some(top) = chain.max_level() else {
            return self.report_program("the modulus chain has no prime".into());
        };
        let keys = &program.keys;
        let caps = keys
            .rotations
            .iter()
            .map(|(k, &cap)| (format!("rotation key {k}"), cap))
            .chain(keys.conjugation.map(|c| ("conjugation key".to_string(), c)))
            .chain(
                keys.relinearization
                    .map(|c| ("relinearisation key".to_string(), c)),
            );
        for (what, cap) in caps {
            if cap > top {
                self.report_program(format!(
                    "the {what} is capped at level {cap}, above the chain's top level {top}"
                ));
            }
        }
        if let Some(spec) = &program.bootstrap {
            for (what, level) in [("input", spec.input_level), ("output", spec.output_level)] {
                if level > top {
                    self.report_program(format!(
                        "the bootstrap {what} level {level} is above the chain's top level {top}"
                    ));
                }
            }
        }
        for (inst, data) in program.instructions() {
            for &result in &data.results {
                if let Some(ty) = program.value_type(result)
                    && let Some(problem) = type_problem(ty, chain, top)
                {
                    self.report(inst, format!("{result}: {problem}"));
                }
            }
            if let Immediate::ScaledConst(constant) = &data.imm {
                match chain.log2_scale(&constant.scale) {
                    Err(message) => self.report(inst, message),
                    Ok(bits) if bits < 0.0 => self.report(
                        inst,
                        format!(
                            "constant scale {} is below 1 (2^{bits:.1}): the encoder cannot \
                             represent it",
                            constant.scale
                        ),
                    ),
                    Ok(_) => {}
                }
            }
        }
    }
}

/// Why a value of type `ty` cannot exist on this chain, if so.
fn type_problem(ty: &Type, chain: &ChainFacts, top: u32) -> Option<String> {
    if ty.level > top {
        return Some(format!(
            "level {} is above the chain's top level {top}",
            ty.level
        ));
    }
    if ty.slots > chain.max_slots {
        return Some(format!(
            "{} slots exceed the ring's {} (N/2)",
            ty.slots, chain.max_slots
        ));
    }
    let bits = match chain.log2_scale(&ty.scale) {
        Ok(bits) => bits,
        Err(message) => return Some(message),
    };
    if !ty.is_cipher() && bits < 0.0 {
        return Some(format!(
            "plaintext scale {} is below 1 (2^{bits:.1}): the encoder cannot represent it",
            ty.scale
        ));
    }
    let modulus = chain.log2_modulus(ty.level)?;
    if bits + chain.headroom_bits > modulus {
        return Some(format!(
            "scale {} (2^{bits:.1}) leaves less than {} bit(s) below Q_{} = 2^{modulus:.1}",
            ty.scale, chain.headroom_bits, ty.level
        ));
    }
    None
}

/// The first instruction (in program order) defining each value.
fn all_definitions(program: &Program) -> HashMap<Value, Inst> {
    let mut seen = HashSet::new();
    let mut defs = HashMap::new();
    for (inst, data) in program.instructions() {
        for &r in &data.results {
            if seen.insert(r) {
                defs.insert(r, inst);
            }
        }
    }
    defs
}
