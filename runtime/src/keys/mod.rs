//! CKKS keys: the secret key, the public key, and the hybrid key-switching keys built on one
//! mechanism ([`KeySwitchKey`]): relinearisation (s² → s) and Galois keys (σ_g(s) → s) for
//! rotations and conjugation. [`KeyGenerator`] makes all of them from one secret.

mod galois;
mod public;
pub(crate) mod randomness;
mod secret;
pub mod switch_between;
mod switching;

pub use galois::GaloisKeys;
pub use public::PublicKey;
pub use secret::SecretKey;
pub use switching::KeySwitchKey;

use crate::context::CkksContext;
use crate::ring::Form;
use crate::sampling::{SamplingError, SecureRng};
use fhec_params::Level;
use randomness::wipe;
use thiserror::Error;

/// Why a key could not be made or rebuilt.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum KeyError {
    /// A level above the parameters' (or the key's) highest level.
    #[error("level {level} exceeds the highest level {max}")]
    Level {
        /// The requested level.
        level: usize,
        /// The highest level available.
        max: usize,
    },
    /// Secret coefficients of the wrong count or outside {−1, 0, 1}.
    #[error("a secret key needs {degree} coefficients in {{-1, 0, 1}}")]
    SecretShape {
        /// N.
        degree: usize,
    },
    /// Key polynomials of the wrong number or shape for the parameters.
    #[error("key has {found}, expected {expected}")]
    KeyShape {
        /// What the parameters call for.
        expected: String,
        /// What was given.
        found: String,
    },
    /// The secret distribution could not be sampled.
    #[error("{0}")]
    Sampling(String),
}

impl From<SamplingError> for KeyError {
    fn from(err: SamplingError) -> Self {
        KeyError::Sampling(err.to_string())
    }
}

/// The relinearisation key: switches s² to s after a ciphertext product.
#[derive(Clone, Debug, PartialEq)]
pub struct RelinearizationKey(pub KeySwitchKey);

/// Makes every key of one secret, drawing all randomness from one CSPRNG.
pub struct KeyGenerator<'a> {
    context: &'a CkksContext,
    rng: SecureRng,
}

impl<'a> KeyGenerator<'a> {
    /// A generator seeded from operating-system entropy.
    pub fn new(context: &'a CkksContext) -> Result<Self, KeyError> {
        Ok(Self {
            context,
            rng: SecureRng::from_entropy()?,
        })
    }

    /// A generator with a caller-supplied CSPRNG (fixed seeds make tests reproducible).
    pub fn with_rng(context: &'a CkksContext, rng: SecureRng) -> Self {
        Self { context, rng }
    }

    /// A fresh secret key.
    pub fn secret_key(&mut self) -> Result<SecretKey, KeyError> {
        SecretKey::generate(self.context, &mut self.rng)
    }

    /// The public key of `secret`.
    pub fn public_key(&mut self, secret: &SecretKey) -> PublicKey {
        PublicKey::generate(self.context, &mut self.rng, secret)
    }

    /// The relinearisation key of `secret`, for ciphertexts up to `level`.
    ///
    /// Errors: [`KeyError::Level`] for a level above L.
    pub fn relinearization_key(
        &mut self,
        secret: &SecretKey,
        level: Level,
    ) -> Result<RelinearizationKey, KeyError> {
        let ring = self.context.ring();
        let full = secret.full();
        let mut square = ring.zero(self.context.max_level(), true, Form::Ntt);
        ring.mul(full, full, &mut square);
        let key = KeySwitchKey::generate(self.context, &mut self.rng, secret, &square, level);
        wipe(&mut square);
        Ok(RelinearizationKey(key?))
    }

    /// The key of Galois element `g` (odd, below 2N) for ciphertexts up to `level`.
    ///
    /// Errors: [`KeyError::Level`] for a level above L.
    pub fn galois_key(
        &mut self,
        secret: &SecretKey,
        galois_element: u64,
        level: Level,
    ) -> Result<KeySwitchKey, KeyError> {
        let ring = self.context.ring();
        let mut image = ring.zero(self.context.max_level(), true, Form::Ntt);
        ring.automorphism(secret.full(), galois_element, &mut image);
        let key = KeySwitchKey::generate(self.context, &mut self.rng, secret, &image, level);
        wipe(&mut image);
        key
    }

    /// Galois keys for the rotations by each of `steps` (and conjugation if `conjugation`),
    /// for ciphertexts up to `level`.
    ///
    /// Errors: [`KeyError::Level`] for a level above L.
    pub fn galois_keys(
        &mut self,
        secret: &SecretKey,
        steps: &[i64],
        conjugation: bool,
        level: Level,
    ) -> Result<GaloisKeys, KeyError> {
        let ring = self.context.ring();
        let mut elements: Vec<u64> = steps
            .iter()
            .map(|&k| ring.galois_element_for_rotation(k))
            .collect();
        if conjugation {
            elements.push(ring.galois_element_for_conjugation());
        }
        let mut keys = GaloisKeys::default();
        for g in elements {
            if keys.get(g).is_none() {
                let key = self.galois_key(secret, g, level)?;
                keys.insert(g, key);
            }
        }
        Ok(keys)
    }

    /// The generator's CSPRNG (for encryption with the same source of randomness).
    pub fn rng(&mut self) -> &mut SecureRng {
        &mut self.rng
    }
}
