//! The tensor-level reference executor (DESIGN §8): runs a [`TensorGraph`] on f32 ndarrays.
//!
//! This is where accuracy is measured. It evaluates nodes in graph order, freeing each value
//! after its last reader, and runs many images in parallel with rayon.
//!
//! Activations go through an [`ActivationMode`]: [`Exact`] applies the function itself,
//! [`ApproxActivations`] the polynomial the compiler chose (`fhec plain --approx`), and
//! calibration (`crate::calibrate`) observes the inputs while applying the exact function.

mod accuracy;
mod approx;
mod conv;
mod mode;

pub use accuracy::{AccuracyReport, arg_max, load_logits};
pub use approx::{ApproxActivations, ApproxError, approximated_function};
pub use conv::conv2d;
pub use mode::{ActivationMode, Exact, run_batch_with};

use ndarray::{Array1, ArrayD, Axis, Ix1, Ix3, IxDyn};

use crate::data::CifarBatch;
use crate::error::{FrontendError, Result};
use crate::graph::{TensorGraph, TensorOp};

/// Evaluates `graph` on raw input values (one per model input, in order; preprocessing is
/// applied here as the model says) and returns the output.
pub fn forward(graph: &TensorGraph, inputs: &[ArrayD<f32>]) -> Result<ArrayD<f32>> {
    forward_with(graph, inputs, &Exact, &mut ())
}

/// [`forward`] with the activations evaluated by `mode`, which records what it observes of
/// this evaluation in `observed`.
pub fn forward_with<M: ActivationMode>(
    graph: &TensorGraph,
    inputs: &[ArrayD<f32>],
    mode: &M,
    observed: &mut M::Observed,
) -> Result<ArrayD<f32>> {
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
    let mut values: Vec<Option<ArrayD<f32>>> = vec![None; graph.nodes.len()];
    let mut next_input = inputs.iter();
    for (index, node) in graph.nodes.iter().enumerate() {
        let arg = |k: usize| {
            values[node.inputs[k].index()]
                .as_ref()
                .expect("inputs are evaluated before their readers and kept until then")
        };
        let value = match &node.op {
            TensorOp::Input(preprocess) => {
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
                value
            }
            TensorOp::Conv2d(conv) => {
                let x = arg(0)
                    .view()
                    .into_dimensionality::<Ix3>()
                    .expect("shape inferred as 3-D");
                conv2d(x, conv).into_dyn()
            }
            TensorOp::ChannelAffine { scale, shift } => {
                let mut y = arg(0).clone();
                for (c, mut channel) in y.axis_iter_mut(Axis(0)).enumerate() {
                    channel.mapv_inplace(|x| x * scale[c] + shift[c]);
                }
                y
            }
            TensorOp::Activation(kind) => mode.activate(index, *kind, arg(0), observed),
            TensorOp::Add => arg(0) + arg(1),
            TensorOp::AvgPool { kernel, stride } => avg_pool(arg(0), *kernel, *stride, &node.shape),
            TensorOp::GlobalAvgPool => {
                let x = arg(0);
                let area = (x.shape()[1] * x.shape()[2]) as f32;
                let sums: Vec<f32> = x
                    .axis_iter(Axis(0))
                    .map(|channel| channel.sum() / area)
                    .collect();
                ArrayD::from_shape_vec(IxDyn(&node.shape), sums).expect("one mean per channel")
            }
            TensorOp::Flatten => arg(0)
                .as_standard_layout()
                .into_owned()
                .into_shape_with_order(IxDyn(&node.shape))
                .expect("flatten keeps the element count"),
            TensorOp::Gemm(gemm) => {
                let x = arg(0)
                    .view()
                    .into_dimensionality::<Ix1>()
                    .expect("shape inferred as 1-D");
                let mut y: Array1<f32> = gemm.weight.dot(&x);
                if gemm.alpha != 1.0 {
                    y.mapv_inplace(|v| v * gemm.alpha);
                }
                if let Some(bias) = &gemm.bias {
                    y.zip_mut_with(bias, |v, &b| *v += gemm.beta * b);
                }
                y.into_dyn()
            }
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

fn avg_pool(x: &ArrayD<f32>, kernel: usize, stride: usize, shape: &[usize]) -> ArrayD<f32> {
    let area = (kernel * kernel) as f32;
    let mut y = ArrayD::<f32>::zeros(IxDyn(shape));
    for c in 0..shape[0] {
        for oy in 0..shape[1] {
            for ox in 0..shape[2] {
                let mut sum = 0.0;
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

/// Runs a single-input image model on every image of `batch` in parallel and returns the
/// flattened outputs (logits), calling `progress` after each image.
pub fn run_batch(
    graph: &TensorGraph,
    batch: &CifarBatch,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<f32>>> {
    let (logits, ()) = run_batch_with(graph, batch, 0..batch.len(), &Exact, progress)?;
    Ok(logits)
}
