//! Deterministic generation of NTT-friendly primes.
//!
//! A prime `q` supports the negacyclic NTT of degree N when `q ≡ 1 (mod 2N)` (then `Z_q` holds a
//! primitive 2N-th root of unity). For a requested bit size `b` we take the largest such primes
//! below `2^b`, in order, skipping primes already taken, so the same literal always yields the
//! same primes on every machine and in every version.

/// Bases that make Miller-Rabin deterministic for every 64-bit integer (they suffice for all
/// n < 3.3·10^24).
const MILLER_RABIN_BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((a as u128 * b as u128) % m as u128) as u64
}

fn pow_mod(mut base: u64, mut exp: u64, m: u64) -> u64 {
    let mut acc = 1 % m;
    base %= m;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul_mod(acc, base, m);
        }
        base = mul_mod(base, base, m);
        exp >>= 1;
    }
    acc
}

/// Whether `n` is prime, exactly (deterministic Miller-Rabin over fixed bases).
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for &p in &MILLER_RABIN_BASES {
        if n == p {
            return true;
        }
        if n.is_multiple_of(p) {
            return false;
        }
    }
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'bases: for &a in &MILLER_RABIN_BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// The largest prime `q < 2^bits` with `q ≡ 1 (mod 2^(log_n + 1))` that is not in `taken`, or
/// `None` when no such prime has exactly `bits` bits. Requires `bits <= 63`.
pub fn largest_ntt_prime(bits: u32, log_n: u32, taken: &[u64]) -> Option<u64> {
    assert!(bits <= 63, "prime bit size {bits} exceeds 63");
    let two_n = 1u64 << (log_n + 1);
    let upper = 1u64 << bits;
    let lower = 1u64 << (bits - 1);
    // Largest candidate k·2N + 1 strictly below 2^bits.
    let mut k = (upper - 2) / two_n;
    while k > 0 {
        let q = k * two_n + 1;
        if q < lower {
            return None;
        }
        if is_prime(q) && !taken.contains(&q) {
            return Some(q);
        }
        k -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primality_agrees_with_trial_division_on_small_numbers() {
        for n in 0u64..5000 {
            let trial = n >= 2 && (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0);
            assert_eq!(is_prime(n), trial, "n = {n}");
        }
    }

    #[test]
    fn primality_of_known_large_numbers() {
        assert!(is_prime(0xffff_ffff_ffff_ffc5)); // largest 64-bit prime
        assert!(is_prime((1u64 << 61) - 1)); // Mersenne prime
        assert!(!is_prime(3_215_031_751)); // strong pseudoprime to bases 2, 3, 5, 7
        assert!(!is_prime(3_825_123_056_546_413_051)); // strong pseudoprime to bases 2..23
        assert!(!is_prime(((1u64 << 31) - 1) * ((1u64 << 31) - 1)));
    }

    #[test]
    fn ntt_primes_are_congruent_distinct_and_of_the_right_size() {
        let first = largest_ntt_prime(50, 16, &[]).unwrap();
        let second = largest_ntt_prime(50, 16, &[first]).unwrap();
        for q in [first, second] {
            assert!(is_prime(q));
            assert_eq!(q % (1 << 17), 1);
            assert_eq!(64 - q.leading_zeros(), 50);
        }
        assert!(second < first);
        // Nothing between `first` and 2^50 qualifies.
        let mut k = first + (1 << 17);
        while k < 1 << 50 {
            assert!(!is_prime(k));
            k += 1 << 17;
        }
    }

    #[test]
    fn no_prime_when_the_bit_size_is_too_small_for_the_ring() {
        // 2N = 2^11 > 2^10: no candidate at all.
        assert_eq!(largest_ntt_prime(10, 10, &[]), None);
    }
}
