//! The weight tensors a lowered program's recipes name, taken from the tensor graph.
//!
//! Recipes name tensors `<node>.weight` and `<node>.bias` and are bound at run time (DESIGN
//! §3), so one program serves any weights of the same architecture. They are read from the
//! validated [`TensorGraph`] rather than the weights file because the frontend has already
//! rewritten them: BatchNorm folded into the convolution before it, a lone BatchNorm turned
//! into a channel-wise affine map (lowered as a depthwise 1×1 convolution: weight
//! `[C, 1, 1, 1]` = its scale, bias = its shift), a Gemm's `alpha` and `beta` multiplied into
//! its weight and bias.

use crate::graph::{TensorGraph, TensorOp};
use crate::linear::Weights;
use ndarray::{ArrayD, IxDyn};

/// The name of a node's weight tensor in recipes.
pub fn weight_name(node: &str) -> String {
    format!("{node}.weight")
}

/// The name of a node's bias tensor in recipes.
pub fn bias_name(node: &str) -> String {
    format!("{node}.bias")
}

/// Every tensor the lowering of `graph` names, by name.
pub fn graph_weights(graph: &TensorGraph) -> Weights {
    let mut weights = Weights::new();
    for node in &graph.nodes {
        let mut put = |name: String, tensor: ArrayD<f32>| {
            weights.insert(name, tensor);
        };
        match &node.op {
            TensorOp::Conv2d(conv) => {
                put(weight_name(&node.name), conv.weight.clone().into_dyn());
                if let Some(bias) = &conv.bias {
                    put(bias_name(&node.name), bias.clone().into_dyn());
                }
            }
            TensorOp::Gemm(gemm) => {
                put(
                    weight_name(&node.name),
                    gemm.weight.mapv(|w| w * gemm.alpha).into_dyn(),
                );
                if let Some(bias) = &gemm.bias {
                    put(
                        bias_name(&node.name),
                        bias.mapv(|b| b * gemm.beta).into_dyn(),
                    );
                }
            }
            TensorOp::ChannelAffine { scale, shift } => {
                let channels = scale.len();
                let weight = ArrayD::from_shape_vec(IxDyn(&[channels, 1, 1, 1]), scale.to_vec())
                    .expect("one weight per channel");
                put(weight_name(&node.name), weight);
                put(bias_name(&node.name), shift.clone().into_dyn());
            }
            _ => {}
        }
    }
    weights
}
