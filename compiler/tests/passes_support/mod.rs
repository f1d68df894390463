//! Shared by the `passes_*` tests: a clear interpreter of the IR over `f64` slot vectors (the
//! compiler may not depend on the runtime's, DESIGN §2), deterministic plaintexts for
//! hand-built programs, and the comparison of a program's outputs before and after the passes.

#![allow(dead_code)]

use fhec_ir::{
    Immediate, IoSpec, Opaque, Opcode, PlaintextSource, Program, Recipe, RecipeError, Value,
};
use std::collections::{BTreeMap, HashMap};

/// `program` in the lowering's placeholder form: every type at level 0 and scale 1, every
/// constant encoded at scale 1 (the form `compiler::lower` emits).
pub fn placeholder_form(program: &Program) -> Program {
    let text = program.to_string();
    let mut out = String::new();
    for line in text.lines() {
        let mut line = line.to_string();
        if let Some(at) = line.find(": ct<").or_else(|| line.find(": pt<")) {
            let kind = &line[at + 2..at + 4].to_string();
            let n = line[at..].split("n=").nth(1).unwrap_or("").to_string();
            line = format!("{}: {kind}<l=0, s=1, n={n}", &line[..at]);
        }
        if line.contains("= mul_const ") {
            let (head, tail) = line.split_once(", s=").unwrap();
            let rest = tail.find(' ').map_or("", |i| &tail[i..]);
            line = format!("{head}, s=1{rest}");
        }
        out.push_str(&line);
        out.push('\n');
    }
    fhec_ir::parse(&out).unwrap()
}

pub fn io(name: &str) -> IoSpec {
    IoSpec {
        name: name.into(),
        layout: Opaque::from_ron("()").unwrap(),
    }
}

/// Deterministic values in [-1, 1] from a seed (SplitMix64).
pub fn values(seed: u64, len: usize) -> Vec<f64> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            2.0 * ((z ^ (z >> 31)) as f64 / u64::MAX as f64) - 1.0
        })
        .collect()
}

/// Plaintexts derived from the recipe's text, for hand-built programs.
pub struct HashedPlaintexts;

impl PlaintextSource for HashedPlaintexts {
    fn slots(&self, recipe: &Recipe, slots: usize) -> Result<Vec<f64>, RecipeError> {
        let seed = recipe
            .to_string()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        Ok(values(seed, slots))
    }
}

/// `rotate(a, k)[i] = a[(i + k) mod n]`.
fn rotate(a: &[f64], k: i32) -> Vec<f64> {
    let shift = i64::from(k).rem_euclid(a.len() as i64) as usize;
    a[shift..].iter().chain(&a[..shift]).copied().collect()
}

/// Runs `program` on named inputs; panics on a use after `free` or of an undefined value (the
/// tests want those to fail loudly).
pub fn run(
    program: &Program,
    inputs: &BTreeMap<String, Vec<f64>>,
    plaintexts: &dyn PlaintextSource,
) -> BTreeMap<String, Vec<f64>> {
    let mut live: HashMap<Value, Vec<f64>> = HashMap::new();
    let mut outputs = BTreeMap::new();
    for (_, data) in program.instructions() {
        let get = |i: usize| -> &Vec<f64> {
            live.get(&data.args[i])
                .unwrap_or_else(|| panic!("{} read but not live", data.args[i]))
        };
        let zip = |f: fn(f64, f64) -> f64| -> Vec<f64> {
            get(0).iter().zip(get(1)).map(|(&a, &b)| f(a, b)).collect()
        };
        let slots = data
            .results
            .first()
            .and_then(|&r| program.value_type(r))
            .map_or(0, |t| t.slots as usize);
        let results: Vec<Vec<f64>> = match (data.opcode, &data.imm) {
            (Opcode::Input, Immediate::Io(spec)) => vec![inputs[&spec.name].clone()],
            (Opcode::Output, Immediate::Io(spec)) => {
                outputs.insert(spec.name.clone(), get(0).clone());
                vec![]
            }
            (Opcode::Plain, Immediate::Recipe(recipe)) => {
                vec![plaintexts.slots(recipe, slots).unwrap()]
            }
            (Opcode::Add | Opcode::AddPlain, _) => vec![zip(|a, b| a + b)],
            (Opcode::Sub, _) => vec![zip(|a, b| a - b)],
            (Opcode::Mul | Opcode::MulPlain, _) => vec![zip(|a, b| a * b)],
            (Opcode::Neg, _) => vec![get(0).iter().map(|a| -a).collect()],
            (Opcode::MulConst, Immediate::ScaledConst(c)) => {
                vec![get(0).iter().map(|a| a * c.value).collect()]
            }
            (Opcode::AddConst, Immediate::Const(c)) => {
                vec![get(0).iter().map(|a| a + c).collect()]
            }
            (Opcode::Rotate | Opcode::RotateHoisted, imm) => {
                imm.offsets().iter().map(|&k| rotate(get(0), k)).collect()
            }
            (Opcode::Conjugate | Opcode::Rescale | Opcode::LevelDown | Opcode::Bootstrap, _) => {
                vec![get(0).clone()]
            }
            (Opcode::Free, _) => {
                live.remove(&data.args[0])
                    .unwrap_or_else(|| panic!("free of {} which is not live", data.args[0]));
                vec![]
            }
            (op, imm) => panic!("{op:?} with {imm:?}"),
        };
        for (&r, v) in data.results.iter().zip(results) {
            live.insert(r, v);
        }
    }
    outputs
}

/// Asserts equal outputs to `tolerance` relative to the largest magnitude of each output.
pub fn assert_same_outputs(
    before: &BTreeMap<String, Vec<f64>>,
    after: &BTreeMap<String, Vec<f64>>,
    tolerance: f64,
) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, expected) in before {
        let got = &after[name];
        let scale = expected.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
        for (i, (e, g)) in expected.iter().zip(got).enumerate() {
            assert!(
                (e - g).abs() <= tolerance * scale,
                "output {name} slot {i}: {g} after the passes, {e} before"
            );
        }
    }
}
