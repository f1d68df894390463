//! Filetests of the passes: every `compiler/tests/filetests/<pass>/*.fhir` file is one test
//! case, run by the test function of its pass, with its own reviewed snapshot.
//!
//! A case is the header line `test <pass>`, optional `set <option>=<value>` lines (the pass's
//! options, listed per pass below), then the input program in the IR's text form. The harness
//! runs that one pass and snapshots a `; report: {...}` line (the pass's report as JSON) and
//! the printed output program, or `error: <message>` when the pass refuses the program. Every
//! output must verify, and must compute the same outputs as the input on the clear
//! interpreter (`passes_support`): a snapshot records what a pass does, the two checks that it
//! is still right.
//!
//! | header | runs | options |
//! | --- | --- | --- |
//! | `test levels` | `assign_levels` | `input_level`, `input_scale`, `bootstrap_at=%a %b ...` |
//! | `test bootstrap` | `place_with_input_headroom` | `input_level`, `input_scale`, `max_input_level` |
//! | `test keys` | `select_keys` | `max_rotation_keys` |
//! | `test schedule` | `schedule` with `MemoryModel::for_program` | none |

mod passes_support;

use fhec_compiler::passes::{
    InputTypes, MemoryModel, PassOptions, assign_levels, place_with_input_headroom, select_keys,
};
use fhec_ir::{Program, Scale, Value, parse, verify};
use passes_support::{HashedPlaintexts, assert_same_outputs, run, values};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One filetest: its options and its input program.
struct Case {
    name: String,
    options: BTreeMap<String, String>,
    program: Program,
}

impl Case {
    /// Reads `path`, checking the `test <pass>` header and that every option is one of
    /// `allowed`. Header and option lines are blanked, so parse errors keep their line.
    fn read(path: &Path, pass: &str, allowed: &[&str]) -> Case {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        assert_eq!(
            header.trim(),
            format!("test {pass}"),
            "{name}: the first line must be `test {pass}`"
        );
        let mut options = BTreeMap::new();
        let mut program_text = String::from("\n");
        let mut in_header = true;
        for line in lines {
            match line.trim().strip_prefix("set ") {
                Some(option) if in_header => {
                    let (key, value) = option
                        .split_once('=')
                        .unwrap_or_else(|| panic!("{name}: `set {option}` needs `=`"));
                    let key = key.trim();
                    assert!(
                        allowed.contains(&key),
                        "{name}: unknown option `{key}` for `test {pass}` (known: {allowed:?})"
                    );
                    options.insert(key.to_string(), value.trim().to_string());
                    program_text.push('\n');
                }
                _ => {
                    in_header &= line.trim().is_empty() || line.trim().starts_with(';');
                    program_text.push_str(line);
                    program_text.push('\n');
                }
            }
        }
        let program = parse(&program_text).unwrap_or_else(|e| panic!("{name}: {e}"));
        Case {
            name,
            options,
            program,
        }
    }

    fn option<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.options.get(key).map(|text| {
            text.parse()
                .unwrap_or_else(|_| panic!("{}: option {key}={text} does not parse", self.name))
        })
    }

    /// The inputs' level and scale from `input_level` and `input_scale`.
    fn input_types(&self) -> InputTypes {
        InputTypes {
            level: self.option("input_level"),
            scale: self.option::<Scale>("input_scale"),
        }
    }

    /// Checks that `output` verifies and computes what the input computes, and returns the
    /// snapshot text: the report, then the program.
    fn checked(&self, output: &Program, report: &impl serde::Serialize) -> String {
        if let Err(errors) = verify(output) {
            panic!(
                "{}: the output does not verify: {errors}\n{output}",
                self.name
            );
        }
        let inputs = self
            .program
            .inputs()
            .map(|(spec, v)| {
                let slots = self.program.value_type(v).map_or(0, |t| t.slots as usize);
                (spec.name.clone(), values(u64::from(v.as_u32()) + 1, slots))
            })
            .collect();
        assert_same_outputs(
            &run(&self.program, &inputs, &HashedPlaintexts),
            &run(output, &inputs, &HashedPlaintexts),
            1e-9,
        );
        let report = serde_json::to_string(report).expect("reports serialise");
        format!("; report: {report}\n{output}")
    }
}

/// The values named by `bootstrap_at` (`%3 %7`).
fn values_option(case: &Case, key: &str) -> BTreeSet<Value> {
    let text = case.options.get(key).map_or("", String::as_str);
    text.split_whitespace()
        .map(|v| {
            let number = v.strip_prefix('%').and_then(|n| n.parse().ok());
            Value::with_number(
                number.unwrap_or_else(|| {
                    panic!("{}: `{v}` in {key} is not a value like %3", case.name)
                }),
            )
        })
        .collect()
}

#[test]
fn levels() {
    insta::glob!("filetests/levels/*.fhir", |path| {
        let allowed = ["input_level", "input_scale", "bootstrap_at"];
        let case = Case::read(path, "levels", &allowed);
        let bootstraps = values_option(&case, "bootstrap_at");
        let text = match assign_levels(&case.program, &bootstraps, &case.input_types(), None) {
            Ok(outcome) => case.checked(&outcome.program, &outcome.counts),
            Err(error) => format!("error: {error}"),
        };
        insta::assert_snapshot!(text);
    });
}

#[test]
fn bootstrap() {
    insta::glob!("filetests/bootstrap/*.fhir", |path| {
        let allowed = ["input_level", "input_scale", "max_input_level"];
        let case = Case::read(path, "bootstrap", &allowed);
        let options = PassOptions {
            max_input_level: case.option("max_input_level"),
            ..PassOptions::default()
        };
        let text = match place_with_input_headroom(&case.program, &case.input_types(), &options) {
            Ok(placement) => {
                let chosen: Vec<String> = placement
                    .bootstrapped
                    .iter()
                    .map(Value::to_string)
                    .collect();
                let checked = case.checked(&placement.outcome.program, &placement.outcome.counts);
                format!("; bootstrapped: [{}]\n{checked}", chosen.join(", "))
            }
            Err(error) => format!("error: {error}"),
        };
        insta::assert_snapshot!(text);
    });
}

#[test]
fn keys() {
    insta::glob!("filetests/keys/*.fhir", |path| {
        let case = Case::read(path, "keys", &["max_rotation_keys"]);
        let budget = case.option("max_rotation_keys");
        let text = match select_keys(case.program.clone(), budget) {
            Ok((program, report)) => case.checked(&program, &report),
            Err(error) => format!("error: {error}"),
        };
        insta::assert_snapshot!(text);
    });
}

#[test]
fn schedule() {
    insta::glob!("filetests/schedule/*.fhir", |path| {
        let case = Case::read(path, "schedule", &[]);
        let model = MemoryModel::for_program(&case.program);
        let (program, report) = fhec_compiler::passes::schedule(case.program.clone(), &model);
        insta::assert_snapshot!(case.checked(&program, &report));
    });
}
