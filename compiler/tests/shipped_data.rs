//! Checks against the data shipped in the repository (`models/sample`: the real ResNet-20
//! weights, the first 100 CIFAR-10 test images and their reference logits).

use std::path::{Path, PathBuf};

use fhec_compiler::data::{CifarBatch, DataDirSearch};
use fhec_compiler::frontend::{build_graph, load_model};
use fhec_compiler::graph::{TensorGraph, TensorOp};
use fhec_compiler::model::{ModelDescription, WeightsLocation};
use fhec_compiler::onnx::{ImportOptions, import_onnx};
use fhec_compiler::reference::{load_logits, run_batch};
use fhec_compiler::weights::{WeightFile, write_safetensors};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The data-directory rule pointed at the shipped sample.
fn data_search() -> DataDirSearch {
    DataDirSearch::new(Some(repo_root().join("models/sample")), None, repo_root())
}

fn shipped(name: &str, search: &DataDirSearch) -> TensorGraph {
    load_model(&repo_root().join("models").join(name), None, search)
        .unwrap_or_else(|e| panic!("{e}"))
        .graph
}

/// Asserts two graphs compute the same thing: same operators with identical weights, same
/// shapes, same wiring (names may differ).
fn assert_same_network(a: &TensorGraph, b: &TensorGraph) {
    assert_eq!(a.nodes.len(), b.nodes.len());
    for (x, y) in a.nodes.iter().zip(&b.nodes) {
        assert_eq!(x.op, y.op, "node `{}` vs `{}`", x.name, y.name);
        assert_eq!(x.shape, y.shape, "node `{}`", x.name);
        assert_eq!(x.inputs, y.inputs, "node `{}`", x.name);
    }
    assert_eq!(a.output, b.output);
}

#[test]
fn folding_batchnorm_reproduces_the_folded_weights_bit_for_bit() {
    let search = data_search();
    let folded = shipped("resnet20.ron", &search);
    let unfolded = shipped("resnet20_bn.ron", &search);
    assert_eq!(
        unfolded
            .nodes
            .iter()
            .filter(|n| !n.folded.is_empty())
            .count(),
        21
    );
    assert_same_network(&folded, &unfolded);
    assert!(folded.warnings.is_empty() && unfolded.warnings.is_empty());
}

#[test]
fn the_onnx_resnet20_imports_to_the_shipped_model() {
    let search = data_search();
    let shipped_path = repo_root().join("models/resnet20.ron");
    let description = ModelDescription::from_file(&shipped_path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = ImportOptions {
        name: "resnet20_onnx".into(),
        weights: WeightsLocation::ModelDir("resnet20_onnx.safetensors".into()),
        preprocess: description.inputs[0].preprocess.clone(),
    };
    let onnx = search.file(Path::new("resnet20/resnet20.onnx")).unwrap();
    let imported = import_onnx(&onnx, &options).unwrap();
    let weights = dir.path().join("resnet20_onnx.safetensors");
    write_safetensors(&weights, &imported.tensors).unwrap();
    let model_path = dir.path().join("resnet20_onnx.ron");
    let graph = build_graph(
        &imported.description,
        &model_path,
        &WeightFile::load(&weights).unwrap(),
    )
    .unwrap();
    assert_same_network(&graph, &shipped("resnet20.ron", &search));
}

#[test]
fn the_first_images_match_the_reference_logits() {
    let search = data_search();
    let graph = shipped("resnet20.ron", &search);
    let batch = CifarBatch::load(
        &search.file(Path::new("cifar10/test_batch.bin")).unwrap(),
        Some(32),
    )
    .unwrap();
    let logits = run_batch(&graph, &batch, &|| {}).unwrap();
    let reference = load_logits(
        &search
            .file(Path::new("resnet20/test_logits_f32.bin"))
            .unwrap(),
        32,
        10,
    )
    .unwrap();
    let worst = logits
        .iter()
        .flatten()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "max |logit difference| {worst}");
    assert_eq!(
        &batch.labels()[..16],
        &[3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8]
    );
    let first: Vec<f32> = logits[0].clone();
    assert!(
        (first[3] - 21.2867).abs() < 1e-3,
        "image 0 logits {first:?}"
    );
}

#[test]
fn graph_inputs_are_preprocessed_as_the_model_says() {
    let search = data_search();
    let graph = shipped("resnet20.ron", &search);
    let TensorOp::Input(Some(pre)) = &graph.node(graph.inputs[0]).op else {
        panic!("resnet20.ron declares its normalisation")
    };
    assert_eq!(pre.mean, [0.4914, 0.4822, 0.4465]);
    assert_eq!(pre.std, [0.2023, 0.1994, 0.2010]);
    assert_eq!(pre.pixel_max, 255.0);
}
