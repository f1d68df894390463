//! The data-directory rule, the CIFAR-10 loader, reference logits and the accuracy report.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use fhec_compiler::FrontendError;
use fhec_compiler::data::{CifarBatch, DataDirSearch, DataOrigin, class_names};
use fhec_compiler::reference::{AccuracyReport, load_logits};

/// A scratch tree: `root/work` is the working directory, `root/shared/data` the sibling data
/// directory, `root/elsewhere` another data directory.
struct Tree {
    _dir: tempfile::TempDir,
    work: PathBuf,
    sibling: PathBuf,
    elsewhere: PathBuf,
}

fn tree(with_sibling: bool) -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let sibling = dir.path().join("shared/data");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    if with_sibling {
        std::fs::create_dir_all(&sibling).unwrap();
    }
    Tree {
        _dir: dir,
        work,
        sibling,
        elsewhere,
    }
}

fn same(a: &Path, b: &Path) -> bool {
    a.canonicalize().unwrap() == b.canonicalize().unwrap()
}

#[test]
fn an_explicit_directory_wins_over_the_environment_and_the_sibling() {
    let t = tree(true);
    let env = Some(OsString::from(t.sibling.as_os_str()));
    let search = DataDirSearch::new(Some(t.elsewhere.clone()), env, t.work.clone());
    assert!(same(&search.resolve().unwrap(), &t.elsewhere));
}

#[test]
fn the_environment_wins_over_the_sibling() {
    let t = tree(true);
    let search = DataDirSearch::new(
        None,
        Some(t.elsewhere.clone().into_os_string()),
        t.work.clone(),
    );
    assert!(same(&search.resolve().unwrap(), &t.elsewhere));
}

#[test]
fn the_sibling_shared_data_is_the_fallback() {
    let t = tree(true);
    let search = DataDirSearch::new(None, None, t.work.clone());
    assert!(same(&search.resolve().unwrap(), &t.sibling));
}

#[test]
fn without_any_the_error_says_how_to_point_at_the_data() {
    let t = tree(false);
    let error = DataDirSearch::new(None, None, t.work.clone())
        .resolve()
        .unwrap_err();
    assert!(
        matches!(error, FrontendError::DataDirNotFound { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("--data DIR") && message.contains("FHEC_DATA"),
        "{message}"
    );
    assert!(message.contains("shared/data does not exist"), "{message}");
}

#[test]
fn the_shipped_sample_is_the_last_resort_and_says_where_it_came_from() {
    let t = tree(false);
    let sample = t.elsewhere.clone();
    std::fs::create_dir_all(sample.join("cifar10")).unwrap();
    std::fs::write(sample.join("cifar10/test_batch.bin"), vec![0u8; 3 * 3073]).unwrap();
    let search = DataDirSearch::new(None, None, t.work.clone()).with_sample(sample.clone());
    let found = search.resolve_dir().unwrap();
    assert_eq!(
        (found.path.as_path(), found.origin),
        (sample.as_path(), DataOrigin::Sample)
    );
    assert_eq!(found.test_images(), 3);
    assert!(
        found
            .describe()
            .ends_with("(the sample shipped in the repository), 3 test images"),
        "{}",
        found.describe()
    );
    // Anything earlier in the rule wins over it.
    let t = tree(true);
    let search = DataDirSearch::new(None, None, t.work.clone()).with_sample(sample.clone());
    assert_eq!(search.resolve_dir().unwrap().origin, DataOrigin::Sibling);
    // The repository's own sample is where the rule looks by default.
    assert!(
        fhec_compiler::data::shipped_sample_dir()
            .join("cifar10/test_batch.bin")
            .is_file()
    );
}

#[test]
fn a_named_directory_that_does_not_exist_is_an_error_not_a_fallback() {
    let t = tree(true);
    let missing = t.work.join("nope");
    let error = DataDirSearch::new(Some(missing.clone()), None, t.work.clone())
        .resolve()
        .unwrap_err();
    assert!(error.to_string().contains("--data names"), "{error}");
    let error = DataDirSearch::new(None, Some(missing.into_os_string()), t.work.clone())
        .resolve()
        .unwrap_err();
    assert!(error.to_string().contains("FHEC_DATA names"), "{error}");
}

#[test]
fn relative_files_are_found_in_the_working_directory_then_the_data_directory() {
    let t = tree(true);
    std::fs::write(t.sibling.join("logits.bin"), b"x").unwrap();
    std::fs::write(t.work.join("local.bin"), b"x").unwrap();
    let search = DataDirSearch::new(None, None, t.work.clone());
    assert!(same(
        &search.locate(Path::new("logits.bin")),
        &t.sibling.join("logits.bin")
    ));
    assert!(same(
        &search.locate(Path::new("local.bin")),
        &t.work.join("local.bin")
    ));
    assert_eq!(
        search.locate(Path::new("absent.bin")),
        t.work.join("absent.bin")
    );
}

/// Two CIFAR records: labels 3 and 8, pixels counting up.
fn two_records() -> Vec<u8> {
    let mut bytes = Vec::new();
    for label in [3u8, 8] {
        bytes.push(label);
        bytes.extend((0..3072).map(|i| (i % 241) as u8 + label));
    }
    bytes
}

#[test]
fn cifar_records_are_read_with_labels_and_planes() {
    let bytes = two_records();
    let batch = CifarBatch::from_bytes(&bytes, Path::new("b.bin"), None).unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch.labels(), &[3, 8]);
    assert_eq!(batch.image(1)[0], 8);
    assert_eq!(batch.image(1)[3071], (3071 % 241) as u8 + 8);
    let limited = CifarBatch::from_bytes(&bytes, Path::new("b.bin"), Some(1)).unwrap();
    assert_eq!(limited.labels(), &[3]);
}

#[test]
fn a_truncated_cifar_file_is_refused() {
    let bytes = two_records();
    let error = CifarBatch::from_bytes(&bytes[..5000], Path::new("cut.bin"), None).unwrap_err();
    assert!(matches!(error, FrontendError::Data { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.starts_with("cut.bin: truncated"), "{message}");
    assert!(message.contains("5000 bytes"), "{message}");
    let mut bad_label = two_records();
    bad_label[3073] = 12;
    let error = CifarBatch::from_bytes(&bad_label, Path::new("b.bin"), None).unwrap_err();
    assert!(
        error.to_string().contains("record 1 has label 12"),
        "{error}"
    );
}

#[test]
fn class_names_come_from_the_meta_file_or_default_to_labels() {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("batches.meta.txt");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    std::fs::write(&meta, names.join("\n") + "\n\n").unwrap();
    assert_eq!(class_names(&meta), names);
    assert_eq!(class_names(&dir.path().join("absent"))[9], "9");
}

#[test]
fn logits_files_are_checked_and_compared() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logits.bin");
    let rows: Vec<f32> = vec![0.0, 1.0, 0.5, 2.0, 0.0, -1.0];
    std::fs::write(
        &path,
        rows.iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    assert_eq!(load_logits(&path, 2, 3).unwrap(), rows);
    assert!(
        load_logits(&path, 3, 3)
            .unwrap_err()
            .to_string()
            .contains("holds logits of 2 images")
    );
    assert!(
        load_logits(&path, 1, 4)
            .unwrap_err()
            .to_string()
            .contains("not a whole number")
    );

    let logits = vec![vec![0.0f32, 1.5, 0.5], vec![2.0, 0.0, -1.0]];
    let names: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
    let report = AccuracyReport::new("m", &logits, &[1, 2], &names, Some(&rows));
    assert_eq!((report.images, report.correct), (2, 1));
    assert_eq!(report.accuracy, 0.5);
    assert_eq!(report.max_abs_logit_diff, Some(0.5));
    let json = serde_json::to_string(&report).unwrap();
    assert_eq!(
        json,
        r#"{"model":"m","images":2,"correct":1,"accuracy":0.5,"approx":false,"precision":"f32","per_class_recall":{"x":0.0,"y":1.0,"z":0.0},"max_abs_logit_diff":0.5,"logit_gaps":{"min":1.0,"below":{"0.0001":0,"0.001":0,"0.003":0,"0.01":0,"0.03":0,"0.1":0,"0.3":0,"1":0}}}"#
    );
}

#[test]
fn recalls_and_accuracy_print_to_four_decimals() {
    // Three images of class 0, two classified right; one of class 1, wrong.
    let logits = vec![
        vec![1.0f32, 0.0],
        vec![1.0, 0.0],
        vec![0.0, 1.0],
        vec![1.0, 0.0],
    ];
    let names: Vec<String> = ["a", "b"].map(String::from).to_vec();
    let report = AccuracyReport::new("m", &logits, &[0, 0, 0, 1], &names, None);
    assert_eq!(report.per_class_recall.0[0].1, 2.0 / 3.0, "kept exact");
    let json = serde_json::to_string(&report).unwrap();
    assert!(
        json.contains(r#""accuracy":0.5,"#)
            && json.contains(r#""per_class_recall":{"a":0.6667,"b":0.0}"#),
        "{json}"
    );
}
