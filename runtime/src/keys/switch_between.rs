//! Key-switching keys between two secrets of the same parameters: a ciphertext under `from`
//! becomes one under `to`. The general form of relinearisation (s² → s) and Galois keys
//! (σ_g(s) → s); bootstrapping's sparse-secret encapsulation switches from an ephemeral sparse
//! secret back to the long-term dense one with it (BTH22).

use super::{KeyError, KeyGenerator, KeySwitchKey, SecretKey};
use fhec_params::Level;

impl KeyGenerator<'_> {
    /// The hybrid key switching ciphertexts under `from` to `to`, for ciphertexts up to
    /// `level`: `b_j = −a_j·to + e_j + P·(gadget_j)·from` (see [`KeySwitchKey`]).
    ///
    /// Errors: [`KeyError::Level`] for a level above L.
    pub fn switching_key(
        &mut self,
        from: &SecretKey,
        to: &SecretKey,
        level: Level,
    ) -> Result<KeySwitchKey, KeyError> {
        KeySwitchKey::generate(self.context, &mut self.rng, to, from.full(), level)
    }
}
