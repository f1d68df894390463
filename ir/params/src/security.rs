//! The 128-bit security check: the HE-standard bound on log2(QP) for a given ring degree.
//!
//! The table is OpenFHE's current one for uniform ternary secrets, classical attacks,
//! 128-bit security (DESIGN §4): log2(QP) ≤ 218, 438, 881, 1747, 3523 for N = 2^13..2^17.
//! There are no 128-bit parameters below N = 2^13. The older, looser bound of 1772 for
//! N = 2^16 is deliberately not used.
//!
//! Fixed-Hamming-weight (sparse) secrets are held to the same bound: the HE standard states no
//! separate table for them, and DESIGN §4 applies this bound to the ephemeral sparse key of an
//! encapsulated bootstrap as well. A very sparse secret can be weaker than a dense one at the
//! same log QP; callers wanting sparse secrets at full strength should prefer the dense
//! long-term key with sparse-secret encapsulation.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest log2(QP) at 128-bit classical security for uniform ternary secrets, indexed by
/// log N from 13 to 17.
const MAX_LOG_QP_128: [(u32, u32); 5] = [(13, 218), (14, 438), (15, 881), (16, 1747), (17, 3523)];

/// The largest log2(QP) that is 128-bit secure for ring degree 2^log_n, or `None` when no
/// modulus is secure at that degree (log_n < 13) or the table does not cover it.
pub fn max_log_qp_128(log_n: u32) -> Option<u32> {
    MAX_LOG_QP_128
        .iter()
        .find(|(n, _)| *n == log_n)
        .map(|(_, bound)| *bound)
}

/// The security a validated parameter set provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SecurityLevel {
    /// log2(QP) within the HE-standard 128-bit bound for the ring degree.
    Bits128,
    /// Weaker than 128 bits; accepted only because the caller opted in with `insecure`.
    Insecure,
}

impl SecurityLevel {
    /// The label every output made with these parameters carries: `"128-bit"` or `"insecure"`.
    pub fn label(self) -> &'static str {
        match self {
            SecurityLevel::Bits128 => "128-bit",
            SecurityLevel::Insecure => "insecure",
        }
    }
}

impl fmt::Display for SecurityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a caller accepts when it reads parameters from data (a file, a message): the opt-in
/// to insecure parameters is a decision of the caller (a test, a `--insecure` flag), never
/// of the data, so every loader takes one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SecurityPolicy {
    /// Only 128-bit secure parameters are accepted (the default).
    #[default]
    Require128Bit,
    /// Insecure parameters are accepted too, and labelled [`SecurityLevel::Insecure`]
    /// (tests only).
    AllowInsecure,
}

impl SecurityPolicy {
    /// Whether parameters below 128-bit security are accepted.
    pub fn allows_insecure(self) -> bool {
        self == SecurityPolicy::AllowInsecure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_he_standard() {
        assert_eq!(max_log_qp_128(12), None);
        assert_eq!(max_log_qp_128(13), Some(218));
        assert_eq!(max_log_qp_128(16), Some(1747));
        assert_eq!(max_log_qp_128(17), Some(3523));
        assert_eq!(SecurityLevel::Bits128.to_string(), "128-bit");
        assert_eq!(SecurityLevel::Insecure.label(), "insecure");
    }
}
