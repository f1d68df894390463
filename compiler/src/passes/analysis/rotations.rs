//! Rotation usage: how often each rotation offset is used (the keys pass keeps the most used
//! ones under a key budget), and the key set a program needs, each key capped at the highest
//! level it is used at (DESIGN §4: keys are generated only up to that level).

use crate::passes::keys::canonical_offset;
use fhec_ir::{InstData, KeyNeed, KeySet, Program, Type};
use std::collections::BTreeMap;

/// The type of the (first) ciphertext an instruction reads: the one a rotation rotates, the
/// level a key is used at.
pub fn operand_type<'p>(program: &'p Program, data: &InstData) -> Option<&'p Type> {
    data.args.first().and_then(|&a| program.value_type(a))
}

/// How many times each rotation offset is used, keyed by the slot count it is used on and
/// the offset in canonical form (a hoisted group counts once per offset).
pub fn rotation_usage(program: &Program) -> BTreeMap<(u32, i32), usize> {
    let mut uses = BTreeMap::new();
    for (_, data) in program.instructions() {
        if data.opcode.key() != KeyNeed::Rotation {
            continue;
        }
        let Some(ty) = operand_type(program, data) else {
            continue;
        };
        for &k in data.imm.offsets() {
            *uses
                .entry((ty.slots, canonical_offset(k, ty.slots)))
                .or_insert(0) += 1;
        }
    }
    uses
}

/// The key set the program uses, each key capped at its highest level of use.
pub fn key_set(program: &Program) -> KeySet {
    let mut keys = KeySet::default();
    for (_, data) in program.instructions() {
        let Some(level) = operand_type(program, data).map(|t| t.level) else {
            continue;
        };
        match data.opcode.key() {
            KeyNeed::Rotation => data
                .imm
                .offsets()
                .iter()
                .for_each(|&k| keys.add_rotation(k, level)),
            KeyNeed::Conjugation => keys.add_conjugation(level),
            KeyNeed::Relinearization => keys.add_relinearization(level),
            KeyNeed::None | KeyNeed::Bootstrapping => {}
        }
    }
    keys
}
