//! No dead dependencies: every crate named under `[dependencies]` in the manifests of the
//! runtime and of fhec-params is used by that crate's sources. A
//! dependency nothing uses still costs build time and audit surface.

use std::fs;
use std::path::{Path, PathBuf};

/// The names listed in the `[dependencies]` table of the manifest at `manifest`.
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = fs::read_to_string(manifest).unwrap();
    let mut in_table = false;
    let mut names = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[dependencies]";
        } else if in_table && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.']).next().unwrap().trim();
            names.push(name.to_string());
        }
    }
    names
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn unused_dependencies(crate_dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(&crate_dir.join("src"), &mut files);
    let text: String = files
        .iter()
        .map(|f| fs::read_to_string(f).unwrap())
        .collect();
    dependencies(&crate_dir.join("Cargo.toml"))
        .into_iter()
        .filter(|name| {
            let path = name.replace('-', "_");
            !text.contains(&format!("{path}::"))
        })
        .collect()
}

#[test]
fn every_dependency_is_used() {
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR"));
    let params = runtime.join("../ir/params");
    for dir in [runtime, params.as_path()] {
        assert!(!dependencies(&dir.join("Cargo.toml")).is_empty());
        assert_eq!(
            unused_dependencies(dir),
            Vec::<String>::new(),
            "unused dependencies in {}",
            dir.display()
        );
    }
}
