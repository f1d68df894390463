//! [`CkksBackend`]: the [`Backend`] on real ciphertexts, holding only evaluation keys.
//!
//! Each operation runs the runtime's [`Evaluator`] (or the [`Bootstrapper`]) and then checks
//! its result against the result type the program gives it: the level, the slot count, and
//! the scale, i.e. the IR's exact `2^e · ∏ q_i^k` with every `q_i` bound to the chain's
//! prime, to a relative 2^-40 (`f64` rounding of one operation stays far below; confusing
//! 2^45 with a 45-bit prime ≡ 1 mod 2N, or a missing rescale, is far above). The result's
//! scale is then set to the exact value, so rounding never accumulates along the program.
//! A mismatch is an error naming both sides, never a silently wrong decryption.

use super::setup::{CkksSetup, bind_scale, check_ciphertext};
use super::timing::OpTimes;
use super::{CkksError, EvaluationKeys};
use crate::bootstrap::{Bootstrapper, DiagonalResidency};
use crate::ciphertext::Ciphertext;
use crate::encoding::{Encoder, Plaintext};
use crate::eval::Evaluator;
use crate::exec::Backend;
use fhec_ir::{Scale, Type};
use fhec_params::Level;
use std::time::Instant;

/// Evaluates a program's operations on ciphertexts; see the module documentation.
pub struct CkksBackend<'a> {
    setup: &'a CkksSetup,
    evaluator: Evaluator<'a>,
    bootstrapper: Option<Bootstrapper<'a>>,
    times: OpTimes,
}

impl<'a> CkksBackend<'a> {
    /// A backend over `setup`'s context with `keys`. With bootstrapping keys this prepares the
    /// [`Bootstrapper`] (plans and encodes the DFT matrices once, for every image).
    ///
    /// Errors: [`CkksError::Bootstrap`] when the bootstrapper cannot be prepared (a key
    /// missing or capped too low names itself).
    pub fn new(setup: &'a CkksSetup, keys: &'a EvaluationKeys) -> Result<Self, CkksError> {
        Self::with_residency(setup, keys, DiagonalResidency::default())
    }

    /// As [`Self::new`], with the bootstrapping DFT diagonals kept as `residency` says:
    /// encoded once (fastest; 2.7 GB at N = 2^16) or encoded at each bootstrap (a few MB,
    /// about 1.5 s more per bootstrap at N = 2^16 on 2 threads).
    ///
    /// Errors: as [`Self::new`].
    pub fn with_residency(
        setup: &'a CkksSetup,
        keys: &'a EvaluationKeys,
        residency: DiagonalResidency,
    ) -> Result<Self, CkksError> {
        let context = setup.context();
        let mut evaluator = Evaluator::new(context).with_galois_keys(keys.galois());
        if let Some(key) = keys.relinearization() {
            evaluator = evaluator.with_relinearization_key(key);
        }
        let bootstrapper = keys
            .bootstrap()
            .map(|boot| Bootstrapper::with_residency(context, setup.config(), boot, residency))
            .transpose()?;
        Ok(Self {
            setup,
            evaluator,
            bootstrapper,
            times: OpTimes::default(),
        })
    }

    /// Count and wall time of every operation run so far (encodings included, as `plain`).
    pub fn op_times(&self) -> &OpTimes {
        &self.times
    }

    /// Runs `f` and records its wall time as one `op`.
    fn timed<T>(
        &mut self,
        op: &'static str,
        f: impl FnOnce(&Self) -> Result<T, CkksError>,
    ) -> Result<T, CkksError> {
        let start = Instant::now();
        let result = f(self);
        self.times.record(op, start.elapsed());
        result
    }

    /// The exact value of an IR scale on this chain.
    fn scale(&self, scale: &Scale) -> Result<f64, CkksError> {
        bind_scale(scale, self.setup.context().params().q_primes())
    }

    /// Checks `ct` against `ty` and returns its exact scale; see the module documentation.
    fn check(&self, ct: &Ciphertext, ty: &Type, what: &str) -> Result<f64, CkksError> {
        check_ciphertext(self.setup, ct, ty, what)
    }

    /// `ct` checked as the result of type `ty`, with its scale set to the exact value.
    fn typed(&self, mut ct: Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        ct.scale = self.check(&ct, ty, "the result")?;
        Ok(ct)
    }
}

impl Backend for CkksBackend<'_> {
    type Cipher = Ciphertext;
    type Plain = Plaintext;
    type Error = CkksError;

    fn check_input(&self, x: &Ciphertext, ty: &Type) -> Result<(), CkksError> {
        self.check(x, ty, "the input").map(|_| ())
    }

    fn encode(&mut self, values: Vec<f64>, ty: &Type) -> Result<Plaintext, CkksError> {
        if ty.is_cipher() {
            return Err(CkksError::Kind {
                what: "a plaintext recipe".into(),
                expected: "plaintext",
                found: ty.to_string(),
            });
        }
        if values.len() != ty.slots as usize {
            return Err(CkksError::Slots {
                what: "a plaintext recipe".into(),
                expected: ty.slots,
                found: values.len(),
            });
        }
        let scale = self.scale(&ty.scale)?;
        self.timed("plain", |s| {
            Ok(Encoder::new(s.setup.context()).encode_real(
                &values,
                ty.slots as usize,
                Level(ty.level as usize),
                scale,
            )?)
        })
    }

    fn add(&mut self, a: &Ciphertext, b: &Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("add", |s| s.typed(s.evaluator.add_new(a, b)?, ty))
    }

    fn sub(&mut self, a: &Ciphertext, b: &Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("sub", |s| s.typed(s.evaluator.sub_new(a, b)?, ty))
    }

    fn neg(&mut self, a: &Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("neg", |s| s.typed(s.evaluator.neg_new(a)?, ty))
    }

    fn add_plain(
        &mut self,
        a: &Ciphertext,
        p: &Plaintext,
        ty: &Type,
    ) -> Result<Ciphertext, CkksError> {
        self.timed("add_plain", |s| {
            s.typed(s.evaluator.add_plain_new(a, p)?, ty)
        })
    }

    fn mul_plain(
        &mut self,
        a: &Ciphertext,
        p: &Plaintext,
        ty: &Type,
    ) -> Result<Ciphertext, CkksError> {
        self.timed("mul_plain", |s| {
            s.typed(s.evaluator.mul_plain_new(a, p)?, ty)
        })
    }

    fn mul_const(
        &mut self,
        a: &Ciphertext,
        c: f64,
        scale: &Scale,
        ty: &Type,
    ) -> Result<Ciphertext, CkksError> {
        let scale = self.scale(scale)?;
        self.timed("mul_const", |s| {
            s.typed(s.evaluator.mul_const_new(a, c, scale)?, ty)
        })
    }

    fn add_const(&mut self, a: &Ciphertext, c: f64, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("add_const", |s| {
            s.typed(s.evaluator.add_const_new(a, c)?, ty)
        })
    }

    fn mul(&mut self, a: &Ciphertext, b: &Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("mul", |s| s.typed(s.evaluator.mul_new(a, b)?, ty))
    }

    fn rotate(&mut self, a: &Ciphertext, k: i32, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("rotate", |s| {
            s.typed(s.evaluator.rotate_new(a, i64::from(k))?, ty)
        })
    }

    fn rotate_hoisted(
        &mut self,
        a: &Ciphertext,
        ks: &[i32],
        ty: &Type,
    ) -> Result<Vec<Ciphertext>, CkksError> {
        let steps: Vec<i64> = ks.iter().map(|&k| i64::from(k)).collect();
        self.timed("rotate_hoisted", |s| {
            s.evaluator
                .rotate_hoisted(a, &steps)?
                .into_iter()
                .map(|ct| s.typed(ct, ty))
                .collect()
        })
    }

    fn conjugate(&mut self, a: &Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("conjugate", |s| s.typed(s.evaluator.conjugate_new(a)?, ty))
    }

    fn rescale(&mut self, a: &Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("rescale", |s| s.typed(s.evaluator.rescale_new(a)?, ty))
    }

    fn level_down(&mut self, a: &Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        let target = Level(ty.level as usize);
        self.timed("level_down", |s| {
            s.typed(s.evaluator.level_down_new(a, target)?, ty)
        })
    }

    fn bootstrap(&mut self, a: &Ciphertext, ty: &Type) -> Result<Ciphertext, CkksError> {
        self.timed("bootstrap", |s| {
            let bootstrapper = s.bootstrapper.as_ref().ok_or(CkksError::NoBootstrapKeys)?;
            s.typed(bootstrapper.bootstrap(a)?, ty)
        })
    }
}
