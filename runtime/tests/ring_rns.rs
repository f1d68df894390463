//! The RNS tools against big-integer CRT references: ModUp, ModDown, rescale and
//! reconstruction, with the exact error each one is allowed.

mod ring_support;

use fhec_params::Level;
use fhec_runtime::ring::crt::crt_reconstruct;
use fhec_runtime::ring::{Form, RingContext, RnsPoly};
use num_bigint::{BigInt, BigUint};
use ring_support::{TestRng, context, random_poly, shapes};

/// Coefficients checked per polynomial (all of them would make the big-integer references slow).
const SAMPLED: usize = 48;

fn primes_of(ctx: &RingContext, poly: &RnsPoly) -> Vec<u64> {
    (0..poly.limb_count())
        .map(|i| ctx.limb_prime(poly.q_limbs(), i).0.value())
        .collect()
}

fn product(primes: &[u64]) -> BigUint {
    primes.iter().map(|&q| BigUint::from(q)).product()
}

fn residues(poly: &RnsPoly, limbs: std::ops::Range<usize>, k: usize) -> Vec<u64> {
    limbs.map(|i| poly.limb(i)[k]).collect()
}

fn in_coefficient_form(ctx: &RingContext, poly: &RnsPoly) -> RnsPoly {
    let mut copy = poly.clone();
    ctx.to_coefficient(&mut copy);
    copy
}

fn sampled_coefficients(rng: &mut TestRng, n: usize) -> Vec<usize> {
    let mut ks: Vec<usize> = (0..SAMPLED).map(|_| rng.below(n as u64) as usize).collect();
    ks.extend([0, n - 1]);
    ks
}

/// The centered representative of `x` modulo `m`, in `[−⌊m/2⌋, ⌈m/2⌉)`.
fn centered(x: &BigUint, m: &BigUint) -> BigInt {
    let x = BigInt::from(x % m);
    let m = BigInt::from(m.clone());
    if &x * 2 >= m { x - m } else { x }
}

/// `x mod m` for a signed `x`, as the residue in `[0, m)`.
fn residue(x: &BigInt, m: u64) -> u64 {
    let m = BigInt::from(m);
    let r = ((x % &m) + &m) % &m;
    r.iter_u64_digits().next().unwrap_or(0)
}

/// ModUp of digit d is exact: the digit's limbs are kept and every other limb t holds the
/// centered lift of the digit's value `X_d` (its residues over the digit's primes, taken in
/// `[−D_d/2, D_d/2)`), modulo prime t.
#[test]
fn mod_up_extends_the_centered_digit_exactly() {
    let mut rng = TestRng::new(11);
    for (log_n, log_q, log_p, dnum) in shapes() {
        let ctx = context(log_n, &log_q, &log_p, dnum);
        for level in [ctx.max_level(), Level(ctx.max_level().0 / 2)] {
            for form in [Form::Ntt, Form::Coefficient] {
                let a = random_poly(&ctx, &mut rng, level, false, form);
                for (digit, range) in ctx
                    .digits()
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.start <= level.0)
                {
                    let range = range.start..range.end.min(level.limbs());
                    let mut up = ctx.zero(Level(0), false, Form::Ntt);
                    ctx.mod_up(&a, digit, &mut up);
                    assert_eq!(
                        (up.q_limbs(), up.p_limbs(), up.form()),
                        (level.limbs(), ctx.p_basis().len(), form)
                    );
                    let (a_c, up_c) = (
                        in_coefficient_form(&ctx, &a),
                        in_coefficient_form(&ctx, &up),
                    );
                    let primes = primes_of(&ctx, &up);
                    let digit_primes = &primes[range.clone()];
                    let digit_modulus = product(digit_primes);
                    for k in sampled_coefficients(&mut rng, ctx.degree()) {
                        for t in range.clone() {
                            assert_eq!(up.limb(t)[k], a.limb(t)[k], "digit limb {t} changed");
                        }
                        let value =
                            crt_reconstruct(&residues(&a_c, range.clone(), k), digit_primes);
                        let lift = centered(&value, &digit_modulus);
                        for t in (0..up.limb_count()).filter(|t| !range.contains(t)) {
                            assert_eq!(
                                up_c.limb(t)[k],
                                residue(&lift, primes[t]),
                                "logN {log_n} {level} digit {digit} k {k} limb {t}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// ModDown is exact: `Y = round(X / P) = ⌊(X + ⌊P/2⌋)/P⌋ mod Q_l` for the representative
/// `X ∈ [0, Q_l·P)` (random inputs never hit the ties where it may differ by one).
#[test]
fn mod_down_divides_by_p_with_rounding() {
    let mut rng = TestRng::new(12);
    for (log_n, log_q, log_p, dnum) in shapes() {
        let ctx = context(log_n, &log_q, &log_p, dnum);
        for level in [ctx.max_level(), Level(0)] {
            for form in [Form::Ntt, Form::Coefficient] {
                let a = random_poly(&ctx, &mut rng, level, true, form);
                let mut down = ctx.zero(Level(0), true, Form::Coefficient);
                ctx.mod_down(&a, &mut down);
                assert_eq!(
                    (down.level(), down.has_special(), down.form()),
                    (level, false, form)
                );
                let (a_c, down_c) = (
                    in_coefficient_form(&ctx, &a),
                    in_coefficient_form(&ctx, &down),
                );
                let qp_primes = primes_of(&ctx, &a);
                let q_primes = &qp_primes[..level.limbs()];
                let (p, q) = (product(&qp_primes[level.limbs()..]), product(q_primes));
                for k in sampled_coefficients(&mut rng, ctx.degree()) {
                    let x = crt_reconstruct(&residues(&a_c, 0..a.limb_count(), k), &qp_primes);
                    let rounded = ((&x + (&p >> 1u32)) / &p) % &q;
                    let y = crt_reconstruct(&residues(&down_c, 0..down.limb_count(), k), q_primes);
                    assert_eq!(y, rounded, "logN {log_n} {level} k {k}");
                }
            }
        }
    }
}

/// A key-switching-like input `P·m + e` with `|e| < P/2` comes back as exactly `m`, without
/// the bias a fast (uncorrected) conversion would add.
#[test]
fn mod_down_recovers_a_multiple_of_p() {
    let ctx = context(10, &[55, 40, 40], &[50, 50], 3);
    let mut rng = TestRng::new(13);
    let level = ctx.max_level();
    let m: Vec<i64> = (0..ctx.degree()).map(|_| rng.signed(1 << 40)).collect();
    let e: Vec<i64> = (0..ctx.degree()).map(|_| rng.signed(1 << 20)).collect();
    let mut a = ctx.from_signed(&m, level, true);
    let primes = primes_of(&ctx, &a);
    let big_p = product(&primes[a.q_limbs()..]);
    let p_residues: Vec<u64> = primes
        .iter()
        .map(|&q| (&big_p % q).iter_u64_digits().next().unwrap_or(0))
        .collect();
    ctx.mul_scalars_assign(&mut a, &p_residues);
    ctx.add_assign(&mut a, &ctx.from_signed(&e, level, true));
    let mut down = ctx.zero(level, false, Form::Coefficient);
    ctx.mod_down(&a, &mut down);
    let mut values = vec![0.0; ctx.degree()];
    ctx.coefficients_centered_f64(&down, &mut values);
    for (k, (&v, &expected)) in values.iter().zip(&m).enumerate() {
        assert_eq!(v, expected as f64, "k {k}");
    }
}

/// Rescale is exact: `Y = ⌊(X + ⌊q_l/2⌋) / q_l⌋ mod Q_{l−1}`, i.e. round to nearest.
#[test]
fn rescale_rounds_exactly() {
    let mut rng = TestRng::new(14);
    // Plus a chain whose last prime exceeds twice the others (the general reduction path).
    let growing = (10, vec![30, 40, 55], vec![56], 3);
    for (log_n, log_q, log_p, dnum) in shapes().into_iter().chain([growing]) {
        let ctx = context(log_n, &log_q, &log_p, dnum);
        for level in (1..=ctx.max_level().0)
            .map(Level)
            .filter(|l| l.0 == 1 || *l == ctx.max_level())
        {
            let a = random_poly(&ctx, &mut rng, level, false, Form::Coefficient);
            let mut from_coefficients = a.clone();
            ctx.rescale_assign(&mut from_coefficients);
            let mut from_ntt = a.clone();
            ctx.to_ntt(&mut from_ntt);
            ctx.rescale_assign(&mut from_ntt);
            ctx.to_coefficient(&mut from_ntt);
            assert_eq!(
                from_ntt, from_coefficients,
                "forms disagree at logN {log_n} {level}"
            );
            assert_eq!(from_coefficients.level(), Level(level.0 - 1));
            let primes = primes_of(&ctx, &a);
            let last = BigUint::from(primes[level.0]);
            let below = product(&primes[..level.0]);
            for k in sampled_coefficients(&mut rng, ctx.degree()) {
                let x = crt_reconstruct(&residues(&a, 0..a.limb_count(), k), &primes);
                let expected = ((x + (&last >> 1u32)) / &last) % &below;
                let y = crt_reconstruct(
                    &residues(&from_coefficients, 0..level.0, k),
                    &primes[..level.0],
                );
                assert_eq!(y, expected, "logN {log_n} {level} k {k}");
            }
        }
    }
}

#[test]
fn rescale_of_small_multiples_rounds_to_nearest_with_sign() {
    let ctx = context(10, &[55, 40, 40], &[50, 50], 3);
    let q_last = ctx.q_basis().moduli()[2].value() as i64;
    let n = ctx.degree();
    // Values m·q_l + r for r at the rounding boundaries.
    let cases: Vec<(i64, i64)> = vec![
        (0, 0),
        (3, q_last / 2),
        (3, q_last / 2 + 1),
        (-5, -(q_last / 2)),
        (-5, -(q_last / 2) - 1),
        (7, -1),
    ];
    let mut coefficients = vec![0i64; n];
    for (k, &(m, r)) in cases.iter().enumerate() {
        coefficients[k] = m * q_last + r;
    }
    let mut a = ctx.from_signed(&coefficients, Level(2), false);
    ctx.rescale_assign(&mut a);
    let mut values = vec![0.0; n];
    ctx.coefficients_centered_f64(&a, &mut values);
    let expected = [0.0, 3.0, 4.0, -5.0, -6.0, 7.0];
    assert_eq!(&values[..cases.len()], &expected);
}

#[test]
fn centered_f64_reconstruction_matches_big_integers() {
    let mut rng = TestRng::new(15);
    for (log_n, log_q, log_p, dnum) in shapes() {
        let ctx = context(log_n, &log_q, &log_p, dnum);
        for level in [Level(0), ctx.max_level()] {
            // Small signed values come back exactly.
            let small: Vec<i64> = (0..ctx.degree())
                .map(|_| rng.signed((1 << 52) - 1))
                .collect();
            let poly = ctx.from_signed(&small, level, false);
            let mut values = vec![0.0; ctx.degree()];
            ctx.coefficients_centered_f64(&poly, &mut values);
            // At level 0 a 52-bit value may exceed Q_0/2 and wrap modulo Q_0.
            let q = BigInt::from(product(&ctx.q_basis().primes()[..level.limbs()]));
            for (k, (&v, &s)) in values.iter().zip(&small).enumerate() {
                let wrapped = {
                    let r = ((BigInt::from(s) % &q) + &q) % &q;
                    if &r * 2 > q { r - &q } else { r }
                };
                assert_eq!(
                    v,
                    wrapped.to_string().parse::<f64>().unwrap(),
                    "logN {log_n} {level} k {k}"
                );
            }
            // Uniform residues: relative agreement with the exact centered value.
            let uniform = random_poly(&ctx, &mut rng, level, false, Form::Coefficient);
            ctx.coefficients_centered_f64(&uniform, &mut values);
            for k in sampled_coefficients(&mut rng, ctx.degree()) {
                let exact: f64 = ctx
                    .coefficient_exact_centered(&uniform, k)
                    .to_string()
                    .parse()
                    .unwrap();
                assert!(
                    (values[k] - exact).abs() <= exact.abs() * 1e-14,
                    "k {k}: {} vs {exact}",
                    values[k]
                );
            }
        }
    }
}

#[test]
fn centered_reconstruction_splits_exactly_at_half_the_modulus() {
    let ctx = context(10, &[55, 40, 40], &[50, 50], 3);
    let primes = ctx.q_basis().primes();
    let q = product(&primes);
    let half = &q >> 1u32; // Q odd: the largest positive representative
    let mut poly = ctx.zero(ctx.max_level(), false, Form::Coefficient);
    for (i, &p) in primes.iter().enumerate() {
        poly.limb_mut(i)[0] = (&half % p).iter_u64_digits().next().unwrap_or(0);
        poly.limb_mut(i)[1] = ((&half + 1u32) % p).iter_u64_digits().next().unwrap_or(0);
        poly.limb_mut(i)[2] = ((&q - 1u32) % p).iter_u64_digits().next().unwrap_or(0);
    }
    assert_eq!(
        ctx.coefficient_exact_centered(&poly, 0),
        BigInt::from(half.clone())
    );
    assert_eq!(
        ctx.coefficient_exact_centered(&poly, 1),
        -BigInt::from(half.clone())
    );
    let mut values = vec![0.0; ctx.degree()];
    ctx.coefficients_centered_f64(&poly, &mut values);
    let half_f64: f64 = half.to_string().parse().unwrap();
    assert_eq!(values[0], half_f64);
    assert_eq!(values[1], -half_f64);
    assert_eq!(values[2], -1.0);
    assert_eq!(values[3], 0.0);
}

/// The converter on its own, with more source primes than one lazy accumulation holds (20 >
/// 15) and values at the edges of the centered range (all but the tie region at ±B/2).
#[test]
fn base_conversion_is_exact_at_the_edges_and_for_long_sources() {
    use fhec_params::primes::largest_ntt_prime;
    use fhec_runtime::ring::{BaseConverter, Modulus};
    let mut taken = Vec::new();
    for bits in [61u32; 20].into_iter().chain([50; 3]) {
        taken.push(largest_ntt_prime(bits, 10, &taken).unwrap());
    }
    let (source, target) = taken.split_at(20);
    let moduli = |primes: &[u64]| {
        primes
            .iter()
            .map(|&q| Modulus::new(q).unwrap())
            .collect::<Vec<_>>()
    };
    let converter = BaseConverter::new(&moduli(source), &moduli(target));
    let b = product(source);
    let half = &b >> 1u32;
    let edges: Vec<BigInt> = vec![
        BigInt::from(0),
        BigInt::from(1),
        BigInt::from(-1),
        // Just outside the tie region of width about s·2^−52·B around ±B/2.
        BigInt::from(&half - (&b >> 40u32)),
        -BigInt::from(&half - (&b >> 40u32)),
        BigInt::from(&b >> 2u32),
        -BigInt::from(&b >> 2u32),
    ];
    let n = 16;
    let mut limbs = vec![0u64; source.len() * n];
    for (k, x) in edges.iter().enumerate() {
        for (i, &q) in source.iter().enumerate() {
            limbs[i * n + k] = residue(x, q);
        }
    }
    let mut overflow = vec![0u64; n];
    converter.prepare(&mut limbs, n, &mut overflow);
    let mut out = vec![0u64; n];
    for (j, &c) in target.iter().enumerate() {
        converter.convert_limb(&limbs, &overflow, j, &mut out);
        for (k, x) in edges.iter().enumerate() {
            assert_eq!(out[k], residue(x, c), "edge {k} ({x}) on target {j}");
        }
    }
}
