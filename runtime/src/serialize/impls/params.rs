//! Parameter-set files: a parameter set is stored as its literal (what was stated: bit sizes,
//! dnum, scale, secret distribution, and whether it is insecure) followed by the exact primes
//! it produced. Decoding validates the literal again with [`CkksParams::new`] (so a file can
//! never smuggle in parameters the security check would refuse) and checks that this build
//! generates the same primes.
//!
//! The insecure flag in a file is a label, not an opt-in: a file holding insecure parameters
//! is refused unless the *caller* passes [`SecurityPolicy::AllowInsecure`] (docs/security.md).

use std::path::Path;

use fhec_params::{CkksParams, CkksParamsLiteral, SecretDistribution, SecurityPolicy};

use super::invalid;
use crate::serialize::{
    Codec, FileError, ObjectKind, PayloadError, Problem, Reader, Writer, read_file_any_params,
};

/// More primes than any parameter set has (log QP ≤ 3523 at N = 2^17 with primes of at least
/// 12 bits), to bound allocation while decoding.
const MAX_PRIMES: u64 = 512;

impl Codec for CkksParams {
    const KIND: ObjectKind = ObjectKind::Parameters;
    const VERSION: u32 = 1;
    /// Whether the caller accepts insecure parameters.
    type Context = SecurityPolicy;

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        let literal = self.literal();
        w.u32(literal.log_n)?;
        for bit_sizes in [&literal.log_q, &literal.log_p] {
            w.u64(bit_sizes.len() as u64)?;
            bit_sizes.iter().try_for_each(|&bits| w.u32(bits))?;
        }
        w.u64(literal.dnum as u64)?;
        w.u32(literal.log_scale)?;
        match literal.secret {
            SecretDistribution::Ternary => w.u8(0)?,
            SecretDistribution::FixedHammingWeight { hamming_weight } => {
                w.u8(1)?;
                w.u64(hamming_weight as u64)?;
            }
        }
        w.u8(u8::from(literal.insecure))?;
        w.u64_slice(self.q_primes())?;
        w.u64_slice(self.p_primes())
    }

    fn decode(
        r: &mut Reader<'_>,
        version: u32,
        policy: &SecurityPolicy,
    ) -> Result<Self, PayloadError> {
        if version != 1 {
            return Err(PayloadError::UnsupportedVersion {
                kind: Self::KIND,
                version,
            });
        }
        let log_n = r.u32()?;
        let log_q = bit_sizes(r, "ciphertext prime count")?;
        let log_p = bit_sizes(r, "special prime count")?;
        let dnum = to_usize(r.u64()?, "dnum")?;
        let log_scale = r.u32()?;
        let secret = match r.u8()? {
            0 => SecretDistribution::Ternary,
            1 => SecretDistribution::FixedHammingWeight {
                hamming_weight: to_usize(r.u64()?, "Hamming weight")?,
            },
            tag => return Err(invalid("secret distribution", format!("unknown tag {tag}"))),
        };
        let insecure = match r.u8()? {
            0 => false,
            1 => true,
            flag => {
                return Err(invalid(
                    "insecure flag",
                    format!("{flag} is neither 0 nor 1"),
                ));
            }
        };
        if insecure && !policy.allows_insecure() {
            let reason = "the file holds parameters below 128-bit security, and the caller did \
                          not opt in to insecure parameters (tests only; a file cannot opt in)";
            return Err(invalid("parameter set", reason.to_string()));
        }
        let literal = CkksParamsLiteral {
            log_n,
            log_q,
            log_p,
            dnum,
            log_scale,
            secret,
            insecure,
        };
        let params = CkksParams::new(literal)
            .map_err(|error| invalid("parameter set", error.to_string()))?;
        let q = r.u64_vec(MAX_PRIMES)?;
        let p = r.u64_vec(MAX_PRIMES)?;
        if q != params.q_primes() || p != params.p_primes() {
            let reason = "the file lists other primes than this build generates for these bit \
                          sizes (written by an fhec with another prime generator?)";
            return Err(invalid("primes", reason.to_string()));
        }
        Ok(params)
    }
}

/// Reads a parameter-set file holding 128-bit secure parameters, checking that the parameter
/// hash in its header is the hash of the parameters it holds. A file of insecure parameters is
/// refused (see [`read_params_file_with`]).
pub fn read_params_file(path: &Path) -> Result<CkksParams, FileError> {
    read_params_file_with(path, SecurityPolicy::Require128Bit)
}

/// Reads a parameter-set file as [`read_params_file`] does, accepting insecure parameters only
/// when the caller's `policy` allows them.
pub fn read_params_file_with(path: &Path, policy: SecurityPolicy) -> Result<CkksParams, FileError> {
    let (params, header_hash) = read_file_any_params::<CkksParams>(path, &policy)?;
    if params.hash() != header_hash {
        let reason = "the header's parameter hash is not the hash of the parameters inside";
        let source = invalid("parameter hash", reason.to_string());
        return Err(FileError::new(
            path,
            Problem::Malformed {
                kind: ObjectKind::Parameters,
                source,
            },
        ));
    }
    Ok(params)
}

/// A count (bounded by [`MAX_PRIMES`]) followed by that many u32 bit sizes.
fn bit_sizes(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u32>, PayloadError> {
    let count = r.u64()?;
    if count > MAX_PRIMES {
        return Err(PayloadError::TooLong {
            what,
            len: count,
            max: MAX_PRIMES,
        });
    }
    (0..count).map(|_| r.u32()).collect()
}

fn to_usize(value: u64, what: &'static str) -> Result<usize, PayloadError> {
    usize::try_from(value).map_err(|_| invalid(what, format!("{value} does not fit in memory")))
}
