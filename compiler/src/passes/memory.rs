//! The memory model of DESIGN §5: bytes of ciphertexts, plaintexts and key-switching keys by
//! level, for the schedule pass's peak estimate and the `--memory-budget` check.
//!
//! - ciphertext at level `l`: `2 · N · (l+1) · 8`;
//! - plaintext at level `l`: `N · (l+1) · 8`;
//! - key-switching key used up to level `l`: `digits(l) · 2 · N · (l+1+k) · 8`, half when
//!   seed-compressed, with `k` special primes and `digits(l) = ⌈(l+1)/α⌉`, `α = ⌈(L+1)/dnum⌉`
//!   (hybrid key switching groups the `L+1` chain primes into `dnum` digits of `α` primes),
//!   or the parameters' own per-level key size when the target gives it
//!   ([`MemoryModel::key_bytes_by_level`]).
//!
//! Keys are counted as the runtime holds them **in memory**: expanded, not seed-compressed
//! (a seed-compressed key is a storage format; loading regenerates its uniform half, so
//! `fhec bench bootstrap` reports `eval_key_bytes_in_memory` = 2 × the stored size). A
//! program that bootstraps also keeps the bootstrapping's keys and its encoded DFT diagonals
//! resident ([`BootstrapResidency`]); a rotation, conjugation or relinearisation key both the
//! circuit and the bootstrapping use is one key, capped at the larger level, and counted once.

use fhec_ir::{KeySet, Opcode, Program, Type};
use std::collections::BTreeMap;

/// What bootstrapping keeps resident for the whole run, besides the circuit's own keys: its
/// evaluation keys and its encoded CoeffToSlot/SlotToCoeff diagonals (the target derives
/// them from the bootstrapping configuration and its DFT plan).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootstrapResidency {
    /// Rotation offset → the highest level the bootstrapping rotates by it at.
    pub rotation_levels: BTreeMap<i64, u32>,
    /// The level cap of the bootstrapping's conjugation key.
    pub conjugation_level: u32,
    /// The level cap of the bootstrapping's relinearisation key.
    pub relinearization_level: u32,
    /// Bytes of all the bootstrapping's evaluation keys in memory (rotations, conjugation,
    /// relinearisation, encapsulation).
    pub key_bytes: u64,
    /// Bytes of the encoded DFT diagonals (one plaintext over `Q_l·P` per diagonal, at its
    /// factor's level).
    pub plaintext_bytes: u64,
}

/// Bytes the evaluation keys and bootstrapping constants of a program hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResidentBytes {
    /// The circuit's keys not already held by bootstrapping (a key both use counts here only
    /// for the bytes its larger cap adds).
    pub circuit_keys: u64,
    /// The bootstrapping's keys (0 when the program does not bootstrap).
    pub bootstrap_keys: u64,
    /// The bootstrapping's encoded DFT diagonals (0 when the program does not bootstrap).
    pub bootstrap_plaintexts: u64,
}

/// Ring and key-switching facts the byte counts need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryModel {
    /// The ring degree `N`.
    pub ring_degree: u64,
    /// The top level `L` of the chain (for the digit size).
    pub top_level: u32,
    /// Number of key-switching digits `dnum` at the top level.
    pub dnum: u32,
    /// Number of special primes `k`.
    pub special_primes: u32,
    /// Whether evaluation keys are held seed-compressed (half size). The runtime expands
    /// keys in memory, so targets set `false`; `true` sizes the stored form.
    pub seed_compressed: bool,
    /// Bytes of one key-switching key at each level `0..=L`, from the parameters' own digit
    /// layout (overrides the formula; `None`: the formula).
    pub key_bytes_by_level: Option<Vec<u64>>,
    /// What bootstrapping keeps resident, counted when the program bootstraps.
    pub bootstrap: Option<BootstrapResidency>,
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
            key_bytes_by_level: None,
            bootstrap: None,
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
        if let Some(&bytes) = self
            .key_bytes_by_level
            .as_ref()
            .and_then(|table| table.get(level as usize))
        {
            return bytes;
        }
        let full = self.digits(level)
            * 2
            * self.ring_degree
            * (Self::limbs(level) + u64::from(self.special_primes))
            * 8;
        if self.seed_compressed { full / 2 } else { full }
    }

    /// Bytes of every key in `keys` (rotations, conjugation, relinearisation), each sized by
    /// its level cap. Bootstrapping keys are not in a [`KeySet`]: see [`Self::resident_bytes`].
    pub fn key_set_bytes(&self, keys: &KeySet) -> u64 {
        keys.rotations
            .values()
            .copied()
            .chain(keys.conjugation)
            .chain(keys.relinearization)
            .map(|cap| self.key_bytes(cap))
            .sum()
    }

    /// The bytes `level` adds to a key already held up to `held` (0 when `held` covers it).
    fn key_bytes_above(&self, level: u32, held: Option<u32>) -> u64 {
        match held {
            Some(held) if held >= level => 0,
            Some(held) => self.key_bytes(level) - self.key_bytes(held),
            None => self.key_bytes(level),
        }
    }

    /// The resident bytes of `program`'s keys and, when it bootstraps, of the bootstrapping's
    /// keys and DFT diagonals; a key both use is counted once, at the larger cap.
    pub fn resident_bytes(&self, program: &Program) -> ResidentBytes {
        let keys = &program.keys;
        let bootstraps = program
            .instructions()
            .any(|(_, d)| d.opcode == Opcode::Bootstrap);
        let Some(boot) = self.bootstrap.as_ref().filter(|_| bootstraps) else {
            return ResidentBytes {
                circuit_keys: self.key_set_bytes(keys),
                ..ResidentBytes::default()
            };
        };
        let rotations: u64 = keys
            .rotations
            .iter()
            .map(|(&offset, &cap)| {
                let held = boot.rotation_levels.get(&i64::from(offset)).copied();
                self.key_bytes_above(cap, held)
            })
            .sum();
        let conjugation = keys.conjugation.map_or(0, |cap| {
            self.key_bytes_above(cap, Some(boot.conjugation_level))
        });
        let relinearization = keys.relinearization.map_or(0, |cap| {
            self.key_bytes_above(cap, Some(boot.relinearization_level))
        });
        ResidentBytes {
            circuit_keys: rotations + conjugation + relinearization,
            bootstrap_keys: boot.key_bytes,
            bootstrap_plaintexts: boot.plaintext_bytes,
        }
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
            ..MemoryModel::default()
        };
        assert_eq!(m.ciphertext_bytes(0), 2 * 65536 * 8);
        assert_eq!(m.plaintext_bytes(11), 65536 * 12 * 8);
        // α = 8: level 7 needs one digit, level 8 two, level 23 three.
        assert_eq!((m.digits(7), m.digits(8), m.digits(23)), (1, 2, 3));
        assert_eq!(m.key_bytes(23), 3 * 2 * 65536 * (24 + 8) * 8);
        let compressed = MemoryModel {
            seed_compressed: true,
            ..m.clone()
        };
        assert_eq!(compressed.key_bytes(23), m.key_bytes(23) / 2);
    }

    fn io(name: &str) -> fhec_ir::IoSpec {
        fhec_ir::IoSpec {
            name: name.into(),
            layout: fhec_ir::Opaque::from_ron("()").unwrap(),
        }
    }

    #[test]
    fn keys_shared_with_bootstrapping_count_once_at_the_larger_cap() {
        let m = MemoryModel {
            ring_degree: 1 << 10,
            top_level: 11,
            dnum: 3,
            special_primes: 4,
            bootstrap: Some(BootstrapResidency {
                rotation_levels: BTreeMap::from([(1, 11), (2, 3)]),
                conjugation_level: 8,
                relinearization_level: 8,
                key_bytes: 1_000_000,
                plaintext_bytes: 2_000_000,
            }),
            ..MemoryModel::default()
        };
        let mut keys = KeySet::default();
        keys.add_rotation(1, 5); // held by the bootstrap at 11: free
        keys.add_rotation(2, 5); // held at 3: the bytes from 3 to 5
        keys.add_rotation(4, 5); // the circuit's own
        keys.relinearization = Some(5); // held at 8: free
        let mut b = fhec_ir::Builder::new();
        let x = b
            .input(io("x"), Type::cipher(5, fhec_ir::Scale::pow2(40), 8))
            .unwrap();
        b.output(x, io("y")).unwrap();
        let mut program = b.finish();
        program.keys = keys.clone();
        // No bootstrap in the program: only its own keys.
        let plain = m.resident_bytes(&program);
        assert_eq!(plain.circuit_keys, m.key_set_bytes(&keys));
        assert_eq!((plain.bootstrap_keys, plain.bootstrap_plaintexts), (0, 0));
        // With one: the bootstrapping's keys and diagonals, the circuit's excess only.
        let mut b = fhec_ir::Builder::new();
        b.set_bootstrap(fhec_ir::BootstrapSpec {
            input_level: 0,
            input_scale: fhec_ir::Scale::pow2(40),
            output_level: 5,
            output_scale: fhec_ir::Scale::pow2(40),
        });
        let x = b
            .input(io("x"), Type::cipher(0, fhec_ir::Scale::pow2(40), 8))
            .unwrap();
        let y = b.bootstrap(x).unwrap();
        b.output(y, io("y")).unwrap();
        let mut program = b.finish();
        program.keys = keys;
        let resident = m.resident_bytes(&program);
        assert_eq!(
            resident.circuit_keys,
            m.key_bytes(5) - m.key_bytes(3) + m.key_bytes(5)
        );
        assert_eq!(resident.bootstrap_keys, 1_000_000);
        assert_eq!(resident.bootstrap_plaintexts, 2_000_000);
    }
}
