//! Choosing each factor's baby-step giant-step split for a bootstrap: as fast as possible
//! while the bootstrapping keys stay within a byte budget.
//!
//! With chained giants (`chains.rs`) a factor needs about one key per baby step and two for
//! its giants, so a smaller baby step means fewer keys, but more giant steps, each a full key
//! switch, where a baby step only shares one decomposition. Keys differ in size by level (a
//! CoeffToSlot key at the top of the chain is 4× a SlotToCoeff one), so the right split differs
//! per factor. The search tries every combination of [`BSGS_RATIO_CHOICES`] over the factors
//! (4^7 for `N16_BOOT`, a few milliseconds), prices each by the level-weighted key switches
//! below, and keeps the cheapest whose keys fit [`BOOTSTRAP_KEY_BUDGET_BYTES`] (the smallest
//! keys if none fits).
//!
//! Cost model, fitted on `fhec bench bootstrap` at N = 2^16 (2^14 slots: CoeffToSlot 3.13 s
//! with 12 giants and 16 babies against 4.29 s with 28 and 6): a giant step at level l costs
//! digits(l)·(l + 1 + k) (its ModUp and inner product are that many NTT-sized passes), a baby
//! step [`BABY_STEP_COST`] of that.

use super::{DftFactor, DftPlan, DftPlanError, FactorShape, FactorShapes};
use crate::bootstrap::BootstrapConfig;
use crate::units::Level;
use std::collections::BTreeSet;

/// The most bytes (seed-compressed, as stored) a bootstrap's evaluation keys may take: issue
/// 4's 2 GB less 5 %.
pub const BOOTSTRAP_KEY_BUDGET_BYTES: u64 = 1_900_000_000;

/// The BSGS ratios (log2 of babies per giant) tried for each factor.
pub const BSGS_RATIO_CHOICES: [i32; 4] = [-2, -1, 0, 1];

/// Cost of a baby step relative to a giant step at the same level.
pub const BABY_STEP_COST: f64 = 0.3;

/// One candidate split of one factor: the rotation keys it needs and its modelled cost.
struct Candidate {
    ratio: i32,
    rotations: BTreeSet<i64>,
    cost: f64,
}

/// The plan of `config` with the per-factor split described in the module documentation.
pub(super) fn plan_within_budget(config: &BootstrapConfig) -> Result<DftPlan, DftPlanError> {
    let [c2s, _, s2c] = config.levels_per_step();
    let literal = config.literal();
    let shapes = FactorShapes::new(literal.log_n, literal.log_slots, c2s as u32, s2c as u32)?;
    let levels = config.levels();
    let factor_levels = (0..c2s)
        .map(|i| levels.top.0 - i)
        .chain((0..s2c).map(|i| levels.evalmod_output.0 - i));
    let all: Vec<&FactorShape> = shapes
        .coeff_to_slot
        .iter()
        .chain(&shapes.slot_to_coeff)
        .collect();
    let candidates: Vec<Vec<Candidate>> = all
        .iter()
        .zip(factor_levels)
        .map(|(shape, level)| candidates(config, &shapes, shape, level))
        .collect();

    // The trace and packing rotations do not depend on the split: any plan of these shapes
    // merges the per-factor sets.
    let template = shapes.plan(&vec![0; c2s], &vec![0; s2c]);
    let mut choice = vec![0usize; all.len()];
    let mut best: Option<(bool, f64, u64, Vec<usize>)> = None;
    loop {
        let sets: Vec<&BTreeSet<i64>> = choice
            .iter()
            .zip(&candidates)
            .map(|(&j, options)| &options[j].rotations)
            .collect();
        let caps: Vec<Level> = template
            .merge_rotation_levels(
                &sets[..c2s],
                &sets[c2s..],
                levels.top.0,
                levels.evalmod_output.0,
            )
            .into_values()
            .map(Level)
            .collect();
        let bytes = config.key_bytes_capped(&caps, true);
        let cost: f64 = choice
            .iter()
            .zip(&candidates)
            .map(|(&j, options)| options[j].cost)
            .sum();
        let fits = bytes <= BOOTSTRAP_KEY_BUDGET_BYTES;
        let better = match &best {
            None => true,
            Some((best_fits, best_cost, best_bytes, _)) => match (fits, *best_fits) {
                (true, false) => true,
                (false, true) => false,
                (true, true) => cost < *best_cost,
                (false, false) => bytes < *best_bytes,
            },
        };
        if better {
            best = Some((fits, cost, bytes, choice.clone()));
        }
        if !advance(&mut choice, BSGS_RATIO_CHOICES.len()) {
            break;
        }
    }
    let chosen = best.map(|(.., choice)| choice).unwrap_or_default();
    let ratios: Vec<i32> = chosen
        .iter()
        .zip(&candidates)
        .map(|(&j, options)| options[j].ratio)
        .collect();
    Ok(shapes.plan(&ratios[..c2s], &ratios[c2s..]))
}

/// Every split of `shape` (run at `level`) with its keys and modelled cost.
fn candidates(
    config: &BootstrapConfig,
    shapes: &FactorShapes,
    shape: &FactorShape,
    level: usize,
) -> Vec<Candidate> {
    BSGS_RATIO_CHOICES
        .iter()
        .map(|&ratio| {
            let factor = shapes.factor(shape, ratio);
            Candidate {
                ratio,
                rotations: factor.rotations(),
                cost: modelled_cost(config, &factor, level),
            }
        })
        .collect()
}

/// The module documentation's cost of evaluating `factor` at `level`: its giant steps at
/// digits(l)·(l + 1 + k) each, its baby steps at [`BABY_STEP_COST`] of that.
fn modelled_cost(config: &BootstrapConfig, factor: &DftFactor, level: usize) -> f64 {
    let params = config.params();
    let weight = (params.digits_at(Level(level)) * (level + 1 + params.p_primes().len())) as f64;
    let babies = factor.babies().len();
    let giants = factor.key_switches() - babies;
    weight * (giants as f64 + BABY_STEP_COST * babies as f64)
}

/// The next combination in odometer order (digit 0 fastest); false after the last.
fn advance(choice: &mut [usize], base: usize) -> bool {
    for digit in choice.iter_mut() {
        *digit += 1;
        if *digit < base {
            return true;
        }
        *digit = 0;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::{n16_boot, test_boot_insecure};
    use crate::dft_plan::DftDirection;

    fn cost(config: &BootstrapConfig, plan: &DftPlan) -> f64 {
        let levels = config.levels();
        let c2s = plan.factors(DftDirection::CoeffToSlot).iter().enumerate();
        let s2c = plan.factors(DftDirection::SlotToCoeff).iter().enumerate();
        c2s.map(|(i, f)| modelled_cost(config, f, levels.top.0 - i))
            .chain(s2c.map(|(i, f)| modelled_cost(config, f, levels.evalmod_output.0 - i)))
            .sum()
    }

    /// At N = 2^16 the budget binds: the chosen keys fit it, and no uniform ratio that fits
    /// is cheaper (the search includes every uniform choice).
    #[test]
    fn the_preset_fits_the_budget_at_least_cost() {
        for log_slots in [14, 15] {
            let config = BootstrapConfig::new(n16_boot(log_slots)).unwrap();
            let plan = DftPlan::for_bootstrap(&config).unwrap();
            let bytes = plan.bootstrap_key_bytes(&config, true);
            assert!(bytes <= BOOTSTRAP_KEY_BUDGET_BYTES, "{bytes} bytes");
            let chosen = cost(&config, &plan);
            let [c2s, _, s2c] = config.levels_per_step();
            for ratio in BSGS_RATIO_CHOICES {
                let uniform = DftPlan::new(16, log_slots, c2s as u32, s2c as u32, ratio).unwrap();
                if uniform.bootstrap_key_bytes(&config, true) <= BOOTSTRAP_KEY_BUDGET_BYTES {
                    assert!(chosen <= cost(&config, &uniform), "ratio {ratio}");
                }
            }
            // The fastest split overall (ratio 1 everywhere) does not fit: the budget binds.
            let fastest = DftPlan::new(16, log_slots, c2s as u32, s2c as u32, 1).unwrap();
            assert!(fastest.bootstrap_key_bytes(&config, true) > BOOTSTRAP_KEY_BUDGET_BYTES);
        }
    }

    /// Small rings never reach the budget: every factor takes its cheapest split.
    #[test]
    fn small_rings_take_the_cheapest_split() {
        let config = BootstrapConfig::new(test_boot_insecure(12, 10)).unwrap();
        let plan = DftPlan::for_bootstrap(&config).unwrap();
        let [c2s, _, s2c] = config.levels_per_step();
        for ratio in BSGS_RATIO_CHOICES {
            let uniform = DftPlan::new(12, 10, c2s as u32, s2c as u32, ratio).unwrap();
            assert!(cost(&config, &plan) <= cost(&config, &uniform));
        }
    }

    #[test]
    fn the_odometer_visits_every_combination_once() {
        let mut choice = vec![0; 3];
        let mut seen = BTreeSet::new();
        loop {
            assert!(seen.insert(choice.clone()));
            if !advance(&mut choice, 4) {
                break;
            }
        }
        assert_eq!(seen.len(), 64);
    }
}
