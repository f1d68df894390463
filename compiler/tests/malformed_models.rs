//! Every kind of malformed model or weights file gets its own clear error naming the file, the
//! node and the problem.

mod common;

use std::path::{Path, PathBuf};

use common::{random_tensors, write_weights};
use fhec_compiler::FrontendError;
use fhec_compiler::frontend::build_graph;
use fhec_compiler::graph::TensorGraph;
use fhec_compiler::model::ModelDescription;
use fhec_compiler::reference::forward;
use fhec_compiler::weights::{WeightFile, WeightTensor};
use ndarray::{ArrayD, IxDyn};
use safetensors::{Dtype, tensor::TensorView};

/// A two-node model: `conv` (3 → 2 channels, 3×3) then `relu`.
const VALID: &str = r#"Model(
    name: "tiny",
    weights: ModelDir("w.safetensors"),
    inputs: [Input(name: "x", shape: [3, 6, 6])],
    nodes: [
        Node(name: "conv", op: Conv2d(weight: "conv.w", bias: Some("conv.b"), padding: 1), inputs: ["x"]),
        Node(name: "relu", op: Activation(Relu), inputs: ["conv"]),
    ],
    output: "relu",
)"#;

fn valid_tensors() -> Vec<(String, WeightTensor)> {
    random_tensors(
        1,
        &[
            ("conv.w".to_owned(), vec![2, 3, 3, 3]),
            ("conv.b".to_owned(), vec![2]),
        ],
    )
}

/// Builds `ron` against `tensors`; returns the model path used in messages and the outcome.
fn build(
    ron: &str,
    tensors: &[(String, WeightTensor)],
) -> (PathBuf, Result<TensorGraph, FrontendError>) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny.ron");
    let weights = WeightFile::load(&write_weights(dir.path(), "w.safetensors", tensors)).unwrap();
    let result =
        ModelDescription::from_ron(ron, &model).and_then(|d| build_graph(&d, &model, &weights));
    (model, result)
}

/// Expects an error whose message contains the model path and every fragment.
fn expect_error(
    ron: &str,
    tensors: &[(String, WeightTensor)],
    fragments: &[&str],
) -> FrontendError {
    let (model, result) = build(ron, tensors);
    let error = result.expect_err("the model must be refused");
    let message = error.to_string();
    assert!(
        message.contains(&model.display().to_string()),
        "no file in: {message}"
    );
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "`{fragment}` missing from: {message}"
        );
    }
    error
}

#[test]
fn the_valid_model_builds() {
    let (_, result) = build(VALID, &valid_tensors());
    let graph = result.unwrap();
    assert_eq!(graph.output_shape(), &[2, 6, 6]);
}

#[test]
fn bad_ron_reports_the_line() {
    let broken = VALID.replace("shape: [3, 6, 6]", "shape: [3, 6 6]");
    let error = expect_error(&broken, &valid_tensors(), &["tiny.ron:4:"]);
    assert!(
        matches!(error, FrontendError::Syntax { line: 4, .. }),
        "{error:?}"
    );
}

#[test]
fn an_unknown_operator_is_named_with_its_line() {
    let unknown = VALID.replace("Activation(Relu)", "Softmax");
    let error = expect_error(
        &unknown,
        &valid_tensors(),
        &["tiny.ron:7:", "Softmax", "expected one of `Conv2d`"],
    );
    assert!(matches!(error, FrontendError::Syntax { .. }), "{error:?}");
}

#[test]
fn a_missing_weight_names_node_and_tensor() {
    let tensors = vec![valid_tensors().remove(0)];
    let error = expect_error(VALID, &tensors, &["`conv`", "`conv.b`", "w.safetensors"]);
    assert!(
        matches!(error, FrontendError::MissingWeight { .. }),
        "{error:?}"
    );
}

#[test]
fn an_unused_weight_is_a_warning() {
    let mut tensors = valid_tensors();
    tensors.extend(random_tensors(2, &[("head.w".to_owned(), vec![4])]));
    let (_, result) = build(VALID, &tensors);
    let graph = result.expect("unused weights do not stop the build");
    assert_eq!(graph.warnings.len(), 1);
    assert!(
        graph.warnings[0].contains("`head.w` is not used"),
        "{:?}",
        graph.warnings
    );
}

#[test]
fn a_wrong_shape_weight_says_what_was_expected() {
    let mut tensors = valid_tensors();
    tensors[1].1 = WeightTensor {
        shape: vec![3],
        data: vec![0.0; 3],
    };
    let error = expect_error(VALID, &tensors, &["`conv.b`", "[3]", "expected [2]"]);
    assert!(
        matches!(error, FrontendError::WeightShape { .. }),
        "{error:?}"
    );
    let mut tensors = valid_tensors();
    tensors[0].1 = WeightTensor {
        shape: vec![2, 4, 3, 3],
        data: vec![0.0; 72],
    };
    expect_error(VALID, &tensors, &["`conv.w`", "expected [_, 3, _, _]"]);
}

#[test]
fn a_weight_of_another_dtype_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let weights_path = dir.path().join("w.safetensors");
    let w = vec![0u8; 2 * 27 * 8];
    let b = vec![0u8; 2 * 8];
    let views = vec![
        (
            "conv.w",
            TensorView::new(Dtype::F64, vec![2, 3, 3, 3], &w).unwrap(),
        ),
        ("conv.b", TensorView::new(Dtype::F64, vec![2], &b).unwrap()),
    ];
    std::fs::write(&weights_path, safetensors::serialize(views, None).unwrap()).unwrap();
    let model = dir.path().join("tiny.ron");
    let desc = ModelDescription::from_ron(VALID, &model).unwrap();
    let error = build_graph(&desc, &model, &WeightFile::load(&weights_path).unwrap()).unwrap_err();
    assert!(
        matches!(error, FrontendError::WeightDtype { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("`conv.w` is F64, expected F32"),
        "{message}"
    );
}

#[test]
fn a_cycle_is_reported_with_its_path() {
    let cyclic = VALID.replace(r#"inputs: ["x"]"#, r#"inputs: ["relu"]"#);
    let error = expect_error(&cyclic, &valid_tensors(), &["cycle: relu -> conv -> relu"]);
    assert!(matches!(error, FrontendError::Graph { .. }), "{error:?}");
}

#[test]
fn an_undefined_input_is_named() {
    let undefined = VALID.replace(r#"inputs: ["conv"]"#, r#"inputs: ["convv"]"#);
    expect_error(
        &undefined,
        &valid_tensors(),
        &["`relu`", "input `convv` is not defined"],
    );
}

#[test]
fn a_duplicate_name_is_refused() {
    let duplicate = VALID.replace(r#"Node(name: "relu""#, r#"Node(name: "conv""#);
    expect_error(
        &duplicate,
        &valid_tensors(),
        &["`conv`", "defined more than once"],
    );
    let shadowing = VALID.replace(r#"Node(name: "relu""#, r#"Node(name: "x""#);
    expect_error(
        &shadowing,
        &valid_tensors(),
        &["`x`", "defined more than once"],
    );
}

#[test]
fn a_wrong_arity_is_refused() {
    let extra = VALID.replace(r#"inputs: ["conv"]"#, r#"inputs: ["conv", "x"]"#);
    expect_error(
        &extra,
        &valid_tensors(),
        &["Relu takes 1 input(s), found 2"],
    );
}

#[test]
fn a_wrong_input_shape_is_refused() {
    let flat = VALID.replace("shape: [3, 6, 6]", "shape: [3, 36]");
    let error = expect_error(
        &flat,
        &valid_tensors(),
        &["`conv`", "[channels, height, width]", "[3, 36]"],
    );
    assert!(matches!(error, FrontendError::Shape { .. }), "{error:?}");
    let preprocess = VALID.replace(
        "shape: [3, 6, 6]",
        "shape: [3, 6, 6], preprocess: Some(Preprocess(pixel_max: 255.0, mean: [0.1, 0.2], std: [1.0]))",
    );
    expect_error(
        &preprocess,
        &valid_tensors(),
        &["`x`", "mean has 2 values for 3 channels"],
    );
}

#[test]
fn the_executor_refuses_an_input_of_the_wrong_shape() {
    let (_, result) = build(VALID, &valid_tensors());
    let graph = result.unwrap();
    let wrong = ArrayD::<f32>::zeros(IxDyn(&[3, 5, 5]));
    let error = forward(&graph, &[wrong]).unwrap_err();
    assert!(
        matches!(error, FrontendError::InputMismatch { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("expected shape [3, 6, 6]"),
        "{error}"
    );
}

#[test]
fn a_truncated_safetensors_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_weights(dir.path(), "w.safetensors", &valid_tensors());
    let bytes = std::fs::read(&path).unwrap();
    for cut in [4, bytes.len() / 2, bytes.len() - 1] {
        let error =
            WeightFile::from_bytes(&bytes[..cut], Path::new("cut.safetensors")).unwrap_err();
        assert!(
            matches!(error, FrontendError::Safetensors { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("cut.safetensors: not a valid safetensors file"),
            "{error}"
        );
    }
}

#[test]
fn a_missing_file_is_named() {
    let error = ModelDescription::from_file(Path::new("/nonexistent/model.ron")).unwrap_err();
    assert!(
        error.to_string().starts_with("/nonexistent/model.ron:"),
        "{error}"
    );
}

#[test]
fn an_input_too_large_to_allocate_is_refused_by_name() {
    // 2^40 · 2^40 overflows a usize: the size is computed with checked arithmetic.
    for shape in ["[1099511627776, 1099511627776]", "[3, 65536, 65536]"] {
        let ron = VALID.replace("shape: [3, 6, 6]", &format!("shape: {shape}"));
        let error = expect_error(&ron, &valid_tensors(), &["node `x`", "more than"]);
        assert!(matches!(error, FrontendError::Graph { .. }), "{error:?}");
    }
}
