//! The unvalidated description of a CKKS parameter set, as a user, a preset or a compiled
//! program states it. [`crate::CkksParams::new`] turns it into exact primes and checks it.

use serde::{Deserialize, Serialize};

/// Distribution of the secret key's coefficients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SecretDistribution {
    /// Dense uniform ternary: every coefficient uniform in {-1, 0, 1}. The distribution the
    /// HE-standard table (and therefore the 128-bit check) is stated for.
    #[default]
    Ternary,
    /// Exactly `hamming_weight` non-zero coefficients, each ±1. Sparse secrets make
    /// bootstrapping cheaper; the HE-standard table is not stated for them, so the same bound
    /// is applied as for dense ternary secrets (see [`crate::security`]).
    FixedHammingWeight {
        /// Number of non-zero coefficients, 1..=N.
        hamming_weight: usize,
    },
}

/// A CKKS parameter set as stated, before validation: bit sizes rather than primes.
///
/// Every field is public so presets, files and command lines can build one freely;
/// nothing here is trusted until [`crate::CkksParams::new`] has checked it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CkksParamsLiteral {
    /// Base-2 logarithm of the ring degree N.
    pub log_n: u32,
    /// Bit sizes of the ciphertext primes q_0 (first, decryption prime), q_1, …, q_L.
    pub log_q: Vec<u32>,
    /// Bit sizes of the special primes p_0, …, p_{k-1} used by hybrid key switching.
    pub log_p: Vec<u32>,
    /// Number of key-switching digits: the Q primes are split into `dnum` groups.
    pub dnum: usize,
    /// Base-2 logarithm of the default encoding scale.
    pub log_scale: u32,
    /// Distribution of the secret key.
    #[serde(default)]
    pub secret: SecretDistribution,
    /// The caller's explicit opt-in to parameters weaker than 128-bit security (tests only).
    ///
    /// Only code sets it (a test, or a command-line flag the user typed): deserializing a
    /// literal always leaves it `false`, so a data file can never switch the 128-bit check off
    /// (docs/security.md). It is still written when serializing, as a label of insecure
    /// parameters; [`crate::CkksParams::new`] clears it when the parameters pass the check
    /// anyway, so it is set exactly on parameters whose verdict is
    /// [`crate::SecurityLevel::Insecure`].
    #[serde(skip_deserializing)]
    pub insecure: bool,
}
