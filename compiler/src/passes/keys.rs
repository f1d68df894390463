//! The `keys` pass: the rotation-key set, its level caps, and rotations decomposed onto it
//! when a key budget forbids a key per offset.
//!
//! 1. **Canonical offsets**: on `n` slots a rotation by `k` and by `k ± n` are the same
//!    permutation, so every offset is rewritten into `(-n/2, n/2]`: one key serves both
//!    spellings. Offsets that become equal inside a hoisted group are merged.
//! 2. **Budget**: with at most `max_rotation_keys` keys, the most used offsets keep their key
//!    and every other offset is decomposed into signed powers of two, by its non-adjacent form
//!    (`7 = 8 − 1`, fewest rotations), its same-sign binary form (`3 = 2 + 1`) or the binary
//!    form of its other representative modulo `n` (`-2 ≡ 6 = 4 + 2` on 8 slots), whichever adds
//!    fewer keys (or all onto positive powers of two, if that needs fewer); the powers join the
//!    kept set; the largest number of kept frequent offsets such
//!    that the union fits the budget wins. A dropped `rotate x, k` becomes a chain of rotations
//!    by its terms (exact on `n` slots: rotations compose additively modulo `n`).
//! 3. **Key set**: each kept offset with the highest level it is used at, the conjugation and
//!    relinearisation keys likewise (DESIGN §4: keys are generated only up to that level).
//!
//! The report gives the key count before and after, the offsets decomposed and the rotations
//! the decomposition adds (each one key switch).

use super::analysis::rotations::{key_set, operand_type, rotation_usage};
use fhec_ir::{Immediate, KeyNeed, Opcode, Program};
use std::collections::{BTreeMap, BTreeSet};

/// Why no key set fits.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KeyError {
    /// Even the powers of two the decompositions need exceed the budget.
    #[error(
        "the rotation-key budget of {budget} cannot be met: decomposing every rotation onto \
         powers of two still needs {needed} keys"
    )]
    Budget {
        /// The budget asked for.
        budget: usize,
        /// The fewest keys the decomposition needs.
        needed: usize,
    },
    /// Rewriting a rotation failed (a bug in the pass).
    #[error("keys pass emitted an ill-typed instruction: {0}")]
    Build(#[from] fhec_ir::BuildError),
}

/// What the keys pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeyReport {
    /// Distinct rotation offsets used before the pass (as written).
    pub keys_before: usize,
    /// Rotation keys in the final key set.
    pub keys_after: usize,
    /// Offsets without a key of their own, decomposed onto the kept ones.
    pub decomposed: Vec<i32>,
    /// Rotations added by the decompositions (each one more key switch).
    pub extra_rotations: usize,
}

/// `k` as the equivalent offset in `(-n/2, n/2]` on `n` slots.
pub fn canonical_offset(k: i32, slots: u32) -> i32 {
    let n = i64::from(slots);
    let mut r = i64::from(k).rem_euclid(n);
    if r > n / 2 {
        r -= n;
    }
    i32::try_from(r).expect("|r| <= n/2 fits an i32")
}

/// The non-adjacent form of `k`: signed powers of two summing to `k`, fewest terms, largest
/// first, each canonical on `slots` slots (zero terms dropped).
pub fn naf_terms(k: i32, slots: u32) -> Vec<i32> {
    let mut terms = Vec::new();
    let mut rest = i64::from(k);
    let mut power = 1i64;
    while rest != 0 {
        if rest & 1 != 0 {
            let digit = 2 - rest.rem_euclid(4);
            let term = digit * power;
            terms.push(term);
            rest -= digit;
        }
        rest /= 2;
        power *= 2;
    }
    terms.reverse();
    terms
        .into_iter()
        .map(|t| canonical_offset(i32::try_from(t).unwrap_or(i32::MAX), slots))
        .filter(|&t| t != 0)
        .collect()
}

/// `k` as signed powers of two of its own sign (`-5 = -4 - 1`), largest first, canonical on
/// `slots` slots.
pub fn binary_terms(k: i32, slots: u32) -> Vec<i32> {
    let magnitude = i64::from(k).unsigned_abs();
    let sign: i64 = if k < 0 { -1 } else { 1 };
    (0..64)
        .rev()
        .filter(|bit| magnitude >> bit & 1 == 1)
        .map(|bit| canonical_offset(i32::try_from(sign << bit).unwrap_or(i32::MAX), slots))
        .filter(|&t| t != 0)
        .collect()
}

/// The ways `k` can be written as a sum of signed powers of two on `slots` slots: its
/// non-adjacent form, its same-sign binary form, and the binary form of its other
/// representative modulo `slots` (`-2 ≡ 6 = 4 + 2` on 8 slots), so positive powers alone can
/// express every offset.
fn decompositions(k: i32, slots: u32) -> [Vec<i32>; 3] {
    let n = i64::from(slots);
    let other = if k < 0 {
        i64::from(k) + n
    } else {
        i64::from(k) - n
    };
    let other = i32::try_from(other).unwrap_or(k);
    [
        naf_terms(k, slots),
        binary_terms(k, slots),
        binary_terms(other, slots),
    ]
}

/// The decomposition of `k` onto `kept` (plus whatever it adds): of [`decompositions`], the
/// one adding fewest keys to `kept`, then the shortest.
fn decomposition(k: i32, slots: u32, kept: &BTreeSet<(u32, i32)>) -> Vec<i32> {
    let new_keys = |terms: &[i32]| {
        terms
            .iter()
            .filter(|&&t| !kept.contains(&(slots, t)))
            .collect::<BTreeSet<_>>()
            .len()
    };
    decompositions(k, slots)
        .into_iter()
        .min_by_key(|terms| (new_keys(terms), terms.len()))
        .unwrap_or_default()
}

/// The keys needed when `kept` keeps its key and every offset of `dropped` is decomposed,
/// either each onto what is kept so far (fewest new keys first) or all onto positive powers
/// of two (a base that expresses every offset): whichever needs fewer keys.
fn cover(kept: &[(u32, i32)], dropped: &[(u32, i32)]) -> BTreeSet<(u32, i32)> {
    let mut greedy: BTreeSet<(u32, i32)> = kept.iter().copied().collect();
    for &(n, k) in dropped {
        let terms = decomposition(k, n, &greedy);
        greedy.extend(terms.into_iter().map(|t| (n, t)));
    }
    let mut positive: BTreeSet<(u32, i32)> = kept.iter().copied().collect();
    for &(n, k) in dropped {
        let [_, binary, other] = decompositions(k, n);
        let terms = if k > 0 { binary } else { other };
        positive.extend(terms.into_iter().map(|t| (n, t)));
    }
    if positive.len() < greedy.len() {
        positive
    } else {
        greedy
    }
}

/// The kept set under `budget`: see the module documentation.
fn choose_kept(
    uses: &BTreeMap<(u32, i32), usize>,
    budget: usize,
) -> Result<BTreeSet<(u32, i32)>, KeyError> {
    let all: BTreeSet<(u32, i32)> = uses.keys().copied().collect();
    if all.len() <= budget {
        return Ok(all);
    }
    let mut by_use: Vec<(u32, i32)> = all.iter().copied().collect();
    by_use.sort_by_key(|key| (std::cmp::Reverse(uses[key]), key.1.unsigned_abs(), key.1));
    let mut fewest = usize::MAX;
    for kept_count in (0..=budget.min(by_use.len())).rev() {
        let kept = cover(&by_use[..kept_count], &by_use[kept_count..]);
        if kept.len() <= budget {
            return Ok(kept);
        }
        fewest = fewest.min(kept.len());
    }
    Err(KeyError::Budget {
        budget,
        needed: fewest,
    })
}

/// Runs the pass; see the module documentation.
pub fn select_keys(
    mut program: Program,
    max_rotation_keys: Option<usize>,
) -> Result<(Program, KeyReport), KeyError> {
    let keys_before = program.keys.rotations.len().max(
        program
            .instructions()
            .flat_map(|(_, d)| d.imm.offsets().iter().copied())
            .collect::<BTreeSet<_>>()
            .len(),
    );
    canonicalise(&mut program);
    let uses = rotation_usage(&program);
    let kept = match max_rotation_keys {
        Some(budget) => choose_kept(&uses, budget)?,
        None => uses.keys().copied().collect(),
    };
    let decomposed: BTreeSet<i32> = uses
        .keys()
        .filter(|key| !kept.contains(key))
        .map(|&(_, k)| k)
        .collect();
    let extra_rotations = decompose(&mut program, &kept)?;
    program.keys = key_set(&program);
    let report = KeyReport {
        keys_before,
        keys_after: program.keys.rotations.len(),
        decomposed: decomposed.into_iter().collect(),
        extra_rotations,
    };
    Ok((program, report))
}

/// Rewrites every offset into canonical form, merging duplicates inside a hoisted group.
fn canonicalise(program: &mut Program) {
    let order = program.order().to_vec();
    for inst in order {
        let Some(data) = program.inst(inst) else {
            continue;
        };
        if data.opcode.key() != KeyNeed::Rotation {
            continue;
        }
        let Some(slots) = operand_type(program, data).map(|t| t.slots) else {
            continue;
        };
        let results = data.results.clone();
        let offsets: Vec<i32> = data
            .imm
            .offsets()
            .iter()
            .map(|&k| canonical_offset(k, slots))
            .collect();
        let mut kept_offsets = Vec::new();
        let mut kept_results = Vec::new();
        let mut merges = Vec::new();
        for (k, r) in offsets.into_iter().zip(results) {
            match kept_offsets.iter().position(|&o| o == k) {
                Some(i) => merges.push((r, kept_results[i])),
                None => {
                    kept_offsets.push(k);
                    kept_results.push(r);
                }
            }
        }
        if let Some(data) = program.inst_mut(inst) {
            data.imm = match data.opcode {
                Opcode::Rotate => Immediate::Offset(kept_offsets[0]),
                _ => Immediate::Offsets(kept_offsets),
            };
            data.results = kept_results;
        }
        if !merges.is_empty() {
            let position = program.position(inst).unwrap_or(0);
            for (from, to) in merges {
                program.replace_uses_after(position, from, to);
            }
        }
    }
}

/// Replaces rotations by offsets outside `kept` with chains of kept rotations; returns the
/// number of rotations added.
fn decompose(program: &mut Program, kept: &BTreeSet<(u32, i32)>) -> Result<usize, KeyError> {
    let mut added = 0;
    let order = program.order().to_vec();
    for inst in order {
        let Some(data) = program.inst(inst).cloned() else {
            continue;
        };
        if data.opcode.key() != KeyNeed::Rotation {
            continue;
        }
        let Some(&source) = data.args.first() else {
            continue;
        };
        let Some(slots) = program.value_type(source).map(|t| t.slots) else {
            continue;
        };
        let offsets = data.imm.offsets().to_vec();
        if offsets.iter().all(|&k| kept.contains(&(slots, k))) {
            continue;
        }
        let mut position = program.position(inst).unwrap_or(0);
        program.remove_inst(inst);
        let (stay, go): (Vec<_>, Vec<_>) = offsets
            .iter()
            .zip(&data.results)
            .partition(|(k, _)| kept.contains(&(slots, **k)));
        if !stay.is_empty() {
            let ks: Vec<i32> = stay.iter().map(|(k, _)| **k).collect();
            let (opcode, imm) = if ks.len() == 1 {
                (Opcode::Rotate, Immediate::Offset(ks[0]))
            } else {
                (Opcode::RotateHoisted, Immediate::Offsets(ks))
            };
            let (kept_inst, results) =
                program.insert_inst(position, opcode, vec![source], imm, None)?;
            if let Some(d) = program.inst_mut(kept_inst) {
                d.layer = data.layer;
            }
            for ((_, old), new) in stay.iter().zip(results) {
                program.replace_uses_after(position, **old, new);
            }
            position += 1;
        }
        for (&k, &old) in go {
            let mut value = source;
            let terms = decomposition(k, slots, kept);
            added += terms.len().saturating_sub(1);
            for t in terms {
                let (step, results) = program.insert_inst(
                    position,
                    Opcode::Rotate,
                    vec![value],
                    Immediate::Offset(t),
                    None,
                )?;
                if let Some(d) = program.inst_mut(step) {
                    d.layer = data.layer;
                }
                value = results[0];
                position += 1;
            }
            program.replace_uses_after(position - 1, old, value);
        }
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_offsets() {
        assert_eq!(canonical_offset(15, 16), -1);
        assert_eq!(canonical_offset(-9, 16), 7);
        assert_eq!(canonical_offset(8, 16), 8);
        assert_eq!(canonical_offset(-8, 16), 8);
        assert_eq!(canonical_offset(3, 16), 3);
    }

    #[test]
    fn naf_sums_back_with_fewest_terms() {
        assert_eq!(naf_terms(7, 64), [8, -1]);
        assert_eq!(naf_terms(-6, 64), [-8, 2]);
        assert_eq!(naf_terms(5, 64), [4, 1]);
        assert_eq!(naf_terms(16, 64), [16]);
        for k in -32..=32 {
            let sum: i32 = naf_terms(k, 64).iter().sum();
            assert_eq!(
                canonical_offset(sum, 64),
                canonical_offset(k, 64),
                "k = {k}"
            );
        }
    }

    #[test]
    fn budget_keeps_frequent_offsets_and_the_powers_of_the_rest() {
        let uses = BTreeMap::from([((64, 1), 10), ((64, 2), 8), ((64, 3), 1), ((64, 5), 1)]);
        assert_eq!(
            choose_kept(&uses, 4).unwrap().len(),
            4,
            "within budget: all kept"
        );
        // Budget 3: keep 1 and 2; 3 = 2 + 1 adds nothing, 5 = 4 + 1 adds 4.
        let kept: Vec<i32> = choose_kept(&uses, 3).unwrap().iter().map(|k| k.1).collect();
        assert_eq!(kept, [1, 2, 4]);
        assert_eq!(
            choose_kept(&uses, 2),
            Err(KeyError::Budget {
                budget: 2,
                needed: 3
            })
        );
        assert_eq!(binary_terms(-5, 64), [-4, -1]);
    }
}
