//! CRT reconstruction: from residues back to integers.
//!
//! - [`crt_reconstruct`]: the exact integer in `[0, M)` from residues modulo any primes
//!   (big integers; for tests, tools and exact checks).
//! - [`RingContext::coefficients_centered_f64`]: every coefficient of a polynomial over `Q_l`
//!   as the centered representative in `(−Q_l/2, Q_l/2]`, rounded to f64, for decoding at any
//!   level. It uses Garner's mixed-radix form `x = a_0 + a_1·q_0 + a_2·q_0·q_1 + …` computed
//!   with word arithmetic only, decides the sign exactly by comparing digits with those of
//!   `⌊Q_l/2⌋`, and evaluates in f64 by Horner's rule (relative error about `l·2^−53`; values
//!   beyond 2^1023 become infinite).

use super::RingContext;
use super::modular::{Modulus, ShoupConstant};
use super::poly::{Form, RnsPoly};
use num_bigint::{BigInt, BigUint};
use rayon::prelude::*;

/// The integer in `[0, Π primes)` with the given residues, exactly.
///
/// # Panics
/// If the lengths differ or the primes are not distinct primes.
pub fn crt_reconstruct(residues: &[u64], primes: &[u64]) -> BigUint {
    assert_eq!(residues.len(), primes.len(), "one residue per prime");
    let product: BigUint = primes.iter().map(|&q| BigUint::from(q)).product();
    let mut sum = BigUint::ZERO;
    for (&x, &q) in residues.iter().zip(primes) {
        let m = Modulus::new(q).expect("prime below 2^62");
        let hat = &product / q;
        let hat_mod_q = (&hat % q).iter_u64_digits().next().unwrap_or(0);
        let coefficient = m.mul(m.reduce_u64(x), m.inv(hat_mod_q).expect("distinct primes"));
        sum += hat * coefficient;
    }
    sum % product
}

/// Garner constants for the ciphertext chain.
#[derive(Clone, Debug)]
pub(crate) struct CrtTables {
    moduli: Vec<Modulus>,
    /// `inverse[i][j] = q_j^{-1} mod q_i` for j < i.
    inverse: Vec<Vec<ShoupConstant>>,
    /// `half_digits[l]`: mixed-radix digits of `⌊Q_l/2⌋` over q_0..q_l.
    half_digits: Vec<Vec<u64>>,
}

impl CrtTables {
    pub(crate) fn new(moduli: &[Modulus]) -> CrtTables {
        let inverse = moduli
            .iter()
            .enumerate()
            .map(|(i, mi)| {
                moduli[..i]
                    .iter()
                    .map(|mj| mi.shoup(mi.inv(mj.value()).expect("distinct primes")))
                    .collect()
            })
            .collect();
        let half_digits = (0..moduli.len())
            .map(|level| {
                // Q_l − 1 has digits q_i − 1; halve it from the most significant digit down.
                let mut digits = vec![0u64; level + 1];
                let mut remainder = 0u64;
                for i in (0..=level).rev() {
                    let q = moduli[i].value();
                    let current = remainder * q + (q - 1);
                    digits[i] = current / 2;
                    remainder = current % 2;
                }
                digits
            })
            .collect();
        CrtTables {
            moduli: moduli.to_vec(),
            inverse,
            half_digits,
        }
    }

    /// Mixed-radix digits of a block of coefficients, in place: `rows` holds one row of
    /// `width` residues per limb and ends up holding one row of digits per limb. Working on
    /// rows keeps many independent Garner chains in flight instead of one serial chain.
    fn mixed_radix_rows(&self, rows: &mut [u64], width: usize) {
        for i in 1..rows.len() / width {
            let m = &self.moduli[i];
            let (lower, upper) = rows.split_at_mut(i * width);
            let row = &mut upper[..width];
            for (j, &inverse) in self.inverse[i].iter().enumerate() {
                // (t − a_j)·q_j^{-1}, with a_j < q_j possibly above q_i: Shoup takes any word.
                for (t, &digit) in row.iter_mut().zip(&lower[j * width..(j + 1) * width]) {
                    *t = m.sub(m.mul_shoup(*t, inverse), m.mul_shoup(digit, inverse));
                }
            }
        }
    }

    /// The centered value of mixed-radix `digits` at level `digits.len() − 1`, as f64.
    fn centered_f64(&self, digits: &mut [u64]) -> f64 {
        let level = digits.len() - 1;
        let half = &self.half_digits[level];
        let negative = digits
            .iter()
            .rev()
            .zip(half.iter().rev())
            .find(|(d, h)| d != h)
            .is_some_and(|(d, h)| d > h);
        if negative {
            // Q − x: digits (q_i − 1 − d_i) plus one, with carries.
            let mut carry = 1u64;
            for (d, m) in digits.iter_mut().zip(&self.moduli) {
                let q = m.value();
                let complement = q - 1 - *d + carry;
                (*d, carry) = if complement == q {
                    (0, 1)
                } else {
                    (complement, 0)
                };
            }
        }
        let magnitude = digits
            .iter()
            .zip(&self.moduli)
            .rev()
            .fold(0.0f64, |acc, (&d, m)| acc * m.value() as f64 + d as f64);
        if negative { -magnitude } else { magnitude }
    }
}

impl RingContext {
    /// Coefficient `k` of `a` (coefficient form, any limbs) as the exact integer in
    /// `[0, M)`, M the product of the polynomial's primes.
    pub fn coefficient_exact(&self, a: &RnsPoly, k: usize) -> BigUint {
        assert_eq!(
            a.form(),
            Form::Coefficient,
            "CRT needs coefficient form, got {}",
            a.shape()
        );
        let residues: Vec<u64> = (0..a.limb_count()).map(|i| a.limb(i)[k]).collect();
        let primes: Vec<u64> = (0..a.limb_count())
            .map(|i| self.limb_prime(a.q_limbs(), i).0.value())
            .collect();
        crt_reconstruct(&residues, &primes)
    }

    /// Coefficient `k` of `a` as the exact centered integer in `(−M/2, M/2]`.
    pub fn coefficient_exact_centered(&self, a: &RnsPoly, k: usize) -> BigInt {
        let value = self.coefficient_exact(a, k);
        let modulus: BigUint = (0..a.limb_count())
            .map(|i| BigUint::from(self.limb_prime(a.q_limbs(), i).0.value()))
            .product();
        if &value * 2u32 > modulus {
            BigInt::from(value) - BigInt::from(modulus)
        } else {
            BigInt::from(value)
        }
    }

    /// Every coefficient of `a` (over `Q_l`, coefficient form, no special limbs) as its
    /// centered representative modulo `Q_l`, in f64 (see the module documentation).
    ///
    /// # Panics
    /// If `a` is in NTT form or has special limbs, or `out.len() != N`.
    pub fn coefficients_centered_f64(&self, a: &RnsPoly, out: &mut [f64]) {
        self.assert_fits(a);
        assert_eq!(
            a.form(),
            Form::Coefficient,
            "CRT needs coefficient form, got {}",
            a.shape()
        );
        assert!(
            !a.has_special(),
            "CRT decoding takes a polynomial over Q, got {}",
            a.shape()
        );
        let n = self.degree();
        assert_eq!(out.len(), n, "expected N outputs");
        let limbs = a.q_limbs();
        const CHUNK: usize = 256;
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, values)| {
                let width = values.len();
                let start = c * CHUNK;
                let mut rows = vec![0u64; limbs * width];
                for (i, row) in rows.chunks_exact_mut(width).enumerate() {
                    row.copy_from_slice(&a.limb(i)[start..start + width]);
                }
                self.crt.mixed_radix_rows(&mut rows, width);
                let mut digits = vec![0u64; limbs];
                for (offset, value) in values.iter_mut().enumerate() {
                    for (i, d) in digits.iter_mut().enumerate() {
                        *d = rows[i * width + offset];
                    }
                    *value = self.crt.centered_f64(&mut digits);
                }
            });
    }
}
