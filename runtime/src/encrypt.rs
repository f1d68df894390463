//! Encryption with the public key or the secret key, and decryption.
//!
//! - Public key, at level l: with an ephemeral ternary `v` and Gaussian `e0, e1`, all over
//!   Q_l·P, `(c0, c1) = ModDown(v·pk + (e0, e1)) + (m, 0)` (the errors are added inside
//!   ModDown, in coefficient form, so only `v` needs an NTT over Q_l·P). Working over Q_l·P and dividing by
//!   P shrinks the encryption noise to the rounding error of ModDown, so a fresh public-key
//!   ciphertext is about as precise as a secret-key one.
//! - Secret key: `c1 = a` expanded from a fresh seed, `c0 = −a·s + e + m`; the result is a
//!   [`SeededCiphertext`] (the seed stands for `c1`).
//! - Decryption: `c0 + c1·s` over Q_l.

use crate::ciphertext::{Ciphertext, SeededCiphertext};
use crate::context::CkksContext;
use crate::encoding::{Plaintext, decoding_limbs};
use crate::keys::randomness::{domain, gaussian_poly, signed_ntt_poly, uniform_poly, wipe};
use crate::keys::{KeyError, PublicKey, SecretKey};
use crate::ring::{Form, Modulus, ShoupConstant};
use crate::sampling::SecureRng;
use fhec_params::Level;

/// Encrypts plaintexts, drawing its randomness from a CSPRNG.
pub struct Encryptor<'a> {
    context: &'a CkksContext,
    rng: SecureRng,
}

impl<'a> Encryptor<'a> {
    /// An encryptor seeded from operating-system entropy.
    pub fn new(context: &'a CkksContext) -> Result<Self, KeyError> {
        Ok(Self {
            context,
            rng: SecureRng::from_entropy()?,
        })
    }

    /// An encryptor with a caller-supplied CSPRNG (fixed seeds make tests reproducible).
    pub fn with_rng(context: &'a CkksContext, rng: SecureRng) -> Self {
        Self { context, rng }
    }

    /// Encrypts `plaintext` under the public key, at the plaintext's level and scale.
    ///
    /// The work happens over Q_l·p_0 (the key restricted to the ciphertext primes and the
    /// first special prime): only `v` is transformed on every prime, each product `v·pk` is
    /// brought back to coefficients on p_0 alone, and the Gaussian error, added there in
    /// coefficient form, is folded into the one forward NTT each ciphertext limb needs for the
    /// division by p_0.
    pub fn encrypt_pk(&mut self, key: &PublicKey, plaintext: &Plaintext) -> Ciphertext {
        let context = self.context;
        let ring = context.ring();
        let n = ring.degree();
        let level = plaintext.level();
        let q_limbs = level.limbs();
        // The key is over Q_L·P: its p_0 limb follows all L + 1 ciphertext limbs.
        let key_p0_limb = context.max_level().limbs();
        let p0 = &ring.p_basis().moduli()[0];
        let p0_ntt = &ring.p_basis().ntts()[0];
        let p0_inverse: Vec<ShoupConstant> = (0..q_limbs)
            .map(|j| {
                let m = ring.limb_prime(q_limbs, j).0;
                m.shoup(
                    m.inv(m.reduce_u64(p0.value()))
                        .expect("special and ciphertext primes are distinct"),
                )
            })
            .collect();

        let mut small = vec![0i64; n];
        self.rng.ternary(&mut small);
        let mut v_p0: Vec<u64> = small.iter().map(|&c| signed_residue(p0, c)).collect();
        p0_ntt.forward(&mut v_p0);
        // Wipes `small`, which is then reused for the errors.
        let mut v = signed_ntt_poly(context, &mut small, level, false);
        let mut top = vec![0u64; n];
        let parts = [key.b(), key.a()].map(|half| {
            // top = centered [v·half + e] mod p_0, in coefficients.
            top.fill(0);
            p0_ntt.mul_accumulate(&mut top, &v_p0, half.limb(key_p0_limb));
            p0_ntt.inverse(&mut top);
            self.rng.gaussian(&mut small);
            for (x, &e) in top.iter_mut().zip(&small) {
                *x = p0.add(*x, signed_residue(p0, e));
            }
            // Each ciphertext limb: (v·half + e − top) / p_0, exact division.
            let mut reduced = ring.zero(level, false, Form::Ntt);
            ring.for_each_limb(reduced.data_mut(), |j, limb| {
                let (m, ntt) = ring.limb_prime(q_limbs, j);
                for ((out, &x), &e) in limb.iter_mut().zip(&top).zip(&small) {
                    *out = m.sub(signed_residue(m, e), centered_residue(m, p0.value(), x));
                }
                ntt.forward(limb);
                ntt.mul_accumulate(limb, v.limb(j), half.limb(j));
                for out in limb.iter_mut() {
                    *out = m.mul_shoup(*out, p0_inverse[j]);
                }
            });
            reduced
        });
        // The ephemeral mask, its errors and the unreduced parts would reveal the message.
        wipe(&mut v);
        zeroize::Zeroize::zeroize(&mut v_p0);
        zeroize::Zeroize::zeroize(&mut top);
        zeroize::Zeroize::zeroize(&mut small);
        let [mut c0, c1] = parts;
        ring.add_assign(&mut c0, &plaintext.poly);
        Ciphertext {
            c0,
            c1,
            scale: plaintext.scale,
            slots: plaintext.slots,
        }
    }

    /// Encrypts `plaintext` under the secret key; `c1` is represented by its seed.
    pub fn encrypt_sk(&mut self, key: &SecretKey, plaintext: &Plaintext) -> SeededCiphertext {
        let context = self.context;
        let ring = context.ring();
        let level = plaintext.level();
        let seed = self.rng.seed();
        let a = uniform_poly(context, &seed, domain::SEEDED_CIPHERTEXT, level, false);
        let mut c0 = gaussian_poly(context, &mut self.rng, level, false);
        let mut product = ring.zero(level, false, Form::Ntt);
        ring.mul(&a, &key.at_level(level), &mut product);
        ring.sub_assign(&mut c0, &product);
        wipe(&mut product);
        ring.add_assign(&mut c0, &plaintext.poly);
        SeededCiphertext {
            c0,
            seed,
            scale: plaintext.scale,
            slots: plaintext.slots,
        }
    }
}

/// The residue mod `m` of a small signed value (|c| below every prime).
#[inline]
fn signed_residue(m: &Modulus, c: i64) -> u64 {
    debug_assert!(c.unsigned_abs() < m.value());
    let magnitude = c.unsigned_abs();
    if c < 0 {
        m.value() - magnitude
    } else {
        magnitude
    }
}

/// The residue mod `m` of the centered lift of `x mod p` (in (−p/2, p/2]).
#[inline]
fn centered_residue(m: &Modulus, p: u64, x: u64) -> u64 {
    if x > p / 2 {
        m.neg(m.reduce_u64(p - x))
    } else {
        m.reduce_u64(x)
    }
}

/// Decrypts `ciphertext` with `key`: the plaintext `c0 + c1·s`, in NTT form, over the first
/// [`decoding_limbs`] primes only (all a decoder needs; slot values up to ~2^60 are exact).
pub fn decrypt(context: &CkksContext, key: &SecretKey, ciphertext: &Ciphertext) -> Plaintext {
    let ring = context.ring();
    let limbs = decoding_limbs(context, ciphertext.scale, ciphertext.level());
    let level = Level(limbs - 1);
    let mut poly = ring.zero(level, false, Form::Ntt);
    ring.mul(
        &ciphertext.c1.q_prefix(limbs),
        &key.at_level(level),
        &mut poly,
    );
    ring.add_assign(&mut poly, &ciphertext.c0.q_prefix(limbs));
    Plaintext {
        poly,
        scale: ciphertext.scale,
        slots: ciphertext.slots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyGenerator;
    use fhec_params::{CkksParams, presets};

    /// The noise of a fresh public-key encryption is the rounding of the division by p_0
    /// (|r0 + r1·s|, a few units), not `v·e + e0` (hundreds at N = 2^10), at every level.
    #[test]
    fn public_key_noise_is_the_rounding_of_the_division() {
        let params = CkksParams::new(presets::test_insecure(10)).unwrap();
        let context = CkksContext::new(params).unwrap();
        let ring = context.ring();
        let mut generator =
            KeyGenerator::with_rng(&context, SecureRng::insecure_from_fixed_seed([3; 32]));
        let secret = generator.secret_key().unwrap();
        let public = generator.public_key(&secret);
        let mut encryptor =
            Encryptor::with_rng(&context, SecureRng::insecure_from_fixed_seed([4; 32]));
        for level in [context.max_level(), Level(0)] {
            let zero = Plaintext {
                poly: ring.zero(level, false, Form::Ntt),
                scale: 2f64.powi(40),
                slots: 1,
            };
            let ciphertext = encryptor.encrypt_pk(&public, &zero);
            let mut noise = decrypt(&context, &secret, &ciphertext).poly;
            ring.to_coefficient(&mut noise);
            let mut values = vec![0.0; ring.degree()];
            ring.coefficients_centered_f64(&noise, &mut values);
            let largest = values.iter().fold(0f64, |m, x| m.max(x.abs()));
            assert!(
                largest > 0.0 && largest < 64.0,
                "level {}: noise {largest}",
                level.0
            );
        }
    }
}
