//! Shared by the seed-004 examples: random data and the comparison line.

use chainrule::Tensor;

/// Uniform values in [−1, 1) from the SplitMix64 stream of `seed`.
pub fn random(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand(shape, seed) * 2.0 - 1.0
}

/// max |automatic − analytic| / max |analytic| (the absolute difference
/// when the analytic value is zero).
pub fn relative_difference(automatic: &Tensor, analytic: &Tensor) -> f64 {
    assert_eq!(automatic.shape(), analytic.shape(), "shapes differ");
    let (a, b) = (automatic.to_vec(), analytic.to_vec());
    let diff = a
        .iter()
        .zip(&b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    let scale = b.iter().fold(0.0f64, |m, y| m.max(y.abs()));
    if scale > 0.0 {
        diff / scale
    } else {
        diff
    }
}

/// Prints both values and their relative difference.
pub fn compare(what: &str, automatic: &Tensor, analytic: &Tensor, formula: &str) {
    println!("{what}, automatic:\n{automatic}");
    println!("{what}, analytic {formula}:\n{analytic}");
    println!(
        "{what}: relative difference {:.1e}\n",
        relative_difference(automatic, analytic)
    );
}
