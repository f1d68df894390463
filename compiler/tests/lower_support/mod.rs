//! Shared by the `lower_*` tests (compiler and root): small models written inline as RON with
//! deterministic random weights, built into tensor graphs, and their activations' polynomials.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use fhec_compiler::frontend::build_graph;
use fhec_compiler::graph::{TensorGraph, TensorOp};
use fhec_compiler::model::ModelDescription;
use fhec_compiler::poly::{Activation, ActivationApprox, InputMap, Interval, PlanObjective};
use fhec_compiler::weights::{WeightFile, WeightTensor, write_safetensors};
use ndarray::{ArrayD, IxDyn};
use std::collections::BTreeMap;
use std::path::Path;

/// A deterministic xorshift generator of values in [-1, 1].
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0) as f32
    }

    pub fn tensor(&mut self, shape: &[usize]) -> ArrayD<f32> {
        let values = (0..shape.iter().product()).map(|_| self.next()).collect();
        ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape and length agree")
    }
}

/// A model description around `nodes` (RON node list), with `inputs` (RON input list) and
/// `output`.
pub fn model(name: &str, inputs: &str, nodes: &str, output: &str) -> String {
    format!(
        "#![enable(implicit_some)]\nModel(name: \"{name}\", weights: ModelDir(\"w.safetensors\"), \
         inputs: [{inputs}], nodes: [{nodes}], output: \"{output}\")"
    )
}

/// Builds the graph of `ron` with random weights of the given names and shapes (values in
/// [-1, 1]; tensors named `*var` in [0.5, 1.5]).
pub fn graph(ron: &str, tensors: &[(&str, &[usize])], seed: u64) -> TensorGraph {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut rng = Rng::new(seed);
    let tensors: Vec<(String, WeightTensor)> = tensors
        .iter()
        .map(|(name, shape)| {
            let positive = name.ends_with("var");
            let data = (0..shape.iter().product())
                .map(|_| rng.next())
                .map(|v| if positive { v.abs() + 0.5 } else { v })
                .collect();
            let tensor = WeightTensor {
                shape: shape.to_vec(),
                data,
            };
            (name.to_string(), tensor)
        })
        .collect();
    let path = dir.path().join("w.safetensors");
    write_safetensors(&path, &tensors).expect("write weights");
    let desc = ModelDescription::from_ron(ron, Path::new("test.ron")).expect("model parses");
    let file = WeightFile::load(&path).expect("weights load");
    build_graph(&desc, Path::new("test.ron"), &file).expect("model validates")
}

/// A ReLU approximation: the Chebyshev interpolant of `degree` on `[-bound, bound]`, input map
/// folded into the producer.
pub fn relu(bound: f64, degree: usize) -> ActivationApprox {
    ActivationApprox::chebyshev(
        Activation::Relu,
        Interval {
            lo: -bound,
            hi: bound,
        },
        degree,
        PlanObjective::FewestProducts,
        InputMap::Folded,
    )
    .expect("approximation builds")
}

/// The same approximation for every activation node of `graph`.
pub fn approximations(
    graph: &TensorGraph,
    approx: &ActivationApprox,
) -> BTreeMap<String, ActivationApprox> {
    graph
        .nodes
        .iter()
        .filter(|n| matches!(n.op, TensorOp::Activation(_)))
        .map(|n| (n.name.clone(), approx.clone()))
        .collect()
}

/// One conv: `[2, 4, 4]` input, 3×3 convolution to 2 channels with bias.
pub fn one_conv() -> TensorGraph {
    let ron = model(
        "one_conv",
        r#"Input(name: "x", shape: [2, 4, 4])"#,
        r#"Node(name: "conv", op: Conv2d(weight: "conv.weight", bias: "conv.bias", padding: 1), inputs: ["x"])"#,
        "conv",
    );
    graph(
        &ron,
        &[("conv.weight", &[2, 2, 3, 3]), ("conv.bias", &[2])],
        1,
    )
}

/// One residual block on `[4, 4, 4]`: conv, ReLU, conv, add the input, ReLU.
pub fn residual_block() -> TensorGraph {
    let ron = model(
        "residual_block",
        r#"Input(name: "x", shape: [4, 4, 4])"#,
        r#"
        Node(name: "conv1", op: Conv2d(weight: "conv1.weight", bias: "conv1.bias", padding: 1), inputs: ["x"]),
        Node(name: "relu1", op: Activation(Relu), inputs: ["conv1"]),
        Node(name: "conv2", op: Conv2d(weight: "conv2.weight", bias: "conv2.bias", padding: 1), inputs: ["relu1"]),
        Node(name: "add", op: Add, inputs: ["conv2", "x"]),
        Node(name: "relu2", op: Activation(Relu), inputs: ["add"]),
        "#,
        "relu2",
    );
    graph(
        &ron,
        &[
            ("conv1.weight", &[4, 4, 3, 3]),
            ("conv1.bias", &[4]),
            ("conv2.weight", &[4, 4, 3, 3]),
            ("conv2.bias", &[4]),
        ],
        2,
    )
}
