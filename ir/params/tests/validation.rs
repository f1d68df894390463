//! Every preset through the security check, and every refusal of `CkksParams::new`.

use fhec_params::presets;
use fhec_params::security::max_log_qp_128;
use fhec_params::{
    CkksParams, CkksParamsLiteral, Level, ParamError, SecretDistribution, SecurityLevel,
    digit_primes_at, is_digit_partition,
};

fn small() -> CkksParamsLiteral {
    presets::test_insecure(10)
}

fn refuse(lit: CkksParamsLiteral) -> ParamError {
    CkksParams::new(lit).expect_err("literal should be refused")
}

#[test]
fn every_secure_preset_passes_the_128_bit_check() {
    for (name, lit) in presets::secure() {
        let params = CkksParams::new(lit.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let bound = max_log_qp_128(lit.log_n).unwrap() as f64;
        assert_eq!(params.security(), SecurityLevel::Bits128, "{name}");
        assert!(
            params.log_qp() <= bound,
            "{name}: {} > {bound}",
            params.log_qp()
        );
        let nominal: u32 = lit.log_q.iter().chain(&lit.log_p).sum();
        assert!(
            params.log_qp() < nominal as f64 && params.log_qp() > nominal as f64 - 0.01,
            "{name}"
        );
        assert!(
            name.contains(&format!("QP{nominal}")),
            "{name} does not match {nominal}"
        );
        // No preset relies on `insecure`.
        assert!(!lit.insecure, "{name}");
    }
}

#[test]
fn benchmark_preset_has_the_promised_shape() {
    let params = CkksParams::new(presets::n16_qp1740()).unwrap();
    assert_eq!(params.degree(), 1 << 16);
    assert_eq!(params.max_level(), Level(24));
    assert_eq!(params.dnum(), 3);
    assert_eq!(params.digits(), &[0..9, 9..17, 17..25]);
    assert_eq!(params.p_primes().len(), 8);
    assert!(params.log_qp() <= 1747.0);
}

#[test]
fn test_presets_are_labelled_insecure() {
    for (name, lit) in presets::test_insecure_all() {
        let params = CkksParams::new(lit.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(params.security(), SecurityLevel::Insecure, "{name}");
        assert_eq!(params.security().label(), "insecure");
        assert!(name.contains(&format!("N{}", lit.log_n)));
        let without_opt_in = CkksParamsLiteral {
            insecure: false,
            ..lit
        };
        assert_eq!(
            refuse(without_opt_in),
            ParamError::DegreeTooSmallForSecurity {
                log_n: lit_log_n(name)
            }
        );
    }
}

fn lit_log_n(name: &str) -> u32 {
    name[6..8].parse().unwrap()
}

#[test]
fn primes_are_deterministic_distinct_and_ntt_friendly() {
    let a = CkksParams::new(presets::n16_qp1740()).unwrap();
    let b = CkksParams::new(presets::n16_qp1740()).unwrap();
    assert_eq!(a.q_primes(), b.q_primes());
    assert_eq!(a.p_primes(), b.p_primes());
    let mut all: Vec<u64> = a.q_primes().iter().chain(a.p_primes()).copied().collect();
    for &q in &all {
        assert!(fhec_params::primes::is_prime(q));
        assert_eq!(q % (2 << 16), 1);
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 25 + 8);
    // Pinned: the first primes of the benchmark set never change.
    assert_eq!(a.q_primes()[0], 1152921504606584833);
    assert_eq!(a.q_primes()[1], 1125899903827969);
}

#[test]
fn hash_is_stable_and_sensitive_to_every_field() {
    let base = CkksParams::new(small()).unwrap();
    assert_eq!(base.hash(), CkksParams::new(small()).unwrap().hash());
    let variants = [
        CkksParamsLiteral {
            log_n: 11,
            ..small()
        },
        CkksParamsLiteral {
            log_scale: 39,
            ..small()
        },
        CkksParamsLiteral {
            dnum: 1,
            log_p: vec![61; 4],
            ..small()
        },
        CkksParamsLiteral {
            log_q: vec![55, 40, 40, 40],
            ..small()
        },
        CkksParamsLiteral {
            secret: SecretDistribution::FixedHammingWeight { hamming_weight: 64 },
            ..small()
        },
    ];
    for lit in variants {
        let other = CkksParams::new(lit.clone()).unwrap_or_else(|e| panic!("{lit:?}: {e}"));
        assert_ne!(other.hash(), base.hash(), "{lit:?}");
    }
    assert_eq!(base.hash().to_string().len(), 64);
}

#[test]
fn serde_round_trips_and_revalidates() {
    let params = CkksParams::new(presets::n13_qp211()).unwrap();
    let json = serde_json::to_string(&params).unwrap();
    let back: CkksParams = serde_json::from_str(&json).unwrap();
    assert_eq!(back, params);
    assert_eq!(back.literal(), presets::n13_qp211());
    let bad = json.replace("\"log_n\":13", "\"log_n\":9");
    let err = serde_json::from_str::<CkksParams>(&bad).unwrap_err();
    assert!(err.to_string().contains("log N = 9"), "{err}");
}

#[test]
fn a_file_cannot_opt_in_to_insecure_parameters() {
    let params = CkksParams::new(small()).unwrap();
    // Written as a label...
    let json = serde_json::to_string(&params).unwrap();
    assert!(json.contains("\"insecure\":true"), "{json}");
    // ...but never read back: the check runs as if no one had opted in.
    let err = serde_json::from_str::<CkksParams>(&json).unwrap_err();
    assert!(
        err.to_string().contains("only the caller can opt in"),
        "{err}"
    );
    let literal: CkksParamsLiteral = serde_json::from_str(&json).unwrap();
    assert!(!literal.insecure);
    assert_eq!(
        refuse(literal.clone()),
        ParamError::DegreeTooSmallForSecurity { log_n: 10 }
    );
    // The caller's opt-in, in code, gives back the same parameters and hash.
    let opted_in = CkksParams::new(CkksParamsLiteral {
        insecure: true,
        ..literal
    })
    .unwrap();
    assert_eq!(opted_in, params);
    assert_eq!(opted_in.hash(), params.hash());
}

#[test]
fn digits_partition_the_chain_and_count_per_level() {
    let params = CkksParams::new(presets::n15_qp838()).unwrap();
    assert_eq!(params.digits(), &[0..3, 3..6, 6..9, 9..12, 12..15]);
    assert_eq!(params.digits_at(Level(0)), 1);
    assert_eq!(params.digits_at(Level(3)), 2);
    assert_eq!(params.digits_at(Level(14)), 5);
    let uneven = CkksParams::new(CkksParamsLiteral {
        dnum: 3,
        log_q: vec![55, 40, 40, 40],
        ..small()
    })
    .unwrap();
    assert_eq!(uneven.digits(), &[0..2, 2..3, 3..4]);
    assert_eq!(uneven.q_primes_at(Level(1)).len(), 2);
}

#[test]
fn refuses_log_n_out_of_range() {
    assert_eq!(
        refuse(CkksParamsLiteral {
            log_n: 9,
            ..small()
        }),
        ParamError::LogNOutOfRange { log_n: 9 }
    );
    assert_eq!(
        refuse(CkksParamsLiteral {
            log_n: 18,
            ..small()
        }),
        ParamError::LogNOutOfRange { log_n: 18 }
    );
}

#[test]
fn refuses_missing_primes() {
    assert_eq!(
        refuse(CkksParamsLiteral {
            log_q: vec![],
            ..small()
        }),
        ParamError::NoCiphertextPrimes
    );
    assert_eq!(
        refuse(CkksParamsLiteral {
            log_p: vec![],
            ..small()
        }),
        ParamError::NoSpecialPrimes
    );
}

#[test]
fn refuses_prime_sizes_out_of_range() {
    let err = refuse(CkksParamsLiteral {
        log_q: vec![55, 62],
        ..small()
    });
    assert!(
        matches!(err, ParamError::PrimeBitsOutOfRange { ref name, bits: 62, .. } if name == "q1"),
        "{err}"
    );
    let err = refuse(CkksParamsLiteral {
        log_p: vec![11],
        ..small()
    });
    assert!(err.to_string().contains("p0 has 11 bits"), "{err}");
}

#[test]
fn refuses_when_primes_of_a_size_run_out() {
    // Only a handful of 14-bit primes are ≡ 1 mod 2^11.
    let err = refuse(CkksParamsLiteral {
        log_q: vec![55; 1].into_iter().chain(vec![14; 20]).collect(),
        log_scale: 10,
        ..small()
    });
    assert!(
        matches!(err, ParamError::PrimesExhausted { bits: 14, .. }),
        "{err}"
    );
}

#[test]
fn refuses_scale_outside_the_first_prime() {
    assert!(matches!(
        refuse(CkksParamsLiteral {
            log_scale: 0,
            ..small()
        }),
        ParamError::ScaleOutOfRange { .. }
    ));
    let err = refuse(CkksParamsLiteral {
        log_scale: 55,
        ..small()
    });
    assert!(err.to_string().contains("log scale 55"), "{err}");
}

#[test]
fn refuses_dnum_out_of_range() {
    assert_eq!(
        refuse(CkksParamsLiteral { dnum: 0, ..small() }),
        ParamError::DnumOutOfRange { dnum: 0, primes: 5 }
    );
    assert_eq!(
        refuse(CkksParamsLiteral { dnum: 6, ..small() }),
        ParamError::DnumOutOfRange { dnum: 6, primes: 5 }
    );
}

#[test]
fn refuses_special_modulus_smaller_than_a_digit() {
    let err = refuse(CkksParamsLiteral {
        dnum: 1,
        log_p: vec![60, 60],
        ..small()
    });
    assert!(
        matches!(err, ParamError::SpecialModulusTooSmall { digit: 0, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("add special primes or raise dnum"),
        "{err}"
    );
    // Equal sizes: the special prime comes after q0 and is therefore smaller.
    let err = refuse(CkksParamsLiteral {
        dnum: 5,
        log_p: vec![55],
        ..small()
    });
    assert!(
        matches!(err, ParamError::SpecialModulusTooSmall { digit: 0, .. }),
        "{err}"
    );
}

#[test]
fn refuses_hamming_weight_out_of_range() {
    for hamming_weight in [0, 1025] {
        let secret = SecretDistribution::FixedHammingWeight { hamming_weight };
        assert_eq!(
            refuse(CkksParamsLiteral { secret, ..small() }),
            ParamError::HammingWeightOutOfRange {
                hamming_weight,
                n: 1024
            }
        );
    }
}

#[test]
fn refuses_moduli_above_the_security_bound_naming_both() {
    let mut lit = presets::n16_qp1740();
    lit.log_p.push(60);
    let err = refuse(lit.clone());
    assert!(
        matches!(
            err,
            ParamError::AboveSecurityBound {
                bound: 1747,
                log_n: 16,
                ..
            }
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("log2(QP) = 1800.00") && text.contains("1747"),
        "{text}"
    );
    lit.insecure = true;
    assert_eq!(
        CkksParams::new(lit).unwrap().security(),
        SecurityLevel::Insecure
    );
}

#[test]
fn secure_literal_stays_secure_even_with_the_opt_in() {
    let lit = CkksParamsLiteral {
        insecure: true,
        ..presets::n13_qp211()
    };
    let params = CkksParams::new(lit).unwrap();
    assert_eq!(params.security(), SecurityLevel::Bits128);
    // The unneeded opt-in is dropped: the same parameters as without it.
    assert_eq!(params, CkksParams::new(presets::n13_qp211()).unwrap());
    assert!(!params.literal().insecure);
}

/// The hash goes into file headers: it must not change by accident (a deliberate change of the
/// canonical encoding bumps its version tag and updates these digests).
#[test]
fn preset_hashes_are_pinned() {
    let digest = |lit| CkksParams::new(lit).unwrap().hash().to_string();
    assert_eq!(
        digest(presets::n16_qp1740()),
        "3d41d39ea9150b2501e47e6b34dbf06857ba172783b224dcec78db11287b06dd"
    );
    assert_eq!(
        digest(presets::test_insecure(10)),
        "6bd37b0e5484ac9698b29f0e17b494f2914afc9413bfd05734441e61eec33024"
    );
}

#[test]
fn sparse_secrets_are_never_labelled_128_bit() {
    // A secure preset with a sparse secret: refused without the opt-in, insecure with it.
    let sparse = CkksParamsLiteral {
        secret: SecretDistribution::FixedHammingWeight { hamming_weight: 64 },
        ..presets::n13_qp211()
    };
    assert_eq!(
        refuse(sparse.clone()),
        ParamError::SparseSecretNotCovered { log_n: 13 }
    );
    let opted_in = CkksParams::new(CkksParamsLiteral {
        insecure: true,
        ..sparse
    })
    .unwrap();
    assert_eq!(opted_in.security(), SecurityLevel::Insecure);
}

#[test]
fn digit_rules_have_one_statement() {
    let params = CkksParams::new(presets::n15_qp838()).unwrap();
    let digits = params.digits();
    assert!(is_digit_partition(digits, params.q_primes().len()));
    for bad in [
        vec![0..3, 4..15],
        vec![0..3, 2..15],
        vec![0..0, 0..15],
        vec![0..3, 3..14],
    ] {
        assert!(!is_digit_partition(&bad, 15), "{bad:?}");
    }
    // At level 4 (primes q_0..q_4): the first digit whole, the second cut, the rest absent.
    assert_eq!(digit_primes_at(&digits[0], Level(4)), Some(0..3));
    assert_eq!(digit_primes_at(&digits[1], Level(4)), Some(3..5));
    assert_eq!(digit_primes_at(&digits[2], Level(4)), None);
    assert_eq!(params.digits_at(Level(4)), 2);
    assert_eq!(params.digits_at(Level(3)), 2);
    assert_eq!(params.digits_at(Level(2)), 1);
}
