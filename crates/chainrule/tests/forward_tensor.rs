//! Forward mode on tensors (`functional::jvp`, `jacfwd`, `hessian_fwdrev`):
//! Jacobians equal reverse mode's to 1e-14 on the random formulas the other
//! engines are tested on (every smooth op of the table), on every row of the
//! op table at points of its domain, and through every structural operation
//! of the tensor API; against closed forms (W8's tall Jacobian
//! J = (1 − t²)[:, None] · W); nesting in both directions; errors.

use chainrule::functional::{
    grad, hessian, hessian_fwdrev, jacfwd, jacrev, jvp, try_hessian_fwdrev, try_jvp,
};
use chainrule::random::SplitMix64;
use chainrule::{BinaryOp, Error, Real, Tensor, UnaryOp};
use proptest::prelude::*;

mod common;
use common::smooth_tree;

/// |a − b| ≤ tol · max(1, max |b|), entry by entry.
fn assert_close(a: &Tensor, b: &Tensor, tol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shape");
    let (a, b) = (a.to_vec(), b.to_vec());
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= tol * scale,
            "{what}[{i}]: {x:e} vs {y:e} (scale {scale:e})"
        );
    }
}

/// Values uniform in [lo, hi) from one seed.
fn uniform(shape: &[usize], seed: u64, lo: f64, hi: f64) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec(SplitMix64::new(seed).uniform_vec(n, lo, hi), shape).unwrap()
}

/// jacfwd and jacrev of `f` at `x` agree to 1e-14, and each column of the
/// Jacobian is `jvp` with that basis vector.
fn forward_equals_reverse(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, what: &str) {
    let (fwd, rev) = (jacfwd(&f)(x), jacrev(&f)(x));
    assert_close(&fwd, &rev, 1e-14, what);
    // One random direction: J·v from jvp equals the reverse Jacobian times v.
    let v = uniform(x.shape(), 99, -1.0, 1.0);
    let (_, t) = jvp(&f, x, &v);
    let m: usize = t.shape().iter().product();
    let jv = rev
        .reshape(&[m, x.numel()])
        .matmul(&v.reshape(&[x.numel()]));
    assert_close(&t.reshape(&[m]), &jv, 1e-14, &format!("{what}: jvp"));
}

// ----- the property-test corpus ------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The formula applied elementwise to the three rows of a [3, 4]
    /// matrix (variable i is row i): a map R^(3×4) → R^4 whose Jacobian
    /// has a block-diagonal structure, every entry from the rules table.
    #[test]
    fn forward_jacobians_equal_reverse_on_random_formulas(
        t in smooth_tree(),
        p in proptest::collection::vec(-2.0f64..2.0, 12),
    ) {
        let x = Tensor::from_vec(p, &[3, 4]).unwrap();
        let f = |x: &Tensor| {
            let vars: Vec<Tensor> = (0..3).map(|i| x.select(0, i)).collect();
            t.eval(&vars).expand(&[4])
        };
        forward_equals_reverse(f, &x, &format!("{t:?}"));
    }
}

// ----- every row of the op table ---------------------------------------------

/// `n` points of the op's sampling domain (away from its gap), some repeated
/// so that ties and broadcasting are exercised too.
fn points(d: chainrule::ops::Domain, n: usize, seed: u64) -> Vec<f64> {
    let lo = if d.gap > 0.0 { d.lo.max(d.gap) } else { d.lo };
    let mut r = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let v = r.uniform(lo, d.hi);
            // Left of the gap half the time, when the domain has one.
            if d.gap > 0.0 && d.lo < 0.0 && i % 2 == 1 {
                -v
            } else {
                v
            }
        })
        .collect()
}

#[test]
fn every_unary_row_forward_equals_reverse() {
    for op in UnaryOp::ALL {
        let x = Tensor::from_vec(points(op.domain(), 6, 3), &[2, 3]).unwrap();
        forward_equals_reverse(|x: &Tensor| x.unary(op), &x, op.name());
        // Composed with a sum across the batch of inputs (a dense Jacobian).
        forward_equals_reverse(
            |x: &Tensor| x.unary(op) * x.sum(),
            &x,
            &format!("{} · sum", op.name()),
        );
    }
}

#[test]
fn every_binary_row_forward_equals_reverse() {
    for op in BinaryOp::ALL {
        let (dx, dy) = op.domain();
        let mut p = points(dx, 4, 4);
        p.extend(points(dy, 4, 5));
        let x = Tensor::from_vec(p, &[2, 4]).unwrap();
        // Both operands tracked, and each broadcast against the other.
        forward_equals_reverse(
            |x: &Tensor| x.get(&[0]).binary(op, &x.get(&[1])),
            &x,
            op.name(),
        );
        forward_equals_reverse(
            |x: &Tensor| x.get(&[0]).binary(op, &x.get(&[1, 2])),
            &x,
            &format!("{} broadcast right", op.name()),
        );
        forward_equals_reverse(
            |x: &Tensor| {
                x.get(&[0, 1])
                    .binary(op, &x.get(&[1]))
                    .binary(op, &Tensor::scalar(x.to_vec()[7]))
            },
            &x,
            &format!("{} broadcast left, constant right", op.name()),
        );
    }
}

// ----- structural operations ---------------------------------------------------

/// A named function of one tensor.
type Case<'a> = Box<dyn Fn(&Tensor) -> Tensor + 'a>;

#[test]
fn every_structural_operation_forward_equals_reverse() {
    let x = uniform(&[3, 4], 11, -1.0, 1.0);
    let w = uniform(&[4, 5], 12, -1.0, 1.0);
    let v = uniform(&[4], 13, -1.0, 1.0);
    let cases: Vec<(&str, Case<'_>)> = vec![
        ("matmul", Box::new(|x: &Tensor| x.matmul(&w).sin())),
        ("matmul both sides", Box::new(|x: &Tensor| x.matmul(&x.t()))),
        ("matrix-vector", Box::new(|x: &Tensor| x.matmul(&v).exp())),
        (
            "vector-matrix",
            Box::new(|x: &Tensor| x.get(&[1]).matmul(&x.t())),
        ),
        ("dot", Box::new(|x: &Tensor| x.get(&[0]).dot(&x.get(&[2])))),
        (
            "batched matmul",
            Box::new(|x: &Tensor| x.reshape(&[3, 2, 2]).matmul(&x.reshape(&[3, 2, 2]))),
        ),
        (
            "trace",
            Box::new(|x: &Tensor| x.matmul(&x.t()).trace().tanh()),
        ),
        ("sum", Box::new(|x: &Tensor| x.sin().sum() * x)),
        ("mean", Box::new(|x: &Tensor| x.exp().mean() * x)),
        (
            "sum_dim",
            Box::new(|x: &Tensor| x.square().sum_dim(&[1], false)),
        ),
        (
            "sum_dim keepdim",
            Box::new(|x: &Tensor| x.sum_dim(&[0], true) * x),
        ),
        (
            "mean_dim",
            Box::new(|x: &Tensor| x.cos().mean_dim(&[0, 1], true)),
        ),
        ("amax", Box::new(|x: &Tensor| x.amax(&[1], false))),
        (
            "amin keepdim",
            Box::new(|x: &Tensor| x.amin(&[0], true) * x),
        ),
        ("max_all", Box::new(|x: &Tensor| x.max_all())),
        ("prod_dim", Box::new(|x: &Tensor| x.prod_dim(&[1], false))),
        ("prod", Box::new(|x: &Tensor| x.prod())),
        ("softmax", Box::new(|x: &Tensor| x.softmax(1))),
        ("log_softmax", Box::new(|x: &Tensor| x.log_softmax(0))),
        ("logsumexp", Box::new(|x: &Tensor| x.logsumexp(1, false))),
        (
            "logsumexp keepdim",
            Box::new(|x: &Tensor| x.logsumexp(0, true)),
        ),
        ("reshape", Box::new(|x: &Tensor| x.reshape(&[2, 6]).tanh())),
        ("permute", Box::new(|x: &Tensor| x.t().exp())),
        ("unsqueeze", Box::new(|x: &Tensor| x.unsqueeze(1).sin())),
        (
            "expand",
            Box::new(|x: &Tensor| x.get(&[1]).expand(&[2, 4]).sin()),
        ),
        (
            "sum_to_shape",
            Box::new(|x: &Tensor| x.sum_to_shape(&[1, 4])),
        ),
        (
            "broadcast",
            Box::new(|x: &Tensor| x * &x.get(&[0]) + x.sum_dim(&[1], true)),
        ),
        ("get", Box::new(|x: &Tensor| x.get(&[2, 1]) * x.get(&[0]))),
        ("narrow", Box::new(|x: &Tensor| x.narrow(1, 1, 2).exp())),
        (
            "index_select",
            Box::new(|x: &Tensor| x.index_select(1, &[3, 0, 3])),
        ),
        (
            "cat",
            Box::new(|x: &Tensor| Tensor::cat(&[x.sin(), w.t(), x.clone()], 0)),
        ),
        (
            "stack",
            Box::new(|x: &Tensor| Tensor::stack(&[x.get(&[0]), v.clone()], 1)),
        ),
        (
            "where",
            Box::new(|x: &Tensor| {
                Tensor::where_(&x.gt(&Tensor::scalar(0.0)), &x.exp(), &x.get(&[0]))
            }),
        ),
        ("relu", Box::new(|x: &Tensor| x.relu() * x.abs())),
    ];
    for (what, f) in &cases {
        forward_equals_reverse(f, &x, what);
    }
}

#[test]
fn a_network_layer_forward_equals_reverse() {
    // Linear → tanh → Linear → softmax, through the weights.
    let input = uniform(&[5, 3], 21, -1.0, 1.0);
    let w2 = uniform(&[4, 2], 22, -1.0, 1.0);
    let f = |w1: &Tensor| (input.matmul(w1) + 0.1).tanh().matmul(&w2).log_softmax(1);
    forward_equals_reverse(f, &uniform(&[3, 4], 23, -1.0, 1.0), "layer");
}

// ----- closed forms ------------------------------------------------------------

/// W8: f(x) = tanh(W x + b) has the Jacobian (1 − t²)[:, None] · W.
#[test]
fn tall_jacobian_equals_its_closed_form() {
    tall_jacobian_at(300, true);
}

/// W8 at a size where jacfwd's primal tanh runs in lanes on two threads
/// and the tangent's row scaling is split into shares: the same closed
/// form to 1e-14, and the function's own values (a `jvp`'s primal, a plain
/// call) are still libm's tanh bit for bit.
#[test]
fn a_large_tall_jacobian_equals_its_closed_form_and_keeps_libm_values() {
    let (m, n) = (40_000, 16);
    tall_jacobian_at(m, false);
    let x = uniform(&[n], 81, -1.0, 1.0);
    let w = uniform(&[m, n], 82, -2.0, 2.0);
    let b = uniform(&[m], 83, -1.0, 1.0);
    let f = |x: &Tensor| (w.matmul(x) + &b).tanh();
    let z = (w.matmul(&x) + &b).to_vec();
    let libm: Vec<u64> = z.iter().map(|v| v.tanh().to_bits()).collect();
    let bits = |t: &Tensor| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&f(&x)), libm, "a plain call");
    let (y, _) = jvp(f, &x, &uniform(&[n], 84, -1.0, 1.0));
    assert_eq!(bits(&y), libm, "jvp's primal");
    let _ = jacfwd(f)(&x);
    assert_eq!(bits(&f(&x)), libm, "a plain call after jacfwd");
}

/// [`tall_jacobian_equals_its_closed_form`] at `m` rows (jacrev too when
/// `reverse`: its m × m identity of cotangents is m² values).
fn tall_jacobian_at(m: usize, reverse: bool) {
    let n = 16;
    let x = uniform(&[n], 81, -1.0, 1.0);
    let w = uniform(&[m, n], 82, -1.0, 1.0);
    let b = uniform(&[m], 83, -1.0, 1.0);
    let f = |x: &Tensor| (w.matmul(x) + &b).tanh();
    let (wv, xv, bv) = (w.to_vec(), x.to_vec(), b.to_vec());
    let mut closed = Vec::with_capacity(m * n);
    for i in 0..m {
        let row = &wv[i * n..(i + 1) * n];
        let z: f64 = row.iter().zip(&xv).map(|(a, b)| a * b).sum::<f64>() + bv[i];
        let d = 1.0 - z.tanh() * z.tanh();
        closed.extend(row.iter().map(|w| d * w));
    }
    let closed = Tensor::from_vec(closed, &[m, n]).unwrap();
    let fwd = jacfwd(f)(&x);
    assert_close(&fwd, &closed, 1e-14, "jacfwd vs closed form");
    if reverse {
        assert_close(&jacrev(f)(&x), &closed, 1e-14, "jacrev vs closed form");
    }
}

#[test]
fn jvp_of_closed_forms() {
    // f(x) = x ⊙ x: J·v = 2x ⊙ v, exactly.
    let x = uniform(&[7], 31, -2.0, 2.0);
    let v = uniform(&[7], 32, -1.0, 1.0);
    let (y, t) = jvp(|x: &Tensor| x * x, &x, &v);
    assert_eq!(y.to_vec(), (&x * &x).to_vec());
    assert_eq!(t.to_vec(), (2.0 * &x * &v).to_vec());
    // f(X) = X Xᵀ: J·V = V Xᵀ + X Vᵀ.
    let x = uniform(&[3, 2], 33, -1.0, 1.0);
    let v = uniform(&[3, 2], 34, -1.0, 1.0);
    let (_, t) = jvp(|x: &Tensor| x.matmul(&x.t()), &x, &v);
    let expected = v.matmul(&x.t()) + x.matmul(&v.t());
    assert_close(&t, &expected, 1e-15, "X Xᵀ");
    // A function that ignores its argument has a zero tangent.
    let c = Tensor::ones(&[2]);
    let (_, t) = jvp(|_: &Tensor| c.clone(), &x, &v);
    assert_eq!(t.to_vec(), vec![0.0, 0.0]);
}

// ----- Hessians, nesting -------------------------------------------------------

#[test]
fn forward_over_reverse_hessians_equal_reverse_over_reverse() {
    // Rosenbrock: H at (1, 1) is [[802, −400], [−400, 200]].
    let rosen = |x: &Tensor| {
        let (a, b) = (x.get(&[0]), x.get(&[1]));
        (1.0 - &a).square() + 100.0 * (b - a.square()).square()
    };
    let h = hessian_fwdrev(rosen)(&Tensor::from_vec(vec![1.0, 1.0], &[2]).unwrap());
    assert_eq!(h.to_vec(), vec![802.0, -400.0, -400.0, 200.0]);
    // Logistic regression (W4's loss) and a matrix function.
    let a = uniform(&[20, 6], 41, -1.0, 1.0);
    let y = uniform(&[20], 42, 0.0, 1.0).gt(&Tensor::scalar(0.5));
    let logistic = |w: &Tensor| {
        let z = a.matmul(w);
        (z.softplus() - &y * &z).mean()
    };
    let w = uniform(&[6], 43, -1.0, 1.0);
    assert_close(
        &hessian_fwdrev(logistic)(&w),
        &hessian(logistic)(&w),
        1e-14,
        "logistic",
    );
    let x = uniform(&[2, 3], 44, -1.0, 1.0);
    let g = |x: &Tensor| x.matmul(&x.t()).logsumexp(0, false).sum() * x.cos().prod();
    assert_close(&hessian_fwdrev(g)(&x), &hessian(g)(&x), 1e-14, "matrix");
}

#[test]
fn forward_mode_nests_with_reverse_mode() {
    // d/dx [J_f(x)·v] for f = sin: d/dx (cos x ⊙ v) = −sin x ⊙ v (diagonal).
    let x = uniform(&[4], 51, -1.0, 1.0);
    let v = uniform(&[4], 52, -1.0, 1.0);
    let outer = |x: &Tensor| jvp(|x: &Tensor| x.sin(), x, &v).1.sum();
    let g = grad(outer)(&x);
    let expected = -x.sin() * &v;
    assert_close(&g, &expected, 1e-15, "grad of jvp");
    // The tangent is differentiable in v too: ∂/∂v Σ (x² ⊙ v) = x².
    let by_v = |v: &Tensor| jvp(|x: &Tensor| x.powi(3) / 3.0, &x, v).1.sum();
    assert_close(&grad(by_v)(&v), &x.square(), 1e-15, "grad in v");
    // jacfwd of jacfwd: the Hessian of Σ x³/6 is diag(x).
    let h = jacfwd(jacfwd(|x: &Tensor| (x.powi(3) / 6.0).sum()))(&x);
    let mut diag = vec![0.0; 16];
    for (i, xi) in x.to_vec().into_iter().enumerate() {
        diag[i * 5] = xi;
    }
    assert_close(
        &h,
        &Tensor::from_vec(diag, &[4, 4]).unwrap(),
        1e-15,
        "fwd over fwd",
    );
    // No perturbation confusion: d/dx [x · d/dy (x + y)]|_{y=x} = 1.
    let f = |x: &Tensor| x * jvp(|y: &Tensor| x + y, x, &Tensor::scalar(1.0)).1;
    assert_eq!(jacfwd(f)(&Tensor::scalar(3.0)).item(), 1.0);
}

#[test]
fn errors_are_typed() {
    let x = Tensor::ones(&[2]);
    let e = try_jvp(|x: &Tensor| x.sin(), &x, &Tensor::ones(&[3])).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
    let e = try_hessian_fwdrev(|x: &Tensor| x * 2.0)(&x).unwrap_err();
    assert!(matches!(e, Error::NonScalarOutput { .. }), "{e}");
}
