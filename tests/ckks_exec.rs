//! The CKKS backend on small hand-written programs (INSECURE test parameters, N = 2^12, no
//! bootstrap): every arithmetic operation against the clear backend, and the error paths: a
//! result whose real scale is not the one the program types it with, inputs encrypted at
//! another level or scale than declared, insecure parameters without the opt-in, a program
//! without recorded parameters or declaring other bootstrap levels than its parameters give.

use fhec_compiler::target::Target;
use fhec_ir::{PlaintextSource, Program, Recipe, RecipeError, parse, verify};
use fhec_params::SecurityPolicy;
use fhec_params::bootstrap::test_boot_insecure;
use fhec_runtime::exec::{
    CkksBackend, CkksClient, CkksError, CkksSetup, ClearBackend, ExecError, run,
};
use fhec_runtime::sampling::SecureRng;
use std::collections::BTreeMap;

/// Ring degree 2^12, 8 slots: INSECURE, tests only.
const LOG_N: u32 = 12;
const LOG_SLOTS: u32 = 3;

/// Rotations (hoisted and not), sub, ct × ct, rescales, a constant product at a prime scale,
/// a constant sum, a level drop, conjugation and negation; `{rescaled}` is the type of `%5`.
const PROGRAM: &str = r#"program version=2
keys rotate=[-2@2, 1@2, 3@1], conjugate=0, relin=2
%0 = input "x", "()"                    : ct<l=2, s=2^45, n=8>
%1, %2 = rotate_hoisted %0, [1, -2]     : ct<l=2, s=2^45, n=8>
%3 = sub %1, %2                         : ct<l=2, s=2^45, n=8>
%4 = mul %3, %0                         : ct<l=2, s=2^90, n=8>
%5 = rescale %4                         : {rescaled}
%6 = mul_const %5, 0.75, s=q1           : ct<l=1, s=2^90*q1/q2, n=8>
%7 = rescale %6                         : ct<l=0, s=2^90/q2, n=8>
%8 = add_const %7, 0.25                 : ct<l=0, s=2^90/q2, n=8>
%9 = rotate %5, 3                       : ct<l=1, s=2^90/q2, n=8>
%10 = level_down %9, l=0                : ct<l=0, s=2^90/q2, n=8>
%11 = add %8, %10                       : ct<l=0, s=2^90/q2, n=8>
%12 = level_down %0, l=0                : ct<l=0, s=2^45, n=8>
%13 = conjugate %12                     : ct<l=0, s=2^45, n=8>
%14 = neg %13                           : ct<l=0, s=2^45, n=8>
output %11, "y", "()"
output %14, "z", "()"
"#;

/// The right type of `%5`.
const RESCALED: &str = "ct<l=1, s=2^90/q2, n=8>";

/// No plaintext recipes in these programs.
struct NoPlaintexts;

impl PlaintextSource for NoPlaintexts {
    fn slots(&self, recipe: &Recipe, _: usize) -> Result<Vec<f64>, RecipeError> {
        Err(RecipeError::new(
            recipe,
            "the test programs use no plaintexts",
        ))
    }
}

/// The program with `%5` typed `rescaled`, recorded for the insecure N = 2^12 target.
fn program(rescaled: &str) -> Program {
    let mut program = parse(&PROGRAM.replace("{rescaled}", rescaled)).expect("parses");
    Target::new(test_boot_insecure(LOG_N, LOG_SLOTS))
        .expect("target")
        .record(&mut program)
        .expect("records");
    program
}

fn input() -> Vec<f64> {
    (0..8).map(|i| (f64::from(i) * 0.37).sin() * 0.9).collect()
}

fn rng() -> SecureRng {
    SecureRng::insecure_from_fixed_seed([7; 32])
}

/// Runs `program` on the CKKS backend with `x` encrypted at `input_type` (the declared one
/// when `None`); returns the decrypted outputs.
fn run_ckks(
    program: &Program,
    x: &[f64],
    input_type: Option<&str>,
) -> Result<BTreeMap<String, Vec<f64>>, ExecError> {
    let setup = CkksSetup::from_program(program, SecurityPolicy::AllowInsecure).expect("setup");
    let (mut client, keys) = CkksClient::generate_with_rng(&setup, program, rng()).expect("keys");
    let declared = program.inputs().next().expect("one input").1;
    let ty = match input_type {
        Some(text) => text.parse().expect("type parses"),
        None => program.value_type(declared).expect("typed").clone(),
    };
    let encrypted = client.encrypt(x, &ty, "input x").expect("encrypts");
    let mut backend = CkksBackend::new(&setup, &keys).expect("backend");
    let inputs = BTreeMap::from([("x".to_string(), encrypted)]);
    let outputs = run(program, &mut backend, inputs, &NoPlaintexts)?;
    Ok(client.decrypt_outputs(&outputs))
}

#[test]
fn every_operation_agrees_with_the_clear_backend() {
    let program = program(RESCALED);
    verify(&program).expect("the test program verifies");
    let x = input();
    let clear = run(
        &program,
        &mut ClearBackend,
        BTreeMap::from([("x".to_string(), x.clone())]),
        &NoPlaintexts,
    )
    .expect("clear run");
    let ckks = run_ckks(&program, &x, None).expect("ckks run");
    for (name, expected) in &clear {
        let got = &ckks[name];
        assert_eq!(got.len(), expected.len(), "{name}");
        let error = got
            .iter()
            .zip(expected)
            .map(|(g, e)| (g - e).abs())
            .fold(0.0, f64::max);
        let bits = -error.log2();
        eprintln!("{name}: CKKS vs clear {bits:.1} bits");
        // Measured 37–38 bits at level 0 (scale ≈ 2^45, one rescale of a 2^90 product); a
        // wrong rotation, a missing relinearisation or conjugation misses by ≥ 2^-2.
        assert!(
            bits > 25.0,
            "{name}: {bits:.1} bits (ckks {got:?}, clear {expected:?})"
        );
    }
}

#[test]
fn a_result_whose_scale_is_not_its_type_is_refused() {
    // The program claims the rescale keeps 2^90: the ciphertext has 2^90/q2.
    let program = program("ct<l=1, s=2^90, n=8>");
    let error = run_ckks(&program, &input(), None).unwrap_err().to_string();
    assert!(
        error.contains("rescale") && error.contains("scale") && error.contains("2^90"),
        "{error}"
    );
}

#[test]
fn inputs_at_another_level_or_scale_than_declared_are_refused() {
    let program = program(RESCALED);
    let error = run_ckks(&program, &input(), Some("ct<l=1, s=2^45, n=8>"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("input") && error.contains("level 1") && error.contains("level 2"),
        "{error}"
    );
    let error = run_ckks(&program, &input(), Some("ct<l=2, s=2^44, n=8>"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("input") && error.contains("scale"),
        "{error}"
    );
}

#[test]
fn insecure_parameters_need_the_opt_in() {
    let program = program(RESCALED);
    let error = CkksSetup::from_program(&program, SecurityPolicy::Require128Bit).unwrap_err();
    assert!(
        matches!(error, CkksError::Insecure { log_n: LOG_N, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("INSECURE"), "{error}");
    let setup = CkksSetup::from_program(&program, SecurityPolicy::AllowInsecure).unwrap();
    assert_eq!(setup.security().label(), "insecure");
}

#[test]
fn a_program_without_parameters_is_refused() {
    let mut program = program(RESCALED);
    program.meta.params = None;
    let error = CkksSetup::from_program(&program, SecurityPolicy::AllowInsecure).unwrap_err();
    assert!(matches!(error, CkksError::NoParameters), "{error}");
}

#[test]
fn a_bootstrap_declaration_other_than_the_parameters_is_refused() {
    let mut program = program(RESCALED);
    if let Some(spec) = program.bootstrap.as_mut() {
        spec.output_level += 1;
    }
    let error = CkksSetup::from_program(&program, SecurityPolicy::AllowInsecure).unwrap_err();
    assert!(matches!(error, CkksError::BootstrapSpec { .. }), "{error}");
    assert!(error.to_string().contains("level 3"), "{error}");
}
