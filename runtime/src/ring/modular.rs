//! Arithmetic modulo a word-sized prime `q < 2^62`, without division in the hot paths.
//!
//! - [`Modulus::mul`] reduces a 128-bit product with Barrett's method (one 64×64 multiply and
//!   two conditional subtractions, valid for products of residues);
//! - [`Modulus::reduce_u128`] reduces any 128-bit value (lazy sums of products, as in base
//!   conversion) with a two-word Barrett constant;
//! - [`ShoupConstant`] precomputes `⌊w·2^64/q⌋` for a fixed multiplier `w`, so that `x·w mod q`
//!   costs two multiplications ([`Modulus::mul_shoup`]);
//! - add, sub and neg use comparisons only.
//!
//! Every function returns a fully reduced residue in `[0, q)` given reduced inputs.

use super::RingError;

/// Largest supported modulus size in bits: sums of three residues must stay below 2^64 and the
/// two-word Barrett estimate is off by at most two multiples of q.
pub const MAX_MODULUS_BITS: u32 = 62;

/// A prime modulus with its precomputed reduction constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modulus {
    value: u64,
    /// Bit length `s` of q (2^(s-1) ≤ q < 2^s).
    bits: u32,
    /// ⌊2^(2s) / q⌋ for reducing products of residues.
    barrett: u64,
    /// ⌊2^128 / q⌋ as (high, low) words, for reducing any 128-bit value.
    ratio_hi: u64,
    ratio_lo: u64,
}

/// A multiplier `w < q` with its Shoup quotient `⌊w·2^64/q⌋`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ShoupConstant {
    /// The multiplier itself, reduced modulo q.
    pub value: u64,
    /// ⌊value·2^64/q⌋.
    pub quotient: u64,
}

impl Modulus {
    /// Prepares reduction constants for `q`. Refuses q < 2 or q ≥ 2^62 (primality is the
    /// caller's: parameters come from `fhec-params`, which only yields primes).
    pub fn new(q: u64) -> Result<Modulus, RingError> {
        if !(2..1u64 << MAX_MODULUS_BITS).contains(&q) {
            return Err(RingError::ModulusOutOfRange { modulus: q });
        }
        let bits = 64 - q.leading_zeros();
        let barrett = ((1u128 << (2 * bits)) / q as u128) as u64;
        // ⌊2^128/q⌋ = ⌊(2^128 - 1)/q⌋ since q is not a power of two above 2 (q = 2 divides
        // exactly: handled by the +1 correction below).
        let mut ratio = u128::MAX / q as u128;
        if (u128::MAX % q as u128) == q as u128 - 1 {
            ratio += 1;
        }
        Ok(Modulus {
            value: q,
            bits,
            barrett,
            ratio_hi: (ratio >> 64) as u64,
            ratio_lo: ratio as u64,
        })
    }

    /// The modulus q.
    #[inline]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Bit length of q.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    #[inline]
    fn conditional_subtract(&self, x: u64) -> u64 {
        x.min(x.wrapping_sub(self.value))
    }

    /// `x mod q` for `x < 2q` (one conditional subtraction).
    #[inline]
    pub fn reduce_once(&self, x: u64) -> u64 {
        debug_assert!(x < 2 * self.value);
        self.conditional_subtract(x)
    }

    /// `a + b mod q` for reduced a, b.
    #[inline]
    pub fn add(&self, a: u64, b: u64) -> u64 {
        self.conditional_subtract(a + b)
    }

    /// `a - b mod q` for reduced a, b.
    #[inline]
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        let d = a.wrapping_sub(b);
        d.min(d.wrapping_add(self.value))
    }

    /// `-a mod q` for reduced a.
    #[inline]
    pub fn neg(&self, a: u64) -> u64 {
        self.conditional_subtract(self.value - a)
    }

    /// Reduces a product of two residues, `x < q²` (Barrett with a one-word constant).
    #[inline]
    pub fn reduce_product(&self, x: u128) -> u64 {
        debug_assert!(x < (self.value as u128) * (self.value as u128));
        let s = self.bits;
        let estimate = (((x >> (s - 1)) as u64 as u128 * self.barrett as u128) >> (s + 1)) as u64;
        let r = (x as u64).wrapping_sub(estimate.wrapping_mul(self.value));
        self.conditional_subtract(self.conditional_subtract(r))
    }

    /// `a · b mod q` for reduced a, b.
    #[inline]
    pub fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_product(a as u128 * b as u128)
    }

    /// Reduces any 128-bit value (e.g. a lazy sum of up to 64 products of residues).
    #[inline]
    pub fn reduce_u128(&self, x: u128) -> u64 {
        let (x_hi, x_lo) = ((x >> 64) as u64, x as u64);
        // Top word of x · ratio / 2^128, omitting only the low×low carry.
        let lo_hi =
            (x_lo as u128 * self.ratio_hi as u128) + ((x_lo as u128 * self.ratio_lo as u128) >> 64);
        let hi_lo = x_hi as u128 * self.ratio_lo as u128 + (lo_hi as u64) as u128;
        let carry = (lo_hi >> 64) + (hi_lo >> 64);
        let estimate = x_hi.wrapping_mul(self.ratio_hi).wrapping_add(carry as u64);
        let r = x_lo.wrapping_sub(estimate.wrapping_mul(self.value));
        self.conditional_subtract(self.conditional_subtract(r))
    }

    /// Reduces any 64-bit value.
    #[inline]
    pub fn reduce_u64(&self, x: u64) -> u64 {
        self.reduce_u128(x as u128)
    }

    /// Precomputes the Shoup quotient of the multiplier `w` (reduced modulo q first).
    pub fn shoup(&self, w: u64) -> ShoupConstant {
        let value = self.reduce_u64(w);
        ShoupConstant {
            value,
            quotient: (((value as u128) << 64) / self.value as u128) as u64,
        }
    }

    /// `x · w mod q` for any `x < 2^64` and a precomputed [`ShoupConstant`] of `w`.
    #[inline]
    pub fn mul_shoup(&self, x: u64, w: ShoupConstant) -> u64 {
        let estimate = ((x as u128 * w.quotient as u128) >> 64) as u64;
        let r = x
            .wrapping_mul(w.value)
            .wrapping_sub(estimate.wrapping_mul(self.value));
        self.conditional_subtract(r)
    }

    /// `base^exp mod q`.
    pub fn pow(&self, base: u64, mut exp: u64) -> u64 {
        let mut base = self.reduce_u64(base);
        let mut acc = self.reduce_u64(1);
        while exp > 0 {
            if exp & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            exp >>= 1;
        }
        acc
    }

    /// The inverse of `a` modulo the prime q, or `None` when `a ≡ 0`.
    pub fn inv(&self, a: u64) -> Option<u64> {
        let a = self.reduce_u64(a);
        (a != 0).then(|| self.pow(a, self.value - 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PRIMES: [u64; 5] = [
        4611686018427365377, // 62 bits, the largest below 2^62 that is 1 mod 2^11
        1152921504606584833, // 60 bits
        1125899903827969,    // 50 bits
        12289,               // 14 bits
        3,
    ];

    fn reference_mul(a: u64, b: u64, q: u64) -> u64 {
        ((a as u128 * b as u128) % q as u128) as u64
    }

    proptest! {
        #[test]
        fn arithmetic_matches_u128_reference(a in any::<u64>(), b in any::<u64>(), x in any::<u128>(), idx in 0usize..PRIMES.len()) {
            let q = PRIMES[idx];
            let m = Modulus::new(q).unwrap();
            let (a, b) = (a % q, b % q);
            prop_assert_eq!(m.add(a, b), ((a as u128 + b as u128) % q as u128) as u64);
            prop_assert_eq!(m.sub(a, b), ((a as u128 + q as u128 - b as u128) % q as u128) as u64);
            prop_assert_eq!(m.neg(a), (q - a) % q);
            prop_assert_eq!(m.mul(a, b), reference_mul(a, b, q));
            prop_assert_eq!(m.reduce_u128(x), (x % q as u128) as u64);
            prop_assert_eq!(m.reduce_u64(x as u64), (x as u64) % q);
            prop_assert_eq!(m.reduce_once(a + b), (a + b) % q);
            let w = m.shoup(b);
            prop_assert_eq!(m.mul_shoup(x as u64, w), reference_mul((x as u64) % q, b, q));
        }
    }

    #[test]
    fn test_primes_are_prime() {
        for q in PRIMES {
            assert!(fhec_params::primes::is_prime(q), "{q}");
        }
        assert_eq!(
            fhec_params::primes::largest_ntt_prime(62, 10, &[]),
            Some(PRIMES[0])
        );
    }

    #[test]
    fn reductions_hold_at_the_extremes() {
        for q in PRIMES {
            let m = Modulus::new(q).unwrap();
            let top = q - 1;
            assert_eq!(m.mul(top, top), 1 % q, "q = {q}");
            assert_eq!(m.reduce_u128(u128::MAX), (u128::MAX % q as u128) as u64);
            assert_eq!(
                m.reduce_u128(q as u128 * q as u128 - 1),
                (((q as u128) * q as u128 - 1) % q as u128) as u64
            );
            assert_eq!(
                m.mul_shoup(u64::MAX, m.shoup(top)),
                reference_mul(u64::MAX % q, top, q)
            );
        }
    }

    #[test]
    fn inverse_and_power() {
        for q in PRIMES {
            let m = Modulus::new(q).unwrap();
            for a in [1, 2, q - 1, q / 3 + 1] {
                let inv = m.inv(a).unwrap();
                assert_eq!(m.mul(a % q, inv), 1 % q, "a = {a}, q = {q}");
            }
            assert_eq!(m.inv(0), None);
            assert_eq!(m.inv(q), None);
            assert_eq!(m.pow(2, 10), 1024 % q);
            assert_eq!(m.pow(5, q - 1), 1); // Fermat
        }
    }

    #[test]
    fn refuses_moduli_out_of_range() {
        assert!(Modulus::new(0).is_err());
        assert!(Modulus::new(1).is_err());
        assert!(Modulus::new(1 << 62).is_err());
        assert!(Modulus::new((1 << 62) - 57).is_ok());
    }
}
