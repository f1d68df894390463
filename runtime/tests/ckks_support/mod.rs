//! Shared fixtures of the CKKS tests: a [`TestContext`] per parameter literal with
//! keys and helpers, the list of literals the tests loop over, and precision reporting.
//!
//! The default literals are the small insecure test presets (labelled as such by their name);
//! `FHEC_TEST_PARAMS` may hold a JSON `CkksParamsLiteral` to run every test on it instead.
//! `FHEC_PRINT_PRECISION=1` prints each precision table.

#![allow(dead_code)]

use fhec_params::{CkksParams, CkksParamsLiteral, Level, presets};
use fhec_runtime::ciphertext::Ciphertext;
use fhec_runtime::context::CkksContext;
use fhec_runtime::encoding::{C64, Encoder};
use fhec_runtime::encrypt::{Encryptor, decrypt};
use fhec_runtime::keys::{KeyGenerator, PublicKey, RelinearizationKey, SecretKey};
use fhec_runtime::precision::PrecisionStats;
use fhec_runtime::sampling::SecureRng;

/// The parameter literals every test runs on, with their names.
pub fn literals() -> Vec<(String, CkksParamsLiteral)> {
    if let Ok(json) = std::env::var("FHEC_TEST_PARAMS") {
        let mut literal: CkksParamsLiteral =
            serde_json::from_str(&json).expect("FHEC_TEST_PARAMS is not a JSON CkksParamsLiteral");
        // Deserializing never opts in; the test harness, as the caller, does (tests only).
        literal.insecure = true;
        return vec![("FHEC_TEST_PARAMS".into(), literal)];
    }
    vec![
        ("TEST_N10_QP365_INSECURE".into(), presets::test_insecure(10)),
        ("TEST_N12_QP365_INSECURE".into(), presets::test_insecure(12)),
        ("N13_QP211".into(), presets::n13_qp211()),
    ]
}

/// A parameter set with a secret, public and relinearisation key, made from fixed seeds.
pub struct TestContext {
    pub name: String,
    pub context: CkksContext,
    pub secret: SecretKey,
    pub public: PublicKey,
    pub relinearization: RelinearizationKey,
    rng: std::cell::RefCell<SecureRng>,
}

impl TestContext {
    pub fn new(name: &str, literal: CkksParamsLiteral) -> Self {
        let params = CkksParams::new(literal).expect("test parameters are valid");
        let context = CkksContext::new(params).expect("ring context");
        let mut generator =
            KeyGenerator::with_rng(&context, SecureRng::insecure_from_fixed_seed([7; 32]));
        let secret = generator.secret_key().unwrap();
        let public = generator.public_key(&secret);
        let relinearization = generator
            .relinearization_key(&secret, context.max_level())
            .unwrap();
        drop(generator);
        Self {
            name: name.to_string(),
            context,
            secret,
            public,
            relinearization,
            rng: std::cell::RefCell::new(SecureRng::insecure_from_fixed_seed([11; 32])),
        }
    }

    /// Every test context of [`literals`].
    pub fn all() -> Vec<TestContext> {
        literals()
            .into_iter()
            .map(|(name, literal)| TestContext::new(&name, literal))
            .collect()
    }

    pub fn encoder(&self) -> Encoder<'_> {
        Encoder::new(&self.context)
    }

    pub fn max_slots(&self) -> usize {
        self.context.params().max_slots()
    }

    pub fn top(&self) -> Level {
        self.context.max_level()
    }

    pub fn scale(&self) -> f64 {
        self.context.default_scale()
    }

    /// `count` complex values with both parts uniform in [−1, 1] (fixed seed per call site).
    pub fn random_values(&self, count: usize) -> Vec<C64> {
        let mut rng = self.rng.borrow_mut();
        (0..count)
            .map(|_| C64::new(uniform(&mut rng), uniform(&mut rng)))
            .collect()
    }

    /// Encrypts `values` with the public key at `level` and the default scale.
    pub fn encrypt(&self, values: &[C64], slots: usize, level: Level) -> Ciphertext {
        let plaintext = self
            .encoder()
            .encode(values, slots, level, self.scale())
            .unwrap();
        let rng = SecureRng::insecure_from_fixed_seed(self.rng.borrow_mut().seed());
        Encryptor::with_rng(&self.context, rng).encrypt_pk(&self.public, &plaintext)
    }

    pub fn decrypt(&self, ciphertext: &Ciphertext) -> Vec<C64> {
        let plaintext = decrypt(&self.context, &self.secret, ciphertext);
        self.encoder().decode(&plaintext)
    }

    /// A precision threshold stated for scale 2^40 and N ≤ 2^12, moved to these parameters:
    /// one bit less per bit of scale below 40 and per doubling of N beyond 2^12 (the fresh
    /// noise grows with N).
    pub fn threshold(&self, bits_at_reference: f64) -> f64 {
        let params = self.context.params();
        let log_scale = params.log_scale() as f64;
        let log_n = params.log_n().0 as f64;
        bits_at_reference - (40.0 - log_scale) - (log_n - 12.0).max(0.0)
    }

    /// Decrypts and compares with `expected`, failing below `min_mean_bits` mean precision
    /// (stated for scale 2^40, N ≤ 2^12, see [`Self::threshold`]).
    pub fn check(
        &self,
        what: &str,
        ciphertext: &Ciphertext,
        expected: &[C64],
        min_mean_bits: f64,
    ) -> PrecisionStats {
        let got = self.decrypt(ciphertext);
        let threshold = self.threshold(min_mean_bits);
        check_precision(&format!("{} {what}", self.name), expected, &got, threshold)
    }
}

/// Compares, prints when asked, and fails below `min_mean_bits` (mean) or `min_mean_bits − 6`
/// (worst slot).
pub fn check_precision(
    what: &str,
    expected: &[C64],
    got: &[C64],
    min_mean_bits: f64,
) -> PrecisionStats {
    let stats = PrecisionStats::of(expected, got);
    if std::env::var("FHEC_PRINT_PRECISION").is_ok_and(|v| v == "1") {
        println!("{what}: {stats}");
    }
    assert!(
        stats.mean_bits() >= min_mean_bits && stats.min_bits() >= min_mean_bits - 6.0,
        "{what}: precision below {min_mean_bits} bits mean: {stats}"
    );
    stats
}

pub fn uniform(rng: &mut SecureRng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}
