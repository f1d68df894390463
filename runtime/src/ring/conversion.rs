//! Fast base conversion between RNS bases and the two key-switching steps built on it.
//!
//! [`BaseConverter`] maps residues of `x ∈ [0, B)` over a source basis `B = b_0···b_{s-1}` to
//! `Σ_i [x_i·(B/b_i)^{-1}]_{b_i} · (B/b_i)` over a target basis. That sum equals `x + u·B`
//! for an integer `0 ≤ u < s` (the conversion is "fast" because it skips the exact correction).
//!
//! - **ModUp** ([`RingContext::mod_up`]): a polynomial over `Q_l` is converted from one
//!   key-switching digit's primes to the other primes of `Q_l` and to P. Limbs of the digit
//!   keep their values; every other limb holds `x_d + u·D_d` where `x_d` is the digit's
//!   residue polynomial and `D_d` its modulus, `0 ≤ u < |digit|`.
//! - **ModDown** ([`RingContext::mod_down`]): a polynomial over `Q_l·P` is divided by P with
//!   rounding: the result is `round(x / P) − u` modulo `Q_l`, `0 ≤ u < |P|` (k special primes),
//!   for the representative `x ∈ [0, Q_l·P)`.

use super::RingContext;
use super::basis::RnsBasis;
use super::modular::{Modulus, ShoupConstant};
use super::poly::{Form, RnsPoly};
use rayon::prelude::*;

/// Products of 62-bit residues accumulated before an intermediate reduction: one reduced
/// residue plus 15 products stays below 2^128.
const LAZY_PRODUCTS: usize = 15;

/// Precomputed constants of a fast base conversion from one list of primes to another.
#[derive(Clone, Debug)]
pub struct BaseConverter {
    source: Vec<Modulus>,
    target: Vec<Modulus>,
    /// `[(B/b_i)^{-1}]_{b_i}` per source prime.
    hat_inverse: Vec<ShoupConstant>,
    /// `[(B/b_i)]_{c_j}`, row j (target) by column i (source).
    hat_in_target: Vec<u64>,
}

impl BaseConverter {
    /// Prepares the conversion from `source` to `target` (disjoint primes).
    ///
    /// # Panics
    /// If `source` is empty.
    pub fn new(source: &[Modulus], target: &[Modulus]) -> BaseConverter {
        assert!(
            !source.is_empty(),
            "fast base conversion needs at least one source prime"
        );
        let hat_mod = |m: &Modulus, skip: usize| {
            source
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != skip)
                .fold(m.reduce_u64(1), |acc, (_, b)| {
                    m.mul(acc, m.reduce_u64(b.value()))
                })
        };
        let hat_inverse = source
            .iter()
            .enumerate()
            .map(|(i, b)| b.shoup(b.inv(hat_mod(b, i)).expect("source primes are distinct")))
            .collect();
        let hat_in_target = target
            .iter()
            .flat_map(|c| (0..source.len()).map(move |i| (c, i)))
            .map(|(c, i)| hat_mod(c, i))
            .collect();
        BaseConverter {
            source: source.to_vec(),
            target: target.to_vec(),
            hat_inverse,
            hat_in_target,
        }
    }

    /// Number of source primes.
    pub fn source_len(&self) -> usize {
        self.source.len()
    }

    /// Number of target primes.
    pub fn target_len(&self) -> usize {
        self.target.len()
    }

    /// First step, in place on the source limbs (coefficient form, limb-major, `n` per limb):
    /// `y_i = x_i · (B/b_i)^{-1} mod b_i`.
    pub fn scale_source(&self, limbs: &mut [u64], n: usize) {
        let run = |(i, limb): (usize, &mut [u64])| {
            let (m, w) = (&self.source[i], self.hat_inverse[i]);
            limb.iter_mut().for_each(|x| *x = m.mul_shoup(*x, w));
        };
        if n >= super::context::PARALLEL_MIN_DEGREE {
            limbs.par_chunks_mut(n).enumerate().for_each(run);
        } else {
            limbs.chunks_mut(n).enumerate().for_each(run);
        }
    }

    /// Second step for target prime `j`: `out[k] = Σ_i y_i[k] · (B/b_i) mod c_j`, from the
    /// scaled source limbs `y` of [`Self::scale_source`].
    pub fn convert_limb(&self, scaled_source: &[u64], j: usize, out: &mut [u64]) {
        let n = out.len();
        let s = self.source.len();
        let row = &self.hat_in_target[j * s..(j + 1) * s];
        let m = &self.target[j];
        for (k, dst) in out.iter_mut().enumerate() {
            let mut acc = 0u128;
            let mut pending = 0;
            for (i, &c) in row.iter().enumerate() {
                acc += scaled_source[i * n + k] as u128 * c as u128;
                pending += 1;
                if pending == LAZY_PRODUCTS {
                    acc = m.reduce_u128(acc) as u128;
                    pending = 0;
                }
            }
            *dst = m.reduce_u128(acc);
        }
    }
}

/// Constants of ModDown (division by P with rounding) for every level.
#[derive(Clone, Debug)]
pub(crate) struct ModDownTables {
    /// Conversion from P to all of Q (a prefix of its rows serves every level).
    converter: BaseConverter,
    /// `⌊P/2⌋ mod p_i`.
    half_p_mod_p: Vec<u64>,
    /// `⌊P/2⌋ mod q_j`.
    half_p_mod_q: Vec<u64>,
    /// `P^{-1} mod q_j`.
    p_inverse_mod_q: Vec<ShoupConstant>,
}

/// `(M − 1)/2 mod m` for the odd product `M` of `primes`, m an odd prime.
fn half_product_mod(primes: &[Modulus], m: &Modulus) -> u64 {
    let product = primes.iter().fold(m.reduce_u64(1), |acc, p| {
        m.mul(acc, m.reduce_u64(p.value()))
    });
    m.mul(
        m.sub(product, m.reduce_u64(1)),
        m.inv(2).expect("odd modulus"),
    )
}

impl ModDownTables {
    pub(crate) fn new(q: &RnsBasis, p: &RnsBasis) -> ModDownTables {
        let p_moduli = p.moduli();
        ModDownTables {
            converter: BaseConverter::new(p_moduli, q.moduli()),
            half_p_mod_p: p_moduli
                .iter()
                .map(|m| half_product_mod(p_moduli, m))
                .collect(),
            half_p_mod_q: q
                .moduli()
                .iter()
                .map(|m| half_product_mod(p_moduli, m))
                .collect(),
            p_inverse_mod_q: q
                .moduli()
                .iter()
                .map(|m| {
                    let product = p_moduli.iter().fold(m.reduce_u64(1), |acc, p| {
                        m.mul(acc, m.reduce_u64(p.value()))
                    });
                    m.shoup(m.inv(product).expect("P and Q are coprime"))
                })
                .collect(),
        }
    }
}

impl RingContext {
    /// ModUp of key-switching digit `digit`: `out` (over `Q_l·P`, same form as `a`) receives
    /// `a`'s limbs on the digit's primes and the fast base conversion of those limbs on every
    /// other prime (see the module documentation for the exact result).
    ///
    /// # Panics
    /// If `a` has special limbs, or the digit has no prime at `a`'s level.
    pub fn mod_up(&self, a: &RnsPoly, digit: usize, out: &mut RnsPoly) {
        self.assert_fits(a);
        assert!(
            !a.has_special(),
            "mod_up takes a polynomial over Q, got {}",
            a.shape()
        );
        let level = a.level().0;
        let converter = self.mod_up[level]
            .get(digit)
            .and_then(Option::as_ref)
            .unwrap_or_else(|| panic!("digit {digit} has no prime at level {level}"));
        let n = self.degree();
        let range = self.digits()[digit].start..(self.digits()[digit].end.min(level + 1));
        let mut scaled = a.data()[range.start * n..range.end * n].to_vec();
        if a.form() == Form::Ntt {
            let ntts = &self.q_basis().ntts()[range.clone()];
            scaled
                .chunks_mut(n)
                .zip(ntts)
                .for_each(|(limb, ntt)| ntt.inverse(limb));
        }
        converter.scale_source(&mut scaled, n);

        out.reshape(n, a.q_limbs(), self.p_basis().len(), a.form());
        let q_limbs = a.q_limbs();
        self.for_each_limb(out.data_mut(), |t, limb| {
            if range.contains(&t) {
                limb.copy_from_slice(a.limb(t));
                return;
            }
            let j = if t < range.start { t } else { t - range.len() };
            converter.convert_limb(&scaled, j, limb);
            if a.form() == Form::Ntt {
                self.limb_prime(q_limbs, t).1.forward(limb);
            }
        });
    }

    /// ModDown: `out = round(a / P) − u mod Q_l` for `a` over `Q_l·P`, `0 ≤ u < k` (see the
    /// module documentation). `out` takes `a`'s level and form, without special limbs.
    ///
    /// # Panics
    /// If `a` has no special limbs.
    pub fn mod_down(&self, a: &RnsPoly, out: &mut RnsPoly) {
        self.assert_fits(a);
        assert!(
            a.has_special(),
            "mod_down takes a polynomial over QP, got {}",
            a.shape()
        );
        let n = self.degree();
        let tables = &self.mod_down;
        let mut scaled = a.p_data().to_vec();
        let form = a.form();
        let p_basis = self.p_basis();
        let prepare = |(i, limb): (usize, &mut [u64])| {
            if form == Form::Ntt {
                p_basis.ntts()[i].inverse(limb);
            }
            let (m, h) = (&p_basis.moduli()[i], tables.half_p_mod_p[i]);
            limb.iter_mut().for_each(|x| *x = m.add(*x, h));
        };
        scaled.chunks_mut(n).enumerate().for_each(prepare);
        tables.converter.scale_source(&mut scaled, n);

        out.reshape(n, a.q_limbs(), 0, form);
        self.for_each_limb(out.data_mut(), |j, limb| {
            let (m, ntt) = self.limb_prime(a.q_limbs(), j);
            tables.converter.convert_limb(&scaled, j, limb);
            let h = tables.half_p_mod_q[j];
            limb.iter_mut().for_each(|x| *x = m.sub(*x, h));
            if form == Form::Ntt {
                ntt.forward(limb);
            }
            let p_inverse = tables.p_inverse_mod_q[j];
            for (dst, &x) in limb.iter_mut().zip(a.limb(j)) {
                *dst = m.mul_shoup(m.sub(x, *dst), p_inverse);
            }
        });
    }
}
