//! W6 symbolic-gradient: f(x_1..x_m) = Σ_{i=1}^{m−1} sin(x_i x_{i+1})·exp(x_i)/(1 + x_{i+1}²),
//! m = 50, at x_i = 0.1·i. chainrule-manual is the hand-written gradient
//! (numbers, no formulas): only the `s/eval` line. Check: ∂f/∂x_1.
//!
//! `chainrule-symbolic`: the 50 gradient formulas (`symbolic::gradient_formula` of f
//! traced into an `Expr`), timed in a fresh formula arena per call, and
//! their size; `chainrule-compiled`: those formulas compiled to one register
//! program (`symbolic::compile`) and evaluated at the point.

use std::hint::black_box;

use chainrule::symbolic::{self, count_ops, parse_syntax, with_fresh_arena, Expr, SyntaxKind};
use chainrule::Real;

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

/// The variable names x1 … x_m.
pub fn names(m: usize) -> Vec<String> {
    (1..=m).map(|i| format!("x{i}")).collect()
}

/// f generic over [`Real`]: the same code gives numbers (f64) or a formula (Expr).
pub fn f_generic<T: Real>(x: &[T]) -> T {
    let terms = x
        .windows(2)
        .map(|w| (w[0].clone() * w[1].clone()).sin() * w[0].exp() / (w[1].square() + 1.0));
    terms
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| T::from_f64(0.0))
}

/// The m gradient formulas of f: f traced into an [`Expr`], then
/// `symbolic::gradient_formula` with respect to x1 … x_m.
pub fn gradient_formulas(names: &[String]) -> Vec<Expr> {
    let xs: Vec<Expr> = names.iter().map(|n| Expr::var(n)).collect();
    symbolic::gradient_formula(&f_generic(&xs), names)
}

/// The value of ∂f/∂x_1 from its formula at the W6 point (the check).
fn first_partial(g: &[Expr], names: &[String], point: &[f64]) -> f64 {
    g[0].eval_with(|v| names.iter().position(|n| n == v).map(|i| point[i]))
        .unwrap_or(f64::NAN)
}

/// Operators and calls in the printed formulas, as written (every repeat
/// counted): the measure closest to SymPy's `count_ops`.
fn text_ops(g: &[Expr]) -> usize {
    g.iter()
        .map(|e| {
            parse_syntax(&e.to_string()).map_or(0, |s| {
                s.nodes
                    .iter()
                    .filter(|n| matches!(n.kind, SyntaxKind::Unary(..) | SyntaxKind::Binary(..)))
                    .count()
            })
        })
        .sum()
}

/// W6's implementations.
pub fn entries(_mode: &Mode) -> Vec<Entry> {
    let size = format!("m={M}");
    vec![
        Entry::timed(
            "W6",
            "chainrule-symbolic",
            size.clone(),
            "s/gradient-formula",
            "the 50 formulas d f/d x_i (f traced into an Expr from generic code, then \
             symbolic::gradient_formula), each call in a fresh formula arena \
             (symbolic::with_fresh_arena: nothing interned before, as a first call); the call \
             includes building f (about 300 nodes) and evaluating d f/d x_1 for the check",
            || {
                let names = names(M);
                let point = w6_point(M);
                Prepared::new(move || {
                    let (names, point) = (black_box(&names), black_box(&point));
                    with_fresh_arena(|| first_partial(&gradient_formulas(names), names, point))
                })
            },
        ),
        Entry::count_noted(
            "W6",
            "chainrule-symbolic",
            size.clone(),
            "operation nodes of the 50 formulas (Expr::op_count: nodes with arguments, \
             shared subexpressions counted once per formula)",
            || {
                let names = names(M);
                let point = w6_point(M);
                with_fresh_arena(|| {
                    let g = gradient_formulas(&names);
                    let trees: u64 = g.iter().map(Expr::tree_op_count).sum();
                    let note = format!(
                        "as trees (every repeat counted, SymEngine's measure): {trees}; \
                         operators and calls in the printed formulas (close to SymPy's \
                         count_ops): {}",
                        text_ops(&g)
                    );
                    Ok((
                        count_ops(&g) as f64,
                        first_partial(&g, &names, &point),
                        note,
                    ))
                })
            },
        ),
        Entry::compiled(
            "W6",
            "chainrule-compiled",
            size.clone(),
            "s/eval",
            "the 50 formulas compiled by symbolic::compile into one register program (shared \
             subexpressions and products computed once) and evaluated at x_i = 0.1 i; \
             s/compile is symbolic::compile of the formulas (as the peers time Lambdify)",
            || {
                let names = names(M);
                let point = w6_point(M);
                let (program, seconds) = with_fresh_arena(|| {
                    let g = gradient_formulas(&names);
                    let start = std::time::Instant::now();
                    let program = symbolic::compile(&g, &names);
                    (program, start.elapsed().as_secs_f64())
                });
                let mut program = program.map_err(|e| e.to_string())?;
                let mut out = vec![0.0; M];
                Ok(Prepared::new(move || {
                    program.eval(black_box(&point), &mut out);
                    black_box(&out)[0]
                })
                .compile_seconds(seconds))
            },
        ),
        Entry::timed(
            "W6",
            "chainrule-manual",
            size,
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
        ),
    ]
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
    fn formulas_and_compiled_program_against_the_hand_written_gradient() {
        let (names, x) = (names(M), w6_point(M));
        let mut by_hand = vec![0.0; M];
        gradient(&x, &mut by_hand);
        assert!((f_generic(&x) - f(&x)).abs() < 1e-14);
        with_fresh_arena(|| {
            let g = gradient_formulas(&names);
            let mut program = symbolic::compile(&g, &names).unwrap();
            let mut out = vec![0.0; M];
            program.eval(&x, &mut out);
            for i in 0..M {
                let from_formula = g[i]
                    .eval_with(|v| names.iter().position(|n| n == v).map(|j| x[j]))
                    .unwrap();
                let tol = 1e-13 * by_hand[i].abs().max(1.0);
                assert!((from_formula - by_hand[i]).abs() < tol, "x_{}", i + 1);
                assert!((out[i] - by_hand[i]).abs() < tol, "compiled x_{}", i + 1);
            }
            assert!(count_ops(&g) <= 1422);
            // The text measure counts every repeat, the DAG measure each node once.
            assert!(text_ops(&g) >= count_ops(&g));
        });
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
