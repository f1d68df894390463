//! The factored special FFT as diagonal matrices, in the clear: the numeric side of
//! [`fhec_params::DftPlan`], whose factors, diagonal indices and slot spaces it follows exactly.
//!
//! The butterfly layers are those of `encoding/fft.rs`: decoding `V = B_(log n) ⋯ B_1 · P`
//! (P the bit-reversal), encoding `V⁻¹ = (1/n) · P · B'_1 ⋯ B'_(log n)` with `B'_s = 2·B_s⁻¹`.
//! The homomorphic transforms drop P, so
//!
//! - CoeffToSlot's factors multiply to `c · P·V⁻¹`: slot j receives c times the folded
//!   coefficient w_(brv(j)) = m_(brv(j)) + i·m_(brv(j)+n) of the message;
//! - SlotToCoeff's factors multiply to `c · V·P`: slot j of the input is read as w_(brv(j)).
//!
//! For sparse slots the last CoeffToSlot factor lives in 2n slots with its upper half zeroed,
//! and the first SlotToCoeff factor starts with the repack matrix (2n real slots
//! [re | im] → n complex slots re + i·im). The constant c is spread evenly over the factors
//! (its |c|^(1/t) on each, the sign on the first), so no factor's entries grow or shrink much.

use crate::encoding::C64;
use fhec_params::{DftDirection, DftFactor, DftPlan};
use std::collections::BTreeMap;

/// A square matrix over m slots given by its non-zero diagonals: entry (j, (j + k) mod m) is
/// `diagonals[k][j]`, so `(M·z)[j] = Σ_k diagonals[k][j] · z[(j + k) mod m]`, which is what
/// a rotation by k followed by a slot-wise product computes homomorphically.
#[derive(Clone, Debug, PartialEq)]
pub struct DiagonalMatrix {
    slots: usize,
    diagonals: BTreeMap<usize, Vec<C64>>,
}

impl DiagonalMatrix {
    /// The identity on `slots` slots.
    pub fn identity(slots: usize) -> Self {
        Self::from_diagonals(
            slots,
            BTreeMap::from([(0, vec![C64::new(1.0, 0.0); slots])]),
        )
    }

    /// A matrix from its diagonals (indices taken mod `slots`).
    ///
    /// # Panics
    /// If a diagonal's length is not `slots` (a programmer error).
    pub fn from_diagonals(slots: usize, diagonals: BTreeMap<usize, Vec<C64>>) -> Self {
        let mut matrix = Self {
            slots,
            diagonals: BTreeMap::new(),
        };
        for (k, diagonal) in diagonals {
            assert_eq!(diagonal.len(), slots, "diagonal {k} has the wrong length");
            matrix.add_to(k, &diagonal);
        }
        matrix
    }

    /// The slot count m.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// The diagonals by index in `[0, m)`.
    pub fn diagonals(&self) -> &BTreeMap<usize, Vec<C64>> {
        &self.diagonals
    }

    fn add_to(&mut self, k: usize, values: &[C64]) {
        let m = self.slots;
        let entry = self
            .diagonals
            .entry(k % m)
            .or_insert_with(|| vec![C64::default(); m]);
        for (e, &v) in entry.iter_mut().zip(values) {
            *e = *e + v;
        }
    }

    /// `self · before` (apply `before` first).
    ///
    /// # Panics
    /// If the slot counts differ.
    pub fn after(&self, before: &DiagonalMatrix) -> DiagonalMatrix {
        assert_eq!(self.slots, before.slots, "slot spaces differ");
        let m = self.slots;
        let mut out = Self {
            slots: m,
            diagonals: BTreeMap::new(),
        };
        // (A·B)[j][j+a+b] = A_a[j] · B_b[j+a].
        for (&a, outer) in &self.diagonals {
            for (&b, inner) in &before.diagonals {
                let product: Vec<C64> = (0..m).map(|j| outer[j] * inner[(j + a) % m]).collect();
                out.add_to(a + b, &product);
            }
        }
        out
    }

    /// Multiplies every entry by `factor`.
    pub fn scale(&mut self, factor: f64) {
        for diagonal in self.diagonals.values_mut() {
            for v in diagonal.iter_mut() {
                *v = v.scale(factor);
            }
        }
    }

    /// `M · z` in the clear.
    pub fn apply(&self, z: &[C64]) -> Vec<C64> {
        let m = self.slots;
        assert_eq!(z.len(), m, "vector of the wrong length");
        let mut out = vec![C64::default(); m];
        for (&k, diagonal) in &self.diagonals {
            for (j, o) in out.iter_mut().enumerate() {
                *o = *o + diagonal[j] * z[(j + k) % m];
            }
        }
        out
    }

    /// The same map on a space of `slots` ≥ m slots, for inputs that are m-periodic there:
    /// diagonal k keeps its index and repeats with period m.
    fn periodic(&self, slots: usize) -> DiagonalMatrix {
        let diagonals = self
            .diagonals
            .iter()
            .map(|(&k, d)| (k, (0..slots).map(|j| d[j % self.slots]).collect()))
            .collect();
        Self::from_diagonals(slots, diagonals)
    }
}

/// `e^(2πi·(5^j mod 8h)/(8h))` for j < h: the twiddles of the layer of half-distance h.
fn twiddles(h: usize) -> Vec<C64> {
    let order = 8 * h;
    let mut power = 1usize;
    (0..h)
        .map(|_| {
            let root = C64::from_angle(2.0 * std::f64::consts::PI * power as f64 / order as f64);
            power = power * 5 % order;
            root
        })
        .collect()
}

/// One butterfly layer of half-distance `h` on n slots: decoding's `B` (u + r·v, u − r·v) or
/// encoding's `B'` (u + v, (u − v)·r̄).
fn butterfly_layer(n: usize, h: usize, direction: DftDirection) -> DiagonalMatrix {
    let mut diagonals: BTreeMap<usize, Vec<C64>> = BTreeMap::new();
    let one = C64::new(1.0, 0.0);
    let mut set = |k: usize, p: usize, v: C64| {
        let diagonal = diagonals
            .entry(k % n)
            .or_insert_with(|| vec![C64::default(); n]);
        diagonal[p] = diagonal[p] + v;
    };
    let roots = twiddles(h);
    for p in 0..n {
        let j = p % (2 * h);
        if j < h {
            let root = roots[j];
            set(0, p, one);
            match direction {
                DftDirection::SlotToCoeff => set(h, p, root),
                DftDirection::CoeffToSlot => set(h, p, one),
            }
        } else {
            let root = roots[j - h];
            match direction {
                DftDirection::SlotToCoeff => {
                    set(n - h, p, one);
                    set(0, p, C64::new(-root.re, -root.im));
                }
                DftDirection::CoeffToSlot => {
                    set(n - h, p, root.conj());
                    set(0, p, C64::new(-root.re, root.im));
                }
            }
        }
    }
    DiagonalMatrix::from_diagonals(n, diagonals)
}

/// The repack matrix on 2n slots: slot j ← slot (j mod n) + i·slot (j mod n) + n.
fn repack(n: usize) -> DiagonalMatrix {
    let one = C64::new(1.0, 0.0);
    let i = C64::new(0.0, 1.0);
    let low_high =
        |a: C64, b: C64| -> Vec<C64> { (0..2 * n).map(|j| if j < n { a } else { b }).collect() };
    DiagonalMatrix::from_diagonals(
        2 * n,
        BTreeMap::from([(0, low_high(one, i)), (n, low_high(i, one))]),
    )
}

/// The numeric matrix of one planned factor (without constants).
fn factor_matrix(plan: &DftPlan, factor: &DftFactor, direction: DftDirection) -> DiagonalMatrix {
    let n = plan.slots();
    let mut product = if factor.repack {
        repack(n)
    } else {
        DiagonalMatrix::identity(n)
    };
    for &log_h in &factor.layers {
        let layer = butterfly_layer(n, 1 << log_h, direction);
        let layer = if factor.repack {
            layer.periodic(2 * n)
        } else {
            layer
        };
        product = layer.after(&product);
    }
    if factor.keep_lower_half {
        // Rows ≥ n become zero; index k > n/2 is renamed k + n (same action on n-periodic
        // inputs), as the plan names it.
        let diagonals = product
            .diagonals
            .into_iter()
            .map(|(k, d)| {
                let lifted = if k > n / 2 { k + n } else { k };
                let mut values = d;
                values.resize(2 * n, C64::default());
                (lifted, values)
            })
            .collect();
        product = DiagonalMatrix::from_diagonals(2 * n, diagonals);
    }
    product
}

/// The factors of one transform as numeric matrices, in the order they are applied, whose
/// product is `constant` times the transform (see the module documentation).
///
/// # Panics
/// If a computed matrix's diagonals differ from the plan's (a bug in one of the two).
pub fn factor_matrices(
    plan: &DftPlan,
    direction: DftDirection,
    constant: f64,
) -> Vec<DiagonalMatrix> {
    let factors = plan.factors(direction);
    let normalisation = match direction {
        DftDirection::CoeffToSlot => 1.0 / plan.slots() as f64,
        DftDirection::SlotToCoeff => 1.0,
    };
    let total = constant * normalisation;
    let share = total.abs().powf(1.0 / factors.len() as f64);
    factors
        .iter()
        .enumerate()
        .map(|(i, factor)| {
            let mut matrix = factor_matrix(plan, factor, direction);
            let keys: Vec<usize> = matrix.diagonals.keys().copied().collect();
            assert_eq!(keys, factor.diagonals, "factor {i} of {direction:?}");
            let sign = if i == 0 && total < 0.0 { -1.0 } else { 1.0 };
            matrix.scale(sign * share);
            matrix
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::SpecialFft;

    fn random_vector(len: usize, state: &mut u64) -> Vec<C64> {
        let mut next = || {
            *state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        (0..len).map(|_| C64::new(next(), next())).collect()
    }

    fn bit_reversed(values: &[C64]) -> Vec<C64> {
        let n = values.len();
        let bits = n.trailing_zeros();
        (0..n)
            .map(|j| {
                values[if bits == 0 {
                    0
                } else {
                    j.reverse_bits() >> (usize::BITS - bits)
                }]
            })
            .collect()
    }

    fn max_error(a: &[C64], b: &[C64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (*x - *y).abs())
            .fold(0.0, f64::max)
    }

    /// Test 1 of the plan: the factors multiply to the special FFT of `encoding/fft.rs`, both
    /// directions, full and sparse slots, every level budget, constants included.
    #[test]
    fn factors_multiply_to_the_special_fft() {
        let log_n = 10;
        let fft = SpecialFft::new(1 << log_n);
        let mut state = 11;
        for log_slots in [1, 2, 5, 8, 9] {
            let n = 1usize << log_slots;
            for levels in 1..=log_slots {
                let plan = DftPlan::new(log_n, log_slots, levels, levels, 1).unwrap();
                let z = random_vector(n, &mut state);
                // CoeffToSlot: slot j ← 3 · w_(brv j).
                let mut expected = z.clone();
                fft.slots_to_coefficients(&mut expected);
                let expected: Vec<C64> = bit_reversed(&expected)
                    .iter()
                    .map(|w| w.scale(3.0))
                    .collect();
                let mut got = z.clone();
                for matrix in factor_matrices(&plan, DftDirection::CoeffToSlot, 3.0) {
                    if got.len() < matrix.slots() {
                        got = (0..matrix.slots()).map(|j| got[j % n]).collect();
                    }
                    got = matrix.apply(&got);
                }
                if plan.is_sparse() {
                    assert!(
                        got[n..].iter().all(|v| v.abs() < 1e-12),
                        "upper half not zero"
                    );
                }
                let error = max_error(&got[..n], &expected);
                assert!(error < 1e-12, "C2S n={n} t={levels}: {error:e}");

                // SlotToCoeff: input w in bit-reversed order (packed as [re | im] when sparse).
                let w = random_vector(n, &mut state);
                let mut expected = w.clone();
                fft.coefficients_to_slots(&mut expected);
                let expected: Vec<C64> = expected.iter().map(|v| v.scale(-0.5)).collect();
                let input = bit_reversed(&w);
                let mut got: Vec<C64> = if plan.is_sparse() {
                    input
                        .iter()
                        .map(|v| C64::new(v.re, 0.0))
                        .chain(input.iter().map(|v| C64::new(v.im, 0.0)))
                        .collect()
                } else {
                    input
                };
                for matrix in factor_matrices(&plan, DftDirection::SlotToCoeff, -0.5) {
                    got = matrix.apply(&got);
                    if got.len() > n {
                        // The repacked output is n-periodic: keep one period.
                        assert!(max_error(&got[..n], &got[n..]) < 1e-12);
                        got.truncate(n);
                    }
                }
                let error = max_error(&got, &expected);
                assert!(error < 1e-12, "S2C n={n} t={levels}: {error:e}");
            }
        }
    }

    #[test]
    fn composition_matches_sequential_application() {
        let mut state = 5;
        let n = 16;
        let a = butterfly_layer(n, 4, DftDirection::SlotToCoeff);
        let b = butterfly_layer(n, 2, DftDirection::CoeffToSlot);
        let z = random_vector(n, &mut state);
        let error = max_error(&a.after(&b).apply(&z), &a.apply(&b.apply(&z)));
        assert!(error < 1e-14);
    }
}
