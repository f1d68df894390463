//! The ReLU cost/error table of `docs/activations.md` is recomputed here: the test fails when
//! the documented figures no longer match the code. `FHEC_PRINT_TABLE=1` prints the rows.

use fhec_compiler::poly::chebyshev::Interval;
use fhec_compiler::poly::{Activation, ActivationApprox, InputMap, Method, PlanObjective};

fn row(a: &ActivationApprox) -> String {
    let (method, degrees) = match &a.method {
        Method::Chebyshev { degree } => ("Chebyshev".to_string(), degree.to_string()),
        Method::CompositeSign { epsilon, degrees } => (
            format!("composite sign, ε = 2^{}", epsilon.log2()),
            format!("{degrees:?}"),
        ),
    };
    let plan = match a.objective {
        PlanObjective::LeastDepth => "least depth",
        PlanObjective::FewestProducts => "fewest products",
    };
    let babies: Vec<String> = a
        .stages
        .iter()
        .map(|s| format!("{}", 1 << s.baby_log))
        .collect();
    format!(
        "| {method} | {degrees} | {plan} | {} | {} | {} | {:.2e} | {:.2e} |",
        babies.join(", "),
        a.depth,
        a.ct_mults,
        a.error.max_abs,
        a.error.mean_abs
    )
}

#[test]
fn documented_relu_table_matches_the_code() {
    let unit = Interval::symmetric(1.0).unwrap();
    let objectives = [PlanObjective::LeastDepth, PlanObjective::FewestProducts];
    let mut rows = Vec::new();
    for degree in [15, 31, 59, 63, 119, 127, 247, 255, 495, 511] {
        for objective in objectives {
            let a = ActivationApprox::chebyshev(
                Activation::Relu,
                unit,
                degree,
                objective,
                InputMap::Folded,
            )
            .unwrap();
            rows.push(row(&a));
        }
    }
    for (log_eps, degrees) in [
        (-6, vec![7, 7, 7, 7]),
        (-8, vec![15, 15, 15]),
        (-10, vec![15, 15, 27]),
    ] {
        for objective in objectives {
            let a = ActivationApprox::composite_relu(
                unit,
                2f64.powi(log_eps),
                &degrees,
                objective,
                InputMap::Folded,
            )
            .unwrap();
            rows.push(row(&a));
        }
    }
    rows.dedup();
    if std::env::var_os("FHEC_PRINT_TABLE").is_some() {
        println!("{}", rows.join("\n"));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/activations.md");
    let doc = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let missing: Vec<&String> = rows.iter().filter(|r| !doc.contains(r.as_str())).collect();
    assert!(
        missing.is_empty(),
        "docs/activations.md lacks (or has other figures for) these rows:\n{}",
        missing
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
