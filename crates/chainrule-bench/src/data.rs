//! The deterministic inputs of bench/README.md: SplitMix64 arrays with the
//! peers' seeds, shapes and ranges, filled in row-major order, so that every
//! check agrees with peers.py's to rounding.

use chainrule::random::SplitMix64;
use ndarray::{Array1, Array2};

/// `count` values `lo + (hi − lo)·u` of the SplitMix64 stream of `seed` (peers.py's `uniform`).
pub fn uniform(seed: u64, count: usize, lo: f64, hi: f64) -> Vec<f64> {
    SplitMix64::new(seed).uniform_vec(count, lo, hi)
}

/// A `rows × cols` matrix of [`uniform`] values, filled row by row.
pub fn matrix(seed: u64, rows: usize, cols: usize, lo: f64, hi: f64) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), uniform(seed, rows * cols, lo, hi))
        .expect("rows * cols values fill a rows × cols matrix")
}

/// NumPy's `linspace(start, stop, n)`: `start + i·step` with `step = (stop − start)/(n − 1)`,
/// the last value set to `stop` exactly.
pub fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut values: Vec<f64> = (0..n).map(|i| i as f64 * step + start).collect();
    if let Some(last) = values.last_mut() {
        *last = stop;
    }
    values
}

/// W3's batch size, input width, hidden width, classes.
pub const W3_SHAPE: (usize, usize, usize, usize) = (128, 784, 256, 10);

/// W3's inputs, labels and initial parameters (x @ W1 layout), in f64.
#[derive(Clone, Debug)]
pub struct W3Data {
    /// Inputs, batch × 784, uniform [0, 1) from seed 31.
    pub x: Array2<f64>,
    /// Labels floor(10u) from seed 32.
    pub labels: Vec<usize>,
    /// W1, 784 × 256, ±1/√784 from seed 33.
    pub w1: Array2<f64>,
    /// b1, 256, ±1/√784 from seed 34.
    pub b1: Array1<f64>,
    /// W2, 256 × 10, ±1/√256 from seed 35.
    pub w2: Array2<f64>,
    /// b2, 10, ±1/√256 from seed 36.
    pub b2: Array1<f64>,
}

/// W3's data as peers.py's `w3_data` builds it.
pub fn w3_data() -> W3Data {
    let (batch, inputs, hidden, classes) = W3_SHAPE;
    let r1 = 1.0 / (inputs as f64).sqrt();
    let r2 = 1.0 / (hidden as f64).sqrt();
    W3Data {
        x: matrix(31, batch, inputs, 0.0, 1.0),
        labels: uniform(32, batch, 0.0, 1.0)
            .into_iter()
            .map(|u| (u * classes as f64).floor() as usize)
            .collect(),
        w1: matrix(33, inputs, hidden, -r1, r1),
        b1: Array1::from(uniform(34, hidden, -r1, r1)),
        w2: matrix(35, hidden, classes, -r2, r2),
        b2: Array1::from(uniform(36, classes, -r2, r2)),
    }
}

/// W4's data: x, A, b, c for one n.
#[derive(Clone, Debug)]
pub struct W4Data {
    /// x, n values in [−1, 1) from seed 41.
    pub x: Array1<f64>,
    /// A, n × n in [−1, 1) from seed 42.
    pub a: Array2<f64>,
    /// b, n values in [−1, 1) from seed 43.
    pub b: Array1<f64>,
    /// c, the first value of seed 44 in [−1, 1).
    pub c: f64,
}

/// W4's data for size `n`.
pub fn w4_data(n: usize) -> W4Data {
    W4Data {
        x: Array1::from(uniform(41, n, -1.0, 1.0)),
        a: matrix(42, n, n, -1.0, 1.0),
        b: Array1::from(uniform(43, n, -1.0, 1.0)),
        c: uniform(44, 1, -1.0, 1.0)[0],
    }
}

/// W7's A, X, B: n × n in [−1, 1) from seeds 71, 72, 73.
pub fn w7_data(n: usize) -> [Array2<f64>; 3] {
    [71, 72, 73].map(|seed| matrix(seed, n, n, -1.0, 1.0))
}

/// W6's point x_i = 0.1·i for i = 1 … m (as Python's `0.1 * i`).
pub fn w6_point(m: usize) -> Vec<f64> {
    (1..=m).map(|i| 0.1 * i as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected numbers below were computed with python3 from the formula
    // of bench/README.md (integer arithmetic mod 2^64), not with this code.

    #[test]
    fn w3_first_values() {
        let d = w3_data();
        assert_eq!(d.x[[0, 0]], 0.8412107507534753);
        assert_eq!(d.x[[0, 1]], 0.7376230445840947);
        assert_eq!(d.x[[0, 2]], 0.5048502777109178);
        assert_eq!(d.x[[1, 1]], 0.3329978682141801); // row-major: index 785
        assert_eq!(d.labels[..8], [9, 5, 2, 7, 5, 9, 5, 4]);
        assert_eq!(d.w1[[0, 0]], -0.02342217339497612);
        assert_eq!(d.w1[[0, 1]], -0.030340567404337358);
        assert_eq!(d.b2[0], 0.05161111176211573);
        assert_eq!(d.b2[1], -0.02014582568461236);
        assert_eq!(d.x.dim(), (128, 784));
        assert_eq!(d.w2.dim(), (256, 10));
    }

    #[test]
    fn w4_and_w7_first_values() {
        let d = w4_data(100);
        assert_eq!(d.x[0], -0.8628382167494537);
        assert_eq!(d.x[1], 0.19677672097619436);
        assert_eq!(d.a[[1, 0]], 0.4186140520234536);
        assert_eq!(d.c, 0.9630481089290748);
        let [a, _, b] = w7_data(3);
        assert_eq!(a[[0, 0]], 0.6304227290173106);
        assert_eq!(b[[0, 0]], 0.6293640398949065);
    }

    #[test]
    fn linspace_like_numpy() {
        assert_eq!(linspace(1.0, 4.0, 4), [1.0, 2.0, 3.0, 4.0]);
        let x = linspace(1.0, 4.0, 7);
        assert_eq!(x, [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]);
        assert_eq!(linspace(1.0, 4.0, 1), [1.0]);
    }

    #[test]
    fn w6_point_is_tenths() {
        let p = w6_point(50);
        assert_eq!(p.len(), 50);
        assert_eq!(p[0], 0.1);
        assert_eq!(p[2], 0.30000000000000004); // Python: 0.1 * 3
        assert_eq!(p[49], 5.0);
    }
}
