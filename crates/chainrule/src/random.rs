//! Deterministic pseudo-random numbers: SplitMix64 as a counter-based
//! generator, the one ../shared/bench/README.md prescribes, so that tests,
//! examples, benchmarks and the peers' scripts all see identical data.

/// A SplitMix64 stream: the i-th output depends only on the seed and i.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    seed: u64,
    counter: u64,
}

impl SplitMix64 {
    /// A stream that starts at the first output for `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { seed, counter: 0 }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        let mut z = self
            .seed
            .wrapping_add(self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform f64 in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform f64 in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// A standard normal f64 (Box–Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        // 1 − u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `n` uniform values in [lo, hi), in order: a row-major matrix fill.
    pub fn uniform_vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_splitmix64() {
        // First outputs of the reference SplitMix64 (Vigna) seeded with 0 and 1234567.
        let mut g = SplitMix64::new(0);
        assert_eq!(g.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(g.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut g = SplitMix64::new(1234567);
        assert_eq!(g.next_u64(), 6457827717110365317);
        assert_eq!(g.next_u64(), 3203168211198807973);
    }

    #[test]
    fn uniform_in_range() {
        let mut g = SplitMix64::new(42);
        for _ in 0..1000 {
            let u = g.uniform(-1.0, 1.0);
            assert!((-1.0..1.0).contains(&u));
        }
    }
}
