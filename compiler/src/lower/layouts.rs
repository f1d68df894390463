//! Layout choice: one slot layout per tensor of the graph (`docs/plans/lowering.md` §1).
//!
//! Rules, applied in graph order:
//!
//! - **one slot count** `n` per program: the smallest power of two holding the largest
//!   tensor's layout, at most [`CompileOptions::max_slots`](super::CompileOptions) (or the
//!   count the options force); smaller tensors are **replicated** to fill `n` (their period is
//!   the smallest power of two holding their planes);
//! - **channel-major, multiplexed**: an input is packed with gap 1; a convolution or pooling of
//!   stride `s` multiplies the gap by `s` and fills the gaps with other channels (`mux = gap`),
//!   so the planes keep their size and no slot is wasted; a stride-1 map keeps the gap;
//! - a global average pool keeps its input's geometry: channel `c` of the `[C, 1, 1]` result
//!   sits where element `(c, 0, 0)` was; a fully connected layer packs its `[F, 1, 1]` output
//!   with gap 1 and at least its input's period (each output replica inside the input's period
//!   would shift every entry into a new diagonal); activations, `Flatten` and channel-wise affine maps keep their input's layout;
//! - an `Add` takes its first operand's layout; when the operands differ and one of them is a
//!   linear layer read by nothing else, that layer writes the other's layout directly (a
//!   linear map may end in any layout), else the lowering inserts a layout change;
//! - a tensor that needs more ciphertexts than `max_cts`, or whose plane exceeds `n`, is an
//!   error naming the node.

use super::LowerError;
use crate::graph::{NodeId, TensorGraph, TensorOp};
use crate::layout::{Layout, LayoutParams};

/// The layout of every node's output and the program's slot count.
#[derive(Clone, PartialEq, Debug)]
pub struct LayoutPlan {
    /// Slots per ciphertext.
    pub slots: usize,
    /// The layout of each node's output, by node index.
    pub layouts: Vec<Layout>,
}

/// The `[C, H, W]` form of a node's shape (`[F]` is `[F, 1, 1]`).
pub fn shape3(graph: &TensorGraph, id: NodeId) -> Result<[usize; 3], LowerError> {
    let node = graph.node(id);
    match node.shape[..] {
        [c, h, w] => Ok([c, h, w]),
        [f] => Ok([f, 1, 1]),
        _ => Err(LowerError::Unsupported {
            node: node.name.clone(),
            message: format!(
                "tensors of shape {:?} have no slot layout (only [C, H, W] and [F])",
                node.shape
            ),
        }),
    }
}

/// Whether a node is lowered as one linear map (it may then write any output layout).
pub fn is_linear(op: &TensorOp) -> bool {
    matches!(
        op,
        TensorOp::Conv2d(_)
            | TensorOp::ChannelAffine { .. }
            | TensorOp::AvgPool { .. }
            | TensorOp::GlobalAvgPool
            | TensorOp::Gemm(_)
    )
}

/// How many nodes read each node's output.
pub fn reader_counts(graph: &TensorGraph) -> Vec<usize> {
    let mut readers = vec![0; graph.nodes.len()];
    for node in &graph.nodes {
        for input in &node.inputs {
            readers[input.index()] += 1;
        }
    }
    readers
}

fn layout_error(graph: &TensorGraph, id: NodeId, error: impl ToString) -> LowerError {
    LowerError::Layout {
        node: graph.node(id).name.clone(),
        message: error.to_string(),
    }
}

/// The gap (element stride) of a layout; the layouts built here have equal gaps on both axes.
fn gap(layout: &Layout) -> usize {
    layout.params().gap[0]
}

/// The layouts for slot count `slots`.
fn natural_layouts(graph: &TensorGraph, slots: usize) -> Result<Vec<Layout>, LowerError> {
    let readers = reader_counts(graph);
    let mut layouts: Vec<Layout> = Vec::with_capacity(graph.nodes.len());
    for (index, node) in graph.nodes.iter().enumerate() {
        if matches!(node.op, TensorOp::Add) {
            align_operands(
                graph,
                &readers,
                node.inputs[0].index(),
                node.inputs[1].index(),
                &mut layouts,
            );
        }
        let id = NodeId(index as u32);
        let shape = shape3(graph, id)?;
        let input = |k: usize| -> &Layout { &layouts[node.inputs[k].index()] };
        let strided = |gap: usize| {
            Layout::strided(shape, slots, gap, gap).map_err(|e| layout_error(graph, id, e))
        };
        let layout = match &node.op {
            TensorOp::Input(_) => strided(1)?,
            TensorOp::Conv2d(conv) => strided(gap(input(0)) * conv.stride)?,
            TensorOp::AvgPool { stride, .. } => strided(gap(input(0)) * stride)?,
            TensorOp::GlobalAvgPool => {
                let from = input(0).params();
                Layout::new(LayoutParams { shape, ..from })
                    .map_err(|e| layout_error(graph, id, e))?
            }
            TensorOp::Gemm(_) => {
                // Keep at least the input's period: each output replica inside it would shift
                // every entry into a new diagonal (208 instead of 3 328 for ResNet-20's fc).
                let packed = strided(1)?;
                let period = packed.period().max(input(0).period()).min(slots);
                let params = LayoutParams {
                    period,
                    ..packed.params()
                };
                Layout::new(params).map_err(|e| layout_error(graph, id, e))?
            }
            TensorOp::ChannelAffine { .. }
            | TensorOp::Activation(_)
            | TensorOp::Flatten
            | TensorOp::Add => {
                let from = input(0).params();
                Layout::new(LayoutParams {
                    shape: if matches!(node.op, TensorOp::Flatten) {
                        from.shape
                    } else {
                        shape
                    },
                    ..from
                })
                .map_err(|e| layout_error(graph, id, e))?
            }
        };
        layouts.push(layout);
    }
    Ok(layouts)
}

/// Chooses the slot count and every node's layout; see the module documentation.
pub fn plan_layouts(
    graph: &TensorGraph,
    forced_slots: Option<usize>,
    max_slots: usize,
    max_cts: usize,
) -> Result<LayoutPlan, LowerError> {
    if !max_slots.is_power_of_two() {
        return Err(LowerError::Options(format!(
            "the largest slot count {max_slots} is not a power of two"
        )));
    }
    let slots = match forced_slots {
        Some(n) if n.is_power_of_two() && n <= max_slots => n,
        Some(n) => {
            return Err(LowerError::Options(format!(
                "the slot count {n} is not a power of two at most {max_slots}"
            )));
        }
        None => {
            let wide = natural_layouts(graph, max_slots)?;
            wide.iter()
                .map(|l| if l.cts() > 1 { max_slots } else { l.period() })
                .max()
                .unwrap_or(1)
        }
    };
    let layouts = natural_layouts(graph, slots)?;
    for (index, layout) in layouts.iter().enumerate() {
        if layout.cts() > max_cts {
            let id = NodeId(index as u32);
            return Err(layout_error(
                graph,
                id,
                format!(
                    "the tensor of shape {:?} needs {} ciphertexts of {slots} slots ({layout}), \
                     more than the limit of {max_cts}",
                    graph.node(id).shape,
                    layout.cts()
                ),
            ));
        }
    }
    Ok(LayoutPlan { slots, layouts })
}

/// Makes the operands `a`, `b` of an `Add` share a layout where a linear producer read by
/// nothing else can write the other's (nothing laid out after it depends on its layout yet).
fn align_operands(
    graph: &TensorGraph,
    readers: &[usize],
    a: usize,
    b: usize,
    layouts: &mut [Layout],
) {
    if layouts[a] == layouts[b] {
        return;
    }
    let free = |k: usize| is_linear(&graph.nodes[k].op) && readers[k] == 1;
    if free(b) {
        layouts[b] = layouts[a].clone();
    } else if free(a) {
        layouts[a] = layouts[b].clone();
    }
}
