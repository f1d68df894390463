//! Just enough unsigned big-integer arithmetic to compare products of primes exactly
//! (a digit's modulus against the special modulus P). Little-endian 64-bit words.

use std::cmp::Ordering;

/// The exact product of `factors`, as little-endian 64-bit words.
pub(crate) fn product(factors: &[u64]) -> Vec<u64> {
    let mut words = vec![1u64];
    for &f in factors {
        let mut carry = 0u128;
        for w in words.iter_mut() {
            let t = *w as u128 * f as u128 + carry;
            *w = t as u64;
            carry = t >> 64;
        }
        if carry > 0 {
            words.push(carry as u64);
        }
    }
    words
}

/// Compares two little-endian numbers without leading zero words.
pub(crate) fn compare(a: &[u64], b: &[u64]) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_compare_exactly() {
        let a = product(&[u64::MAX, u64::MAX]);
        assert_eq!(a, vec![1, u64::MAX - 1]);
        let b = product(&[u64::MAX - 1, u64::MAX]);
        assert_eq!(compare(&a, &b), Ordering::Greater);
        assert_eq!(compare(&b, &a), Ordering::Less);
        assert_eq!(compare(&product(&[6]), &product(&[2, 3])), Ordering::Equal);
        assert_eq!(compare(&product(&[]), &product(&[1 << 40])), Ordering::Less);
    }
}
