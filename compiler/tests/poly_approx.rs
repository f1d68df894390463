//! Polynomial approximations against analytic facts: Chebyshev interpolation errors within
//! their textbook bounds, the Remez alternation property, ReLU errors at the chosen degrees,
//! the circuit evaluator against direct Clenshaw, the chooser's rules, serde round trips.

use fhec_compiler::poly::chebyshev::{Interval, clenshaw, interpolate};
use fhec_compiler::poly::composite::composite_step;
use fhec_compiler::poly::remez::odd_minimax;
use fhec_compiler::poly::{
    Activation, ActivationApprox, BoundSource, CalibratedRange, ChooserOptions, InputMap, Method,
    Percentile, PlanObjective, PolyError, RangeReport, choose,
};

fn max_error(f: impl Fn(f64) -> f64, coeffs: &[f64], interval: Interval) -> f64 {
    let (a, b) = interval.to_unit();
    (0..=20_000)
        .map(|k| interval.lo + (interval.hi - interval.lo) * k as f64 / 20_000.0)
        .map(|x| (clenshaw(coeffs, a * x + b) - f(x)).abs())
        .fold(0.0, f64::max)
}

fn factorial(n: u32) -> f64 {
    (1..=n).map(f64::from).product()
}

#[test]
fn exp_interpolation_error_lies_between_the_remainder_bounds() {
    // f − p_n = f^(n+1)(ξ)/(n+1)! · Π(x − x_k), and Π = r^(n+1) T_(n+1)(t)/2^n on an
    // interval of radius r (here 1): the error is at most max f^(n+1) /(2^n (n+1)!) and, at
    // an end where |T_(n+1)| = 1, at least min f^(n+1) times the same. On [0, 2], e^x's
    // derivatives lie between 1 and e².
    let interval = Interval::new(0.0, 2.0).unwrap();
    for n in [3u32, 6, 9] {
        let coeffs = interpolate(f64::exp, interval, n as usize).unwrap();
        let err = max_error(f64::exp, &coeffs, interval);
        let unit = 1.0 / (2f64.powi(n as i32) * factorial(n + 1));
        let upper = 2f64.exp() * unit;
        assert!(err <= upper, "n={n}: {err:e} above {upper:e}");
        assert!(err >= unit, "n={n}: {err:e} below {unit:e}");
    }
}

#[test]
fn abs_interpolation_error_obeys_jackson_and_lebesgue() {
    // |x| is 1-Lipschitz: E_n ≤ (π/2)/(n+1) (Jackson), and the Chebyshev interpolant is
    // within (1 + Λ_n) E_n with Λ_n ≤ (2/π) ln(n+1) + 1; the error of a non-smooth function
    // falls like 1/n, so doubling the degree halves it.
    let unit = Interval::symmetric(1.0).unwrap();
    let errors: Vec<f64> = [31usize, 63, 127]
        .iter()
        .map(|&d| {
            let coeffs = interpolate(f64::abs, unit, d).unwrap();
            let err = max_error(f64::abs, &coeffs, unit);
            let lebesgue = 2.0 / std::f64::consts::PI * ((d + 1) as f64).ln() + 1.0;
            let bound = (1.0 + lebesgue) * std::f64::consts::FRAC_PI_2 / (d + 1) as f64;
            assert!(err <= bound, "d={d}: {err:e} above {bound:e}");
            err
        })
        .collect();
    for pair in errors.windows(2) {
        let ratio = pair[1] / pair[0];
        assert!((0.45..0.55).contains(&ratio), "ratio {ratio}");
    }
}

#[test]
fn remez_result_equioscillates_and_cannot_be_improved_locally() {
    for (degree, lo) in [(7usize, 1.0 / 16.0), (15, 1.0 / 64.0), (27, 0.5)] {
        let r = odd_minimax(|_| 1.0, degree, lo, 1.0).unwrap();
        let n = degree.div_ceil(2);
        assert_eq!(r.reference.len(), n + 1);
        for pair in r.reference_errors.windows(2) {
            assert!(
                pair[0] * pair[1] < 0.0,
                "degree {degree}: signs do not alternate"
            );
        }
        let mags: Vec<f64> = r.reference_errors.iter().map(|e| e.abs()).collect();
        let (lo_mag, hi_mag) = mags
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &m| (a.min(m), b.max(m)));
        assert!(
            (hi_mag - lo_mag) / hi_mag < 1e-6,
            "degree {degree}: {mags:?}"
        );
        let on_set = |coeffs: &[f64]| {
            (0..=50_000)
                .map(|k| lo + (1.0 - lo) * k as f64 / 50_000.0)
                .map(|t| (clenshaw(coeffs, t) - 1.0).abs())
                .fold(0.0, f64::max)
        };
        let measured = on_set(&r.coeffs);
        assert!(
            measured <= r.error * (1.0 + 1e-6),
            "degree {degree}: {measured:e}"
        );
        assert!(measured >= lo_mag * (1.0 - 1e-6));
        assert!(r.coeffs.iter().step_by(2).all(|&c| c == 0.0), "odd");
        for k in (1..=degree).step_by(2) {
            for delta in [1e-3, -1e-3] {
                let mut other = r.coeffs.clone();
                other[k] += delta * r.error;
                assert!(on_set(&other) > measured, "perturbing c_{k} helped");
            }
        }
    }
}

#[test]
fn relu_errors_at_the_chosen_degrees() {
    // Chebyshev interpolation of ReLU on [−B, B] errs most at the kink, by B/(2(d+1)) for
    // odd d (measured; the `abs` test above bounds it analytically).
    for bound in [1.0, 4.0] {
        let interval = Interval::symmetric(bound).unwrap();
        for degree in [31usize, 63, 127, 255] {
            let a = ActivationApprox::chebyshev(
                Activation::Relu,
                interval,
                degree,
                PlanObjective::FewestProducts,
                InputMap::Folded,
            )
            .unwrap();
            let expected = bound / (2.0 * (degree + 1) as f64);
            let ratio = a.error.max_abs / expected;
            assert!(
                (0.99..1.07).contains(&ratio),
                "d={degree} B={bound}: {ratio}"
            );
            assert!((a.error.max_rel - a.error.max_abs / bound).abs() < 1e-15);
            assert!(a.error.mean_abs < a.error.max_abs / 10.0);
        }
    }
    // The composite sign: ReLU error at most ε·B near 0 and B·τ/2 away from it.
    let interval = Interval::symmetric(2.0).unwrap();
    let eps = 1.0 / 64.0;
    let build = |map| {
        ActivationApprox::composite_relu(
            interval,
            eps,
            &[7, 7, 7, 7],
            PlanObjective::LeastDepth,
            map,
        )
        .unwrap()
    };
    let a = build(InputMap::Emitted);
    assert!(a.error.max_abs <= eps * 2.0, "{:e}", a.error.max_abs);
    assert!(a.error.max_abs > 1e-5, "suspiciously exact");
    assert_eq!(
        a.depth,
        4 * 3 + 1 + 1,
        "Σ⌈log2(d_i+1)⌉, the scaling by 1/B, the product by x"
    );
    let folded = build(InputMap::Folded);
    assert_eq!(folded.depth, a.depth - 1, "a folded map costs no level");
    assert!((folded.error.max_abs - a.error.max_abs).abs() < 1e-12);
}

#[test]
fn the_evaluator_equals_direct_clenshaw() {
    let interval = Interval::new(-3.0, 5.0).unwrap();
    let (alpha, beta) = interval.to_unit();
    for activation in [Activation::Relu, Activation::Sigmoid, Activation::Silu] {
        let a = ActivationApprox::chebyshev(
            activation,
            interval,
            95,
            PlanObjective::FewestProducts,
            InputMap::Emitted,
        )
        .unwrap();
        let circuit = a.circuit().unwrap();
        for k in 0..=200 {
            let x = -3.0 + 8.0 * k as f64 / 200.0;
            let direct = clenshaw(&a.stages[0].coeffs, alpha * x + beta);
            assert!(
                (circuit.eval(x) - direct).abs() < 1e-12,
                "{activation} at {x}"
            );
        }
    }
    let symmetric = Interval::symmetric(3.0).unwrap();
    let eps = 1.0 / 32.0;
    let a = ActivationApprox::composite_relu(
        symmetric,
        eps,
        &[7, 15],
        PlanObjective::FewestProducts,
        InputMap::Folded,
    )
    .unwrap();
    let stages = composite_step(eps, &[7, 15]).unwrap();
    let mut xs: Vec<f64> = (0..=300).map(|k| -3.0 + 6.0 * k as f64 / 300.0).collect();
    let expected: Vec<f64> = xs
        .iter()
        .map(|&x| x * stages.stages.iter().fold(x / 3.0, |t, c| clenshaw(c, t)))
        .collect::<Vec<f64>>()
        .into_iter()
        .collect();
    a.eval_slice(&mut xs).unwrap();
    for (got, want) in xs.iter().zip(&expected) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
}

fn range(min: f64, max: f64) -> CalibratedRange {
    CalibratedRange {
        min,
        max,
        abs_percentile: Some(Percentile {
            q: 0.999,
            value: 0.5 * max,
        }),
    }
}

#[test]
fn the_chooser_takes_the_shallowest_candidate_that_meets_the_target() {
    let options = ChooserOptions::default();
    let choice = choose(Activation::Relu, &range(-3.8, 3.1), &options).unwrap();
    let a = &choice.approx;
    assert!(choice.meets_target);
    assert_eq!(a.interval, Interval::symmetric(3.8 * 1.25).unwrap());
    assert!(a.error.max_rel <= options.target_rel_error);
    assert!(a.depth <= options.max_depth);
    for c in &choice.candidates {
        if c.max_rel <= options.target_rel_error {
            assert!(
                (c.depth, c.ct_mults) >= (a.depth, a.ct_mults),
                "{c:?} beats the choice"
            );
        }
    }
    assert_eq!(choice.calibration_outside_at_most, 0.0);

    let tight = ChooserOptions {
        target_rel_error: 1e-6,
        ..ChooserOptions::default()
    };
    let best_effort = choose(Activation::Relu, &range(-1.0, 1.0), &tight).unwrap();
    assert!(
        !best_effort.meets_target,
        "1e-6 is out of reach within depth 9"
    );
    let most_accurate = best_effort
        .candidates
        .iter()
        .map(|c| c.max_rel)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(best_effort.approx.error.max_rel, most_accurate);

    let deep = ChooserOptions {
        max_depth: 20,
        ..ChooserOptions::default()
    };
    let choice = choose(Activation::Relu, &range(-1.0, 1.0), &deep).unwrap();
    assert!(
        choice
            .candidates
            .iter()
            .any(|c| matches!(c.method, Method::CompositeSign { .. })),
        "composite candidates are considered when deep enough"
    );
}

#[test]
fn the_chooser_reports_what_it_cannot_do() {
    let shallow = ChooserOptions {
        max_depth: 2,
        ..ChooserOptions::default()
    };
    assert!(matches!(
        choose(Activation::Relu, &range(-1.0, 1.0), &shallow),
        Err(PolyError::NothingFits { max_depth: 2, .. })
    ));
    let percentile = ChooserOptions {
        bound: BoundSource::Percentile,
        ..ChooserOptions::default()
    };
    let choice = choose(Activation::Sigmoid, &range(-4.0, 4.0), &percentile).unwrap();
    assert_eq!(choice.approx.interval, Interval::symmetric(2.5).unwrap());
    assert!((choice.calibration_outside_at_most - 0.001).abs() < 1e-12);
    for bad in [range(f64::NAN, 1.0), range(2.0, 1.0), range(0.0, 0.0)] {
        assert!(choose(Activation::Relu, &bad, &ChooserOptions::default()).is_err());
    }
    let no_margin = ChooserOptions {
        margin: 0.5,
        ..ChooserOptions::default()
    };
    let err = choose(Activation::Relu, &range(-1.0, 1.0), &no_margin).unwrap_err();
    assert!(err.to_string().contains("margin 0.5"), "{err}");
}

#[test]
fn out_of_range_inputs_are_counted() {
    let interval = Interval::symmetric(2.0).unwrap();
    let mut report = RangeReport::default();
    report.record(&interval, &[0.0, 1.9, -2.0, 2.5, -3.0]);
    assert_eq!((report.total, report.outside), (5, 2));
    assert!((report.fraction() - 0.4).abs() < 1e-15);
    assert_eq!(report.worst_ratio, 1.5);
    let mut other = RangeReport::default();
    other.record(&interval, &[0.5, 4.0]);
    report.merge(&other);
    assert_eq!(
        (report.total, report.outside, report.worst_ratio),
        (7, 3, 2.0)
    );
}

#[test]
fn approximations_survive_serialization() {
    let choice = choose(
        Activation::Relu,
        &range(-2.0, 2.0),
        &ChooserOptions::default(),
    )
    .unwrap();
    let text = ron::to_string(&choice).unwrap();
    let back: fhec_compiler::poly::Choice = ron::from_str(&text).unwrap();
    assert_eq!(back, choice);
    let (c1, c2) = (
        choice.approx.circuit().unwrap(),
        back.approx.circuit().unwrap(),
    );
    for x in [-2.4, -0.3, 0.0, 0.01, 1.9] {
        assert_eq!(c1.eval(x).to_bits(), c2.eval(x).to_bits());
    }
    back.approx.check().unwrap();
    let mut broken = choice.approx.clone();
    broken.stages[0].coeffs[1] = f64::NAN;
    assert!(broken.circuit().is_err());
    let mut empty = choice.approx.clone();
    empty.stages.clear();
    assert!(empty.check().is_err());
    let mut stale = choice.approx.clone();
    stale.depth += 1;
    let err = stale.check().unwrap_err().to_string();
    assert!(err.contains("records depth"), "{err}");
}

#[test]
fn the_default_relu_choice_is_the_measured_degree_247_at_depth_8() {
    let choice = choose(
        Activation::Relu,
        &range(-4.0, 4.0),
        &ChooserOptions::default(),
    )
    .unwrap();
    assert_eq!(choice.approx.method, Method::Chebyshev { degree: 247 });
    assert_eq!((choice.approx.depth, choice.approx.ct_mults), (8, 26));
}
