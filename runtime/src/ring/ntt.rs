//! The negacyclic NTT of one limb, through `tfhe-ntt`'s 64-bit prime plan.
//!
//! `tfhe-ntt` evaluates `a(X)` at the 2N-th roots of unity `ψ^(2j+1)` but stores the result in
//! **bit-reversed order**: slot `i` holds `a(ψ^(2·brv(i)+1))`, with `brv` the bit reversal on
//! log N bits and `ψ` the value slot 0 holds for `a = X`. Its inverse transform takes that order
//! back to coefficients but leaves a factor N, which [`NttTable::inverse`] removes.
//!
//! Nothing in the runtime depends on the order except the automorphism in NTT form, which
//! permutes slots by `brv((g·(2·brv(i)+1) mod 2N − 1)/2)` (see `automorphism.rs`); pointwise
//! products are order-agnostic. [`NttTable::new`] checks the order on every prime, so a change
//! in the crate would be caught at construction rather than corrupt rotations.

use super::RingError;
use super::modular::Modulus;
use tfhe_ntt::prime64::Plan;

/// A negacyclic NTT of fixed degree modulo one prime.
#[derive(Clone)]
pub struct NttTable {
    plan: Plan,
    modulus: Modulus,
    log_n: u32,
}

impl std::fmt::Debug for NttTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NttTable")
            .field("q", &self.modulus.value())
            .field("log_n", &self.log_n)
            .finish()
    }
}

/// Reverses the low `bits` bits of `i`.
#[inline]
pub fn bit_reverse(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

impl NttTable {
    /// Builds the plan for degree `n` (a power of two, at least 16) modulo the prime `modulus`
    /// (≡ 1 mod 2n) and checks the slot order described in the module documentation.
    pub fn new(n: usize, modulus: Modulus) -> Result<NttTable, RingError> {
        let q = modulus.value();
        let plan = Plan::try_new(n, q).ok_or(RingError::NoNttPlan {
            degree: n,
            modulus: q,
        })?;
        let table = NttTable {
            plan,
            modulus,
            log_n: n.trailing_zeros(),
        };
        table.check_slot_order()?;
        Ok(table)
    }

    /// Verifies that `NTT(X)[i] = ψ^(2·brv(i)+1)` with `ψ = NTT(X)[0]` a primitive 2N-th root.
    fn check_slot_order(&self) -> Result<(), RingError> {
        let n = self.degree();
        let m = self.modulus;
        let mut x = vec![0u64; n];
        x[1] = 1;
        self.forward(&mut x);
        let psi = x[0];
        let psi_squared = m.mul(psi, psi);
        let mut odd_power = psi; // ψ^(2j+1)
        let mut ok = m.pow(psi, n as u64) == m.value() - 1;
        for j in 0..n {
            ok &= x[bit_reverse(j, self.log_n)] == odd_power;
            odd_power = m.mul(odd_power, psi_squared);
        }
        if ok {
            Ok(())
        } else {
            Err(RingError::UnexpectedNttOrder { modulus: m.value() })
        }
    }

    /// The ring degree N.
    pub fn degree(&self) -> usize {
        1 << self.log_n
    }

    /// The prime modulus.
    pub fn modulus(&self) -> &Modulus {
        &self.modulus
    }

    /// Forward transform in place: coefficients (reduced) in, evaluations in bit-reversed order
    /// out, all reduced.
    #[inline]
    pub fn forward(&self, limb: &mut [u64]) {
        self.plan.fwd(limb);
    }

    /// `acc[i] += a[i] · b[i] mod q` for reduced inputs (tfhe-ntt's SIMD kernel: AVX-512 IFMA
    /// below 2^51, AVX-512 or AVX2 Barrett otherwise). The pointwise product of NTT forms.
    #[inline]
    pub fn mul_accumulate(&self, acc: &mut [u64], a: &[u64], b: &[u64]) {
        self.plan.mul_accumulate(acc, a, b);
    }

    /// Inverse transform in place, normalised: evaluations in bit-reversed order in,
    /// coefficients out.
    #[inline]
    pub fn inverse(&self, limb: &mut [u64]) {
        self.plan.inv(limb);
        self.plan.normalize(limb);
    }
}
