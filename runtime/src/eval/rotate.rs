//! Slot rotations and conjugation, through the automorphisms σ_g (g = 5^k mod 2N rotates the
//! slots left by k, g = 2N − 1 conjugates them), followed by a key switch from σ_g(s) to s.
//!
//! Hoisting: the key switch of σ_g(c1) needs the decomposition of σ_g(c1), which equals σ_g
//! applied to the decomposition of c1 (σ_g permutes NTT slots identically in every limb). So
//! [`Evaluator::rotate_hoisted`] decomposes c1 once and, per rotation, only reads the digits
//! through the slot permutation inside the inner product, then applies ModDown. A single
//! rotation is the hoisted path with one element, so both give identical bits.
//!
//! Double hoisting (BMTH21; docs/plans/bootstrapping.md §2.3): [`ExtendedCiphertext`] keeps a
//! rotation's result over Q_l·P, multiplied by P, before its ModDown. Sums of such rotations
//! times plaintexts encoded over Q_l·P stay exact multiples of P plus small key-switching
//! noise, so a baby-step giant-step product pays one ModDown per giant step (of c1 only, to
//! decompose it) and one final division by P·q_l fused with the rescale, instead of two
//! ModDowns per rotation.
//!
//! The NTT-form slot permutation of each σ_g depends only on N and g; it is built once per
//! process and shared ([`cached_permutation`]), not rebuilt on every rotation.

use super::keyswitch::{Decomposition, check_key_level, inner_product, switch_decomposed};
use super::rescale_down::rescale_down;
use super::{EvalError, Evaluator, three_forms};
use crate::ciphertext::Ciphertext;
use crate::context::CkksContext;
use crate::keys::KeySwitchKey;
use crate::ring::{Form, GaloisPermutation, RingContext, RnsPoly, ShoupConstant};
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

/// A ciphertext over Q_l·P holding P times its value (plus key-switching noise): what a
/// rotation yields before its ModDown. Both parts are NTT form.
#[derive(Clone, Debug)]
pub struct ExtendedCiphertext {
    /// P·c0 + noise, over Q_l·P.
    pub c0: RnsPoly,
    /// P·c1 + noise, over Q_l·P.
    pub c1: RnsPoly,
}

/// `[P]_(q_t)` for every limb of Q_l (Shoup form).
fn special_product_mod_q(context: &CkksContext, q_limbs: usize) -> Vec<ShoupConstant> {
    let ring = context.ring();
    (0..q_limbs)
        .map(|t| {
            let m = ring.limb_prime(q_limbs, t).0;
            let product = context
                .params()
                .p_primes()
                .iter()
                .fold(1u64, |acc, &p| m.mul(acc, m.reduce_u64(p)));
            m.shoup(product)
        })
        .collect()
}

/// `out[Q limbs] += P · a[source[i]]` (the P limbs of P·a are zero).
fn add_scaled_by_p(
    context: &CkksContext,
    out: &mut RnsPoly,
    a: &RnsPoly,
    source: Option<&[u32]>,
    p_mod_q: &[ShoupConstant],
) {
    let ring = context.ring();
    let n = ring.degree();
    let q_limbs = a.q_limbs();
    out.data_mut()[..q_limbs * n]
        .par_chunks_mut(n)
        .zip(a.data().par_chunks(n))
        .enumerate()
        .for_each(|(t, (o, input))| {
            let m = ring.limb_prime(q_limbs, t).0;
            let factor = p_mod_q[t];
            match source {
                Some(source) => {
                    for (x, &src) in o.iter_mut().zip(source) {
                        *x = m.add(*x, m.mul_shoup(input[src as usize], factor));
                    }
                }
                None => {
                    for (x, &y) in o.iter_mut().zip(input) {
                        *x = m.add(*x, m.mul_shoup(y, factor));
                    }
                }
            }
        });
}

impl Evaluator<'_> {
    /// An all-zero [`ExtendedCiphertext`] at `a`'s level.
    pub fn extended_zero(&self, a: &Ciphertext) -> ExtendedCiphertext {
        let ring = self.context.ring();
        ExtendedCiphertext {
            c0: ring.zero(a.level(), true, Form::Ntt),
            c1: ring.zero(a.level(), true, Form::Ntt),
        }
    }

    /// The rotations of `a` by each of `steps` over Q_l·P, before their ModDowns, sharing one
    /// decomposition of c1 (rotation by 0 gives P·a). Errors as for [`Self::rotate`], checked
    /// for every step first.
    pub fn rotate_hoisted_extended(
        &self,
        a: &Ciphertext,
        steps: &[i64],
    ) -> Result<Vec<ExtendedCiphertext>, EvalError> {
        for &k in steps {
            self.check_rotate(a, k)?;
        }
        let context = self.context;
        let ring = context.ring();
        let p_mod_q = special_product_mod_q(context, a.c0.q_limbs());
        let elements: Vec<u64> = steps
            .iter()
            .map(|&k| ring.galois_element_for_rotation(k))
            .collect();
        let decomposition = elements
            .iter()
            .any(|&g| g != 1)
            .then(|| Decomposition::new(context, &a.c1));
        Ok(elements
            .iter()
            .map(|&g| match &decomposition {
                Some(decomposition) if g != 1 => {
                    let key = self
                        .galois_keys
                        .and_then(|keys| keys.get(g))
                        .expect("checked");
                    let permutation = cached_permutation(ring, g);
                    let source = permutation.source();
                    let [mut c0, c1] =
                        inner_product(context, decomposition, key, |i| source[i] as usize);
                    add_scaled_by_p(context, &mut c0, &a.c0, Some(source), &p_mod_q);
                    ExtendedCiphertext { c0, c1 }
                }
                _ => {
                    let mut out = self.extended_zero(a);
                    add_scaled_by_p(context, &mut out.c0, &a.c0, None, &p_mod_q);
                    add_scaled_by_p(context, &mut out.c1, &a.c1, None, &p_mod_q);
                    out
                }
            })
            .collect())
    }

    /// `sum += rot_steps(inner)` over Q_l·P, lazily: one ModDown (of c1, to decompose it) and
    /// the key's inner product; c0 is permuted as it is. `scale` and `slots` describe `inner`
    /// (for the key lookup's error message only the level matters).
    /// Errors as for [`Self::rotate`].
    pub fn rotate_extended_accumulate(
        &self,
        inner: &ExtendedCiphertext,
        like: &Ciphertext,
        steps: i64,
        sum: &mut ExtendedCiphertext,
    ) -> Result<(), EvalError> {
        self.check_rotate(like, steps)?;
        let context = self.context;
        let ring = context.ring();
        let g = ring.galois_element_for_rotation(steps);
        if g == 1 {
            ring.add_assign(&mut sum.c0, &inner.c0);
            ring.add_assign(&mut sum.c1, &inner.c1);
            return Ok(());
        }
        let key = self
            .galois_keys
            .and_then(|keys| keys.get(g))
            .expect("checked");
        let mut c1 = context.scratch_poly(like.level(), false, Form::Ntt);
        ring.mod_down(&inner.c1, &mut c1);
        let decomposition = Decomposition::new(context, &c1);
        let permutation = cached_permutation(ring, g);
        let source = permutation.source();
        let [s0, s1] = inner_product(context, &decomposition, key, |i| source[i] as usize);
        drop(decomposition);
        context.recycle(c1);
        let n = ring.degree();
        let q_limbs = sum.c0.q_limbs();
        sum.c0
            .data_mut()
            .par_chunks_mut(n)
            .zip(s0.data().par_chunks(n))
            .zip(inner.c0.data().par_chunks(n))
            .enumerate()
            .for_each(|(t, ((o, s), input))| {
                let m = ring.limb_prime(q_limbs, t).0;
                for ((x, &y), &src) in o.iter_mut().zip(s).zip(source) {
                    *x = m.add(*x, m.add(y, input[src as usize]));
                }
            });
        ring.add_assign(&mut sum.c1, &s1);
        context.recycle(s0);
        context.recycle(s1);
        Ok(())
    }

    /// `round(sum / (P·q_l))`: the ModDown of an [`ExtendedCiphertext`] fused with a rescale,
    /// giving a ciphertext at level l − 1 with scale `scale / q_l` (`scale` being the scale of
    /// the value `sum` holds P times). [`EvalError::RescaleAtLevelZero`] at level 0.
    pub fn rescale_extended(
        &self,
        sum: &ExtendedCiphertext,
        scale: f64,
        slots: usize,
    ) -> Result<Ciphertext, EvalError> {
        let level = sum.c0.level();
        if level.0 == 0 {
            return Err(EvalError::RescaleAtLevelZero);
        }
        let context = self.context;
        let zero = context.ring().zero(level, false, Form::Ntt);
        let mut c0 = context.scratch_poly(level, false, Form::Ntt);
        let mut c1 = context.scratch_poly(level, false, Form::Ntt);
        rescale_down(context, &sum.c0, &zero, &mut c0);
        rescale_down(context, &sum.c1, &zero, &mut c1);
        Ok(Ciphertext {
            c0,
            c1,
            scale: scale / context.q_prime(level) as f64,
            slots,
        })
    }
}
