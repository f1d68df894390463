//! Convolution as im2col plus one matrix product per channel group.
//!
//! For output channel group `g`, the input patches are laid out as a matrix with one row per
//! (input channel, kernel row, kernel column) and one column per output position; the
//! product with the `[out/g, in/g·kh·kw]` weight matrix gives every output of the group at once,
//! using ndarray's blocked matrix multiply.

use ndarray::{Array3, ArrayView3, Axis, s};

use crate::graph::Conv2d;

/// Cross-correlates a `[C, H, W]` input with `conv`, giving `[out, Ho, Wo]`.
pub fn conv2d(input: ArrayView3<'_, f32>, conv: &Conv2d) -> Array3<f32> {
    let (channels, height, width) = input.dim();
    let (out, group_in, kh, kw) = conv.weight.dim();
    let (stride, pad) = (conv.stride, conv.padding);
    let out_h = (height + 2 * pad - kh) / stride + 1;
    let out_w = (width + 2 * pad - kw) / stride + 1;
    let group_out = out / conv.groups;
    let rows = group_in * kh * kw;
    let standard = conv.weight.as_standard_layout();
    let weight = standard
        .view()
        .into_shape_with_order((out, rows))
        .expect("a standard-layout [out, in, kh, kw] array reshapes to [out, in·kh·kw]");
    let mut result = Array3::<f32>::zeros((out, out_h, out_w));
    let mut columns = vec![0.0f32; rows * out_h * out_w];
    for group in 0..conv.groups {
        let group_input = input.slice(s![group * group_in..(group + 1) * group_in, .., ..]);
        debug_assert_eq!(group_input.len_of(Axis(0)) * conv.groups, channels);
        fill_columns(&mut columns, group_input, kh, kw, stride, pad, out_h, out_w);
        let patches = ndarray::ArrayView2::from_shape((rows, out_h * out_w), &columns)
            .expect("the column buffer has rows × positions entries");
        let product = weight
            .slice(s![group * group_out..(group + 1) * group_out, ..])
            .dot(&patches);
        let mut target = result
            .slice_mut(s![group * group_out..(group + 1) * group_out, .., ..])
            .into_shape_with_order((group_out, out_h * out_w))
            .expect("a slice of whole channels is contiguous");
        target.assign(&product);
    }
    if let Some(bias) = &conv.bias {
        for (mut channel, &b) in result.axis_iter_mut(Axis(0)).zip(bias) {
            channel.mapv_inplace(|v| v + b);
        }
    }
    result
}

/// Writes the im2col matrix of `input` into `columns` (zero where the window leaves the input).
#[expect(clippy::too_many_arguments, reason = "the geometry of one convolution")]
fn fill_columns(
    columns: &mut [f32],
    input: ArrayView3<'_, f32>,
    kh: usize,
    kw: usize,
    stride: usize,
    pad: usize,
    out_h: usize,
    out_w: usize,
) {
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
                        line.fill(0.0);
                        continue;
                    }
                    for (ox, slot) in line.iter_mut().enumerate() {
                        let ix = (ox * stride + kx).wrapping_sub(pad);
                        *slot = if ix < width { input[[c, iy, ix]] } else { 0.0 };
                    }
                }
            }
        }
    }
}
