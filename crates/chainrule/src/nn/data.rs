//! Small generated data sets for examples and tests, deterministic given a
//! seed (the noise comes from [`SplitMix64`]).

use std::f64::consts::PI;

use crate::error::{Error, Result};
use crate::random::SplitMix64;
use crate::tensor::Tensor;

/// Two interleaving half circles, as scikit-learn's `make_moons` (without
/// shuffling): `n / 2` points (rounded down) of class 0 on the upper arc
/// (cos t, sin t), the rest of class 1 on the lower arc (1 − cos t,
/// ½ − sin t), t evenly spaced in [0, π], each coordinate plus Gaussian
/// noise of standard deviation `noise` drawn from `SplitMix64::new(seed)`.
/// Returns the points `[n, 2]` and their labels. An `Err` if `noise` is
/// negative or not finite.
///
/// ```
/// use chainrule::nn::data::two_moons;
/// let (x, y) = two_moons(6, 0.0, 0).unwrap();
/// assert_eq!(x.shape(), &[6, 2]);
/// assert_eq!(y, vec![0, 0, 0, 1, 1, 1]);
/// assert_eq!(&x.to_vec()[..2], &[1.0, 0.0]); // t = 0 on the upper arc
/// ```
pub fn two_moons(n: usize, noise: f64, seed: u64) -> Result<(Tensor, Vec<usize>)> {
    if !(noise >= 0.0 && noise.is_finite()) {
        return Err(Error::InvalidNoise { value: noise });
    }
    let n_upper = n / 2;
    let n_lower = n - n_upper;
    let angles = |m: usize| -> Vec<f64> {
        match m {
            0 => vec![],
            1 => vec![0.0],
            _ => (0..m).map(|i| PI * i as f64 / (m - 1) as f64).collect(),
        }
    };
    let mut rng = SplitMix64::new(seed);
    let mut points = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for t in angles(n_upper) {
        points.extend([t.cos(), t.sin()]);
        labels.push(0);
    }
    for t in angles(n_lower) {
        points.extend([1.0 - t.cos(), 0.5 - t.sin()]);
        labels.push(1);
    }
    if noise > 0.0 {
        for p in &mut points {
            *p += noise * rng.normal();
        }
    }
    Ok((Tensor::from_vec(points, &[n, 2])?, labels))
}
