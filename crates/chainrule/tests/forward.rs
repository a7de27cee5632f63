//! Forward mode with dual numbers: derivatives, jvp, Jacobians, gradients,
//! Hessians, nesting without perturbation confusion, and edge cases.

use chainrule::forward::{
    derivative_at, gradient_at, hessian_at, jacobian_at, jvp_at, value_and_derivative_at, Dual,
};
use chainrule::{BinaryOp, Error, Real, UnaryOp};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// Central difference with Richardson extrapolation: independent of the engine.
fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    chainrule::check::numerical_derivative(f, x, Default::default())
}

#[test]
fn first_derivatives_of_every_op_match_finite_differences() {
    for op in UnaryOp::ALL {
        for t in [0.2, 0.6, 0.9] {
            let x = op.domain().at(t);
            let d = derivative_at(|t| t.unary(op), x);
            let n = fd(|t| op.eval(t), x);
            assert!(close(d, n, 1e-8), "{op:?} at {x}: {d} vs {n}");
        }
    }
    for op in BinaryOp::ALL {
        let (dx, dy) = op.domain();
        for t in [0.2, 0.6, 0.9] {
            let (x, y) = (dx.at(t), dy.at(1.0 - t));
            let px = derivative_at(|t| t.binary(op, &Dual::constant(y)), x);
            let py = derivative_at(|t| Dual::constant(x).binary(op, &t), y);
            assert!(
                close(px, fd(|t| op.eval(t, y), x), 1e-8),
                "{op:?} d/dx at ({x}, {y})"
            );
            assert!(
                close(py, fd(|t| op.eval(x, t), y), 1e-8),
                "{op:?} d/dy at ({x}, {y})"
            );
        }
    }
}

#[test]
fn f64_on_either_side() {
    let x = Dual::variable(2.0);
    assert_eq!((x + 1.0).into_parts(), (3.0, 1.0));
    assert_eq!((1.0 + x).into_parts(), (3.0, 1.0));
    assert_eq!((x - 1.0).into_parts(), (1.0, 1.0));
    assert_eq!((1.0 - x).into_parts(), (-1.0, -1.0));
    assert_eq!((x * 3.0).into_parts(), (6.0, 3.0));
    assert_eq!((3.0 * x).into_parts(), (6.0, 3.0));
    assert_eq!((x / 4.0).into_parts(), (0.5, 0.25));
    // d/dx 4/x = −4/x² = −1
    assert_eq!((4.0 / x).into_parts(), (2.0, -1.0));
    // By reference too (for non-Copy number types).
    assert_eq!(std::ops::Mul::mul(&x, &x).into_parts(), (4.0, 4.0));
}

#[test]
fn no_perturbation_confusion() {
    // d/dx [x · d/dy (x + y)] at y = 1: the inner derivative is 1 for every
    // x, so the answer is 1 (a confused implementation gives 2).
    for x0 in [-1.0, 0.0, 3.0] {
        let d = derivative_at(
            |x: Dual<f64>| {
                let inner = derivative_at(
                    |y: Dual<Dual<f64>>| Dual::constant(x) + y,
                    Dual::constant(1.0),
                );
                x * inner
            },
            x0,
        );
        assert_eq!(d, 1.0);
    }
    // d/dx [x · d/dy (x · y)] = d/dx x² = 2x.
    let d = derivative_at(
        |x: Dual<f64>| x * derivative_at(|y| Dual::constant(x) * y, Dual::constant(1.0)),
        3.0,
    );
    assert_eq!(d, 6.0);
}

fn cube_plus_sin<T: Real>(x: T) -> T {
    x.powi(3) + x.sin()
}

#[test]
fn nested_derivatives_of_a_generic_function() {
    // f = x³ + sin x: f' = 3x² + cos x, f'' = 6x − sin x, f''' = 6 − cos x.
    let x = 0.8_f64;
    let d1 = derivative_at(cube_plus_sin, x);
    let d2 = derivative_at(|t| derivative_at(cube_plus_sin, t), x);
    let d3 = derivative_at(|s| derivative_at(|t| derivative_at(cube_plus_sin, t), s), x);
    assert!(close(d1, 3.0 * x * x + x.cos(), 1e-15));
    assert!(close(d2, 6.0 * x - x.sin(), 1e-15));
    assert!(close(d3, 6.0 - x.cos(), 1e-15));
    let (v, d) = value_and_derivative_at(cube_plus_sin, x);
    assert_eq!(v, cube_plus_sin(x));
    assert_eq!(d, d1);
}

#[test]
fn jacobian_of_polar_to_cartesian() {
    // (r, θ) ↦ (r cos θ, r sin θ): J = [[cos θ, −r sin θ], [sin θ, r cos θ]].
    let f = |z: &[Dual]| vec![z[0] * z[1].cos(), z[0] * z[1].sin()];
    let (r, th) = (2.0_f64, 0.6_f64);
    let j = jacobian_at(f, &[r, th]).unwrap();
    let want = [[th.cos(), -r * th.sin()], [th.sin(), r * th.cos()]];
    for i in 0..2 {
        for k in 0..2 {
            assert!(close(j[i][k], want[i][k], 1e-15), "J[{i}][{k}]");
        }
    }
    // jvp is J·v.
    let v = [0.3, -1.1];
    let (y, t) = jvp_at(f, &[r, th], &v).unwrap();
    assert!(close(y[0], r * th.cos(), 1e-15));
    for i in 0..2 {
        let jv = want[i][0] * v[0] + want[i][1] * v[1];
        assert!(close(t[i], jv, 1e-14), "(J·v)[{i}]");
    }
}

#[test]
fn jvp_rejects_mismatched_lengths() {
    let f = |z: &[Dual]| z.to_vec();
    let err = jvp_at(f, &[1.0, 2.0], &[1.0]).unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { op: "jvp", .. }),
        "{err}"
    );
}

#[test]
fn jacobian_rejects_outputs_of_varying_length() {
    // A function whose output length depends on which input is perturbed.
    let f = |z: &[Dual]| {
        if z[0].is_constant() {
            vec![z[1]]
        } else {
            vec![z[0], z[1]]
        }
    };
    assert!(jacobian_at(f, &[1.0, 2.0]).is_err());
    // No inputs: one empty row per output.
    let g = |_: &[Dual]| vec![Dual::constant(1.0); 3];
    assert_eq!(jacobian_at(g, &[]).unwrap(), vec![Vec::<f64>::new(); 3]);
}

fn quadratic<T: Real>(x: &[T]) -> T {
    // ½ xᵀAx + bᵀx + c with A = [[4, 1, 0], [1, 3, −1], [0, −1, 2]],
    // b = (1, −2, 0.5), c = 7.
    let a = [[4.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 2.0]];
    let b = [1.0, -2.0, 0.5];
    let mut s = T::from_f64(7.0);
    for i in 0..3 {
        for j in 0..3 {
            s = s + x[i].clone() * x[j].clone() * (0.5 * a[i][j]);
        }
        s = s + x[i].clone() * b[i];
    }
    s
}

#[test]
fn quadratic_form_gradient_and_hessian() {
    // ∇ = Ax + b, H = A (A symmetric) — the seed's analytic answer.
    let a = [[4.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 2.0]];
    let b = [1.0, -2.0, 0.5];
    let x = [0.5, -1.0, 2.0];
    let g = gradient_at(quadratic, &x);
    for i in 0..3 {
        let want: f64 = (0..3).map(|j| a[i][j] * x[j]).sum::<f64>() + b[i];
        assert!(close(g[i], want, 1e-15), "g[{i}]");
    }
    let h = hessian_at(quadratic, &x);
    for i in 0..3 {
        for j in 0..3 {
            assert!(close(h[i][j], a[i][j], 1e-15), "H[{i}][{j}]");
        }
    }
}

fn logistic_loss<T: Real>(x: &[T]) -> T {
    // ln(1 + exp⟨a, x⟩) with a = (1, −2, 0.5), as softplus.
    let a = [1.0, -2.0, 0.5];
    let dot = x
        .iter()
        .zip(a)
        .fold(T::from_f64(0.0), |s, (xi, ai)| s + xi.clone() * ai);
    dot.softplus()
}

#[test]
fn logistic_gradient_and_hessian() {
    // ∇ = σ(⟨a,x⟩)·a, H = σ(1 − σ)·a aᵀ.
    let a = [1.0, -2.0, 0.5];
    let x = [0.3, 0.1, -0.4];
    let z: f64 = a.iter().zip(&x).map(|(p, q)| p * q).sum();
    let s = 1.0 / (1.0 + (-z).exp());
    let g = gradient_at(logistic_loss, &x);
    let h = hessian_at(logistic_loss, &x);
    for i in 0..3 {
        assert!(close(g[i], s * a[i], 1e-15), "g[{i}]");
        for j in 0..3 {
            assert!(
                close(h[i][j], s * (1.0 - s) * a[i] * a[j], 1e-14),
                "H[{i}][{j}]"
            );
        }
    }
}

#[test]
fn edge_cases_follow_the_rules_and_ieee() {
    // relu'(0) = 0, abs'(0) = 0, ties of max/min go to the first argument.
    assert_eq!(derivative_at(|x| x.relu(), 0.0), 0.0);
    assert_eq!(derivative_at(|x| x.abs(), 0.0), 0.0);
    assert_eq!(derivative_at(|x| x.max(&Dual::constant(1.0)), 1.0), 1.0);
    assert_eq!(derivative_at(|x| Dual::constant(1.0).min(&x), 1.0), 0.0);
    assert_eq!(derivative_at(|x| x.step() + x.sign(), 0.0), 0.0);
    // log at 0: value −inf, derivative +inf; no panic anywhere.
    let y = Dual::variable(0.0).ln();
    assert_eq!(y.into_parts(), (f64::NEG_INFINITY, f64::INFINITY));
    assert!(derivative_at(|x| x.sqrt(), 0.0).is_infinite());
    // Outside the domain the value is NaN; the tangent is the rule's
    // 1/x, as PyTorch's LogBackward0 gives.
    let (v, d) = value_and_derivative_at(|x| x.ln(), -1.0);
    assert!(v.is_nan());
    assert_eq!(d, -1.0);
    assert!(derivative_at(|x| x.acosh(), 0.5).is_nan());
    // 0/0 stays NaN.
    assert!(derivative_at(|x| x / x, 0.0).is_nan());
}

#[test]
fn second_derivatives_by_nesting_match_closed_forms() {
    // Every smooth unary op's second derivative against a central second
    // difference of its first derivative (itself a finite difference of the
    // kernel would be too noisy).
    for op in UnaryOp::ALL.into_iter().filter(|op| op.is_smooth()) {
        for t in [0.2, 0.6, 0.9] {
            let x = op.domain().at(t);
            let d2 = derivative_at(|t| derivative_at(|s| s.unary(op), t), x);
            let n = fd(|t| derivative_at(|s| s.unary(op), t), x);
            assert!(close(d2, n, 1e-7), "{op:?} at {x}: {d2} vs {n}");
        }
    }
}
