//! [`CkksSetup`]: the CKKS context a program was compiled for, rebuilt from the bootstrapping
//! literal the compiler recorded in `program.meta.params` (`Target::record`).
//!
//! The literal is validated again here ([`BootstrapConfig::new`]: prime sizes, digits, the
//! 128-bit bound, the sparse-secret estimate), the program's `bootstrap` declaration must be
//! exactly what the configuration gives (levels and scales), and a literal marked insecure is
//! refused unless the caller opts in: the opt-in is the caller's decision (a test, a
//! `--insecure` flag), never the file's (docs/security.md).

use super::CkksError;
use crate::context::CkksContext;
use fhec_ir::{Program, Scale};
use fhec_params::{BootstrapConfig, BootstrapLiteral, SecurityLevel, SecurityPolicy};

/// The parameters, bootstrapping configuration and context of one compiled program.
#[derive(Debug)]
pub struct CkksSetup {
    config: BootstrapConfig,
    context: CkksContext,
}

impl CkksSetup {
    /// Rebuilds the context `program` was compiled for.
    ///
    /// Errors: [`CkksError::NoParameters`], [`CkksError::ParameterText`],
    /// [`CkksError::Parameters`] for a literal that does not validate,
    /// [`CkksError::Insecure`] for insecure parameters under
    /// [`SecurityPolicy::Require128Bit`], [`CkksError::BootstrapSpec`] when the program's
    /// bootstrap declaration disagrees with the parameters, [`CkksError::Ring`].
    pub fn from_program(program: &Program, policy: SecurityPolicy) -> Result<Self, CkksError> {
        let recorded = program
            .meta
            .params
            .as_ref()
            .ok_or(CkksError::NoParameters)?;
        let literal: BootstrapLiteral = recorded
            .decode()
            .map_err(|e| CkksError::ParameterText(e.to_string()))?;
        let config = BootstrapConfig::new(literal)?;
        let params = config.params();
        if params.security() != SecurityLevel::Bits128 && !policy.allows_insecure() {
            return Err(CkksError::Insecure {
                log_n: params.log_n().0,
                log_qp: params.log_qp(),
            });
        }
        if let Some(declared) = &program.bootstrap {
            let recorded = (
                config.min_input_level().0 as u32,
                config.input_scale(),
                config.output_level().0 as u32,
                config.output_scale(),
            );
            let value = |scale: &Scale| bind_scale(scale, params.q_primes());
            let matches = declared.input_level == recorded.0
                && value(&declared.input_scale).ok() == Some(recorded.1)
                && declared.output_level == recorded.2
                && value(&declared.output_scale).ok() == Some(recorded.3);
            if !matches {
                return Err(CkksError::BootstrapSpec {
                    declared: format!(
                        "level {} at {} → level {} at {}",
                        declared.input_level,
                        declared.input_scale,
                        declared.output_level,
                        declared.output_scale
                    ),
                    recorded: format!(
                        "level {} at 2^{} → level {} at 2^{}",
                        recorded.0,
                        recorded.1.log2(),
                        recorded.2,
                        recorded.3.log2()
                    ),
                });
            }
        }
        let context = CkksContext::new(params.clone())?;
        Ok(Self { config, context })
    }

    /// The bootstrapping configuration (and through it the parameters).
    pub fn config(&self) -> &BootstrapConfig {
        &self.config
    }

    /// The context every client, key and backend of this program shares.
    pub fn context(&self) -> &CkksContext {
        &self.context
    }

    /// `"128-bit"` or `"insecure"`: the label every output made with these parameters
    /// carries.
    pub fn security(&self) -> SecurityLevel {
        self.config.params().security()
    }
}

/// The value of an exact IR scale `2^e · ∏ q_i^k` once each symbolic prime `q_i` is bound to
/// `primes[i]`.
///
/// The factors are applied one prime at a time to a mantissa kept near 1, with the powers of
/// two gathered in an integer exponent: an intermediate like `2^1440` (a high power of the
/// working scale before the primes divide it out) does not overflow `f64`, and only the final
/// value must be in range. Every step rounds once, as the runtime's own scale tracking does.
///
/// Errors: [`CkksError::UnboundScale`] for a prime index beyond the chain or a value that is
/// not a finite positive `f64`.
pub fn bind_scale(scale: &Scale, primes: &[u64]) -> Result<f64, CkksError> {
    let unbound = || CkksError::UnboundScale {
        scale: scale.to_string(),
        primes: primes.len(),
    };
    let mut mantissa = 1.0f64;
    let mut exponent = i64::from(scale.pow2_exponent());
    for (index, power) in scale.prime_exponents() {
        let prime = *primes.get(index as usize).ok_or_else(unbound)? as f64;
        for _ in 0..power.unsigned_abs() {
            if power > 0 {
                mantissa *= prime;
            } else {
                mantissa /= prime;
            }
            // Dividing by a power of two is exact.
            let shift = mantissa.log2().floor() as i32;
            mantissa /= 2f64.powi(shift);
            exponent += i64::from(shift);
        }
    }
    let exponent = i32::try_from(exponent).map_err(|_| unbound())?;
    let value = mantissa * 2f64.powi(exponent);
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(unbound())
    }
}

/// Relative difference up to which a ciphertext's scale counts as its type's.
const SCALE_TOLERANCE: f64 = 1.0 / (1u64 << 40) as f64;

/// Checks `ct` (`what`, for errors) against the IR type `ty`: level, slots and scale (within
/// [`SCALE_TOLERANCE`] of the type's exact value on `setup`'s chain, which it returns).
///
/// Errors: [`CkksError::Level`], [`CkksError::Slots`], [`CkksError::Scale`],
/// [`CkksError::UnboundScale`].
pub fn check_ciphertext(
    setup: &CkksSetup,
    ct: &crate::ciphertext::Ciphertext,
    ty: &fhec_ir::Type,
    what: &str,
) -> Result<f64, CkksError> {
    if ct.level().0 != ty.level as usize {
        return Err(CkksError::Level {
            what: what.to_string(),
            expected: ty.level,
            found: ct.level().0,
        });
    }
    if ct.slots != ty.slots as usize {
        return Err(CkksError::Slots {
            what: what.to_string(),
            expected: ty.slots,
            found: ct.slots,
        });
    }
    let exact = bind_scale(&ty.scale, setup.context().params().q_primes())?;
    let relative = ((ct.scale - exact) / exact).abs();
    // A NaN scale fails this comparison too.
    if relative.is_nan() || relative > SCALE_TOLERANCE {
        return Err(CkksError::Scale {
            what: what.to_string(),
            expected: ty.scale.to_string(),
            expected_log2: exact.log2(),
            found_log2: ct.scale.log2(),
        });
    }
    Ok(exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_bind_to_the_chain_primes() {
        let primes = [97, 193, 257];
        let scale = Scale::pow2(10).with_prime(1, 2).with_prime(2, -1);
        let expected = 1024.0 * 193.0 * 193.0 / 257.0;
        let value = bind_scale(&scale, &primes).unwrap();
        assert!((value - expected).abs() <= expected * 1e-15);
        // A large intermediate power of two divided back by primes stays exact enough.
        let chain = [97, (1 << 45) + 1, (1 << 50) + 3];
        let high = Scale::pow2(1440).with_prime(1, -16).with_prime(2, -14);
        let expected_log2 =
            1440.0 - 16.0 * (chain[1] as f64).log2() - 14.0 * (chain[2] as f64).log2();
        let value = bind_scale(&high, &chain).unwrap();
        assert!(
            (value.log2() - expected_log2).abs() < 1e-12,
            "{}",
            value.log2()
        );
        assert!(bind_scale(&Scale::pow2(1100), &primes).is_err());
        let beyond = Scale::prime(3);
        assert!(matches!(
            bind_scale(&beyond, &primes),
            Err(CkksError::UnboundScale { primes: 3, .. })
        ));
    }
}
