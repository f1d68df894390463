//! `fhec import`: failures are one line naming the file; the written pair loads with `check`.

mod cli_common;

use cli_common::{failure, fhec_in, sample_data, success};

#[test]
fn a_corrupt_onnx_file_fails_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.onnx"), b"\x0a\xff\xff\xff\xff garbage").unwrap();
    let err = failure(&fhec_in(
        dir.path(),
        &["import", "bad.onnx", "-o", "bad.ron"],
    ));
    let error_lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "{err}");
    assert!(
        error_lines[0].starts_with("error: bad.onnx: not a readable ONNX model"),
        "{err}"
    );
    assert!(!dir.path().join("bad.ron").exists());
}

#[test]
fn an_imported_model_checks_with_its_own_weights() {
    let data = sample_data();
    let dir = tempfile::tempdir().unwrap();
    let onnx = data.join("resnet20/resnet20.onnx");
    let weights = dir.path().join("elsewhere/w.safetensors");
    std::fs::create_dir_all(weights.parent().unwrap()).unwrap();
    let output = fhec_in(
        dir.path(),
        &[
            "import",
            onnx.to_str().unwrap(),
            "-o",
            "r20.ron",
            "--weights-out",
            "elsewhere/w.safetensors",
        ],
    );
    let notes = String::from_utf8_lossy(&output.stderr).into_owned();
    success(&output);
    assert!(notes.contains("no input preprocessing"), "{notes}");
    let ron = std::fs::read_to_string(dir.path().join("r20.ron")).unwrap();
    assert!(
        ron.contains(r#"weights: ModelDir("elsewhere/w.safetensors")"#),
        "{ron}"
    );
    let out = success(&fhec_in(dir.path(), &["check", "r20.ron"]));
    assert!(
        out.trim_end().ends_with("53 nodes, 271690 parameters"),
        "{out}"
    );
}

#[test]
fn import_never_overwrites_its_input_or_a_good_pair_with_a_bad_one() {
    let data = sample_data();
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("c.onnx");
    std::fs::copy(data.join("resnet20/resnet20.onnx"), &onnx).unwrap();
    let original = std::fs::read(&onnx).unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["import", "c.onnx"];
        all.extend_from_slice(args);
        fhec_in(dir.path(), &all)
    };
    for args in [
        &["-o", "c.onnx"][..],
        &["-o", "r.ron", "--weights-out", "c.onnx"],
        &["-o", "r.ron", "--weights-out", "./r.ron"],
    ] {
        let err = failure(&run(args));
        assert!(
            err.contains("overwrite the input") || err.contains("named twice"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read(&onnx).unwrap(), original);
    assert!(!dir.path().join("r.ron").exists());

    success(&run(&["-o", "r.ron"]));
    let ron = std::fs::read(dir.path().join("r.ron")).unwrap();
    let weights = std::fs::read(dir.path().join("r.safetensors")).unwrap();
    for (mean, std) in [
        ("0,0,0", "0,0,0"),
        ("nan,0,0", "1,1,1"),
        ("0,0,0", "1,inf,1"),
    ] {
        let err = failure(&run(&["-o", "r.ron", "--mean", mean, "--std", std]));
        assert!(err.contains("r.ron"), "{err}");
    }
    assert_eq!(std::fs::read(dir.path().join("r.ron")).unwrap(), ron);
    assert_eq!(
        std::fs::read(dir.path().join("r.safetensors")).unwrap(),
        weights
    );
}
