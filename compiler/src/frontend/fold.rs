//! BatchNorm folding.
//!
//! Inference BatchNorm is the per-channel affine map `y = A·(x − mean) + beta` with
//! `A = gamma / sqrt(var + eps)`. When its input is a convolution read by nothing else, the map
//! is folded into that convolution: `W' = A·W` (computed in f64, rounded once to f32) and
//! `b' = gamma·(b − mean)/sqrt(var + eps) + beta` in f32. Without a conv bias this is exactly
//! the usual float32 rule `b' = beta − gamma·mean/sqrt(var + eps)` (the data README's), so
//! folding here reproduces the pre-folded weights bit for bit. A BatchNorm that cannot be
//! folded becomes a [`TensorOp::ChannelAffine`] with the same `A` and shift.

use ndarray::{Array1, Axis};

use super::build::GraphBuilder;
use crate::error::Result;
use crate::graph::{NodeId, TensorNode, TensorOp};
use crate::model::{NodeDescription, Op};

/// The per-channel parameters of one BatchNorm, as float32 vectors.
struct BatchNormParams {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl BatchNormParams {
    /// `A = gamma / sqrt(var + eps)`.
    fn factor(&self) -> Array1<f32> {
        self.gamma
            .iter()
            .zip(&self.std)
            .map(|(g, s)| g / s)
            .collect()
    }

    /// The folded shift for a preceding bias `b` (zero when absent).
    fn shift(&self, bias: Option<&Array1<f32>>) -> Array1<f32> {
        (0..self.gamma.len())
            .map(|c| {
                let centred = bias.map_or(0.0, |b| b[c]) - self.mean[c];
                self.gamma[c] * centred / self.std[c] + self.beta[c]
            })
            .collect()
    }
}

/// Adds a BatchNorm node: folded into its input convolution when possible, otherwise as a
/// channel affine node.
pub(crate) fn batch_norm(
    builder: &mut GraphBuilder<'_>,
    node: &NodeDescription,
    input: NodeId,
    shape: &[usize],
) -> Result<()> {
    let Op::BatchNorm {
        scale,
        bias,
        mean,
        var,
        eps,
    } = &node.op
    else {
        return Err(builder.graph_error(&node.name, "not a BatchNorm node".into()));
    };
    let name = node.name.as_str();
    let Some(&channels) = shape.first() else {
        return Err(builder.shape_error(name, "BatchNorm of a scalar".into()));
    };
    let take = |tensor: &str| {
        builder
            .weight(name, tensor, &[Some(channels)])
            .map(|t| t.data)
    };
    let var = take(var)?;
    let params = BatchNormParams {
        gamma: take(scale)?,
        beta: take(bias)?,
        mean: take(mean)?,
        std: var.iter().map(|v| (v + eps).sqrt()).collect(),
    };
    let factor = params.factor();
    let foldable = matches!(builder.nodes[input.index()].op, TensorOp::Conv2d(_))
        && builder.has_single_reader(&node.inputs[0]);
    if foldable {
        let target = &mut builder.nodes[input.index()];
        if let TensorOp::Conv2d(conv) = &mut target.op {
            conv.bias = Some(params.shift(conv.bias.as_ref()));
            for (mut filter, &a) in conv.weight.axis_iter_mut(Axis(0)).zip(&factor) {
                filter.mapv_inplace(|w| (f64::from(w) * f64::from(a)) as f32);
            }
        }
        target.folded.push(name.to_owned());
        builder.ids.insert(name.to_owned(), input);
        return Ok(());
    }
    builder.push(TensorNode {
        name: name.to_owned(),
        op: TensorOp::ChannelAffine {
            scale: factor,
            shift: params.shift(None),
        },
        inputs: vec![input],
        shape: shape.to_vec(),
        folded: Vec::new(),
    });
    Ok(())
}
