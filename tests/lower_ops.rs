//! Every kind of node lowered by `fhec_compiler::compile`, run on the clear backend and
//! compared with the tensor-level executor (with the same polynomial activations) on random
//! tensors and weights: convolutions 3×3 stride 1 and 2 (gap 1 → 2 → 4), 1×1 stride 2,
//! channel-wise affine (a lone BatchNorm), average pooling, global average pooling with a
//! fully connected layer, Flatten of a spatial tensor, additions with equal and with
//! different layouts (a layout change inserted), a tensor spread over several ciphertexts,
//! and a whole small ResNet.

#[path = "../compiler/tests/lower_support/mod.rs"]
mod lower_support;

#[path = "../compiler/tests/common/mod.rs"]
mod common;

use fhec_compiler::graph::TensorGraph;
use fhec_compiler::linear::WeightPlaintexts;
use fhec_compiler::lower::bindings::graph_weights;
use fhec_compiler::lower::io::{descriptions, unpack};
use fhec_compiler::lower::{CompileOptions, compile};
use fhec_compiler::model::Activation;
use fhec_compiler::reference::{ActivationMode, ApproxActivations, Reference, forward_with};
use fhec_compiler::stats::program_stats;
use fhec_runtime::exec::{ClearBackend, run};
use lower_support::{Rng, approximations, graph, model, relu};
use ndarray::ArrayD;
use std::collections::BTreeMap;

/// Records the largest `|x|` entering each activation node while applying the exact function.
struct MaxAbs;

impl ActivationMode for MaxAbs {
    type Observed = BTreeMap<usize, f32>;

    fn start(&self) -> Self::Observed {
        BTreeMap::new()
    }

    fn activate(
        &self,
        node: usize,
        kind: Activation,
        x: &ArrayD<f32>,
        seen: &mut Self::Observed,
    ) -> ArrayD<f32> {
        let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let entry = seen.entry(node).or_insert(0.0);
        *entry = entry.max(peak);
        x.mapv(|v| kind.apply(v))
    }

    fn merge(&self, into: &mut Self::Observed, other: Self::Observed) {
        into.extend(other);
    }
}

/// Compiles `graph`, runs it on random inputs on the clear backend and checks every output
/// element against the tensor executor with the same polynomials (degree 15, each on 1.25 ×
/// the largest input its activation sees); returns the compiled program's layer names and ops.
fn check(graph: &TensorGraph, options: &CompileOptions, seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed);
    let tensors: Vec<ArrayD<f32>> = graph
        .inputs
        .iter()
        .map(|&id| rng.tensor(&graph.node(id).shape))
        .collect();
    let mut peaks = BTreeMap::new();
    forward_with(graph, &tensors, &MaxAbs, &mut peaks).unwrap();
    let approx: BTreeMap<String, _> = peaks
        .iter()
        .map(|(&node, &peak)| {
            let bound = 1.25 * f64::from(peak).max(1e-3);
            (graph.nodes[node].name.clone(), relu(bound, 15))
        })
        .collect();
    let compiled = compile(graph, &approx, options).expect("compiles");
    let mut bound = BTreeMap::new();
    for description in descriptions(&compiled.program, false).unwrap() {
        let position = graph
            .inputs
            .iter()
            .position(|&id| graph.node(id).name == description.tensor)
            .unwrap();
        let plane = tensors[position].len() / description.shape[0];
        let values: Vec<f64> = tensors[position]
            .iter()
            .enumerate()
            .map(|(i, &v)| match &description.preprocess {
                Some(pre) => f64::from(pre.apply(i / plane, v)),
                None => f64::from(v),
            })
            .collect();
        bound.insert(description.spec_name(), description.pack(&values).unwrap());
    }
    let plaintexts = WeightPlaintexts::new(graph_weights(graph));
    let outputs = run(&compiled.program, &mut ClearBackend, bound, &plaintexts).expect("runs");
    let out_name = &graph.node(graph.output).name;
    let got = unpack(
        &descriptions(&compiled.program, true).unwrap(),
        out_name,
        &outputs,
    )
    .unwrap();
    let mode = ApproxActivations::new(graph, &approx).unwrap();
    let mut seen = mode.start();
    // In f64, the clear backend's precision: what remains is the lowering's own rounding.
    let want = Reference::<f64>::new(graph)
        .forward_with(&tensors, &mode, &mut seen)
        .unwrap();
    assert_eq!(got.len(), want.len());
    let peak = want.iter().map(|v| v.abs()).fold(1.0, f64::max);
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        let diff = (g - w).abs();
        assert!(
            diff <= 1e-12 * peak,
            "{}: element {i}: clear {g}, tensor level {w}",
            graph.name
        );
    }
    compiled
        .layers
        .iter()
        .map(|l| (l.name.clone(), l.op.clone()))
        .collect()
}

/// A convolution node (its kernel size comes from the weight's shape).
fn conv(name: &str, input: &str, stride: usize, pad: usize) -> String {
    format!(
        r#"Node(name: "{name}", op: Conv2d(weight: "{name}.weight", bias: "{name}.bias", stride: {stride}, padding: {pad}), inputs: ["{input}"]),"#
    )
}

#[test]
fn convolutions_3x3_stride_1_and_2() {
    let nodes = [
        conv("c1", "x", 1, 1),
        r#"Node(name: "r1", op: Activation(Relu), inputs: ["c1"]),"#.into(),
        conv("c2", "r1", 2, 1),
        conv("c3", "c2", 2, 1),
    ]
    .concat();
    let ron = model(
        "convs",
        r#"Input(name: "x", shape: [3, 8, 8])"#,
        &nodes,
        "c3",
    );
    let g = graph(
        &ron,
        &[
            ("c1.weight", &[4, 3, 3, 3]),
            ("c1.bias", &[4]),
            ("c2.weight", &[8, 4, 3, 3]),
            ("c2.bias", &[8]),
            ("c3.weight", &[16, 8, 3, 3]),
            ("c3.bias", &[16]),
        ],
        11,
    );
    check(&g, &CompileOptions::default(), 1);
}

#[test]
fn convolution_1x1_stride_2_and_avg_pool() {
    let nodes = [
        conv("c1", "x", 2, 0),
        r#"Node(name: "pool", op: AvgPool(kernel: 2, stride: 2), inputs: ["x"]),"#.into(),
        r#"Node(name: "add", op: Add, inputs: ["c1", "pool"]),"#.into(),
    ]
    .concat();
    let ron = model(
        "pool",
        r#"Input(name: "x", shape: [4, 8, 8])"#,
        &nodes,
        "add",
    );
    let g = graph(&ron, &[("c1.weight", &[4, 4, 1, 1]), ("c1.bias", &[4])], 12);
    check(&g, &CompileOptions::default(), 2);
}

#[test]
fn global_average_pool_and_fully_connected() {
    let nodes = r#"
        Node(name: "gap", op: GlobalAvgPool, inputs: ["x"]),
        Node(name: "flat", op: Flatten, inputs: ["gap"]),
        Node(name: "fc", op: Gemm(weight: "fc.weight", bias: "fc.bias", trans_b: true), inputs: ["flat"]),
    "#;
    let ron = model(
        "gemm",
        r#"Input(name: "x", shape: [16, 4, 4])"#,
        nodes,
        "fc",
    );
    let g = graph(&ron, &[("fc.weight", &[10, 16]), ("fc.bias", &[10])], 13);
    check(&g, &CompileOptions::default(), 3);
}

#[test]
fn fully_connected_on_a_flattened_spatial_tensor_with_alpha_beta() {
    let nodes = r#"
        Node(name: "flat", op: Flatten, inputs: ["x"]),
        Node(name: "fc", op: Gemm(weight: "fc.weight", bias: "fc.bias", trans_b: true, alpha: 0.5, beta: 2.0), inputs: ["flat"]),
    "#;
    let ron = model("flat", r#"Input(name: "x", shape: [2, 3, 3])"#, nodes, "fc");
    let g = graph(&ron, &[("fc.weight", &[5, 18]), ("fc.bias", &[5])], 14);
    check(&g, &CompileOptions::default(), 4);
}

#[test]
fn lone_batch_norm_is_a_channel_wise_affine_map() {
    let nodes = r#"
        Node(name: "bn", op: BatchNorm(scale: "bn.scale", bias: "bn.bias", mean: "bn.mean", var: "bn.var"), inputs: ["x"]),
        Node(name: "relu", op: Activation(Relu), inputs: ["bn"]),
    "#;
    let ron = model("bn", r#"Input(name: "x", shape: [4, 4, 4])"#, nodes, "relu");
    let shapes: [(&str, &[usize]); 4] = [
        ("bn.scale", &[4]),
        ("bn.bias", &[4]),
        ("bn.mean", &[4]),
        ("bn.var", &[4]),
    ];
    let g = graph(&ron, &shapes, 15);
    let layers = check(&g, &CompileOptions::default(), 5);
    assert!(layers.contains(&("bn".into(), "ChannelAffine".into())));
}

/// `b` reaches the add through a stride-2 convolution (gap 2, multiplexed) and an activation,
/// `a` is packed with gap 1: the layouts differ and neither side is a linear map the layout
/// plan could redirect, so the lowering inserts a layout change.
#[test]
fn add_with_different_layouts_inserts_a_layout_change() {
    let nodes = [
        conv("c", "b", 2, 1),
        r#"Node(name: "r", op: Activation(Relu), inputs: ["c"]),"#.into(),
        r#"Node(name: "add", op: Add, inputs: ["a", "r"]),"#.into(),
    ]
    .concat();
    let inputs = r#"Input(name: "a", shape: [4, 4, 4]), Input(name: "b", shape: [4, 8, 8])"#;
    let ron = model("relayout", inputs, &nodes, "add");
    let g = graph(&ron, &[("c.weight", &[4, 4, 3, 3]), ("c.bias", &[4])], 16);
    let layers = check(&g, &CompileOptions::default(), 6);
    assert!(
        layers.iter().any(|(name, _)| name == "add"),
        "the add emits the layout change and the sum: {layers:?}"
    );
    let approx = approximations(&g, &relu(64.0, 15));
    let compiled = compile(&g, &approx, &CompileOptions::default()).unwrap();
    let stats = program_stats(&compiled.program, &compiled.layers, &compiled.inst_layers);
    let add = stats.layers.iter().find(|l| l.name == "add").unwrap();
    assert!(add.counts.ct_pt > 0, "a layout change is a linear map");
}

/// The same add with the convolution feeding it directly: the convolution writes `a`'s layout
/// and the add is one instruction.
#[test]
fn add_aligns_layouts_through_a_linear_producer() {
    let nodes = [
        conv("c", "b", 2, 1),
        r#"Node(name: "add", op: Add, inputs: ["a", "c"]),"#.into(),
    ]
    .concat();
    let inputs = r#"Input(name: "a", shape: [4, 4, 4]), Input(name: "b", shape: [4, 8, 8])"#;
    let ron = model("aligned", inputs, &nodes, "add");
    let g = graph(&ron, &[("c.weight", &[4, 4, 3, 3]), ("c.bias", &[4])], 17);
    check(&g, &CompileOptions::default(), 7);
    let compiled = compile(&g, &BTreeMap::new(), &CompileOptions::default()).unwrap();
    assert_eq!(compiled.layouts.layouts[2], compiled.layouts.layouts[0]);
    let stats = program_stats(&compiled.program, &compiled.layers, &compiled.inst_layers);
    let add = stats.layers.iter().find(|l| l.name == "add").unwrap();
    assert_eq!((add.counts.ct_pt, add.counts.additions), (0, 1));
}

/// With 64 slots, a `[8, 8, 8]` tensor takes 8 ciphertexts: the maps become block matrices.
#[test]
fn tensors_over_several_ciphertexts() {
    let nodes = [
        conv("c1", "x", 1, 1),
        r#"Node(name: "r", op: Activation(Relu), inputs: ["c1"]),"#.into(),
        conv("c2", "r", 2, 1),
    ]
    .concat();
    let ron = model(
        "multi",
        r#"Input(name: "x", shape: [8, 8, 8])"#,
        &nodes,
        "c2",
    );
    let g = graph(
        &ron,
        &[
            ("c1.weight", &[8, 8, 3, 3]),
            ("c1.bias", &[8]),
            ("c2.weight", &[4, 8, 3, 3]),
            ("c2.bias", &[4]),
        ],
        18,
    );
    let options = CompileOptions {
        slots: Some(64),
        ..CompileOptions::default()
    };
    check(&g, &options, 8);
}

/// A whole CIFAR-style ResNet-8 (BatchNorm folded by the frontend, option-B shortcuts, GAP,
/// fc) on 8×8 images: the clear run equals the tensor level, the stages get gaps 1, 2, 4, and
/// every range normalisation is folded (no constant product outside the activations).
#[test]
fn small_resnet_matches_the_tensor_level_with_folded_ranges() {
    let (ron, specs) = common::cifar_resnet(1, 4, 8);
    let specs: Vec<(&str, &[usize])> = specs
        .iter()
        .map(|(name, shape)| (name.as_str(), shape.as_slice()))
        .collect();
    let g = graph(&ron, &specs, 19);
    check(&g, &CompileOptions::default(), 9);
    let approx = approximations(&g, &relu(64.0, 15));
    let compiled = compile(&g, &approx, &CompileOptions::default()).unwrap();
    assert_eq!(compiled.layouts.slots, 256);
    let gaps: Vec<usize> = g
        .nodes
        .iter()
        .zip(&compiled.layouts.layouts)
        .filter(|(n, _)| matches!(n.op, fhec_compiler::graph::TensorOp::Add))
        .map(|(_, l)| l.params().gap[0])
        .collect();
    assert_eq!(gaps, [1, 2, 4]);
    let stats = program_stats(&compiled.program, &compiled.layers, &compiled.inst_layers);
    for layer in &stats.layers {
        if layer.op != "Relu" {
            assert_eq!(
                layer.counts.mul_const, 0,
                "{}: a factor conversion",
                layer.name
            );
        }
    }
}
