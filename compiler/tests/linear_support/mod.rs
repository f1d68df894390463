//! Shared by the `linear_*` tests: one small map of every linear operation kind, with
//! deterministic pseudo-random weights.

#![allow(dead_code)]

use fhec_compiler::layout::Layout;
use fhec_compiler::linear::{
    BsgsPlan, LinearLowering, LinearMap, LinearOp, MapKind, Weights, emit, emit_with,
};
use fhec_ir::{Builder, IoSpec, Opaque, Program, Scale, Type};
use ndarray::{ArrayD, IxDyn};

/// A deterministic xorshift generator of values in [-1, 1].
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    pub fn vec(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.next()).collect()
    }
}

pub fn conv(out: usize, k: usize, s: usize, p: usize, groups: usize) -> LinearOp {
    LinearOp::weighted(
        MapKind::Conv2d {
            out_channels: out,
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            groups,
        },
        "w",
        Some("b".into()),
    )
}

pub fn layout(shape: [usize; 3], n: usize, gap: usize, mux: usize) -> Layout {
    Layout::strided(shape, n, gap, mux).unwrap()
}

/// One map per operation kind and layout situation (replicated input and output, gaps,
/// multiplexing, several ciphertexts in and out).
pub fn cases() -> Vec<(&'static str, LinearMap)> {
    let map = |op, from, to| LinearMap::new(op, from, to).unwrap();
    vec![
        (
            "conv3x3_s1",
            map(
                conv(3, 3, 1, 1, 1),
                layout([2, 4, 4], 64, 1, 1),
                layout([3, 4, 4], 64, 1, 1),
            ),
        ),
        (
            "conv3x3_s2_gapped_two_cts",
            map(
                conv(4, 3, 2, 1, 1),
                layout([2, 8, 8], 128, 1, 1),
                layout([4, 4, 4], 128, 2, 1),
            ),
        ),
        (
            "conv1x1_s2_multiplexed",
            map(
                conv(4, 1, 2, 0, 1),
                layout([4, 4, 4], 64, 1, 1),
                layout([4, 2, 2], 64, 2, 2),
            ),
        ),
        (
            "conv3x3_grouped_two_cts",
            map(
                conv(4, 3, 1, 1, 2),
                layout([4, 4, 4], 32, 1, 1),
                layout([4, 4, 4], 32, 1, 1),
            ),
        ),
        (
            "avgpool2x2_s2",
            map(
                LinearOp::fixed(MapKind::AvgPool {
                    kernel: [2, 2],
                    stride: [2, 2],
                    padding: [0, 0],
                }),
                layout([2, 4, 4], 32, 1, 1),
                layout([2, 2, 2], 32, 1, 1),
            ),
        ),
        (
            "global_avgpool",
            map(
                LinearOp::fixed(MapKind::GlobalAvgPool),
                layout([4, 4, 4], 64, 1, 1),
                layout([4, 1, 1], 64, 1, 1),
            ),
        ),
        (
            "gemm",
            map(
                LinearOp::weighted(MapKind::Gemm { out_features: 5 }, "w", Some("b".into())),
                layout([4, 2, 2], 16, 1, 1),
                layout([5, 1, 1], 16, 1, 1),
            ),
        ),
        (
            "relayout_to_gapped",
            map(
                LinearOp::fixed(MapKind::Relayout),
                layout([2, 4, 4], 128, 1, 1),
                layout([2, 4, 4], 128, 2, 1),
            ),
        ),
    ]
}

/// Random weights (and bias) of the shapes `map` needs.
pub fn weights(map: &LinearMap, seed: u64) -> Weights {
    let mut rng = Rng::new(seed);
    let mut out = Weights::new();
    if let Some(shape) = map.op().weight_shape(map.from().shape()) {
        let len = shape.iter().product();
        let data = rng.vec(len).into_iter().map(|v| v as f32).collect();
        out.insert(
            "w".into(),
            ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap(),
        );
        let channels = map.to().shape()[0];
        let bias = rng.vec(channels).into_iter().map(|v| v as f32).collect();
        out.insert(
            "b".into(),
            ArrayD::from_shape_vec(IxDyn(&[channels]), bias).unwrap(),
        );
    }
    out
}

pub fn io(name: &str, layout: &fhec_compiler::layout::Layout) -> IoSpec {
    IoSpec {
        name: name.into(),
        layout: Opaque::encode(layout).unwrap(),
    }
}

/// Lowers `map` from inputs at level 1, scale 2^40, with weights at scale q1.
pub fn lower(map: &LinearMap) -> (Program, LinearLowering) {
    lower_with(map, None)
}

/// [`lower`] with a given plan (the cheapest when `None`).
pub fn lower_with(map: &LinearMap, plan: Option<BsgsPlan>) -> (Program, LinearLowering) {
    let mut b = Builder::new();
    let n = map.from().slots() as u32;
    let inputs: Vec<_> = (0..map.from().cts())
        .map(|i| {
            b.input(
                io(&format!("x{i}"), map.from()),
                Type::cipher(1, Scale::pow2(40), n),
            )
        })
        .collect::<Result<_, _>>()
        .unwrap();
    let lowered = match plan {
        Some(plan) => emit_with(&mut b, map, &inputs, &Scale::prime(1), plan),
        None => emit(&mut b, map, &inputs, &Scale::prime(1)),
    }
    .unwrap();
    for (o, &y) in lowered.outputs.iter().enumerate() {
        b.output(y, io(&format!("y{o}"), map.to())).unwrap();
    }
    (b.finish(), lowered)
}
