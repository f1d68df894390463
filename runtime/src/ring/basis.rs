//! An RNS basis: an ordered list of NTT-friendly primes with their reduction constants and NTT
//! plans, all for one ring degree. The ciphertext chain Q and the special primes P are two
//! bases of a [`super::RingContext`].

use super::RingError;
use super::modular::Modulus;
use super::ntt::NttTable;

/// Ordered primes of one ring degree, each with its [`Modulus`] constants and [`NttTable`].
#[derive(Clone, Debug)]
pub struct RnsBasis {
    degree: usize,
    moduli: Vec<Modulus>,
    ntts: Vec<NttTable>,
}

impl RnsBasis {
    /// Prepares every prime of `primes` for ring degree `degree`.
    pub fn new(degree: usize, primes: &[u64]) -> Result<RnsBasis, RingError> {
        let moduli = primes
            .iter()
            .map(|&q| Modulus::new(q))
            .collect::<Result<Vec<_>, _>>()?;
        let ntts = moduli
            .iter()
            .map(|&m| NttTable::new(degree, m))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RnsBasis {
            degree,
            moduli,
            ntts,
        })
    }

    /// The ring degree N.
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// Number of primes.
    pub fn len(&self) -> usize {
        self.moduli.len()
    }

    /// Whether the basis holds no prime.
    pub fn is_empty(&self) -> bool {
        self.moduli.is_empty()
    }

    /// The moduli in order.
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// The NTT plans in order.
    pub fn ntts(&self) -> &[NttTable] {
        &self.ntts
    }

    /// The prime values in order.
    pub fn primes(&self) -> Vec<u64> {
        self.moduli.iter().map(Modulus::value).collect()
    }
}
