//! Bootstrap candidates: the values a `mul x, x` squares, and among them the *activation
//! inputs*.
//!
//! A squared value is bounded (the lowering normalises every activation input into
//! `[-1, 1]`), which is what the bootstrap's modular reduction needs; *junk* values (a
//! rotate-and-sum's garbage slots) only ever feed linear maps and are never squared, so they
//! are never candidates (`docs/plans/lowering.md` §1.1, §4). A candidate computed from a
//! ciphertext product through additions and constants only is *interior* to a polynomial (a
//! Chebyshev power); the others are activation inputs, where a bootstrap spends its refreshed
//! levels on the whole activation.

use crate::passes::dataflow::Dataflow;
use fhec_ir::{Opcode, Value};
use std::collections::HashSet;

/// The bootstrap candidates of one program; see the module documentation.
pub struct Candidates {
    /// Squared values.
    squared: HashSet<Value>,
    /// Values computed from a `mul` result through additions and constants only.
    interior: HashSet<Value>,
}

impl Candidates {
    /// The candidates of the program `dataflow` was built from.
    pub fn new(dataflow: &Dataflow) -> Self {
        let mut candidates = Candidates {
            squared: HashSet::new(),
            interior: HashSet::new(),
        };
        for node in dataflow.nodes() {
            let data = dataflow.data(node);
            if data.opcode == Opcode::Mul && data.args[0] == data.args[1] {
                candidates.squared.insert(data.args[0]);
            }
            let interior = match data.opcode {
                Opcode::Mul => true,
                Opcode::Add
                | Opcode::Sub
                | Opcode::Neg
                | Opcode::AddConst
                | Opcode::MulConst
                | Opcode::Rescale
                | Opcode::LevelDown => data.args.iter().all(|a| candidates.interior.contains(a)),
                _ => false,
            };
            if interior {
                candidates.interior.extend(&data.results);
            }
        }
        candidates
    }

    /// Whether `value` may be bootstrapped (it is squared somewhere).
    pub fn contains(&self, value: Value) -> bool {
        self.squared.contains(&value)
    }

    /// Whether `value` is a candidate that starts an activation (not computed from a product
    /// of the same polynomial).
    pub fn is_activation_input(&self, value: Value) -> bool {
        self.contains(value) && !self.interior.contains(&value)
    }
}
