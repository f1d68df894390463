//! The level model: per-value level costs read from one levels run, which predicts in linear
//! time whether another set of bootstraps leaves every value at level ≥ 0. The bootstrap
//! merging uses it to reject most trial sets before asking the (exact, slower) levels pass.

use crate::passes::levels::LevelsOutcome;
use fhec_ir::{BootstrapSpec, Opcode, Program, Value};
use std::collections::{BTreeSet, HashMap};

/// Per-value level costs read from one levels run: each ciphertext value of the unscheduled
/// program costs the levels between its lowest operand and itself in that run. With these
/// costs, [`LevelModel::fits`] predicts in one pass over the program whether another set of
/// bootstraps leaves every value at level ≥ 0.
pub struct LevelModel {
    /// Ciphertext values in program order with their ciphertext operands (empty for inputs
    /// and forced bootstraps, which start at their own level).
    order: Vec<(Value, Vec<Value>)>,
    /// Levels each value consumes below its lowest operand.
    cost: HashMap<Value, i64>,
    /// The level of the values without ciphertext operands.
    start: HashMap<Value, i64>,
    /// A bootstrap's input level (its input must be at least there).
    input_level: i64,
    /// A bootstrap's output level.
    output_level: i64,
}

impl LevelModel {
    /// The model of `program` from the levels run `outcome` made with bootstraps at `chosen`.
    pub fn new(
        program: &Program,
        outcome: &LevelsOutcome,
        chosen: &BTreeSet<Value>,
        spec: &BootstrapSpec,
    ) -> Self {
        let levels = &outcome.levels;
        let output_level = i64::from(spec.output_level);
        let after = |a: &Value| {
            if chosen.contains(a) {
                output_level
            } else {
                levels[a]
            }
        };
        let mut model = LevelModel {
            order: Vec::new(),
            cost: HashMap::new(),
            start: HashMap::new(),
            input_level: i64::from(spec.input_level),
            output_level,
        };
        for (_, data) in program.instructions() {
            let root = matches!(data.opcode, Opcode::Input | Opcode::Bootstrap);
            let operands: Vec<Value> = if root {
                Vec::new()
            } else {
                data.args
                    .iter()
                    .copied()
                    .filter(|a| levels.contains_key(a))
                    .collect()
            };
            for &result in &data.results {
                let Some(&level) = levels.get(&result) else {
                    continue;
                };
                match operands.iter().map(after).min() {
                    Some(lowest) => {
                        model.cost.insert(result, (lowest - level).max(0));
                    }
                    None => {
                        model.start.insert(result, level);
                    }
                }
                model.order.push((result, operands.clone()));
            }
        }
        model
    }

    /// Whether bootstrapping exactly `set` leaves every value at level ≥ 0 and every
    /// bootstrapped value at or above the bootstrap's input level, by the model's costs.
    pub fn fits(&self, set: &BTreeSet<Value>) -> bool {
        let mut after: HashMap<Value, i64> = HashMap::with_capacity(self.order.len());
        for (value, operands) in &self.order {
            let level = match operands.iter().filter_map(|a| after.get(a)).min() {
                Some(&lowest) => lowest - self.cost.get(value).copied().unwrap_or(0),
                None => self.start.get(value).copied().unwrap_or(0),
            };
            if level < 0 {
                return false;
            }
            let refreshed = if set.contains(value) {
                if level < self.input_level {
                    return false;
                }
                self.output_level
            } else {
                level
            };
            after.insert(*value, refreshed);
        }
        true
    }
}
