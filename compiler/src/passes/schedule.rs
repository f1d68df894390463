//! The `schedule` pass: instruction order, `free` placement and the peak-memory estimate.
//!
//! 1. **Order**: a greedy list scheduler over the dataflow graph. Among the instructions whose
//!    ciphertext operands are computed (the 64 earliest in the incoming order), it runs the one
//!    that frees the most bytes net of what it allocates (ties: the earliest), so independent
//!    chains are finished before new ones start. A `plain` is not scheduled on its own: it is encoded
//!    right before its first consumer (DESIGN §3: plaintexts are encoded when the schedule
//!    needs them). The incoming order, with plaintexts moved the same way, is kept instead
//!    when its peak is lower.
//! 2. **Frees**: a `free` right after each value's last use (a value nobody reads is freed
//!    right after its definition); program outputs are never freed.
//! 3. **Peak**: the largest total of live ciphertext and plaintext bytes at any point, by the
//!    [`MemoryModel`], plus what stays resident throughout: the evaluation keys of the key
//!    set and, when the program bootstraps, the bootstrapping's keys (merged with the
//!    circuit's) and encoded DFT diagonals ([`MemoryModel::resident_bytes`]).

use super::analysis::liveness::{last_uses, read_counts};
use super::dataflow::{Dataflow, Node};
use super::memory::MemoryModel;
use fhec_ir::{Immediate, Inst, InstData, Opcode, Program, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The scheduler weighs only this many ready instructions (the earliest in the incoming
/// order), which keeps it linear in the program size while still finishing open chains first.
const WINDOW: usize = 64;

/// What the schedule pass measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleReport {
    /// Peak bytes of live ciphertexts and plaintexts.
    pub peak_value_bytes: u64,
    /// Bytes of all evaluation keys (resident throughout): `circuit_key_bytes +
    /// bootstrap_key_bytes`.
    pub key_bytes: u64,
    /// Bytes of the circuit's keys not already held by bootstrapping.
    pub circuit_key_bytes: u64,
    /// Bytes of the bootstrapping's keys (0 without a bootstrap).
    pub bootstrap_key_bytes: u64,
    /// Bytes of the bootstrapping's encoded DFT diagonals (0 without a bootstrap).
    pub bootstrap_plaintext_bytes: u64,
    /// `peak_value_bytes + key_bytes + bootstrap_plaintext_bytes`: the predicted peak.
    pub peak_bytes: u64,
    /// The same peak for the incoming order (plaintexts moved to their first use).
    pub incoming_peak_bytes: u64,
    /// Whether the greedy order was kept (it had the lower peak).
    pub reordered: bool,
    /// `free` instructions inserted.
    pub frees: usize,
}

/// The schedule's view of the program's dataflow graph: the instructions it orders (all but
/// `plain`s, which go right before their first reader, and `free`s, which it places itself).
struct Schedulable<'p> {
    dataflow: Dataflow<'p>,
    /// The ordered nodes, in incoming order.
    nodes: Vec<Node>,
    /// The `plain` instruction defining each plaintext value.
    plain_def: HashMap<Value, Inst>,
    /// Number of reads of each value by ordered nodes.
    uses: HashMap<Value, usize>,
    /// Values read by an `output`.
    outputs: HashSet<Value>,
}

impl<'p> Schedulable<'p> {
    fn new(program: &'p Program) -> Self {
        let dataflow = Dataflow::new(program);
        let mut nodes = Vec::new();
        let mut plain_def = HashMap::new();
        let mut outputs = HashSet::new();
        for node in dataflow.nodes() {
            let data = dataflow.data(node);
            match data.opcode {
                Opcode::Free => {}
                Opcode::Plain => {
                    plain_def.extend(data.results.first().map(|&r| (r, dataflow.inst(node))))
                }
                Opcode::Output => {
                    outputs.extend(&data.args);
                    nodes.push(node);
                }
                _ => nodes.push(node),
            }
        }
        let uses = read_counts(&dataflow);
        Schedulable {
            dataflow,
            nodes,
            plain_def,
            uses,
            outputs,
        }
    }

    /// Whether the scheduler orders `node` itself.
    fn is_ordered(&self, node: Node) -> bool {
        !matches!(
            self.dataflow.data(node).opcode,
            Opcode::Plain | Opcode::Free
        )
    }

    /// The ordered nodes whose results `node` reads (it waits for them).
    fn producers(&self, node: Node) -> Vec<Node> {
        let mut producers = self.dataflow.producers(node);
        producers.retain(|&p| self.is_ordered(p));
        producers
    }

    /// The ordered nodes reading a result of `node`.
    fn consumers(&self, node: Node) -> Vec<Node> {
        let mut consumers = self.dataflow.consumers(node);
        consumers.retain(|&c| self.is_ordered(c));
        consumers
    }
}

fn data(program: &Program, inst: Inst) -> &InstData {
    program
        .inst(inst)
        .expect("the schedule only names instructions of the program")
}

fn bytes(program: &Program, model: &MemoryModel, v: Value) -> u64 {
    program.value_type(v).map_or(0, |t| model.value_bytes(t))
}

/// The greedy order of the ordered nodes; see the module documentation.
fn greedy_order(graph: &Schedulable, model: &MemoryModel) -> Vec<Node> {
    let program = graph.dataflow.program();
    let mut waiting: Vec<usize> = vec![0; graph.dataflow.len()];
    for &node in &graph.nodes {
        waiting[node.index()] = graph.producers(node).len();
    }
    let mut ready: BTreeSet<Node> = graph
        .nodes
        .iter()
        .copied()
        .filter(|node| waiting[node.index()] == 0)
        .collect();
    let mut remaining = graph.uses.clone();
    let mut encoded: HashSet<Value> = HashSet::new();
    let mut order = Vec::with_capacity(graph.nodes.len());
    while !ready.is_empty() {
        let score = |node: Node, remaining: &HashMap<Value, usize>| -> i128 {
            let d = graph.dataflow.data(node);
            let mut freed = 0i128;
            for (i, &a) in d.args.iter().enumerate() {
                if d.args[..i].contains(&a) {
                    continue;
                }
                let reads = d.args.iter().filter(|&&x| x == a).count();
                let last = remaining.get(&a).copied().unwrap_or(0) == reads;
                let size = i128::from(bytes(program, model, a));
                // A plaintext not encoded yet is encoded for this read: it costs its bytes
                // unless this is its last read (then it is freed right away).
                let fresh_plain = graph.plain_def.contains_key(&a) && !encoded.contains(&a);
                if fresh_plain {
                    if !last {
                        freed -= size;
                    }
                } else if last && !graph.outputs.contains(&a) {
                    freed += size;
                }
            }
            let allocated: i128 = d
                .results
                .iter()
                .map(|&r| i128::from(bytes(program, model, r)))
                .sum();
            freed - allocated
        };
        let node = ready
            .iter()
            .take(WINDOW)
            .copied()
            .max_by_key(|&node| (score(node, &remaining), std::cmp::Reverse(node)))
            .expect("ready is not empty");
        ready.remove(&node);
        order.push(node);
        let d = graph.dataflow.data(node);
        for &a in &d.args {
            if let Some(count) = remaining.get_mut(&a) {
                *count = count.saturating_sub(1);
            }
            if graph.plain_def.contains_key(&a) {
                encoded.insert(a);
            }
        }
        for s in graph.consumers(node) {
            waiting[s.index()] -= 1;
            if waiting[s.index()] == 0 {
                ready.insert(s);
            }
        }
    }
    order
}

/// The full instruction order for a node order: each `plain` right before its first reader.
fn with_plains(graph: &Schedulable, nodes: &[Node]) -> Vec<Inst> {
    let mut placed = HashSet::new();
    let mut order = Vec::with_capacity(nodes.len() + graph.plain_def.len());
    for &node in nodes {
        for a in &graph.dataflow.data(node).args {
            if let Some(&plain) = graph.plain_def.get(a)
                && placed.insert(plain)
            {
                order.push(plain);
            }
        }
        order.push(graph.dataflow.inst(node));
    }
    order
}

/// For an order without frees: the frees to insert (value, after position) and the peak of
/// live value bytes.
fn frees_and_peak(
    program: &Program,
    order: &[Inst],
    outputs: &HashSet<Value>,
    model: &MemoryModel,
) -> (Vec<(usize, Value)>, u64) {
    let mut dies_after: HashMap<usize, Vec<Value>> = HashMap::new();
    for (v, position) in last_uses(program, order) {
        if !outputs.contains(&v) {
            dies_after.entry(position).or_default().push(v);
        }
    }
    let mut frees = Vec::new();
    let (mut live, mut peak) = (0u64, 0u64);
    for (position, &inst) in order.iter().enumerate() {
        let d = data(program, inst);
        live += d
            .results
            .iter()
            .map(|&r| bytes(program, model, r))
            .sum::<u64>();
        peak = peak.max(live);
        if let Some(dead) = dies_after.get_mut(&position) {
            dead.sort_unstable();
            for &v in dead.iter() {
                live -= bytes(program, model, v);
                frees.push((position, v));
            }
        }
    }
    (frees, peak)
}

/// Runs the pass; see the module documentation.
pub fn schedule(mut program: Program, model: &MemoryModel) -> (Program, ScheduleReport) {
    let graph = Schedulable::new(&program);
    let incoming = with_plains(&graph, &graph.nodes);
    let greedy = with_plains(&graph, &greedy_order(&graph, model));
    let (incoming_frees, incoming_peak) =
        frees_and_peak(&program, &incoming, &graph.outputs, model);
    let (greedy_frees, greedy_peak) = frees_and_peak(&program, &greedy, &graph.outputs, model);
    drop(graph);
    let reordered = greedy_peak < incoming_peak;
    let (order, frees, peak) = if reordered {
        (greedy, greedy_frees, greedy_peak)
    } else {
        (incoming, incoming_frees, incoming_peak)
    };
    let mut by_position: HashMap<usize, Vec<Value>> = HashMap::new();
    for (position, v) in &frees {
        by_position.entry(*position).or_default().push(*v);
    }
    let mut final_order = Vec::with_capacity(order.len() + frees.len());
    for (position, inst) in order.into_iter().enumerate() {
        final_order.push(inst);
        for &v in by_position.get(&position).into_iter().flatten() {
            final_order.push(program.make_inst(InstData {
                opcode: Opcode::Free,
                args: vec![v],
                imm: Immediate::None,
                results: Vec::new(),
                layer: program.inst(inst).and_then(|d| d.layer),
            }));
        }
    }
    *program.order_mut() = final_order;
    let resident = model.resident_bytes(&program);
    let key_bytes = resident.circuit_keys + resident.bootstrap_keys;
    let constant = key_bytes + resident.bootstrap_plaintexts;
    let report = ScheduleReport {
        peak_value_bytes: peak,
        key_bytes,
        circuit_key_bytes: resident.circuit_keys,
        bootstrap_key_bytes: resident.bootstrap_keys,
        bootstrap_plaintext_bytes: resident.bootstrap_plaintexts,
        peak_bytes: peak + constant,
        incoming_peak_bytes: incoming_peak + constant,
        reordered,
        frees: frees.len(),
    };
    (program, report)
}
