//! Newtypes for the dimensions of a parameter set, so that a ring degree, a level and a limb
//! count can never be swapped by accident where all three would otherwise be a `usize`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Base-2 logarithm of the ring degree N (the ring is `Z_q[X]/(X^N + 1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogN(pub u32);

impl LogN {
    /// The ring degree N = 2^log_n.
    pub fn degree(self) -> usize {
        1usize << self.0
    }

    /// The number of complex slots, N/2.
    pub fn max_slots(self) -> usize {
        1usize << (self.0 - 1)
    }
}

impl fmt::Display for LogN {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "logN={}", self.0)
    }
}

/// A ciphertext level: level `l` means the modulus is `q_0 · … · q_l`, i.e. `l + 1` RNS limbs.
/// Level 0 is the last level at which a ciphertext can still be decrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Level(pub usize);

impl Level {
    /// Number of ciphertext-modulus limbs at this level (`level + 1`).
    pub fn limbs(self) -> usize {
        self.0 + 1
    }

    /// The level below this one, or `None` at level 0.
    pub fn below(self) -> Option<Level> {
        self.0.checked_sub(1).map(Level)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "l={}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_follow_from_log_n_and_level() {
        assert_eq!(LogN(13).degree(), 8192);
        assert_eq!(LogN(13).max_slots(), 4096);
        assert_eq!(Level(0).limbs(), 1);
        assert_eq!(Level(3).below(), Some(Level(2)));
        assert_eq!(Level(0).below(), None);
        assert_eq!(Level(7).to_string(), "l=7");
    }
}
