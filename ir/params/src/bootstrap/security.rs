//! The two probabilistic facts behind a bootstrap's parameters: the sparse-secret security
//! table for the ephemeral key, and the probability that EvalMod's input leaves [−K, K]
//! (plan §1.1, §2.4; BTH22).

/// Failure probability EvalMod's range must reach: P[some coefficient leaves [−K, K]] ≤ 2^-128
/// (K = 16 with h = 32 gives 2^-138.7 at 2^15 slots, Lattigo's documented figure).
pub const MAX_FAILURE_LOG2: f64 = -128.0;

/// The sparse-secret security table: the largest log2 of the modulus under which one RLWE
/// sample with a secret of Hamming weight h is estimated 128-bit secure at N = 2^log_n.
/// Only Lattigo's documented point is known: h = 32, N = 2^16, 121 bits (q0 of 60 bits and one
/// 61-bit special prime; `EphemeralSecretWeight` in Lattigo's bootstrapping parameters). OpenFHE
/// uses 126 bits at the same point (PR #1248); we keep the more conservative figure.
const SPARSE_BOUND: [(u32, usize, u32); 1] = [(16, 32, 121)];

/// The largest log2(modulus) for one sample under a Hamming-weight-`h` secret at N = 2^log_n,
/// or `None` when no estimate is recorded (the caller must then opt in to insecure parameters).
pub fn sparse_bound(log_n: u32, hamming_weight: usize) -> Option<u32> {
    SPARSE_BOUND
        .iter()
        .find(|(n, h, _)| *n == log_n && *h == hamming_weight)
        .map(|(_, _, bound)| *bound)
}

/// log2 of the probability that at least one of `coefficients` coefficients of the ModRaise
/// overflow leaves [−K, K] (union bound).
///
/// After ModRaise, coefficient j of c0 + c1·s is Δ·m_j + q0·x_j with x_j = (c0_j + Σ ±c1)/q0 a
/// sum of h + 1 independent uniforms on [−1/2, 1/2) (the secret's h non-zero ±1 entries pick
/// h coefficients of c1): an Irwin–Hall variable (BTH22 eq. (1)). P[|x| > K] = 2·F(n/2 − K)
/// with n = h + 1 and F(t) = (1/n!) Σ_{k ≤ t} (−1)^k C(n, k) (t − k)^n, computed in the log
/// domain; for t > n/4 (many cancelling terms) the central-limit estimate with variance n/12 is
/// used instead. Returns −∞ when K ≥ n/2 (the sum cannot leave the range).
pub fn rounding_failure_log2(hamming_weight: usize, k: u32, coefficients: usize) -> f64 {
    let n = hamming_weight + 1;
    let t = n as f64 / 2.0 - f64::from(k);
    if t <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let union = (2.0 * coefficients as f64).log2();
    if t > n as f64 / 4.0 {
        let sigma = (n as f64 / 12.0).sqrt();
        return union + gaussian_tail_log2(f64::from(k) / sigma);
    }
    let ln_factorial = |m: usize| (2..=m).map(|i| (i as f64).ln()).sum::<f64>();
    let ln_n_factorial = ln_factorial(n);
    let first = n as f64 * t.ln() - ln_n_factorial;
    let mut sum = 0.0;
    let mut k_term = 0usize;
    while (k_term as f64) < t {
        let ln_binomial = ln_n_factorial - ln_factorial(k_term) - ln_factorial(n - k_term);
        let ln_term = ln_binomial + n as f64 * (t - k_term as f64).ln() - ln_n_factorial;
        let sign = if k_term.is_multiple_of(2) { 1.0 } else { -1.0 };
        sum += sign * (ln_term - first).exp();
        k_term += 1;
    }
    union + (first + sum.ln()) / std::f64::consts::LN_2
}

/// log2 of P[Z > z] for a standard normal Z (z ≥ 0), from the asymptotic expansion
/// φ(z)/z·(1 − 1/z² + 3/z⁴) for z ≥ 3 and numerical integration of the density below.
fn gaussian_tail_log2(z: f64) -> f64 {
    if z >= 3.0 {
        let ln_density = -z * z / 2.0 - 0.5 * (2.0 * std::f64::consts::PI).ln();
        let correction = 1.0 - 1.0 / (z * z) + 3.0 / z.powi(4);
        (ln_density - z.ln() + correction.ln()) / std::f64::consts::LN_2
    } else {
        // Below 3σ the probability is above 2^-10: integrate the density numerically.
        let steps = 4000;
        let upper = 12.0;
        let h = (upper - z) / steps as f64;
        let density = |x: f64| (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let integral: f64 = (0..steps)
            .map(|i| density(z + (i as f64 + 0.5) * h) * h)
            .sum();
        integral.log2()
    }
}

/// The smallest K whose failure probability over `coefficients` coefficients is at most
/// 2^[`MAX_FAILURE_LOG2`] for the Hamming weight `hamming_weight` (16 for h = 32).
pub fn k_for_hamming_weight(hamming_weight: usize, coefficients: usize) -> u32 {
    (1..)
        .find(|&k| rounding_failure_log2(hamming_weight, k, coefficients) <= MAX_FAILURE_LOG2)
        .expect("K = (h + 1)/2 always suffices")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irwin_hall_tail_matches_the_published_figures() {
        // Lattigo: h = 32, K = 16, 2^15 slots (2^16 coefficients): 2^-138.7.
        let failure = rounding_failure_log2(32, 16, 1 << 16);
        assert!((failure + 138.7).abs() < 0.1, "{failure}");
        // OpenFHE PR #1318: below 2^-137 for 2^16 slots.
        assert!(rounding_failure_log2(32, 16, 1 << 17) < -137.0);
        assert_eq!(k_for_hamming_weight(32, 1 << 17), 16);
        // K ≥ (h + 1)/2: impossible to leave the range.
        assert_eq!(rounding_failure_log2(32, 17, 1 << 17), f64::NEG_INFINITY);
        // Smaller K: much likelier; the tail is monotone.
        let mut previous = f64::NEG_INFINITY;
        for k in (1..=16).rev() {
            let f = rounding_failure_log2(32, k, 1 << 17);
            assert!(f >= previous, "K = {k}");
            previous = f;
        }
        // Exact Irwin–Hall values (computed independently with 50-digit arithmetic).
        for (h, k, coefficients, exact) in [(32, 15, 1 << 17, -85.404), (64, 28, 1 << 17, -142.972)]
        {
            let got = rounding_failure_log2(h, k, coefficients);
            assert!(
                (got - exact).abs() < 0.01,
                "h = {h}, K = {k}: {got} vs {exact}"
            );
        }
        // Central-limit branch: h = 192, K = 28 (the sparse-main-key case of plan §1.2, exact
        // −23.22 at 2^16 coefficients) within 1.5 bits; a dense key (h ≈ 2N/3 at N = 2^16) at
        // K = 512 (OpenFHE's dense K): 2^-38.4, far from 2^-128.
        let sparse_main = rounding_failure_log2(192, 28, 1 << 16);
        assert!((sparse_main + 23.22).abs() < 1.5, "{sparse_main}");
        let dense = rounding_failure_log2(43_690, 512, 1 << 17);
        assert!((dense + 38.37).abs() < 0.1, "{dense}");
    }

    #[test]
    fn sparse_table_holds_the_documented_point_only() {
        assert_eq!(sparse_bound(16, 32), Some(121));
        assert_eq!(sparse_bound(16, 64), None);
        assert_eq!(sparse_bound(15, 32), None);
    }
}
