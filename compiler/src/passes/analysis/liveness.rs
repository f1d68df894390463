//! Liveness and lifetimes: which instructions some output depends on (the rest is dead code),
//! how often each value is read, and where each value is last used in a given order (where
//! its `free` goes).

use crate::passes::dataflow::Dataflow;
use fhec_ir::{Inst, Opcode, Program, Value};
use std::collections::{HashMap, HashSet};

/// The instructions some output depends on. Inputs are always live (they are the program's
/// interface); `free`s never are (the schedule pass places its own).
pub fn live_instructions(dataflow: &Dataflow) -> HashSet<Inst> {
    let mut live = vec![false; dataflow.len()];
    for node in dataflow.nodes().rev() {
        live[node.index()] = match dataflow.data(node).opcode {
            Opcode::Input | Opcode::Output => true,
            Opcode::Free => false,
            _ => dataflow.consumers(node).iter().any(|c| live[c.index()]),
        };
    }
    dataflow
        .nodes()
        .filter(|node| live[node.index()])
        .map(|node| dataflow.inst(node))
        .collect()
}

/// How many times each value is read by an instruction other than `free` (a value read twice
/// by one instruction counts twice).
pub fn read_counts(dataflow: &Dataflow) -> HashMap<Value, usize> {
    let mut reads = HashMap::new();
    for node in dataflow.nodes() {
        let data = dataflow.data(node);
        if data.opcode == Opcode::Free {
            continue;
        }
        for &a in &data.args {
            *reads.entry(a).or_insert(0) += 1;
        }
    }
    reads
}

/// For the instructions of `program` in `order`: the position of the last one defining or
/// reading each value (a value nobody reads is last used where it is defined).
pub fn last_uses(program: &Program, order: &[Inst]) -> HashMap<Value, usize> {
    let mut last_use = HashMap::new();
    for (position, &inst) in order.iter().enumerate() {
        let Some(data) = program.inst(inst) else {
            continue;
        };
        for &v in data.results.iter().chain(&data.args) {
            last_use.insert(v, position);
        }
    }
    last_use
}
