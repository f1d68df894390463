//! Structural checks of a description and the order nodes are evaluated in.
//!
//! Checks that every name (input or node) is defined once, that every node has the right
//! number of inputs and that each names something defined, that the output exists, and that
//! the graph has no cycle. Returns the nodes in a topological order that keeps the file's order
//! wherever the file already respects dependencies, so summaries read like the file.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::error::{FrontendError, Result};
use crate::model::ModelDescription;

/// Indices into `description.nodes`, each after the nodes it reads.
pub(crate) fn evaluation_order(desc: &ModelDescription, path: &Path) -> Result<Vec<usize>> {
    let graph_error = |node: &str, message: String| FrontendError::Graph {
        path: path.to_owned(),
        node: node.to_owned(),
        message,
    };
    if desc.inputs.is_empty() {
        return Err(graph_error(
            &desc.name,
            "the model declares no input".into(),
        ));
    }
    // Every name defined once; inputs are `None`, nodes `Some(index)`.
    let mut defined: HashMap<&str, Option<usize>> = HashMap::new();
    let names = desc.inputs.iter().map(|i| (i.name.as_str(), None)).chain(
        desc.nodes
            .iter()
            .enumerate()
            .map(|(k, n)| (n.name.as_str(), Some(k))),
    );
    for (name, origin) in names {
        if defined.insert(name, origin).is_some() {
            return Err(graph_error(name, "name defined more than once".into()));
        }
    }
    // Producers of every node, checked for arity and definition.
    let mut producers: Vec<Vec<usize>> = Vec::with_capacity(desc.nodes.len());
    for node in &desc.nodes {
        let arity = node.op.arity();
        if node.inputs.len() != arity {
            return Err(graph_error(
                &node.name,
                format!(
                    "{} takes {arity} input(s), found {}",
                    node.op.kind(),
                    node.inputs.len()
                ),
            ));
        }
        let mut own = Vec::new();
        for input in &node.inputs {
            match defined.get(input.as_str()) {
                None => {
                    return Err(graph_error(
                        &node.name,
                        format!("input `{input}` is not defined (no input or node has that name)"),
                    ));
                }
                Some(Some(k)) => own.push(*k),
                Some(None) => {}
            }
        }
        producers.push(own);
    }
    if !defined.contains_key(desc.output.as_str()) {
        return Err(graph_error(
            &desc.output,
            "the model output names no input or node".into(),
        ));
    }
    topological_order(desc, &producers).map_err(|cycle| {
        let names: Vec<&str> = cycle.iter().map(|&k| desc.nodes[k].name.as_str()).collect();
        graph_error(
            names[0],
            format!("the graph has a cycle: {}", names.join(" -> ")),
        )
    })
}

/// Kahn's algorithm, always taking the earliest ready node; on failure returns one cycle.
fn topological_order(
    desc: &ModelDescription,
    producers: &[Vec<usize>],
) -> Result<Vec<usize>, Vec<usize>> {
    let count = desc.nodes.len();
    let mut consumers = vec![Vec::new(); count];
    let mut pending: Vec<usize> = producers.iter().map(Vec::len).collect();
    for (node, own) in producers.iter().enumerate() {
        for &p in own {
            consumers[p].push(node);
        }
    }
    let mut ready: BTreeSet<usize> = (0..count).filter(|&k| pending[k] == 0).collect();
    let mut order = Vec::with_capacity(count);
    while let Some(next) = ready.pop_first() {
        order.push(next);
        for &c in &consumers[next] {
            pending[c] -= 1;
            if pending[c] == 0 {
                ready.insert(c);
            }
        }
    }
    if order.len() == count {
        return Ok(order);
    }
    // Walk back through unfinished producers until a node repeats: that stretch is a cycle.
    let start = (0..count).find(|&k| pending[k] > 0).unwrap_or(0);
    let mut path = vec![start];
    let mut current = start;
    loop {
        let Some(&previous) = producers[current].iter().find(|&&p| pending[p] > 0) else {
            return Err(path);
        };
        if let Some(at) = path.iter().position(|&k| k == previous) {
            let mut cycle: Vec<usize> = path[at..].to_vec();
            cycle.reverse();
            cycle.push(cycle[0]);
            return Err(cycle);
        }
        path.push(previous);
        current = previous;
    }
}
