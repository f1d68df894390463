//! [`RnsPoly`]: a polynomial of `Z[X]/(X^N + 1)` in RNS form, limb-major.
//!
//! Limb `i` occupies `data[i·N .. (i+1)·N]`. The limbs are the ciphertext primes
//! `q_0..q_level` followed, for polynomials in the extended basis QP, by every special prime
//! `p_0..p_{k-1}`. The [`Form`] says whether the limbs hold coefficients or NTT evaluations
//! (bit-reversed order, see `ntt.rs`); the ring operations check it.

use fhec_params::Level;

/// The representation of a polynomial's limbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// Coefficients `a_0..a_{N-1}` of each limb.
    Coefficient,
    /// Negacyclic NTT evaluations of each limb (the form products and key switching use).
    Ntt,
}

/// A polynomial over `q_0..q_level` (and optionally every special prime), limb-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RnsPoly {
    degree: usize,
    q_limbs: usize,
    p_limbs: usize,
    form: Form,
    data: Vec<u64>,
}

impl RnsPoly {
    /// The zero polynomial with `q_limbs` ciphertext limbs and `p_limbs` special limbs.
    /// Contexts create polynomials through [`super::RingContext::zero`], which fixes
    /// `p_limbs` to 0 or the full special basis.
    pub(crate) fn zero(degree: usize, q_limbs: usize, p_limbs: usize, form: Form) -> RnsPoly {
        assert!(
            q_limbs >= 1,
            "a polynomial needs at least one ciphertext limb"
        );
        RnsPoly {
            degree,
            q_limbs,
            p_limbs,
            form,
            data: vec![0; degree * (q_limbs + p_limbs)],
        }
    }

    /// The ring degree N.
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// The level: the polynomial has limbs for `q_0..q_level`.
    pub fn level(&self) -> Level {
        Level(self.q_limbs - 1)
    }

    /// Number of ciphertext-prime limbs (`level + 1`).
    pub fn q_limbs(&self) -> usize {
        self.q_limbs
    }

    /// Number of special-prime limbs (0, or every special prime).
    pub fn p_limbs(&self) -> usize {
        self.p_limbs
    }

    /// Total number of limbs.
    pub fn limb_count(&self) -> usize {
        self.q_limbs + self.p_limbs
    }

    /// Whether the special limbs are present (the polynomial lives in QP).
    pub fn has_special(&self) -> bool {
        self.p_limbs > 0
    }

    /// Coefficient or NTT form.
    pub fn form(&self) -> Form {
        self.form
    }

    /// Declares the limbs to be in `form` without transforming them: for data produced
    /// directly in that form (e.g. uniform samples, which are uniform in both forms).
    pub fn set_form(&mut self, form: Form) {
        self.form = form;
    }

    /// Limb `i` (ciphertext limbs first, then special limbs).
    pub fn limb(&self, i: usize) -> &[u64] {
        &self.data[i * self.degree..(i + 1) * self.degree]
    }

    /// Limb `i`, mutable.
    pub fn limb_mut(&mut self, i: usize) -> &mut [u64] {
        &mut self.data[i * self.degree..(i + 1) * self.degree]
    }

    /// All limbs, limb-major.
    pub fn data(&self) -> &[u64] {
        &self.data
    }

    /// All limbs, limb-major, mutable. Values must stay reduced modulo each limb's prime.
    pub fn data_mut(&mut self) -> &mut [u64] {
        &mut self.data
    }

    /// The ciphertext limbs only, limb-major.
    pub fn q_data(&self) -> &[u64] {
        &self.data[..self.q_limbs * self.degree]
    }

    /// The special limbs only, limb-major.
    pub fn p_data(&self) -> &[u64] {
        &self.data[self.q_limbs * self.degree..]
    }

    /// Whether `other` has the same degree, limbs and form (the precondition of every
    /// element-wise operation).
    pub fn same_shape(&self, other: &RnsPoly) -> bool {
        self.degree == other.degree
            && self.q_limbs == other.q_limbs
            && self.p_limbs == other.p_limbs
            && self.form == other.form
    }

    /// A short description for assertion messages: `[l=3+P2, Ntt]`.
    pub fn shape(&self) -> String {
        format!(
            "[l={}+P{}, {:?}]",
            self.q_limbs - 1,
            self.p_limbs,
            self.form
        )
    }

    pub(crate) fn from_parts(
        degree: usize,
        q_limbs: usize,
        p_limbs: usize,
        form: Form,
        data: Vec<u64>,
    ) -> RnsPoly {
        debug_assert_eq!(data.len(), degree * (q_limbs + p_limbs));
        RnsPoly {
            degree,
            q_limbs,
            p_limbs,
            form,
            data,
        }
    }

    /// Gives `self` the given shape, reusing its allocation; the contents are unspecified
    /// afterwards and must be overwritten.
    pub(crate) fn reshape(&mut self, degree: usize, q_limbs: usize, p_limbs: usize, form: Form) {
        self.degree = degree;
        self.q_limbs = q_limbs;
        self.p_limbs = p_limbs;
        self.form = form;
        self.data.resize(degree * (q_limbs + p_limbs), 0);
    }

    /// Gives `self` the shape of `other` (degree, limbs, form), reusing its allocation; the
    /// contents are unspecified afterwards and must be overwritten.
    pub(crate) fn reshape_like(&mut self, other: &RnsPoly) {
        self.degree = other.degree;
        self.q_limbs = other.q_limbs;
        self.p_limbs = other.p_limbs;
        self.form = other.form;
        self.data.resize(other.data.len(), 0);
    }

    /// Removes the last `count` ciphertext limbs (the special limbs, if any, are kept).
    ///
    /// # Panics
    /// If that would leave no ciphertext limb.
    pub fn drop_last_q_limbs(&mut self, count: usize) {
        assert!(
            count < self.q_limbs,
            "cannot drop {count} limbs from {}",
            self.shape()
        );
        let n = self.degree;
        let keep = self.q_limbs - count;
        self.data.copy_within(self.q_limbs * n.., keep * n);
        self.data.truncate((keep + self.p_limbs) * n);
        self.q_limbs = keep;
    }

    /// Removes the special limbs, keeping the ciphertext limbs as they are.
    pub fn drop_special_limbs(&mut self) {
        self.data.truncate(self.q_limbs * self.degree);
        self.p_limbs = 0;
    }

    /// A copy of the first `q_limbs` ciphertext limbs (no special limbs).
    ///
    /// # Panics
    /// If `q_limbs` is 0 or exceeds the polynomial's.
    pub fn q_prefix(&self, q_limbs: usize) -> RnsPoly {
        assert!(
            (1..=self.q_limbs).contains(&q_limbs),
            "no {q_limbs}-limb prefix in {}",
            self.shape()
        );
        RnsPoly::from_parts(
            self.degree,
            q_limbs,
            0,
            self.form,
            self.data[..q_limbs * self.degree].to_vec(),
        )
    }
}
