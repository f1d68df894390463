//! ModDown fused with rescaling: divide a polynomial over `Q_l·P` by `P·q_l` with rounding in
//! one fast base conversion, landing directly at level `l − 1`.
//!
//! After relinearisation the ciphertext is `(d0 + ModDown(Σ0), d1 + ModDown(Σ1))`, and a
//! rescale then divides by `q_l`. Written over `Q_l·P` as `X = P·d + Σ`, both steps are one
//! rounded division `X / (P·q_l)`: the special primes and `q_l` form the source basis of a
//! single conversion to `q_0..q_(l−1)`. That costs `k + 1` inverse NTTs and `l` forward NTTs per
//! part, instead of `k + 1 + 2l + 1` for ModDown followed by rescale.

use crate::context::CkksContext;
use crate::ring::{BaseConverter, Form, Modulus, RnsPoly, ShoupConstant};
use fhec_params::Level;
use rayon::prelude::*;

/// The conversion from `p_0..p_(k−1), q_l` to `q_0..q_(l−1)` for one level `l ≥ 1`, and
/// `(P·q_l)^(−1) mod q_j`.
#[derive(Clone, Debug)]
pub(crate) struct RescaleDownTables {
    converter: BaseConverter,
    inverse: Vec<ShoupConstant>,
}

impl RescaleDownTables {
    /// The tables of every level; index `l` holds level `l` (index 0 is unused and empty).
    pub(crate) fn all(q: &[Modulus], p: &[Modulus]) -> Vec<Option<RescaleDownTables>> {
        (0..q.len())
            .map(|level| {
                (level >= 1).then(|| {
                    let source: Vec<Modulus> =
                        p.iter().copied().chain(std::iter::once(q[level])).collect();
                    let target = &q[..level];
                    let inverse = target
                        .iter()
                        .map(|m| {
                            let product = source
                                .iter()
                                .fold(1u64, |acc, s| m.mul(acc, m.reduce_u64(s.value())));
                            m.shoup(m.inv(product).expect("distinct primes are coprime"))
                        })
                        .collect();
                    RescaleDownTables {
                        converter: BaseConverter::new(&source, target),
                        inverse,
                    }
                })
            })
            .collect()
    }
}

/// `out = round((P·d + sum) / (P·q_l))` over `q_0..q_(l−1)`, NTT form, for `sum` over `Q_l·P`
/// and `d` over `Q_l` (both NTT form, level `l ≥ 1`).
pub(crate) fn rescale_down(context: &CkksContext, sum: &RnsPoly, d: &RnsPoly, out: &mut RnsPoly) {
    let ring = context.ring();
    let n = ring.degree();
    let level = d.level().0;
    let tables = context.rescale_down_tables(Level(level));
    let q_limbs = level + 1;
    let p_moduli = ring.p_basis().moduli();
    let (q_modulus, q_ntt) = ring.limb_prime(q_limbs, level);

    // Source limbs in coefficient form: the special limbs of X (P·d vanishes there), then
    // limb q_l of X = [P]_(q_l)·d + sum.
    let mut source = vec![0u64; (p_moduli.len() + 1) * n];
    let (p_part, q_part) = source.split_at_mut(p_moduli.len() * n);
    p_part.copy_from_slice(sum.p_data());
    let p_mod_q = q_modulus.shoup(product_mod(p_moduli, q_modulus));
    for ((x, &s), &v) in q_part.iter_mut().zip(sum.limb(level)).zip(d.limb(level)) {
        *x = q_modulus.add(s, q_modulus.mul_shoup(v, p_mod_q));
    }
    source
        .par_chunks_mut(n)
        .enumerate()
        .for_each(|(i, limb)| match ring.p_basis().ntts().get(i) {
            Some(ntt) => ntt.inverse(limb),
            None => q_ntt.inverse(limb),
        });
    let mut overflow = vec![0u64; n];
    tables.converter.prepare(&mut source, n, &mut overflow);

    let previous = std::mem::replace(
        out,
        context.scratch_poly(Level(level - 1), false, Form::Ntt),
    );
    context.recycle(previous);
    out.data_mut()
        .par_chunks_mut(n)
        .enumerate()
        .for_each(|(j, limb)| {
            let (m, ntt) = ring.limb_prime(q_limbs, j);
            tables.converter.convert_limb(&source, &overflow, j, limb);
            ntt.forward(limb);
            let p_mod = m.shoup(product_mod(p_moduli, m));
            let inverse = tables.inverse[j];
            for ((dst, &s), &v) in limb.iter_mut().zip(sum.limb(j)).zip(d.limb(j)) {
                let x = m.add(s, m.mul_shoup(v, p_mod));
                *dst = m.mul_shoup(m.sub(x, *dst), inverse);
            }
        });
}

/// The product of `primes` modulo `m`.
fn product_mod(primes: &[Modulus], m: &Modulus) -> u64 {
    primes
        .iter()
        .fold(1u64, |acc, p| m.mul(acc, m.reduce_u64(p.value())))
}
