//! The polynomial ring of RNS-CKKS: `Z_Q[X]/(X^N + 1)` with Q a product of word-sized primes,
//! extended by special primes P for hybrid key switching (DESIGN §4). The lower half of the
//! CKKS library: encoding, keys and evaluation build on this API and nothing below it.
//!
//! # API
//!
//! **Context.** [`RingContext::new`]`(&CkksParams)` builds everything once per parameter set:
//! the bases Q (`q_0..q_L`) and P (`p_0..p_{k-1}`) as [`RnsBasis`] (primes with [`Modulus`]
//! constants and [`NttTable`]s), the digits, and the tables of every RNS tool below.
//! [`RingContext::from_primes`] does the same from explicit primes (tests).
//!
//! **Polynomials.** [`RnsPoly`]: limb-major `Vec<u64>`, N words per limb, limbs `q_0..q_l`
//! then (when [`RnsPoly::has_special`]) `p_0..p_{k-1}`; [`Form`] says coefficients or NTT
//! evaluations. Create with [`RingContext::zero`]`(level, with_special, form)` or
//! [`RingContext::from_signed`], or from raw limbs (e.g. read from a file) with the checked
//! [`RingContext::poly_from_data`]; inspect with `level()`, `limb(i)`, `data()`; reshape with
//! [`RnsPoly::drop_last_q_limbs`], [`RnsPoly::drop_special_limbs`], [`RnsPoly::q_prefix`].
//!
//! **Element-wise** (same shape required; panics naming both shapes otherwise):
//! `add_assign`, `sub_assign`, `add`, `sub`, `neg_assign`, `mul_assign`/`mul` (pointwise,
//! NTT form), `mul_acc` (`acc += a ⊙ b`), `mul_scalars_assign` (one scalar per limb),
//! `mul_scalar_assign`, `add_scalars_assign` (a constant polynomial), `scalar_residues`.
//!
//! **Forms.** [`RingContext::to_ntt`], [`RingContext::to_coefficient`] (normalised inverse).
//! The NTT output is in bit-reversed order (see [`ntt`]); only automorphisms care.
//!
//! **Automorphisms** `X ↦ X^g`, g odd below 2N: [`RingContext::automorphism`] (either form),
//! [`RingContext::galois_permutation`] + [`RingContext::automorphism_ntt`] to reuse the NTT
//! slot permutation across limbs and calls (hoisting), `galois_element_for_rotation(k)`
//! (`5^k mod 2N`) and `galois_element_for_conjugation()` (`2N − 1`).
//!
//! **RNS tools.**
//! - [`RingContext::mod_up`]`(a, digit, out)`: digit's limbs → the rest of `Q_l` and P, the
//!   centered lift of the digit's value, exact (f64-corrected base conversion).
//! - [`RingContext::mod_down`]`(a, out)`: `Q_l·P → Q_l`, `round(a/P)`, exact (unbiased).
//!   Both are off only for values within about `s·2^−52` of a tie (see [`conversion`]).
//! - [`RingContext::rescale_assign`]: `round(a / q_l)`, exact, drops the last limb.
//! - [`crt::crt_reconstruct`], [`RingContext::coefficient_exact`],
//!   [`RingContext::coefficient_exact_centered`] (big integers) and
//!   [`RingContext::coefficients_centered_f64`] (decoding at any level).
//!
//! Limbs are processed in parallel with rayon from N = 2^12 up; inner loops neither divide
//! nor allocate. Shape mismatches are programming errors (panics naming both shapes); bad
//! primes or degrees are [`RingError`]s.

mod arith;
mod automorphism;
mod basis;
mod context;
pub mod conversion;
pub mod crt;
pub mod modular;
pub mod ntt;
mod poly;
mod rescale;

pub use automorphism::GaloisPermutation;
pub use basis::RnsBasis;
pub use context::RingContext;
pub use conversion::BaseConverter;
pub use modular::{Modulus, ShoupConstant};
pub use ntt::NttTable;
pub use poly::{Form, RnsPoly};

use std::ops::Range;
use thiserror::Error;

/// Why a ring context, basis or modulus could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RingError {
    /// A modulus below 2 or of 62 bits or more.
    #[error("modulus {modulus} is outside the supported range 2..2^62")]
    ModulusOutOfRange {
        /// The refused modulus.
        modulus: u64,
    },
    /// tfhe-ntt has no negacyclic plan (the modulus is not a prime ≡ 1 mod 2N, or N < 16).
    #[error(
        "no negacyclic NTT of degree {degree} modulo {modulus} (needs a prime ≡ 1 mod 2N and N ≥ 16)"
    )]
    NoNttPlan {
        /// The ring degree.
        degree: usize,
        /// The modulus.
        modulus: u64,
    },
    /// The NTT's output order is not the bit-reversed order the automorphisms assume.
    #[error("the NTT modulo {modulus} does not produce the expected bit-reversed slot order")]
    UnexpectedNttOrder {
        /// The modulus whose plan was checked.
        modulus: u64,
    },
    /// log N outside 4..=17.
    #[error("log N = {log_n} is outside the ring's supported range 4..=17")]
    DegreeOutOfRange {
        /// The requested log N.
        log_n: u32,
    },
    /// Q or P is empty.
    #[error("a ring context needs at least one ciphertext prime and one special prime")]
    EmptyBasis,
    /// A prime appears twice across Q and P.
    #[error("prime {prime} appears more than once across Q and P")]
    RepeatedPrime {
        /// The repeated prime.
        prime: u64,
    },
    /// Raw limb data of the wrong length for the requested shape.
    #[error(
        "polynomial data holds {got} words, expected {expected} ({limbs} limbs of N = {degree})"
    )]
    PolyLength {
        /// Words supplied.
        got: usize,
        /// Words the shape needs.
        expected: usize,
        /// Limbs of the shape.
        limbs: usize,
        /// The ring degree.
        degree: usize,
    },
    /// A word of raw limb data is not reduced modulo its limb's prime.
    #[error("coefficient {index} of limb {limb} is {value}, not reduced modulo {modulus}")]
    UnreducedValue {
        /// The limb.
        limb: usize,
        /// Position in the limb.
        index: usize,
        /// The offending value.
        value: u64,
        /// The limb's prime.
        modulus: u64,
    },
    /// A level above the context's highest.
    #[error("level {level} exceeds the highest level {max_level} of these parameters")]
    LevelOutOfRange {
        /// The requested level.
        level: usize,
        /// The context's highest level.
        max_level: usize,
    },
    /// The digits are not contiguous non-empty ranges covering the Q primes in order.
    #[error("digits {digits:?} do not partition the {primes} ciphertext primes in order")]
    BadDigits {
        /// The refused digits.
        digits: Vec<Range<usize>>,
        /// Number of ciphertext primes.
        primes: usize,
    },
}
