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

use crate::passes::analysis::candidates::Candidates;
use crate::passes::analysis::level_model::LevelModel;
use crate::passes::dataflow::Dataflow;
use crate::passes::levels::{InputTypes, LevelsOutcome, assign_levels};
use fhec_ir::{BootstrapSpec, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// At most this many trials go to the (exact, slower) levels pass in one placement: the
/// model is optimistic only where a bootstrap's input conversion costs a level it did not
/// see, so a handful of trials is the normal case; the cap bounds the time on a model that
/// misjudges many.
const MAX_EXACT_TRIALS: usize = 200;

/// For every candidate, the chosen bootstraps it reaches without passing through another
/// chosen bootstrap; only candidates reaching two or more are kept.
fn merge_groups(
    dataflow: &Dataflow,
    candidates: &Candidates,
    chosen: &BTreeSet<Value>,
    unusable: &HashSet<Value>,
) -> Vec<(Value, BTreeSet<Value>)> {
    let mut reached: HashMap<Value, BTreeSet<Value>> = HashMap::new();
    for &bootstrap in chosen {
        let ancestors = dataflow
            .operands(bootstrap)
            .flat_map(|a| dataflow.ancestors(a, chosen));
        for ancestor in ancestors {
            let usable = candidates.contains(ancestor)
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
    let position = |v: &Value| dataflow.position(*v).unwrap_or(0);
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
    dataflow: &Dataflow,
    candidates: &Candidates,
    inputs: &InputTypes,
    spec: &BootstrapSpec,
    unusable: &HashSet<Value>,
    mut chosen: BTreeSet<Value>,
    mut outcome: LevelsOutcome,
) -> (BTreeSet<Value>, LevelsOutcome) {
    let program = dataflow.program();
    let mut exact_trials = 0;
    'search: loop {
        let model = LevelModel::new(program, &outcome, &chosen, spec);
        for (candidate, covered) in merge_groups(dataflow, candidates, &chosen, unusable) {
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
