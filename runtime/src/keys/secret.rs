//! [`SecretKey`]: the ternary secret s, kept as its signed coefficients and as NTT evaluations
//! over the whole chain Q_L·P. Zeroized on drop; its `Debug` form prints nothing secret.

use super::KeyError;
use super::randomness::{signed_ntt_poly, wipe};
use crate::context::CkksContext;
use crate::ring::RnsPoly;
use crate::sampling::SecureRng;
use fhec_params::{Level, SecretDistribution};
use std::fmt;

/// The secret key s (coefficients in {−1, 0, 1}).
pub struct SecretKey {
    coefficients: Vec<i64>,
    /// s in NTT form over q_0..q_L and P.
    full: RnsPoly,
}

impl SecretKey {
    /// Samples a fresh secret of the parameters' distribution (dense ternary, or fixed
    /// Hamming weight).
    pub fn generate(context: &CkksContext, rng: &mut SecureRng) -> Result<Self, KeyError> {
        let mut coefficients = vec![0i64; context.ring().degree()];
        match context.params().secret() {
            SecretDistribution::Ternary => rng.ternary(&mut coefficients),
            SecretDistribution::FixedHammingWeight { hamming_weight } => {
                rng.ternary_with_weight(&mut coefficients, hamming_weight)?
            }
        }
        Self::from_coefficients(context, coefficients)
    }

    /// Rebuilds a secret key from its coefficients (e.g. read from a key file).
    ///
    /// Errors: [`KeyError::SecretShape`] unless there are N coefficients, all in {−1, 0, 1}.
    pub fn from_coefficients(
        context: &CkksContext,
        coefficients: Vec<i64>,
    ) -> Result<Self, KeyError> {
        let degree = context.ring().degree();
        if coefficients.len() != degree || coefficients.iter().any(|c| c.abs() > 1) {
            let mut coefficients = coefficients;
            zeroize::Zeroize::zeroize(&mut coefficients);
            return Err(KeyError::SecretShape { degree });
        }
        let mut scratch = coefficients.clone();
        let full = signed_ntt_poly(context, &mut scratch, context.max_level(), true);
        Ok(Self { coefficients, full })
    }

    /// The signed coefficients of s, for serialization only.
    pub fn coefficients(&self) -> &[i64] {
        &self.coefficients
    }

    /// s in NTT form over q_0..q_L and P.
    pub(crate) fn full(&self) -> &RnsPoly {
        &self.full
    }

    /// s in NTT form over q_0..q_level (no special limbs), wiped when dropped.
    pub(crate) fn at_level(&self, level: Level) -> SecretPoly {
        SecretPoly(self.full.q_prefix(level.limbs()))
    }
}

/// A copy of secret data in RNS form (a restriction of s), overwritten with zeros on drop.
pub(crate) struct SecretPoly(pub(crate) RnsPoly);

impl std::ops::Deref for SecretPoly {
    type Target = RnsPoly;
    fn deref(&self) -> &RnsPoly {
        &self.0
    }
}

impl Drop for SecretPoly {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.coefficients);
        wipe(&mut self.full);
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}
