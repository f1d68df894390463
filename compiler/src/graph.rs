//! The tensor graph: the validated, shape-annotated model the compiler lowers from.
//!
//! Nodes are stored in a topological order (every input before its users) and refer to each
//! other by [`NodeId`]. Weights are owned ndarray tensors; BatchNorm has been folded into the
//! convolution before it, or turned into a per-channel affine map where no such convolution
//! exists. Every node carries its per-sample output shape (no batch axis).

use std::fmt;

use ndarray::{Array1, Array2, Array4};

use crate::model::{Activation, Preprocess};

/// Index of a node in [`TensorGraph::nodes`]; prints as `%N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The position in the node list.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// A convolution with its weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// `[out, in/groups, kh, kw]`.
    pub weight: Array4<f32>,
    /// `[out]`, if any.
    pub bias: Option<Array1<f32>>,
    /// Step on both spatial axes.
    pub stride: usize,
    /// Zero padding on every side.
    pub padding: usize,
    /// Channel groups.
    pub groups: usize,
}

/// A fully connected layer: `y = alpha · W x + beta · bias`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gemm {
    /// `[out, in]` (already transposed when the description stored `[in, out]`).
    pub weight: Array2<f32>,
    /// `[out]`, if any.
    pub bias: Option<Array1<f32>>,
    /// Scale of the product.
    pub alpha: f32,
    /// Scale of the bias.
    pub beta: f32,
}

/// The operation of a tensor-graph node.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorOp {
    /// A model input, with its optional preprocessing.
    Input(Option<Preprocess>),
    /// Convolution (possibly with BatchNorm folded in).
    Conv2d(Conv2d),
    /// `y[c, ...] = x[c, ...] · scale[c] + shift[c]`: a BatchNorm that had no convolution to
    /// fold into.
    ChannelAffine {
        /// Per-channel factor.
        scale: Array1<f32>,
        /// Per-channel offset.
        shift: Array1<f32>,
    },
    /// Elementwise activation.
    Activation(Activation),
    /// Elementwise sum of the two inputs.
    Add,
    /// Window average without padding.
    AvgPool {
        /// Window side.
        kernel: usize,
        /// Step.
        stride: usize,
    },
    /// Spatial mean, `[C, H, W] → [C, 1, 1]`.
    GlobalAvgPool,
    /// `[...] → [product]`.
    Flatten,
    /// Fully connected layer.
    Gemm(Gemm),
}

impl TensorOp {
    /// Short operator name for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            TensorOp::Input(_) => "Input",
            TensorOp::Conv2d(_) => "Conv2d",
            TensorOp::ChannelAffine { .. } => "ChannelAffine",
            TensorOp::Activation(Activation::Relu) => "Relu",
            TensorOp::Add => "Add",
            TensorOp::AvgPool { .. } => "AvgPool",
            TensorOp::GlobalAvgPool => "GlobalAvgPool",
            TensorOp::Flatten => "Flatten",
            TensorOp::Gemm(_) => "Gemm",
        }
    }

    /// Number of parameters (weights and biases) the operation holds.
    pub fn parameter_count(&self) -> usize {
        let opt = |b: &Option<Array1<f32>>| b.as_ref().map_or(0, |b| b.len());
        match self {
            TensorOp::Conv2d(c) => c.weight.len() + opt(&c.bias),
            TensorOp::Gemm(g) => g.weight.len() + opt(&g.bias),
            TensorOp::ChannelAffine { scale, shift } => scale.len() + shift.len(),
            _ => 0,
        }
    }

    /// Attributes worth showing in a summary, e.g. `3x3 s2 p1`.
    fn attributes(&self) -> String {
        match self {
            TensorOp::Conv2d(c) => {
                let (_, _, kh, kw) = c.weight.dim();
                let mut text = format!("{kh}x{kw} s{} p{}", c.stride, c.padding);
                if c.groups != 1 {
                    text.push_str(&format!(" g{}", c.groups));
                }
                if c.bias.is_some() {
                    text.push_str(" +bias");
                }
                text
            }
            TensorOp::AvgPool { kernel, stride } => format!("{kernel}x{kernel} s{stride}"),
            TensorOp::Gemm(g) => {
                let mut text = format!("{}x{}", g.weight.nrows(), g.weight.ncols());
                if g.bias.is_some() {
                    text.push_str(" +bias");
                }
                text
            }
            _ => String::new(),
        }
    }
}

/// One node of the tensor graph.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorNode {
    /// The name from the description (for a folded convolution, the convolution's).
    pub name: String,
    /// What it computes.
    pub op: TensorOp,
    /// Its inputs, all earlier in the graph.
    pub inputs: Vec<NodeId>,
    /// Per-sample output shape.
    pub shape: Vec<usize>,
    /// Names of description nodes merged into this one (folded BatchNorms).
    pub folded: Vec<String>,
}

/// A validated model: nodes in topological order, shapes known, BatchNorm folded.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorGraph {
    /// The model's name.
    pub name: String,
    /// All nodes, inputs included, each after its inputs.
    pub nodes: Vec<TensorNode>,
    /// The input nodes, in description order.
    pub inputs: Vec<NodeId>,
    /// The node whose value is the model output.
    pub output: NodeId,
    /// Non-fatal findings (e.g. weights the model does not use).
    pub warnings: Vec<String>,
}

impl TensorGraph {
    /// The node behind an id.
    pub fn node(&self, id: NodeId) -> &TensorNode {
        &self.nodes[id.index()]
    }

    /// Total parameters over all nodes.
    pub fn parameter_count(&self) -> usize {
        self.nodes.iter().map(|n| n.op.parameter_count()).sum()
    }

    /// The output's per-sample shape.
    pub fn output_shape(&self) -> &[usize] {
        &self.node(self.output).shape
    }
}

fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// A table of the graph: one node per line with operator, attributes, inputs, output shape
/// and parameter count, then totals.
impl fmt::Display for TensorGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "id",
            "name",
            "op",
            "attributes",
            "inputs",
            "shape",
            "params",
        ]
        .map(String::from);
        let mut rows = vec![header];
        for (index, node) in self.nodes.iter().enumerate() {
            let inputs: Vec<&str> = node
                .inputs
                .iter()
                .map(|&i| self.node(i).name.as_str())
                .collect();
            let mut attributes = node.op.attributes();
            for folded in &node.folded {
                attributes.push_str(&format!(" (folded {folded})"));
            }
            rows.push([
                NodeId(index as u32).to_string(),
                node.name.clone(),
                node.op.kind().to_owned(),
                attributes.trim().to_owned(),
                inputs.join(", "),
                shape_text(&node.shape),
                node.op.parameter_count().to_string(),
            ]);
        }
        let mut widths = [0usize; 7];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        writeln!(f, "model {}", self.name)?;
        for row in &rows {
            let mut line = format!("{:>w$}", row[0], w = widths[0]);
            for column in 1..6 {
                line.push_str(&format!("  {:<w$}", row[column], w = widths[column]));
            }
            line.push_str(&format!("  {:>w$}", row[6], w = widths[6]));
            writeln!(f, "{line}")?;
        }
        writeln!(
            f,
            "output {} {}",
            self.node(self.output).name,
            shape_text(self.output_shape())
        )?;
        write!(
            f,
            "{} nodes, {} parameters",
            self.nodes.len(),
            self.parameter_count()
        )
    }
}
