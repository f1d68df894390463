//! The memory model of DESIGN §5: bytes of ciphertexts, plaintexts and key-switching keys by
//! level, for the schedule pass's peak estimate and the `--memory-budget` check.
//!
//! - ciphertext at level `l`: `2 · N · (l+1) · 8`;
//! - plaintext at level `l`: `N · (l+1) · 8`;
//! - key-switching key used up to level `l`: `digits(l) · 2 · N · (l+1+k) · 8`, half when
//!   seed-compressed, with `k` special primes and `digits(l) = ⌈(l+1)/α⌉`, `α = ⌈(L+1)/dnum⌉`
//!   (hybrid key switching groups the `L+1` chain primes into `dnum` digits of `α` primes).

use fhec_ir::{KeySet, Program, Type};

/// Ring and key-switching facts the byte counts need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryModel {
    /// The ring degree `N`.
    pub ring_degree: u64,
    /// The top level `L` of the chain (for the digit size).
    pub top_level: u32,
    /// Number of key-switching digits `dnum` at the top level.
    pub dnum: u32,
    /// Number of special primes `k`.
    pub special_primes: u32,
    /// Whether evaluation keys are stored seed-compressed (half size).
    pub seed_compressed: bool,
}

impl MemoryModel {
    /// A model for `program` when the parameters are not chosen yet: the smallest ring that
    /// holds its slot count (`N = 2·n`), the highest level it uses as the top, `dnum = 3`
    /// and one special prime per digit's worth of primes (`k = α`), as hybrid key switching
    /// usually sets it.
    pub fn for_program(program: &Program) -> Self {
        let mut slots = 1u32;
        let mut top = program.bootstrap.as_ref().map_or(0, |b| b.output_level);
        for (_, data) in program.instructions() {
            for &v in data.results.iter().chain(&data.args) {
                if let Some(ty) = program.value_type(v) {
                    slots = slots.max(ty.slots);
                    top = top.max(ty.level);
                }
            }
        }
        let dnum = 3;
        let alpha = (top + 1).div_ceil(dnum);
        MemoryModel {
            ring_degree: 2 * u64::from(slots),
            top_level: top,
            dnum,
            special_primes: alpha,
            seed_compressed: false,
        }
    }

    fn limbs(level: u32) -> u64 {
        u64::from(level) + 1
    }

    /// Bytes of a ciphertext at `level`.
    pub fn ciphertext_bytes(&self, level: u32) -> u64 {
        2 * self.ring_degree * Self::limbs(level) * 8
    }

    /// Bytes of a plaintext at `level`.
    pub fn plaintext_bytes(&self, level: u32) -> u64 {
        self.ring_degree * Self::limbs(level) * 8
    }

    /// Bytes of a value of type `ty`.
    pub fn value_bytes(&self, ty: &Type) -> u64 {
        if ty.is_cipher() {
            self.ciphertext_bytes(ty.level)
        } else {
            self.plaintext_bytes(ty.level)
        }
    }

    /// Key-switching digits used at `level`.
    pub fn digits(&self, level: u32) -> u64 {
        let alpha = (self.top_level + 1).div_ceil(self.dnum.max(1)).max(1);
        u64::from((level + 1).div_ceil(alpha))
    }

    /// Bytes of one key-switching key used up to `level`.
    pub fn key_bytes(&self, level: u32) -> u64 {
        let full = self.digits(level)
            * 2
            * self.ring_degree
            * (Self::limbs(level) + u64::from(self.special_primes))
            * 8;
        if self.seed_compressed { full / 2 } else { full }
    }

    /// Bytes of every key in `keys` (rotations, conjugation, relinearisation), each sized by
    /// its level cap. Bootstrapping keys are not in a [`KeySet`] and not counted.
    pub fn key_set_bytes(&self, keys: &KeySet) -> u64 {
        keys.rotations
            .values()
            .copied()
            .chain(keys.conjugation)
            .chain(keys.relinearization)
            .map(|cap| self.key_bytes(cap))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_design_formulas() {
        let m = MemoryModel {
            ring_degree: 1 << 16,
            top_level: 23,
            dnum: 3,
            special_primes: 8,
            seed_compressed: false,
        };
        assert_eq!(m.ciphertext_bytes(0), 2 * 65536 * 8);
        assert_eq!(m.plaintext_bytes(11), 65536 * 12 * 8);
        // α = 8: level 7 needs one digit, level 8 two, level 23 three.
        assert_eq!((m.digits(7), m.digits(8), m.digits(23)), (1, 2, 3));
        assert_eq!(m.key_bytes(23), 3 * 2 * 65536 * (24 + 8) * 8);
        let compressed = MemoryModel {
            seed_compressed: true,
            ..m
        };
        assert_eq!(compressed.key_bytes(23), m.key_bytes(23) / 2);
    }
}
