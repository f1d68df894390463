//! Shared by the `ckks_*` tests: the **INSECURE** bootstrapping target they compile for, and
//! the precision measure they compare CKKS with the clear backend by.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use fhec_params::BootstrapLiteral;
use fhec_params::bootstrap::test_boot_insecure;

/// Ring degree 2^12: INSECURE, tests only.
pub const LOG_N: u32 = 12;

/// The insecure test preset at N = 2^12 and 2^`log_slots` slots with three circuit levels
/// instead of two: a degree-2 ReLU takes two (the square, then its coefficients), the
/// linear layer after it one more; dnum 9 keeps the key-switching digits at two primes, below
/// the special modulus.
pub fn literal(log_slots: u32) -> BootstrapLiteral {
    BootstrapLiteral {
        circuit_bits: vec![45; 3],
        dnum: 9,
        ..test_boot_insecure(LOG_N, log_slots)
    }
}

/// `−log2(max |got − expected| / max |expected|)`: CKKS against clear, in bits.
pub fn relative_bits(got: &[f64], expected: &[f64]) -> f64 {
    let error = got
        .iter()
        .zip(expected)
        .map(|(g, e)| (g - e).abs())
        .fold(0.0, f64::max);
    let peak = expected.iter().map(|e| e.abs()).fold(0.0, f64::max);
    -(error / peak).log2()
}
