//! Slot rotations and conjugation, through the automorphisms σ_g (g = 5^k mod 2N rotates the
//! slots left by k, g = 2N − 1 conjugates them), followed by a key switch from σ_g(s) to s.
//!
//! Hoisting: the key switch of σ_g(c1) needs the decomposition of σ_g(c1), which equals σ_g
//! applied to the decomposition of c1 (σ_g permutes NTT slots identically in every limb). So
//! [`Evaluator::rotate_hoisted`] decomposes c1 once and, per rotation, only reads the digits
//! through the slot permutation inside the inner product, then applies ModDown. A single
//! rotation is the hoisted path with one element, so both give identical bits.
//!
//! The NTT-form slot permutation of each σ_g depends only on N and g; it is built once per
//! process and shared ([`cached_permutation`]), not rebuilt on every rotation.

use super::keyswitch::{Decomposition, check_key_level, switch_decomposed};
use super::{EvalError, Evaluator, three_forms};
use crate::ciphertext::Ciphertext;
use crate::keys::KeySwitchKey;
use crate::ring::{Form, GaloisPermutation, RingContext};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// Permutations by (N, g), shared by every context of the process.
type PermutationCache = RwLock<HashMap<(usize, u64), Arc<GaloisPermutation>>>;

/// The NTT-form permutation of σ_g for `ring`, built on first use and cached for the process
/// (N·4 bytes per element: 256 KiB at N = 2^16).
pub(crate) fn cached_permutation(
    ring: &RingContext,
    galois_element: u64,
) -> Arc<GaloisPermutation> {
    static CACHE: OnceLock<PermutationCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (ring.degree(), galois_element);
    if let Some(found) = cache.read().ok().and_then(|map| map.get(&key).cloned()) {
        return found;
    }
    let built = Arc::new(ring.galois_permutation(galois_element));
    match cache.write() {
        Ok(mut map) => map.entry(key).or_insert(built).clone(),
        Err(_) => built,
    }
}

impl Evaluator<'_> {
    /// The Galois key of element `g`, checked against the ciphertext's level.
    fn galois_key(
        &self,
        a: &Ciphertext,
        galois_element: u64,
        what: impl FnOnce() -> String,
    ) -> Result<&KeySwitchKey, EvalError> {
        let key = self
            .galois_keys
            .and_then(|keys| keys.get(galois_element))
            .ok_or_else(|| EvalError::MissingGaloisKey {
                galois_element,
                what: what(),
            })?;
        check_key_level(key, a.level())?;
        Ok(key)
    }

    fn check_rotate(&self, a: &Ciphertext, steps: i64) -> Result<(), EvalError> {
        let g = self.context.ring().galois_element_for_rotation(steps);
        if g == 1 {
            return Ok(());
        }
        self.galois_key(a, g, || format!("rotation by {steps}"))
            .map(|_| ())
    }

    fn check_conjugate(&self, a: &Ciphertext) -> Result<(), EvalError> {
        let g = self.context.ring().galois_element_for_conjugation();
        self.galois_key(a, g, || "conjugation".into()).map(|_| ())
    }

    fn apply_rotate(&self, a: &mut Ciphertext, steps: i64) {
        let g = self.context.ring().galois_element_for_rotation(steps);
        if g != 1 {
            self.apply_galois(a, g);
        }
    }

    fn apply_conjugate(&self, a: &mut Ciphertext) {
        let g = self.context.ring().galois_element_for_conjugation();
        self.apply_galois(a, g);
    }

    /// Replaces `a` by σ_g(a) key-switched back to s (key presence checked by the caller).
    fn apply_galois(&self, a: &mut Ciphertext, galois_element: u64) {
        let decomposition = Decomposition::new(self.context, &a.c1);
        *a = self.galois_from_decomposition(a, &decomposition, galois_element);
    }

    /// σ_g(a) key-switched to s, from the decomposition of a's c1.
    fn galois_from_decomposition(
        &self,
        a: &Ciphertext,
        decomposition: &Decomposition<'_>,
        galois_element: u64,
    ) -> Ciphertext {
        let ring = self.context.ring();
        let key = self
            .galois_keys
            .and_then(|keys| keys.get(galois_element))
            .expect("checked");
        let permutation = cached_permutation(ring, galois_element);
        let source = permutation.source();
        let mut c0 = ring.zero(a.level(), false, Form::Ntt);
        let mut c1 = ring.zero(a.level(), false, Form::Ntt);
        let read = |i: usize| source[i] as usize;
        switch_decomposed(self.context, decomposition, key, read, &mut c0, &mut c1);
        // c0 += σ_g(a.c0), reading a.c0 through the permutation.
        let n = ring.degree();
        let q_limbs = c0.q_limbs();
        c0.data_mut()
            .par_chunks_mut(n)
            .zip(a.c0.data().par_chunks(n))
            .enumerate()
            .for_each(|(t, (out, input))| {
                let modulus = ring.limb_prime(q_limbs, t).0;
                for (x, &src) in out.iter_mut().zip(source) {
                    *x = modulus.add(*x, input[src as usize]);
                }
            });
        Ciphertext {
            c0,
            c1,
            scale: a.scale,
            slots: a.slots,
        }
    }

    three_forms! {
        /// Rotates the slots left by `steps` (negative: right). Requires the Galois key of
        /// 5^steps mod 2N ([`EvalError::MissingGaloisKey`]) serving this level
        /// ([`EvalError::KeyLevel`]). With sparse slots the rotation acts on the n packed
        /// slots (they are replicated across the N/2 ring slots).
        rotate, rotate_new, rotate_assign, (steps: i64), check_rotate, apply_rotate
    }

    three_forms! {
        /// Conjugates every slot. Requires the conjugation key
        /// ([`EvalError::MissingGaloisKey`]) serving this level ([`EvalError::KeyLevel`]).
        conjugate, conjugate_new, conjugate_assign, (), check_conjugate, apply_conjugate
    }

    /// Rotations of one ciphertext by each of `steps`, sharing one decomposition of c1: the
    /// first rotation costs as much as [`Self::rotate`], each further one only an inner
    /// product, two ModDowns and a permutation. Results are bit-for-bit those of
    /// [`Self::rotate`]. Errors as for [`Self::rotate`], checked for every step before any
    /// work is done.
    pub fn rotate_hoisted(
        &self,
        a: &Ciphertext,
        steps: &[i64],
    ) -> Result<Vec<Ciphertext>, EvalError> {
        for &k in steps {
            self.check_rotate(a, k)?;
        }
        let decomposition = Decomposition::new(self.context, &a.c1);
        let ring = self.context.ring();
        Ok(steps
            .iter()
            .map(|&k| {
                let g = ring.galois_element_for_rotation(k);
                if g == 1 {
                    a.clone()
                } else {
                    self.galois_from_decomposition(a, &decomposition, g)
                }
            })
            .collect())
    }
}
