//! Exact CKKS scales.
//!
//! A scale is kept as `2^e · ∏ q_i^{k_i}` with integer exponents over the *symbolic* primes
//! `q0..qL` of the modulus chain (`q_i` is the prime dropped by a rescale at level `i`). The IR
//! never needs the primes' values: multiplication adds exponents, a rescale at level `l`
//! subtracts one from the exponent of `q_l`, and two scales are equal only when every exponent
//! is. The runtime binds each `q_i` to its actual prime, so its scale and the IR's agree exactly
//! however long the chain (a `log2` kept as `f64` drifts: DESIGN §3).
//!
//! The canonical text form lists the numerator then each denominator factor after a `/`:
//! `2^40`, `2^80/q11`, `2^40*q3/q11^2/q12`, `1/q5`, `1`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// An exact scale `2^e · ∏ q_i^{k_i}`; see the module documentation.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Scale {
    pow2: i32,
    /// Exponent of each chain prime, by prime index; zero exponents are never stored.
    primes: BTreeMap<u32, i32>,
}

impl Scale {
    /// The scale 1 (an integer constant).
    pub fn one() -> Self {
        Self::default()
    }

    /// The scale `2^exponent`, the usual encoding scale.
    pub fn pow2(exponent: i32) -> Self {
        Self {
            pow2: exponent,
            primes: BTreeMap::new(),
        }
    }

    /// The scale `q_index`, used to encode a constant so that a following rescale cancels it.
    pub fn prime(index: u32) -> Self {
        Self::one().with_prime(index, 1)
    }

    /// This scale multiplied by `q_index^exponent` (the exponent saturates at the `i32` range).
    pub fn with_prime(mut self, index: u32, exponent: i32) -> Self {
        let entry = self.primes.entry(index).or_insert(0);
        *entry = entry.saturating_add(exponent);
        if *entry == 0 {
            self.primes.remove(&index);
        }
        self
    }

    /// The exponent of two.
    pub fn pow2_exponent(&self) -> i32 {
        self.pow2
    }

    /// The non-zero prime exponents `(index, exponent)`, by increasing index.
    pub fn prime_exponents(&self) -> impl Iterator<Item = (u32, i32)> + '_ {
        self.primes.iter().map(|(&i, &k)| (i, k))
    }

    /// The product of two scales (a multiplication of two encoded values), or `None` if an
    /// exponent leaves the `i32` range.
    pub fn checked_mul(&self, other: &Scale) -> Option<Scale> {
        let mut out = self.clone();
        out.pow2 = out.pow2.checked_add(other.pow2)?;
        for (&index, &k) in &other.primes {
            let entry = out.primes.entry(index).or_insert(0);
            *entry = entry.checked_add(k)?;
            if *entry == 0 {
                out.primes.remove(&index);
            }
        }
        Some(out)
    }

    /// The quotient `self / other`, or `None` if an exponent leaves the `i32` range (passes
    /// use it to find the encoding scale that turns one exact scale into another).
    pub fn checked_div(&self, other: &Scale) -> Option<Scale> {
        self.checked_mul(&other.checked_inverse()?)
    }

    /// `1 / self`, or `None` if an exponent is `i32::MIN`.
    pub fn checked_inverse(&self) -> Option<Scale> {
        Some(Scale {
            pow2: self.pow2.checked_neg()?,
            primes: self
                .primes
                .iter()
                .map(|(&i, &k)| Some((i, k.checked_neg()?)))
                .collect::<Option<_>>()?,
        })
    }

    /// `self^exponent`, or `None` if an exponent leaves the `i32` range.
    pub fn checked_pow(&self, exponent: u32) -> Option<Scale> {
        let e = i32::try_from(exponent).ok()?;
        if e == 0 {
            return Some(Scale::one());
        }
        Some(Scale {
            pow2: self.pow2.checked_mul(e)?,
            primes: self
                .primes
                .iter()
                .map(|(&i, &k)| Some((i, k.checked_mul(e)?)))
                .collect::<Option<_>>()?,
        })
    }

    /// The scale after a rescale at `level`: divided by `q_level`.
    pub fn rescaled_at(&self, level: u32) -> Option<Scale> {
        self.checked_mul(&Scale::one().with_prime(level, -1))
    }

    /// `log2` of the scale once every `q_i` is bound to a prime of `log2(q_i) = prime_log2(i)`:
    /// for estimates and reports only, never for equality.
    pub fn log2_with(&self, prime_log2: impl Fn(u32) -> f64) -> f64 {
        self.primes
            .iter()
            .fold(f64::from(self.pow2), |acc, (&i, &k)| {
                acc + f64::from(k) * prime_log2(i)
            })
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut numerator = Vec::new();
        let mut denominator = Vec::new();
        if self.pow2 > 0 {
            numerator.push(format!("2^{}", self.pow2));
        } else if self.pow2 < 0 {
            denominator.push(format!("2^{}", -i64::from(self.pow2)));
        }
        for (&index, &k) in &self.primes {
            let (list, power) = if k > 0 {
                (&mut numerator, i64::from(k))
            } else {
                (&mut denominator, -i64::from(k))
            };
            list.push(if power == 1 {
                format!("q{index}")
            } else {
                format!("q{index}^{power}")
            });
        }
        if numerator.is_empty() {
            f.write_str("1")?;
        } else {
            f.write_str(&numerator.join("*"))?;
        }
        for factor in denominator {
            write!(f, "/{factor}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Scale {
    type Err = String;

    /// Parses any product/quotient of the factors `1`, `2`, `2^e`, `q_i`, `q_i^k` (read left
    /// to right, `a/b*c` = `(a/b)·c`); the result is canonical whatever the order written.
    fn from_str(text: &str) -> Result<Self, String> {
        crate::parser::parse_scale(text)
    }
}

impl From<Scale> for String {
    fn from(scale: Scale) -> String {
        scale.to_string()
    }
}

impl TryFrom<String> for Scale {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(scale: &Scale, text: &str) {
        assert_eq!(scale.to_string(), text);
        assert_eq!(&text.parse::<Scale>().unwrap(), scale, "parsing {text}");
    }

    #[test]
    fn canonical_forms() {
        check(&Scale::pow2(40), "2^40");
        check(&Scale::one(), "1");
        check(&Scale::pow2(80).rescaled_at(11).unwrap(), "2^80/q11");
        check(
            &Scale::pow2(40)
                .with_prime(3, 1)
                .with_prime(11, -2)
                .with_prime(12, -1),
            "2^40*q3/q11^2/q12",
        );
        check(&Scale::one().with_prime(5, -1), "1/q5");
        check(&Scale::pow2(-3).with_prime(2, 2), "q2^2/2^3");
    }

    #[test]
    fn rescale_then_multiply_by_the_same_prime_is_exact() {
        let s = Scale::pow2(40);
        let sq = s.checked_mul(&s).unwrap().rescaled_at(7).unwrap();
        assert_ne!(sq, s);
        assert_eq!(sq.checked_mul(&Scale::prime(7)).unwrap(), Scale::pow2(80));
    }

    #[test]
    fn non_canonical_input_is_canonicalised() {
        assert_eq!("q3/q3*2^10*2".parse::<Scale>().unwrap(), Scale::pow2(11));
        assert!("2^x".parse::<Scale>().is_err());
        assert!("3".parse::<Scale>().is_err());
    }

    #[test]
    fn overflow_is_reported() {
        let big = Scale::pow2(i32::MAX);
        assert!(big.checked_mul(&big).is_none());
    }

    #[test]
    fn division_and_powers_are_exact() {
        let s = Scale::pow2(80).rescaled_at(3).unwrap();
        let target = Scale::pow2(40).with_prime(5, 1);
        let factor = target.checked_div(&s).unwrap();
        assert_eq!(factor.to_string(), "q3*q5/2^40");
        assert_eq!(s.checked_mul(&factor).unwrap(), target);
        assert_eq!(s.checked_pow(3).unwrap().to_string(), "2^240/q3^3");
        assert_eq!(s.checked_pow(0).unwrap(), Scale::one());
        assert!(Scale::pow2(1 << 30).checked_pow(4).is_none());
        assert!(Scale::pow2(i32::MIN).checked_inverse().is_none());
    }

    #[test]
    fn log2_estimate() {
        let s = Scale::pow2(80).rescaled_at(1).unwrap();
        assert_eq!(s.log2_with(|_| 40.0), 40.0);
    }
}
