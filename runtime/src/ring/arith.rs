//! Element-wise ring operations on [`RnsPoly`]: add, sub, neg, pointwise products (NTT form),
//! multiply-accumulate and multiplication or addition by per-limb scalars.
//!
//! Every binary operation requires operands of the same shape (degree, limbs, form); a
//! mismatch is a programming error and panics with both shapes named. Limbs are processed in
//! parallel for large degrees; inner loops neither allocate nor divide.

use super::RingContext;
use super::modular::Modulus;
use super::poly::{Form, RnsPoly};
use rayon::prelude::*;

/// One limb of the output and the matching limbs of two inputs.
type LimbTriple<'a> = ((&'a mut [u64], &'a [u64]), &'a [u64]);

fn assert_same_shape(op: &str, a: &RnsPoly, b: &RnsPoly) {
    assert!(
        a.same_shape(b),
        "{op}: operand shapes differ: {} vs {}",
        a.shape(),
        b.shape()
    );
}

impl RingContext {
    /// Applies `f(modulus, out_limb, in_limb)` limb by limb.
    fn zip_limbs<F>(&self, out: &mut RnsPoly, input: &RnsPoly, f: F)
    where
        F: Fn(&Modulus, &mut [u64], &[u64]) + Sync + Send,
    {
        self.assert_fits(out);
        let n = self.degree();
        let q_limbs = out.q_limbs();
        let run =
            |(i, (o, a)): (usize, (&mut [u64], &[u64]))| f(self.limb_prime(q_limbs, i).0, o, a);
        if n >= super::context::PARALLEL_MIN_DEGREE {
            out.data_mut()
                .par_chunks_mut(n)
                .zip(input.data().par_chunks(n))
                .enumerate()
                .for_each(run);
        } else {
            out.data_mut()
                .chunks_mut(n)
                .zip(input.data().chunks(n))
                .enumerate()
                .for_each(run);
        }
    }

    /// `a += b`.
    pub fn add_assign(&self, a: &mut RnsPoly, b: &RnsPoly) {
        assert_same_shape("add", a, b);
        self.zip_limbs(a, b, |m, x, y| {
            x.iter_mut().zip(y).for_each(|(x, &y)| *x = m.add(*x, y))
        });
    }

    /// `a -= b`.
    pub fn sub_assign(&self, a: &mut RnsPoly, b: &RnsPoly) {
        assert_same_shape("sub", a, b);
        self.zip_limbs(a, b, |m, x, y| {
            x.iter_mut().zip(y).for_each(|(x, &y)| *x = m.sub(*x, y))
        });
    }

    /// `out = a + b` (`out` is resized to the operands' shape).
    pub fn add(&self, a: &RnsPoly, b: &RnsPoly, out: &mut RnsPoly) {
        out.clone_from(a);
        self.add_assign(out, b);
    }

    /// `out = a - b` (`out` is resized to the operands' shape).
    pub fn sub(&self, a: &RnsPoly, b: &RnsPoly, out: &mut RnsPoly) {
        out.clone_from(a);
        self.sub_assign(out, b);
    }

    /// `a = -a`.
    pub fn neg_assign(&self, a: &mut RnsPoly) {
        self.assert_fits(a);
        let q_limbs = a.q_limbs();
        self.for_each_limb(a.data_mut(), |i, limb| {
            let m = self.limb_prime(q_limbs, i).0;
            limb.iter_mut().for_each(|x| *x = m.neg(*x));
        });
    }

    /// `a = a ⊙ b` (pointwise; both in NTT form, where it is the ring product).
    pub fn mul_assign(&self, a: &mut RnsPoly, b: &RnsPoly) {
        assert_same_shape("mul", a, b);
        assert_eq!(
            a.form(),
            Form::Ntt,
            "mul: ring products need NTT form, got {}",
            a.shape()
        );
        self.zip_limbs(a, b, |m, x, y| {
            x.iter_mut().zip(y).for_each(|(x, &y)| *x = m.mul(*x, y))
        });
    }

    /// `out = a ⊙ b` (pointwise, NTT form; `out` is resized to the operands' shape).
    pub fn mul(&self, a: &RnsPoly, b: &RnsPoly, out: &mut RnsPoly) {
        out.reshape_like(a);
        out.data_mut().fill(0);
        self.mul_acc(out, a, b);
    }

    /// `acc += a ⊙ b` (pointwise, NTT form, all three of the same shape), with tfhe-ntt's SIMD
    /// multiply-accumulate kernel.
    pub fn mul_acc(&self, acc: &mut RnsPoly, a: &RnsPoly, b: &RnsPoly) {
        assert_same_shape("mul_acc", acc, a);
        assert_same_shape("mul_acc", a, b);
        assert_eq!(
            a.form(),
            Form::Ntt,
            "mul_acc: ring products need NTT form, got {}",
            a.shape()
        );
        self.assert_fits(acc);
        let n = self.degree();
        let q_limbs = acc.q_limbs();
        let run = |(i, ((o, x), y)): (usize, LimbTriple<'_>)| {
            self.limb_prime(q_limbs, i).1.mul_accumulate(o, x, y)
        };
        if n >= super::context::PARALLEL_MIN_DEGREE {
            acc.data_mut()
                .par_chunks_mut(n)
                .zip(a.data().par_chunks(n))
                .zip(b.data().par_chunks(n))
                .enumerate()
                .for_each(run);
        } else {
            acc.data_mut()
                .chunks_mut(n)
                .zip(a.data().chunks(n))
                .zip(b.data().chunks(n))
                .enumerate()
                .for_each(run);
        }
    }

    /// Multiplies limb i by `scalar_of(i)` (any u64, reduced per limb).
    fn scale_limbs<F>(&self, a: &mut RnsPoly, scalar_of: F)
    where
        F: Fn(usize) -> u64 + Sync + Send,
    {
        self.assert_fits(a);
        let q_limbs = a.q_limbs();
        self.for_each_limb(a.data_mut(), |i, limb| {
            let m = self.limb_prime(q_limbs, i).0;
            let w = m.shoup(scalar_of(i));
            limb.iter_mut().for_each(|x| *x = m.mul_shoup(*x, w));
        });
    }

    /// `a = a · s_i` on limb i, for one scalar per limb (any u64, reduced per limb). This is
    /// multiplication by the integer whose residues are `scalars` (e.g. a scaled constant).
    ///
    /// # Panics
    /// If `scalars.len()` differs from the number of limbs.
    pub fn mul_scalars_assign(&self, a: &mut RnsPoly, scalars: &[u64]) {
        assert_eq!(
            scalars.len(),
            a.limb_count(),
            "one scalar per limb of {}",
            a.shape()
        );
        self.scale_limbs(a, |i| scalars[i]);
    }

    /// `a = a · c` for a non-negative integer `c`.
    pub fn mul_scalar_assign(&self, a: &mut RnsPoly, c: u64) {
        self.scale_limbs(a, |_| c);
    }

    /// `a = a + s` for the constant polynomial `s` with residue `s_i` on limb i (any u64,
    /// reduced per limb): added to every evaluation in NTT form, to coefficient 0 otherwise.
    ///
    /// # Panics
    /// If `scalars.len()` differs from the number of limbs.
    pub fn add_scalars_assign(&self, a: &mut RnsPoly, scalars: &[u64]) {
        self.assert_fits(a);
        assert_eq!(
            scalars.len(),
            a.limb_count(),
            "one scalar per limb of {}",
            a.shape()
        );
        let q_limbs = a.q_limbs();
        let form = a.form();
        self.for_each_limb(a.data_mut(), |i, limb| {
            let m = self.limb_prime(q_limbs, i).0;
            let s = m.reduce_u64(scalars[i]);
            match form {
                Form::Ntt => limb.iter_mut().for_each(|x| *x = m.add(*x, s)),
                Form::Coefficient => limb[0] = m.add(limb[0], s),
            }
        });
    }

    /// The residues of the signed integer `c` modulo every limb of a polynomial with
    /// `q_limbs` ciphertext limbs and `p_limbs` special limbs (for the scalar operations).
    pub fn scalar_residues(&self, c: i64, q_limbs: usize, p_limbs: usize) -> Vec<u64> {
        (0..q_limbs + p_limbs)
            .map(|i| {
                let m = self.limb_prime(q_limbs, i).0;
                let r = m.reduce_u64(c.unsigned_abs());
                if c < 0 { m.neg(r) } else { r }
            })
            .collect()
    }
}
