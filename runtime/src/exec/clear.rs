//! The clear backend: IR operations on `f64` slot vectors with exact semantics.
//!
//! A ciphertext is its `n` real slot values. Rotation by `k` moves slot `(i + k) mod n` to slot
//! `i` (a left rotation for positive `k`, the direction of CKKS rotation by `k` in
//! `docs/ir.md`); `mul_plain`, `add_plain`, `mul` are slot-wise; constants are real numbers.
//! Management ops change no value: `rescale` and `level_down` only change the type, which the
//! IR tracks exactly; `bootstrap` is the identity (a noise model may be added later) and
//! `conjugate` the identity on real slots. Every operation checks that its operands have the
//! slot count of the result type, so a malformed program or a wrongly sized input or
//! plaintext is reported rather than silently broadcast.

use super::backend::Backend;
use fhec_ir::{Scale, Type};

/// Exact `f64` evaluation; see the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClearBackend;

/// A vector whose length is not the slot count its type says.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a vector of {found} values where the type {ty} needs {expected}")]
pub struct ClearError {
    /// Length found.
    pub found: usize,
    /// Slot count of the type.
    pub expected: usize,
    /// The type, printed.
    pub ty: String,
}

fn check(v: &[f64], ty: &Type) -> Result<(), ClearError> {
    if v.len() == ty.slots as usize {
        Ok(())
    } else {
        Err(ClearError {
            found: v.len(),
            expected: ty.slots as usize,
            ty: ty.to_string(),
        })
    }
}

fn unary(a: &[f64], ty: &Type, f: impl Fn(f64) -> f64) -> Result<Vec<f64>, ClearError> {
    check(a, ty)?;
    Ok(a.iter().map(|&x| f(x)).collect())
}

fn binary(
    a: &[f64],
    b: &[f64],
    ty: &Type,
    f: impl Fn(f64, f64) -> f64,
) -> Result<Vec<f64>, ClearError> {
    check(a, ty)?;
    check(b, ty)?;
    Ok(a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect())
}

/// `rotate(a, k)[i] = a[(i + k) mod n]`.
fn rotate_slots(a: &[f64], k: i32) -> Vec<f64> {
    let n = a.len();
    if n == 0 {
        return Vec::new();
    }
    let shift = i64::from(k).rem_euclid(n as i64) as usize;
    let mut out = Vec::with_capacity(n);
    out.extend_from_slice(&a[shift..]);
    out.extend_from_slice(&a[..shift]);
    out
}

impl Backend for ClearBackend {
    type Cipher = Vec<f64>;
    type Plain = Vec<f64>;
    type Error = ClearError;

    fn check_input(&self, x: &Vec<f64>, ty: &Type) -> Result<(), ClearError> {
        check(x, ty)
    }

    fn encode(&mut self, values: Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        check(&values, ty)?;
        Ok(values)
    }

    fn add(&mut self, a: &Vec<f64>, b: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        binary(a, b, ty, |x, y| x + y)
    }

    fn sub(&mut self, a: &Vec<f64>, b: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        binary(a, b, ty, |x, y| x - y)
    }

    fn neg(&mut self, a: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        unary(a, ty, |x| -x)
    }

    fn add_plain(&mut self, a: &Vec<f64>, p: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        binary(a, p, ty, |x, y| x + y)
    }

    fn mul_plain(&mut self, a: &Vec<f64>, p: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        binary(a, p, ty, |x, y| x * y)
    }

    fn mul_const(
        &mut self,
        a: &Vec<f64>,
        c: f64,
        _: &Scale,
        ty: &Type,
    ) -> Result<Vec<f64>, ClearError> {
        unary(a, ty, |x| x * c)
    }

    fn add_const(&mut self, a: &Vec<f64>, c: f64, ty: &Type) -> Result<Vec<f64>, ClearError> {
        unary(a, ty, |x| x + c)
    }

    fn mul(&mut self, a: &Vec<f64>, b: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        binary(a, b, ty, |x, y| x * y)
    }

    fn rotate(&mut self, a: &Vec<f64>, k: i32, ty: &Type) -> Result<Vec<f64>, ClearError> {
        check(a, ty)?;
        Ok(rotate_slots(a, k))
    }

    fn conjugate(&mut self, a: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        unary(a, ty, |x| x)
    }

    fn rescale(&mut self, a: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        unary(a, ty, |x| x)
    }

    fn level_down(&mut self, a: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        unary(a, ty, |x| x)
    }

    fn bootstrap(&mut self, a: &Vec<f64>, ty: &Type) -> Result<Vec<f64>, ClearError> {
        unary(a, ty, |x| x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_is_left_by_k() {
        let v = vec![0.0, 1.0, 2.0, 3.0];
        assert_eq!(rotate_slots(&v, 1), [1.0, 2.0, 3.0, 0.0]);
        assert_eq!(rotate_slots(&v, -1), [3.0, 0.0, 1.0, 2.0]);
        assert_eq!(rotate_slots(&v, 6), rotate_slots(&v, 2));
    }
}
