//! W5 nth-derivative: d^k/dx^k tanh(x) at x = 0.5 for k = 4, 8, 16.
//!
//! The closed form: with t = tanh x, d^k/dx^k tanh x = P_k(t) where P_0(t) = t
//! and P_{k+1}(t) = (1 − t²)·P_k'(t). As for the peers' symbolic lines, the
//! `s/formula` line times building P_k (its integer coefficients) and the
//! `s/eval` line times evaluating the precomputed P_k at tanh(0.5) (tanh and
//! Horner's rule).
//!
//! chainrule's own lines: `chainrule-taylor` (one pass of truncated Taylor
//! series, no formula and no compile step), `chainrule-eager` (k nested
//! reverse-mode gradients on the tape, as torch nests
//! `autograd.grad(create_graph=True)`), and `chainrule-symbolic` (the
//! formula of the k-th derivative, then its value at 0.5).

use std::hint::black_box;

use chainrule::symbolic::{with_fresh_arena, Expr};
use chainrule::{autograd, forward, Real, Tensor};

use crate::registry::{Entry, Mode, Prepared};

/// The point of W5.
pub const X: f64 = 0.5;

/// The coefficients (lowest degree first) of P_k, d^k/dx^k tanh x = P_k(tanh x).
/// Exact in i128 (P_16's largest coefficient is about 10^13).
pub fn tanh_derivative_polynomial(k: usize) -> Vec<i128> {
    let mut p = vec![0, 1]; // P_0(t) = t
    for _ in 0..k {
        // P' then (1 − t²)·P'.
        let dp: Vec<i128> = p
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, &c)| i as i128 * c)
            .collect();
        let mut next = vec![0; dp.len() + 2];
        for (i, &c) in dp.iter().enumerate() {
            next[i] += c;
            next[i + 2] -= c;
        }
        p = next;
    }
    p
}

/// Horner's rule for the polynomial with coefficients `p` (lowest degree first) at `t`.
pub fn horner(p: &[f64], t: f64) -> f64 {
    p.iter().rev().fold(0.0, |acc, &c| acc * t + c)
}

/// The k-th derivative of tanh at `x` from the precomputed polynomial.
pub fn eval(p: &[f64], x: f64) -> f64 {
    horner(p, x.tanh())
}

fn to_f64(p: &[i128]) -> Vec<f64> {
    p.iter().map(|&c| c as f64).collect()
}

/// d^k/dx^k tanh at `x` by one pass of truncated Taylor series.
pub fn taylor(k: usize, x: f64) -> f64 {
    forward::nth_derivative_at(|t| t.tanh(), x, k)
}

/// d^k/dx^k tanh at `x` by k nested reverse-mode gradients of 0-d tensors,
/// each recorded (`create_graph`) so that the next can differentiate it.
pub fn eager(k: usize, x: f64) -> Result<f64, chainrule::Error> {
    let x = Tensor::scalar(x).requires_grad();
    let mut y = x.tanh();
    for _ in 0..k {
        y = autograd::grad(
            &[y],
            std::slice::from_ref(&x),
            None,
            autograd::GradOptions::CREATE_GRAPH,
        )?
        .remove(0);
    }
    y.try_item()
}

/// The formula of d^k/dx^k tanh(x), by differentiating k times.
pub fn formula(k: usize) -> Expr {
    Expr::var("x").tanh().diff_n("x", k)
}

/// The value of a formula of x at `x`.
pub fn value_at(f: &Expr, x: f64) -> f64 {
    f.eval_with(|name| (name == "x").then_some(x))
        .unwrap_or(f64::NAN)
}

/// W5's implementations.
pub fn entries(mode: &Mode) -> Vec<Entry> {
    let mut entries = Vec::new();
    for k in [4, 8, 16] {
        let size = format!("k={k}");
        entries.push(Entry::timed(
            "W5",
            "chainrule-taylor",
            size.clone(),
            "s/eval",
            format!(
                "forward::nth_derivative_at of tanh: one pass of truncated Taylor series of \
                 order {k}, no formula, no compile step"
            ),
            move || Prepared::new(move || taylor(black_box(k), black_box(X))),
        ));
        // Nested reverse mode grows exponentially with k (k = 16 takes tens of
        // seconds and gigabytes): smoke mode runs it at k = 8.
        let (ke, smoke_note) = if k == 16 {
            mode.size(16, 8, "k")
        } else {
            (k, String::new())
        };
        entries.push(Entry::timed(
            "W5",
            "chainrule-eager",
            format!("k={ke}"),
            "s/eval",
            crate::line::join_notes(&[
                &smoke_note,
                &format!(
                    "autograd::grad(create_graph) nested {ke} times on 0-d tensors, from x \
                     (as torch nests autograd.grad)"
                ),
            ])
            .unwrap_or_default(),
            move || {
                // An error becomes the line's note (the registry reports panics).
                Prepared::new(move || {
                    eager(black_box(ke), black_box(X)).unwrap_or_else(|e| panic!("{e}"))
                })
            },
        ));
        entries.push(Entry::timed(
            "W5",
            "chainrule-symbolic",
            size.clone(),
            "s/formula",
            "Expr::diff_n(tanh(x), x, k) in a fresh formula arena each call \
             (symbolic::with_fresh_arena: nothing interned before, as SymPy with its cache \
             cleared); the call also evaluates the formula at 0.5 once, for the check",
            move || {
                Prepared::new(move || with_fresh_arena(move || value_at(&formula(black_box(k)), X)))
            },
        ));
        entries.push(Entry::timed(
            "W5",
            "chainrule-symbolic",
            size.clone(),
            "s/eval",
            "Expr::eval_with(x = 0.5) of the s/formula line's formula (built once, not timed): \
             each shared node once, no compilation",
            move || {
                let f = formula(k);
                Prepared::new(move || value_at(black_box(&f), black_box(X)))
            },
        ));
        entries.push(Entry::timed(
            "W5",
            "chainrule-manual",
            size.clone(),
            "s/formula",
            "closed form: building the integer coefficients of P_k, P_{k+1} = (1 - t^2) P_k'; \
             the timed call also evaluates P_k(tanh 0.5) once for the check (tens of ns)",
            move || {
                Prepared::new(move || {
                    let p = tanh_derivative_polynomial(black_box(k));
                    eval(&to_f64(&p), X)
                })
            },
        ));
        entries.push(Entry::timed(
            "W5",
            "chainrule-manual",
            size,
            "s/eval",
            "closed form: P_k(tanh 0.5) by Horner's rule, P_k precomputed outside the timing \
             (as the peers' symbolic s/eval lines)",
            move || {
                let p = to_f64(&tanh_derivative_polynomial(k));
                Prepared::new(move || eval(black_box(&p), black_box(X)))
            },
        ));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P_k(tanh x), the closed form, in f64.
    fn closed_form(k: usize, x: f64) -> f64 {
        eval(&to_f64(&tanh_derivative_polynomial(k)), x)
    }

    #[test]
    fn taylor_eager_and_symbolic_against_the_closed_form() {
        for k in 0..=16 {
            let exact = closed_form(k, X);
            let rel = |v: f64| (v - exact).abs() / exact.abs().max(1.0);
            assert!(rel(taylor(k, X)) < 1e-12, "taylor k = {k}");
            assert!(rel(value_at(&formula(k), X)) < 1e-12, "symbolic k = {k}");
            if k <= 6 {
                assert!(rel(eager(k, X).unwrap()) < 1e-12, "eager k = {k}");
            }
        }
        // A fresh arena gives the same formula's value.
        let fresh = with_fresh_arena(|| value_at(&formula(8), X));
        assert_eq!(fresh, value_at(&formula(8), X));
    }

    #[test]
    fn low_orders_by_hand() {
        // tanh' = 1 − t², tanh'' = −2t + 2t³, tanh''' = −2 + 8t² − 6t⁴.
        assert_eq!(tanh_derivative_polynomial(0), [0, 1]);
        assert_eq!(tanh_derivative_polynomial(1), [1, 0, -1]);
        assert_eq!(tanh_derivative_polynomial(2), [0, -2, 0, 2]);
        assert_eq!(tanh_derivative_polynomial(3), [-2, 0, 8, 0, -6]);
    }

    #[test]
    fn fourth_derivative_of_the_seed() {
        let p = to_f64(&tanh_derivative_polynomial(4));
        let value = eval(&p, X);
        assert!((value - 3.9522195637245825).abs() < 1e-14, "{value}");
    }

    #[test]
    fn odd_polynomials_have_alternating_sums_and_p_of_one_is_zero() {
        // tanh^(k) is odd for even k (P_k odd in t), even for odd k; and every
        // P_k for k ≥ 1 has the factor 1 − t², so P_k(±1) = 0.
        for k in 1..=16 {
            let p = tanh_derivative_polynomial(k);
            assert_eq!(p.iter().sum::<i128>(), 0, "P_{k}(1)");
            let parity = (k + 1) % 2;
            assert!(p
                .iter()
                .enumerate()
                .all(|(i, &c)| c == 0 || i % 2 == parity));
        }
    }

    #[test]
    fn eighth_derivative_against_the_taylor_series() {
        // tanh x = Σ 2^{2n}(2^{2n} − 1)B_{2n} x^{2n−1}/(2n)!; its coefficient of x^7 is
        // −17/315, so the 7th derivative at 0 is −17·7!/315 = −272 (P_7(0) = −272).
        let p = tanh_derivative_polynomial(7);
        assert_eq!(p[0], -272);
        // And the 9th derivative at 0: coefficient of x^9 is 62/2835; 62·9!/2835 = 7936.
        assert_eq!(tanh_derivative_polynomial(9)[0], 7936);
    }
}
