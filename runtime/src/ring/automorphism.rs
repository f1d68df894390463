//! Ring automorphisms `σ_g: a(X) ↦ a(X^g)` for odd Galois elements `g` in `[1, 2N)`: the
//! rotations (`g = 5^k mod 2N`) and conjugation (`g = 2N − 1`) of CKKS slots.
//!
//! - Coefficient form: coefficient `i` moves to `i·g mod 2N`, negated when that is ≥ N
//!   (because `X^N = −1`).
//! - NTT form: slot `i` holds `a(ψ^(2·brv(i)+1))` (see `ntt.rs`), and
//!   `σ_g(a)(ψ^k) = a(ψ^(g·k))`, so the automorphism is a pure permutation of slots,
//!   `out[i] = in[brv((g·(2·brv(i)+1) mod 2N − 1)/2)]`, the same for every prime.
//!   [`GaloisPermutation`] precomputes it once so hoisted rotations can reuse it.

use super::RingContext;
use super::ntt::bit_reverse;
use super::poly::{Form, RnsPoly};

/// The slot permutation of `σ_g` in NTT form, precomputed for one ring degree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaloisPermutation {
    galois_element: u64,
    /// `source[i]`: the input slot that output slot `i` reads.
    source: Vec<u32>,
}

impl GaloisPermutation {
    /// The Galois element this permutation implements.
    pub fn galois_element(&self) -> u64 {
        self.galois_element
    }

    /// For each output slot `i`, the input slot it reads: `σ_g(a)[i] = a[source[i]]` in NTT
    /// form (for fusing the permutation into other loops, e.g. hoisted key switching).
    pub fn source(&self) -> &[u32] {
        &self.source
    }
}

impl RingContext {
    fn assert_galois_element(&self, g: u64) {
        let two_n = 2 * self.degree() as u64;
        assert!(
            g % 2 == 1 && g < two_n,
            "Galois element {g} must be odd and below 2N = {two_n}"
        );
    }

    /// The Galois element of a rotation of the CKKS slots by `steps` (positive: left), i.e.
    /// `5^steps mod 2N`; negative steps use the inverse (5 has order N/2 modulo 2N).
    pub fn galois_element_for_rotation(&self, steps: i64) -> u64 {
        let two_n = 2 * self.degree() as u64;
        let order = self.degree() as i64 / 2;
        let mut exponent = steps.rem_euclid(order) as u64;
        let (mut base, mut g) = (5u64, 1u64);
        while exponent > 0 {
            if exponent & 1 == 1 {
                g = (g * base) & (two_n - 1);
            }
            base = (base * base) & (two_n - 1);
            exponent >>= 1;
        }
        g
    }

    /// The Galois element of complex conjugation of the slots, `2N − 1`.
    pub fn galois_element_for_conjugation(&self) -> u64 {
        2 * self.degree() as u64 - 1
    }

    /// Precomputes the NTT-form slot permutation of `σ_g`.
    ///
    /// # Panics
    /// If `g` is even or not below 2N.
    pub fn galois_permutation(&self, g: u64) -> GaloisPermutation {
        self.assert_galois_element(g);
        let n = self.degree();
        let log_n = self.log_n().0;
        let mask = 2 * n as u64 - 1;
        let source = (0..n)
            .map(|i| {
                let exponent = 2 * bit_reverse(i, log_n) as u64 + 1;
                let image = (g * exponent) & mask;
                bit_reverse(((image - 1) / 2) as usize, log_n) as u32
            })
            .collect();
        GaloisPermutation {
            galois_element: g,
            source,
        }
    }

    /// `out = σ_g(a)` in either form (`out` takes `a`'s shape).
    ///
    /// # Panics
    /// If `g` is even or not below 2N.
    pub fn automorphism(&self, a: &RnsPoly, g: u64, out: &mut RnsPoly) {
        match a.form() {
            Form::Ntt => self.automorphism_ntt(a, &self.galois_permutation(g), out),
            Form::Coefficient => self.automorphism_coefficient(a, g, out),
        }
    }

    /// `out = σ_g(a)` for `a` in NTT form, with a precomputed permutation.
    pub fn automorphism_ntt(
        &self,
        a: &RnsPoly,
        permutation: &GaloisPermutation,
        out: &mut RnsPoly,
    ) {
        self.assert_fits(a);
        assert_eq!(
            a.form(),
            Form::Ntt,
            "automorphism_ntt needs NTT form, got {}",
            a.shape()
        );
        assert_eq!(
            permutation.source.len(),
            self.degree(),
            "permutation of another degree"
        );
        out.reshape_like(a);
        let n = self.degree();
        self.for_each_limb(out.data_mut(), |i, limb| {
            let input = &a.data()[i * n..(i + 1) * n];
            for (dst, &src) in limb.iter_mut().zip(&permutation.source) {
                *dst = input[src as usize];
            }
        });
    }

    /// `out = σ_g(a)` for `a` in coefficient form.
    ///
    /// # Panics
    /// If `g` is even or not below 2N.
    pub fn automorphism_coefficient(&self, a: &RnsPoly, g: u64, out: &mut RnsPoly) {
        self.assert_fits(a);
        self.assert_galois_element(g);
        assert_eq!(
            a.form(),
            Form::Coefficient,
            "automorphism_coefficient needs coefficient form, got {}",
            a.shape()
        );
        out.reshape_like(a);
        let n = self.degree();
        let mask = 2 * n - 1;
        let q_limbs = a.q_limbs();
        let g = g as usize;
        self.for_each_limb(out.data_mut(), |l, limb| {
            let m = self.limb_prime(q_limbs, l).0;
            let input = &a.data()[l * n..(l + 1) * n];
            let mut image = 0usize; // i·g mod 2N
            for &x in input {
                if image < n {
                    limb[image] = x;
                } else {
                    limb[image - n] = m.neg(x);
                }
                image = (image + g) & mask;
            }
        });
    }
}
