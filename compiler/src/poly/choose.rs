//! Choosing the approximation of each activation from its calibrated range.
//!
//! [`choose`] turns the calibrated range of an activation's inputs into an interval (a margin
//! around the calibrated bound), builds every candidate the [`ChooserOptions`] allow (Chebyshev
//! interpolants of the listed degrees; for ReLU the composite-sign families), each with the
//! baby steps of both [`PlanObjective`]s, and picks:
//!
//! 1. among candidates no deeper than `max_depth` whose maximum error relative to the largest
//!    `|f|` on the interval is at most `target_rel_error`: the least depth (levels, hence
//!    bootstraps), then the fewest ciphertext products, then the smallest error;
//! 2. if none reaches the target: the most accurate within `max_depth`, flagged
//!    `meets_target = false`;
//! 3. if nothing fits `max_depth`: an error naming the activation.
//!
//! Every candidate considered is kept in [`Choice::candidates`] so the decision is visible.
//! Defaults, with their sources, are on [`ChooserOptions::default`] and in
//! `docs/activations.md`.

use super::PolyError;
use super::approx::{Activation, ActivationApprox, InputMap, Method};
use super::bsgs::PlanObjective;
use super::chebyshev::Interval;
use serde::{Deserialize, Serialize};

/// Statistics of an activation's inputs over the calibration images.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct CalibratedRange {
    /// Smallest input seen.
    pub min: f64,
    /// Largest input seen.
    pub max: f64,
    /// A high percentile of `|x|`, if calibration recorded one.
    pub abs_percentile: Option<Percentile>,
}

/// "A fraction `q` of the calibration inputs have `|x| ≤ value`."
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct Percentile {
    /// The fraction, in `(0, 1)`.
    pub q: f64,
    /// The `|x|` bound.
    pub value: f64,
}

/// Which calibrated figure the interval's bound is taken from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundSource {
    /// The largest `|x|` seen: no calibration input falls outside.
    Max,
    /// The recorded percentile of `|x|`: tighter (more accurate inside), but up to `1 − q` of
    /// the calibration inputs fall outside, and a polynomial explodes there.
    Percentile,
}

/// The chooser's knobs; see the module documentation for how they are used.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ChooserOptions {
    /// The interval's bound is `margin ×` the calibrated bound (≥ 1).
    pub margin: f64,
    /// Which calibrated bound.
    pub bound: BoundSource,
    /// Symmetric interval `[−B, B]` (the input map is a pure scaling, foldable into the
    /// producer's weights) or `margin ×` the calibrated range around its centre.
    pub symmetric: bool,
    /// Largest acceptable maximum error, relative to the largest `|f|` on the interval.
    pub target_rel_error: f64,
    /// Largest acceptable multiplicative depth.
    pub max_depth: u32,
    /// Whether the producer folds the input map (no level) or the evaluation emits it.
    pub input_map: InputMap,
    /// Chebyshev interpolation degrees to consider (empty: none).
    pub chebyshev_degrees: Vec<usize>,
    /// Composite-sign stage degrees to consider for ReLU (empty: none); the sign gap `ε` is
    /// `target_rel_error` (for `|x| < εB` the ReLU error is at most `εB`).
    pub sign_families: Vec<Vec<usize>>,
}

impl Default for ChooserOptions {
    /// - `margin` 1.25 on `max|x|` (the lowering plan's default, `docs/plans/lowering.md` §3.5;
    ///   Orion uses a margin of 2 on its training batch);
    /// - `bound` [`BoundSource::Max`]: nothing seen in calibration is outside;
    /// - `target_rel_error` `2.5e-3`: selects the degree-247 interpolant (max relative error
    ///   `2.02e-3`, depth 8) over degree 119 (`4.17e-3`, depth 7), measured on training images
    ///   only (calibration on `data_batch_1` images 0..4999, predictions compared with the
    ///   exact model on images 5000..9999): degrees 119 and 127 change 1 prediction in 5000,
    ///   247 and 255 none; 247 is the cheaper of the two (26 vs 70 ct×ct at depth 8). The value
    ///   sits between the errors of degrees 119/127 and 247/255, far from both, so rounding
    ///   cannot flip the choice (`docs/activations.md`, "Default degree");
    /// - `max_depth` 9: a 10-level bootstrap cycle minus the linear layer's level before the
    ///   activation (`docs/plans/lowering.md` §4);
    /// - `input_map` [`InputMap::Folded`]: the producer's weights absorb the range
    ///   normalisation (`docs/plans/lowering.md` §3.3), saving a level;
    /// - degrees `2^k − 1` (each the largest of its depth with baby step 2) and
    ///   `15·2^k/16 − 1` (59, 119, 247, 495: OpenFHE's depth-table boundaries, which reach
    ///   `⌈log2(d + 1)⌉` with cheap baby steps);
    /// - sign families of degrees 7, 15 and 27 in 2–4 stages, including Lee et al.'s
    ///   `{15, 15, 27}` (arXiv 2105.10879).
    fn default() -> Self {
        ChooserOptions {
            margin: 1.25,
            bound: BoundSource::Max,
            symmetric: true,
            target_rel_error: 2.5e-3,
            max_depth: 9,
            input_map: InputMap::Folded,
            chebyshev_degrees: vec![7, 15, 27, 31, 59, 63, 119, 127, 247, 255, 495, 511],
            sign_families: vec![
                vec![7, 7],
                vec![7, 15],
                vec![15, 15],
                vec![7, 7, 7],
                vec![15, 15, 15],
                vec![15, 15, 27],
                vec![7, 7, 7, 7],
            ],
        }
    }
}

/// One candidate the chooser built, as shown in reports.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Candidate {
    /// How it is built.
    pub method: Method,
    /// Baby-step objective.
    pub objective: PlanObjective,
    /// Multiplicative depth.
    pub depth: u32,
    /// Ciphertext products.
    pub ct_mults: u32,
    /// Maximum error relative to the largest `|f|`.
    pub max_rel: f64,
    /// Mean absolute error.
    pub mean_abs: f64,
}

/// The chooser's decision for one activation.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Choice {
    /// The approximation chosen.
    pub approx: ActivationApprox,
    /// Whether it reaches `target_rel_error`.
    pub meets_target: bool,
    /// Upper bound on the fraction of calibration inputs outside the interval (0 with
    /// [`BoundSource::Max`]; `1 − q` with a percentile below the maximum).
    pub calibration_outside_at_most: f64,
    /// Every candidate within `max_depth`, in the order built.
    pub candidates: Vec<Candidate>,
}

fn bad(message: String) -> PolyError {
    PolyError::BadParameter(message)
}

/// The interval the options give for `range`, and the bound on calibration inputs outside it.
pub fn interval_for(
    range: &CalibratedRange,
    options: &ChooserOptions,
) -> Result<(Interval, f64), PolyError> {
    if !(range.min.is_finite() && range.max.is_finite() && range.min <= range.max) {
        return Err(bad(format!(
            "calibrated range [{}, {}] is not a finite range",
            range.min, range.max
        )));
    }
    if !(options.margin.is_finite() && options.margin >= 1.0) {
        return Err(bad(format!("margin {} must be at least 1", options.margin)));
    }
    let max_abs = range.min.abs().max(range.max.abs());
    if max_abs == 0.0 {
        return Err(bad(
            "the calibrated inputs are all 0: there is no range to approximate on".into(),
        ));
    }
    let (seen, outside) = match (options.bound, range.abs_percentile) {
        (BoundSource::Max, _) => (max_abs, 0.0),
        (BoundSource::Percentile, Some(p)) => {
            if !(p.q > 0.0 && p.q < 1.0 && p.value.is_finite() && p.value >= 0.0) {
                return Err(bad(format!(
                    "percentile q={} |x|≤{} is not a valid percentile",
                    p.q, p.value
                )));
            }
            let outside = if p.value * options.margin < max_abs {
                1.0 - p.q
            } else {
                0.0
            };
            (p.value, outside)
        }
        (BoundSource::Percentile, None) => {
            return Err(bad(
                "the bound is to come from a percentile, but calibration recorded none".into(),
            ));
        }
    };
    let interval = if options.symmetric {
        Interval::symmetric(options.margin * seen)?
    } else if options.bound == BoundSource::Percentile {
        return Err(bad(
            "a percentile bound (of |x|) needs a symmetric interval".into(),
        ));
    } else {
        let centre = 0.5 * (range.min + range.max);
        let half = options.margin * 0.5 * (range.max - range.min);
        Interval::new(centre - half, centre + half)?
    };
    Ok((interval, outside))
}

/// Picks the approximation of `activation` for inputs calibrated to `range`; see the module
/// documentation for the rules.
pub fn choose(
    activation: Activation,
    range: &CalibratedRange,
    options: &ChooserOptions,
) -> Result<Choice, PolyError> {
    if !(options.target_rel_error > 0.0 && options.target_rel_error < 1.0) {
        return Err(bad(format!(
            "target relative error {} must lie in (0, 1)",
            options.target_rel_error
        )));
    }
    let (interval, outside) = interval_for(range, options)?;
    // A degree-d polynomial needs depth ⌈log2 d⌉ whatever the plan, an emitted map one more
    // and the sign route's product by x one more: candidates that cannot fit are not built.
    let map_depth = u32::from(options.input_map == InputMap::Emitted);
    let too_deep = |degrees: &[usize], product: u32| {
        let chain: u32 = degrees.iter().map(|&d| d.next_power_of_two().ilog2()).sum();
        chain + map_depth + product > options.max_depth
    };
    let objectives = [PlanObjective::LeastDepth, PlanObjective::FewestProducts];
    let mut built: Vec<ActivationApprox> = Vec::new();
    let mut keep = |approx: ActivationApprox| {
        let duplicate = built
            .iter()
            .any(|b| b.method == approx.method && b.stages == approx.stages);
        if approx.depth <= options.max_depth && !duplicate {
            built.push(approx);
        }
    };
    for &degree in &options.chebyshev_degrees {
        if too_deep(&[degree], 0) {
            continue;
        }
        for objective in objectives {
            keep(ActivationApprox::chebyshev(
                activation,
                interval,
                degree,
                objective,
                options.input_map,
            )?);
        }
    }
    if activation == Activation::Relu {
        for degrees in &options.sign_families {
            if too_deep(degrees, 1) {
                continue;
            }
            for objective in objectives {
                keep(ActivationApprox::composite_relu(
                    interval,
                    options.target_rel_error,
                    degrees,
                    objective,
                    options.input_map,
                )?);
            }
        }
    }
    let candidates = built
        .iter()
        .map(|a| Candidate {
            method: a.method.clone(),
            objective: a.objective,
            depth: a.depth,
            ct_mults: a.ct_mults,
            max_rel: a.error.max_rel,
            mean_abs: a.error.mean_abs,
        })
        .collect();
    let target = options.target_rel_error;
    let meeting = built
        .iter()
        .filter(|a| a.error.max_rel <= target)
        .min_by(|a, b| {
            (a.depth, a.ct_mults)
                .cmp(&(b.depth, b.ct_mults))
                .then(a.error.max_rel.total_cmp(&b.error.max_rel))
        });
    let (approx, meets_target) = match meeting {
        Some(a) => (a.clone(), true),
        None => {
            let best = built
                .iter()
                .min_by(|a, b| a.error.max_rel.total_cmp(&b.error.max_rel))
                .ok_or_else(|| PolyError::NothingFits {
                    activation: activation.to_string(),
                    max_depth: options.max_depth,
                })?;
            (best.clone(), false)
        }
    };
    Ok(Choice {
        approx,
        meets_target,
        calibration_outside_at_most: outside,
        candidates,
    })
}
