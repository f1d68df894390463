//! The integer structure of bootstrapping's homomorphic DFTs (CoeffToSlot and SlotToCoeff),
//! shared by the compiler (to merge rotation-key sets) and the runtime (to build the matrices):
//! which merged factors exist, the non-zero diagonals of each, their baby-step giant-step split
//! and hence every rotation (Galois element) a bootstrap needs. No ring code, no floating point.
//!
//! Conventions (those of the runtime's special FFT, `runtime/src/encoding/fft.rs`): n slots,
//! decoding is `V = B_(log n) ⋯ B_1 · bit-reversal` where the butterfly layer `B_s` pairs slots
//! at distance h = 2^(s−1) inside blocks of 2h, so as a matrix acting on slot vectors it has
//! the diagonals {0, +h, −h} (mod n; +h and −h coincide when h = n/2). Encoding is its inverse,
//! `(1/n) · bit-reversal · B'_1 ⋯ B'_(log n)`. The homomorphic transforms omit the
//! bit-reversal (CoeffToSlot leaves the coefficients in bit-reversed slot order, SlotToCoeff
//! reads them in that order), so each is a plain product of butterfly layers:
//!
//! - **CoeffToSlot** applies `B'_(log n)` first; its `levels` groups take the larger groups
//!   first (the big, cheap-to-rotate layers sit at the top of the chain).
//! - **SlotToCoeff** applies `B_1` first; its smaller groups come first.
//!
//! A group of m merged layers has the sum set of the layers' diagonal sets (2^(m+1) − 1
//! diagonals, or 2^m for a group holding the h = n/2 layer).
//!
//! Sparse slots (n < N/2) pack the n real and n imaginary parts of the coefficients into 2n
//! slots for EvalMod: the last CoeffToSlot factor is read in a space of 2n slots with its lower
//! half kept (its diagonals are unchanged), and the first SlotToCoeff factor is merged with the
//! "repack" matrix (diagonals 0 and n of a 2n-slot space: slot j ← slot j + i·slot j+n), which
//! doubles its diagonal set. Before CoeffToSlot a sparse bootstrap projects the raised
//! ciphertext onto the slot subring with the trace, rotations by n, 2n, …, N/4.
//!
//! Baby-step giant-step: for a diagonal index k (in `[0, m)` of the factor's m-slot space) and
//! a power-of-two baby step N1, baby b = k mod N1 and giant g = k − b. N1 is the largest power
//! of two with #babies ≤ 2^ratio · #giants (babies share one decomposition, giants each cost a
//! full key switch). Rotations are named by their signed representative in (−m/2, m/2], so
//! the same rotation of different factors shares one key.
//!
//! Giant steps are chained (Horner's rule): the signed giants are multiples j·N1, and
//! `Σ_j rot_(j·N1)(u_j) = u_0 + rot_N1(u_1 + rot_N1(u_2 + …)) + rot_−N1(u_−1 + rot_−N1(…))`.
//! Every giant step is still one key switch, but a factor needs only two giant keys, ±N1,
//! instead of one per giant: the keys of a factor are its babies and ±N1. Top-level keys are
//! the largest of the chain (80 MiB each at N = 2^16), so this is what keeps the bootstrapping
//! keys within budget (docs/bootstrapping.md, key memory).

mod budget;
mod chains;

pub use budget::{BABY_STEP_COST, BOOTSTRAP_KEY_BUDGET_BYTES, BSGS_RATIO_CHOICES};
pub use chains::{GiantChain, giant_chains};

use crate::bootstrap::BootstrapConfig;
use crate::units::Level;
use std::collections::{BTreeMap, BTreeSet};
use thiserror::Error;

/// Why a DFT plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DftPlanError {
    /// The slot count is not between 2 and N/2.
    #[error("log slots = {log_slots} must be between 1 and log N − 1 = {max}")]
    LogSlots {
        /// The requested log2 of the slot count.
        log_slots: u32,
        /// log N − 1.
        max: u32,
    },
    /// A level budget outside 1..=log slots.
    #[error("the {transform} level budget {levels} must be between 1 and log slots = {log_slots}")]
    LevelBudget {
        /// "CoeffToSlot" or "SlotToCoeff".
        transform: &'static str,
        /// The requested number of levels.
        levels: u32,
        /// log2 of the slot count.
        log_slots: u32,
    },
    /// A per-factor ratio list whose length is not the number of factors.
    #[error("{found} BSGS ratios for {expected} factors (CoeffToSlot's, then SlotToCoeff's)")]
    Ratios {
        /// CoeffToSlot plus SlotToCoeff levels.
        expected: usize,
        /// Ratios given.
        found: usize,
    },
    /// log N outside what a Galois element fits (2 ≤ log N ≤ 30).
    #[error("log N = {log_n} is outside 2..=30")]
    LogN {
        /// The requested log N.
        log_n: u32,
    },
}

/// Which homomorphic DFT a factor belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DftDirection {
    /// Homomorphic encoding: slots ← coefficients (bit-reversed order).
    CoeffToSlot,
    /// Homomorphic decoding: coefficients (bit-reversed order) → slots.
    SlotToCoeff,
}

/// One merged factor: a product of consecutive butterfly layers, applied as one plaintext
/// matrix-vector product (one level).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DftFactor {
    /// log2 of the half-distance h of each merged layer, in the order they are applied.
    pub layers: Vec<u32>,
    /// Size m of the slot space the diagonals live in (n, or 2n for a packing factor).
    pub slots: usize,
    /// This factor also un-packs 2n real slots into n complex ones (first sparse SlotToCoeff).
    pub repack: bool,
    /// This factor keeps only the lower n of its 2n output slots (last sparse CoeffToSlot).
    pub keep_lower_half: bool,
    /// Indices k ∈ [0, m) of the non-zero diagonals, ascending.
    pub diagonals: Vec<usize>,
    /// The baby step N1 (a power of two).
    pub baby_step: usize,
}

impl DftFactor {
    fn new(layers: Vec<u32>, n: usize, repack: bool, keep_lower_half: bool, ratio: i32) -> Self {
        let slots = if repack || keep_lower_half { 2 * n } else { n };
        // Layer diagonals are taken modulo n; in a 2n-slot space (repack) the representatives
        // 0, h, 2n − h act the same on the n-periodic vectors they meet.
        let mut diagonals = BTreeSet::from([0usize]);
        for &log_h in &layers {
            let h = 1usize << log_h;
            let layer = [0, h % n, (n - h % n) % n];
            diagonals = diagonals
                .iter()
                .flat_map(|&a| layer.iter().map(move |&b| (a + b) % n))
                .collect();
        }
        if repack {
            // The repack's diagonals {0, n} summed with the layers': both lifts k and k + n.
            diagonals = diagonals.iter().flat_map(|&k| [k, k + n]).collect();
        } else if keep_lower_half {
            // On n-periodic inputs k and k + n act alike; k + n for k > n/2 names the same
            // rotation (k − n) as the other factors of the transform, so keys are shared.
            diagonals = diagonals
                .iter()
                .map(|&k| if k > n / 2 { k + n } else { k })
                .collect();
        }
        let diagonals: Vec<usize> = diagonals.into_iter().collect();
        let baby_step = best_baby_step(&diagonals, slots, ratio);
        Self {
            layers,
            slots,
            repack,
            keep_lower_half,
            diagonals,
            baby_step,
        }
    }

    /// The non-zero baby steps b (distinct, ascending, 0 excluded).
    pub fn babies(&self) -> Vec<usize> {
        let set: BTreeSet<usize> = self
            .diagonals
            .iter()
            .map(|&k| k % self.baby_step)
            .filter(|&b| b != 0)
            .collect();
        set.into_iter().collect()
    }

    /// Diagonals grouped by giant step g: g → [(baby b, diagonal k = g + b)], ascending.
    pub fn giants(&self) -> BTreeMap<usize, Vec<(usize, usize)>> {
        let mut map: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for &k in &self.diagonals {
            let b = k % self.baby_step;
            map.entry(k - b).or_default().push((b, k));
        }
        map
    }

    /// Signed rotation of this factor's slot space for a step of `k` slots.
    pub fn rotation(&self, k: usize) -> i64 {
        signed_rotation(k, self.slots)
    }

    /// The chains that sum this factor's non-zero giants ([`giant_chains`]).
    pub fn chains(&self) -> Vec<GiantChain> {
        giant_chains(self.giants().into_keys(), self.baby_step, self.slots)
    }

    /// Every rotation key this factor needs (its babies and its chains' rotations), signed.
    pub fn rotations(&self) -> BTreeSet<i64> {
        let babies = self.babies().into_iter().map(|k| self.rotation(k));
        let chains = self
            .chains()
            .iter()
            .flat_map(GiantChain::rotations)
            .collect::<Vec<_>>();
        babies.chain(chains).collect()
    }

    /// Key switches one evaluation performs: one per baby and one per non-zero giant (each
    /// chain link is one key switch).
    pub fn key_switches(&self) -> usize {
        self.babies().len() + self.chains().iter().map(|c| c.giants.len()).sum::<usize>()
    }
}

/// The rotation by `k` slots (mod m) named by its representative in (−m/2, m/2], the
/// naming every DFT factor uses so equal rotations share a key.
pub fn signed_rotation(k: usize, m: usize) -> i64 {
    let k = k % m;
    if k > m / 2 {
        k as i64 - m as i64
    } else {
        k as i64
    }
}

/// The largest power-of-two N1 ≤ m with #babies ≤ 2^ratio · #giants (counting 0 in both;
/// a negative ratio asks for fewer babies than giants).
fn best_baby_step(diagonals: &[usize], m: usize, ratio: i32) -> usize {
    let mut best = 1;
    let mut n1 = 1;
    while n1 <= m {
        let babies: BTreeSet<usize> = diagonals.iter().map(|k| k % n1).collect();
        let giants: BTreeSet<usize> = diagonals.iter().map(|k| k - k % n1).collect();
        let fits = if ratio >= 0 {
            babies.len() <= giants.len() << ratio
        } else {
            babies.len() << ratio.unsigned_abs() <= giants.len()
        };
        if fits {
            best = n1;
        }
        n1 *= 2;
    }
    best
}

/// Splits `layers` layers into `groups` groups whose sizes differ by at most one, the larger
/// groups first when `large_first`.
fn group_sizes(layers: u32, groups: u32, large_first: bool) -> Vec<u32> {
    let base = layers / groups;
    let extra = layers % groups;
    let mut sizes: Vec<u32> = (0..groups).map(|i| base + u32::from(i < extra)).collect();
    if !large_first {
        sizes.reverse();
    }
    sizes
}

/// The Galois element 5^steps mod 2N of a rotation by `steps` slots (negative: right).
pub fn galois_element_for_rotation(log_n: u32, steps: i64) -> u64 {
    let two_n = 2u64 << log_n;
    let order = 1i64 << (log_n - 1);
    let mut exponent = steps.rem_euclid(order) as u64;
    let (mut base, mut g) = (5u64, 1u64);
    while exponent > 0 {
        if exponent & 1 == 1 {
            g = g * base % two_n;
        }
        base = base * base % two_n;
        exponent >>= 1;
    }
    g
}

/// The Galois element 2N − 1 of slot conjugation.
pub fn galois_element_for_conjugation(log_n: u32) -> u64 {
    (2u64 << log_n) - 1
}

/// One merged factor before its BSGS split.
#[derive(Clone, Debug)]
struct FactorShape {
    layers: Vec<u32>,
    repack: bool,
    keep_lower_half: bool,
}

/// The merged factors of a plan before their BSGS split: which layers each holds, in order,
/// and which factors repack or keep the lower half (sparse slots).
#[derive(Clone, Debug)]
struct FactorShapes {
    log_n: u32,
    log_slots: u32,
    coeff_to_slot: Vec<FactorShape>,
    slot_to_coeff: Vec<FactorShape>,
}

impl FactorShapes {
    /// Validates the sizes and groups the layers (see [`DftPlan::new`] for the errors).
    fn new(
        log_n: u32,
        log_slots: u32,
        c2s_levels: u32,
        s2c_levels: u32,
    ) -> Result<Self, DftPlanError> {
        if !(2..=30).contains(&log_n) {
            return Err(DftPlanError::LogN { log_n });
        }
        if log_slots == 0 || log_slots >= log_n {
            return Err(DftPlanError::LogSlots {
                log_slots,
                max: log_n - 1,
            });
        }
        for (transform, levels) in [("CoeffToSlot", c2s_levels), ("SlotToCoeff", s2c_levels)] {
            if levels == 0 || levels > log_slots {
                return Err(DftPlanError::LevelBudget {
                    transform,
                    levels,
                    log_slots,
                });
            }
        }
        let sparse = log_slots + 1 < log_n;

        // CoeffToSlot: layers log h = log n − 1 down to 0, larger groups first.
        let mut next = log_slots;
        let c2s_sizes = group_sizes(log_slots, c2s_levels, true);
        let coeff_to_slot = c2s_sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let layers: Vec<u32> = (next - size..next).rev().collect();
                next -= size;
                let last = i + 1 == c2s_sizes.len();
                FactorShape {
                    layers,
                    repack: false,
                    keep_lower_half: sparse && last,
                }
            })
            .collect();

        // SlotToCoeff: layers log h = 0 up to log n − 1, smaller groups first.
        let mut next = 0;
        let slot_to_coeff = group_sizes(log_slots, s2c_levels, false)
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let layers: Vec<u32> = (next..next + size).collect();
                next += size;
                FactorShape {
                    layers,
                    repack: sparse && i == 0,
                    keep_lower_half: false,
                }
            })
            .collect();
        Ok(Self {
            log_n,
            log_slots,
            coeff_to_slot,
            slot_to_coeff,
        })
    }

    /// Number of factors, CoeffToSlot's and SlotToCoeff's.
    fn count(&self) -> usize {
        self.coeff_to_slot.len() + self.slot_to_coeff.len()
    }

    /// `shape` split with BSGS ratio `ratio`.
    fn factor(&self, shape: &FactorShape, ratio: i32) -> DftFactor {
        DftFactor::new(
            shape.layers.clone(),
            1 << self.log_slots,
            shape.repack,
            shape.keep_lower_half,
            ratio,
        )
    }

    /// The plan with these ratios (one per factor of each transform).
    fn plan(&self, c2s: &[i32], s2c: &[i32]) -> DftPlan {
        let split = |shapes: &[FactorShape], ratios: &[i32]| {
            shapes
                .iter()
                .zip(ratios)
                .map(|(shape, &ratio)| self.factor(shape, ratio))
                .collect()
        };
        DftPlan {
            log_n: self.log_n,
            log_slots: self.log_slots,
            coeff_to_slot: split(&self.coeff_to_slot, c2s),
            slot_to_coeff: split(&self.slot_to_coeff, s2c),
        }
    }
}

/// The structure of the CoeffToSlot and SlotToCoeff transforms of one bootstrap shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DftPlan {
    log_n: u32,
    log_slots: u32,
    coeff_to_slot: Vec<DftFactor>,
    slot_to_coeff: Vec<DftFactor>,
}

impl DftPlan {
    /// Plans the transforms for ring degree 2^log_n and 2^log_slots slots, with
    /// `c2s_levels` / `s2c_levels` merged factors (one level each) and BSGS ratio
    /// 2^bsgs_log_ratio (babies per giant) in every factor.
    ///
    /// Errors: [`DftPlanError::LogN`], [`DftPlanError::LogSlots`] (1 ≤ log slots < log N),
    /// [`DftPlanError::LevelBudget`] (1 ≤ levels ≤ log slots).
    pub fn new(
        log_n: u32,
        log_slots: u32,
        c2s_levels: u32,
        s2c_levels: u32,
        bsgs_log_ratio: i32,
    ) -> Result<Self, DftPlanError> {
        let ratios = vec![bsgs_log_ratio; (c2s_levels + s2c_levels) as usize];
        Self::with_ratios(log_n, log_slots, c2s_levels, s2c_levels, &ratios)
    }

    /// As [`Self::new`] with one BSGS ratio per factor: CoeffToSlot's in application order,
    /// then SlotToCoeff's.
    ///
    /// Errors: as [`Self::new`], and [`DftPlanError::Ratios`] for a list of the wrong length.
    pub fn with_ratios(
        log_n: u32,
        log_slots: u32,
        c2s_levels: u32,
        s2c_levels: u32,
        ratios: &[i32],
    ) -> Result<Self, DftPlanError> {
        let shapes = FactorShapes::new(log_n, log_slots, c2s_levels, s2c_levels)?;
        if ratios.len() != shapes.count() {
            return Err(DftPlanError::Ratios {
                expected: shapes.count(),
                found: ratios.len(),
            });
        }
        let (c2s, s2c) = ratios.split_at(shapes.coeff_to_slot.len());
        Ok(shapes.plan(c2s, s2c))
    }

    /// The plan of a bootstrapping configuration: its slot count, its CoeffToSlot and
    /// SlotToCoeff level budgets, and in each factor the BSGS ratio that makes the
    /// bootstrap fastest while its keys stay within [`BOOTSTRAP_KEY_BUDGET_BYTES`]
    /// (`budget.rs`).
    ///
    /// Errors: as [`Self::new`] (a validated configuration always fits).
    pub fn for_bootstrap(config: &BootstrapConfig) -> Result<Self, DftPlanError> {
        budget::plan_within_budget(config)
    }

    /// Every rotation a bootstrap of `config` performs with the highest level it is used at
    /// (CoeffToSlot from the top level, SlotToCoeff from EvalMod's output level): the list the
    /// compiler merges with the circuit's rotation keys (a merged key's cap is the larger).
    pub fn bootstrap_rotation_levels(&self, config: &BootstrapConfig) -> BTreeMap<i64, Level> {
        let levels = config.levels();
        self.rotation_levels(levels.top.0, levels.evalmod_output.0)
            .into_iter()
            .map(|(rotation, level)| (rotation, Level(level)))
            .collect()
    }

    /// Evaluation-key bytes of a bootstrap of `config` with level-capped keys (DESIGN §5
    /// formula through [`BootstrapConfig::key_bytes_capped`]: rotations, conjugation,
    /// relinearisation and encapsulation keys).
    pub fn bootstrap_key_bytes(&self, config: &BootstrapConfig, compressed: bool) -> u64 {
        let caps: Vec<Level> = self
            .bootstrap_rotation_levels(config)
            .into_values()
            .collect();
        config.key_bytes_capped(&caps, compressed)
    }

    /// log2 of the ring degree.
    pub fn log_n(&self) -> u32 {
        self.log_n
    }

    /// The slot count n.
    pub fn slots(&self) -> usize {
        1 << self.log_slots
    }

    /// Whether n < N/2 (trace before CoeffToSlot, real/imaginary packed into 2n slots).
    pub fn is_sparse(&self) -> bool {
        self.log_slots + 1 < self.log_n
    }

    /// The factors of one transform, in the order they are applied (one level each).
    pub fn factors(&self, direction: DftDirection) -> &[DftFactor] {
        match direction {
            DftDirection::CoeffToSlot => &self.coeff_to_slot,
            DftDirection::SlotToCoeff => &self.slot_to_coeff,
        }
    }

    /// The trace's rotations, applied in order before CoeffToSlot: n, 2n, …, N/4 (none for
    /// full slots).
    pub fn trace_rotations(&self) -> Vec<i64> {
        (self.log_slots..self.log_n - 1)
            .map(|i| 1i64 << i)
            .collect()
    }

    /// The rotation that packs the imaginary parts into the upper n of 2n slots after
    /// CoeffToSlot (sparse slots only).
    pub fn pack_rotation(&self) -> Option<i64> {
        self.is_sparse().then(|| self.slots() as i64)
    }

    /// Highest level at which each rotation is used, when CoeffToSlot starts at `c2s_level`
    /// (the trace runs there too) and SlotToCoeff at `s2c_level`. Factor i of a transform
    /// runs one level below factor i − 1; the packing rotation runs after CoeffToSlot.
    pub fn rotation_levels(&self, c2s_level: usize, s2c_level: usize) -> BTreeMap<i64, usize> {
        let c2s: Vec<BTreeSet<i64>> = self.coeff_to_slot.iter().map(|f| f.rotations()).collect();
        let s2c: Vec<BTreeSet<i64>> = self.slot_to_coeff.iter().map(|f| f.rotations()).collect();
        let c2s: Vec<&BTreeSet<i64>> = c2s.iter().collect();
        let s2c: Vec<&BTreeSet<i64>> = s2c.iter().collect();
        self.merge_rotation_levels(&c2s, &s2c, c2s_level, s2c_level)
    }

    /// [`Self::rotation_levels`] for given per-factor rotation sets (this plan's, or those of
    /// another BSGS split of the same factors): the trace at `c2s_level`, CoeffToSlot factor
    /// i at `c2s_level − i`, the packing rotation after it, SlotToCoeff factor i at
    /// `s2c_level − i`; a rotation used at several levels keeps the highest.
    fn merge_rotation_levels(
        &self,
        c2s: &[&BTreeSet<i64>],
        s2c: &[&BTreeSet<i64>],
        c2s_level: usize,
        s2c_level: usize,
    ) -> BTreeMap<i64, usize> {
        let mut levels: BTreeMap<i64, usize> = BTreeMap::new();
        let mut note = |rotation: i64, level: usize| {
            let entry = levels.entry(rotation).or_insert(level);
            *entry = (*entry).max(level);
        };
        for r in self.trace_rotations() {
            note(r, c2s_level);
        }
        for (i, rotations) in c2s.iter().enumerate() {
            for &r in *rotations {
                note(r, c2s_level - i);
            }
        }
        if let Some(r) = self.pack_rotation() {
            note(r, c2s_level - c2s.len());
        }
        for (i, rotations) in s2c.iter().enumerate() {
            for &r in *rotations {
                note(r, s2c_level - i);
            }
        }
        levels
    }

    /// The level at which the real/imaginary split conjugates (right after CoeffToSlot).
    pub fn conjugation_level(&self, c2s_level: usize) -> usize {
        c2s_level - self.coeff_to_slot.len()
    }

    /// Every rotation a bootstrap of this shape performs, signed, ascending (0 excluded).
    pub fn rotations(&self) -> BTreeSet<i64> {
        self.rotation_levels(usize::MAX / 2, usize::MAX / 2)
            .into_keys()
            .collect()
    }

    /// The Galois elements of every rotation and of the conjugation, ascending and distinct
    /// (the set of Galois keys a bootstrap needs besides relinearisation).
    pub fn galois_elements(&self) -> BTreeSet<u64> {
        let mut elements: BTreeSet<u64> = self
            .rotations()
            .into_iter()
            .map(|r| galois_element_for_rotation(self.log_n, r))
            .collect();
        elements.remove(&1);
        elements.insert(galois_element_for_conjugation(self.log_n));
        elements
    }

    /// Number of plaintext diagonals over both transforms.
    pub fn diagonal_count(&self) -> usize {
        self.coeff_to_slot
            .iter()
            .chain(&self.slot_to_coeff)
            .map(|f| f.diagonals.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(plan: &DftPlan, direction: DftDirection) -> Vec<usize> {
        plan.factors(direction)
            .iter()
            .map(|f| f.diagonals.len())
            .collect()
    }

    /// The diagonal counts the bootstrapping plan computed (docs/plans/bootstrapping.md §2.2)
    /// for N = 2^16 with budgets 4 / 3.
    #[test]
    fn diagonal_counts_match_the_plan_at_n16() {
        let full = DftPlan::new(16, 15, 4, 3, 1).unwrap();
        assert_eq!(counts(&full, DftDirection::CoeffToSlot), [16, 31, 31, 15]);
        assert_eq!(counts(&full, DftDirection::SlotToCoeff), [63, 63, 32]);
        assert_eq!(full.diagonal_count(), 251);
        let sparse = DftPlan::new(16, 14, 4, 3, 1).unwrap();
        assert_eq!(counts(&sparse, DftDirection::CoeffToSlot), [16, 31, 15, 15]);
        assert_eq!(counts(&sparse, DftDirection::SlotToCoeff), [62, 63, 32]);
        assert_eq!(sparse.diagonal_count(), 234);
        assert_eq!(sparse.trace_rotations(), [1 << 14]);
        assert_eq!(sparse.pack_rotation(), Some(1 << 14));
        assert!(full.trace_rotations().is_empty());
        assert_eq!(full.pack_rotation(), None);
    }

    /// Every layer is applied once, in the documented order, and each factor costs one level.
    #[test]
    fn layers_are_partitioned_in_order() {
        for log_slots in 1..=9 {
            for levels in 1..=log_slots {
                let plan = DftPlan::new(11, log_slots, levels, levels, 1).unwrap();
                let c2s: Vec<u32> = plan
                    .factors(DftDirection::CoeffToSlot)
                    .iter()
                    .flat_map(|f| f.layers.clone())
                    .collect();
                let s2c: Vec<u32> = plan
                    .factors(DftDirection::SlotToCoeff)
                    .iter()
                    .flat_map(|f| f.layers.clone())
                    .collect();
                assert_eq!(c2s, (0..log_slots).rev().collect::<Vec<_>>());
                assert_eq!(s2c, (0..log_slots).collect::<Vec<_>>());
                assert_eq!(
                    plan.factors(DftDirection::CoeffToSlot).len(),
                    levels as usize
                );
            }
        }
    }

    /// The BSGS split covers every diagonal exactly once, and respects the ratio rule.
    #[test]
    fn baby_giant_split_covers_every_diagonal() {
        for (log_slots, ratio) in [(10, -1), (10, 0), (10, 1), (9, 2), (15, 1), (15, -2)] {
            let plan = DftPlan::new(16, log_slots, 3, 3, ratio).unwrap();
            for direction in [DftDirection::CoeffToSlot, DftDirection::SlotToCoeff] {
                for factor in plan.factors(direction) {
                    let mut covered: Vec<usize> = factor
                        .giants()
                        .iter()
                        .flat_map(|(g, pairs)| {
                            pairs.iter().map(move |&(b, k)| {
                                assert_eq!(g + b, k);
                                assert!(b < factor.baby_step);
                                k
                            })
                        })
                        .collect();
                    covered.sort_unstable();
                    assert_eq!(covered, factor.diagonals);
                    let babies = factor.babies().len() + 1;
                    let giants = factor.giants().len();
                    let fits = if ratio >= 0 {
                        babies <= giants << ratio
                    } else {
                        babies << -ratio <= giants
                    };
                    assert!(fits, "{babies} babies, {giants} giants, ratio {ratio}");
                }
            }
        }
    }

    /// A budget of one level is a dense matrix: all n diagonals, 7 babies and 7 giants; the
    /// giants chain by ±8, so 9 keys instead of 14, still 14 key switches.
    #[test]
    fn one_level_is_a_dense_matrix() {
        let plan = DftPlan::new(7, 6, 1, 1, 0).unwrap();
        let factor = &plan.factors(DftDirection::CoeffToSlot)[0];
        assert_eq!(factor.diagonals, (0..64).collect::<Vec<_>>());
        assert_eq!(factor.baby_step, 8);
        assert_eq!(
            factor.rotations(),
            BTreeSet::from([-8, 1, 2, 3, 4, 5, 6, 7, 8])
        );
        assert_eq!(factor.key_switches(), 14);
    }

    /// Rotation sets at N = 2^16 stay near the plan's computed 47 keys (+ conjugation), and
    /// the levels attached to them follow the factor order.
    #[test]
    fn rotation_sets_and_levels() {
        for log_slots in [14, 15] {
            let plan = DftPlan::new(16, log_slots, 4, 3, 1).unwrap();
            let rotations = plan.rotations();
            assert!(
                (30..=50).contains(&rotations.len()),
                "{} rotations",
                rotations.len()
            );
            assert!(!rotations.contains(&0));
            let elements = plan.galois_elements();
            assert!(elements.contains(&galois_element_for_conjugation(16)));
            assert_eq!(elements.len(), rotations.len() + 1);
            let levels = plan.rotation_levels(25, 13);
            for (i, factor) in plan.factors(DftDirection::SlotToCoeff).iter().enumerate() {
                for r in factor.rotations() {
                    assert!(levels[&r] >= 13 - i);
                }
            }
            for r in plan.factors(DftDirection::CoeffToSlot)[0].rotations() {
                assert_eq!(levels[&r], 25);
            }
            assert_eq!(plan.conjugation_level(25), 21);
        }
    }

    /// The N16_BOOT preset's keys, level-capped and seed-compressed, stay within the
    /// 2 GB budget at 2^14 and 2^15 slots (1.89 GB each with chained giants split under the budget;
    /// 2.95 and 3.15 GB with one key per giant), and rotations map to distinct Galois elements.
    #[test]
    fn bootstrap_plan_of_the_preset() {
        for log_slots in [14, 15] {
            let config = BootstrapConfig::new(crate::bootstrap::n16_boot(log_slots)).unwrap();
            let plan = DftPlan::for_bootstrap(&config).unwrap();
            let levels = plan.bootstrap_rotation_levels(&config);
            let bounds = config.levels();
            assert!(
                levels
                    .values()
                    .all(|l| *l <= bounds.top && *l > bounds.output)
            );
            let elements: BTreeSet<u64> = levels
                .keys()
                .map(|&r| galois_element_for_rotation(16, r))
                .collect();
            assert_eq!(elements.len(), levels.len());
            let bytes = plan.bootstrap_key_bytes(&config, true);
            assert!(
                (1_500_000_000..=2_000_000_000).contains(&bytes),
                "{bytes} bytes"
            );
        }
    }

    #[test]
    fn galois_elements_are_powers_of_five() {
        assert_eq!(galois_element_for_rotation(4, 0), 1);
        assert_eq!(galois_element_for_rotation(4, 1), 5);
        assert_eq!(galois_element_for_rotation(4, 2), 25);
        // 5 has order N/2 = 8 modulo 32, so −1 is 5^7.
        assert_eq!(galois_element_for_rotation(4, -1), 5u64.pow(7) % 32);
        assert_eq!(galois_element_for_conjugation(4), 31);
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(matches!(
            DftPlan::new(12, 12, 2, 2, 1),
            Err(DftPlanError::LogSlots { .. })
        ));
        assert!(matches!(
            DftPlan::new(12, 0, 1, 1, 1),
            Err(DftPlanError::LogSlots { .. })
        ));
        assert!(matches!(
            DftPlan::new(12, 5, 6, 2, 1),
            Err(DftPlanError::LevelBudget { .. })
        ));
        assert!(matches!(
            DftPlan::new(12, 5, 2, 0, 1),
            Err(DftPlanError::LevelBudget { .. })
        ));
    }
}
