//! Baby-step giant-step plans for a set of generalised diagonals.
//!
//! With `b` baby steps, diagonal `d` splits as `d = g + β` with `β = d mod b ∈ [0, b)` and the
//! giant step `g = d − β`; then
//!
//! `y_o = Σ_g rot( Σ_i Σ_β P_{o,i,g,β} ⊙ rot(x_i, β), g )` with `P = rot(D_{o,i,g+β}, −g)`,
//!
//! so the baby rotations `rot(x_i, β)` of each input ciphertext form one hoisted group shared by
//! every output ciphertext, the diagonals are encoded pre-rotated by `−g` (free: it happens on
//! the plaintext), and each output needs one rotation per non-zero giant step. Key switches:
//! `Σ_i |B_i \ {0}| + Σ_o |G_o \ {0}|`. [`plan`] tries every `b` from 1 to the input period and
//! keeps the one with the fewest key switches (ties: fewer giant rotations, as hoisted baby
//! steps are cheaper, then the smaller `b`). Giant offsets are reduced into `(-n/2, n/2]`.

use super::LinearError;
use super::map::{DiagonalSet, fold};
use std::collections::BTreeMap;

/// One plaintext product of a giant step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Term {
    /// Input ciphertext.
    pub in_ct: usize,
    /// Baby step β (the hoisted rotation of the input; 0 = the input itself).
    pub baby: i64,
    /// The diagonal `d = g + β` multiplied in (pre-rotated by `−g`).
    pub diagonal: i64,
}

/// The products summed before one giant rotation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GiantStep {
    /// The giant rotation `g`, in `(-n/2, n/2]` (0 = no rotation).
    pub offset: i64,
    /// Its products, by input ciphertext then baby step.
    pub terms: Vec<Term>,
}

/// What a plan costs, counted on the instructions it emits.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BsgsCost {
    /// Baby-step rotations (in hoisted groups, one group per input ciphertext).
    pub hoisted_rotations: usize,
    /// Giant-step rotations.
    pub giant_rotations: usize,
    /// Plaintext-ciphertext products (= diagonal plaintexts).
    pub mul_plain: usize,
    /// Ciphertext additions.
    pub additions: usize,
}

impl BsgsPlan {
    /// Every rotation offset the plan uses (baby and giant), for the rotation-key set.
    pub fn rotation_offsets(&self) -> std::collections::BTreeSet<i64> {
        let giants = self.giant.iter().flatten().map(|g| g.offset);
        self.baby
            .iter()
            .flatten()
            .copied()
            .chain(giants)
            .filter(|&k| k != 0)
            .collect()
    }
}

impl BsgsCost {
    /// Key switches: every rotation, hoisted or not.
    pub fn rotations(&self) -> usize {
        self.hoisted_rotations + self.giant_rotations
    }
}

/// A baby-step giant-step plan; see the module documentation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BsgsPlan {
    /// The number of baby steps `b`.
    pub baby_steps: usize,
    /// Per input ciphertext, the non-zero baby offsets to rotate by (sorted).
    pub baby: Vec<Vec<i64>>,
    /// Per output ciphertext, its giant steps by increasing offset.
    pub giant: Vec<Vec<GiantStep>>,
    /// The counts.
    pub cost: BsgsCost,
}

fn split(d: i64, baby_steps: usize, slots: usize) -> (i64, i64) {
    let beta = d.rem_euclid(baby_steps as i64);
    (fold(d - beta, slots), beta)
}

/// Distinct-offset counting for the search without sorting: a slot per (ciphertext, offset)
/// remembers the last candidate that counted it.
struct Seen {
    baby: Vec<usize>,
    giant: Vec<usize>,
}

impl Seen {
    fn new(set: &DiagonalSet) -> Self {
        Seen {
            baby: vec![0; set.in_cts * set.slots],
            giant: vec![0; set.out_cts * set.slots],
        }
    }

    /// Key switches of a split into `baby_steps` and its giant rotation count; `baby_steps`
    /// must be distinct across calls (it marks what this call has counted).
    fn rotations(&mut self, set: &DiagonalSet, baby_steps: usize) -> (usize, usize) {
        let n = set.slots;
        let (mut babies, mut giants) = (0, 0);
        for (&(o, i), diagonals) in &set.blocks {
            for &d in diagonals {
                let (g, beta) = split(d, baby_steps, n);
                let baby = &mut self.baby[i * n + beta as usize];
                if beta != 0 && *baby != baby_steps {
                    *baby = baby_steps;
                    babies += 1;
                }
                let giant = &mut self.giant[o * n + g.rem_euclid(n as i64) as usize];
                if g != 0 && *giant != baby_steps {
                    *giant = baby_steps;
                    giants += 1;
                }
            }
        }
        (babies + giants, giants)
    }
}

/// The plan with the fewest key switches for `set`; see the module documentation.
pub fn plan(set: &DiagonalSet) -> BsgsPlan {
    let mut seen = Seen::new(set);
    let best = (1..=set.in_period.clamp(1, set.slots))
        .min_by_key(|&b| {
            let (total, giants) = seen.rotations(set, b);
            (total, giants, b)
        })
        .unwrap_or(1);
    build(set, best)
}

/// The plan for a given baby step count `baby_steps` (between 1 and the slot count).
pub fn plan_with(set: &DiagonalSet, baby_steps: usize) -> Result<BsgsPlan, LinearError> {
    if baby_steps == 0 || baby_steps > set.slots {
        return Err(LinearError::Plan(format!(
            "the baby step count {baby_steps} is not between 1 and the slot count {}",
            set.slots
        )));
    }
    Ok(build(set, baby_steps))
}

fn build(set: &DiagonalSet, baby_steps: usize) -> BsgsPlan {
    let mut baby: Vec<Vec<i64>> = vec![Vec::new(); set.in_cts];
    let mut giant: Vec<BTreeMap<i64, Vec<Term>>> = vec![BTreeMap::new(); set.out_cts];
    for (&(o, i), diagonals) in &set.blocks {
        for &diagonal in diagonals {
            let (g, beta) = split(diagonal, baby_steps, set.slots);
            if beta != 0 {
                baby[i].push(beta);
            }
            giant[o].entry(g).or_default().push(Term {
                in_ct: i,
                baby: beta,
                diagonal,
            });
        }
    }
    for list in &mut baby {
        list.sort_unstable();
        list.dedup();
    }
    let giant: Vec<Vec<GiantStep>> = giant
        .into_iter()
        .map(|steps| {
            steps
                .into_iter()
                .map(|(offset, mut terms)| {
                    terms.sort_by_key(|t| (t.in_ct, t.baby));
                    GiantStep { offset, terms }
                })
                .collect()
        })
        .collect();
    let mut cost = BsgsCost {
        hoisted_rotations: baby.iter().map(Vec::len).sum(),
        ..BsgsCost::default()
    };
    for steps in &giant {
        cost.giant_rotations += steps.iter().filter(|s| s.offset != 0).count();
        let terms: usize = steps.iter().map(|s| s.terms.len()).sum();
        cost.mul_plain += terms;
        // Each giant step sums its terms; then the giant steps are summed.
        cost.additions += terms.saturating_sub(steps.len()) + steps.len().saturating_sub(1);
    }
    BsgsPlan {
        baby_steps,
        baby,
        giant,
        cost,
    }
}
