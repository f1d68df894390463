//! Merging bootstraps at shared ancestors: the refinement after the greedy placement.
//!
//! The greedy rule bootstraps the *latest* candidate before each underflow. That is optimal
//! on a chain, but not where the dataflow forks: when two branches below a fork both run out
//! of levels, the greedy rule refreshes each branch on its own (two bootstraps), although one
//! bootstrap at a candidate above the fork, if it leaves enough levels for both branches,
//! serves them both.
//!
//! For every candidate `c` the refinement collects `D(c)`: the chosen bootstraps `c` reaches
//! without passing through another chosen bootstrap (the ones a bootstrap at `c` could make
//! redundant). Where `D(c)` holds two or more, it tries the set `chosen − D(c) + {c}` (then,
//! for larger groups, `D(c)` less one element), most bootstraps saved first and, among equal
//! savings, the latest candidate first (it leaves the most levels below). A [`LevelModel`]
//! read from the last levels run rejects most trials in linear time; a trial it accepts is
//! decided by the levels pass itself, so every accepted set is exact. Accepting one restarts
//! the search on the new set, so the count only decreases.

use super::Graph;
use crate::passes::levels::{InputTypes, LevelsOutcome, assign_levels};
use fhec_ir::{BootstrapSpec, Opcode, Program, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// At most this many trials go to the (exact, slower) levels pass in one placement: the
/// model is optimistic only where a bootstrap's input conversion costs a level it did not
/// see, so a handful of trials is the normal case; the cap bounds the time on a model that
/// misjudges many.
const MAX_EXACT_TRIALS: usize = 200;

/// Per-value level costs read from one levels run: each ciphertext value of the unscheduled
/// program costs the levels between its lowest operand and itself in that run. With these
/// costs, [`LevelModel::fits`] predicts in one pass over the program whether another set of
/// bootstraps leaves every value at level ≥ 0.
pub(super) struct LevelModel {
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
    pub(super) fn new(
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
    pub(super) fn fits(&self, set: &BTreeSet<Value>) -> bool {
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

/// For every candidate, the chosen bootstraps it reaches without passing through another
/// chosen bootstrap; only candidates reaching two or more are kept.
fn merge_groups(
    graph: &Graph,
    chosen: &BTreeSet<Value>,
    unusable: &HashSet<Value>,
) -> Vec<(Value, BTreeSet<Value>)> {
    let mut reached: HashMap<Value, BTreeSet<Value>> = HashMap::new();
    for &bootstrap in chosen {
        let operands = graph.operands.get(&bootstrap).into_iter().flatten();
        let ancestors = operands.flat_map(|&a| graph.unrefreshed_ancestors(a, chosen));
        for ancestor in ancestors {
            let usable = graph.candidates.contains(&ancestor)
                && !chosen.contains(&ancestor)
                && !unusable.contains(&ancestor);
            if usable {
                reached.entry(ancestor).or_default().insert(bootstrap);
            }
        }
    }
    let mut groups: Vec<_> = reached
        .into_iter()
        .filter(|(_, covered)| covered.len() >= 2)
        .collect();
    let position = |v: &Value| graph.position.get(v).copied().unwrap_or(0);
    groups.sort_by(|(a, da), (b, db)| {
        db.len()
            .cmp(&da.len())
            .then(position(b).cmp(&position(a)))
            .then(a.cmp(b))
    });
    groups
}

/// The sets to try for one group: `chosen − covered + {candidate}`, then (for three or more
/// covered bootstraps) the same keeping one of them.
fn trial_sets(
    chosen: &BTreeSet<Value>,
    candidate: Value,
    covered: &BTreeSet<Value>,
) -> Vec<BTreeSet<Value>> {
    let merged: BTreeSet<Value> = chosen
        .difference(covered)
        .copied()
        .chain([candidate])
        .collect();
    let mut sets = vec![merged.clone()];
    if covered.len() >= 3 {
        sets.extend(covered.iter().map(|&kept| {
            let mut set = merged.clone();
            set.insert(kept);
            set
        }));
    }
    sets
}

/// Replaces groups of chosen bootstraps by one at a shared ancestor while the levels pass
/// accepts the result (see the module documentation); returns the final set and its run.
pub(super) fn merge_at_shared_ancestors(
    program: &Program,
    graph: &Graph,
    inputs: &InputTypes,
    spec: &BootstrapSpec,
    unusable: &HashSet<Value>,
    mut chosen: BTreeSet<Value>,
    mut outcome: LevelsOutcome,
) -> (BTreeSet<Value>, LevelsOutcome) {
    let mut exact_trials = 0;
    'search: loop {
        let model = LevelModel::new(program, &outcome, &chosen, spec);
        for (candidate, covered) in merge_groups(graph, &chosen, unusable) {
            for set in trial_sets(&chosen, candidate, &covered) {
                if exact_trials >= MAX_EXACT_TRIALS {
                    break 'search;
                }
                if !model.fits(&set) {
                    continue;
                }
                exact_trials += 1;
                if let Ok(better) = assign_levels(program, &set, inputs, Some(spec)) {
                    chosen = set;
                    outcome = better;
                    continue 'search;
                }
            }
        }
        break;
    }
    (chosen, outcome)
}
