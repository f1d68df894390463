//! Scale flow into bootstraps: the values whose scale reaches a bootstrap unchanged, so that
//! the levels pass can encode their products to land exactly on the bootstrap's input scale
//! (no scale fix before a bootstrap of a folded activation input).

use crate::passes::dataflow::Dataflow;
use crate::passes::levels::is_exact_integer;
use fhec_ir::{Immediate, Opcode, Scale, Value};
use std::collections::{BTreeSet, HashMap};

/// The values whose scale reaches a bootstrap unchanged (through additions, negation,
/// rotations, constant additions and exact integer products), each with the bootstrap's input
/// scale: if their pending sums land on it, the bootstrap's input needs no scale fix. The
/// bootstraps are the values of `bootstraps` and the operands of `bootstrap` instructions.
pub fn scale_targets(
    dataflow: &Dataflow,
    bootstraps: &BTreeSet<Value>,
    input_scale: &Scale,
) -> HashMap<Value, Scale> {
    let program = dataflow.program();
    let mut roots: Vec<Value> = bootstraps.iter().copied().collect();
    for node in dataflow.nodes() {
        let data = dataflow.data(node);
        if data.opcode == Opcode::Bootstrap {
            roots.extend(&data.args);
        }
    }
    let mut targets = HashMap::new();
    while let Some(v) = roots.pop() {
        if targets.insert(v, input_scale.clone()).is_some() {
            continue;
        }
        let Some(data) = dataflow.definer(v).map(|node| dataflow.data(node)) else {
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
