//! Exact base conversion between RNS bases and the two key-switching steps built on it.
//!
//! [`BaseConverter`] maps the residues of `x` over a source basis `B = b_0···b_{s-1}` to the
//! residues of its **centered** representative `[x]_B ∈ [−⌊B/2⌋, ⌈B/2⌉)` over a target basis.
//! It shifts `x` by `h = ⌊B/2⌋`, computes `y_i = [(x+h)_i·(B/b_i)^{-1}]_{b_i}` and
//! `Σ_i y_i·(B/b_i) = (x+h mod B) + v·B`, where the overflow `v = ⌊Σ_i y_i/b_i⌋` is computed
//! in f64 and subtracted (the floating-point correction of Halevi, Polyakov and Shoup), then
//! removes `h`. The f64 sum is off only when `x + h mod B` lies within about `s·2^−52·B` of
//! 0 or B, i.e. when `x` is within that distance of the tie at `±B/2`; the result is then the
//! other lift, `x ∓ B` (for ModDown: the rounding of a near-tie goes the other way).
//!
//! - **ModUp** ([`RingContext::mod_up`]): a polynomial over `Q_l` is converted from one
//!   key-switching digit's primes to the other primes of `Q_l` and to P. Limbs of the digit
//!   keep their values; every other limb holds the centered lift of the digit's value.
//! - **ModDown** ([`RingContext::mod_down`]): a polynomial over `Q_l·P` is divided by P with
//!   rounding: `(x − [x]_P)/P = round(x / P)` modulo `Q_l`, exactly except at ties.

use super::RingContext;
use super::basis::RnsBasis;
use super::modular::{Modulus, ShoupConstant};
use super::poly::{Form, RnsPoly};
use rayon::prelude::*;

/// Products of 62-bit residues accumulated before an intermediate reduction: one reduced
/// residue plus 15 products stays below 2^128.
const LAZY_PRODUCTS: usize = 15;

/// Coefficients converted together (accumulators of 1 KiB).
const CONVERSION_BLOCK: usize = 64;

/// Coefficients per parallel task when computing overflows.
const OVERFLOW_CHUNK: usize = 1024;

/// Precomputed constants of an exact base conversion from one list of primes to another.
#[derive(Clone, Debug)]
pub struct BaseConverter {
    source: Vec<Modulus>,
    target: Vec<Modulus>,
    /// `[(B/b_i)^{-1}]_{b_i}` per source prime.
    hat_inverse: Vec<ShoupConstant>,
    /// `1/b_i` per source prime, for the overflow estimate.
    source_reciprocal: Vec<f64>,
    /// `⌊B/2⌋ mod b_i` per source prime.
    half_in_source: Vec<u64>,
    /// `[(B/b_i)]_{c_j}`, row j (target) by column i (source).
    hat_in_target: Vec<u64>,
    /// `B mod c_j` per target prime.
    product_in_target: Vec<ShoupConstant>,
    /// `⌊B/2⌋ mod c_j` per target prime.
    half_in_target: Vec<u64>,
}

/// `Π primes mod m`.
fn product_mod(primes: impl IntoIterator<Item = u64>, m: &Modulus) -> u64 {
    primes
        .into_iter()
        .fold(m.reduce_u64(1), |acc, p| m.mul(acc, m.reduce_u64(p)))
}

/// `⌊M/2⌋ = (M − 1)/2 mod m` for the odd product `M ≡ product (mod m)`, m an odd prime.
fn half_mod(product: u64, m: &Modulus) -> u64 {
    m.mul(
        m.sub(product, m.reduce_u64(1)),
        m.inv(2).expect("odd modulus"),
    )
}

impl BaseConverter {
    /// Prepares the conversion from `source` to `target` (distinct odd primes).
    ///
    /// # Panics
    /// If `source` is empty.
    pub fn new(source: &[Modulus], target: &[Modulus]) -> BaseConverter {
        assert!(
            !source.is_empty(),
            "base conversion needs at least one source prime"
        );
        let primes: Vec<u64> = source.iter().map(Modulus::value).collect();
        let hat_mod = |m: &Modulus, skip: usize| {
            product_mod(
                primes
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != skip)
                    .map(|(_, &b)| b),
                m,
            )
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
        let half = |m: &Modulus| half_mod(product_mod(primes.iter().copied(), m), m);
        BaseConverter {
            source: source.to_vec(),
            target: target.to_vec(),
            hat_inverse,
            source_reciprocal: primes.iter().map(|&b| 1.0 / b as f64).collect(),
            half_in_source: source.iter().map(half).collect(),
            hat_in_target,
            product_in_target: target
                .iter()
                .map(|c| c.shoup(product_mod(primes.iter().copied(), c)))
                .collect(),
            half_in_target: target.iter().map(half).collect(),
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
    /// `y_i = (x_i + ⌊B/2⌋)·(B/b_i)^{-1} mod b_i`, and `overflow[k] = ⌊Σ_i y_i[k]/b_i⌋`.
    ///
    /// # Panics
    /// If `overflow.len() != n` or the limbs are not `s·n` words.
    pub fn prepare(&self, limbs: &mut [u64], n: usize, overflow: &mut [u64]) {
        assert_eq!(
            limbs.len(),
            self.source.len() * n,
            "expected {} source limbs",
            self.source.len()
        );
        assert_eq!(overflow.len(), n, "one overflow per coefficient");
        let scale = |(i, limb): (usize, &mut [u64])| {
            let (m, w, h) = (&self.source[i], self.hat_inverse[i], self.half_in_source[i]);
            limb.iter_mut()
                .for_each(|x| *x = m.mul_shoup(m.add(*x, h), w));
        };
        let parallel = n >= super::context::PARALLEL_MIN_DEGREE;
        if parallel {
            limbs.par_chunks_mut(n).enumerate().for_each(scale);
        } else {
            limbs.chunks_mut(n).enumerate().for_each(scale);
        }
        let limbs = &*limbs;
        let count = |(c, chunk): (usize, &mut [u64])| {
            for (offset, v) in chunk.iter_mut().enumerate() {
                let k = c * OVERFLOW_CHUNK + offset;
                let sum: f64 = self
                    .source_reciprocal
                    .iter()
                    .enumerate()
                    .map(|(i, &r)| limbs[i * n + k] as f64 * r)
                    .sum();
                *v = sum as u64;
            }
        };
        if parallel {
            overflow
                .par_chunks_mut(OVERFLOW_CHUNK)
                .enumerate()
                .for_each(count);
        } else {
            overflow
                .chunks_mut(OVERFLOW_CHUNK)
                .enumerate()
                .for_each(count);
        }
    }

    /// Second step for target prime `j`: `out[k] = Σ_i y_i[k]·(B/b_i) − overflow[k]·B − ⌊B/2⌋
    /// mod c_j`, the centered lift of `x` modulo `c_j`, from the output of [`Self::prepare`].
    ///
    /// Works on blocks of coefficients so that every source limb is read contiguously and the
    /// 128-bit accumulators stay in cache.
    pub fn convert_limb(&self, scaled_source: &[u64], overflow: &[u64], j: usize, out: &mut [u64]) {
        let n = out.len();
        let s = self.source.len();
        let row = &self.hat_in_target[j * s..(j + 1) * s];
        let m = &self.target[j];
        let (product, half) = (self.product_in_target[j], self.half_in_target[j]);
        let mut accumulators = [0u128; CONVERSION_BLOCK];
        for (block, (out_block, overflow_block)) in out
            .chunks_mut(CONVERSION_BLOCK)
            .zip(overflow.chunks(CONVERSION_BLOCK))
            .enumerate()
        {
            let start = block * CONVERSION_BLOCK;
            let acc = &mut accumulators[..out_block.len()];
            acc.fill(0);
            let len = acc.len();
            let slice = |i: usize| &scaled_source[i * n + start..i * n + start + len];
            // Sources four at a time: one read-modify-write of the accumulator per four products.
            let mut pending = 0;
            let mut i = 0;
            while i < s {
                let take = if s - i >= 4 { 4 } else { 1 };
                if pending + take > LAZY_PRODUCTS {
                    acc.iter_mut().for_each(|a| *a = m.reduce_u128(*a) as u128);
                    pending = 0;
                }
                if take == 4 {
                    let (y0, y1, y2, y3) = (slice(i), slice(i + 1), slice(i + 2), slice(i + 3));
                    let [c0, c1, c2, c3] =
                        [row[i], row[i + 1], row[i + 2], row[i + 3]].map(u128::from);
                    for ((((a, &x0), &x1), &x2), &x3) in
                        acc.iter_mut().zip(y0).zip(y1).zip(y2).zip(y3)
                    {
                        *a += x0 as u128 * c0 + x1 as u128 * c1 + x2 as u128 * c2 + x3 as u128 * c3;
                    }
                } else {
                    let c = u128::from(row[i]);
                    for (a, &x) in acc.iter_mut().zip(slice(i)) {
                        *a += x as u128 * c;
                    }
                }
                pending += take;
                i += take;
            }
            for ((dst, &a), &v) in out_block.iter_mut().zip(acc.iter()).zip(overflow_block) {
                *dst = m.sub(m.sub(m.reduce_u128(a), m.mul_shoup(v, product)), half);
            }
        }
    }
}

/// Constants of ModDown (division by P with rounding) for every level.
#[derive(Clone, Debug)]
pub(crate) struct ModDownTables {
    /// Conversion from P to all of Q (a prefix of its rows serves every level).
    converter: BaseConverter,
    /// `P^{-1} mod q_j`.
    p_inverse_mod_q: Vec<ShoupConstant>,
}

impl ModDownTables {
    pub(crate) fn new(q: &RnsBasis, p: &RnsBasis) -> ModDownTables {
        let p_primes = p.primes();
        ModDownTables {
            converter: BaseConverter::new(p.moduli(), q.moduli()),
            p_inverse_mod_q: q
                .moduli()
                .iter()
                .map(|m| {
                    m.shoup(
                        m.inv(product_mod(p_primes.iter().copied(), m))
                            .expect("P and Q are coprime"),
                    )
                })
                .collect(),
        }
    }
}

impl RingContext {
    /// ModUp of key-switching digit `digit`: `out` (over `Q_l·P`, same form as `a`) receives
    /// `a`'s limbs on the digit's primes and, on every other prime, the centered lift of the
    /// digit's value (exact; see the module documentation).
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
        let range = fhec_params::digit_primes_at(&self.digits()[digit], a.level())
            .expect("a digit with a ModUp table has a prime at the level");
        let mut scaled = a.data()[range.start * n..range.end * n].to_vec();
        if a.form() == Form::Ntt {
            let ntts = &self.q_basis().ntts()[range.clone()];
            scaled
                .chunks_mut(n)
                .zip(ntts)
                .for_each(|(limb, ntt)| ntt.inverse(limb));
        }
        let mut overflow = vec![0u64; n];
        converter.prepare(&mut scaled, n, &mut overflow);

        out.reshape(n, a.q_limbs(), self.p_basis().len(), a.form());
        let q_limbs = a.q_limbs();
        self.for_each_limb(out.data_mut(), |t, limb| {
            if range.contains(&t) {
                limb.copy_from_slice(a.limb(t));
                return;
            }
            let j = if t < range.start { t } else { t - range.len() };
            converter.convert_limb(&scaled, &overflow, j, limb);
            if a.form() == Form::Ntt {
                self.limb_prime(q_limbs, t).1.forward(limb);
            }
        });
    }

    /// ModDown: `out = round(a / P) mod Q_l` for `a` over `Q_l·P` (exact except at ties; see
    /// the module documentation). `out` takes `a`'s level and form, without special limbs.
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
        let form = a.form();
        let mut scaled = a.p_data().to_vec();
        if form == Form::Ntt {
            let ntts = self.p_basis().ntts();
            scaled
                .chunks_mut(n)
                .zip(ntts)
                .for_each(|(limb, ntt)| ntt.inverse(limb));
        }
        let mut overflow = vec![0u64; n];
        tables.converter.prepare(&mut scaled, n, &mut overflow);

        out.reshape(n, a.q_limbs(), 0, form);
        self.for_each_limb(out.data_mut(), |j, limb| {
            let (m, ntt) = self.limb_prime(a.q_limbs(), j);
            tables.converter.convert_limb(&scaled, &overflow, j, limb);
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
