//! The `bootstrap` placement: which values of the unscheduled program to bootstrap so that no
//! value needs a level below 0, using as few bootstraps as the greedy rule and the merging at
//! shared ancestors find.
//!
//! Candidates are the values a `mul x, x` squares: the input of a polynomial activation (or a
//! Chebyshev power inside one). A squared value is bounded (the lowering normalises every
//! activation input into `[-1, 1]`), which is also what the bootstrap's modular reduction
//! needs; *junk* values (a rotate-and-sum's garbage slots) only ever feed linear maps and are
//! never squared, so they are never candidates (`docs/plans/lowering.md` §1.1, §4). Among
//! candidates, *activation inputs* (squared values not computed from a ciphertext product of
//! the same polynomial) are preferred: bootstrapping right before an activation spends the
//! refreshed levels on the activation.
//!
//! The placement is lazy and greedy, like interval covering on a chain: run the levels pass;
//! when it runs out of levels at some value, bootstrap the latest preferred candidate among
//! that value's ancestors that no chosen bootstrap already refreshes (ancestors reached
//! without passing through a bootstrapped value); repeat. A
//! candidate whose conversion to the bootstrap input itself runs out of levels is dropped and
//! an earlier one taken. Each chosen bootstrap is then removed again if the program still
//! fits without it, so the count is minimal for the chosen set.
//!
//! Finally `merge.rs` replaces groups of bootstraps below a fork by one bootstrap at a shared
//! ancestor wherever the levels allow (the greedy rule's one weakness: it refreshes each
//! branch below a fork on its own).

mod merge;

use super::levels::{InputTypes, LevelsError, LevelsOutcome, assign_levels};
use fhec_ir::{BootstrapSpec, Opcode, Program, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

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

/// How each value is computed, for ancestor walks.
struct Graph {
    /// Operands of the instruction defining each value.
    operands: HashMap<Value, Vec<Value>>,
    /// Position of the defining instruction in program order.
    position: HashMap<Value, usize>,
    /// Squared values (the candidates).
    candidates: HashSet<Value>,
    /// Values computed from a `mul` result through additions and constants only.
    interior: HashSet<Value>,
}

impl Graph {
    fn new(program: &Program) -> Self {
        let mut graph = Graph {
            operands: HashMap::new(),
            position: HashMap::new(),
            candidates: HashSet::new(),
            interior: HashSet::new(),
        };
        for (position, (_, data)) in program.instructions().enumerate() {
            if data.opcode == Opcode::Mul && data.args[0] == data.args[1] {
                graph.candidates.insert(data.args[0]);
            }
            let interior = match data.opcode {
                Opcode::Mul => true,
                Opcode::Add
                | Opcode::Sub
                | Opcode::Neg
                | Opcode::AddConst
                | Opcode::MulConst
                | Opcode::Rescale
                | Opcode::LevelDown => {
                    data.args
                        .iter()
                        .filter(|a| !graph.interior.contains(a))
                        .count()
                        == 0
                }
                _ => false,
            };
            for &result in &data.results {
                graph.operands.insert(result, data.args.clone());
                graph.position.insert(result, position);
                if interior {
                    graph.interior.insert(result);
                }
            }
        }
        graph
    }

    /// `value` and what it is computed from without passing through a bootstrapped value
    /// (whatever lies behind a bootstrap is refreshed by it; the bootstrapped values are
    /// included, not expanded).
    fn unrefreshed_ancestors(&self, value: Value, chosen: &BTreeSet<Value>) -> HashSet<Value> {
        let mut seen = HashSet::from([value]);
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            if chosen.contains(&v) {
                continue;
            }
            for &a in self.operands.get(&v).into_iter().flatten() {
                if seen.insert(a) {
                    stack.push(a);
                }
            }
        }
        seen
    }

    /// The candidate to bootstrap so that `at` no longer runs out: among `at`'s ancestors
    /// not behind a chosen bootstrap, the latest activation input, else the latest candidate.
    fn choose(
        &self,
        at: Value,
        chosen: &BTreeSet<Value>,
        unusable: &HashSet<Value>,
    ) -> Option<Value> {
        let eligible: Vec<Value> = self
            .unrefreshed_ancestors(at, chosen)
            .into_iter()
            .filter(|v| self.candidates.contains(v) && !chosen.contains(v) && !unusable.contains(v))
            .collect();
        let latest = |vs: &mut dyn Iterator<Item = Value>| {
            vs.max_by_key(|v| self.position.get(v).copied().unwrap_or(0))
        };
        latest(
            &mut eligible
                .iter()
                .copied()
                .filter(|v| !self.interior.contains(v)),
        )
        .or_else(|| latest(&mut eligible.iter().copied()))
    }
}

/// Places bootstraps in `program` (see the module documentation) and returns them with the
/// levels pass's output.
pub fn place_bootstraps(
    program: &Program,
    inputs: &InputTypes,
    spec: Option<&BootstrapSpec>,
) -> Result<Placement, PlacementError> {
    let graph = Graph::new(program);
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
                let no_spec = spec.or(program.bootstrap.as_ref()).is_none();
                match graph.choose(at, &chosen, &unusable).filter(|_| !no_spec) {
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
            program, &graph, inputs, spec, &unusable, chosen, best,
        );
    }
    Ok(Placement {
        bootstrapped: chosen,
        outcome: best,
    })
}
