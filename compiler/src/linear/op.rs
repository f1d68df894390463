//! Linear tensor operations and their entries, independent of any slot layout.
//!
//! A [`LinearOp`] is a geometry ([`MapKind`]: convolution, average pool, global average pool,
//! fully connected, or a pure layout change) plus the names of its weight and bias tensors.
//! [`LinearOp::for_each_entry`] enumerates the structurally non-zero entries of the map from
//! input elements to output elements; each entry's coefficient is a [`Coef`]: an index into
//! the weight tensor (bound at run time) or a constant. Nothing here depends on weight values,
//! so the diagonal structure and the BSGS plan serve any weights of the same architecture.

use super::LinearError;
use serde::{Deserialize, Serialize};

/// The geometry of a linear map. Its RON form is the `map` selector of diagonal recipes.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum MapKind {
    /// 2-D convolution, weight `[Co, Ci/groups, kh, kw]`, zero padding on every side.
    Conv2d {
        /// Output channels `Co`.
        out_channels: usize,
        /// Kernel height and width.
        kernel: [usize; 2],
        /// Stride along y and x.
        stride: [usize; 2],
        /// Zero padding along y (top and bottom) and x (left and right).
        padding: [usize; 2],
        /// Channel groups (`Ci` and `Co` divisible by it).
        groups: usize,
    },
    /// Average pooling per channel, dividing by the kernel area (padding counts as zeros).
    AvgPool {
        /// Window height and width.
        kernel: [usize; 2],
        /// Stride along y and x.
        stride: [usize; 2],
        /// Zero padding along y and x.
        padding: [usize; 2],
    },
    /// Mean of each channel: `[C, H, W] → [C, 1, 1]`.
    GlobalAvgPool,
    /// Fully connected on the row-major flattened input, weight `[F, C·H·W]`: `[F, 1, 1]` out.
    Gemm {
        /// Output features `F`.
        out_features: usize,
    },
    /// The identity on tensors: only the layout changes.
    Relayout,
}

/// A linear operation: geometry and weight names; see the module documentation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LinearOp {
    /// The geometry.
    pub kind: MapKind,
    /// The weight tensor (convolutions and fully connected layers only).
    pub weight: Option<String>,
    /// The bias tensor, one value per output channel (convolutions and fully connected).
    pub bias: Option<String>,
}

/// The coefficient of one matrix entry.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Coef {
    /// The weight tensor's element at this row-major index.
    Weight(usize),
    /// A constant (pooling divisors, ones of a layout change).
    Const(f64),
}

impl LinearOp {
    /// An operation without weights (pooling, layout change).
    pub fn fixed(kind: MapKind) -> Self {
        LinearOp {
            kind,
            weight: None,
            bias: None,
        }
    }

    /// An operation with a weight tensor and an optional bias.
    pub fn weighted(kind: MapKind, weight: impl Into<String>, bias: Option<String>) -> Self {
        LinearOp {
            kind,
            weight: Some(weight.into()),
            bias,
        }
    }

    /// A short name for messages and for the recipe source of weightless maps (`@avg_pool`).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            MapKind::Conv2d { .. } => "conv2d",
            MapKind::AvgPool { .. } => "avg_pool",
            MapKind::GlobalAvgPool => "global_avg_pool",
            MapKind::Gemm { .. } => "gemm",
            MapKind::Relayout => "relayout",
        }
    }

    fn error(&self, message: impl Into<String>) -> LinearError {
        LinearError::Op {
            op: self.kind_name(),
            message: message.into(),
        }
    }

    /// The output shape for an input of shape `[C, H, W]`, checking the geometry and that the
    /// weight and bias names are present exactly when the kind takes them.
    pub fn output_shape(&self, [c, h, w]: [usize; 3]) -> Result<[usize; 3], LinearError> {
        let weighted = matches!(self.kind, MapKind::Conv2d { .. } | MapKind::Gemm { .. });
        if weighted != self.weight.is_some() || (!weighted && self.bias.is_some()) {
            return Err(self.error(if weighted {
                "needs a weight tensor"
            } else {
                "takes no weight or bias tensor"
            }));
        }
        let window = |kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]| {
            if kernel.contains(&0) || stride.contains(&0) {
                return Err(self.error("kernel and stride must be at least 1"));
            }
            let (ph, pw) = (h + 2 * padding[0], w + 2 * padding[1]);
            if kernel[0] > ph || kernel[1] > pw {
                return Err(self.error(format!(
                    "a {}x{} kernel does not fit a padded {ph}x{pw} input",
                    kernel[0], kernel[1]
                )));
            }
            Ok([
                (ph - kernel[0]) / stride[0] + 1,
                (pw - kernel[1]) / stride[1] + 1,
            ])
        };
        match self.kind {
            MapKind::Conv2d {
                out_channels,
                kernel,
                stride,
                padding,
                groups,
            } => {
                if groups == 0 || c % groups != 0 || out_channels % groups != 0 {
                    return Err(self.error(format!(
                        "{groups} groups do not divide {c} input and {out_channels} output channels"
                    )));
                }
                let [oh, ow] = window(kernel, stride, padding)?;
                Ok([out_channels, oh, ow])
            }
            MapKind::AvgPool {
                kernel,
                stride,
                padding,
            } => {
                let [oh, ow] = window(kernel, stride, padding)?;
                Ok([c, oh, ow])
            }
            MapKind::GlobalAvgPool => Ok([c, 1, 1]),
            MapKind::Gemm { out_features } if out_features > 0 => Ok([out_features, 1, 1]),
            MapKind::Gemm { .. } => Err(self.error("needs at least one output feature")),
            MapKind::Relayout => Ok([c, h, w]),
        }
    }

    /// The shape the weight tensor must have for an input of shape `[C, H, W]`.
    pub fn weight_shape(&self, [c, h, w]: [usize; 3]) -> Option<Vec<usize>> {
        match self.kind {
            MapKind::Conv2d {
                out_channels,
                kernel,
                groups,
                ..
            } => Some(vec![out_channels, c / groups.max(1), kernel[0], kernel[1]]),
            MapKind::Gemm { out_features } => Some(vec![out_features, c * h * w]),
            _ => None,
        }
    }

    /// Calls `entry(output element, input element, coefficient)` for every structurally
    /// non-zero entry of the map applied to an input of shape `input` (checked by
    /// [`LinearOp::output_shape`] first).
    pub fn for_each_entry(
        &self,
        input: [usize; 3],
        mut entry: impl FnMut([usize; 3], [usize; 3], Coef),
    ) -> Result<(), LinearError> {
        let out = self.output_shape(input)?;
        let [c, h, w] = input;
        match self.kind {
            MapKind::Conv2d {
                kernel,
                stride,
                padding,
                groups,
                ..
            } => {
                let (cin_g, cout_g) = (c / groups, out[0] / groups);
                let taps = Window::new(input, kernel, stride, padding);
                for co in 0..out[0] {
                    let group = co / cout_g;
                    for ci_local in 0..cin_g {
                        let ci = group * cin_g + ci_local;
                        let base = (co * cin_g + ci_local) * kernel[0] * kernel[1];
                        taps.each(out, |oy, ox, ky, kx, iy, ix| {
                            let index = base + ky * kernel[1] + kx;
                            entry([co, oy, ox], [ci, iy, ix], Coef::Weight(index));
                        });
                    }
                }
            }
            MapKind::AvgPool {
                kernel,
                stride,
                padding,
            } => {
                let divisor = 1.0 / (kernel[0] * kernel[1]) as f64;
                let taps = Window::new(input, kernel, stride, padding);
                for ch in 0..c {
                    taps.each(out, |oy, ox, _, _, iy, ix| {
                        entry([ch, oy, ox], [ch, iy, ix], Coef::Const(divisor));
                    });
                }
            }
            MapKind::GlobalAvgPool => {
                let divisor = 1.0 / (h * w) as f64;
                for ch in 0..c {
                    for y in 0..h {
                        for x in 0..w {
                            entry([ch, 0, 0], [ch, y, x], Coef::Const(divisor));
                        }
                    }
                }
            }
            MapKind::Gemm { out_features } => {
                let inputs = c * h * w;
                for o in 0..out_features {
                    for flat in 0..inputs {
                        let element = [flat / (h * w), flat / w % h, flat % w];
                        entry([o, 0, 0], element, Coef::Weight(o * inputs + flat));
                    }
                }
            }
            MapKind::Relayout => {
                for ch in 0..c {
                    for y in 0..h {
                        for x in 0..w {
                            entry([ch, y, x], [ch, y, x], Coef::Const(1.0));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The taps of a sliding window (convolution or pooling) that fall inside the input.
struct Window {
    input: [usize; 3],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
}

impl Window {
    fn new(input: [usize; 3], kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Self {
        Window {
            input,
            kernel,
            stride,
            padding,
        }
    }

    /// Calls `f(oy, ox, ky, kx, iy, ix)` for each output position and in-bounds tap.
    fn each(&self, out: [usize; 3], mut f: impl FnMut(usize, usize, usize, usize, usize, usize)) {
        let [_, h, w] = self.input;
        for oy in 0..out[1] {
            for ox in 0..out[2] {
                for ky in 0..self.kernel[0] {
                    let Some(iy) = (oy * self.stride[0] + ky).checked_sub(self.padding[0]) else {
                        continue;
                    };
                    if iy >= h {
                        continue;
                    }
                    for kx in 0..self.kernel[1] {
                        let Some(ix) = (ox * self.stride[1] + kx).checked_sub(self.padding[1])
                        else {
                            continue;
                        };
                        if ix < w {
                            f(oy, ox, ky, kx, iy, ix);
                        }
                    }
                }
            }
        }
    }
}
