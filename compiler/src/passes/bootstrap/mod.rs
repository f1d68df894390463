//! The `bootstrap` placement: which values of the unscheduled program to bootstrap so that no
//! value needs a level below 0, using as few bootstraps as the greedy rule and the merging at
//! shared ancestors find.
//!
//! Candidates are the values a `mul x, x` squares: the input of a polynomial activation (or a
//! Chebyshev power inside one); among them *activation inputs* are preferred: bootstrapping
//! right before an activation spends the refreshed levels on the activation (the analysis is
//! [`super::analysis::candidates`]; the walks go over the program's [`Dataflow`] graph).
//!
//! The placement is lazy and greedy, like interval covering on a chain: run the levels pass;
//! when it runs out of levels at some value, bootstrap the latest preferred candidate among
//! that value's ancestors that no chosen bootstrap already refreshes (ancestors reached
//! without passing through a bootstrapped value); repeat. A candidate whose conversion to the
//! bootstrap input itself runs out of levels, or whose own computation does (the underflow
//! is at the candidate), is dropped and an earlier one taken. Each chosen bootstrap is then removed again if the program still
//! fits without it, so the count is minimal for the chosen set.
//!
//! Finally `merge.rs` replaces groups of bootstraps below a fork by one bootstrap at a shared
//! ancestor wherever the levels allow (the greedy rule's one weakness: it refreshes each
//! branch below a fork on its own).

mod merge;

use super::analysis::candidates::Candidates;
use super::dataflow::Dataflow;
use super::levels::{InputTypes, LevelsError, LevelsOutcome, assign_levels};
use fhec_ir::{BootstrapSpec, Program, Value};
use std::collections::{BTreeSet, HashSet};

/// Why no placement was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlacementError {
    /// Levels run out and no candidate can be bootstrapped to prevent it.
    #[error(
        "levels run out at {at} ({reason}) and no bootstrap candidate before it can fix that \
         (bootstraps chosen so far: {chosen}); raise the input level or the bootstrap output \
         level, or lower the activation degree"
    )]
    NoCandidate {
        /// The value that runs out of levels.
        at: Value,
        /// What ran out.
        reason: String,
        /// How many bootstraps were placed before giving up.
        chosen: usize,
    },
    /// The levels pass failed for another reason.
    #[error(transparent)]
    Levels(#[from] LevelsError),
}

/// The chosen bootstraps and the program the levels pass built with them.
#[derive(Clone, Debug)]
pub struct Placement {
    /// Values of the unscheduled program bootstrapped right after their definition.
    pub bootstrapped: BTreeSet<Value>,
    /// The levels pass's result with exactly these bootstraps.
    pub outcome: LevelsOutcome,
}

/// The candidate to bootstrap so that `at` no longer runs out: among `at`'s ancestors not
/// behind a chosen bootstrap, the latest activation input, else the latest candidate.
fn choose(
    dataflow: &Dataflow,
    candidates: &Candidates,
    at: Value,
    chosen: &BTreeSet<Value>,
    unusable: &HashSet<Value>,
) -> Option<Value> {
    let eligible: Vec<Value> = dataflow
        .ancestors(at, chosen)
        .into_iter()
        .filter(|&v| candidates.contains(v) && !chosen.contains(&v) && !unusable.contains(&v))
        .collect();
    let latest = |vs: &mut dyn Iterator<Item = Value>| {
        vs.max_by_key(|&v| (dataflow.position(v).unwrap_or(0), v))
    };
    latest(
        &mut eligible
            .iter()
            .copied()
            .filter(|&v| candidates.is_activation_input(v)),
    )
    .or_else(|| latest(&mut eligible.iter().copied()))
}

/// Places bootstraps in `program` (see the module documentation) and returns them with the
/// levels pass's output.
pub fn place_bootstraps(
    program: &Program,
    inputs: &InputTypes,
    spec: Option<&BootstrapSpec>,
) -> Result<Placement, PlacementError> {
    let dataflow = Dataflow::new(program);
    let candidates = Candidates::new(&dataflow);
    let mut chosen = BTreeSet::new();
    let mut unusable = HashSet::new();
    let outcome = loop {
        match assign_levels(program, &chosen, inputs, spec) {
            Ok(outcome) => break outcome,
            Err(LevelsError::Underflow {
                at,
                bootstrapping,
                reason,
            }) => {
                if let Some(candidate) = bootstrapping {
                    chosen.remove(&candidate);
                    unusable.insert(candidate);
                }
                // A bootstrap right after `at` cannot help when computing `at` itself runs
                // out (a candidate whose own product needs level 0): an earlier one must.
                if chosen.remove(&at) {
                    unusable.insert(at);
                }
                let no_spec = spec.or(program.bootstrap.as_ref()).is_none();
                match choose(&dataflow, &candidates, at, &chosen, &unusable).filter(|_| !no_spec) {
                    Some(candidate) => {
                        chosen.insert(candidate);
                    }
                    None => {
                        return Err(PlacementError::NoCandidate {
                            at,
                            reason,
                            chosen: chosen.len(),
                        });
                    }
                }
            }
            Err(other) => return Err(other.into()),
        }
    };
    let mut best = outcome;
    for candidate in chosen.clone() {
        let mut fewer = chosen.clone();
        fewer.remove(&candidate);
        if let Ok(outcome) = assign_levels(program, &fewer, inputs, spec) {
            chosen = fewer;
            best = outcome;
        }
    }
    if let Some(spec) = spec.or(program.bootstrap.as_ref())
        && chosen.len() >= 2
    {
        (chosen, best) = merge::merge_at_shared_ancestors(
            &dataflow,
            &candidates,
            inputs,
            spec,
            &unusable,
            chosen,
            best,
        );
    }
    Ok(Placement {
        bootstrapped: chosen,
        outcome: best,
    })
}
