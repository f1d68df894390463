//! Entity handles and the arena that owns their data.
//!
//! Every IR object is named by a `u32` newtype handle (`Value`, `Inst`) that indexes an
//! [`EntityMap`]. A handle's `Display` is exactly its textual form (`%7`, `op12`), so printed
//! programs, verifier messages and debugger output all agree, and `with_number` rebuilds a
//! handle from the number the parser read.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// A handle that indexes an [`EntityMap`].
pub trait EntityRef: Copy + Eq + Ord + fmt::Debug {
    /// Builds the handle for arena slot `index`.
    fn new(index: usize) -> Self;
    /// The arena slot this handle names.
    fn index(self) -> usize;
}

macro_rules! entity {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u32);

        impl $name {
            /// The handle with number `n`, as written in the textual form (used by the parser).
            pub fn with_number(n: u32) -> Self {
                Self(n)
            }

            /// The number shown in the textual form.
            pub fn as_u32(self) -> u32 {
                self.0
            }
        }

        impl EntityRef for $name {
            fn new(index: usize) -> Self {
                Self(u32::try_from(index).expect("more than u32::MAX entities"))
            }
            fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

entity!(
    /// An SSA value (a ciphertext or a plaintext), printed `%N`.
    Value,
    "%"
);
entity!(
    /// An instruction (one operation of the program), printed `opN`.
    Inst,
    "op"
);

/// A dense arena: handles are allocated in order and never reused, so a handle stays valid
/// after instructions are removed from the program's order.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityMap<K: EntityRef, V> {
    items: Vec<V>,
    #[serde(skip)]
    key: PhantomData<K>,
}

impl<K: EntityRef, V> EntityMap<K, V> {
    /// An empty arena.
    pub fn new() -> Self {
        Self {
            items: Vec::new(),
            key: PhantomData,
        }
    }

    /// Stores `value` and returns its new handle.
    pub fn push(&mut self, value: V) -> K {
        let key = K::new(self.items.len());
        self.items.push(value);
        key
    }

    /// The data of `key`, or `None` if no such entity was allocated.
    pub fn get(&self, key: K) -> Option<&V> {
        self.items.get(key.index())
    }

    /// Mutable access to the data of `key`.
    pub fn get_mut(&mut self, key: K) -> Option<&mut V> {
        self.items.get_mut(key.index())
    }

    /// Number of allocated entities.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was allocated.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether `key` names an allocated entity.
    pub fn contains(&self, key: K) -> bool {
        key.index() < self.items.len()
    }

    /// All handles with their data, in allocation order.
    pub fn iter(&self) -> impl Iterator<Item = (K, &V)> {
        self.items.iter().enumerate().map(|(i, v)| (K::new(i), v))
    }
}

impl<K: EntityRef, V: Default> EntityMap<K, V> {
    /// Grows the arena with default entries until `key` is allocated (the parser meets value
    /// numbers out of order and with gaps).
    pub fn ensure(&mut self, key: K) -> &mut V {
        while self.items.len() <= key.index() {
            self.items.push(V::default());
        }
        &mut self.items[key.index()]
    }
}

impl<K: EntityRef, V> Default for EntityMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: EntityRef, V: fmt::Debug> fmt::Debug for EntityMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: EntityRef, V> std::ops::Index<K> for EntityMap<K, V> {
    type Output = V;
    fn index(&self, key: K) -> &V {
        &self.items[key.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_print_as_in_text() {
        assert_eq!(Value::with_number(41).to_string(), "%41");
        assert_eq!(format!("{:?}", Inst::with_number(12)), "op12");
    }

    #[test]
    fn ensure_fills_gaps_with_defaults() {
        let mut map: EntityMap<Value, Option<u8>> = EntityMap::new();
        *map.ensure(Value::with_number(3)) = Some(7);
        assert_eq!(map.len(), 4);
        assert_eq!(map[Value::with_number(3)], Some(7));
        assert_eq!(map[Value::with_number(1)], None);
        assert!(!map.contains(Value::with_number(4)));
    }
}
