//! The reference executor's two precisions: f32 and f64 agree on random models to float32
//! rounding (exact and approximated activations), and f64 reproduces a hand-computed result
//! bit for bit where f32 cannot.

mod common;
mod lower_support;

use common::{cifar_resnet, random_pixels, random_tensors, write_weights};
use fhec_compiler::frontend::build_graph;
use fhec_compiler::graph::{Conv2d, Gemm, NodeId, TensorGraph, TensorNode, TensorOp};
use fhec_compiler::model::{Activation, ModelDescription};
use fhec_compiler::reference::{ApproxActivations, Reference, Scalar, forward};
use fhec_compiler::weights::WeightFile;
use lower_support::{Rng, approximations, relu, residual_block};
use ndarray::{Array1, Array2, Array4, ArrayD, IxDyn, array};

/// Asserts `a` and `b` agree within `tol` relative to the largest `|b|`; returns the largest
/// absolute difference.
fn assert_agree<A: Scalar, B: Scalar>(a: &ArrayD<A>, b: &ArrayD<B>, tol: f64) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let peak = b.iter().fold(0.0f64, |m, v| m.max(v.into_f64().abs()));
    let diff = a.iter().zip(b).fold(0.0f64, |m, (x, y)| {
        m.max((x.into_f64() - y.into_f64()).abs())
    });
    assert!(
        diff <= tol * peak,
        "largest difference {diff:e}, {tol:e} × peak {peak:e} allowed"
    );
    diff
}

/// A ResNet-8 (BatchNorm folded, preprocessing, global pooling, a fully connected layer) with
/// random weights.
fn random_resnet() -> TensorGraph {
    let dir = tempfile::tempdir().unwrap();
    let (ron, specs) = cifar_resnet(1, 4, 16);
    let tensors = random_tensors(8, &specs);
    let model_path = dir.path().join("model.ron");
    let desc = ModelDescription::from_ron(&ron, &model_path).expect("parse");
    let weights = WeightFile::load(&write_weights(dir.path(), "w.safetensors", &tensors))
        .expect("load weights");
    build_graph(&desc, &model_path, &weights).expect("build graph")
}

#[test]
fn f32_and_f64_agree_on_a_random_resnet() {
    let graph = random_resnet();
    let single = Reference::<f32>::new(&graph);
    let double = Reference::<f64>::new(&graph);
    let mut largest = 0.0f64;
    for seed in 0..3 {
        let pixels = random_pixels(40 + seed, 3 * 16 * 16);
        let input = ArrayD::from_shape_vec(IxDyn(&[3, 16, 16]), pixels).unwrap();
        let low = single.forward(std::slice::from_ref(&input)).unwrap();
        let high = double.forward(std::slice::from_ref(&input)).unwrap();
        largest = largest.max(assert_agree(&low, &high, 1e-5));
        // The free function is the f32 executor.
        assert_eq!(forward(&graph, &[input]).unwrap(), low);
    }
    // Two precisions that computed the same thing would make this test vacuous.
    assert!(largest > 0.0, "f64 gave the f32 results exactly");
}

#[test]
fn f32_and_f64_agree_with_approximated_activations() {
    let graph = residual_block();
    let approx = approximations(&graph, &relu(12.0, 15));
    let mode = ApproxActivations::new(&graph, &approx).unwrap();
    let double = Reference::<f64>::new(&graph).into_owned();
    let input = Rng::new(5).tensor(&[4, 4, 4]);
    let (mut seen_low, mut seen_high) = (mode.start(), mode.start());
    let low = Reference::<f32>::new(&graph)
        .forward_with(std::slice::from_ref(&input), &mode, &mut seen_low)
        .unwrap();
    let high = double
        .forward_with(std::slice::from_ref(&input), &mode, &mut seen_high)
        .unwrap();
    assert_agree(&low, &high, 1e-5);
    // Both precisions saw every activation input, and the same ones out of range.
    for (a, b) in seen_low.iter().zip(&seen_high) {
        assert_eq!((a.total, a.outside), (b.total, b.outside));
        assert_eq!(a.total, 64);
    }
    // The polynomials do change the result: it is not the exact model's.
    let exact = double.forward(&[input]).unwrap();
    assert!(exact.iter().zip(&high).any(|(e, h)| (e - h).abs() > 1e-6));
}

/// A node of the hand-built graph.
fn node(name: &str, op: TensorOp, inputs: &[u32], shape: &[usize]) -> TensorNode {
    TensorNode {
        name: name.into(),
        op,
        inputs: inputs.iter().map(|&i| NodeId(i)).collect(),
        shape: shape.to_vec(),
        folded: Vec::new(),
    }
}

#[test]
fn f64_is_exact_where_f32_rounds() {
    // e = 2^-20; every weight and input is a float32, every intermediate result needs more
    // than float32's 24 bits and at most float64's 53.
    let e = 2f64.powi(-20);
    let w = (1.0 + e) as f32;
    let nodes = vec![
        node("x", TensorOp::Input(None), &[], &[1, 2, 2]),
        node(
            "conv",
            TensorOp::Conv2d(Conv2d {
                weight: Array4::from_elem((1, 1, 1, 1), w),
                bias: None,
                stride: 1,
                padding: 0,
                groups: 1,
            }),
            &[0],
            &[1, 2, 2],
        ),
        node("add", TensorOp::Add, &[1, 0], &[1, 2, 2]),
        node(
            "relu",
            TensorOp::Activation(Activation::Relu),
            &[2],
            &[1, 2, 2],
        ),
        node(
            "pool",
            TensorOp::AvgPool {
                kernel: 2,
                stride: 2,
            },
            &[3],
            &[1, 1, 1],
        ),
        node("flat", TensorOp::Flatten, &[4], &[1]),
        node(
            "fc",
            TensorOp::Gemm(Gemm {
                weight: Array2::from_elem((1, 1), 3.0),
                bias: Some(Array1::from_elem(1, 2f32.powi(-30))),
                alpha: 0.5,
                beta: 1.0,
            }),
            &[5],
            &[1],
        ),
    ];
    let graph = TensorGraph {
        name: "hand".into(),
        nodes,
        inputs: vec![NodeId(0)],
        output: NodeId(6),
        warnings: Vec::new(),
    };
    let input = array![[[w, 3.0], [5.0, 7.0]]].into_dyn();
    // conv: (1+e)², 3+3e, 5+5e, 7+7e; add x: 2+3e+e², 6+3e, 10+5e, 14+7e; their mean:
    // 8 + 4.5e + e²/4; fc: 0.5 · 3 · mean + 2^-30.
    let want = 12.0 + 6.75 * e + 0.375 * e * e + 2f64.powi(-30);
    let high = Reference::<f64>::new(&graph)
        .forward(std::slice::from_ref(&input))
        .unwrap();
    assert_eq!(high.as_slice().unwrap(), &[want]);
    let low = Reference::<f32>::new(&graph).forward(&[input]).unwrap();
    let got = f64::from(low[[0]]);
    assert_ne!(got, want, "f32 cannot hold the exact result");
    assert!((got - want).abs() <= 1e-6 * want);
}
