//! Analyses of the unscheduled program the levels pass needs before rebuilding it: which
//! instructions some output depends on, and which values flow into a bootstrap.

use super::is_exact_integer;
use fhec_ir::{Immediate, Inst, Opcode, Program, Scale, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The instructions some output depends on (inputs are kept as the program's interface;
/// `free`s are dropped, the schedule pass places its own).
pub(super) fn live_instructions(program: &Program) -> HashSet<Inst> {
    let mut needed: HashSet<Value> = HashSet::new();
    let mut live = HashSet::new();
    let order: Vec<_> = program.instructions().collect();
    for (inst, data) in order.into_iter().rev() {
        let keep = match data.opcode {
            Opcode::Input | Opcode::Output => true,
            Opcode::Free => false,
            _ => data.results.iter().any(|r| needed.contains(r)),
        };
        if keep {
            live.insert(inst);
            needed.extend(&data.args);
        }
    }
    live
}

/// The values whose scale reaches a bootstrap unchanged (through additions, negation,
/// rotations, constant additions and exact integer products), each with the bootstrap's input
/// scale: if their pending sums land on it, the bootstrap's input needs no scale fix.
pub(super) fn scale_targets(
    program: &Program,
    bootstraps: &BTreeSet<Value>,
    input_scale: &Scale,
) -> HashMap<Value, Scale> {
    let mut definitions = HashMap::new();
    let mut roots: Vec<Value> = bootstraps.iter().copied().collect();
    for (_, data) in program.instructions() {
        for &r in &data.results {
            definitions.insert(r, data);
        }
        if data.opcode == Opcode::Bootstrap {
            roots.extend(&data.args);
        }
    }
    let mut targets = HashMap::new();
    while let Some(v) = roots.pop() {
        if targets.insert(v, input_scale.clone()).is_some() {
            continue;
        }
        let Some(data) = definitions.get(&v) else {
            continue;
        };
        let transparent = match (&data.opcode, &data.imm) {
            (Opcode::MulConst, Immediate::ScaledConst(c)) => is_exact_integer(c.value),
            (op, _) => matches!(
                op,
                Opcode::Add
                    | Opcode::Sub
                    | Opcode::Neg
                    | Opcode::AddConst
                    | Opcode::AddPlain
                    | Opcode::Rotate
                    | Opcode::RotateHoisted
                    | Opcode::Conjugate
                    | Opcode::Rescale
                    | Opcode::LevelDown
            ),
        };
        if transparent {
            roots.extend(
                data.args
                    .iter()
                    .filter(|&&a| program.value_type(a).is_some_and(fhec_ir::Type::is_cipher)),
            );
        }
    }
    targets
}
