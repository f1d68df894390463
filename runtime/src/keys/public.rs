//! [`PublicKey`]: an encryption of zero under s over the whole chain Q_L·P,
//! `(b, a) = (−a·s + e, a)` with `a` expanded from a seed. Keeping the special primes lets
//! public-key encryption divide its noise by P (see `encrypt.rs`).

use super::KeyError;
use super::randomness::{domain, gaussian_poly, uniform_poly, wipe};
use super::secret::SecretKey;
use crate::context::CkksContext;
use crate::ring::{Form, RnsPoly};
use crate::sampling::{SecureRng, Seed};

/// The public encryption key, NTT form over q_0..q_L and P.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicKey {
    seed: Seed,
    b: RnsPoly,
    a: RnsPoly,
}

impl PublicKey {
    /// Generates the public key of `secret`.
    pub fn generate(context: &CkksContext, rng: &mut SecureRng, secret: &SecretKey) -> Self {
        let ring = context.ring();
        let level = context.max_level();
        let seed = rng.seed();
        let a = uniform_poly(context, &seed, domain::PUBLIC_KEY, level, true);
        let mut b = gaussian_poly(context, rng, level, true);
        let mut product = ring.zero(level, true, Form::Ntt);
        ring.mul(&a, secret.full(), &mut product);
        ring.sub_assign(&mut b, &product);
        wipe(&mut product);
        Self { seed, b, a }
    }

    /// Rebuilds the key from its seed-compressed form (seed and `b`).
    ///
    /// Errors: [`KeyError::KeyShape`] if `b` is not an NTT polynomial over Q_L·P.
    pub fn from_compressed(
        context: &CkksContext,
        seed: Seed,
        b: RnsPoly,
    ) -> Result<Self, KeyError> {
        let level = context.max_level();
        let expected = context.ring().zero(level, true, Form::Ntt);
        if !b.same_shape(&expected) {
            return Err(KeyError::KeyShape {
                expected: expected.shape(),
                found: b.shape(),
            });
        }
        let a = uniform_poly(context, &seed, domain::PUBLIC_KEY, level, true);
        Ok(Self { seed, b, a })
    }

    /// The seed-compressed form: the seed and `b`.
    pub fn compressed(&self) -> (&Seed, &RnsPoly) {
        (&self.seed, &self.b)
    }

    /// `b = −a·s + e`.
    pub(crate) fn b(&self) -> &RnsPoly {
        &self.b
    }

    /// `a`.
    pub(crate) fn a(&self) -> &RnsPoly {
        &self.a
    }
}
