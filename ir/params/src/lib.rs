//! Facts about CKKS parameters that both the compiler and the runtime need: parameter sets,
//! their validation, and the HE-standard 128-bit security bound. Kept in one place so the two
//! sides can never disagree (DESIGN §2).
//!
//! - [`CkksParamsLiteral`]: what a user or a preset states (bit sizes, dnum, scale, secret),
//!   public fields, serde, not validated.
//! - [`CkksParams::new`]: validates a literal, generates the exact primes deterministically
//!   ([`primes`]) and checks security ([`security`]); the result has private fields.
//! - [`bootstrap`]: bootstrapping parameters (chain layout, levels, EvalMod shape, the
//!   sparse-secret bound, key bytes) and the `N16_BOOT` preset.
//! - [`dft_plan`]: the structure of bootstrapping's homomorphic DFTs (factors, diagonals,
//!   baby-step giant-step split, rotations and their levels).
//! - [`presets`]: named parameter sets, 128-bit secure for N = 2^13..2^16 and small insecure
//!   ones for tests.

mod bignum;
pub mod bootstrap;
pub mod dft_plan;
mod literal;
mod params;
pub mod presets;
pub mod primes;
pub mod security;
mod units;

pub use bootstrap::{
    BootstrapConfig, BootstrapError, BootstrapLevels, BootstrapLiteral, EvalModLiteral,
};
pub use dft_plan::{DftDirection, DftFactor, DftPlan, DftPlanError};
pub use literal::{CkksParamsLiteral, SecretDistribution};
pub use params::{
    CkksParams, MAX_LOG_N, MAX_PRIME_BITS, MIN_LOG_N, ParamError, ParamHash, digit_primes_at,
    is_digit_partition,
};
pub use security::{SecurityLevel, SecurityPolicy};
pub use units::{Level, LogN};
