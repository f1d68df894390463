//! The dataflow graph the passes analyse: one node per instruction of a program, in program
//! order, and one edge per operand read, from the instruction defining the value to the
//! instruction reading it, weighted by the value.
//!
//! The bootstrap placement walks it backwards (the values a value is computed from), the
//! schedule forwards (which instructions become ready when one runs), and the analyses in
//! [`super::analysis`] read both directions (what the outputs need, what flows into a
//! bootstrap). A node's index is its instruction's position in the program's order, so
//! "earlier" and "later" are comparisons of indices.

use fhec_ir::{Inst, InstData, Program, Value};
use petgraph::Direction::{Incoming, Outgoing};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A node of the graph: one instruction, indexed by its position in program order.
pub type Node = NodeIndex<u32>;

/// The dataflow graph of one program; see the module documentation.
pub struct Dataflow<'p> {
    program: &'p Program,
    graph: DiGraph<Inst, Value, u32>,
    /// The node defining each value.
    definer: HashMap<Value, Node>,
}

impl<'p> Dataflow<'p> {
    /// The graph of `program`. A read of a value not defined earlier in the order (which the
    /// verifier refuses) has no edge.
    pub fn new(program: &'p Program) -> Self {
        let mut graph = DiGraph::with_capacity(program.order().len(), program.order().len());
        let mut definer = HashMap::new();
        for (inst, data) in program.instructions() {
            let node = graph.add_node(inst);
            for &arg in &data.args {
                if let Some(&from) = definer.get(&arg) {
                    graph.add_edge(from, node, arg);
                }
            }
            for &result in &data.results {
                definer.insert(result, node);
            }
        }
        Dataflow {
            program,
            graph,
            definer,
        }
    }

    /// The program the graph was built from.
    pub fn program(&self) -> &'p Program {
        self.program
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the program has no instruction.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Every node, in program order.
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = Node> + ExactSizeIterator + use<> {
        (0..self.graph.node_count()).map(Node::new)
    }

    /// The instruction of `node`.
    pub fn inst(&self, node: Node) -> Inst {
        self.graph[node]
    }

    /// The instruction data of `node`.
    pub fn data(&self, node: Node) -> &'p InstData {
        self.program
            .inst(self.graph[node])
            .expect("the graph only holds instructions of its program")
    }

    /// The node defining `value` (`None` for a value no instruction defines).
    pub fn definer(&self, value: Value) -> Option<Node> {
        self.definer.get(&value).copied()
    }

    /// The position in program order of the instruction defining `value`.
    pub fn position(&self, value: Value) -> Option<usize> {
        self.definer(value).map(Node::index)
    }

    /// The values the instruction defining `value` reads (empty for an undefined value).
    pub fn operands(&self, value: Value) -> impl Iterator<Item = Value> + '_ {
        self.definer(value)
            .into_iter()
            .flat_map(|node| self.graph.edges_directed(node, Incoming))
            .map(|edge| *edge.weight())
    }

    /// The distinct nodes whose results `node` reads, in program order.
    pub fn producers(&self, node: Node) -> Vec<Node> {
        let mut producers: Vec<Node> = self.graph.neighbors_directed(node, Incoming).collect();
        producers.sort_unstable();
        producers.dedup();
        producers
    }

    /// The distinct nodes reading a result of `node`, in program order.
    pub fn consumers(&self, node: Node) -> Vec<Node> {
        let mut consumers: Vec<Node> = self.graph.neighbors_directed(node, Outgoing).collect();
        consumers.sort_unstable();
        consumers.dedup();
        consumers
    }

    /// `value` and every value it is computed from, walking back through operands but not
    /// past a value of `stop` (a value of `stop` that is reached is included, not expanded).
    pub fn ancestors(&self, value: Value, stop: &BTreeSet<Value>) -> HashSet<Value> {
        let mut seen = HashSet::from([value]);
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            if stop.contains(&v) {
                continue;
            }
            for a in self.operands(v) {
                if seen.insert(a) {
                    stack.push(a);
                }
            }
        }
        seen
    }
}
