//! The negacyclic NTT against slow references: round trips (proptest) and ring products
//! against the O(N²) negacyclic convolution, for several (N, q).

mod ring_support;

use fhec_params::Level;
use fhec_params::primes::largest_ntt_prime;
use fhec_runtime::ring::{Form, Modulus, NttTable, RingContext};
use proptest::prelude::*;
use ring_support::{TestRng, context, naive_negacyclic, random_poly, shapes, single_digit};

/// (log N, prime bits) pairs: the extremes of what the runtime supports.
const NTT_CASES: [(u32, u32); 6] = [(4, 20), (10, 61), (10, 30), (11, 50), (12, 61), (12, 40)];

fn table(log_n: u32, bits: u32) -> NttTable {
    let q = largest_ntt_prime(bits, log_n, &[]).unwrap();
    NttTable::new(1 << log_n, Modulus::new(q).unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn forward_then_inverse_is_the_identity(case in 0..NTT_CASES.len(), seed in any::<u64>()) {
        let (log_n, bits) = NTT_CASES[case];
        let ntt = table(log_n, bits);
        let q = ntt.modulus().value();
        let mut rng = TestRng::new(seed);
        let original: Vec<u64> = (0..1usize << log_n).map(|_| rng.below(q)).collect();
        let mut limb = original.clone();
        ntt.forward(&mut limb);
        prop_assert!(limb.iter().all(|&x| x < q), "forward output not reduced");
        prop_assert_ne!(&limb, &original);
        ntt.inverse(&mut limb);
        prop_assert_eq!(limb, original);
    }

    #[test]
    fn pointwise_product_is_the_negacyclic_product(case in 0..NTT_CASES.len(), seed in any::<u64>()) {
        let (log_n, bits) = NTT_CASES[case];
        let ntt = table(log_n, bits);
        let m = *ntt.modulus();
        let mut rng = TestRng::new(seed);
        let a: Vec<u64> = (0..1usize << log_n).map(|_| rng.below(m.value())).collect();
        let b: Vec<u64> = (0..1usize << log_n).map(|_| rng.below(m.value())).collect();
        let expected = naive_negacyclic(&a, &b, m.value());
        let (mut fa, mut fb) = (a.clone(), b.clone());
        ntt.forward(&mut fa);
        ntt.forward(&mut fb);
        let mut product: Vec<u64> = fa.iter().zip(&fb).map(|(&x, &y)| m.mul(x, y)).collect();
        ntt.inverse(&mut product);
        prop_assert_eq!(product, expected);
    }
}

#[test]
fn context_products_agree_with_the_naive_product_on_every_limb() {
    let mut rng = TestRng::new(7);
    for (log_n, log_q, log_p, dnum) in shapes() {
        let ctx = context(log_n, &log_q, &log_p, dnum);
        let level = ctx.max_level();
        let a = random_poly(&ctx, &mut rng, level, true, Form::Coefficient);
        let b = random_poly(&ctx, &mut rng, level, true, Form::Coefficient);
        let c = random_poly(&ctx, &mut rng, level, true, Form::Coefficient);
        let (mut fa, mut fb, mut acc) = (a.clone(), b.clone(), c.clone());
        for p in [&mut fa, &mut fb, &mut acc] {
            ctx.to_ntt(p);
        }
        let mut product = ctx.zero(Level(0), false, Form::Ntt);
        ctx.mul(&fa, &fb, &mut product);
        ctx.mul_acc(&mut acc, &fa, &fb);
        ctx.to_coefficient(&mut product);
        ctx.to_coefficient(&mut acc);
        // The first and last ciphertext limbs and the last special limb: the O(N²) reference
        // is too slow for every limb, and these cover the largest and smallest primes.
        for i in [0, a.q_limbs() - 1, a.limb_count() - 1] {
            let m = ctx.limb_prime(a.q_limbs(), i).0;
            let expected = naive_negacyclic(a.limb(i), b.limb(i), m.value());
            assert_eq!(product.limb(i), &expected[..], "logN {log_n}, limb {i}");
            let with_c: Vec<u64> = expected
                .iter()
                .zip(c.limb(i))
                .map(|(&x, &y)| m.add(x, y))
                .collect();
            assert_eq!(acc.limb(i), &with_c[..], "mul_acc, logN {log_n}, limb {i}");
        }
    }
}

#[test]
fn round_trip_through_the_context_at_a_parallel_degree() {
    // 2^13 exercises the rayon path of every limb loop.
    let ctx = context(13, &[50, 40, 40], &[51], 3);
    let mut rng = TestRng::new(3);
    let original = random_poly(&ctx, &mut rng, ctx.max_level(), true, Form::Coefficient);
    let mut poly = original.clone();
    ctx.to_ntt(&mut poly);
    assert_eq!(poly.form(), Form::Ntt);
    ctx.to_ntt(&mut poly); // no-op in NTT form
    ctx.to_coefficient(&mut poly);
    assert_eq!(poly, original);
}

#[test]
fn x_times_x_to_the_n_minus_one_is_minus_one() {
    // X · X^(N−1) = X^N = −1: the defining relation of the negacyclic ring.
    let ctx = context(10, &[40], &[41], 1);
    let n = ctx.degree();
    let mut x = vec![0i64; n];
    x[1] = 1;
    let mut y = vec![0i64; n];
    y[n - 1] = 1;
    let (mut a, mut b) = (
        ctx.from_signed(&x, Level(0), false),
        ctx.from_signed(&y, Level(0), false),
    );
    ctx.to_ntt(&mut a);
    ctx.to_ntt(&mut b);
    ctx.mul_assign(&mut a, &b);
    ctx.to_coefficient(&mut a);
    let mut minus_one = vec![0i64; n];
    minus_one[0] = -1;
    assert_eq!(a, ctx.from_signed(&minus_one, Level(0), false));
}

#[test]
fn refuses_moduli_without_an_ntt() {
    let not_ntt_friendly = Modulus::new(1_000_003).unwrap(); // prime, but not 1 mod 2048
    assert!(NttTable::new(1024, not_ntt_friendly).is_err());
    let err = RingContext::from_primes(
        fhec_params::LogN(10),
        &[1_000_003],
        &[12289],
        &single_digit(1),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no negacyclic NTT of degree 1024 modulo 1000003"),
        "{err}"
    );
}
