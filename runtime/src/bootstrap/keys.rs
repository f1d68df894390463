//! Bootstrapping's Galois keys: exactly the rotations of the [`DftPlan`] (trace, CoeffToSlot,
//! packing, SlotToCoeff) and the conjugation, each capped at the highest level it is used
//! (DESIGN §4-5: a key at level l costs digits(l)·2·N·(l + 1 + k)·8 bytes, half when stored
//! seed-compressed), so no key carries limbs it never touches; and [`BootstrapKeys`], the whole
//! set a [`super::Bootstrapper`] needs.

use super::bootstrapper::BootstrapError;
use super::encapsulation::{EncapsulationKeys, ephemeral_secret};
use crate::context::CkksContext;
use crate::keys::{GaloisKeys, KeyGenerator, RelinearizationKey, SecretKey};
use fhec_params::dft_plan::galois_element_for_conjugation;
use fhec_params::{BootstrapConfig, DftPlan, Level};
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

/// Every evaluation key a [`super::Bootstrapper`] uses: the Galois keys of
/// [`generate_galois_keys`], the relinearisation key of EvalMod (capped at EvalMod's input
/// level) and, when the configuration encapsulates, the dense→sparse and sparse→dense keys.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapKeys {
    /// Rotations and conjugation, level-capped.
    pub galois: GaloisKeys,
    /// s² → s, for EvalMod's products.
    pub relinearization: RelinearizationKey,
    /// The sparse-secret encapsulation keys (BTH22), if the configuration uses them.
    pub encapsulation: Option<EncapsulationKeys>,
}

impl BootstrapKeys {
    /// Generates the keys a bootstrap of `config` needs, for `secret`, each capped at the
    /// highest level it is used. With encapsulation, the ephemeral sparse secret is sampled
    /// here, used for its two keys and dropped (zeroized) before returning.
    ///
    /// Errors: [`BootstrapError::Plan`] for a shape the DFT plan refuses,
    /// [`BootstrapError::Key`] when a key cannot be made.
    pub fn generate(
        context: &CkksContext,
        config: &BootstrapConfig,
        generator: &mut KeyGenerator<'_>,
        secret: &SecretKey,
    ) -> Result<Self, BootstrapError> {
        let plan = dft_plan(config)?;
        let levels = config.levels();
        let galois = generate_galois_keys(
            context,
            generator,
            secret,
            &plan,
            levels.top,
            levels.evalmod_output,
        )?;
        let relinearization = generator.relinearization_key(secret, levels.c2s_output)?;
        let encapsulation = match config.ephemeral_hamming_weight() {
            Some(weight) => {
                let sparse = ephemeral_secret(context, generator, weight)?;
                Some(EncapsulationKeys::generate(
                    context, generator, secret, &sparse,
                )?)
            }
            None => None,
        };
        Ok(Self {
            galois,
            relinearization,
            encapsulation,
        })
    }

    /// Bytes of the expanded keys in memory.
    pub fn size_bytes(&self) -> usize {
        self.galois.size_bytes()
            + self.relinearization.0.size_bytes()
            + self
                .encapsulation
                .as_ref()
                .map_or(0, EncapsulationKeys::size_bytes)
    }

    /// Bytes of the keys stored seed-compressed (the uniform halves regenerated from seeds).
    pub fn compressed_bytes(&self) -> usize {
        self.size_bytes() / 2
    }
}

/// The DFT plan of `config` ([`DftPlan::for_bootstrap`], the same the compiler sees).
///
/// Errors: [`BootstrapError::Plan`] when the plan refuses the shape (a budget above log slots).
pub fn dft_plan(config: &BootstrapConfig) -> Result<DftPlan, BootstrapError> {
    Ok(DftPlan::for_bootstrap(config)?)
}
