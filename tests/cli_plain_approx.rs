//! `fhec plain --approx`: takes the model's calibration record (measured on the training
//! batch), replaces every activation by its polynomial, and reports per activation the choice
//! and the inputs outside its interval.

mod cli_common;

use cli_common::{failure, fhec, sample_data, success};
use serde_json::Value;

#[test]
fn plain_approx_reports_every_activation() {
    let data = sample_data();
    let out = success(&fhec(&[
        "plain",
        "models/resnet20.ron",
        "--approx",
        "--limit",
        "20",
        "--compare-exact",
        "--data",
        data.to_str().unwrap(),
    ]));
    let report: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(report["approx"], true);
    assert_eq!(report["images"], 20);
    assert!(report["correct"].as_u64().unwrap() >= 16, "{report}");
    assert!(
        report["agreement_with_exact"].as_f64().unwrap() >= 0.9,
        "{report}"
    );
    assert_eq!(report["calibration"]["source"], "cifar10/data_batch_1.bin");
    assert_eq!(report["calibration"]["images"], 10000);
    let activations = report["activations"].as_array().unwrap();
    assert_eq!(activations.len(), 19, "stem + 2 per block × 9 blocks");
    assert_eq!(activations[0]["node"], "relu");
    for entry in activations {
        let [lo, hi] = [0, 1].map(|k| entry["interval"][k].as_f64().unwrap());
        let max_abs = entry["calibrated_max_abs"].as_f64().unwrap();
        assert!(lo == -hi && hi >= max_abs, "{entry}");
        assert!(entry["degrees"][0].as_u64().unwrap() >= 7, "{entry}");
        assert!(entry["depth"].as_u64().unwrap() >= 3, "{entry}");
        let inputs = entry["inputs"].as_u64().unwrap();
        let outside = entry["outside"].as_u64().unwrap();
        assert!(inputs >= 20 * 64 * 8 * 8 && outside <= inputs, "{entry}");
        let worst = entry["worst_ratio"].as_f64().unwrap();
        assert_eq!(outside > 0, worst > 1.0, "{entry}");
        assert!(worst > 0.0);
    }
}

#[test]
fn approx_options_need_approx_and_a_degree_above_zero() {
    let err = failure(&fhec(&["plain", "models/resnet20.ron", "--degree", "31"]));
    assert!(err.contains("--approx"), "{err}");
    let err = failure(&fhec(&["plain", "models/resnet20.ron", "--calibrate", "x"]));
    assert!(err.contains("need --approx"), "{err}");
    let data = sample_data();
    let err = failure(&fhec(&[
        "plain",
        "models/resnet20.ron",
        "--approx",
        "--degree",
        "0",
        "--data",
        data.to_str().unwrap(),
    ]));
    assert!(err.contains("--degree"), "{err}");
}
