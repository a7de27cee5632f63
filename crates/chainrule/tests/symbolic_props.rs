//! Property tests of the symbolic engine: printing then parsing is the
//! identity; symbolic derivatives agree with numeric ones; high-order
//! derivatives agree with closed forms.
//!
//! Numeric references: (a) the reverse-mode tape (the same random tree run
//! on 0-d `Tensor`s, then `autograd::grad`) to 1e-12 relative, (b) Taylor
//! mode for derivatives up to order 6, and (c) central finite differences
//! with Richardson extrapolation, which share nothing with the library, to
//! 1e-6.

use chainrule::symbolic::{compile, gradient_formula, parse, parse_syntax, Expr};
use chainrule::{BinaryOp, Taylor, UnaryOp};
use proptest::prelude::*;

mod common;
use common::{close, richardson, smooth_unary, smooth_unary_ops, tape_gradient, Tree};

const VARS: [&str; 3] = ["x", "y", "z"];

/// Formulas of every primitive for the print/parse round trip.
fn any_tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (0..3usize).prop_map(Tree::Var),
        (-4i32..6).prop_map(|n| Tree::Const(f64::from(n))),
        prop_oneof![
            Just(0.5),
            Just(0.25),
            Just(1.5),
            Just(-2.75),
            Just(1e-7),
            Just(3.0e12),
            Just(std::f64::consts::PI)
        ]
        .prop_map(Tree::Const),
    ];
    let ops = UnaryOp::ALL.to_vec();
    let bins = BinaryOp::ALL;
    leaf.prop_recursive(5, 40, 2, move |inner| {
        prop_oneof![
            (proptest::sample::select(ops.clone()), inner.clone())
                .prop_map(|(op, a)| Tree::Unary(op, Box::new(a))),
            (
                proptest::sample::select(bins.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| Tree::Binary(op, Box::new(a), Box::new(b))),
            (inner, -3i32..5).prop_map(|(a, n)| Tree::Powi(Box::new(a), n)),
        ]
    })
}

/// Smooth formulas with moderate values everywhere on [-2, 2]³, for
/// derivative checks (no domain edges, no kinks).
fn smooth_tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (0..3usize).prop_map(Tree::Var),
        prop_oneof![Just(0.5), Just(2.0), Just(-1.5), Just(3.0)].prop_map(Tree::Const),
    ];
    let ops = smooth_unary_ops();
    leaf.prop_recursive(4, 24, 2, move |inner| {
        prop_oneof![
            // Every smooth op of the table, its argument squashed into its
            // domain.
            (proptest::sample::select(ops.clone()), inner.clone())
                .prop_map(|(op, a)| smooth_unary(op, a)),
            // exp of a bounded argument.
            inner.clone().prop_map(|a| Tree::Unary(
                UnaryOp::Exp,
                Box::new(Tree::Unary(UnaryOp::Sin, Box::new(a)))
            )),
            // log and sqrt of something ≥ 1.
            inner.clone().prop_map(|a| {
                let one_plus_sq = Tree::Binary(
                    BinaryOp::Add,
                    Box::new(Tree::Const(1.0)),
                    Box::new(Tree::Powi(Box::new(a), 2)),
                );
                Tree::Unary(UnaryOp::Ln, Box::new(one_plus_sq))
            }),
            inner.clone().prop_map(|a| {
                let one_plus_sq = Tree::Binary(
                    BinaryOp::Add,
                    Box::new(Tree::Const(1.0)),
                    Box::new(Tree::Powi(Box::new(a), 2)),
                );
                Tree::Unary(UnaryOp::Sqrt, Box::new(one_plus_sq))
            }),
            (
                proptest::sample::select(vec![BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| Tree::Binary(op, Box::new(a), Box::new(b))),
            // Division by something ≥ 1.
            (inner.clone(), inner.clone()).prop_map(|(a, b)| {
                let den = Tree::Binary(
                    BinaryOp::Add,
                    Box::new(Tree::Const(1.0)),
                    Box::new(Tree::Powi(Box::new(b), 2)),
                );
                Tree::Binary(BinaryOp::Div, Box::new(a), Box::new(den))
            }),
            // Powers of a bounded argument (|tanh| < 1) or of a variable, so
            // nested powers stay well conditioned (x^18 rounds differently
            // from ((x^3)^3)^2 by more than 1e-12 once sin is applied).
            (inner.clone(), 2i32..4).prop_map(|(a, n)| Tree::Powi(
                Box::new(Tree::Unary(UnaryOp::Tanh, Box::new(a))),
                n
            )),
            ((0..3usize), 2i32..4).prop_map(|(v, n)| Tree::Powi(Box::new(Tree::Var(v)), n)),
            // atan2 away from the origin.
            (inner.clone(), inner).prop_map(|(a, b)| {
                let x = Tree::Binary(
                    BinaryOp::Add,
                    Box::new(Tree::Const(3.0)),
                    Box::new(Tree::Unary(UnaryOp::Tanh, Box::new(b))),
                );
                Tree::Binary(BinaryOp::Atan2, Box::new(a), Box::new(x))
            }),
        ]
    })
}

fn symbols() -> [Expr; 3] {
    [Expr::var("x"), Expr::var("y"), Expr::var("z")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    /// Printing then parsing gives the same (hash-consed) formula.
    #[test]
    fn print_then_parse_is_identity(t in any_tree()) {
        let e: Expr = t.eval(&symbols());
        let text = e.to_string();
        prop_assume!(!text.contains("inf") && !text.contains("nan"));
        let back = parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
        prop_assert_eq!(back, e, "{}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// ∂/∂x, ∂/∂y, ∂/∂z of random smooth formulas at random points: equal to
    /// the reverse-mode tape to 1e-12 relative and to finite differences to 1e-6.
    #[test]
    fn symbolic_derivatives_match_numeric(t in smooth_tree(), p in proptest::array::uniform3(-2.0f64..2.0)) {
        let e: Expr = t.eval(&symbols());
        let point: std::collections::HashMap<String, f64> =
            VARS.iter().zip(p).map(|(n, v)| (n.to_string(), v)).collect();
        let value = e.eval(&point).unwrap();
        let direct: f64 = t.eval(&p);
        prop_assert!(close(value, direct, 1e-12), "{} = {} vs {}", e, value, direct);
        let tape = tape_gradient(&t, &p);
        for (k, var) in VARS.iter().enumerate() {
            let d = e.diff(var).eval(&point).unwrap();
            let reverse = tape[k];
            prop_assert!(close(d, reverse, 1e-12), "d/d{} {}: symbolic {} vs tape {}", var, e, d, reverse);
            let fd = richardson(|h| {
                let mut q = p;
                q[k] = h;
                t.eval(&q)
            }, p[k]);
            // Finite differences resolve only slowly varying functions: a
            // slope over 50 (exp(sin(y^9)) near y = 2) means oscillation the
            // step cannot follow, and only the dual check applies there.
            if d.abs() <= 50.0 {
                prop_assert!(close(d, fd, 1e-6), "d/d{} {}: symbolic {} vs finite difference {}", var, e, d, fd);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// The compiled program (with shared sub-products) computes the same
    /// value and gradient as evaluating the formulas node by node.
    #[test]
    fn compiled_gradient_matches_eval(ts in proptest::collection::vec(smooth_tree(), 1..4), p in proptest::array::uniform3(-2.0f64..2.0)) {
        let exprs: Vec<Expr> = ts.iter().map(|t| t.eval(&symbols())).collect();
        let mut all = exprs.clone();
        for e in &exprs {
            all.extend(gradient_formula(e, &VARS));
        }
        let mut prog = compile(&all, &VARS).unwrap();
        let mut out = vec![0.0; all.len()];
        prog.eval(&p, &mut out);
        let point: std::collections::HashMap<String, f64> =
            VARS.iter().zip(p).map(|(n, v)| (n.to_string(), v)).collect();
        for (e, got) in all.iter().zip(&out) {
            let want = e.eval(&point).unwrap();
            prop_assert!(close(*got, want, 1e-12), "{}: compiled {} vs eval {}", e, got, want);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, ..ProptestConfig::default() })]

    /// Arbitrary input never panics the parser: it parses, or it is an
    /// error whose column lies within the input (or just after it).
    #[test]
    fn parser_never_panics(src in "[-+*/^(),.0-9a-z eE]{0,40}") {
        match parse_syntax(&src) {
            Ok(syntax) => {
                let e = Expr::from_syntax(&syntax);
                let v: Result<f64, _> = syntax.eval(|_| Some(0.5));
                prop_assert!(v.is_ok());
                let text = e.to_string();
                if !text.contains("inf") && !text.contains("nan") {
                    prop_assert_eq!(parse(&text).ok(), Some(e), "{} printed as {}", src, text);
                }
            }
            Err(chainrule::Error::Parse { kind, span }) => {
                let column = span.start;
                prop_assert!(column >= 1 && column <= src.chars().count() + 1, "{}: {}", kind, column);
                prop_assert!(span.end >= span.start, "{}: {:?}", kind, span);
            }
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// d^k/dx^k for k ≤ 6 of random smooth formulas (y and z held at their
    /// values): the symbolic `diff_n` evaluated at the point against one
    /// Taylor-mode pass of order 6.
    #[test]
    fn symbolic_derivatives_to_order_6_match_taylor_mode(t in smooth_tree(), p in proptest::array::uniform3(-2.0f64..2.0)) {
        let e: Expr = t.eval(&symbols());
        let point: std::collections::HashMap<String, f64> =
            VARS.iter().zip(p).map(|(n, v)| (n.to_string(), v)).collect();
        let series = t.eval(&[
            Taylor::variable(p[0], 6),
            Taylor::constant(p[1]),
            Taylor::constant(p[2]),
        ]);
        let mut d = e;
        for k in 0..=6 {
            let symbolic = d.eval(&point).unwrap();
            let taylor = series.derivative(k);
            // High orders multiply rounding by up to k! and the formula's
            // size; 1e-9 relative (floor 1) still catches any wrong rule.
            prop_assert!(close(symbolic, taylor, 1e-9), "d^{}/dx^{} {}: symbolic {} vs Taylor {}", k, k, e, symbolic, taylor);
            d = d.diff("x");
        }
    }
}

/// k-th derivatives (k ≤ 6) against closed forms.
#[test]
fn derivatives_up_to_order_6_match_closed_forms() {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
    let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
    let x0 = 0.7_f64;
    let at = [("x".to_string(), x0)].into_iter().collect();
    type Closed = Box<dyn Fn(u32, f64) -> f64>;
    let hermite = |n: u32, x: f64| {
        // Physicists' Hermite polynomials: H₀ = 1, H₁ = 2x, Hₙ₊₁ = 2x Hₙ − 2n Hₙ₋₁.
        let (mut a, mut b) = (1.0, 2.0 * x);
        if n == 0 {
            return a;
        }
        for k in 1..n {
            let c = 2.0 * x * b - 2.0 * f64::from(k) * a;
            a = b;
            b = c;
        }
        b
    };
    let cases: Vec<(&str, Closed)> = vec![
        (
            "exp(2*x)",
            Box::new(|k, x| 2f64.powi(k as i32) * (2.0 * x).exp()),
        ),
        (
            "sin(x)",
            Box::new(|k, x| (x + f64::from(k) * FRAC_PI_2).sin()),
        ),
        (
            "cos(3*x)",
            Box::new(|k, x| 3f64.powi(k as i32) * (3.0 * x + f64::from(k) * FRAC_PI_2).cos()),
        ),
        (
            "1/(1 + x)",
            Box::new(move |k, x| (-1f64).powi(k as i32) * fact(k) / (1.0 + x).powi(k as i32 + 1)),
        ),
        (
            "log(x)",
            Box::new(move |k, x| {
                if k == 0 {
                    x.ln()
                } else {
                    (-1f64).powi(k as i32 - 1) * fact(k - 1) / x.powi(k as i32)
                }
            }),
        ),
        (
            "x^7",
            Box::new(move |k, x| fact(7) / fact(7 - k) * x.powi(7 - k as i32)),
        ),
        (
            "sqrt(x)",
            Box::new(move |k, x| {
                // d^k x^(1/2) = (1/2)(1/2 − 1)…(1/2 − k + 1) x^(1/2 − k)
                let c: f64 = (0..k).map(|j| 0.5 - f64::from(j)).product();
                c * x.powf(0.5 - f64::from(k))
            }),
        ),
        (
            "exp(x)*sin(x)",
            Box::new(|k, x| {
                2f64.powf(f64::from(k) / 2.0) * x.exp() * (x + f64::from(k) * FRAC_PI_4).sin()
            }),
        ),
        (
            "exp(-x^2)",
            Box::new(move |k, x| (-1f64).powi(k as i32) * hermite(k, x) * (-x * x).exp()),
        ),
        (
            "atan(x)",
            Box::new(move |k, x| {
                if k == 0 {
                    return x.atan();
                }
                // (k−1)! cos^k θ sin(k(θ + π/2)), θ = atan x.
                let th = x.atan();
                fact(k - 1) * th.cos().powi(k as i32) * (f64::from(k) * (th + FRAC_PI_2)).sin()
            }),
        ),
    ];
    for (src, closed) in cases {
        let f = parse(src).unwrap();
        for k in 0..=6u32 {
            let d = f.diff_n("x", k as usize);
            let got = d.eval(&at).unwrap();
            let want = closed(k, x0);
            assert!(
                close(got, want, 1e-12),
                "d^{k}/dx^{k} {src} = {d}: {got} vs {want}"
            );
        }
    }
}
