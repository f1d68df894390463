//! [`EvaluationKeys`]: every key the server side of a program needs, and nothing secret.
//!
//! The program's key set names each rotation offset, the conjugation and the
//! relinearisation with the highest level it is used at (the compiler's `keys` pass); a
//! program with a `bootstrap` also needs its recorded target's bootstrapping keys
//! ([`BootstrapKeys`]: the DFT rotations and conjugation, EvalMod's relinearisation key, the
//! sparse-secret encapsulation keys, each capped likewise). The two sets overlap (a rotation
//! by 1 serves both), so they are merged into one: a key is generated once, at the higher of
//! the two caps, and the bootstrapper and the circuit look it up in the same map.

use super::CkksError;
use crate::bootstrap::BootstrapKeys;
use crate::context::CkksContext;
use crate::keys::{GaloisKeys, KeyGenerator, RelinearizationKey, SecretKey};
use fhec_ir::{KeySet, Opcode, Program};
use fhec_params::{BootstrapConfig, Level};

/// The evaluation keys of one program; see the module documentation.
pub struct EvaluationKeys {
    pub(super) store: Store,
}

/// Where the keys live: with a bootstrap, inside the [`BootstrapKeys`] the bootstrapper
/// borrows (merged with the circuit's); without one, on their own.
pub(super) enum Store {
    Circuit {
        galois: GaloisKeys,
        relinearization: Option<RelinearizationKey>,
    },
    Bootstrapping(Box<BootstrapKeys>),
}

impl EvaluationKeys {
    /// Generates the keys of `program` (its key set, and the bootstrapping keys of `config`
    /// when it contains a `bootstrap`) for `secret`.
    ///
    /// Errors: [`CkksError::Key`] for a cap above the chain's top level,
    /// [`CkksError::Bootstrap`] when the bootstrapping keys cannot be made.
    pub(super) fn generate(
        context: &CkksContext,
        config: &BootstrapConfig,
        program: &Program,
        generator: &mut KeyGenerator<'_>,
        secret: &SecretKey,
    ) -> Result<Self, CkksError> {
        let wanted = &program.keys;
        let store = if bootstraps(program) {
            let mut keys = BootstrapKeys::generate(context, config, generator, secret)?;
            add_circuit_keys(context, wanted, generator, secret, &mut keys.galois)?;
            if let Some(cap) = wanted.relinearization
                && keys.relinearization.0.level() < Level(cap as usize)
            {
                keys.relinearization =
                    generator.relinearization_key(secret, Level(cap as usize))?;
            }
            Store::Bootstrapping(Box::new(keys))
        } else {
            let mut galois = GaloisKeys::default();
            add_circuit_keys(context, wanted, generator, secret, &mut galois)?;
            let relinearization = wanted
                .relinearization
                .map(|cap| generator.relinearization_key(secret, Level(cap as usize)))
                .transpose()?;
            Store::Circuit {
                galois,
                relinearization,
            }
        };
        Ok(Self { store })
    }

    /// The rotation and conjugation keys (the circuit's and the bootstrap's).
    pub fn galois(&self) -> &GaloisKeys {
        match &self.store {
            Store::Circuit { galois, .. } => galois,
            Store::Bootstrapping(keys) => &keys.galois,
        }
    }

    /// The relinearisation key, if the program multiplies ciphertexts or bootstraps.
    pub fn relinearization(&self) -> Option<&RelinearizationKey> {
        match &self.store {
            Store::Circuit {
                relinearization, ..
            } => relinearization.as_ref(),
            Store::Bootstrapping(keys) => Some(&keys.relinearization),
        }
    }

    /// The bootstrapping keys, if the program bootstraps.
    pub fn bootstrap(&self) -> Option<&BootstrapKeys> {
        match &self.store {
            Store::Circuit { .. } => None,
            Store::Bootstrapping(keys) => Some(keys),
        }
    }

    /// Bytes of all keys in memory (expanded).
    pub fn size_bytes(&self) -> usize {
        match &self.store {
            Store::Circuit {
                galois,
                relinearization,
            } => galois.size_bytes() + relinearization.as_ref().map_or(0, |k| k.0.size_bytes()),
            Store::Bootstrapping(keys) => keys.size_bytes(),
        }
    }
}

/// Whether `program` contains a `bootstrap` (and so needs bootstrapping keys).
pub(super) fn bootstraps(program: &Program) -> bool {
    program
        .instructions()
        .any(|(_, data)| data.opcode == Opcode::Bootstrap)
}

/// Adds to `galois` the rotation and conjugation keys of `wanted` that it lacks or holds at
/// too low a cap (a key capped higher serves every lower level, so one is kept as it is).
fn add_circuit_keys(
    context: &CkksContext,
    wanted: &KeySet,
    generator: &mut KeyGenerator<'_>,
    secret: &SecretKey,
    galois: &mut GaloisKeys,
) -> Result<(), CkksError> {
    let ring = context.ring();
    let rotations = wanted
        .rotations
        .iter()
        .map(|(&offset, &cap)| (ring.galois_element_for_rotation(i64::from(offset)), cap));
    let conjugation = wanted
        .conjugation
        .map(|cap| (ring.galois_element_for_conjugation(), cap));
    for (element, cap) in rotations.chain(conjugation) {
        let level = Level(cap as usize);
        let held = galois.get(element).map(|key| key.level());
        if element != 1 && held.is_none_or(|held| held < level) {
            galois.insert(element, generator.galois_key(secret, element, level)?);
        }
    }
    Ok(())
}
