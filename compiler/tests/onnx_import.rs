//! ONNX import: a small model built here as protobuf messages imports to the same network as
//! its hand-written description; corrupt files and unsupported operators are refused by name.

mod common;

use std::path::Path;

use common::{
    assert_close, naive_forward, random_pixels, random_tensors, tensor_map, write_weights,
};
use fhec_compiler::FrontendError;
use fhec_compiler::frontend::build_graph;
use fhec_compiler::model::{ModelDescription, WeightsLocation};
use fhec_compiler::onnx::{ImportOptions, import_onnx_bytes};
use fhec_compiler::reference::forward;
use fhec_compiler::weights::{WeightFile, WeightTensor};
use ndarray::{ArrayD, IxDyn};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_shape_proto::Dimension;
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, type_proto,
};
use protobuf::MessageField;

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INTS.into(),
        ints: values.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INT.into(),
        i: value,
        ..Default::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::FLOAT.into(),
        f: value,
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    output: &str,
    attributes: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: attributes,
        ..Default::default()
    }
}

fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| {
            let mut dimension = Dimension::new();
            match d {
                Some(v) => dimension.set_dim_value(*v),
                None => dimension.set_dim_param("N".into()),
            }
            dimension
        })
        .collect();
    let tensor = type_proto::Tensor {
        elem_type: 1,
        shape: MessageField::some(TensorShapeProto {
            dim,
            ..Default::default()
        }),
        ..Default::default()
    };
    ValueInfoProto {
        name: name.into(),
        type_: MessageField::some(TypeProto {
            value: Some(type_proto::Value::TensorType(tensor)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The test network's tensors.
fn tensors() -> Vec<(String, WeightTensor)> {
    let specs = [
        ("c1.w", vec![4, 3, 3, 3]),
        ("c1.b", vec![4]),
        ("bn.g", vec![4]),
        ("bn.b", vec![4]),
        ("bn.m", vec![4]),
        ("bn.running_var", vec![4]),
        ("c2.w", vec![4, 2, 1, 1]),
        ("fc.w", vec![5, 4]),
        ("fc.b", vec![1, 5]),
    ];
    let specs: Vec<(String, Vec<usize>)> =
        specs.into_iter().map(|(n, s)| (n.to_owned(), s)).collect();
    random_tensors(21, &specs)
}

/// Conv(pad 1, bias) → BatchNormalization → Relu → AveragePool(2) → Conv(1×1, group 2) →
/// Add → GlobalAveragePool → Flatten → Gemm(transB, alpha, beta), with `initializers` first
/// raw data and the rest float data.
fn onnx_model(extra_node: Option<NodeProto>) -> Vec<u8> {
    let initializer = tensors()
        .into_iter()
        .enumerate()
        .map(|(k, (name, t))| {
            let mut proto = TensorProto {
                name,
                dims: t.shape.iter().map(|&d| d as i64).collect(),
                data_type: 1,
                ..Default::default()
            };
            if k % 2 == 0 {
                proto.raw_data = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            } else {
                proto.float_data = t.data;
            }
            proto
        })
        .collect();
    let mut nodes = vec![
        node(
            "Conv",
            "conv1",
            &["input", "c1.w", "c1.b"],
            "c1",
            vec![
                ints("kernel_shape", &[3, 3]),
                ints("pads", &[1, 1, 1, 1]),
                ints("strides", &[1, 1]),
            ],
        ),
        node(
            "BatchNormalization",
            "bn",
            &["c1", "bn.g", "bn.b", "bn.m", "bn.running_var"],
            "bn1",
            vec![float("epsilon", 1e-3)],
        ),
        node("Relu", "", &["bn1"], "r1", vec![]),
        node(
            "AveragePool",
            "pool",
            &["r1"],
            "p1",
            vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])],
        ),
        node(
            "Conv",
            "conv2",
            &["p1", "c2.w"],
            "c2",
            vec![int("group", 2)],
        ),
        node("Add", "add", &["c2", "p1"], "sum", vec![]),
        node("GlobalAveragePool", "gap", &["sum"], "g", vec![]),
        node("Flatten", "flatten", &["g"], "f", vec![int("axis", 1)]),
        node(
            "Gemm",
            "fc",
            &["f", "fc.w", "fc.b"],
            "logits",
            vec![int("transB", 1), float("alpha", 0.5), float("beta", 2.0)],
        ),
    ];
    nodes.extend(extra_node);
    let graph = GraphProto {
        name: "test".into(),
        node: nodes,
        initializer,
        input: vec![value_info("input", &[None, Some(3), Some(8), Some(8)])],
        output: vec![value_info("logits", &[None, Some(5)])],
        ..Default::default()
    };
    let model = ModelProto {
        ir_version: 7,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
            ..Default::default()
        }],
        graph: MessageField::some(graph),
        ..Default::default()
    };
    model.write_to_bytes().unwrap()
}

/// The same network written by hand.
const HAND_WRITTEN: &str = r#"Model(
    name: "hand",
    weights: ModelDir("w.safetensors"),
    inputs: [Input(name: "input", shape: [3, 8, 8])],
    nodes: [
        Node(name: "c1", op: Conv2d(weight: "c1.w", bias: Some("c1.b"), padding: 1), inputs: ["input"]),
        Node(name: "bn1", op: BatchNorm(scale: "bn.g", bias: "bn.b", mean: "bn.m", var: "bn.running_var", eps: 1e-3), inputs: ["c1"]),
        Node(name: "r1", op: Activation(Relu), inputs: ["bn1"]),
        Node(name: "p1", op: AvgPool(kernel: 2, stride: 2), inputs: ["r1"]),
        Node(name: "c2", op: Conv2d(weight: "c2.w", groups: 2), inputs: ["p1"]),
        Node(name: "sum", op: Add, inputs: ["c2", "p1"]),
        Node(name: "g", op: GlobalAvgPool, inputs: ["sum"]),
        Node(name: "f", op: Flatten, inputs: ["g"]),
        Node(name: "logits", op: Gemm(weight: "fc.w", bias: Some("fc.b"), trans_b: true, alpha: 0.5, beta: 2.0), inputs: ["f"]),
    ],
    output: "logits",
)"#;

fn options() -> ImportOptions {
    ImportOptions {
        name: "imported".into(),
        weights: WeightsLocation::ModelDir("imported.safetensors".into()),
        preprocess: None,
    }
}

#[test]
fn an_imported_model_matches_its_hand_written_description() {
    let path = Path::new("test.onnx");
    let imported = import_onnx_bytes(&onnx_model(None), path, &options()).expect("import");
    let hand = ModelDescription::from_ron(HAND_WRITTEN, Path::new("hand.ron")).unwrap();
    assert_eq!(
        imported.description.nodes, hand.nodes,
        "same nodes, names from ONNX outputs"
    );
    assert_eq!(imported.description.inputs, hand.inputs);
    assert_eq!(imported.description.output, "logits");
    // The [1, 5] Gemm bias is stored as [5]; every other tensor as it was.
    let bias = imported.tensors.iter().find(|(n, _)| n == "fc.b").unwrap();
    assert_eq!(bias.1.shape, vec![5]);
    assert_eq!(imported.tensors.len(), tensors().len());

    let dir = tempfile::tempdir().unwrap();
    let weights = write_weights(dir.path(), "imported.safetensors", &imported.tensors);
    let model_path = dir.path().join("imported.ron");
    std::fs::write(&model_path, imported.description.to_ron()).unwrap();
    let reread = ModelDescription::from_file(&model_path).unwrap();
    assert_eq!(reread, imported.description);
    let graph = build_graph(&reread, &model_path, &WeightFile::load(&weights).unwrap()).unwrap();
    assert!(graph.warnings.is_empty(), "{:?}", graph.warnings);
    let map = tensor_map(&imported.tensors);
    for seed in 0..3 {
        let pixels: Vec<f32> = random_pixels(seed, 3 * 64)
            .iter()
            .map(|p| p / 255.0)
            .collect();
        let input = ArrayD::from_shape_vec(IxDyn(&[3, 8, 8]), pixels.clone()).unwrap();
        let got: Vec<f32> = forward(&graph, &[input]).unwrap().iter().copied().collect();
        assert_close(&got, &naive_forward(&hand, &map, &pixels), 1e-4);
    }
}

#[test]
fn a_corrupt_onnx_file_is_refused() {
    let bytes = onnx_model(None);
    for corrupt in [
        &bytes[..bytes.len() / 3],
        b"definitely not protobuf \xff\xff\xff".as_slice(),
    ] {
        let error = import_onnx_bytes(corrupt, Path::new("bad.onnx"), &options()).unwrap_err();
        assert!(matches!(error, FrontendError::Onnx { .. }), "{error:?}");
        assert!(error.to_string().starts_with("bad.onnx: "), "{error}");
    }
    let empty = import_onnx_bytes(&[], Path::new("empty.onnx"), &options()).unwrap_err();
    assert!(empty.to_string().contains("no graph"), "{empty}");
}

#[test]
fn an_unsupported_operator_names_op_and_node() {
    let softmax = node("Softmax", "probabilities", &["logits"], "p", vec![]);
    let error =
        import_onnx_bytes(&onnx_model(Some(softmax)), Path::new("m.onnx"), &options()).unwrap_err();
    assert!(
        matches!(error, FrontendError::UnsupportedOnnx { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "m.onnx: node `probabilities`: unsupported ONNX operator Softmax"
    );
}

#[test]
fn an_unsupported_attribute_value_is_named() {
    let strided = node(
        "AveragePool",
        "odd_pool",
        &["r1"],
        "q",
        vec![ints("kernel_shape", &[2, 2]), ints("pads", &[1, 1, 1, 1])],
    );
    let error =
        import_onnx_bytes(&onnx_model(Some(strided)), Path::new("m.onnx"), &options()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("node `odd_pool`: unsupported ONNX operator AveragePool: padding"),
        "{message}"
    );
    let dilated = node(
        "Conv",
        "dilated",
        &["p1", "c2.w"],
        "d",
        vec![ints("dilations", &[2, 2])],
    );
    let error =
        import_onnx_bytes(&onnx_model(Some(dilated)), Path::new("m.onnx"), &options()).unwrap_err();
    assert!(error.to_string().contains("dilations"), "{error}");
}

/// The test model with `edit` applied to its graph.
fn edited_model(edit: impl FnOnce(&mut GraphProto)) -> Vec<u8> {
    let mut model = ModelProto::parse_from_bytes(&onnx_model(None)).unwrap();
    edit(model.graph.as_mut().unwrap());
    model.write_to_bytes().unwrap()
}

#[test]
fn sizes_that_overflow_or_exceed_the_limit_are_refused_by_name() {
    // An initializer whose dimensions multiply past usize::MAX (no data is read for it).
    let bytes = edited_model(|graph| {
        graph.initializer.push(TensorProto {
            name: "huge".into(),
            dims: vec![1 << 40, 1 << 40, 2],
            data_type: 1,
            ..Default::default()
        });
    });
    let error = import_onnx_bytes(&bytes, Path::new("m.onnx"), &options()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("m.onnx: initializer `huge`: shape [1099511627776"),
        "{message}"
    );
    assert!(message.contains("more than"), "{message}");

    // A graph input of 2^48 elements per sample.
    let bytes = edited_model(|graph| {
        graph.input[0] = value_info("input", &[None, Some(3), Some(1 << 24), Some(1 << 24)]);
    });
    let error = import_onnx_bytes(&bytes, Path::new("m.onnx"), &options()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("m.onnx: input `input`: shape [3, 16777216, 16777216]"),
        "{message}"
    );
}

/// The test model with a non-square 8×6 input and a 3×1 first kernel (padding 1 makes its
/// output 8×8 again), and its hand-written description with the same shapes.
fn non_square_model() -> (Vec<u8>, ModelDescription) {
    let kernel = random_tensors(5, &[("c1.w".to_owned(), vec![4, 3, 3, 1])]);
    let bytes = edited_model(|graph| {
        graph.input[0] = value_info("input", &[None, Some(3), Some(8), Some(6)]);
        let c1 = graph
            .initializer
            .iter_mut()
            .find(|t| t.name == "c1.w")
            .unwrap();
        c1.dims = vec![4, 3, 3, 1];
        c1.raw_data = kernel[0]
            .1
            .data
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        c1.float_data.clear();
        let conv = graph.node.iter_mut().find(|n| n.name == "conv1").unwrap();
        conv.attribute[0] = ints("kernel_shape", &[3, 1]);
    });
    let text = HAND_WRITTEN.replace("shape: [3, 8, 8]", "shape: [3, 8, 6]");
    let hand = ModelDescription::from_ron(&text, Path::new("hand.ron")).unwrap();
    (bytes, hand)
}

#[test]
fn non_square_inputs_and_kernels_keep_height_and_width_apart() {
    let (bytes, hand) = non_square_model();
    let imported = import_onnx_bytes(&bytes, Path::new("m.onnx"), &options()).expect("import");
    assert_eq!(
        imported.description.inputs, hand.inputs,
        "input is 8 high, 6 wide"
    );
    let kernel = imported.tensors.iter().find(|(n, _)| n == "c1.w").unwrap();
    assert_eq!(kernel.1.shape, vec![4, 3, 3, 1], "kernel is 3 high, 1 wide");

    let dir = tempfile::tempdir().unwrap();
    let weights = write_weights(dir.path(), "imported.safetensors", &imported.tensors);
    let model_path = dir.path().join("imported.ron");
    let graph = build_graph(
        &imported.description,
        &model_path,
        &WeightFile::load(&weights).unwrap(),
    )
    .unwrap();
    let map = tensor_map(&imported.tensors);
    let pixels: Vec<f32> = random_pixels(7, 3 * 48).iter().map(|p| p / 255.0).collect();
    let input = ArrayD::from_shape_vec(IxDyn(&[3, 8, 6]), pixels.clone()).unwrap();
    let got: Vec<f32> = forward(&graph, &[input]).unwrap().iter().copied().collect();
    assert_close(&got, &naive_forward(&hand, &map, &pixels), 1e-4);

    // A kernel_shape attribute that swaps height and width is refused against the weight.
    let swapped = edited_model(|graph| {
        let conv = graph.node.iter_mut().find(|n| n.name == "conv1").unwrap();
        conv.attribute[0] = ints("kernel_shape", &[3, 1]);
    });
    let error = import_onnx_bytes(&swapped, Path::new("m.onnx"), &options()).unwrap_err();
    assert!(error.to_string().contains("kernel_shape"), "{error}");
}

#[test]
fn non_square_pools_are_refused_by_name() {
    for (attribute, values) in [("kernel_shape", [2, 1]), ("strides", [2, 1])] {
        let bytes = edited_model(|graph| {
            let pool = graph.node.iter_mut().find(|n| n.name == "pool").unwrap();
            let at = pool
                .attribute
                .iter()
                .position(|a| a.name == attribute)
                .unwrap();
            pool.attribute[at] = ints(attribute, &values);
        });
        let error = import_onnx_bytes(&bytes, Path::new("m.onnx"), &options()).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("node `pool`") && message.contains(attribute),
            "{message}"
        );
    }
}
