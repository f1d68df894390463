//! Bootstrapping's Galois keys: exactly the rotations of the [`DftPlan`] (trace, CoeffToSlot,
//! packing, SlotToCoeff) and the conjugation, each capped at the highest level it is used
//! (DESIGN §4-5: a key at level l costs digits(l)·2·N·(l + 1 + k)·8 bytes, half when stored
//! seed-compressed), so no key carries limbs it never touches.

use super::bootstrapper::BootstrapError;
use crate::context::CkksContext;
use crate::keys::{GaloisKeys, KeyGenerator, SecretKey};
use fhec_params::dft_plan::galois_element_for_conjugation;
use fhec_params::{DftPlan, Level};
use std::collections::BTreeMap;

/// The Galois elements of a bootstrap with their level caps: every rotation of `plan` when
/// CoeffToSlot starts at `c2s_level` and SlotToCoeff at `s2c_level`, and the conjugation.
/// Two rotations with the same element keep the higher cap.
pub fn galois_levels(
    context: &CkksContext,
    plan: &DftPlan,
    c2s_level: Level,
    s2c_level: Level,
) -> BTreeMap<u64, Level> {
    let ring = context.ring();
    let mut caps: BTreeMap<u64, Level> = BTreeMap::new();
    let mut note = |element: u64, level: usize| {
        let cap = caps.entry(element).or_insert(Level(level));
        cap.0 = cap.0.max(level);
    };
    for (rotation, level) in plan.rotation_levels(c2s_level.0, s2c_level.0) {
        note(ring.galois_element_for_rotation(rotation), level);
    }
    note(
        galois_element_for_conjugation(plan.log_n()),
        plan.conjugation_level(c2s_level.0),
    );
    caps.remove(&1);
    caps
}

/// Generates the keys of [`galois_levels`] with `generator` for `secret`.
///
/// Errors: [`BootstrapError::Key`] when a cap exceeds the parameters' top level.
pub fn generate_galois_keys(
    context: &CkksContext,
    generator: &mut KeyGenerator<'_>,
    secret: &SecretKey,
    plan: &DftPlan,
    c2s_level: Level,
    s2c_level: Level,
) -> Result<GaloisKeys, BootstrapError> {
    let mut keys = GaloisKeys::default();
    for (element, level) in galois_levels(context, plan, c2s_level, s2c_level) {
        keys.insert(element, generator.galois_key(secret, element, level)?);
    }
    Ok(keys)
}

/// Bytes of keys capped as by [`galois_levels`], by the DESIGN §5 formula (seed-compressed:
/// half), without generating them.
pub fn galois_key_bytes(
    context: &CkksContext,
    plan: &DftPlan,
    c2s_level: Level,
    s2c_level: Level,
    compressed: bool,
) -> u64 {
    let params = context.params();
    let n = params.degree() as u64;
    let special = params.p_primes().len() as u64;
    galois_levels(context, plan, c2s_level, s2c_level)
        .values()
        .map(|level| {
            let digits = params.digits_at(*level) as u64;
            let full = digits * 2 * n * (level.limbs() as u64 + special) * 8;
            if compressed { full / 2 } else { full }
        })
        .sum()
}
