//! Value factors: what each lowered tensor's slots hold relative to the tensor itself.
//!
//! A lowered value holds `factor · x + offset` on its element slots, where `x` is the tensor
//! the model computes. Factors are how the range normalisation of an activation (`t = αx + β`,
//! `docs/plans/lowering.md` §3.3) costs no level: the producer writes `t` directly.
//!
//! - a linear map absorbs any input factor (its weights are divided by it) and writes any
//!   output factor and offset (its weights and bias are multiplied, the offset added to its
//!   bias plaintext);
//! - an activation writes any output factor (its last polynomial stage is multiplied by it);
//! - an input is packed by the client with any factor and offset;
//! - an `Add` passes its wish to both operands (the offset to the first only).
//!
//! [`plan_factors`] runs backwards over the graph and records, per node, the factor and offset
//! its readers want ([`Wish`]): an activation wants its input map `(α, β)` (when folded), an
//! `Add` or `Flatten` passes on what its own readers want, the graph output wants `(1, 0)`,
//! linear maps want nothing. When readers disagree the first wish wins and the lowering
//! converts the value for the others with a `mul_const`/`add_const` (one level, on that
//! path only); ResNet-20 needs no such conversion.

use crate::graph::{TensorGraph, TensorOp};
use crate::poly::{ActivationApprox, InputMap};
use std::collections::BTreeMap;

/// A factor and offset: slots hold `factor · x + offset` on element slots.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Wish {
    /// Multiplies the tensor.
    pub factor: f64,
    /// Added on element slots.
    pub offset: f64,
}

impl Wish {
    /// The tensor itself.
    pub const IDENTITY: Wish = Wish {
        factor: 1.0,
        offset: 0.0,
    };
}

/// The input map an activation's evaluation expects of its input value.
pub fn activation_input(approx: &ActivationApprox) -> Wish {
    match approx.input_map {
        InputMap::Folded => {
            let (factor, offset) = approx.map_coefficients();
            Wish { factor, offset }
        }
        InputMap::Emitted => Wish::IDENTITY,
    }
}

/// Per node, what its readers want of its output; see the module documentation.
pub fn plan_factors(
    graph: &TensorGraph,
    approximations: &BTreeMap<String, ActivationApprox>,
) -> Vec<Option<Wish>> {
    let mut wants: Vec<Option<Wish>> = vec![None; graph.nodes.len()];
    wants[graph.output.index()] = Some(Wish::IDENTITY);
    for index in (0..graph.nodes.len()).rev() {
        let node = &graph.nodes[index];
        let own = wants[index];
        for (k, input) in node.inputs.iter().enumerate() {
            let wish = match &node.op {
                TensorOp::Activation(_) => approximations.get(&node.name).map(activation_input),
                TensorOp::Add => own.map(|w| Wish {
                    factor: w.factor,
                    offset: if k == 0 { w.offset } else { 0.0 },
                }),
                TensorOp::Flatten => own,
                _ => None,
            };
            let slot = &mut wants[input.index()];
            if slot.is_none() {
                *slot = wish;
            }
        }
    }
    wants
}
