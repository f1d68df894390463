//! Validated CKKS parameters: exact primes, key-switching digits and the security verdict.
//!
//! [`CkksParams::new`] is the only way to obtain a [`CkksParams`]; every field is private, so a
//! value of this type is always checked. It serializes as its literal and re-validates when
//! deserialized, so a file cannot smuggle in unchecked parameters; since the insecure opt-in
//! is never read from data, deserialized parameters are always 128-bit secure.

use crate::bignum;
use crate::literal::{CkksParamsLiteral, SecretDistribution};
use crate::primes::largest_ntt_prime;
use crate::security::{SecurityLevel, max_log_qp_128};
use crate::units::{Level, LogN};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;
use thiserror::Error;

/// Smallest supported log N (N = 2^10, for tests; never secure).
pub const MIN_LOG_N: u32 = 10;
/// Largest supported log N (N = 2^17).
pub const MAX_LOG_N: u32 = 17;
/// Largest prime size in bits. tfhe-ntt's fast 64-bit kernels (and the runtime's `Modulus`)
/// need primes below 2^62; we stop one bit short, at 61 bits, so sums of several residues
/// (lazy additions) stay far from overflowing a word. Bigger primes would buy little: CKKS
/// scales are 40-55 bits and q0 rarely needs more than 60.
pub const MAX_PRIME_BITS: u32 = 61;

/// Why a [`CkksParamsLiteral`] was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParamError {
    /// log N outside the supported range.
    #[error("log N = {log_n} is outside the supported range {MIN_LOG_N}..={MAX_LOG_N}")]
    LogNOutOfRange {
        /// The requested log N.
        log_n: u32,
    },
    /// No ciphertext prime was given.
    #[error("the ciphertext modulus needs at least one prime (log_q is empty)")]
    NoCiphertextPrimes,
    /// No special prime was given, so hybrid key switching is impossible.
    #[error("hybrid key switching needs at least one special prime (log_p is empty)")]
    NoSpecialPrimes,
    /// A prime's bit size cannot hold an NTT prime for this ring degree or exceeds the limit.
    #[error("{name} has {bits} bits; primes for N = 2^{log_n} need {min}..={max} bits")]
    PrimeBitsOutOfRange {
        /// Which prime, e.g. `q3` or `p0`.
        name: String,
        /// Its requested bit size.
        bits: u32,
        /// log N of the ring.
        log_n: u32,
        /// Smallest allowed bit size (log N + 2: the prime must exceed 2N).
        min: u32,
        /// Largest allowed bit size ([`MAX_PRIME_BITS`]).
        max: u32,
    },
    /// Every prime of that size congruent to 1 mod 2N is already taken.
    #[error("no unused {bits}-bit prime q ≡ 1 mod 2^{} is left for {name}", log_n + 1)]
    PrimesExhausted {
        /// Which prime, e.g. `q3` or `p0`.
        name: String,
        /// Its requested bit size.
        bits: u32,
        /// log N of the ring.
        log_n: u32,
    },
    /// The scale does not fit below the first prime.
    #[error("log scale {log_scale} must satisfy 0 < log scale < log q0 = {log_q0:.2}")]
    ScaleOutOfRange {
        /// The requested log scale.
        log_scale: u32,
        /// log2 of the actual first prime.
        log_q0: f64,
    },
    /// dnum is zero or exceeds the number of ciphertext primes.
    #[error("dnum = {dnum} must be between 1 and the number of ciphertext primes ({primes})")]
    DnumOutOfRange {
        /// The requested number of digits.
        dnum: usize,
        /// Number of ciphertext primes.
        primes: usize,
    },
    /// P is smaller than a digit's modulus, so key switching would not remove the digit's noise.
    #[error(
        "special modulus P ({log_p:.2} bits) is smaller than digit {digit} ({log_digit:.2} bits): \
         add special primes or raise dnum"
    )]
    SpecialModulusTooSmall {
        /// log2 of P.
        log_p: f64,
        /// Index of the largest digit.
        digit: usize,
        /// log2 of that digit's modulus.
        log_digit: f64,
    },
    /// The Hamming weight of a sparse secret is zero or exceeds N.
    #[error("secret Hamming weight {hamming_weight} must be between 1 and N = {n}")]
    HammingWeightOutOfRange {
        /// The requested Hamming weight.
        hamming_weight: usize,
        /// The ring degree.
        n: usize,
    },
    /// A fixed-Hamming-weight secret was asked for without the insecure opt-in: the
    /// HE-standard bound this crate checks covers uniform ternary secrets only.
    #[error(
        "a fixed-Hamming-weight secret at log N = {log_n} is not covered by the HE-standard \
         128-bit table (uniform ternary secrets only); use the dense ternary secret, or have \
         the caller opt in to insecure parameters (tests only; a file cannot)"
    )]
    SparseSecretNotCovered {
        /// log2 of the ring degree.
        log_n: u32,
    },
    /// log2(QP) exceeds the 128-bit bound and the caller did not opt in to insecure parameters.
    #[error(
        "log2(QP) = {log_qp:.2} exceeds the 128-bit bound {bound} for N = 2^{log_n}; \
         only the caller can opt in to weaker parameters (tests only; a file cannot)"
    )]
    AboveSecurityBound {
        /// log2 of the actual QP.
        log_qp: f64,
        /// The HE-standard bound for this ring degree.
        bound: u32,
        /// log N of the ring.
        log_n: u32,
    },
    /// The ring degree is below 2^13, where no modulus is 128-bit secure.
    #[error(
        "N = 2^{log_n} has no 128-bit secure modulus (the smallest secure degree is 2^13); \
         only the caller can opt in to it (tests only; a file cannot)"
    )]
    DegreeTooSmallForSecurity {
        /// log N of the ring.
        log_n: u32,
    },
}

/// A stable 32-byte hash of a validated parameter set (blake3 over a canonical encoding), put in
/// file headers so that data made with other parameters is refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ParamHash(pub [u8; 32]);

impl fmt::Display for ParamHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for ParamHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParamHash({self})")
    }
}

/// A validated CKKS parameter set: exact primes, digits, security verdict and hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CkksParamsLiteral", into = "CkksParamsLiteral")]
pub struct CkksParams {
    literal: CkksParamsLiteral,
    q: Vec<u64>,
    p: Vec<u64>,
    digits: Vec<Range<usize>>,
    log_qp: f64,
    security: SecurityLevel,
    hash: ParamHash,
}

impl TryFrom<CkksParamsLiteral> for CkksParams {
    type Error = ParamError;
    fn try_from(lit: CkksParamsLiteral) -> Result<Self, ParamError> {
        CkksParams::new(lit)
    }
}

impl From<CkksParams> for CkksParamsLiteral {
    fn from(params: CkksParams) -> Self {
        params.literal
    }
}

fn log2_product(primes: &[u64]) -> f64 {
    primes.iter().map(|&q| (q as f64).log2()).sum()
}

/// The primes of key-switching digit `digit` present at `level`, as indices into the ciphertext
/// primes, or `None` when the digit has no prime at that level (a key switch at `level` then
/// skips it). The one statement of this rule: fhec-params counts digits with it
/// ([`CkksParams::digits_at`]) and the runtime builds its ModUp tables with it.
pub fn digit_primes_at(digit: &Range<usize>, level: Level) -> Option<Range<usize>> {
    (digit.start <= level.0).then(|| digit.start..digit.end.min(level.limbs()))
}

/// Whether `digits` are non-empty contiguous ranges covering the indices `0..primes` in order:
/// what [`CkksParams::digits`] always is, and what callers that bring their own digits (tests,
/// tools) must check.
pub fn is_digit_partition(digits: &[Range<usize>], primes: usize) -> bool {
    let mut next = 0;
    for digit in digits {
        if digit.start != next || digit.end <= digit.start {
            return false;
        }
        next = digit.end;
    }
    next == primes
}

/// Splits `count` primes into `dnum` contiguous groups whose sizes differ by at most one, the
/// larger groups first.
fn partition_digits(count: usize, dnum: usize) -> Vec<Range<usize>> {
    let (base, extra) = (count / dnum, count % dnum);
    let mut start = 0;
    (0..dnum)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let range = start..start + len;
            start += len;
            range
        })
        .collect()
}

/// Generates the primes for the given bit sizes, avoiding every prime in `taken` and each other.
fn generate_primes(
    bit_sizes: &[u32],
    prefix: &str,
    log_n: u32,
    taken: &mut Vec<u64>,
) -> Result<Vec<u64>, ParamError> {
    let mut primes = Vec::with_capacity(bit_sizes.len());
    for (i, &bits) in bit_sizes.iter().enumerate() {
        let name = format!("{prefix}{i}");
        let min = log_n + 2;
        if !(min..=MAX_PRIME_BITS).contains(&bits) {
            return Err(ParamError::PrimeBitsOutOfRange {
                name,
                bits,
                log_n,
                min,
                max: MAX_PRIME_BITS,
            });
        }
        let q = largest_ntt_prime(bits, log_n, taken).ok_or(ParamError::PrimesExhausted {
            name,
            bits,
            log_n,
        })?;
        taken.push(q);
        primes.push(q);
    }
    Ok(primes)
}

impl CkksParams {
    /// Validates `lit`: generates its primes, splits them into digits and checks security.
    ///
    /// Checks, in order: log N in 10..=17; at least one q and one p prime; every prime size in
    /// (log N + 2)..=61 bits and enough distinct primes ≡ 1 mod 2N of each size;
    /// 0 < log scale < log q0; 1 ≤ dnum ≤ #q; P ≥ every digit's modulus; a Hamming weight in
    /// 1..=N; and log2(QP) within the 128-bit bound unless the caller set `insecure` (which a
    /// deserialized literal never has). The opt-in is cleared when the parameters pass the
    /// check anyway, so two literals differing only in an unneeded opt-in give equal
    /// parameters with equal hashes.
    pub fn new(mut lit: CkksParamsLiteral) -> Result<CkksParams, ParamError> {
        let log_n = lit.log_n;
        if !(MIN_LOG_N..=MAX_LOG_N).contains(&log_n) {
            return Err(ParamError::LogNOutOfRange { log_n });
        }
        if lit.log_q.is_empty() {
            return Err(ParamError::NoCiphertextPrimes);
        }
        if lit.log_p.is_empty() {
            return Err(ParamError::NoSpecialPrimes);
        }
        let mut taken = Vec::with_capacity(lit.log_q.len() + lit.log_p.len());
        let q = generate_primes(&lit.log_q, "q", log_n, &mut taken)?;
        let p = generate_primes(&lit.log_p, "p", log_n, &mut taken)?;

        let log_q0 = (q[0] as f64).log2();
        if lit.log_scale == 0 || lit.log_scale as f64 >= log_q0 {
            return Err(ParamError::ScaleOutOfRange {
                log_scale: lit.log_scale,
                log_q0,
            });
        }
        if lit.dnum == 0 || lit.dnum > q.len() {
            return Err(ParamError::DnumOutOfRange {
                dnum: lit.dnum,
                primes: q.len(),
            });
        }
        let digits = partition_digits(q.len(), lit.dnum);
        let p_product = bignum::product(&p);
        for (digit, range) in digits.iter().enumerate() {
            let digit_primes = &q[range.clone()];
            if bignum::compare(&p_product, &bignum::product(digit_primes)) == Ordering::Less {
                return Err(ParamError::SpecialModulusTooSmall {
                    log_p: log2_product(&p),
                    digit,
                    log_digit: log2_product(digit_primes),
                });
            }
        }
        let n = 1usize << log_n;
        if let SecretDistribution::FixedHammingWeight { hamming_weight } = lit.secret
            && !(1..=n).contains(&hamming_weight)
        {
            return Err(ParamError::HammingWeightOutOfRange { hamming_weight, n });
        }

        let log_qp = log2_product(&q) + log2_product(&p);
        // The HE-standard table covers uniform ternary secrets only: a sparse secret is never
        // labelled 128-bit by it, whatever its weight.
        let dense = matches!(lit.secret, SecretDistribution::Ternary);
        let security = match max_log_qp_128(log_n) {
            Some(bound) if dense && log_qp <= bound as f64 => SecurityLevel::Bits128,
            _ if lit.insecure => SecurityLevel::Insecure,
            _ if !dense => return Err(ParamError::SparseSecretNotCovered { log_n }),
            Some(bound) => {
                return Err(ParamError::AboveSecurityBound {
                    log_qp,
                    bound,
                    log_n,
                });
            }
            None => return Err(ParamError::DegreeTooSmallForSecurity { log_n }),
        };
        lit.insecure = security == SecurityLevel::Insecure;
        let hash = hash_params(&lit, &q, &p);
        Ok(CkksParams {
            literal: lit,
            q,
            p,
            digits,
            log_qp,
            security,
            hash,
        })
    }

    /// The literal these parameters were validated from.
    pub fn literal(&self) -> CkksParamsLiteral {
        self.literal.clone()
    }

    /// log N.
    pub fn log_n(&self) -> LogN {
        LogN(self.literal.log_n)
    }

    /// The ring degree N.
    pub fn degree(&self) -> usize {
        self.log_n().degree()
    }

    /// The number of complex slots available, N/2.
    pub fn max_slots(&self) -> usize {
        self.log_n().max_slots()
    }

    /// The ciphertext primes q_0..q_L, in chain order (q_L is dropped first by rescaling).
    pub fn q_primes(&self) -> &[u64] {
        &self.q
    }

    /// The special primes p_0..p_{k-1} of hybrid key switching.
    pub fn p_primes(&self) -> &[u64] {
        &self.p
    }

    /// The ciphertext primes present at `level` (q_0..q_level).
    ///
    /// # Panics
    /// If `level` exceeds [`Self::max_level`]: a level is a programmer-side quantity.
    pub fn q_primes_at(&self, level: Level) -> &[u64] {
        assert!(
            level <= self.max_level(),
            "{level} exceeds the maximum {}",
            self.max_level()
        );
        &self.q[..level.limbs()]
    }

    /// The key-switching digits: index ranges into [`Self::q_primes`], contiguous, covering
    /// all of them, sizes differing by at most one (larger first).
    pub fn digits(&self) -> &[Range<usize>] {
        &self.digits
    }

    /// Number of key-switching digits (dnum).
    pub fn dnum(&self) -> usize {
        self.digits.len()
    }

    /// Number of digits a key switch at `level` decomposes into (digits holding a prime of
    /// q_0..q_level).
    pub fn digits_at(&self, level: Level) -> usize {
        self.digits
            .iter()
            .filter(|d| digit_primes_at(d, level).is_some())
            .count()
    }

    /// The highest level, L (one less than the number of ciphertext primes).
    pub fn max_level(&self) -> Level {
        Level(self.q.len() - 1)
    }

    /// log2 of the default scale.
    pub fn log_scale(&self) -> u32 {
        self.literal.log_scale
    }

    /// The secret-key distribution.
    pub fn secret(&self) -> SecretDistribution {
        self.literal.secret
    }

    /// log2(QP) computed from the actual primes.
    pub fn log_qp(&self) -> f64 {
        self.log_qp
    }

    /// The security verdict; its [`SecurityLevel::label`] goes into every report.
    pub fn security(&self) -> SecurityLevel {
        self.security
    }

    /// The stable hash of these parameters, for file headers.
    pub fn hash(&self) -> ParamHash {
        self.hash
    }
}

/// blake3 over a canonical encoding: a domain tag and version, then every validated quantity in
/// a fixed order as little-endian integers, each list prefixed by its length.
fn hash_params(lit: &CkksParamsLiteral, q: &[u64], p: &[u64]) -> ParamHash {
    let mut h = blake3::Hasher::new();
    h.update(b"fhec-ckks-params\0v1\0");
    h.update(&lit.log_n.to_le_bytes());
    for primes in [q, p] {
        h.update(&(primes.len() as u64).to_le_bytes());
        primes.iter().for_each(|x| {
            h.update(&x.to_le_bytes());
        });
    }
    h.update(&(lit.dnum as u64).to_le_bytes());
    h.update(&lit.log_scale.to_le_bytes());
    match lit.secret {
        SecretDistribution::Ternary => h.update(&[0u8]),
        SecretDistribution::FixedHammingWeight { hamming_weight } => h
            .update(&[1u8])
            .update(&(hamming_weight as u64).to_le_bytes()),
    };
    h.update(&[u8::from(lit.insecure)]);
    ParamHash(*h.finalize().as_bytes())
}
