//! The [`Backend`] trait: the arithmetic an executor needs, one method per IR operation.
//!
//! Each method receives its operands and the **result type** the IR computed (level, exact
//! scale, slot count), so a backend that tracks levels and scales itself (CKKS) can check that
//! it agrees with the program, and one that does not (the clear backend) can check slot counts.

use fhec_ir::{Scale, Type};

/// One way of evaluating IR operations; see the module documentation.
pub trait Backend {
    /// A ciphertext (or its stand-in).
    type Cipher: Clone;
    /// An encoded plaintext.
    type Plain;
    /// What can go wrong in this backend.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Checks an input bound by the caller against its declared type.
    fn check_input(&self, x: &Self::Cipher, ty: &Type) -> Result<(), Self::Error>;
    /// Encodes real slot values as a plaintext of type `ty`.
    fn encode(&mut self, values: Vec<f64>, ty: &Type) -> Result<Self::Plain, Self::Error>;
    /// `a + b`.
    fn add(
        &mut self,
        a: &Self::Cipher,
        b: &Self::Cipher,
        ty: &Type,
    ) -> Result<Self::Cipher, Self::Error>;
    /// `a − b`.
    fn sub(
        &mut self,
        a: &Self::Cipher,
        b: &Self::Cipher,
        ty: &Type,
    ) -> Result<Self::Cipher, Self::Error>;
    /// `−a`.
    fn neg(&mut self, a: &Self::Cipher, ty: &Type) -> Result<Self::Cipher, Self::Error>;
    /// `a + p`.
    fn add_plain(
        &mut self,
        a: &Self::Cipher,
        p: &Self::Plain,
        ty: &Type,
    ) -> Result<Self::Cipher, Self::Error>;
    /// `a ⊙ p` (slot-wise).
    fn mul_plain(
        &mut self,
        a: &Self::Cipher,
        p: &Self::Plain,
        ty: &Type,
    ) -> Result<Self::Cipher, Self::Error>;
    /// `a · c` with `c` encoded at `scale`.
    fn mul_const(
        &mut self,
        a: &Self::Cipher,
        c: f64,
        scale: &Scale,
        ty: &Type,
    ) -> Result<Self::Cipher, Self::Error>;
    /// `a + c` with `c` encoded at `a`'s scale.
    fn add_const(
        &mut self,
        a: &Self::Cipher,
        c: f64,
        ty: &Type,
    ) -> Result<Self::Cipher, Self::Error>;
    /// `a ⊙ b`, relinearised.
    fn mul(
        &mut self,
        a: &Self::Cipher,
        b: &Self::Cipher,
        ty: &Type,
    ) -> Result<Self::Cipher, Self::Error>;
    /// Slot `i` of the result is slot `(i + k) mod n` of `a`.
    fn rotate(&mut self, a: &Self::Cipher, k: i32, ty: &Type) -> Result<Self::Cipher, Self::Error>;
    /// Several rotations of `a` sharing one decomposition; one result per offset, in order.
    fn rotate_hoisted(
        &mut self,
        a: &Self::Cipher,
        ks: &[i32],
        ty: &Type,
    ) -> Result<Vec<Self::Cipher>, Self::Error> {
        ks.iter().map(|&k| self.rotate(a, k, ty)).collect()
    }
    /// Complex conjugation of every slot.
    fn conjugate(&mut self, a: &Self::Cipher, ty: &Type) -> Result<Self::Cipher, Self::Error>;
    /// Divides by the last prime: one level down.
    fn rescale(&mut self, a: &Self::Cipher, ty: &Type) -> Result<Self::Cipher, Self::Error>;
    /// Drops primes down to `ty.level`; the scale is unchanged.
    fn level_down(&mut self, a: &Self::Cipher, ty: &Type) -> Result<Self::Cipher, Self::Error>;
    /// Refreshes to the bootstrapping output level and scale.
    fn bootstrap(&mut self, a: &Self::Cipher, ty: &Type) -> Result<Self::Cipher, Self::Error>;
}
