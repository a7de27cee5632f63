//! Finite differences: the third opinion that every derivative the CLI
//! prints is checked against. They share nothing with the autodiff engines
//! but f64 evaluation, and they are the library's one implementation
//! ([`chainrule::check::numerical_derivative`]) with the CLI's steps.

use chainrule::check::{numerical_derivative, numerical_gradient, FdOptions};

/// The CLI's steps: h = 10⁻³·max(1, |x|), then h/2 and h/4, combined by two
/// rounds of Richardson extrapolation (O(h²) → O(h⁴) → O(h⁶)).
const STEPS: FdOptions = FdOptions {
    step: 1e-3,
    relative: true,
    rounds: 2,
};

/// f'(x) by central differences with Richardson extrapolation ([`STEPS`]).
pub fn derivative(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    numerical_derivative(f, x, STEPS)
}

/// ∂f/∂xᵢ for every i, by [`derivative`] along each coordinate.
pub fn gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    numerical_gradient(f, x, STEPS)
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
