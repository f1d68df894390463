//! [`CkksContext`]: everything one parameter set needs, built once and shared by the encoder,
//! the key generator, the encryptor and the evaluator (the validated parameters, the ring
//! with its NTT and RNS tables, and the special-FFT tables of the encoding).

use crate::encoding::SpecialFft;
use crate::eval::RescaleDownTables;
use crate::ring::{Form, RingContext, RingError, RnsPoly};
use fhec_params::{CkksParams, Level};
use std::sync::Mutex;

/// Most polynomials kept for reuse per pool (a key switch with dnum ≤ 4 needs at most this
/// many).
const SCRATCH_CAPACITY: usize = 8;

/// The precomputed state of one CKKS parameter set.
#[derive(Debug)]
pub struct CkksContext {
    params: CkksParams,
    ring: RingContext,
    fft: SpecialFft,
    /// Temporaries recycled between operations: reusing their memory avoids faulting in and
    /// zeroing fresh pages for every key switch (tens of MB at N = 2^16). One pool per rayon
    /// worker (and one for every other thread), so operations on independent ciphertexts in
    /// parallel neither wait for one lock nor take each other's buffers.
    scratch: Box<[Mutex<Vec<RnsPoly>>]>,
    /// Per level, the tables of ModDown fused with rescaling.
    rescale_down: Vec<Option<RescaleDownTables>>,
}

impl CkksContext {
    /// Builds the ring and encoding tables of validated parameters.
    pub fn new(params: CkksParams) -> Result<Self, RingError> {
        let ring = RingContext::new(&params)?;
        let fft = SpecialFft::new(params.degree());
        let rescale_down = RescaleDownTables::all(ring.q_basis().moduli(), ring.p_basis().moduli());
        Ok(Self {
            params,
            ring,
            fft,
            scratch: (0..=rayon::current_num_threads())
                .map(|_| Mutex::new(Vec::new()))
                .collect(),
            rescale_down,
        })
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

    /// The fused ModDown-and-rescale tables of `level` (≥ 1).
    ///
    /// # Panics
    /// At level 0 or above L (callers check the level first).
    pub(crate) fn rescale_down_tables(&self, level: Level) -> &RescaleDownTables {
        self.rescale_down[level.0]
            .as_ref()
            .expect("rescale needs level >= 1")
    }

    /// A temporary polynomial of the given shape with **unspecified contents** (the caller
    /// overwrites every limb), recycled from earlier operations when possible.
    pub(crate) fn scratch_poly(&self, level: Level, with_special: bool, form: Form) -> RnsPoly {
        let recycled = self
            .scratch_pool()
            .lock()
            .map(|mut pool| pool.pop())
            .unwrap_or(None);
        match recycled {
            Some(mut poly) => {
                let p_limbs = if with_special {
                    self.ring.p_basis().len()
                } else {
                    0
                };
                poly.reshape(self.ring.degree(), level.limbs(), p_limbs, form);
                poly
            }
            None => self.ring.zero(level, with_special, form),
        }
    }

    /// Returns a temporary to the pool (its contents are not secret: ciphertext data only).
    pub(crate) fn recycle(&self, poly: RnsPoly) {
        if let Ok(mut pool) = self.scratch_pool().lock()
            && pool.len() < SCRATCH_CAPACITY
        {
            pool.push(poly);
        }
    }

    /// The calling thread's pool: pool i + 1 for rayon worker i, pool 0 for threads outside
    /// rayon (wrapping around if a larger thread pool runs the operation).
    fn scratch_pool(&self) -> &Mutex<Vec<RnsPoly>> {
        let index = rayon::current_thread_index().map_or(0, |worker| worker + 1);
        &self.scratch[index % self.scratch.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhec_params::presets;

    /// Two rayon workers do not share scratch buffers: what one recycles it gets back, the
    /// other allocates its own.
    #[test]
    fn each_worker_has_its_own_scratch_pool() {
        let params = CkksParams::new(presets::test_insecure(10)).unwrap();
        let context = CkksContext::new(params).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let take_and_recycle = |worker: usize| {
            let addresses = pool.broadcast(|ctx| {
                (ctx.index() == worker).then(|| {
                    let poly = context.scratch_poly(Level(0), false, Form::Ntt);
                    let address = poly.data().as_ptr() as usize;
                    context.recycle(poly);
                    address
                })
            });
            addresses.into_iter().flatten().next().unwrap()
        };
        let first = take_and_recycle(0);
        assert_eq!(take_and_recycle(0), first, "a worker reuses its own buffer");
        assert_ne!(
            take_and_recycle(1),
            first,
            "another worker has its own pool"
        );
    }
}
