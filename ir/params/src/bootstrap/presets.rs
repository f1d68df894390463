//! Named bootstrapping parameter sets: `N16_BOOT` (128-bit, N = 2^16) and small insecure
//! ones of the same shape for tests.

use super::{BootstrapLiteral, EvalModLiteral};

/// `N16_BOOT`: the 128-bit bootstrapping preset at N = 2^16 for 2^log_slots slots (plan §1.4).
///
/// q0 60 · circuit 10 × 45 (scale 2^45) · S2C 3 × 42 · EvalMod: arcsine 50, 48 and sine 9 × 60
/// (degree 30 on [−16, 16], 4 double angles, message ratio 2^7) · C2S 3 × 56; special primes
/// 5 × 61, dnum 5; ephemeral secret h = 32 (K = 16: failure 2^-138.7 at 2^15 slots).
/// log QP ≈ 1747 ≤ 1747; q0·p0 < 2^121 (the sparse bound). Depth 17: input at level 0 with
/// scale 2^53, output at level 10 with scale 2^45.
///
/// Changed from plan §1.4 after measuring (docs/bootstrapping.md):
/// - 4 double angles instead of 3 (the sine 9 levels): the polynomial error, amplified by √N in
///   the slots, falls from 2^-35.1 to 2^-45.0 in q0 units (26.0 vs 23.3 bits at N = 2^13).
/// - message ratio 2^7 instead of 2^8: the dense key's rounding noise, amplified by the ratio,
///   dominates at N = 2^16; 2^7 gives 25.2 bits mean (22.8 worst) against 24.3 (21.9) between
///   oracle DFTs.
/// - an arcsine stage (2 levels): without it a slot vector with a large mean (all of it in one
///   coefficient) meets the sine's cubic term, (2π·2^-7)²/6 ≈ 2^-11.3 at a mean of 1 (13.7
///   bits for a constant 0.9); with it a constant bootstraps like random slots. Its levels
///   come from CoeffToSlot (3 levels instead of 4: more diagonals per factor) so that 10 levels
///   stay with the circuit, and its primes are as large as log QP ≤ 1747 allows; 50 below 48
///   so that the prime above the SlotToCoeff ones is not within 4 bits of the circuit scale
///   (the compiler would place fresh inputs there). Measured alternatives (2^14 slots):
///   circuit 9 levels with C2S 4 and arcsine primes 41 + 41: 22.3 / 20.4 bits (the sine's
///   output scale falls to 2^44); circuit 9 with C2S 3 and arcsine 60 + 60: 24.6 / 22.7.
/// - with 28 primes and dnum 5 the digits hold 6, 6, 6, 5, 5 primes; the largest, S2C 2 × 42 +
///   arcsine 50 + 48 + 2 × 60, is 302 bits, below P = 5 × 61.
pub fn n16_boot(log_slots: u32) -> BootstrapLiteral {
    BootstrapLiteral {
        log_n: 16,
        log_slots,
        q0_bits: 60,
        circuit_bits: vec![45; 10],
        circuit_log_scale: 45,
        s2c_bits: vec![42; 3],
        evalmod: EvalModLiteral {
            log_message_ratio: 7,
            arcsine_bits: vec![50, 48],
            ..default_evalmod()
        },
        c2s_bits: vec![56; 3],
        special_bits: vec![61; 5],
        dnum: 5,
        ephemeral_hamming_weight: Some(32),
        insecure: false,
    }
}

/// A small, explicitly **insecure** bootstrapping set for tests at N = 2^log_n (11..=13), same
/// shape as [`n16_boot`] with fewer levels: q0 60 · circuit 2 × 45 · S2C 2 × 42 · EvalMod
/// (arcsine 2 × 60, sine 9 × 60) · C2S 2 × 56; special 2 × 61, dnum 9 (digits of at most two
/// primes, ≤ 120 bits); h = 32. Message ratio 2^8 (Lattigo's default): at these small N the
/// message's coefficients are larger (≈ 1/√N) and the noise is smaller.
///
/// # Panics
/// If `log_n` is outside 11..=13 (a programming error in a test).
pub fn test_boot_insecure(log_n: u32, log_slots: u32) -> BootstrapLiteral {
    assert!(
        (11..=13).contains(&log_n),
        "bootstrapping test presets exist for log N 11..=13, not {log_n}"
    );
    BootstrapLiteral {
        log_n,
        circuit_bits: vec![45; 2],
        s2c_bits: vec![42; 2],
        c2s_bits: vec![56; 2],
        special_bits: vec![61; 2],
        dnum: 9,
        evalmod: EvalModLiteral {
            arcsine_bits: vec![60; 2],
            ..default_evalmod()
        },
        insecure: true,
        ..n16_boot(log_slots)
    }
}

/// Lattigo's default EvalMod shape (plan §0) with 4 double angles instead of 3: 60-bit scale,
/// K = 16, degree 30, message ratio 2^8 (`N16_BOOT` lowers the ratio to 2^7). The fourth double
/// angle costs one level and takes the error near the integers of [−16, 16] from 2^-35.1 to
/// 2^-45.0 (runtime `bootstrap::evalmod` tests). Degree 31 would cost the same 5 levels but,
/// being 2^5 − 1, only fits them as a binary tree: 19 products instead of 12 for about half a
/// bit.
fn default_evalmod() -> EvalModLiteral {
    EvalModLiteral {
        log_scale: 60,
        k: 16,
        degree: 30,
        double_angles: 4,
        log_message_ratio: 8,
        arcsine_bits: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::{BootstrapConfig, BootstrapError, BootstrapLevels};
    use crate::{Level, ParamError, SecurityLevel};

    #[test]
    fn n16_boot_has_the_planned_chain_and_levels() {
        for log_slots in [14, 15] {
            let config = BootstrapConfig::new(n16_boot(log_slots)).unwrap();
            let params = config.params();
            assert_eq!(params.security(), SecurityLevel::Bits128);
            assert_eq!(params.q_primes().len(), 28);
            assert_eq!(params.p_primes().len(), 5);
            let log_q: f64 = params.q_primes().iter().map(|&q| (q as f64).log2()).sum();
            assert!(log_q > 1441.0 && log_q <= 1442.0, "{log_q}");
            assert!(params.log_qp() > 1746.0 && params.log_qp() <= 1747.0);
            assert_eq!(config.depth(), 17);
            assert_eq!(config.levels_per_step(), [3, 11, 3]);
            assert_eq!(
                config.levels(),
                BootstrapLevels {
                    top: Level(27),
                    c2s_output: Level(24),
                    evalmod_output: Level(13),
                    output: Level(10),
                }
            );
            assert_eq!(config.output_level(), Level(10));
            assert_eq!(config.output_scale(), 2f64.powi(45));
            assert_eq!(config.input_log_scale(), 53);
            assert_eq!(config.min_input_level(), Level(0));
            assert!(config.sparse_switch_log_modulus() < 121.0);
            assert!(config.failure_log2() < -137.0);
            // The top-level key: 5 digits × 2 × 2^16 × 33 limbs × 8 bytes = 165 MiB, 82.5 MiB
            // compressed (plan §4).
            assert_eq!(
                config.switching_key_bytes(Level(27), true),
                5 * 65536 * 33 * 8
            );
            // A key capped at level 13 has 3 digits (6, 6, 5, … primes) of 19 limbs.
            assert_eq!(
                config.switching_key_bytes(Level(13), false),
                3 * 2 * 65536 * 19 * 8
            );
        }
    }

    #[test]
    fn key_bytes_sum_the_design_formula() {
        let config = BootstrapConfig::new(n16_boot(15)).unwrap();
        let top = config.switching_key_bytes(Level(27), true);
        let at_24 = config.switching_key_bytes(Level(24), true);
        // One digit over Q_L·P (33 limbs) and one over q0·p0 (2 limbs), compressed.
        let encapsulation = 65536 * (33 + 2) * 8;
        // 47 rotation keys (plan §2.3) at the top level, conjugation and relinearisation at the
        // C2S output level 24, the two encapsulation keys.
        assert_eq!(
            config.key_bytes(47, true),
            47 * top + 2 * at_24 + encapsulation
        );
        assert_eq!(config.key_bytes(0, false), 2 * config.key_bytes(0, true));
        let capped = config.key_bytes_capped(&[Level(13), Level(27)], true);
        assert_eq!(
            capped,
            config.switching_key_bytes(Level(13), true) + config.key_bytes(1, true)
        );
    }

    #[test]
    fn lattigo_default_bootstrap_primes_total_821_bits() {
        // Lattigo's defaults: C2S 4 × 56, EvalMod 8 × 60, S2C 3 × 39: "depth 15, 821 bits".
        let mut literal = BootstrapLiteral {
            s2c_bits: vec![39; 3],
            c2s_bits: vec![56; 4],
            special_bits: vec![61; 6],
            ..n16_boot(15)
        };
        literal.evalmod.double_angles = 3;
        literal.evalmod.arcsine_bits.clear();
        let bits: u32 = literal.s2c_bits.iter().sum::<u32>()
            + literal.evalmod.log_scale * literal.evalmod.depth() as u32
            + literal.c2s_bits.iter().sum::<u32>();
        assert_eq!(bits, 821);
        assert_eq!(BootstrapConfig::new(literal).unwrap().depth(), 15);
    }

    #[test]
    fn weak_or_inconsistent_literals_are_refused() {
        let too_many_special = BootstrapLiteral {
            special_bits: vec![61; 6],
            ..n16_boot(15)
        };
        assert!(matches!(
            BootstrapConfig::new(too_many_special),
            Err(BootstrapError::Params(
                ParamError::AboveSecurityBound { .. }
            ))
        ));
        // q0 of 61 bits: q0·p0 above the 121-bit sparse bound (one circuit level fewer keeps
        // the dense bound).
        let wide_q0 = BootstrapLiteral {
            q0_bits: 61,
            circuit_bits: vec![45; 9],
            ..n16_boot(15)
        };
        assert!(matches!(
            BootstrapConfig::new(wide_q0),
            Err(BootstrapError::SparseAboveBound { bound: 121, .. })
        ));
        let no_encapsulation = BootstrapLiteral {
            ephemeral_hamming_weight: None,
            ..n16_boot(15)
        };
        assert_eq!(
            BootstrapConfig::new(no_encapsulation),
            Err(BootstrapError::NoEncapsulation)
        );
        let mut small_k = n16_boot(15);
        small_k.evalmod.k = 12;
        assert!(matches!(
            BootstrapConfig::new(small_k),
            Err(BootstrapError::RangeTooSmall { k_needed: 16, .. })
        ));
        let other_weight = BootstrapLiteral {
            ephemeral_hamming_weight: Some(64),
            ..n16_boot(15)
        };
        let mut other_weight = other_weight;
        other_weight.evalmod.k = 28;
        assert!(matches!(
            BootstrapConfig::new(other_weight),
            Err(BootstrapError::SparseNotCovered {
                hamming_weight: 64,
                ..
            })
        ));
        let slots = BootstrapLiteral {
            log_slots: 16,
            ..n16_boot(15)
        };
        assert!(matches!(
            BootstrapConfig::new(slots),
            Err(BootstrapError::LogSlots { max: 15, .. })
        ));
        let mut degree = n16_boot(15);
        degree.evalmod.degree = 1;
        assert!(matches!(
            BootstrapConfig::new(degree),
            Err(BootstrapError::EvalMod { .. })
        ));
        let ratio = {
            let mut literal = n16_boot(15);
            literal.evalmod.log_message_ratio = 45;
            literal
        };
        assert!(matches!(
            BootstrapConfig::new(ratio),
            Err(BootstrapError::Scales { .. })
        ));
    }

    #[test]
    fn test_presets_are_valid_and_labelled_insecure() {
        for log_n in 11..=13 {
            for log_slots in [log_n - 1, log_n - 3] {
                let config = BootstrapConfig::new(test_boot_insecure(log_n, log_slots)).unwrap();
                assert_eq!(config.params().security(), SecurityLevel::Insecure);
                assert_eq!(config.depth(), 15);
                assert_eq!(config.output_level(), Level(2));
                assert_eq!(config.levels().c2s_output, Level(15));
                assert_eq!(config.levels_per_step(), [2, 11, 2]);
            }
        }
        let mut secure = test_boot_insecure(12, 11);
        secure.insecure = false;
        assert!(matches!(
            BootstrapConfig::new(secure),
            Err(BootstrapError::Params(
                ParamError::DegreeTooSmallForSecurity { .. }
            ))
        ));
    }
}
