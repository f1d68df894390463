//! Named parameter sets, named by shape (`N<logN>_QP<bits>`).
//!
//! The secure presets are all checked against the HE-standard 128-bit bound (OpenFHE's table for
//! ternary secrets, see [`crate::security`]) by a unit test; the `TEST_*` presets are small,
//! fast and explicitly insecure, for tests only. The log QP in each name is the sum of the
//! nominal bit sizes; the actual primes sit just below each power of two, so the exact log QP
//! (from [`crate::CkksParams::log_qp`]) is a hair smaller.

use crate::literal::{CkksParamsLiteral, SecretDistribution};

fn literal(
    log_n: u32,
    log_q: Vec<u32>,
    log_p: Vec<u32>,
    dnum: usize,
    log_scale: u32,
) -> CkksParamsLiteral {
    CkksParamsLiteral {
        log_n,
        log_q,
        log_p,
        dnum,
        log_scale,
        secret: SecretDistribution::Ternary,
        insecure: false,
    }
}

fn repeat(first: u32, rest: u32, count: usize) -> Vec<u32> {
    std::iter::once(first)
        .chain(std::iter::repeat_n(rest, count))
        .collect()
}

/// N = 2^13, log QP ≈ 211 (bound 218): q0 of 48 bits, 3 primes of 38 bits (depth 3),
/// scale 2^38, dnum 4 (one prime per digit), one 49-bit special prime. A small secure set for
/// shallow circuits. Bit sizes chosen here to fit the HE-standard bound (OpenFHE table).
pub fn n13_qp211() -> CkksParamsLiteral {
    literal(13, repeat(48, 38, 3), vec![49], 4, 38)
}

/// N = 2^14, log QP ≈ 422 (bound 438): q0 of 50 bits, 7 primes of 40 bits (depth 7),
/// scale 2^40, dnum 4 (digits of two primes, at most 90 bits), special primes 2 × 46 bits.
/// Bit sizes chosen here to fit the HE-standard bound (OpenFHE table).
pub fn n14_qp422() -> CkksParamsLiteral {
    literal(14, repeat(50, 40, 7), vec![46, 46], 4, 40)
}

/// N = 2^15, log QP ≈ 838 (bound 881): q0 of 58 bits, 14 primes of 45 bits (depth 14),
/// scale 2^45, dnum 5 (digits of three primes, at most 148 bits), special primes 3 × 50 bits.
/// Bit sizes chosen here to fit the HE-standard bound (OpenFHE table).
pub fn n15_qp838() -> CkksParamsLiteral {
    literal(15, repeat(58, 45, 14), vec![50, 50, 50], 5, 45)
}

/// N = 2^16, log QP ≈ 1740 (bound 1747): the benchmark set of DESIGN §10.
/// q0 of 60 bits, 24 primes of 50 bits (depth 24), scale 2^50, dnum 3 (digits of 9, 8 and 8
/// primes, the largest 460 bits), special primes 8 × 60 bits (480 bits ≥ 460).
/// Same shape as the OpenFHE comparison runs (N = 2^16, depth 24, dnum 3).
pub fn n16_qp1740() -> CkksParamsLiteral {
    literal(16, repeat(60, 50, 24), vec![60; 8], 3, 50)
}

/// Every 128-bit secure preset with its name, smallest ring first.
pub fn secure() -> Vec<(&'static str, CkksParamsLiteral)> {
    vec![
        ("N13_QP211", n13_qp211()),
        ("N14_QP422", n14_qp422()),
        ("N15_QP838", n15_qp838()),
        ("N16_QP1740", n16_qp1740()),
    ]
}

/// A small insecure test set at N = 2^log_n (log_n in 10..=12): q0 of 55 bits, 4 primes of
/// 40 bits (depth 4), scale 2^40, dnum 2 (digits of 3 and 2 primes, at most 135 bits),
/// special primes 3 × 50 bits. Insecure by construction (N < 2^13): tests only.
///
/// # Panics
/// If `log_n` is not 10, 11 or 12.
pub fn test_insecure(log_n: u32) -> CkksParamsLiteral {
    assert!(
        (10..=12).contains(&log_n),
        "test presets exist for log N 10..=12, not {log_n}"
    );
    CkksParamsLiteral {
        insecure: true,
        ..literal(log_n, repeat(55, 40, 4), vec![50; 3], 2, 40)
    }
}

/// Every insecure test preset with its name.
pub fn test_insecure_all() -> Vec<(&'static str, CkksParamsLiteral)> {
    vec![
        ("TEST_N10_QP365_INSECURE", test_insecure(10)),
        ("TEST_N11_QP365_INSECURE", test_insecure(11)),
        ("TEST_N12_QP365_INSECURE", test_insecure(12)),
    ]
}
