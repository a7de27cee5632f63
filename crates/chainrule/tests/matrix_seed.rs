//! Seed 004's exercises 4 to 7, derived by `chainrule::matrix`: the printed
//! formulas are the textbook answers, and they agree with reverse-mode
//! autodiff of the same expression at random values.

use chainrule::matrix::{self, Problem};

fn derive(src: &str, decls: &str, wrt: &str) -> String {
    let p = matrix::parse(src, decls).unwrap_or_else(|e| panic!("{src}: {e}"));
    p.derivative(wrt).unwrap_or_else(|e| panic!("{src}: {e}")).to_string()
}

fn hess(src: &str, decls: &str, wrt: &str) -> String {
    let p: Problem = matrix::parse(src, decls).unwrap();
    p.hessian(wrt).unwrap_or_else(|e| panic!("{src}: {e}")).to_string()
}

#[test]
fn exercise_4_quadratic_hessian() {
    let f = "1/2*x'*A*x + b'*x + c";
    assert_eq!(derive(f, "c: scalar", "x"), "1/2*(A + A')*x + b");
    assert_eq!(hess(f, "c: scalar", "x"), "1/2*(A + A')");
    assert_eq!(hess(f, "A: n x n symmetric, c: scalar", "x"), "A");
}

#[test]
fn exercise_5_trace_gradient() {
    assert_eq!(derive("tr(A*X*B)", "", "X"), "A'*B'");
}

#[test]
fn exercise_6_least_squares() {
    let f = "1/2*norm2(A*x - b)^2";
    assert_eq!(derive(f, "", "x"), "A'*(A*x - b)");
    assert_eq!(hess(f, "", "x"), "A'*A");
}

#[test]
fn exercise_7_logistic() {
    let f = "log(1 + exp(a'*x))";
    assert_eq!(derive(f, "", "x"), "sigmoid(a'*x)*a");
    assert_eq!(hess(f, "", "x"), "sigmoid(a'*x)*sigmoid(-(a'*x))*a*a'");
}
