//! Arithmetic circuits over one ciphertext input: the single description of how an
//! approximation is evaluated, read both by the `f64` evaluator and by the IR emitter.
//!
//! A [`Circuit`] is a straight-line list of [`Step`]s (`add`, `sub`, `mul`, `mul_const`,
//! `add_const` over earlier nodes; node 0 is the input). Because `fhec plain --approx` runs
//! [`Circuit::eval_slice`] and the lowering emits exactly these steps in this order, the tensor
//! level and the clear backend perform the same `f64` operations and agree bit for bit.
//!
//! Every node carries two numbers that the IR's exact-scale typing needs (see `emit.rs`):
//!
//! - its **scale exponent** `e`: without rescales, the node's scale is `s^e` where `s` is the
//!   input's scale. `mul` adds exponents, `mul_const c @ s^j` adds `j`, additions need equal
//!   exponents. Real constants are always encoded at `s^j` with `j ≥ 1`; integer constants
//!   (the `1.0` that aligns a recurrence's subtrahend, the `2` of a doubling) may use any `j`.
//! - its **multiplicative depth**: the levels a rescaling evaluation consumes to produce it.
//!   `mul` gives `max + 1`; `mul_const` by a non-integer gives `+1`; an integer `mul_const`
//!   (exact, needs no rescale: the levels pass replaces a `1.0` by a `level_down`), the adds
//!   and `add_const` give the maximum of their operands.

use serde::{Deserialize, Serialize};

/// Index of a node in its circuit (node 0 is the input).
pub type NodeId = usize;

/// One operation of a circuit.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub enum Step {
    /// The input ciphertext (node 0 only).
    Input,
    /// `a + b` (equal scale exponents).
    Add(NodeId, NodeId),
    /// `a − b` (equal scale exponents).
    Sub(NodeId, NodeId),
    /// `a · b`, a ciphertext product.
    Mul(NodeId, NodeId),
    /// `value · a`, the constant encoded at scale `s^scale_exp`.
    MulConst {
        /// The operand.
        arg: NodeId,
        /// The constant.
        value: f64,
        /// Exponent of the input scale the constant is encoded at.
        scale_exp: u32,
    },
    /// `a + value`, the constant encoded at the operand's scale.
    AddConst {
        /// The operand.
        arg: NodeId,
        /// The constant.
        value: f64,
    },
}

/// A step with its scale exponent and depth.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Node {
    /// The operation.
    pub step: Step,
    /// The node's scale is the input scale to this power.
    pub scale_exp: u32,
    /// Levels consumed from the input to this node.
    pub depth: u32,
}

/// Operation counts of a circuit, for cost tables and `--stats`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct OpCounts {
    /// Ciphertext × ciphertext products (each needs a relinearisation).
    pub mul: u32,
    /// Constant products (`mul_const`).
    pub mul_const: u32,
    /// Additions and subtractions of ciphertexts.
    pub add: u32,
    /// Constant additions.
    pub add_const: u32,
}

/// A straight-line circuit with one input and one output; see the module documentation.
#[derive(Clone, PartialEq, Debug)]
pub struct Circuit {
    nodes: Vec<Node>,
    output: NodeId,
}

/// Values per chunk in [`Circuit::eval_slice`] (bounds the scratch memory).
const CHUNK: usize = 256;

fn is_integer(value: f64) -> bool {
    value.fract() == 0.0
}

impl Circuit {
    /// A circuit holding only its input (which is also its output until [`Self::set_output`]).
    pub fn new() -> Self {
        Circuit {
            nodes: vec![Node {
                step: Step::Input,
                scale_exp: 1,
                depth: 0,
            }],
            output: 0,
        }
    }

    /// The input node.
    pub const INPUT: NodeId = 0;

    /// The nodes, in evaluation order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The output node.
    pub fn output(&self) -> NodeId {
        self.output
    }

    /// Makes `node` the output.
    pub fn set_output(&mut self, node: NodeId) {
        self.output = node;
    }

    /// The node `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Multiplicative depth of the output.
    pub fn depth(&self) -> u32 {
        self.nodes[self.output].depth
    }

    /// Counts of each kind of operation.
    pub fn counts(&self) -> OpCounts {
        let mut counts = OpCounts::default();
        for node in &self.nodes {
            match node.step {
                Step::Input => {}
                Step::Add(..) | Step::Sub(..) => counts.add += 1,
                Step::Mul(..) => counts.mul += 1,
                Step::MulConst { .. } => counts.mul_const += 1,
                Step::AddConst { .. } => counts.add_const += 1,
            }
        }
        counts
    }

    fn push(&mut self, step: Step, scale_exp: u32, depth: u32) -> NodeId {
        self.nodes.push(Node {
            step,
            scale_exp,
            depth,
        });
        self.nodes.len() - 1
    }

    fn same_scale(&self, op: &str, a: NodeId, b: NodeId) -> u32 {
        let (ea, eb) = (self.nodes[a].scale_exp, self.nodes[b].scale_exp);
        assert_eq!(
            ea, eb,
            "{op} of nodes {a} and {b} at scale exponents {ea} and {eb}"
        );
        ea
    }

    /// `a + b`; both must have the same scale exponent (a construction invariant).
    pub fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let e = self.same_scale("add", a, b);
        let depth = self.nodes[a].depth.max(self.nodes[b].depth);
        self.push(Step::Add(a, b), e, depth)
    }

    /// `a − b`; both must have the same scale exponent.
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let e = self.same_scale("sub", a, b);
        let depth = self.nodes[a].depth.max(self.nodes[b].depth);
        self.push(Step::Sub(a, b), e, depth)
    }

    /// `a · b`.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        let (na, nb) = (self.nodes[a], self.nodes[b]);
        self.push(
            Step::Mul(a, b),
            na.scale_exp + nb.scale_exp,
            na.depth.max(nb.depth) + 1,
        )
    }

    /// `value · a` with the constant encoded at `s^scale_exp`; a non-integer constant needs
    /// `scale_exp ≥ 1` (it would round to an integer at scale 1).
    pub fn mul_const(&mut self, arg: NodeId, value: f64, scale_exp: u32) -> NodeId {
        assert!(value.is_finite(), "mul_const by {value}");
        let integer = is_integer(value);
        assert!(
            integer || scale_exp >= 1,
            "non-integer constant {value} at scale exponent 0"
        );
        let n = self.nodes[arg];
        self.push(
            Step::MulConst {
                arg,
                value,
                scale_exp,
            },
            n.scale_exp + scale_exp,
            n.depth + u32::from(!integer),
        )
    }

    /// `a + value`.
    pub fn add_const(&mut self, arg: NodeId, value: f64) -> NodeId {
        assert!(value.is_finite(), "add_const of {value}");
        let n = self.nodes[arg];
        self.push(Step::AddConst { arg, value }, n.scale_exp, n.depth)
    }

    /// `a` brought up to scale exponent `target` by an exact `1.0 @ s^k` product (no level).
    pub fn align(&mut self, arg: NodeId, target: u32) -> NodeId {
        let e = self.nodes[arg].scale_exp;
        assert!(
            e <= target,
            "cannot lower node {arg} from scale exponent {e} to {target}"
        );
        if e == target {
            arg
        } else {
            self.mul_const(arg, 1.0, target - e)
        }
    }

    /// Evaluates the circuit at one point.
    pub fn eval(&self, x: f64) -> f64 {
        let mut value = [x];
        self.eval_slice(&mut value);
        value[0]
    }

    /// Replaces every element of `xs` by the circuit's output at it, doing per element exactly
    /// the operations of the emitted IR, in the same order.
    pub fn eval_slice(&self, xs: &mut [f64]) {
        let mut scratch = vec![0.0; self.nodes.len() * CHUNK.min(xs.len())];
        for chunk in xs.chunks_mut(CHUNK) {
            let width = chunk.len();
            let row = |id: NodeId| id * width..(id + 1) * width;
            scratch[row(0)].copy_from_slice(chunk);
            for (id, node) in self.nodes.iter().enumerate().skip(1) {
                let (done, rest) = scratch.split_at_mut(id * width);
                let out = &mut rest[..width];
                let arg = |a: NodeId| &done[a * width..(a + 1) * width];
                match node.step {
                    Step::Input => unreachable!("the input is node 0 only"),
                    Step::Add(a, b) => zip_into(out, arg(a), arg(b), |x, y| x + y),
                    Step::Sub(a, b) => zip_into(out, arg(a), arg(b), |x, y| x - y),
                    Step::Mul(a, b) => zip_into(out, arg(a), arg(b), |x, y| x * y),
                    Step::MulConst { arg: a, value, .. } => {
                        out.iter_mut().zip(arg(a)).for_each(|(o, x)| *o = x * value)
                    }
                    Step::AddConst { arg: a, value } => {
                        out.iter_mut().zip(arg(a)).for_each(|(o, x)| *o = x + value)
                    }
                }
            }
            chunk.copy_from_slice(&scratch[row(self.output)]);
        }
    }
}

fn zip_into(out: &mut [f64], a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

impl Default for Circuit {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_exponents_and_depths_follow_the_rules() {
        let mut c = Circuit::new();
        let x = Circuit::INPUT;
        let sq = c.mul(x, x);
        let two_sq = c.add(sq, sq);
        let t2 = c.add_const(two_sq, -1.0);
        let lifted = c.align(x, 2);
        let half = c.mul_const(t2, 0.5, 1);
        assert_eq!(c.node(t2).scale_exp, 2);
        assert_eq!(c.node(t2).depth, 1);
        assert_eq!(c.node(lifted).depth, 0, "an integer lift costs no level");
        assert_eq!(c.node(half).scale_exp, 3);
        assert_eq!(c.node(half).depth, 2);
        c.set_output(half);
        assert_eq!(c.eval(0.5), 0.5 * (2.0 * 0.25 - 1.0));
        let mut xs = vec![0.5; 600];
        c.eval_slice(&mut xs);
        assert!(xs.iter().all(|&v| v == c.eval(0.5)));
    }

    #[test]
    #[should_panic(expected = "scale exponents 1 and 2")]
    fn mismatched_scales_are_a_construction_bug() {
        let mut c = Circuit::new();
        let sq = c.mul(Circuit::INPUT, Circuit::INPUT);
        c.add(Circuit::INPUT, sq);
    }
}
