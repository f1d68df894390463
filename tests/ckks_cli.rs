//! `fhec run --backend ckks` end to end on a tiny CIFAR-10 model compiled for an **INSECURE**
//! target (N = 2^12, 1024 slots: tests only): average pooling → ReLU polynomial → flatten →
//! fully connected layer, one bootstrap per input ciphertext. Without `--insecure` the program
//! is refused naming the file; with it the summary and report say INSECURE, carry the time of
//! each phase and the peak RSS, and the CKKS logits agree with the clear backend's. On the
//! shipped sample's test images.

#[path = "../compiler/tests/lower_support/mod.rs"]
mod lower_support;

mod ckks_support;
mod cli_common;

use ckks_support::{LOG_N, TINY_LOG_SLOTS, literal, write_tiny_cifar_program};
use cli_common::{failure, fhec, sample_data, success};

#[test]
fn run_on_the_ckks_backend_needs_the_insecure_opt_in_and_agrees_with_clear() {
    let data = sample_data();
    let dir = tempfile::tempdir().unwrap();
    let program = write_tiny_cifar_program(dir.path(), literal(TINY_LOG_SLOTS));
    let report = dir.path().join("report.json");
    let (program_arg, report_arg) = (program.to_str().unwrap(), report.to_str().unwrap());
    let data_arg = data.to_str().unwrap();
    let common = [
        "run",
        program_arg,
        "--backend",
        "ckks",
        "--images",
        "0..2",
        "--data",
        data_arg,
        "--threads",
        "2",
    ];

    let refused = failure(&fhec(&common));
    eprintln!("refused: {refused}");
    assert!(
        refused.contains("INSECURE")
            && refused.contains("program.ron")
            && refused.contains("--insecure"),
        "{refused}"
    );

    let mut args = common.to_vec();
    args.extend(["--insecure", "--report", report_arg]);
    // The bootstrapper's other mode (ckks_model.rs covers the default, diagonals kept encoded).
    args.extend(["--bootstrap-diagonals", "on-demand"]);
    let output = fhec(&args);
    let summary = success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INSECURE"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["security"], "INSECURE");
    assert_eq!(summary["images"], 2);
    assert_eq!(summary["agreement_clear"], 1.0);
    let bits = summary["min_precision_bits"].as_f64().unwrap();
    eprintln!("CKKS vs clear over 2 images: {bits:.1} bits");
    assert!(bits > 16.0, "CKKS vs clear: {bits:.1} bits");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    eprintln!("phases: {}", report["phases"]);
    assert_eq!(report["backend"], "ckks");
    assert_eq!(report["security"], "INSECURE");
    assert_eq!(report["log_n"], LOG_N);
    assert!(report["peak_rss_bytes"].as_u64().unwrap() > 0);
    assert!(report["eval_key_bytes"].as_u64().unwrap() > 0);
    for phase in [
        "setup_s",
        "keygen_s",
        "backend_setup_s",
        "encrypt_s",
        "eval_s",
        "decrypt_s",
    ] {
        assert!(
            report["phases"][phase].as_f64().unwrap() > 0.0,
            "phase {phase}"
        );
    }
    let bootstrap = &report["ops"]["bootstrap"];
    assert!(
        bootstrap["count"].as_u64().unwrap() >= 2,
        "one per image at least"
    );
    assert!(bootstrap["seconds"].as_f64().unwrap() > 0.0);
    for image in report["images"].as_array().unwrap() {
        for key in [
            "index",
            "label",
            "class",
            "clear_class",
            "plain_class",
            "time_s",
            "precision_bits",
        ] {
            assert!(image.get(key).is_some(), "report image lacks {key}");
        }
        assert_eq!(image["logits"].as_array().unwrap().len(), 10);
    }
}
