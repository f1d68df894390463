//! `fhec bench bootstrap` end to end at an insecure test size: the JSON has the DESIGN §10
//! shape, says the parameters are insecure, and the bootstrap really refreshes (levels out
//! above levels in, precision far above what a wrong result gives), with the DFT diagonals
//! kept encoded or encoded on demand; bad options are refused.

mod cli_common;

use cli_common::{failure, fhec, success};

#[test]
fn bench_bootstrap_reports_the_design_shape_at_a_labelled_insecure_size() {
    let mut plaintext_bytes = Vec::new();
    for diagonals in ["encoded", "on-demand"] {
        let report = bench_bootstrap_n11(diagonals);
        assert_eq!(report["diagonals"], diagonals);
        plaintext_bytes.push(report["plaintext_bytes"].as_u64().unwrap());
    }
    // Diagonals kept as slot values take a small fraction of their encoded form.
    assert!(
        plaintext_bytes[1] * 4 < plaintext_bytes[0],
        "{plaintext_bytes:?}"
    );
}

/// Runs the bench at N = 2^11 (insecure), 256 slots, with `--diagonals diagonals`, checks the
/// report's shape and figures, and returns it.
fn bench_bootstrap_n11(diagonals: &str) -> serde_json::Value {
    let out = success(&fhec(&[
        "bench",
        "bootstrap",
        "--log-n",
        "11",
        "--slots",
        "256",
        "--threads",
        "2",
        "--repeats",
        "1",
        "--diagonals",
        diagonals,
        "--json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["bench"], "bootstrap");
    assert_eq!(report["slots"], 256);
    assert_eq!(report["threads"], 2);
    assert_eq!(report["params"]["security"], "insecure");
    assert_eq!(report["params"]["log_n"], 11);
    let levels_in = report["levels_in"].as_u64().unwrap();
    let levels_out = report["levels_out"].as_u64().unwrap();
    assert!(levels_out > levels_in, "{levels_in} -> {levels_out}");
    let mean = report["precision_bits"]["mean"].as_f64().unwrap();
    let worst = report["precision_bits"]["min"].as_f64().unwrap();
    assert!(
        mean > 15.0 && worst > 12.0 && mean >= worst,
        "{mean} / {worst}"
    );
    let time = &report["time_s"];
    assert!(time["median"].as_f64().unwrap() > 0.0);
    assert!(report["keygen_s"].as_f64().unwrap() > 0.0);
    assert_eq!(
        report["eval_key_bytes"], report["eval_key_bytes_formula"],
        "stored key bytes follow the DESIGN §5 formula"
    );
    report
}

#[test]
fn bench_bootstrap_refuses_bad_sizes() {
    let message = failure(&fhec(&["bench", "bootstrap", "--log-n", "14"]));
    assert!(message.contains("--log-n 14"), "{message}");
    let message = failure(&fhec(&[
        "bench",
        "bootstrap",
        "--log-n",
        "11",
        "--slots",
        "3",
    ]));
    assert!(message.contains("--slots 3"), "{message}");
}
