//! What the verifier may know about the modulus chain a program will run on: the
//! bit size of every chain prime and the slot capacity of the ring.
//!
//! The IR keeps scales symbolic (`q_i`, see [`Scale`]) and has no dependency on the parameter
//! crate, so the caller that chose the parameters (the CLI, the passes) hands these facts to
//! [`verify_with`](crate::verify_with). With them the verifier also checks what would otherwise
//! only fail inside the CKKS backend: levels and key caps within the chain, slot counts within
//! `N/2`, plaintext scales of at least 1 (the encoder refuses smaller ones), and every scale
//! leaving room below the modulus `Q_l = q_0 ⋯ q_l` of its level.

use crate::scale::Scale;

/// The chain facts the parameter-aware checks need; see the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainFacts {
    /// `log2(q_i)` of every chain prime, `q_0` first; the top level is `len - 1`.
    pub log2_primes: Vec<f64>,
    /// The largest slot count the ring holds (`N/2`).
    pub max_slots: u32,
    /// Bits of headroom a ciphertext's scale must leave below `log2(Q_l)` for the message
    /// (values up to `2^headroom_bits` in magnitude stay below `Q_l/2`).
    pub headroom_bits: f64,
}

impl ChainFacts {
    /// Facts for a chain of primes of these bit sizes (`q_0` first), `max_slots` slots and
    /// one bit of headroom (messages of magnitude below 1 after the sign bit).
    pub fn new(log2_primes: Vec<f64>, max_slots: u32) -> Self {
        ChainFacts {
            log2_primes,
            max_slots,
            headroom_bits: 1.0,
        }
    }

    /// The top level of the chain (`None` for an empty chain).
    pub fn max_level(&self) -> Option<u32> {
        u32::try_from(self.log2_primes.len()).ok()?.checked_sub(1)
    }

    /// `log2(Q_level)`, the bits of the modulus at `level` (`None` above the chain).
    pub fn log2_modulus(&self, level: u32) -> Option<f64> {
        let primes = self.log2_primes.get(..=usize::try_from(level).ok()?)?;
        Some(primes.iter().sum())
    }

    /// `log2` of `scale` with every `q_i` bound to its size, or an error naming a prime the
    /// chain does not have.
    pub fn log2_scale(&self, scale: &Scale) -> Result<f64, String> {
        if let Some((index, _)) = scale
            .prime_exponents()
            .find(|&(i, _)| i as usize >= self.log2_primes.len())
        {
            return Err(format!(
                "scale {scale} names q{index}, beyond the chain's top level {}",
                self.log2_primes.len().saturating_sub(1)
            ));
        }
        Ok(scale.log2_with(|i| self.log2_primes[i as usize]))
    }
}
