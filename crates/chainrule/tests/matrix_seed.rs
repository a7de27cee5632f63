//! Seed 004's exercises 4 to 7, derived by `chainrule::matrix`: the printed
//! formulas are the textbook answers, and they agree with reverse-mode
//! autodiff of the same expression at random values.

use chainrule::matrix::{self, Problem, Values};
use chainrule::{Error, Tensor};

fn derive(src: &str, decls: &str, wrt: &str) -> String {
    let p = matrix::parse(src, decls).unwrap_or_else(|e| panic!("{src}: {e}"));
    p.derivative(wrt)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .to_string()
}

fn hess(src: &str, decls: &str, wrt: &str) -> String {
    let p: Problem = matrix::parse(src, decls).unwrap();
    p.hessian(wrt)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .to_string()
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

/// The derived formula (and its compiled program) against reverse-mode
/// autodiff on tensors, at seeded random values of several sizes: a
/// non-symmetric `A` throughout, non-square where the exercise allows.
fn against_tape(src: &str, decls: &str, wrt: &str, hessian: bool) {
    let p = matrix::parse(src, decls).unwrap();
    let d = if hessian {
        p.hessian(wrt)
    } else {
        p.derivative(wrt)
    }
    .unwrap();
    for (round, (n, m)) in [(2, 3), (3, 5), (5, 4), (4, 4)].into_iter().enumerate() {
        let v = Values::random(&p.names, |s| if s == "n" { n } else { m }, 7 + round as u64);
        let want = if hessian {
            p.autodiff_hessian(wrt, &v)
        } else {
            p.autodiff(wrt, &v)
        }
        .unwrap();
        let got = matrix::natural(&matrix::eval(&d, &v).unwrap(), d.shape());
        let compiled = matrix::natural(&matrix::compile(&d).eval(&v).unwrap(), d.shape());
        assert_eq!(got.shape(), want.shape(), "{src}: {d}");
        let scale = want.to_vec().iter().fold(1.0f64, |s, x| s.max(x.abs()));
        for ((a, c), b) in got
            .to_vec()
            .iter()
            .zip(compiled.to_vec())
            .zip(want.to_vec())
        {
            assert!(
                (a - b).abs() <= 1e-10 * scale,
                "{src}: {d}: {a} vs autodiff {b}"
            );
            assert!(
                (c - b).abs() <= 1e-10 * scale,
                "{src}: compiled {d}: {c} vs autodiff {b}"
            );
        }
    }
}

#[test]
fn exercises_agree_with_the_tape() {
    let quad = "1/2*x'*A*x + b'*x + c";
    against_tape(quad, "c: scalar", "x", false);
    against_tape(quad, "c: scalar", "x", true);
    against_tape(quad, "A: n x n symmetric, c: scalar", "x", true);
    // X: m x p, A: n x m, B: p x n (all sizes different in round 1).
    against_tape("tr(A*X*B)", "A: n x m, X: m x p, B: p x n", "X", false);
    // A: m x n, non-square (m rows of data, n unknowns).
    against_tape("1/2*norm2(A*x - b)^2", "A: m x n", "x", false);
    against_tape("1/2*norm2(A*x - b)^2", "A: m x n", "x", true);
    against_tape("log(1 + exp(a'*x))", "", "x", false);
    against_tape("log(1 + exp(a'*x))", "", "x", true);
}

#[test]
fn logistic_hessian_is_sigma_one_minus_sigma_aat() {
    // σ(−t) = 1 − σ(t): the Hessian printed above is σ(1 − σ)aaᵀ.
    let p = matrix::parse("log(1 + exp(a'*x))", "").unwrap();
    let h = p.hessian("x").unwrap();
    let a = Tensor::from_vec(vec![0.5, -2.0, 1.0], &[3]).unwrap();
    let x = Tensor::from_vec(vec![1.0, 0.25, -0.5], &[3]).unwrap();
    let v = Values::bind(&p.names, &[("a".into(), a), ("x".into(), x)]).unwrap();
    let t: f64 = 0.5 - 0.5 - 0.5; // aᵀx
    let s = 1.0 / (1.0 + (-t).exp());
    let av = [0.5, -2.0, 1.0];
    let got = matrix::compile(&h).eval(&v).unwrap().to_vec();
    for i in 0..3 {
        for j in 0..3 {
            let want = s * (1.0 - s) * av[i] * av[j];
            assert!((got[i * 3 + j] - want).abs() < 1e-15, "{i},{j}");
        }
    }
}

#[test]
fn three_axes_are_refused() {
    // d(Ax)/dA is m x m x n; d(A)/dx of a matrix by a vector, likewise.
    let p = matrix::parse("A*x", "").unwrap();
    let e = p.derivative("A").unwrap_err();
    assert!(matches!(e, Error::MatrixTooManyAxes { axes: 3, .. }), "{e}");
    assert!(e.to_string().contains("no matrix form"), "{e}");
    let p = matrix::parse("x*y'", "").unwrap();
    assert!(matches!(
        p.derivative("x"),
        Err(Error::MatrixTooManyAxes { axes: 3, .. })
    ));
    let p = matrix::parse("tr(X)", "").unwrap();
    assert!(matches!(p.hessian("X"), Err(Error::MatrixHessian { .. })));
}
