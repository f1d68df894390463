//! `fhec demo`: the encrypted classification of one shipped test image, on a tiny CIFAR-10
//! program compiled for **INSECURE** parameters (N = 2^12; the real demo runs ResNet-20 at
//! N = 2^16, which belongs to benchmarks): every step is reported, the encrypted class equals
//! the clear backend's, the label and the plain model's answer are printed, and insecure
//! programs need the opt-in. Plus the program cache: a second run reuses the program.

#[path = "../compiler/tests/lower_support/mod.rs"]
mod lower_support;

mod ckks_support;
mod cli_common;

use ckks_support::{TINY_LOG_SLOTS, literal, write_tiny_cifar_program};
use cli_common::{calibrated_tiny_model, failure, fhec, fhec_in, sample_data, success};

#[test]
fn the_demo_classifies_an_encrypted_image_and_reports_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let program = write_tiny_cifar_program(dir.path(), literal(TINY_LOG_SLOTS));
    let (program, data) = (program.to_str().unwrap(), sample_data());
    let data = data.to_str().unwrap();
    let common = [
        "demo",
        "--program",
        program,
        "--image",
        "3",
        "--data",
        data,
        "--threads",
        "2",
    ];
    let refused = failure(&fhec(&common));
    assert!(
        refused.contains("INSECURE") && refused.contains("--insecure"),
        "{refused}"
    );

    let mut args = common.to_vec();
    args.push("--insecure");
    let output = fhec(&args);
    let out = success(&output);
    let notes = String::from_utf8_lossy(&output.stderr);
    assert!(
        notes.contains("INSECURE") && notes.contains("100 test images"),
        "{notes}"
    );
    assert!(out.contains("CKKS INSECURE (N = 2^12)"), "{out}");
    for step in [
        "keygen", "encrypt", "prepare", "evaluate", "decrypt", "total",
    ] {
        let line = out.lines().find(|l| l.starts_with(step));
        let line = line.unwrap_or_else(|| panic!("no `{step}` line: {out}"));
        if step != "total" {
            assert!(line.contains(" s ") && line.contains("GiB"), "{line}");
        }
    }
    // Image 3 of the test set is an airplane.
    assert!(
        out.contains("label:            airplane (class 0)"),
        "{out}"
    );
    assert!(out.contains("plain model:      "), "{out}");

    // The encrypted class is the one the clear backend computes with the same program.
    let report = dir.path().join("report.json");
    success(&fhec(&[
        "run",
        program,
        "--backend",
        "clear",
        "--images",
        "3",
        "--data",
        data,
        "--report",
        report.to_str().unwrap(),
    ]));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let clear_class = report["images"][0]["class"].as_u64().unwrap();
    let line = out
        .lines()
        .find(|l| l.starts_with("encrypted result:"))
        .unwrap();
    assert!(
        line.ends_with(&format!("(class {clear_class})")),
        "{line} vs clear {clear_class}"
    );
}

#[test]
fn the_demo_caches_the_compiled_program() {
    let dir = calibrated_tiny_model();
    let root = dir.path();
    let args = [
        "demo",
        "--model",
        "tiny.ron",
        "--cache",
        "cache",
        "--compile-only",
    ];
    let first = success(&fhec_in(root, &args));
    assert!(first.contains("cached as cache/tiny-"), "{first}");
    let second = success(&fhec_in(root, &args));
    assert!(second.contains("cached: cache/tiny-"), "{second}");
    let programs: Vec<_> = std::fs::read_dir(root.join("cache")).unwrap().collect();
    assert_eq!(programs.len(), 1);
    // Another calibration record is another program.
    success(&fhec_in(
        root,
        &[
            "calibrate",
            "tiny.ron",
            "--calibrate",
            "train",
            "--calibration-images",
            "2",
        ],
    ));
    let third = success(&fhec_in(root, &args));
    assert!(third.contains("cached as cache/tiny-"), "{third}");
    assert_eq!(std::fs::read_dir(root.join("cache")).unwrap().count(), 2);
}
