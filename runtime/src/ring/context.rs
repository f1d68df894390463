//! [`RingContext`]: the ciphertext basis Q, the special basis P, the key-switching digits and
//! every precomputed table the RNS tools need, built once per parameter set.

use super::RingError;
use super::basis::RnsBasis;
use super::conversion::{BaseConverter, ModDownTables};
use super::crt::CrtTables;
use super::modular::{Modulus, ShoupConstant};
use super::ntt::NttTable;
use super::poly::{Form, RnsPoly};
use fhec_params::{CkksParams, Level, LogN, digit_primes_at, is_digit_partition};
use rayon::prelude::*;
use std::ops::Range;

/// Ring degrees from this size up process limbs in parallel; below it rayon's overhead exceeds
/// the work.
pub(crate) const PARALLEL_MIN_DEGREE: usize = 1 << 12;

/// The rings `Z_Q[X]/(X^N+1)` and `Z_QP[X]/(X^N+1)` of one parameter set, with their tables.
#[derive(Debug)]
pub struct RingContext {
    log_n: LogN,
    q: RnsBasis,
    p: RnsBasis,
    digits: Vec<Range<usize>>,
    /// `rescale_inverses[l][i]` = q_l^{-1} mod q_i for i < l (index 0 unused).
    pub(crate) rescale_inverses: Vec<Vec<ShoupConstant>>,
    /// `mod_up[l][d]` converts digit d's primes present at level l to the other primes of Q_l
    /// followed by P (`None` when digit d has no prime at level l).
    pub(crate) mod_up: Vec<Vec<Option<BaseConverter>>>,
    pub(crate) mod_down: ModDownTables,
    pub(crate) crt: CrtTables,
}

impl RingContext {
    /// Builds the context of validated parameters, taking their primes and key-switching
    /// digits as given (fhec-params made and checked them).
    pub fn new(params: &CkksParams) -> Result<RingContext, RingError> {
        RingContext::build(
            params.log_n(),
            params.q_primes(),
            params.p_primes(),
            params.digits(),
        )
    }

    /// Builds a context from explicit primes (each prime, ≡ 1 mod 2N, below 2^62) and digits
    /// (contiguous ranges covering the indices of `q` in order, checked with
    /// [`is_digit_partition`]). For tests and tools; the product path is [`RingContext::new`].
    pub fn from_primes(
        log_n: LogN,
        q: &[u64],
        p: &[u64],
        digits: &[Range<usize>],
    ) -> Result<RingContext, RingError> {
        if !(4..=17).contains(&log_n.0) {
            return Err(RingError::DegreeOutOfRange { log_n: log_n.0 });
        }
        if q.is_empty() || p.is_empty() {
            return Err(RingError::EmptyBasis);
        }
        if !is_digit_partition(digits, q.len()) {
            return Err(RingError::BadDigits {
                digits: digits.to_vec(),
                primes: q.len(),
            });
        }
        RingContext::build(log_n, q, p, digits)
    }

    /// Builds the tables of primes and digits known to be well formed (the primes are still
    /// checked by [`RnsBasis::new`]).
    fn build(
        log_n: LogN,
        q: &[u64],
        p: &[u64],
        digits: &[Range<usize>],
    ) -> Result<RingContext, RingError> {
        let degree = log_n.degree();
        let mut all: Vec<u64> = q.iter().chain(p).copied().collect();
        all.sort_unstable();
        if let Some(w) = all.windows(2).find(|w| w[0] == w[1]) {
            return Err(RingError::RepeatedPrime { prime: w[0] });
        }
        let q = RnsBasis::new(degree, q)?;
        let p = RnsBasis::new(degree, p)?;
        let rescale_inverses = (0..q.len())
            .map(|l| {
                let ql = q.moduli()[l].value();
                q.moduli()[..l]
                    .iter()
                    .map(|m| m.shoup(m.inv(ql).expect("distinct primes are coprime")))
                    .collect()
            })
            .collect();
        let mod_up = (0..q.len())
            .map(|level| {
                digits
                    .iter()
                    .map(|d| {
                        digit_primes_at(d, Level(level)).map(|primes| {
                            let src: Vec<Modulus> = q.moduli()[primes].to_vec();
                            let dst: Vec<Modulus> = q.moduli()[..=level]
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| !d.contains(i))
                                .map(|(_, m)| *m)
                                .chain(p.moduli().iter().copied())
                                .collect();
                            BaseConverter::new(&src, &dst)
                        })
                    })
                    .collect()
            })
            .collect();
        let mod_down = ModDownTables::new(&q, &p);
        let crt = CrtTables::new(q.moduli());
        Ok(RingContext {
            log_n,
            q,
            p,
            digits: digits.to_vec(),
            rescale_inverses,
            mod_up,
            mod_down,
            crt,
        })
    }

    /// log N.
    pub fn log_n(&self) -> LogN {
        self.log_n
    }

    /// The ring degree N.
    pub fn degree(&self) -> usize {
        self.log_n.degree()
    }

    /// The ciphertext basis q_0..q_L.
    pub fn q_basis(&self) -> &RnsBasis {
        &self.q
    }

    /// The special basis p_0..p_{k-1}.
    pub fn p_basis(&self) -> &RnsBasis {
        &self.p
    }

    /// The highest level L.
    pub fn max_level(&self) -> Level {
        Level(self.q.len() - 1)
    }

    /// The key-switching digits, as index ranges into the Q primes.
    pub fn digits(&self) -> &[Range<usize>] {
        &self.digits
    }

    /// The zero polynomial at `level`, in QP when `with_special`, in the given form.
    ///
    /// # Panics
    /// If `level` exceeds [`Self::max_level`].
    pub fn zero(&self, level: Level, with_special: bool, form: Form) -> RnsPoly {
        assert!(
            level <= self.max_level(),
            "{level} exceeds the maximum {}",
            self.max_level()
        );
        let p_limbs = if with_special { self.p.len() } else { 0 };
        RnsPoly::zero(self.degree(), level.limbs(), p_limbs, form)
    }

    /// The modulus and NTT plan of limb `i` of a polynomial with `q_limbs` ciphertext limbs.
    #[inline]
    pub fn limb_prime(&self, q_limbs: usize, i: usize) -> (&Modulus, &NttTable) {
        if i < q_limbs {
            (&self.q.moduli()[i], &self.q.ntts()[i])
        } else {
            (&self.p.moduli()[i - q_limbs], &self.p.ntts()[i - q_limbs])
        }
    }

    /// Checks that `poly` was made for this context (degree and limb counts).
    pub(crate) fn assert_fits(&self, poly: &RnsPoly) {
        assert!(
            poly.degree() == self.degree()
                && poly.q_limbs() <= self.q.len()
                && (poly.p_limbs() == 0 || poly.p_limbs() == self.p.len()),
            "polynomial {} of degree {} does not belong to a context of degree {} with {} + {} primes",
            poly.shape(),
            poly.degree(),
            self.degree(),
            self.q.len(),
            self.p.len()
        );
    }

    /// Runs `f(limb index, limb)` on every limb of `data` (limbs of `n` words), in parallel
    /// for large degrees.
    pub(crate) fn for_each_limb<F>(&self, data: &mut [u64], f: F)
    where
        F: Fn(usize, &mut [u64]) + Sync + Send,
    {
        let n = self.degree();
        if n >= PARALLEL_MIN_DEGREE {
            data.par_chunks_mut(n)
                .enumerate()
                .for_each(|(i, limb)| f(i, limb));
        } else {
            data.chunks_mut(n)
                .enumerate()
                .for_each(|(i, limb)| f(i, limb));
        }
    }

    /// Transforms every limb of `poly` to `target` form (no-op if it already is).
    fn transform(&self, poly: &mut RnsPoly, target: Form) {
        self.assert_fits(poly);
        if poly.form() == target {
            return;
        }
        let q_limbs = poly.q_limbs();
        self.for_each_limb(poly.data_mut(), |i, limb| {
            let ntt = self.limb_prime(q_limbs, i).1;
            match target {
                Form::Ntt => ntt.forward(limb),
                Form::Coefficient => ntt.inverse(limb),
            }
        });
        poly.set_form(target);
    }

    /// Transforms `poly` to NTT form (no-op if it already is).
    pub fn to_ntt(&self, poly: &mut RnsPoly) {
        self.transform(poly, Form::Ntt);
    }

    /// Transforms `poly` to coefficient form (no-op if it already is).
    pub fn to_coefficient(&self, poly: &mut RnsPoly) {
        self.transform(poly, Form::Coefficient);
    }

    /// A polynomial from raw limb-major data (as [`RnsPoly::data`] returns it), checked: the
    /// length must match the shape and every word must be reduced modulo its limb's prime.
    /// For data from outside the process (files), where a mismatch is an error, not a bug.
    pub fn poly_from_data(
        &self,
        level: Level,
        with_special: bool,
        form: Form,
        data: Vec<u64>,
    ) -> Result<RnsPoly, RingError> {
        if level > self.max_level() {
            return Err(RingError::LevelOutOfRange {
                level: level.0,
                max_level: self.max_level().0,
            });
        }
        let n = self.degree();
        let p_limbs = if with_special { self.p.len() } else { 0 };
        let limbs = level.limbs() + p_limbs;
        if data.len() != limbs * n {
            return Err(RingError::PolyLength {
                got: data.len(),
                expected: limbs * n,
                limbs,
                degree: n,
            });
        }
        for (limb, words) in data.chunks_exact(n).enumerate() {
            let modulus = self.limb_prime(level.limbs(), limb).0.value();
            if let Some(index) = words.iter().position(|&w| w >= modulus) {
                return Err(RingError::UnreducedValue {
                    limb,
                    index,
                    value: words[index],
                    modulus,
                });
            }
        }
        Ok(RnsPoly::from_parts(n, level.limbs(), p_limbs, form, data))
    }

    /// A polynomial from signed integer coefficients (reduced into every limb), in coefficient
    /// form, at `level`, in QP when `with_special`.
    ///
    /// # Panics
    /// If `coefficients.len() != N` or the level is out of range.
    pub fn from_signed(&self, coefficients: &[i64], level: Level, with_special: bool) -> RnsPoly {
        assert_eq!(coefficients.len(), self.degree(), "expected N coefficients");
        let mut poly = self.zero(level, with_special, Form::Coefficient);
        let q_limbs = poly.q_limbs();
        self.for_each_limb(poly.data_mut(), |i, limb| {
            let m = self.limb_prime(q_limbs, i).0;
            for (dst, &c) in limb.iter_mut().zip(coefficients) {
                let magnitude = m.reduce_u64(c.unsigned_abs());
                *dst = if c < 0 { m.neg(magnitude) } else { magnitude };
            }
        });
        poly
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhec_params::presets;

    /// The ModUp tables exist for exactly the digits fhec-params counts at each level: the
    /// digit rule has one home.
    #[test]
    fn mod_up_tables_follow_the_parameters_digits() {
        let params = CkksParams::new(presets::n15_qp838()).unwrap();
        let ring = RingContext::new(&params).unwrap();
        assert_eq!(ring.digits(), params.digits());
        for level in 0..=params.max_level().0 {
            let tables = ring.mod_up[level].iter().filter(|t| t.is_some()).count();
            assert_eq!(tables, params.digits_at(Level(level)), "level {level}");
        }
    }
}
