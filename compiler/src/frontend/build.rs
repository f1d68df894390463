//! Turns an ordered description plus weights into tensor-graph nodes, inferring shapes.
//!
//! Each node's weights are taken from the weights file and checked against the shapes of its
//! inputs; each node's output shape follows from its operator. BatchNorm nodes go through
//! [`super::fold`].

use std::collections::HashMap;
use std::path::Path;

use ndarray::{Array1, Array2, Array4};

use super::fold;
use crate::error::{FrontendError, Result, ShapeMismatch};
use crate::graph::{Conv2d, Gemm, NodeId, TensorNode, TensorOp};
use crate::model::{ModelDescription, NodeDescription, Op};
use crate::weights::{WeightFile, WeightLookupError, WeightTensor};

/// Largest accepted convolution padding: far beyond any real kernel, small enough that shape
/// arithmetic cannot overflow.
const MAX_PADDING: usize = 1 << 16;

/// Builds nodes of one description in a given order.
pub(crate) struct GraphBuilder<'a> {
    path: &'a Path,
    weights: &'a WeightFile,
    /// Tensor-graph nodes built so far.
    pub(crate) nodes: Vec<TensorNode>,
    /// Where each description name's value lives (a folded BatchNorm maps to its conv).
    pub(crate) ids: HashMap<String, NodeId>,
    /// How many description nodes read each name.
    readers: HashMap<&'a str, usize>,
    output: &'a str,
}

impl<'a> GraphBuilder<'a> {
    pub(crate) fn new(desc: &'a ModelDescription, path: &'a Path, weights: &'a WeightFile) -> Self {
        let mut readers: HashMap<&str, usize> = HashMap::new();
        for node in &desc.nodes {
            for input in &node.inputs {
                *readers.entry(input.as_str()).or_default() += 1;
            }
        }
        Self {
            path,
            weights,
            nodes: Vec::new(),
            ids: HashMap::new(),
            readers,
            output: &desc.output,
        }
    }

    /// Adds a node and records its name.
    pub(crate) fn push(&mut self, node: TensorNode) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.ids.insert(node.name.clone(), id);
        self.nodes.push(node);
        id
    }

    pub(crate) fn shape_error(&self, node: &str, message: String) -> FrontendError {
        FrontendError::Shape {
            path: self.path.to_owned(),
            node: node.to_owned(),
            message,
        }
    }

    pub(crate) fn graph_error(&self, node: &str, message: String) -> FrontendError {
        FrontendError::Graph {
            path: self.path.to_owned(),
            node: node.to_owned(),
            message,
        }
    }

    /// Whether the description node `name` feeds exactly one node and is not the output,
    /// so its value may be rewritten in place.
    pub(crate) fn has_single_reader(&self, name: &str) -> bool {
        self.readers.get(name).copied() == Some(1) && name != self.output
    }

    /// Takes a weight for `node`, checking dtype and that its shape matches `expected`
    /// (`None` entries are free) .
    pub(crate) fn weight(
        &self,
        node: &str,
        tensor: &str,
        expected: &[Option<usize>],
    ) -> Result<WeightTensor> {
        let found = self.weights.get(tensor).map_err(|e| match e {
            WeightLookupError::Missing => FrontendError::MissingWeight {
                path: self.path.to_owned(),
                node: node.to_owned(),
                tensor: tensor.to_owned(),
                weights: self.weights.path().to_owned(),
            },
            WeightLookupError::Dtype(found) => FrontendError::WeightDtype {
                path: self.path.to_owned(),
                node: node.to_owned(),
                tensor: tensor.to_owned(),
                found,
                weights: self.weights.path().to_owned(),
            },
            WeightLookupError::NonFinite { index, value } => FrontendError::WeightNotFinite {
                path: self.path.to_owned(),
                node: node.to_owned(),
                tensor: tensor.to_owned(),
                index,
                value,
                weights: self.weights.path().to_owned(),
            },
        })?;
        let fits = found.shape.len() == expected.len()
            && found
                .shape
                .iter()
                .zip(expected)
                .all(|(&d, e)| e.is_none_or(|e| e == d) && d > 0);
        if !fits {
            let dims: Vec<String> = expected
                .iter()
                .map(|e| e.map_or("_".to_owned(), |d| d.to_string()))
                .collect();
            return Err(FrontendError::WeightShape {
                path: self.path.to_owned(),
                node: node.to_owned(),
                tensor: tensor.to_owned(),
                mismatch: Box::new(ShapeMismatch {
                    expected: format!("[{}]", dims.join(", ")),
                    found: found.shape,
                }),
                weights: self.weights.path().to_owned(),
            });
        }
        Ok(found)
    }

    /// Builds one description node whose inputs are all built.
    pub(crate) fn add_node(&mut self, node: &NodeDescription) -> Result<()> {
        let inputs: Vec<NodeId> = node.inputs.iter().map(|name| self.ids[name]).collect();
        let shapes: Vec<Vec<usize>> = inputs
            .iter()
            .map(|&i| self.nodes[i.index()].shape.clone())
            .collect();
        let name = node.name.as_str();
        let (op, shape) = match &node.op {
            Op::Conv2d {
                weight,
                bias,
                stride,
                padding,
                groups,
            } => self.conv2d(
                name,
                &shapes[0],
                weight,
                bias.as_deref(),
                *stride,
                *padding,
                *groups,
            )?,
            Op::BatchNorm { .. } => {
                return fold::batch_norm(self, node, inputs[0], &shapes[0]);
            }
            Op::Activation(kind) => (TensorOp::Activation(*kind), shapes[0].clone()),
            Op::Add => {
                if shapes[0] != shapes[1] {
                    return Err(self.shape_error(
                        name,
                        format!(
                            "Add of {:?} and {:?}: both inputs must have the same shape",
                            shapes[0], shapes[1]
                        ),
                    ));
                }
                (TensorOp::Add, shapes[0].clone())
            }
            Op::AvgPool { kernel, stride } => {
                let (c, h, w) = self.image_shape(name, &shapes[0])?;
                if *kernel == 0 || *stride == 0 {
                    return Err(self.graph_error(name, "kernel and stride must be positive".into()));
                }
                if *kernel > h || *kernel > w {
                    return Err(self.shape_error(
                        name,
                        format!("window {kernel} is larger than the {h}x{w} input"),
                    ));
                }
                let out = vec![c, (h - kernel) / stride + 1, (w - kernel) / stride + 1];
                (
                    TensorOp::AvgPool {
                        kernel: *kernel,
                        stride: *stride,
                    },
                    out,
                )
            }
            Op::GlobalAvgPool => {
                let (c, _, _) = self.image_shape(name, &shapes[0])?;
                (TensorOp::GlobalAvgPool, vec![c, 1, 1])
            }
            Op::Flatten => (TensorOp::Flatten, vec![shapes[0].iter().product()]),
            Op::Gemm {
                weight,
                bias,
                trans_b,
                alpha,
                beta,
            } => self.gemm(
                name,
                &shapes[0],
                weight,
                bias.as_deref(),
                *trans_b,
                *alpha,
                *beta,
            )?,
        };
        self.push(TensorNode {
            name: name.to_owned(),
            op,
            inputs,
            shape,
            folded: Vec::new(),
        });
        Ok(())
    }

    /// Checks a `[C, H, W]` shape.
    fn image_shape(&self, node: &str, shape: &[usize]) -> Result<(usize, usize, usize)> {
        match *shape {
            [c, h, w] => Ok((c, h, w)),
            _ => Err(self.shape_error(
                node,
                format!("expects a [channels, height, width] input, found {shape:?}"),
            )),
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the attributes of one Conv2d node"
    )]
    fn conv2d(
        &self,
        name: &str,
        input: &[usize],
        weight: &str,
        bias: Option<&str>,
        stride: usize,
        padding: usize,
        groups: usize,
    ) -> Result<(TensorOp, Vec<usize>)> {
        let (c, h, w) = self.image_shape(name, input)?;
        if stride == 0 || groups == 0 {
            return Err(self.graph_error(name, "stride and groups must be positive".into()));
        }
        if padding > MAX_PADDING {
            return Err(self.graph_error(name, format!("padding {padding} exceeds {MAX_PADDING}")));
        }
        if c % groups != 0 {
            return Err(self.shape_error(
                name,
                format!("{c} input channels do not split into {groups} groups"),
            ));
        }
        let w_tensor = self.weight(name, weight, &[None, Some(c / groups), None, None])?;
        // `weight` checked the rank: four dimensions.
        let (out, kh, kw) = (w_tensor.shape[0], w_tensor.shape[2], w_tensor.shape[3]);
        if out % groups != 0 {
            return Err(self.shape_error(
                name,
                format!("{out} output channels do not split into {groups} groups"),
            ));
        }
        if h + 2 * padding < kh || w + 2 * padding < kw {
            return Err(self.shape_error(
                name,
                format!("kernel {kh}x{kw} is larger than the padded {h}x{w} input"),
            ));
        }
        let bias = bias
            .map(|b| {
                self.weight(name, b, &[Some(out)])
                    .map(|t| Array1::from(t.data))
            })
            .transpose()?;
        let weight = Array4::from_shape_vec((out, c / groups, kh, kw), w_tensor.data)
            .map_err(|e| self.shape_error(name, e.to_string()))?;
        let shape = vec![
            out,
            (h + 2 * padding - kh) / stride + 1,
            (w + 2 * padding - kw) / stride + 1,
        ];
        let conv = Conv2d {
            weight,
            bias,
            stride,
            padding,
            groups,
        };
        Ok((TensorOp::Conv2d(conv), shape))
    }

    #[expect(clippy::too_many_arguments, reason = "the attributes of one Gemm node")]
    fn gemm(
        &self,
        name: &str,
        input: &[usize],
        weight: &str,
        bias: Option<&str>,
        trans_b: bool,
        alpha: f32,
        beta: f32,
    ) -> Result<(TensorOp, Vec<usize>)> {
        let &[k] = input else {
            return Err(self.shape_error(
                name,
                format!("Gemm expects a vector input (add a Flatten), found {input:?}"),
            ));
        };
        let expected = if trans_b {
            [None, Some(k)]
        } else {
            [Some(k), None]
        };
        let tensor = self.weight(name, weight, &expected)?;
        let out = if trans_b {
            tensor.shape[0]
        } else {
            tensor.shape[1]
        };
        let stored = Array2::from_shape_vec((tensor.shape[0], tensor.shape[1]), tensor.data)
            .map_err(|e| self.shape_error(name, e.to_string()))?;
        let weight = if trans_b {
            stored
        } else {
            stored.reversed_axes().as_standard_layout().into_owned()
        };
        let bias = bias
            .map(|b| {
                self.weight(name, b, &[Some(out)])
                    .map(|t| Array1::from(t.data))
            })
            .transpose()?;
        let gemm = Gemm {
            weight,
            bias,
            alpha,
            beta,
        };
        Ok((TensorOp::Gemm(gemm), vec![out]))
    }
}
