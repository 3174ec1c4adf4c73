//! A small seeded random number generator.
//!
//! Determinism is a feature of the playground (the same settings and seed give the same losses and AUC),
//! so every random draw in the engine, from weight initialisation to the reparameterisation noise, comes
//! from here and never from candle's or the operating system's unseeded generators.

/// SplitMix64: tiny, fast, and good enough for shuffling and initialisation. Not for cryptography.
#[derive(Clone, Debug)]
pub struct SeededRng {
    state: u64,
    spare_normal: Option<f32>,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        // Mix the seed once so that small seeds (0, 1, 2) do not start from similar states.
        let mut rng = Self { state: seed ^ 0x9E37_79B9_7F4A_7C15, spare_normal: None };
        rng.next_u64();
        rng
    }

    /// An independent stream for a named purpose, so that adding draws to one stage never shifts another.
    pub fn derive(seed: u64, purpose: &str) -> Self {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for byte in purpose.bytes() {
            hash = (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
        }
        Self::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ hash)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [0, 1) with 53 random bits: fine enough for steep inverses (power laws, far tails).
    pub fn uniform_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal in f64 (Box–Muller on [`Self::uniform_f64`], no caching), so that tails are
    /// not cut by f32.
    pub fn normal_f64(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform_f64();
        let u2 = self.uniform_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 32) * n as u64 >> 32) as usize
    }

    /// Standard normal, by the Box–Muller transform (pairs are cached).
    pub fn normal(&mut self) -> f32 {
        if let Some(value) = self.spare_normal.take() {
            return value;
        }
        let u1 = (self.uniform() as f64).max(1e-12);
        let u2 = self.uniform() as f64;
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        self.spare_normal = Some((radius * angle.sin()) as f32);
        (radius * angle.cos()) as f32
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seed_differs() {
        let a: Vec<u64> = { let mut r = SeededRng::new(7); (0..5).map(|_| r.next_u64()).collect() };
        let b: Vec<u64> = { let mut r = SeededRng::new(7); (0..5).map(|_| r.next_u64()).collect() };
        let c: Vec<u64> = { let mut r = SeededRng::new(8); (0..5).map(|_| r.next_u64()).collect() };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn normal_draws_have_unit_scale() {
        let mut rng = SeededRng::new(1);
        let draws: Vec<f32> = (0..20_000).map(|_| rng.normal()).collect();
        let mean = draws.iter().sum::<f32>() / draws.len() as f32;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / draws.len() as f32;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = SeededRng::new(3);
        assert!((0..1000).all(|_| rng.below(10) < 10));
    }
}
