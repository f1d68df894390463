//! The operators a model description may use.
//!
//! The set follows ONNX names where they exist. Activations form their own family
//! ([`Activation`]) so a new one (SiLU, GELU, Sigmoid, ...) is one new variant that every later
//! stage matches on, not a new kind of node.

use serde::{Deserialize, Serialize};

/// One operator with its attributes and the names of the weight tensors it reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// 2-D cross-correlation (PyTorch/ONNX `Conv`): weight `[out, in/groups, kh, kw]`,
    /// optional bias `[out]`, the same stride and zero padding on both spatial axes.
    Conv2d {
        /// Weight tensor name.
        weight: String,
        /// Bias tensor name, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bias: Option<String>,
        /// Step between output positions, on both axes.
        #[serde(default = "one")]
        stride: usize,
        /// Zero padding added on every side.
        #[serde(default)]
        padding: usize,
        /// Channel groups (1 = dense, `in` = depthwise).
        #[serde(default = "one")]
        groups: usize,
    },
    /// Inference batch normalisation over the first (channel) axis:
    /// `y = (x - mean) * scale / sqrt(var + eps) + bias`. The frontend folds it into the
    /// convolution before it when it can.
    BatchNorm {
        /// Per-channel scale (gamma) tensor name.
        scale: String,
        /// Per-channel shift (beta) tensor name.
        bias: String,
        /// Running mean tensor name.
        mean: String,
        /// Running variance tensor name.
        var: String,
        /// Added to the variance before the square root.
        #[serde(default = "default_eps")]
        eps: f32,
    },
    /// An elementwise nonlinearity.
    Activation(Activation),
    /// Elementwise sum of two tensors of the same shape.
    Add,
    /// Average over `kernel × kernel` windows moved by `stride`, no padding.
    AvgPool {
        /// Window side.
        kernel: usize,
        /// Step between windows.
        stride: usize,
    },
    /// Mean over the spatial axes: `[C, H, W] → [C, 1, 1]` (ONNX `GlobalAveragePool`).
    GlobalAvgPool,
    /// Flattens to one axis: `[C, H, W] → [C·H·W]` (ONNX `Flatten` with `axis = 1`).
    Flatten,
    /// Fully connected layer (ONNX `Gemm` on one sample): `y = alpha · W x + beta · bias`.
    Gemm {
        /// Weight tensor name: `[out, in]` when `trans_b`, else `[in, out]`.
        weight: String,
        /// Bias tensor name (`[out]`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bias: Option<String>,
        /// Whether the weight is stored transposed (`[out, in]`, PyTorch `Linear`).
        #[serde(default)]
        trans_b: bool,
        /// Scale of the product.
        #[serde(default = "one_f32")]
        alpha: f32,
        /// Scale of the bias.
        #[serde(default = "one_f32")]
        beta: f32,
    },
}

/// Elementwise activation functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
}

impl Activation {
    /// Applies the function to one value, in the reference's precision (f32 or f64).
    pub fn apply<F: ndarray::NdFloat>(self, x: F) -> F {
        match self {
            Activation::Relu => x.max(F::zero()),
        }
    }
}

impl Op {
    /// How many inputs the operator takes.
    pub fn arity(&self) -> usize {
        match self {
            Op::Add => 2,
            _ => 1,
        }
    }

    /// The operator's name as written in a model file.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Conv2d { .. } => "Conv2d",
            Op::BatchNorm { .. } => "BatchNorm",
            Op::Activation(Activation::Relu) => "Relu",
            Op::Add => "Add",
            Op::AvgPool { .. } => "AvgPool",
            Op::GlobalAvgPool => "GlobalAvgPool",
            Op::Flatten => "Flatten",
            Op::Gemm { .. } => "Gemm",
        }
    }

    /// The weight tensors the operator reads, in a fixed order.
    pub fn weight_names(&self) -> Vec<&str> {
        match self {
            Op::Conv2d { weight, bias, .. } | Op::Gemm { weight, bias, .. } => {
                std::iter::once(weight.as_str())
                    .chain(bias.as_deref())
                    .collect()
            }
            Op::BatchNorm {
                scale,
                bias,
                mean,
                var,
                ..
            } => vec![scale, bias, mean, var],
            _ => Vec::new(),
        }
    }
}

fn one() -> usize {
    1
}

fn one_f32() -> f32 {
    1.0
}

fn default_eps() -> f32 {
    1e-5
}
