//! Rescaling: division by the last ciphertext prime with rounding, `x ↦ round(x / q_l)`,
//! which drops one limb. Exact (no fast-conversion error): the remainder modulo `q_l` is known
//! exactly, taken centered in `[−⌊q_l/2⌋, ⌈q_l/2⌉)` so the quotient rounds to nearest.

use super::RingContext;
use super::poly::{Form, RnsPoly};
use rayon::prelude::*;

impl RingContext {
    /// `a = round(a / q_l)` over `Q_{l−1}`, in `a`'s form, for `a` over `Q_l` (no special limbs).
    ///
    /// # Panics
    /// If `a` is at level 0 or has special limbs.
    pub fn rescale_assign(&self, a: &mut RnsPoly) {
        self.assert_fits(a);
        assert!(
            !a.has_special(),
            "rescale takes a polynomial over Q, got {}",
            a.shape()
        );
        let level = a.level().0;
        assert!(level >= 1, "cannot rescale at level 0: {}", a.shape());
        let n = self.degree();
        let form = a.form();
        let (last_modulus, last_ntt) = self.limb_prime(a.q_limbs(), level);
        let mut last = a.limb(level).to_vec();
        if form == Form::Ntt {
            last_ntt.inverse(&mut last);
        }
        // w = remainder + h, with the centered remainder in [−h, q_l − h).
        let half = (last_modulus.value() - 1) / 2;
        last.iter_mut()
            .for_each(|x| *x = last_modulus.add(*x, half));

        a.drop_last_q_limbs(1);
        let inverses = &self.rescale_inverses[level];
        // One scratch limb per remaining prime, allocated once per call.
        let mut remainders = vec![0u64; level * n];
        let run = |(i, (limb, remainder)): (usize, (&mut [u64], &mut [u64]))| {
            let (m, ntt) = self.limb_prime(level, i);
            let half_mod = m.reduce_u64(half);
            if last_modulus.value() < 2 * m.value() {
                // w < q_l < 2·q_i: one conditional subtraction reduces it (the usual case:
                // chain primes are of similar size).
                for (r, &w) in remainder.iter_mut().zip(&last) {
                    *r = m.sub(m.reduce_once(w), half_mod);
                }
            } else {
                for (r, &w) in remainder.iter_mut().zip(&last) {
                    *r = m.sub(m.reduce_u64(w), half_mod);
                }
            }
            if form == Form::Ntt {
                ntt.forward(remainder);
            }
            for (x, &r) in limb.iter_mut().zip(remainder.iter()) {
                *x = m.mul_shoup(m.sub(*x, r), inverses[i]);
            }
        };
        if n >= super::context::PARALLEL_MIN_DEGREE {
            a.data_mut()
                .par_chunks_mut(n)
                .zip(remainders.par_chunks_mut(n))
                .enumerate()
                .for_each(run);
        } else {
            a.data_mut()
                .chunks_mut(n)
                .zip(remainders.chunks_mut(n))
                .enumerate()
                .for_each(run);
        }
    }
}
