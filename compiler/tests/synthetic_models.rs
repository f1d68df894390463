//! Synthetic models of other shapes than the shipped one load and run, and the reference
//! executor agrees with an independent naive interpreter on them.

mod common;

use std::path::Path;

use common::{
    assert_close, cifar_resnet, naive_forward, random_pixels, random_tensors, tensor_map,
    write_weights,
};
use fhec_compiler::frontend::build_graph;
use fhec_compiler::graph::{TensorGraph, TensorOp};
use fhec_compiler::model::ModelDescription;
use fhec_compiler::reference::forward;
use fhec_compiler::weights::{WeightFile, WeightTensor};
use ndarray::{ArrayD, IxDyn};

/// Parses `ron`, writes `tensors`, builds the graph.
fn build(
    dir: &Path,
    ron: &str,
    tensors: &[(String, WeightTensor)],
) -> (ModelDescription, TensorGraph) {
    let model_path = dir.join("model.ron");
    let desc = ModelDescription::from_ron(ron, &model_path).expect("parse");
    let weights =
        WeightFile::load(&write_weights(dir, "weights.safetensors", tensors)).expect("load");
    let graph = build_graph(&desc, &model_path, &weights).expect("build graph");
    (desc, graph)
}

/// Runs the graph and the naive interpreter on a few inputs and compares.
fn compare_with_naive(
    desc: &ModelDescription,
    graph: &TensorGraph,
    tensors: &[(String, WeightTensor)],
) {
    let map = tensor_map(tensors);
    let shape = &desc.inputs[0].shape;
    for seed in 0..3 {
        let pixels = random_pixels(100 + seed, shape.iter().product());
        let input = ArrayD::from_shape_vec(IxDyn(shape), pixels.clone()).unwrap();
        let got: Vec<f32> = forward(graph, &[input])
            .expect("run")
            .iter()
            .copied()
            .collect();
        let want = naive_forward(desc, &map, &pixels);
        assert_close(&got, &want, 1e-4);
    }
}

#[test]
fn resnet8_with_batchnorm_matches_the_naive_reference() {
    let dir = tempfile::tempdir().unwrap();
    let (ron, specs) = cifar_resnet(1, 4, 16);
    let tensors = random_tensors(8, &specs);
    let (desc, graph) = build(dir.path(), &ron, &tensors);
    assert_eq!(graph.name, "resnet8");
    // Every BatchNorm follows a convolution read only by it, so all fold away.
    assert!(
        graph
            .nodes
            .iter()
            .all(|n| !matches!(n.op, TensorOp::ChannelAffine { .. }))
    );
    let convs = graph
        .nodes
        .iter()
        .filter(|n| matches!(n.op, TensorOp::Conv2d(_)))
        .count();
    assert_eq!(convs, 1 + 2 * 3 + 2);
    assert_eq!(graph.output_shape(), &[10]);
    assert!(graph.warnings.is_empty(), "{:?}", graph.warnings);
    compare_with_naive(&desc, &graph, &tensors);
}

#[test]
fn resnet14_infers_the_stage_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let (ron, specs) = cifar_resnet(2, 4, 16);
    let tensors = random_tensors(14, &specs);
    let (desc, graph) = build(dir.path(), &ron, &tensors);
    let shape_of = |name: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap()
            .shape
            .clone()
    };
    assert_eq!(shape_of("layer1.1.relu2"), vec![4, 16, 16]);
    assert_eq!(shape_of("layer2.0.relu2"), vec![8, 8, 8]);
    assert_eq!(shape_of("layer3.1.relu2"), vec![16, 4, 4]);
    assert_eq!(shape_of("pool"), vec![16, 1, 1]);
    compare_with_naive(&desc, &graph, &tensors);
}

/// A plain CNN exercising what ResNets do not: groups, average pooling, a BatchNorm that
/// cannot fold (after an Add), a convolution read twice, a Gemm with `[in, out]` weights and
/// non-unit alpha/beta, and a single-value preprocessing.
const SMALL_CNN: &str = r#"
#![enable(implicit_some)]
Model(
    name: "small_cnn",
    weights: ModelDir("weights.safetensors"),
    inputs: [Input(name: "x", shape: [4, 12, 12],
        preprocess: Preprocess(pixel_max: 255.0, mean: [0.5], std: [0.5]))],
    nodes: [
        Node(name: "c1", op: Conv2d(weight: "c1.w", bias: "c1.b", stride: 1, padding: 1, groups: 2), inputs: ["x"]),
        Node(name: "bn1", op: BatchNorm(scale: "bn1.g", bias: "bn1.b", mean: "bn1.m", var: "bn1.running_var", eps: 1e-3), inputs: ["c1"]),
        Node(name: "r1", op: Activation(Relu), inputs: ["bn1"]),
        Node(name: "p1", op: AvgPool(kernel: 2, stride: 2), inputs: ["r1"]),
        Node(name: "c2", op: Conv2d(weight: "c2.w", padding: 0), inputs: ["p1"]),
        Node(name: "sum", op: Add, inputs: ["c2", "c2"]),
        Node(name: "bn2", op: BatchNorm(scale: "bn2.g", bias: "bn2.b", mean: "bn2.m", var: "bn2.running_var"), inputs: ["sum"]),
        Node(name: "r2", op: Activation(Relu), inputs: ["bn2"]),
        Node(name: "p2", op: AvgPool(kernel: 3, stride: 1), inputs: ["r2"]),
        Node(name: "f", op: Flatten, inputs: ["p2"]),
        Node(name: "fc", op: Gemm(weight: "fc.w", bias: "fc.b", alpha: 0.5, beta: 2.0), inputs: ["f"]),
    ],
    output: "fc",
)"#;

fn small_cnn_specs() -> Vec<(String, Vec<usize>)> {
    [
        ("c1.w", vec![6, 2, 3, 3]),
        ("c1.b", vec![6]),
        ("bn1.g", vec![6]),
        ("bn1.b", vec![6]),
        ("bn1.m", vec![6]),
        ("bn1.running_var", vec![6]),
        ("c2.w", vec![5, 6, 1, 1]),
        ("bn2.g", vec![5]),
        ("bn2.b", vec![5]),
        ("bn2.m", vec![5]),
        ("bn2.running_var", vec![5]),
        ("fc.w", vec![5 * 4 * 4, 7]),
        ("fc.b", vec![7]),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_owned(), s))
    .collect()
}

#[test]
fn small_cnn_matches_the_naive_reference() {
    let dir = tempfile::tempdir().unwrap();
    let tensors = random_tensors(3, &small_cnn_specs());
    let (desc, graph) = build(dir.path(), SMALL_CNN, &tensors);
    let kinds: Vec<&str> = graph.nodes.iter().map(|n| n.op.kind()).collect();
    assert_eq!(
        kinds,
        [
            "Input",
            "Conv2d",
            "Relu",
            "AvgPool",
            "Conv2d",
            "Add",
            "ChannelAffine",
            "Relu",
            "AvgPool",
            "Flatten",
            "Gemm"
        ]
    );
    assert_eq!(graph.nodes[1].folded, vec!["bn1".to_owned()]);
    assert_eq!(graph.output_shape(), &[7]);
    compare_with_naive(&desc, &graph, &tensors);
}

#[test]
fn descriptions_round_trip_through_ron() {
    let path = Path::new("small_cnn.ron");
    let desc = ModelDescription::from_ron(SMALL_CNN, path).unwrap();
    let text = desc.to_ron();
    assert_eq!(ModelDescription::from_ron(&text, path).unwrap(), desc);
    let (resnet, _) = cifar_resnet(1, 4, 16);
    let desc = ModelDescription::from_ron(&resnet, path).unwrap();
    assert_eq!(
        ModelDescription::from_ron(&desc.to_ron(), path).unwrap(),
        desc
    );
}

#[test]
fn the_summary_lists_shapes_and_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let tensors = random_tensors(3, &small_cnn_specs());
    let (_, graph) = build(dir.path(), SMALL_CNN, &tensors);
    let summary = graph.to_string();
    assert!(summary.contains("(folded bn1)"), "{summary}");
    assert!(summary.contains("[5, 4, 4]"), "{summary}");
    // 6·2·9 + 6 conv, 5·6 conv, 5 + 5 affine, 80·7 + 7 gemm.
    assert_eq!(graph.parameter_count(), 114 + 30 + 10 + 567);
    assert!(summary.ends_with(&format!("11 nodes, {} parameters", graph.parameter_count())));
}
