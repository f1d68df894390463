//! `fhec check`: the shipped models validate and print their graph; bad input fails with one
//! clear line.

mod cli_common;

use cli_common::{failure, fhec, fhec_in, sample_data, success};

#[test]
fn check_prints_the_resnet20_graph() {
    let data = sample_data();
    let data = data.to_str().unwrap();
    let out = success(&fhec(&["check", "models/resnet20.ron", "--data", data]));
    assert!(out.contains("resnet20_cifar10_folded.safetensors"), "{out}");
    assert!(out.contains("layer3.0.downsample"), "{out}");
    assert!(out.contains("[64, 8, 8]"), "{out}");
    assert!(out.contains("output fc [10]"), "{out}");
    assert!(
        out.trim_end().ends_with("53 nodes, 271690 parameters"),
        "{out}"
    );
}

#[test]
fn check_folds_the_batchnorm_of_the_unfolded_model() {
    let data = sample_data();
    let out = success(&fhec(&[
        "check",
        "models/resnet20_bn.ron",
        "--data",
        data.to_str().unwrap(),
    ]));
    assert!(out.contains("(folded bn1)"), "{out}");
    assert!(out.contains("(folded layer2.0.downsample.1)"), "{out}");
    assert!(
        out.trim_end().ends_with("53 nodes, 271690 parameters"),
        "{out}"
    );
}

#[test]
fn check_reports_a_bad_model_file_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.ron"),
        "Model(\n    name: \"x\",\n    weights: Nowhere(\"w\"),\n)",
    )
    .unwrap();
    let err = failure(&fhec_in(dir.path(), &["check", "bad.ron"]));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: bad.ron:3:"), "{err}");
    assert!(err.contains("Nowhere"), "{err}");
    let err = failure(&fhec_in(dir.path(), &["check", "absent.ron"]));
    assert!(err.starts_with("error: absent.ron: "), "{err}");
    assert_eq!(
        err.matches("os error").count(),
        1,
        "the OS error once: {err}"
    );
}

/// With no `--data`, no `FHEC_DATA` and nothing beside the working directory, the shipped
/// sample is the data directory, and the command says so.
#[test]
fn with_nothing_beside_it_check_uses_the_shipped_sample_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!dir.path().join("../shared/data").exists());
    let model = cli_common::repo_root().join("models/resnet20.ron");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fhec"))
        .args(["check", model.to_str().unwrap()])
        .current_dir(dir.path())
        .env_remove("FHEC_DATA")
        .output()
        .unwrap();
    let graph = success(&out);
    assert!(graph.contains("models/sample/resnet20/"), "{graph}");
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(
        notes.contains("(the sample shipped in the repository), 100 test images"),
        "{notes}"
    );
}
