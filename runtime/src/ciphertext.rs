//! [`Ciphertext`]: a CKKS ciphertext `(c0, c1)` with `c0 + c1·s ≈ scale · m`, and
//! [`SeededCiphertext`], the compact form of a fresh secret-key encryption whose `c1` is
//! expanded from a 32-byte seed.

use crate::context::CkksContext;
use crate::keys::randomness::{domain, uniform_poly};
use crate::ring::RnsPoly;
use crate::sampling::Seed;
use fhec_params::Level;

/// A ciphertext of degree one, both parts in NTT form over q_0..q_level.
#[derive(Clone, Debug, PartialEq)]
pub struct Ciphertext {
    /// `c0 = −c1·s + scale·m + e`.
    pub c0: RnsPoly,
    /// `c1`.
    pub c1: RnsPoly,
    /// The scale Δ of the message.
    pub scale: f64,
    /// The number of slots n (a power of two ≤ N/2).
    pub slots: usize,
}

impl Ciphertext {
    /// The level (number of limbs − 1).
    pub fn level(&self) -> Level {
        self.c0.level()
    }

    /// Bytes of the ciphertext's polynomials (DESIGN §5: 2 · N · (level + 1) · 8).
    pub fn size_bytes(&self) -> usize {
        (self.c0.data().len() + self.c1.data().len()) * 8
    }
}

/// A fresh secret-key encryption stored as `c0` and the seed of `c1` (half the size).
#[derive(Clone, Debug, PartialEq)]
pub struct SeededCiphertext {
    /// `c0 = −c1·s + scale·m + e`, NTT form.
    pub c0: RnsPoly,
    /// The seed `c1` is expanded from.
    pub seed: Seed,
    /// The scale Δ of the message.
    pub scale: f64,
    /// The number of slots.
    pub slots: usize,
}

impl SeededCiphertext {
    /// Expands `c1` from the seed, giving an ordinary ciphertext.
    pub fn expand(&self, context: &CkksContext) -> Ciphertext {
        self.expand_in(context, domain::SEEDED_CIPHERTEXT)
    }

    /// Expands `c1` from the seed on stream domain `domain` (older files used another one).
    pub(crate) fn expand_in(&self, context: &CkksContext, domain: u32) -> Ciphertext {
        let c1 = uniform_poly(context, &self.seed, domain, self.c0.level(), false);
        Ciphertext {
            c0: self.c0.clone(),
            c1,
            scale: self.scale,
            slots: self.slots,
        }
    }
}
