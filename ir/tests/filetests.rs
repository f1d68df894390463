//! Filetests: every `ir/tests/filetests/<kind>/*.fhir` file is one test case, run by the test
//! function of its kind, with its own reviewed snapshot.
//!
//! - `test cat`: the file parses; the snapshot is the printed program; printing, parsing and
//!   printing again gives the same text.
//! - `test verify`: the file parses; each line annotated `; error: <text>` must get a verifier
//!   error containing `<text>`, and no other error may occur (annotations on header lines
//!   match program-level errors). The snapshot lists the errors; a file without annotations
//!   must verify clean.

use fhec_ir::{parse, parse_with_lines, verify};
use std::collections::BTreeMap;
use std::path::Path;

/// The file's text with its `test <kind>` header checked and blanked (line numbers are kept).
fn read_case(path: &Path, kind: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    assert_eq!(
        first.trim(),
        format!("test {kind}"),
        "{}: first line must be `test {kind}`",
        path.display()
    );
    format!("\n{rest}")
}

#[test]
fn cat() {
    insta::glob!("filetests/cat/*.fhir", |path| {
        let text = read_case(path, "cat");
        let program = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let printed = program.to_string();
        let reparsed = parse(&printed).unwrap_or_else(|e| {
            panic!(
                "{}: printed form does not parse: {e}\n{printed}",
                path.display()
            )
        });
        assert_eq!(
            reparsed.to_string(),
            printed,
            "{}: print(parse(print)) differs",
            path.display()
        );
        insta::assert_snapshot!(printed);
    });
}

#[test]
fn verify_rules() {
    insta::glob!("filetests/verify/*.fhir", |path| {
        let text = read_case(path, "verify");
        let (program, inst_lines) =
            parse_with_lines(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Line -> the substrings its `; error:` annotations expect (one line may carry several).
        let expected: BTreeMap<usize, Vec<&str>> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| line.contains("; error:"))
            .map(|(i, line)| {
                (
                    i + 1,
                    line.split("; error:").skip(1).map(str::trim).collect(),
                )
            })
            .collect();
        let errors = verify(&program).err().map(|e| e.0).unwrap_or_default();
        let header_lines: Vec<usize> = expected
            .keys()
            .copied()
            .filter(|l| !inst_lines.contains(l))
            .collect();
        let mut unmatched: Vec<(usize, &str)> = expected
            .iter()
            .flat_map(|(&l, subs)| subs.iter().map(move |&s| (l, s)))
            .collect();
        let mut report = Vec::new();
        for error in &errors {
            let lines = match error.inst {
                Some(inst) => vec![inst_lines[inst.as_u32() as usize]],
                None => header_lines.clone(),
            };
            let hit = lines.iter().find(|l| {
                expected
                    .get(l)
                    .is_some_and(|subs| subs.iter().any(|s| error.message.contains(s)))
            });
            let Some(&line) = hit else {
                panic!(
                    "{}: unexpected verifier error (line {lines:?}): {error}",
                    path.display()
                );
            };
            unmatched.retain(|&(l, s)| !(l == line && error.message.contains(s)));
            report.push(format!("line {line}: {error}"));
        }
        if let Some((line, want)) = unmatched.first() {
            panic!(
                "{}: line {line} expects an error containing {want:?}; got: {errors:#?}",
                path.display()
            );
        }
        if report.is_empty() {
            report.push("verifies clean".to_string());
        }
        insta::assert_snapshot!(report.join("\n"));
    });
}
