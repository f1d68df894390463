//! Bootstrapping's homomorphic DFTs on small, explicitly INSECURE parameters (N = 2^12,
//! labelled in the literal): a linear transform by diagonals against the clear product,
//! CoeffToSlot against the coefficients of the encoded polynomial, and SlotToCoeff ∘
//! CoeffToSlot ≈ identity, for full and sparse slots, with Galois keys generated for exactly
//! the plan's rotations and capped at the plan's levels (a wrong set or cap fails here).

mod ckks_support;

use ckks_support::TestContext;
use fhec_params::{CkksParamsLiteral, DftDirection, DftPlan, Level, SecretDistribution};
use fhec_runtime::bootstrap::dft::DiagonalMatrix;
use fhec_runtime::bootstrap::keys::{galois_key_bytes, generate_galois_keys};
use fhec_runtime::bootstrap::{
    DftSettings, DiagonalResidency, HomomorphicDft, LinearTransform, SlotCoefficients,
};
use fhec_runtime::encoding::C64;
use fhec_runtime::eval::Evaluator;
use fhec_runtime::keys::{GaloisKeys, KeyGenerator};
use fhec_runtime::precision::PrecisionStats;
use fhec_runtime::sampling::SecureRng;
use std::collections::BTreeMap;

/// N = 2^12 (INSECURE: tests only), q0 60 bits, 7 primes of 50 bits, scale 2^50.
fn insecure_literal() -> CkksParamsLiteral {
    CkksParamsLiteral {
        log_n: 12,
        log_q: std::iter::once(60).chain([50; 7]).collect(),
        log_p: vec![61, 61],
        dnum: 4,
        log_scale: 50,
        secret: SecretDistribution::Ternary,
        insecure: true,
    }
}

fn context() -> TestContext {
    TestContext::new("TEST_N12_BOOT_DFT_INSECURE", insecure_literal())
}

fn keys_for(t: &TestContext, plan: &DftPlan, c2s: Level, s2c: Level) -> GaloisKeys {
    let mut generator =
        KeyGenerator::with_rng(&t.context, SecureRng::insecure_from_fixed_seed([3; 32]));
    generate_galois_keys(&t.context, &mut generator, &t.secret, plan, c2s, s2c).unwrap()
}

fn bit_reverse(j: usize, n: usize) -> usize {
    if n == 1 {
        0
    } else {
        j.reverse_bits() >> (usize::BITS - n.trailing_zeros())
    }
}

fn report(name: &str, stats: &PrecisionStats) {
    if std::env::var("FHEC_PRINT_PRECISION").is_ok() {
        println!("{name}:\n{stats}");
    }
}

/// Test 3 of the plan: BSGS evaluation of random diagonal matrices (several baby steps, a
/// 2n-slot matrix on an n-slot input, giants in isolated runs and in long chains) against the
/// clear product; diagonals encoded on demand give the same ciphertext as kept ones.
#[test]
fn linear_transform_matches_the_clear_product() {
    let t = context();
    let mut state = 21u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let top = t.top();
    for (slots, matrix_slots, indices, baby_step) in [
        (64usize, 64usize, vec![0usize, 1, 2, 5, 17, 40, 63], 8usize),
        (64, 64, vec![3, 9, 33], 1),
        (32, 64, vec![0, 1, 31, 32, 33, 63], 4),
        // Dense: giant chains of 8 links up and 7 down.
        (64, 64, (0..64).collect(), 4),
    ] {
        let diagonals: BTreeMap<usize, Vec<C64>> = indices
            .iter()
            .map(|&k| {
                (
                    k,
                    (0..matrix_slots)
                        .map(|_| C64::new(next(), next()))
                        .collect(),
                )
            })
            .collect();
        let matrix = DiagonalMatrix::from_diagonals(matrix_slots, diagonals);
        let prime = t.context.q_prime(top) as f64;
        let build = |residency| {
            LinearTransform::new(
                &t.context,
                &matrix,
                baby_step,
                top,
                prime,
                matrix_slots,
                residency,
            )
            .unwrap()
        };
        let transform = build(DiagonalResidency::Encoded);
        let rotations: Vec<i64> = transform.rotations().into_iter().collect();
        let keys = KeyGenerator::with_rng(&t.context, SecureRng::insecure_from_fixed_seed([4; 32]))
            .galois_keys(&t.secret, &rotations, false, top)
            .unwrap();
        let evaluator = Evaluator::new(&t.context).with_galois_keys(&keys);
        let z = t.random_values(slots);
        let ct = t.encrypt(&z, slots, top);
        let out = transform.evaluate(&evaluator, &ct).unwrap();
        // Encoding the diagonals at each use gives the same ciphertext, bit for bit.
        let on_demand = build(DiagonalResidency::OnDemand);
        assert!(on_demand.size_bytes() * 4 < transform.size_bytes());
        assert!(on_demand.evaluate(&evaluator, &ct).unwrap() == out);
        assert_eq!(out.level(), Level(top.0 - 1));
        assert!((out.scale / t.scale() - 1.0).abs() < 1e-12);
        let periodic: Vec<C64> = (0..matrix_slots).map(|j| z[j % slots]).collect();
        let expected = matrix.apply(&periodic);
        let stats = PrecisionStats::of(&expected, &t.decrypt(&out));
        report("linear transform", &stats);
        assert!(stats.min_bits() > 36.0, "{slots}/{matrix_slots}: {stats}");
        // Without its keys the transform is refused with the evaluator's error.
        let bare = Evaluator::new(&t.context);
        assert!(transform.evaluate(&bare, &ct).is_err());
    }
}

fn settings(t: &TestContext, plan: &DftPlan) -> DftSettings {
    let c2s = plan.factors(DftDirection::CoeffToSlot).len();
    DftSettings {
        c2s_level: t.top(),
        c2s_constant: 1.0,
        s2c_level: Level(t.top().0 - c2s),
        s2c_constant: 1.0,
        s2c_input_scale: t.scale(),
        s2c_output_scale: t.scale(),
        diagonals: DiagonalResidency::Encoded,
    }
}

/// CoeffToSlot puts the coefficients of the encoded polynomial in the slots (bit-reversed
/// order), and SlotToCoeff brings the slots back, for full and sparse slots.
#[test]
fn coeff_to_slot_and_back() {
    let t = context();
    for (log_slots, c2s_levels, s2c_levels) in [(11, 3, 3), (11, 2, 3), (7, 3, 2), (9, 3, 3)] {
        let n = 1usize << log_slots;
        let plan = DftPlan::new(12, log_slots, c2s_levels, s2c_levels, 1).unwrap();
        let settings = settings(&t, &plan);
        let dft = HomomorphicDft::new(&t.context, &plan, settings).unwrap();
        let keys = keys_for(&t, &plan, settings.c2s_level, settings.s2c_level);
        let evaluator = Evaluator::new(&t.context).with_galois_keys(&keys);
        // The runtime's matrices rotate by exactly the plan's rotations.
        let used: std::collections::BTreeSet<i64> =
            dft.transforms().flat_map(|l| l.rotations()).collect();
        let mut planned = plan.rotations();
        for r in plan
            .trace_rotations()
            .into_iter()
            .chain(plan.pack_rotation())
        {
            if !used.contains(&r) {
                planned.remove(&r);
            }
        }
        assert_eq!(used, planned);

        let z = t.random_values(n);
        let ct = t.encrypt(&z, n, t.top());
        let coefficients = dft.coeff_to_slot(&evaluator, &ct).unwrap();
        let mut folded = z.clone();
        t.context.fft().slots_to_coefficients(&mut folded);
        let real: Vec<C64> = (0..n)
            .map(|j| C64::new(folded[bit_reverse(j, n)].re, 0.0))
            .collect();
        let imag: Vec<C64> = (0..n)
            .map(|j| C64::new(folded[bit_reverse(j, n)].im, 0.0))
            .collect();
        let got: Vec<C64> = match &coefficients {
            SlotCoefficients::Full { real, imag } => {
                assert!(!plan.is_sparse());
                let mut both = t.decrypt(real);
                both.extend(t.decrypt(imag));
                both
            }
            SlotCoefficients::Packed(packed) => {
                assert!(plan.is_sparse());
                assert_eq!(packed.slots, 2 * n);
                t.decrypt(packed)
            }
        };
        let expected: Vec<C64> = real.iter().chain(&imag).copied().collect();
        let stats = PrecisionStats::of(&expected, &got);
        report(&format!("C2S n={n}"), &stats);
        assert!(stats.min_bits() > 33.0, "C2S n={n}: {stats}");
        for ct in coefficients.ciphertexts() {
            assert_eq!(ct.level(), dft.c2s_output_level());
        }

        let back = dft.slot_to_coeff(&evaluator, &coefficients).unwrap();
        assert_eq!(back.level(), dft.s2c_output_level());
        assert_eq!(back.slots, n);
        assert_eq!(back.scale, t.scale());
        let stats = PrecisionStats::of(&z, &t.decrypt(&back));
        report(&format!("S2C∘C2S n={n}"), &stats);
        assert!(stats.min_bits() > 29.0, "S2C∘C2S n={n}: {stats}");
    }
}

/// The key bytes predicted by the DESIGN §5 formula equal the generated keys' bytes.
#[test]
fn predicted_key_bytes_match_generated_keys() {
    let t = context();
    let plan = DftPlan::new(12, 9, 3, 3, 1).unwrap();
    let (c2s, s2c) = (t.top(), Level(t.top().0 - 3));
    let keys = keys_for(&t, &plan, c2s, s2c);
    assert_eq!(keys.len(), plan.galois_elements().len());
    let predicted = galois_key_bytes(&t.context, &plan, c2s, s2c, false);
    assert_eq!(predicted, keys.size_bytes() as u64);
    assert_eq!(
        galois_key_bytes(&t.context, &plan, c2s, s2c, true),
        predicted / 2
    );
}

/// Rotations kept over Q·P (double hoisting) and brought down with the fused ModDown and
/// rescale agree with ordinary rotations followed by a rescale, to the rounding.
#[test]
fn extended_rotations_match_ordinary_rotations() {
    let t = context();
    let top = t.top();
    let steps = [0i64, 1, -3, 17];
    let keys = KeyGenerator::with_rng(&t.context, SecureRng::insecure_from_fixed_seed([6; 32]))
        .galois_keys(&t.secret, &steps, false, top)
        .unwrap();
    let evaluator = Evaluator::new(&t.context).with_galois_keys(&keys);
    let slots = t.max_slots();
    let z = t.random_values(slots);
    let ct = t.encrypt(&z, slots, top);
    let extended = evaluator.rotate_hoisted_extended(&ct, &steps).unwrap();
    for (&k, rotated) in steps.iter().zip(&extended) {
        let fused = evaluator
            .rescale_extended(rotated, ct.scale, slots)
            .unwrap();
        let ordinary = evaluator
            .rescale_new(&evaluator.rotate_new(&ct, k).unwrap())
            .unwrap();
        assert_eq!(fused.level(), ordinary.level());
        assert_eq!(fused.scale, ordinary.scale);
        let stats = PrecisionStats::of(&t.decrypt(&ordinary), &t.decrypt(&fused));
        assert!(stats.min_bits() > 40.0, "rotation {k}: {stats}");
        // And the lazy giant-step accumulation: rot_k of an extended ciphertext.
        let mut sum = evaluator.extended_zero(&ct);
        evaluator
            .rotate_extended_accumulate(&extended[0], &ct, k, &mut sum)
            .unwrap();
        let lazy = evaluator.rescale_extended(&sum, ct.scale, slots).unwrap();
        let stats = PrecisionStats::of(&t.decrypt(&ordinary), &t.decrypt(&lazy));
        assert!(stats.min_bits() > 40.0, "lazy rotation {k}: {stats}");
    }
}
