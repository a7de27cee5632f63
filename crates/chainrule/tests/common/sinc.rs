//! sinc and its first four derivatives worked out by hand: the reference
//! the library's (strong_zeros.rs) and the CLI's (cli.rs) sinc tests share.

/// sinc⁽ᵏ⁾(x), k = 0..4, from the closed forms (by hand from sin x/x):
/// sinc′ = (x cos x − sin x)/x², sinc″ = ((2 − x²) sin x − 2x cos x)/x³,
/// sinc‴ = (−x³ cos x + 3x² sin x + 6x cos x − 6 sin x)/x⁴,
/// sinc⁗ = (x⁴ sin x + 4x³ cos x − 12x² sin x − 24x cos x + 24 sin x)/x⁵;
/// below |x| = 1e-3, where they cancel, from the Maclaurin series
/// 1 − x²/6 + x⁴/120 − x⁶/5040 (limits at 0: 1, 0, −1/3, 0, 1/5).
pub fn sinc_closed(x: f64) -> [f64; 5] {
    if x.abs() < 1e-3 {
        let x2 = x * x;
        return [
            1.0 - x2 / 6.0 + x2 * x2 / 120.0,
            -x / 3.0 + x * x2 / 30.0,
            -1.0 / 3.0 + x2 / 10.0,
            x / 5.0 - x * x2 / 42.0,
            0.2 - x2 / 14.0,
        ];
    }
    let (s, c) = x.sin_cos();
    let p = |k: i32| x.powi(k);
    [
        s / x,
        (x * c - s) / p(2),
        ((2.0 - p(2)) * s - 2.0 * x * c) / p(3),
        (-p(3) * c + 3.0 * p(2) * s + 6.0 * x * c - 6.0 * s) / p(4),
        (p(4) * s + 4.0 * p(3) * c - 12.0 * p(2) * s - 24.0 * x * c + 24.0 * s) / p(5),
    ]
}
