//! The machine a program is compiled for: CKKS parameters with a bootstrapping configuration
//! (fhec-params), turned into what the passes need (levels and scales of a bootstrap, the
//! modulus chain, the memory model) and recorded in the program so the runtime builds the same
//! context.
//!
//! The default target is the 128-bit `N16_BOOT` preset at the program's slot count: the
//! circuit runs on the levels a bootstrap leaves (10), inputs are encrypted at that level and
//! scale, and every bootstrap takes a level-0 ciphertext at the configuration's input scale.
//! Keeping this mapping in one place means the compiler never restates a parameter the
//! runtime chose.

use crate::passes::{BootstrapResidency, MemoryModel, PassOptions};
use fhec_ir::{BootstrapSpec, ChainFacts, Opaque, Program, Scale};
use fhec_params::bootstrap::n16_boot;
use fhec_params::{
    BootstrapConfig, BootstrapError, BootstrapLiteral, DftDirection, DftPlan, DftPlanError, Level,
};

/// A prime above the circuit's top level may carry fresh inputs when its size is within this
/// many bits of the working scale (N16_BOOT: SlotToCoeff's 42-bit primes against Δ = 2^45).
pub const INPUT_PRIME_TOLERANCE_BITS: f64 = 4.0;

/// Why a target could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The program's slot count is not a power of two the ring holds.
    #[error("{slots} slots: a target needs a power of two between 2 and N/2 = {max}")]
    Slots {
        /// Slots asked for.
        slots: usize,
        /// The largest the ring holds.
        max: usize,
    },
    /// The bootstrapping configuration is invalid or not secure.
    #[error("bootstrapping parameters: {0}")]
    Bootstrap(#[from] BootstrapError),
    /// The bootstrapping's DFT cannot be planned (a configuration the runtime refuses too).
    #[error("bootstrapping DFT plan: {0}")]
    DftPlan(#[from] DftPlanError),
    /// A scale of the configuration is not an exact power of two.
    #[error("the bootstrap's {which} scale 2^{log2} is not an exact power of two")]
    Scale {
        /// Which scale.
        which: &'static str,
        /// Its log2.
        log2: f64,
    },
}

/// A validated bootstrapping configuration the passes compile for.
#[derive(Clone, Debug)]
pub struct Target {
    config: BootstrapConfig,
}

impl Target {
    /// The 128-bit `N16_BOOT` preset bootstrapping `slots` slots.
    pub fn n16_boot(slots: usize) -> Result<Self, TargetError> {
        let max = 1usize << 15;
        if !slots.is_power_of_two() || !(2..=max).contains(&slots) {
            return Err(TargetError::Slots { slots, max });
        }
        Self::new(n16_boot(slots.trailing_zeros()))
    }

    /// A target from any bootstrapping literal (the insecure test presets included; their
    /// programs carry the literal, which says so).
    pub fn new(literal: BootstrapLiteral) -> Result<Self, TargetError> {
        Ok(Target {
            config: BootstrapConfig::new(literal)?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BootstrapConfig {
        &self.config
    }

    /// What a `bootstrap` consumes and produces: a level-0 input at the configuration's input
    /// scale, an output at the circuit's top level and scale.
    pub fn bootstrap_spec(&self) -> Result<BootstrapSpec, TargetError> {
        Ok(BootstrapSpec {
            input_level: self.config.min_input_level().0 as u32,
            input_scale: exact_pow2("input", self.config.input_scale())?,
            output_level: self.config.output_level().0 as u32,
            output_scale: exact_pow2("output", self.config.output_scale())?,
        })
    }

    /// The modulus chain as the verifier sees it.
    pub fn chain(&self) -> ChainFacts {
        let params = self.config.params();
        let log2_primes = params
            .q_primes()
            .iter()
            .map(|&q| (q as f64).log2())
            .collect();
        ChainFacts::new(log2_primes, 1 << (params.log_n().0 - 1))
    }

    /// The memory model of DESIGN §5 for these parameters: keys as the runtime holds them in
    /// memory (expanded, not seed-compressed), each sized by the parameters' own digits at its
    /// level, and the bootstrapping's resident keys and DFT diagonals.
    pub fn memory_model(&self) -> Result<MemoryModel, TargetError> {
        let params = self.config.params();
        let top = params.max_level();
        let in_memory = false;
        Ok(MemoryModel {
            ring_degree: 1 << params.log_n().0,
            top_level: top.0 as u32,
            dnum: params.dnum() as u32,
            special_primes: params.p_primes().len() as u32,
            seed_compressed: in_memory,
            key_bytes_by_level: Some(
                (0..=top.0)
                    .map(|l| self.config.switching_key_bytes(Level(l), in_memory))
                    .collect(),
            ),
            bootstrap: Some(self.bootstrap_residency(in_memory)?),
        })
    }

    /// What a bootstrap keeps resident: its rotation keys with their level caps, its
    /// conjugation and relinearisation keys (capped at CoeffToSlot's output level, where the
    /// real/imaginary split conjugates and EvalMod multiplies), all its key bytes
    /// ([`DftPlan::bootstrap_key_bytes`]), and one plaintext over `Q_l·P` per DFT diagonal at
    /// its factor's level (CoeffToSlot's factors from the top level down, SlotToCoeff's from
    /// EvalMod's output level down).
    fn bootstrap_residency(&self, compressed: bool) -> Result<BootstrapResidency, TargetError> {
        let plan = DftPlan::for_bootstrap(&self.config)?;
        let levels = self.config.levels();
        let ring_degree = 1u64 << self.config.params().log_n().0;
        let special = self.config.params().p_primes().len() as u64;
        let plaintext = |level: usize| ring_degree * (level as u64 + 1 + special) * 8;
        let factor_bytes = |direction: DftDirection, first_level: usize| -> u64 {
            plan.factors(direction)
                .iter()
                .enumerate()
                .map(|(i, f)| f.diagonals.len() as u64 * plaintext(first_level - i))
                .sum()
        };
        let plaintext_bytes = factor_bytes(DftDirection::CoeffToSlot, levels.top.0)
            + factor_bytes(DftDirection::SlotToCoeff, levels.evalmod_output.0);
        Ok(BootstrapResidency {
            rotation_levels: plan
                .bootstrap_rotation_levels(&self.config)
                .into_iter()
                .map(|(offset, level)| (offset, level.0 as u32))
                .collect(),
            conjugation_level: levels.c2s_output.0 as u32,
            relinearization_level: levels.c2s_output.0 as u32,
            key_bytes: plan.bootstrap_key_bytes(&self.config, compressed),
            plaintext_bytes,
        })
    }

    /// The highest level a fresh input may be encrypted at: the circuit's top level, raised
    /// through the primes above it (SlotToCoeff's) while each is within
    /// [`INPUT_PRIME_TOLERANCE_BITS`] of the working scale, so a rescale there keeps scales
    /// near Δ (a linear layer's rescale lands on Δ exactly whatever the prime).
    pub fn max_input_level(&self) -> u32 {
        let params = self.config.params();
        let top = self.config.output_level().0;
        let log_scale = self.config.output_scale().log2();
        let near = |q: &u64| ((*q as f64).log2() - log_scale).abs() <= INPUT_PRIME_TOLERANCE_BITS;
        let above = params.q_primes().get(top + 1..).unwrap_or_default();
        let extra = above.iter().take_while(|q| near(q)).count();
        (top + extra) as u32
    }

    /// Pass options for this target: inputs at the circuit's top level and scale (allowed up
    /// to [`Self::max_input_level`] when that saves bootstraps), this bootstrap, chain and
    /// memory model; the key and memory budgets are the caller's.
    pub fn pass_options(&self) -> Result<PassOptions, TargetError> {
        let spec = self.bootstrap_spec()?;
        Ok(PassOptions {
            input_level: Some(spec.output_level),
            max_input_level: Some(self.max_input_level()),
            input_scale: Some(spec.output_scale.clone()),
            bootstrap: Some(spec),
            chain: Some(self.chain()),
            memory: Some(self.memory_model()?),
            ..PassOptions::default()
        })
    }

    /// Records the target in `program`: its bootstrap declaration and, in the metadata, the
    /// bootstrapping literal the runtime rebuilds the context from.
    pub fn record(&self, program: &mut Program) -> Result<(), TargetError> {
        program.bootstrap = Some(self.bootstrap_spec()?);
        program.meta.params = Some(
            Opaque::encode(self.config.literal())
                .expect("a bootstrapping literal always serializes"),
        );
        Ok(())
    }
}

/// `value` as an exact symbolic scale 2^e.
fn exact_pow2(which: &'static str, value: f64) -> Result<Scale, TargetError> {
    let log2 = value.log2();
    if log2.fract() != 0.0 || !(1.0..=1000.0).contains(&log2) {
        return Err(TargetError::Scale { which, log2 });
    }
    Ok(Scale::pow2(log2 as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n16_boot_leaves_ten_levels_and_takes_level_zero_inputs() {
        let target = Target::n16_boot(1 << 14).unwrap();
        let spec = target.bootstrap_spec().unwrap();
        assert_eq!(spec.input_level, 0);
        assert_eq!(spec.output_level, 10);
        assert_eq!(spec.output_scale, Scale::pow2(45));
        assert_eq!(spec.input_scale, Scale::pow2(53));
        let chain = target.chain();
        assert_eq!(chain.max_slots, 1 << 15);
        assert!(chain.log2_primes.len() > 10);
        let options = target.pass_options().unwrap();
        assert_eq!(options.input_level, Some(10));
        // The three 42-bit SlotToCoeff primes above the circuit may carry fresh inputs, not
        // EvalMod's 60-bit ones.
        assert_eq!(options.max_input_level, Some(13));
    }

    #[test]
    fn the_memory_model_sizes_keys_as_the_parameters_do_and_counts_bootstrapping() {
        let target = Target::n16_boot(1 << 14).unwrap();
        let model = target.memory_model().unwrap();
        let config = target.config();
        let top = config.params().max_level();
        for level in 0..=top.0 {
            assert_eq!(
                model.key_bytes(level as u32),
                config.switching_key_bytes(Level(level), false),
                "level {level}"
            );
        }
        assert!(!model.seed_compressed, "keys are counted as held in memory");
        let boot = model.bootstrap.unwrap();
        let plan = DftPlan::for_bootstrap(config).unwrap();
        assert_eq!(boot.key_bytes, plan.bootstrap_key_bytes(config, false));
        assert_eq!(boot.rotation_levels.len(), plan.rotations().len());
        // Every diagonal is a plaintext over Q_l·P at a level between the circuit's top and
        // the bootstrap's top.
        let n = 1u64 << 16;
        let special = config.params().p_primes().len() as u64;
        let per_diagonal = |level: u64| n * (level + 1 + special) * 8;
        let count = plan.diagonal_count() as u64;
        assert!(boot.plaintext_bytes > count * per_diagonal(10));
        assert!(boot.plaintext_bytes <= count * per_diagonal(top.0 as u64));
    }

    #[test]
    fn slot_counts_the_ring_cannot_hold_are_refused() {
        for slots in [0, 3, 1 << 16] {
            let error = Target::n16_boot(slots).unwrap_err();
            assert!(error.to_string().contains("power of two"), "{error}");
        }
    }

    #[test]
    fn the_recorded_literal_round_trips() {
        let target = Target::n16_boot(1 << 13).unwrap();
        let mut program = Program::default();
        target.record(&mut program).unwrap();
        let literal: BootstrapLiteral = program.meta.params.as_ref().unwrap().decode().unwrap();
        assert_eq!(&literal, target.config().literal());
        assert!(program.bootstrap.is_some());
    }
}
