//! `program.ron`: a program survives serialization unchanged, other format versions are
//! refused with a clear error, and inconsistent files are refused rather than trusted.

use fhec_ir::{FORMAT_VERSION, Program, RonError, parse, verify};

const PROGRAM: &str = r#"
program version=2, graph=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
params "(log_n:13,primes:[60,40,40])"
keys rotate=[-1@1, 2@1], conjugate=1, relin=none
bootstrap in=<l=0, s=2^40>, out=<l=2, s=2^40>
%0 = input "x", "Layout(channels:3,gap:[1,1])" : ct<l=2, s=2^40, n=16>
%1 = plain "w" {diag=1, kernel=[0, -1], gain=0.25, mask="even", on=true} : pt<l=2, s=q2, n=16>
%2 = mul_plain %0, %1                   : ct<l=2, s=2^40*q2, n=16>
free %1
%3 = rescale %2                         : ct<l=1, s=2^40, n=16>
%4, %5 = rotate_hoisted %3, [-1, 2]     : ct<l=1, s=2^40, n=16>
%6 = conjugate %4                       : ct<l=1, s=2^40, n=16>
%7 = mul_const %6, -3.5, s=2^10         : ct<l=1, s=2^50, n=16>
%8 = level_down %5, l=0                 : ct<l=0, s=2^40, n=16>
%9 = bootstrap %8                       : ct<l=2, s=2^40, n=16>
output %9, "y", "()"
output %7, "z", "()"
"#;

fn program() -> Program {
    let program = parse(PROGRAM).unwrap();
    verify(&program).unwrap();
    program
}

#[test]
fn ron_round_trip() {
    let program = program();
    let ron = program.to_ron().unwrap();
    let back = Program::from_ron(&ron).unwrap();
    assert!(
        back == program,
        "RON round trip changed the program:\n{ron}"
    );
    assert_eq!(back.to_string(), program.to_string());
    // Layouts and parameters are embedded as RON, not as escaped strings.
    assert!(ron.contains("Layout(channels:3,gap:[1,1])"), "{ron}");
    assert!(
        ron.contains("\"2^40*q2\""),
        "scales are written in their canonical text form:\n{ron}"
    );
}

fn with_version(version: u32) -> String {
    let ron = program().to_ron().unwrap();
    let needle = format!("format_version: {FORMAT_VERSION},");
    assert!(ron.contains(&needle), "{ron}");
    ron.replacen(&needle, &format!("format_version: {version},"), 1)
}

#[test]
fn newer_version_is_refused() {
    let error = Program::from_ron(&with_version(FORMAT_VERSION + 1)).unwrap_err();
    assert!(matches!(error, RonError::Version { found, .. } if found == FORMAT_VERSION + 1));
    assert_eq!(
        error.to_string(),
        format!(
            "program format version {} is not supported (this fhec reads version {FORMAT_VERSION}; the file was written by a newer fhec)",
            FORMAT_VERSION + 1
        )
    );
}

#[test]
fn unknown_old_version_is_refused() {
    let error = Program::from_ron(&with_version(0)).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "program format version 0 is not supported (this fhec reads version {FORMAT_VERSION})"
        )
    );
}

#[test]
fn malformed_and_inconsistent_files_are_refused() {
    assert!(matches!(
        Program::from_ron("(meta: (format_version: 1"),
        Err(RonError::Syntax(_))
    ));
    assert!(matches!(
        Program::from_ron("[1, 2]"),
        Err(RonError::Syntax(_))
    ));
    let ron = program().to_ron().unwrap();
    let bad_scale = ron.replacen("\"2^40*q2\"", "\"2^40*x\"", 1);
    assert!(
        matches!(Program::from_ron(&bad_scale), Err(RonError::Syntax(m)) if m.contains("scale factor"))
    );
    // An instruction naming a value beyond the value table.
    let dangling = ron.replacen("args: [", "args: [4000, ", 1);
    match Program::from_ron(&dangling) {
        Err(RonError::Inconsistent(message)) => assert!(message.contains("%4000"), "{message}"),
        other => panic!("expected an inconsistency error, got {other:?}"),
    }
    // An order list naming one instruction twice.
    let twice = ron.replacen("order: [", "order: [0, ", 1);
    match Program::from_ron(&twice) {
        Err(RonError::Inconsistent(message)) => assert!(message.contains("twice"), "{message}"),
        other => panic!("expected an inconsistency error, got {other:?}"),
    }
}
