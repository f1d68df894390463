//! [`GaloisKeys`]: the key-switching keys of a set of Galois elements, looked up by element
//! (rotation by k uses g = 5^k mod 2N, conjugation g = 2N − 1).

use super::switching::KeySwitchKey;
use std::collections::BTreeMap;

/// Key-switching keys by Galois element.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GaloisKeys {
    keys: BTreeMap<u64, KeySwitchKey>,
}

impl GaloisKeys {
    /// The key of Galois element `g`, if present.
    pub fn get(&self, galois_element: u64) -> Option<&KeySwitchKey> {
        self.keys.get(&galois_element)
    }

    /// Adds (or replaces) the key of Galois element `g`.
    pub fn insert(&mut self, galois_element: u64, key: KeySwitchKey) {
        self.keys.insert(galois_element, key);
    }

    /// The Galois elements present, ascending.
    pub fn elements(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.keys().copied()
    }

    /// Every (element, key) pair, ascending by element.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &KeySwitchKey)> {
        self.keys.iter().map(|(&g, k)| (g, k))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Total bytes of the expanded keys in memory.
    pub fn size_bytes(&self) -> usize {
        self.keys.values().map(KeySwitchKey::size_bytes).sum()
    }
}
