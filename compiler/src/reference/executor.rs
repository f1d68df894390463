//! The executor: a [`TensorGraph`] with its parameters taken into a precision `F` once, run on
//! one input or, in parallel, on many CIFAR images.
//!
//! Values are evaluated in graph order and each is freed after its last reader. Raw inputs and
//! their preprocessing stay float32, as the model defines them and as a compiled program's
//! input packing computes them; every operation after the inputs is computed in `F`.

use std::borrow::Cow;
use std::ops::Range;

use ndarray::{Array1, ArrayD, Axis, CowArray, Ix1, Ix2, Ix3, IxDyn};
use rayon::prelude::*;

use super::conv::ConvKernel;
use super::mode::{ActivationMode, Exact};
use super::scalar::Scalar;
use crate::data::{CIFAR_IMAGE_SHAPE, CifarBatch};
use crate::error::{FrontendError, Result};
use crate::graph::{TensorGraph, TensorOp};

/// The parameters of one node in precision `F`.
#[derive(Clone, Debug)]
enum NodeParameters<'g, F: Scalar> {
    /// The node has none (or they are not numbers: pooling geometry).
    None,
    Conv(ConvKernel<'g, F>),
    Affine {
        scale: CowArray<'g, F, Ix1>,
        shift: CowArray<'g, F, Ix1>,
    },
    Gemm {
        weight: CowArray<'g, F, Ix2>,
        bias: Option<CowArray<'g, F, Ix1>>,
        alpha: F,
        beta: F,
    },
}

/// An owned copy of a borrowed-or-owned array.
fn owned<D: ndarray::Dimension, F: Scalar>(a: CowArray<'_, F, D>) -> CowArray<'static, F, D> {
    CowArray::from(a.into_owned())
}

impl<'g, F: Scalar> NodeParameters<'g, F> {
    fn new(op: &'g TensorOp) -> Self {
        match op {
            TensorOp::Conv2d(conv) => Self::Conv(ConvKernel::new(conv)),
            TensorOp::ChannelAffine { scale, shift } => Self::Affine {
                scale: F::cast(scale),
                shift: F::cast(shift),
            },
            TensorOp::Gemm(gemm) => Self::Gemm {
                weight: F::cast(&gemm.weight),
                bias: gemm.bias.as_ref().map(F::cast),
                alpha: F::of_f32(gemm.alpha),
                beta: F::of_f32(gemm.beta),
            },
            _ => Self::None,
        }
    }

    fn into_owned(self) -> NodeParameters<'static, F> {
        match self {
            Self::None => NodeParameters::None,
            Self::Conv(kernel) => NodeParameters::Conv(kernel.into_owned()),
            Self::Affine { scale, shift } => NodeParameters::Affine {
                scale: owned(scale),
                shift: owned(shift),
            },
            Self::Gemm {
                weight,
                bias,
                alpha,
                beta,
            } => NodeParameters::Gemm {
                weight: owned(weight),
                bias: bias.map(owned),
                alpha,
                beta,
            },
        }
    }
}

/// A tensor graph ready to run in precision `F` (`f32` or `f64`): the tensor-level reference
/// executor (DESIGN §8).
///
/// Built once per graph: in `f32` it borrows the graph's weights, in `f64` it widens them once.
#[derive(Clone, Debug)]
pub struct Reference<'g, F: Scalar> {
    graph: Cow<'g, TensorGraph>,
    parameters: Vec<NodeParameters<'g, F>>,
}

impl<'g, F: Scalar> Reference<'g, F> {
    /// The executor of `graph` in precision `F`.
    pub fn new(graph: &'g TensorGraph) -> Self {
        Self {
            graph: Cow::Borrowed(graph),
            parameters: graph
                .nodes
                .iter()
                .map(|node| NodeParameters::new(&node.op))
                .collect(),
        }
    }

    /// The same executor owning its graph and parameters (to keep beside other state).
    pub fn into_owned(self) -> Reference<'static, F> {
        Reference {
            graph: Cow::Owned(self.graph.into_owned()),
            parameters: self
                .parameters
                .into_iter()
                .map(NodeParameters::into_owned)
                .collect(),
        }
    }

    /// The graph it runs.
    pub fn graph(&self) -> &TensorGraph {
        &self.graph
    }

    /// Evaluates the graph with the exact activations on raw input values (one per model
    /// input, in order; preprocessing is applied here as the model says).
    pub fn forward(&self, inputs: &[ArrayD<f32>]) -> Result<ArrayD<F>> {
        self.forward_with(inputs, &Exact, &mut ())
    }

    /// [`Reference::forward`] with the activations evaluated by `mode`, which records what it
    /// observes of this evaluation in `observed`.
    pub fn forward_with<M: ActivationMode<F>>(
        &self,
        inputs: &[ArrayD<f32>],
        mode: &M,
        observed: &mut M::Observed,
    ) -> Result<ArrayD<F>> {
        let graph = self.graph();
        if inputs.len() != graph.inputs.len() {
            let names: Vec<&str> = graph
                .inputs
                .iter()
                .map(|&i| graph.node(i).name.as_str())
                .collect();
            return Err(FrontendError::InputMismatch {
                node: names.join(", "),
                message: format!(
                    "the model takes {} input(s), {} given",
                    names.len(),
                    inputs.len()
                ),
            });
        }
        let mut last_use = vec![0usize; graph.nodes.len()];
        for (index, node) in graph.nodes.iter().enumerate() {
            for input in &node.inputs {
                last_use[input.index()] = index;
            }
        }
        last_use[graph.output.index()] = usize::MAX;
        let mut values: Vec<Option<ArrayD<F>>> = vec![None; graph.nodes.len()];
        let mut next_input = inputs.iter();
        for (index, node) in graph.nodes.iter().enumerate() {
            let arg = |k: usize| {
                values[node.inputs[k].index()]
                    .as_ref()
                    .expect("inputs are evaluated before their readers and kept until then")
            };
            let value = match (&node.op, &self.parameters[index]) {
                (TensorOp::Input(preprocess), _) => {
                    let raw = next_input.next().expect("input count checked above");
                    if raw.shape() != node.shape.as_slice() {
                        return Err(FrontendError::InputMismatch {
                            node: node.name.clone(),
                            message: format!(
                                "expected shape {:?}, given {:?}",
                                node.shape,
                                raw.shape()
                            ),
                        });
                    }
                    let mut value = raw.clone();
                    if let Some(pre) = preprocess {
                        for (c, mut channel) in value.axis_iter_mut(Axis(0)).enumerate() {
                            channel.mapv_inplace(|x| pre.apply(c, x));
                        }
                    }
                    F::cast(&value).into_owned()
                }
                (TensorOp::Conv2d(_), NodeParameters::Conv(kernel)) => {
                    let x = arg(0)
                        .view()
                        .into_dimensionality::<Ix3>()
                        .expect("shape inferred as 3-D");
                    kernel.apply(x).into_dyn()
                }
                (TensorOp::ChannelAffine { .. }, NodeParameters::Affine { scale, shift }) => {
                    let mut y = arg(0).clone();
                    for (c, mut channel) in y.axis_iter_mut(Axis(0)).enumerate() {
                        channel.mapv_inplace(|x| x * scale[c] + shift[c]);
                    }
                    y
                }
                (TensorOp::Activation(kind), _) => mode.activate(index, *kind, arg(0), observed),
                (TensorOp::Add, _) => arg(0) + arg(1),
                (TensorOp::AvgPool { kernel, stride }, _) => {
                    avg_pool(arg(0), *kernel, *stride, &node.shape)
                }
                (TensorOp::GlobalAvgPool, _) => {
                    let x = arg(0);
                    let area = F::of_f64((x.shape()[1] * x.shape()[2]) as f64);
                    let means: Vec<F> = x
                        .axis_iter(Axis(0))
                        .map(|channel| channel.sum() / area)
                        .collect();
                    ArrayD::from_shape_vec(IxDyn(&node.shape), means).expect("one mean per channel")
                }
                (TensorOp::Flatten, _) => arg(0)
                    .as_standard_layout()
                    .into_owned()
                    .into_shape_with_order(IxDyn(&node.shape))
                    .expect("flatten keeps the element count"),
                (
                    TensorOp::Gemm(_),
                    NodeParameters::Gemm {
                        weight,
                        bias,
                        alpha,
                        beta,
                    },
                ) => {
                    let x = arg(0)
                        .view()
                        .into_dimensionality::<Ix1>()
                        .expect("shape inferred as 1-D");
                    let mut y: Array1<F> = weight.dot(&x);
                    if *alpha != F::one() {
                        y.mapv_inplace(|v| v * *alpha);
                    }
                    if let Some(bias) = bias {
                        y.zip_mut_with(bias, |v, &b| *v += *beta * b);
                    }
                    y.into_dyn()
                }
                (op, _) => unreachable!(
                    "the parameters of node {index} are built from its {} operation",
                    op.kind()
                ),
            };
            values[index] = Some(value);
            for input in &node.inputs {
                if last_use[input.index()] == index {
                    values[input.index()] = None;
                }
            }
        }
        Ok(values[graph.output.index()]
            .take()
            .expect("the output is kept to the end"))
    }

    /// Runs a single-input image model on the images `images` of `batch` in parallel with
    /// `mode`, calling `progress` after each image. Returns the flattened outputs (logits) in
    /// image order and everything the mode observed, merged.
    ///
    /// # Panics
    /// If `images` reaches past the end of the batch (callers bound it by `batch.len()`).
    pub fn run_batch_with<M: ActivationMode<F>>(
        &self,
        batch: &CifarBatch,
        images: Range<usize>,
        mode: &M,
        progress: &(dyn Fn() + Sync),
    ) -> Result<(Vec<Vec<F>>, M::Observed)> {
        assert!(
            images.end <= batch.len(),
            "images {images:?} past the batch's {}",
            batch.len()
        );
        let start = images.start;
        let (mut rows, observed) = images
            .into_par_iter()
            .try_fold(
                || (Vec::new(), mode.start()),
                |(mut rows, mut observed), index| {
                    let logits =
                        self.forward_with(&[image_tensor(batch, index)], mode, &mut observed)?;
                    progress();
                    rows.push((index, logits.iter().copied().collect::<Vec<F>>()));
                    Ok((rows, observed))
                },
            )
            .try_reduce(
                || (Vec::new(), mode.start()),
                |(mut rows, mut observed), (more_rows, more)| {
                    rows.extend(more_rows);
                    mode.merge(&mut observed, more);
                    Ok((rows, observed))
                },
            )?;
        rows.sort_unstable_by_key(|&(index, _)| index);
        debug_assert!(rows.iter().enumerate().all(|(k, (i, _))| k + start == *i));
        Ok((
            rows.into_iter().map(|(_, logits)| logits).collect(),
            observed,
        ))
    }
}

/// Image `index` of `batch` as a raw `[3, 32, 32]` float32 tensor.
pub fn image_tensor(batch: &CifarBatch, index: usize) -> ArrayD<f32> {
    let pixels: Vec<f32> = batch.image(index).iter().map(|&p| f32::from(p)).collect();
    ArrayD::from_shape_vec(IxDyn(&CIFAR_IMAGE_SHAPE), pixels)
        .expect("a CIFAR image has 3·32·32 pixels")
}

fn avg_pool<F: Scalar>(x: &ArrayD<F>, kernel: usize, stride: usize, shape: &[usize]) -> ArrayD<F> {
    let area = F::of_f64((kernel * kernel) as f64);
    let mut y = ArrayD::<F>::zeros(IxDyn(shape));
    for c in 0..shape[0] {
        for oy in 0..shape[1] {
            for ox in 0..shape[2] {
                let mut sum = F::zero();
                for ky in 0..kernel {
                    for kx in 0..kernel {
                        sum += x[[c, oy * stride + ky, ox * stride + kx]];
                    }
                }
                y[[c, oy, ox]] = sum / area;
            }
        }
    }
    y
}
