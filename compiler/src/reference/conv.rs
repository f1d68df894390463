//! Convolution as im2col plus one matrix product per channel group.
//!
//! For output channel group `g`, the input patches are laid out as a matrix with one row per
//! (input channel, kernel row, kernel column) and one column per output position; the
//! product with the `[out/g, in/g·kh·kw]` weight matrix gives every output of the group at once,
//! using ndarray's blocked matrix multiply.

use ndarray::{Array3, ArrayView2, ArrayView3, Axis, CowArray, Ix1, Ix2, s};

use super::scalar::Scalar;
use crate::graph::Conv2d;

/// A convolution's weights in precision `F`, flattened once to the `[out, in/groups·kh·kw]`
/// matrix the product uses.
#[derive(Clone, Debug)]
pub(super) struct ConvKernel<'g, F: Scalar> {
    weight: CowArray<'g, F, Ix2>,
    bias: Option<CowArray<'g, F, Ix1>>,
    kh: usize,
    kw: usize,
    stride: usize,
    pad: usize,
    groups: usize,
}

impl<'g, F: Scalar> ConvKernel<'g, F> {
    /// The kernel of `conv` (borrowing its weights when `F` is `f32`).
    pub(super) fn new(conv: &'g Conv2d) -> Self {
        let (out, group_in, kh, kw) = conv.weight.dim();
        let mut weight = F::cast(&conv.weight);
        if !weight.is_standard_layout() {
            weight = CowArray::from(weight.as_standard_layout().into_owned());
        }
        let weight = weight
            .into_shape_with_order((out, group_in * kh * kw))
            .expect("a standard-layout [out, in, kh, kw] array reshapes to [out, in·kh·kw]");
        Self {
            weight,
            bias: conv.bias.as_ref().map(F::cast),
            kh,
            kw,
            stride: conv.stride,
            pad: conv.padding,
            groups: conv.groups,
        }
    }

    /// The same kernel owning its weights.
    pub(super) fn into_owned(self) -> ConvKernel<'static, F> {
        ConvKernel {
            weight: CowArray::from(self.weight.into_owned()),
            bias: self.bias.map(|b| CowArray::from(b.into_owned())),
            ..self
        }
    }

    /// Cross-correlates a `[C, H, W]` input with the kernel, giving `[out, Ho, Wo]`.
    pub(super) fn apply(&self, input: ArrayView3<'_, F>) -> Array3<F> {
        let (channels, height, width) = input.dim();
        let (out, rows) = self.weight.dim();
        let (kh, kw, stride, pad) = (self.kh, self.kw, self.stride, self.pad);
        let out_h = (height + 2 * pad - kh) / stride + 1;
        let out_w = (width + 2 * pad - kw) / stride + 1;
        let group_out = out / self.groups;
        let group_in = rows / (kh * kw);
        let mut result = Array3::<F>::zeros((out, out_h, out_w));
        let mut columns = vec![F::zero(); rows * out_h * out_w];
        let geometry = Geometry {
            kh,
            kw,
            stride,
            pad,
            out_h,
            out_w,
        };
        for group in 0..self.groups {
            let group_input = input.slice(s![group * group_in..(group + 1) * group_in, .., ..]);
            debug_assert_eq!(group_input.len_of(Axis(0)) * self.groups, channels);
            fill_columns(&mut columns, group_input, &geometry);
            let patches = ArrayView2::from_shape((rows, out_h * out_w), &columns)
                .expect("the column buffer has rows × positions entries");
            let product = self
                .weight
                .slice(s![group * group_out..(group + 1) * group_out, ..])
                .dot(&patches);
            let mut target = result
                .slice_mut(s![group * group_out..(group + 1) * group_out, .., ..])
                .into_shape_with_order((group_out, out_h * out_w))
                .expect("a slice of whole channels is contiguous");
            target.assign(&product);
        }
        if let Some(bias) = &self.bias {
            for (mut channel, &b) in result.axis_iter_mut(Axis(0)).zip(bias) {
                channel.mapv_inplace(|v| v + b);
            }
        }
        result
    }
}

/// Kernel size, step, padding and output size of one convolution.
struct Geometry {
    kh: usize,
    kw: usize,
    stride: usize,
    pad: usize,
    out_h: usize,
    out_w: usize,
}

/// Writes the im2col matrix of `input` into `columns` (zero where the window leaves the input).
fn fill_columns<F: Scalar>(columns: &mut [F], input: ArrayView3<'_, F>, geometry: &Geometry) {
    let (kh, kw, stride, pad) = (geometry.kh, geometry.kw, geometry.stride, geometry.pad);
    let (out_h, out_w) = (geometry.out_h, geometry.out_w);
    let (channels, height, width) = input.dim();
    let positions = out_h * out_w;
    for c in 0..channels {
        for ky in 0..kh {
            for kx in 0..kw {
                let row = ((c * kh + ky) * kw + kx) * positions;
                let dest = &mut columns[row..row + positions];
                for oy in 0..out_h {
                    let iy = (oy * stride + ky).wrapping_sub(pad);
                    let line = &mut dest[oy * out_w..(oy + 1) * out_w];
                    if iy >= height {
                        line.fill(F::zero());
                        continue;
                    }
                    for (ox, slot) in line.iter_mut().enumerate() {
                        let ix = (ox * stride + kx).wrapping_sub(pad);
                        *slot = if ix < width {
                            input[[c, iy, ix]]
                        } else {
                            F::zero()
                        };
                    }
                }
            }
        }
    }
}
