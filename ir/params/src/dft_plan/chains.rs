//! Giant steps summed by Horner's rule ([`giant_chains`]): the chains of consecutive multiples
//! of the baby step that let a factor's giants share two rotation keys (see the parent
//! module's documentation on baby-step giant-step).

use super::signed_rotation;
use std::collections::BTreeSet;

/// One Horner chain of giant steps: `rot_anchor(u_0 + rot_step(u_1 + rot_step(u_2 + …)))`
/// where u_i is the inner sum of giant `giants[i]`, and the giants are consecutive multiples
/// of the baby step: `giants[i] ≡ anchor + i·step (mod m)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GiantChain {
    /// The rotation of the first link (signed).
    pub anchor: i64,
    /// The rotation between links (±N1, signed).
    pub step: i64,
    /// The giant indices g ∈ [0, m) of the links, in chain order.
    pub giants: Vec<usize>,
}

impl GiantChain {
    /// The rotation keys the chain uses: its anchor, and its step when it has two links or
    /// more.
    pub fn rotations(&self) -> Vec<i64> {
        let mut rotations = vec![self.anchor];
        if self.giants.len() > 1 && self.step != self.anchor {
            rotations.push(self.step);
        }
        rotations
    }
}

/// Groups the non-zero giants (multiples of `baby_step` in `[0, m)`; 0 is ignored, it needs no
/// rotation) into chains of consecutive multiples, cyclically modulo m:
/// - the run through 0 gives up to two chains anchored at ±N1, going up to +m/2 and down from
///   0 (the signed range), so a dense matrix needs only the keys ±N1 for its giants;
/// - every other run is one chain from its end with the smaller signed rotation towards the
///   other end (one extra key, its anchor).
///
/// Every non-zero giant is in exactly one chain and costs one key switch, as in plain BSGS.
pub fn giant_chains(
    giants: impl IntoIterator<Item = usize>,
    baby_step: usize,
    m: usize,
) -> Vec<GiantChain> {
    let count = m / baby_step; // multiples modulo m
    let mut left: BTreeSet<usize> = giants
        .into_iter()
        .map(|g| (g / baby_step) % count)
        .filter(|&j| j != 0)
        .collect();
    let up = signed_rotation(baby_step, m);
    let down = signed_rotation(m - baby_step, m);
    let mut chains = Vec::new();
    let take_run = |left: &mut BTreeSet<usize>, from: usize, forward: bool, limit: usize| {
        let mut run = Vec::new();
        let mut j = from;
        while run.len() < limit && left.remove(&j) {
            run.push(j * baby_step);
            j = if forward {
                (j + 1) % count
            } else {
                (j + count - 1) % count
            };
        }
        run
    };
    // The run through 0: upwards to m/2, downwards from m − N1.
    let upward = take_run(&mut left, 1, true, count / 2);
    let downward = take_run(&mut left, count - 1, false, count);
    for (run, step) in [(downward, down), (upward, up)] {
        if !run.is_empty() {
            chains.push(GiantChain {
                anchor: step,
                step,
                giants: run,
            });
        }
    }
    // Other runs, each from its end nearest to rotation 0.
    while let Some(&first) = left.iter().next() {
        let mut last = first;
        while left.contains(&(last + 1)) {
            last += 1;
        }
        let near = |j: usize| signed_rotation(j * baby_step, m).unsigned_abs();
        let forward = near(first) <= near(last);
        let (from, step) = if forward { (first, up) } else { (last, down) };
        let run = take_run(&mut left, from, forward, count);
        chains.push(GiantChain {
            anchor: signed_rotation(from * baby_step, m),
            step,
            giants: run,
        });
    }
    chains
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dft_plan::{DftDirection, DftPlan};

    /// Chains cover every non-zero giant exactly once, as consecutive multiples of N1 from
    /// their anchor, for every factor of several plans (the sparse repack factor has a second
    /// cluster of giants around n, which gets its own chain).
    #[test]
    fn giant_chains_cover_every_giant_once() {
        for (log_n, log_slots, ratio) in [(16, 14, -1), (16, 15, -1), (16, 14, 1), (12, 9, 0)] {
            let plan = DftPlan::new(log_n, log_slots, 4, 3, ratio).unwrap();
            for direction in [DftDirection::CoeffToSlot, DftDirection::SlotToCoeff] {
                for factor in plan.factors(direction) {
                    let m = factor.slots as i64;
                    let mut covered = Vec::new();
                    for chain in factor.chains() {
                        assert!(
                            chain.step == factor.rotation(factor.baby_step)
                                || chain.step == factor.rotation(factor.slots - factor.baby_step)
                        );
                        for (i, &g) in chain.giants.iter().enumerate() {
                            let expected = (chain.anchor + i as i64 * chain.step).rem_euclid(m);
                            assert_eq!(g as i64, expected);
                            covered.push(g);
                        }
                    }
                    covered.sort_unstable();
                    let giants: Vec<usize> =
                        factor.giants().into_keys().filter(|&g| g != 0).collect();
                    assert_eq!(covered, giants);
                    assert_eq!(factor.key_switches(), factor.babies().len() + giants.len());
                }
            }
        }
        let sparse = DftPlan::new(16, 14, 4, 3, -1).unwrap();
        let repack = &sparse.factors(DftDirection::SlotToCoeff)[0];
        assert!(repack.repack);
        assert_eq!(repack.chains().len(), 3);
    }

    /// A run away from 0 is anchored at its end nearest to rotation 0.
    #[test]
    fn an_isolated_run_is_anchored_near_zero() {
        let chains = giant_chains([8, 12, 16, 40, 44, 48], 4, 64);
        assert_eq!(
            chains,
            [
                GiantChain {
                    anchor: 8,
                    step: 4,
                    giants: vec![8, 12, 16]
                },
                // 48 is rotation −16, nearer to 0 than 40 (−24): start there, go down.
                GiantChain {
                    anchor: -16,
                    step: -4,
                    giants: vec![48, 44, 40]
                },
            ]
        );
    }
}
