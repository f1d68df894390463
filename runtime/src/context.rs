//! [`CkksContext`]: everything one parameter set needs, built once and shared by the encoder,
//! the key generator, the encryptor and the evaluator (the validated parameters, the ring
//! with its NTT and RNS tables, and the special-FFT tables of the encoding).

use crate::encoding::SpecialFft;
use crate::ring::{RingContext, RingError};
use fhec_params::{CkksParams, Level};

/// The precomputed state of one CKKS parameter set.
#[derive(Debug)]
pub struct CkksContext {
    params: CkksParams,
    ring: RingContext,
    fft: SpecialFft,
}

impl CkksContext {
    /// Builds the ring and encoding tables of validated parameters.
    pub fn new(params: CkksParams) -> Result<Self, RingError> {
        let ring = RingContext::new(&params)?;
        let fft = SpecialFft::new(params.degree());
        Ok(Self { params, ring, fft })
    }

    /// The parameters.
    pub fn params(&self) -> &CkksParams {
        &self.params
    }

    /// The ring (NTT, RNS bases, key-switching tools).
    pub fn ring(&self) -> &RingContext {
        &self.ring
    }

    /// The special-FFT tables of the canonical embedding.
    pub fn fft(&self) -> &SpecialFft {
        &self.fft
    }

    /// The highest ciphertext level L.
    pub fn max_level(&self) -> Level {
        self.params.max_level()
    }

    /// The default scale 2^log_scale of the parameters.
    pub fn default_scale(&self) -> f64 {
        2f64.powi(self.params.log_scale() as i32)
    }

    /// The ciphertext prime q_level (the one a rescale at `level` divides by).
    pub fn q_prime(&self, level: Level) -> u64 {
        self.params.q_primes()[level.0]
    }
}
