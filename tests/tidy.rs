//! Tidy checks run as ordinary tests (STYLE #1, #3, #35): every source module says what it is
//! for, and the dependency directions of DESIGN §2 hold in the source, not only in Cargo.toml.

use std::fs;
use std::path::{Path, PathBuf};

/// The repository root (this package is the workspace root).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file below `dir`, sorted so failures are reported in a stable order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The `src/` folders of every crate in the workspace.
fn source_dirs() -> Vec<PathBuf> {
    [
        "src",
        "ir/src",
        "ir/params/src",
        "compiler/src",
        "runtime/src",
    ]
    .iter()
    .map(|d| root().join(d))
    .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_module_starts_with_a_doc_header() {
    let missing: Vec<String> = source_dirs()
        .iter()
        .flat_map(|d| rust_files(d))
        .filter(|f| {
            let text = fs::read_to_string(f).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| relative(&f))
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` header: {missing:#?}"
    );
}

#[test]
fn ckks_core_never_uses_the_ir() {
    let exec = root().join("runtime/src/exec");
    let offenders: Vec<String> = rust_files(&root().join("runtime/src"))
        .into_iter()
        .filter(|f| !f.starts_with(&exec))
        .filter(|f| {
            fs::read_to_string(f)
                .unwrap_or_default()
                .contains("fhec_ir")
        })
        .map(|f| relative(&f))
        .collect();
    assert!(
        offenders.is_empty(),
        "only runtime/src/exec may use fhec_ir (DESIGN §2); found in {offenders:#?}"
    );
}

#[test]
fn compiler_never_depends_on_the_runtime() {
    let manifest = fs::read_to_string(root().join("compiler/Cargo.toml")).unwrap();
    let sources = rust_files(&root().join("compiler/src"));
    let uses_runtime = sources.iter().any(|f| {
        fs::read_to_string(f)
            .unwrap_or_default()
            .contains("fhec_runtime")
    });
    assert!(
        !manifest.contains("fhec-runtime") && !uses_runtime,
        "the compiler must not depend on the runtime (DESIGN §2)"
    );
}

#[test]
fn tidy_checks_can_fail() {
    // Guard against a walker that silently finds nothing: the checks above would then pass.
    let files: Vec<PathBuf> = source_dirs().iter().flat_map(|d| rust_files(d)).collect();
    assert!(
        files.iter().any(|f| f.ends_with("src/main.rs")),
        "the tidy walker found no sources: {files:?}"
    );
}

/// What reads a secret key: the server's code must contain none of it.
const SECRET_KEY_READERS: [&str; 4] = [
    "SECRET_KEY_FILE",
    "read_secret_key",
    "secret_key_path",
    "CkksClient",
];

fn mentions_secret_key_readers(file: &str) -> Vec<&'static str> {
    let text = fs::read_to_string(root().join(file)).unwrap();
    SECRET_KEY_READERS
        .into_iter()
        .filter(|token| text.contains(token))
        .collect()
}

#[test]
fn eval_never_reads_a_secret_key() {
    // `fhec eval` is the server: it gets `DIR/public` only (DESIGN §6). The CLI test
    // `eval_never_opens_a_secret_key` runs it beside garbage secret keys; this keeps the code
    // path free of the functions that would read one.
    for file in ["src/commands/eval.rs", "src/commands/ct_bundle.rs"] {
        let found = mentions_secret_key_readers(file);
        assert!(found.is_empty(), "{file} mentions {found:?}");
    }
    // The check can fail: the client's decrypt reads the secret key.
    assert!(!mentions_secret_key_readers("src/commands/decrypt.rs").is_empty());
}
