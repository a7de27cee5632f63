//! Central finite differences with Richardson extrapolation: the third
//! opinion that every derivative the CLI prints is checked against. They
//! share nothing with the autodiff engines but f64 evaluation.

/// f'(x) by central differences at h and h/2 combined by Richardson
/// extrapolation (error O(h⁴)), with h scaled to |x|.
pub fn derivative(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-3 * x.abs().max(1.0);
    let d = |h: f64| (f(x + h) - f(x - h)) / (2.0 * h);
    let (d1, d2, d4) = (d(h), d(h / 2.0), d(h / 4.0));
    // Two rounds of Richardson: O(h²) → O(h⁴) → O(h⁶).
    let r1 = (4.0 * d2 - d1) / 3.0;
    let r2 = (4.0 * d4 - d2) / 3.0;
    (16.0 * r2 - r1) / 15.0
}

/// ∂f/∂xᵢ for every i, by [`derivative`] along each coordinate.
pub fn gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            derivative(
                |t| {
                    let mut p = x.to_vec();
                    p[i] = t;
                    f(&p)
                },
                x[i],
            )
        })
        .collect()
}

/// Relative difference |a − b| / max(|a|, |b|), 0 when both are 0 or equal
/// (also equal infinities), NaN-aware: NaN against NaN counts as equal
/// (both engines agree that the value does not exist), NaN against a number
/// is infinitely far.
pub fn rel_err(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0.0;
    }
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return f64::INFINITY;
    }
    (a - b).abs() / a.abs().max(b.abs())
}

/// Whether `a` and `b` agree to `rtol` relative, or to `atol` absolute
/// (for values that should be 0).
#[cfg(test)]
pub fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    rel_err(a, b) <= rtol || (a - b).abs() <= atol
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accurate_on_smooth_functions() {
        for x in [-2.0, -0.3, 0.0, 0.7, 3.0, 40.0] {
            let d = derivative(f64::sin, x);
            assert!((d - x.cos()).abs() < 1e-11, "{x}: {d} vs {}", x.cos());
        }
        let d = derivative(f64::exp, 5.0);
        assert!(rel_err(d, 5f64.exp()) < 1e-11);
        let g = gradient(|p| p[0] * p[0] * p[1], &[3.0, 2.0]);
        assert!(rel_err(g[0], 12.0) < 1e-12 && rel_err(g[1], 9.0) < 1e-12);
    }

    #[test]
    fn relative_errors() {
        assert_eq!(rel_err(1.0, 1.0), 0.0);
        assert_eq!(rel_err(f64::NAN, f64::NAN), 0.0);
        assert_eq!(rel_err(f64::INFINITY, f64::INFINITY), 0.0);
        assert_eq!(rel_err(1.0, f64::NAN), f64::INFINITY);
        assert!((rel_err(1.0, 1.1) - 0.1 / 1.1).abs() < 1e-15);
        assert!(close(1e-20, 0.0, 1e-9, 1e-15));
        assert!(!close(1.0, 1.01, 1e-3, 0.0));
    }
}
