//! Encryption with the public key or the secret key, and decryption.
//!
//! - Public key, at level l: with an ephemeral ternary `v` and Gaussian `e0, e1`, all over
//!   Q_l·P, `(c0, c1) = ModDown(v·pk + (e0, e1)) + (m, 0)`. Working over Q_l·P and dividing by
//!   P shrinks the encryption noise to the rounding error of ModDown, so a fresh public-key
//!   ciphertext is about as precise as a secret-key one.
//! - Secret key: `c1 = a` expanded from a fresh seed, `c0 = −a·s + e + m`; the result is a
//!   [`SeededCiphertext`] (the seed stands for `c1`).
//! - Decryption: `c0 + c1·s` over Q_l.

use crate::ciphertext::{Ciphertext, SEEDED_DOMAIN, SeededCiphertext};
use crate::context::CkksContext;
use crate::encoding::{Plaintext, decoding_limbs};
use crate::keys::randomness::{gaussian_poly, ternary_poly, uniform_poly, wipe};
use crate::keys::switching_restrict as restrict_to_level;
use crate::keys::{KeyError, PublicKey, SecretKey};
use crate::ring::Form;
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
    pub fn encrypt_pk(&mut self, key: &PublicKey, plaintext: &Plaintext) -> Ciphertext {
        let context = self.context;
        let ring = context.ring();
        let level = plaintext.level();
        let mut v = ternary_poly(context, &mut self.rng, level, true);
        let mut parts = [key.b(), key.a()].map(|half| {
            // The key covers every level; below the top only its first limbs take part.
            let restricted;
            let half = if level == context.max_level() {
                half
            } else {
                restricted = restrict_to_level(context, half, level);
                &restricted
            };
            let mut masked = gaussian_poly(context, &mut self.rng, level, true);
            let mut product = ring.zero(level, true, Form::Ntt);
            ring.mul(&v, half, &mut product);
            ring.add_assign(&mut masked, &product);
            wipe(&mut product);
            let mut reduced = ring.zero(level, false, Form::Ntt);
            ring.mod_down(&masked, &mut reduced);
            wipe(&mut masked);
            reduced
        });
        // The ephemeral mask and the unreduced parts would reveal the message.
        wipe(&mut v);
        ring.add_assign(&mut parts[0], &plaintext.poly);
        let [c0, c1] = parts;
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
        let a = uniform_poly(context, &seed, SEEDED_DOMAIN, level, false);
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
