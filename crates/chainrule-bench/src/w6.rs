//! W6 symbolic-gradient: f(x_1..x_m) = Σ_{i=1}^{m−1} sin(x_i x_{i+1})·exp(x_i)/(1 + x_{i+1}²),
//! m = 50, at x_i = 0.1·i. chainrule-manual is the hand-written gradient
//! (numbers, no formulas): only the `s/eval` line. Check: ∂f/∂x_1.

use std::hint::black_box;

use crate::data::w6_point;
use crate::registry::{Entry, Mode, Prepared};

/// The number of variables.
pub const M: usize = 50;

/// f at `x`.
pub fn f(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| (w[0] * w[1]).sin() * w[0].exp() / (1.0 + w[1] * w[1]))
        .sum()
}

/// The gradient of f at `x`, written by hand into `grad` (each term's two partials).
pub fn gradient(x: &[f64], grad: &mut [f64]) {
    grad.fill(0.0);
    for i in 0..x.len().saturating_sub(1) {
        let (a, b) = (x[i], x[i + 1]);
        let (sin, cos) = (a * b).sin_cos();
        let e = a.exp();
        let q = 1.0 / (1.0 + b * b);
        // T = sin(ab)·e^a·q: ∂T/∂a = e^a·q·(b cos(ab) + sin(ab)),
        // ∂T/∂b = e^a·q·(a cos(ab) − 2b·q·sin(ab)).
        grad[i] += e * q * (b * cos + sin);
        grad[i + 1] += e * q * (a * cos - 2.0 * b * q * sin);
    }
}

/// W6's implementations.
pub fn entries(_mode: &Mode) -> Vec<Entry> {
    vec![Entry::timed(
        "W6",
        "chainrule-manual",
        format!("m={M}"),
        "s/eval",
        "hand-written gradient of f (a loop over the terms, each term's two partials), \
         no formulas",
        || {
            let x = w6_point(M);
            let mut grad = vec![0.0; M];
            Prepared::new(move || {
                gradient(black_box(&x), &mut grad);
                black_box(&grad)[0]
            })
        },
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_partial_in_closed_form() {
        // ∂f/∂x_1 involves only the first term, a = 0.1, b = 0.2:
        // e^0.1/(1.04)·(0.2 cos 0.02 + sin 0.02).
        let x = w6_point(M);
        let mut g = vec![0.0; M];
        gradient(&x, &mut g);
        let expected = 0.1f64.exp() / 1.04 * (0.2 * 0.02f64.cos() + 0.02f64.sin());
        assert!((g[0] - expected).abs() < 1e-15, "{} vs {expected}", g[0]);
    }

    #[test]
    fn every_partial_against_finite_differences() {
        let x = w6_point(M);
        let mut g = vec![0.0; M];
        gradient(&x, &mut g);
        let e = 1e-6;
        for i in 0..M {
            let (mut plus, mut minus) = (x.clone(), x.clone());
            plus[i] += e;
            minus[i] -= e;
            let fd = (f(&plus) - f(&minus)) / (2.0 * e);
            assert!(
                (g[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "x_{}: {} vs {fd}",
                i + 1,
                g[i]
            );
        }
    }
}
