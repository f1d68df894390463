//! The parameter-aware verifier checks (`verify_with` and `ChainFacts`, rule 11): each
//! violation is reported with the value and the numbers involved, and a program that fits
//! the chain passes.

use fhec_ir::{ChainFacts, parse, verify, verify_with};

/// A 60-bit q0 and two 40-bit primes, 8 slots.
fn chain() -> ChainFacts {
    ChainFacts::new(vec![60.0, 40.0, 40.0], 8)
}

fn errors(text: &str) -> Vec<String> {
    let program = parse(text).unwrap();
    verify(&program).expect("the structural rules hold in every case");
    match verify_with(&program, Some(&chain())) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_program_that_fits_passes() {
    let text = "keys rotate=[1@2], conjugate=none, relin=2
%0 = input \"x\", \"()\"                    : ct<l=2, s=2^40, n=8>
%1 = mul %0, %0                         : ct<l=2, s=2^80, n=8>
%2 = rescale %1                         : ct<l=1, s=2^80/q2, n=8>
%3 = rotate %2, 1                       : ct<l=1, s=2^80/q2, n=8>
%4 = plain \"w\"                          : pt<l=1, s=q1, n=8>
%5 = mul_plain %3, %4                   : ct<l=1, s=2^80*q1/q2, n=8>
output %5, \"y\", \"()\"";
    assert_eq!(errors(text), Vec::<String>::new());
}

#[test]
fn levels_slots_and_caps_beyond_the_chain() {
    let text = "keys rotate=[1@5], conjugate=none, relin=none
bootstrap in=<l=0, s=2^40>, out=<l=4, s=2^40>
%0 = input \"x\", \"()\"                    : ct<l=3, s=2^40, n=16>
%1 = rotate %0, 1                       : ct<l=3, s=2^40, n=16>
output %1, \"y\", \"()\"";
    let found = errors(text);
    let expected = [
        "program: the rotation key 1 is capped at level 5, above the chain's top level 2",
        "program: the bootstrap output level 4 is above the chain's top level 2",
        "%0: level 3 is above the chain's top level 2",
        "%1: level 3 is above the chain's top level 2",
    ];
    for e in expected {
        assert!(
            found.iter().any(|f| f.contains(e)),
            "{e:?} not in {found:#?}"
        );
    }
    assert_eq!(found.len(), 4, "{found:#?}");
}

#[test]
fn scales_must_fit_the_modulus_and_plaintexts_be_at_least_one() {
    let text = "keys rotate=[], conjugate=none, relin=0
%0 = input \"x\", \"()\"                    : ct<l=0, s=2^40, n=4>
%1 = mul %0, %0                         : ct<l=0, s=2^80, n=4>
%2 = plain \"w\"                          : pt<l=0, s=1/q1, n=4>
%3 = mul_plain %0, %2                   : ct<l=0, s=2^40/q1, n=4>
%4 = plain \"v\"                          : pt<l=0, s=q7, n=4>
%5 = mul_plain %0, %4                   : ct<l=0, s=2^40*q7, n=4>
%6 = mul_const %0, 0.5, s=2^10/q1       : ct<l=0, s=2^50/q1, n=4>
output %1, \"y\", \"()\"
output %3, \"z\", \"()\"
output %5, \"t\", \"()\"
output %6, \"u\", \"()\"";
    let found = errors(text);
    let expected = [
        "%1: scale 2^80 (2^80.0) leaves less than 1 bit(s) below Q_0 = 2^60.0",
        "%2: plaintext scale 1/q1 is below 1 (2^-40.0)",
        "%4: scale q7 names q7, beyond the chain's top level 2",
        "%5: scale 2^40*q7 names q7",
        "constant scale 2^10/q1 is below 1 (2^-30.0)",
    ];
    for e in expected {
        assert!(
            found.iter().any(|f| f.contains(e)),
            "{e:?} not in {found:#?}"
        );
    }
    assert_eq!(found.len(), 5, "{found:#?}");
}
