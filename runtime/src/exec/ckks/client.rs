//! [`CkksClient`]: the side that holds the secret key. It generates the keys of a program
//! (the secret key, kept here, and the [`EvaluationKeys`] handed to the server side),
//! encrypts inputs at their IR types and decrypts outputs.
//!
//! The secret key is a [`SecretKey`], zeroized on drop; no method returns it. Inputs are
//! encrypted with it (a symmetric encryption: the client is also the key owner, and a fresh
//! secret-key ciphertext is as small and as precise as CKKS allows).

use super::setup::{CkksSetup, bind_scale};
use super::{CkksError, EvaluationKeys};
use crate::ciphertext::Ciphertext;
use crate::encoding::Encoder;
use crate::encrypt::{Encryptor, decrypt};
use crate::keys::{KeyGenerator, SecretKey};
use crate::sampling::SecureRng;
use fhec_ir::{Program, Type};
use fhec_params::Level;
use std::collections::BTreeMap;

/// The key owner of one program's context; see the module documentation.
pub struct CkksClient<'s> {
    setup: &'s CkksSetup,
    secret: SecretKey,
    encryptor: Encryptor<'s>,
}

impl<'s> CkksClient<'s> {
    /// Generates a secret key from operating-system entropy, and from it the evaluation keys
    /// of `program` (see [`EvaluationKeys`]).
    ///
    /// Errors: [`CkksError::Key`] when the system's randomness is unavailable or a key cap
    /// exceeds the chain; [`CkksError::Bootstrap`] for bootstrapping keys.
    pub fn generate(
        setup: &'s CkksSetup,
        program: &Program,
    ) -> Result<(Self, EvaluationKeys), CkksError> {
        let rng = SecureRng::from_entropy().map_err(crate::keys::KeyError::from)?;
        Self::generate_with_rng(setup, program, rng)
    }

    /// [`Self::generate`] drawing every key and every encryption from `rng` (a fixed seed
    /// makes tests reproducible; an entropy-seeded generator is as good as
    /// [`Self::generate`]'s).
    ///
    /// Errors: as [`Self::generate`].
    pub fn generate_with_rng(
        setup: &'s CkksSetup,
        program: &Program,
        mut rng: SecureRng,
    ) -> Result<(Self, EvaluationKeys), CkksError> {
        let context = setup.context();
        let encryption_rng = if rng.is_deterministic() {
            SecureRng::insecure_from_fixed_seed(rng.seed())
        } else {
            SecureRng::from_entropy().map_err(crate::keys::KeyError::from)?
        };
        let mut generator = KeyGenerator::with_rng(context, rng);
        let secret = generator.secret_key()?;
        let keys =
            EvaluationKeys::generate(context, setup.config(), program, &mut generator, &secret)?;
        let client = Self {
            setup,
            secret,
            encryptor: Encryptor::with_rng(context, encryption_rng),
        };
        Ok((client, keys))
    }

    /// A client for an existing secret key (read from its file), encrypting with fresh
    /// operating-system entropy.
    ///
    /// Errors: [`CkksError::Key`] when the system's randomness is unavailable.
    pub(super) fn from_secret(setup: &'s CkksSetup, secret: SecretKey) -> Result<Self, CkksError> {
        let rng = SecureRng::from_entropy().map_err(crate::keys::KeyError::from)?;
        Ok(Self {
            setup,
            secret,
            encryptor: Encryptor::with_rng(setup.context(), rng),
        })
    }

    /// The setup this client belongs to.
    pub(super) fn setup(&self) -> &'s CkksSetup {
        self.setup
    }

    /// The secret key, for writing its file (`key_files.rs`) only.
    pub(super) fn secret(&self) -> &SecretKey {
        &self.secret
    }

    /// Encrypts real `values` (at most `ty.slots`, the rest zero) at `ty`'s level and exact
    /// scale.
    ///
    /// Errors: [`CkksError::Kind`] for a plaintext type, [`CkksError::Slots`] for more values
    /// than slots, [`CkksError::UnboundScale`], [`CkksError::Encode`] (values too large for the
    /// scale, a level above the chain).
    pub fn encrypt(
        &mut self,
        values: &[f64],
        ty: &Type,
        what: &str,
    ) -> Result<Ciphertext, CkksError> {
        if !ty.is_cipher() {
            return Err(CkksError::Kind {
                what: what.to_string(),
                expected: "ciphertext",
                found: ty.to_string(),
            });
        }
        if values.len() > ty.slots as usize {
            return Err(CkksError::Slots {
                what: what.to_string(),
                expected: ty.slots,
                found: values.len(),
            });
        }
        let context = self.setup.context();
        let scale = bind_scale(&ty.scale, context.params().q_primes())?;
        let plaintext = Encoder::new(context).encode_real(
            values,
            ty.slots as usize,
            Level(ty.level as usize),
            scale,
        )?;
        Ok(self
            .encryptor
            .encrypt_sk(&self.secret, &plaintext)
            .expand(context))
    }

    /// Encrypts every input of `program` from `values` by name.
    ///
    /// Errors: [`CkksError::MissingInput`], [`CkksError::UnknownInput`], and those of
    /// [`Self::encrypt`].
    pub fn encrypt_inputs(
        &mut self,
        program: &Program,
        mut values: BTreeMap<String, Vec<f64>>,
    ) -> Result<BTreeMap<String, Ciphertext>, CkksError> {
        let mut encrypted = BTreeMap::new();
        for (spec, value) in program.inputs() {
            let slots = values
                .remove(&spec.name)
                .ok_or_else(|| CkksError::MissingInput(spec.name.clone()))?;
            let ty = program.value_type(value).ok_or_else(|| CkksError::Kind {
                what: format!("input {}", spec.name),
                expected: "ciphertext",
                found: "no type".into(),
            })?;
            let what = format!("input {}", spec.name);
            encrypted.insert(spec.name.clone(), self.encrypt(&slots, ty, &what)?);
        }
        if let Some(name) = values.into_keys().next() {
            return Err(CkksError::UnknownInput(name));
        }
        Ok(encrypted)
    }

    /// The real parts of the slots `ciphertext` decrypts to.
    pub fn decrypt(&self, ciphertext: &Ciphertext) -> Vec<f64> {
        let context = self.setup.context();
        let plaintext = decrypt(context, &self.secret, ciphertext);
        Encoder::new(context)
            .decode(&plaintext)
            .into_iter()
            .map(|slot| slot.re)
            .collect()
    }

    /// Decrypts every output by name.
    pub fn decrypt_outputs(
        &self,
        outputs: &BTreeMap<String, Ciphertext>,
    ) -> BTreeMap<String, Vec<f64>> {
        outputs
            .iter()
            .map(|(name, ct)| (name.clone(), self.decrypt(ct)))
            .collect()
    }
}
