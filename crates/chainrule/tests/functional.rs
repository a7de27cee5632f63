//! The JAX-style transforms: shapes, nesting without perturbation
//! confusion, forward against reverse, Hessian symmetry, jvp/vjp/hvp
//! against closed forms, errors, and gradient modes.

use chainrule::functional::{
    derivative, grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, try_grad, try_hessian, try_hvp,
    try_jvp, try_value_and_grad, try_vjp, value_and_grad, vjp,
};
use chainrule::{autograd, check, tensor, Error, Real, Tensor};

fn random(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand(shape, seed) * 2.0 - 1.0
}

/// max |a − b| ≤ tol · max(max |b|, 1), shapes equal.
fn assert_close(a: &Tensor, b: &[f64], tol: f64, what: &str) {
    let a = a.to_vec();
    assert_eq!(a.len(), b.len(), "{what}: size");
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * scale, "{what}[{i}]: {x:e} vs {y:e}");
    }
}

// ----- nesting --------------------------------------------------------------

#[test]
fn no_perturbation_confusion_with_tensor_transforms() {
    // d/dx [x · d/dy (x + y)] at y = 1 is 1 (a confused tape gives 2).
    let f = |x: &Tensor| x * grad(|y: &Tensor| x + y)(&Tensor::scalar(1.0));
    assert_eq!(grad(f)(&Tensor::scalar(3.0)).item(), 1.0);
    // The same with the inner function evaluated at the outer variable.
    let f = |x: &Tensor| x * grad(|y: &Tensor| x + y)(x);
    assert_eq!(grad(f)(&Tensor::scalar(3.0)).item(), 1.0);
    // d/dx [x · d/dy (x·y)]|_{y=x} = d/dx x² = 2x (confused: 4x).
    let f = |x: &Tensor| x * grad(|y: &Tensor| x * y)(x);
    assert_eq!(grad(f)(&Tensor::scalar(3.0)).item(), 6.0);
    // With vectors: ∇ₓ [⟨x, ∇_y ⟨x, y⟩⟩] = ∇ₓ ‖x‖² = 2x.
    let f = |x: &Tensor| x.dot(&grad(|y: &Tensor| x.dot(y))(x));
    let x = tensor![1.0, -2.0, 0.5];
    assert_eq!(grad(f)(&x).to_vec(), vec![2.0, -4.0, 1.0]);
}

#[test]
fn an_outer_variable_closed_over_is_differentiated_through_the_inner_transform() {
    // d/dw [∂/∂x (w·x²)] at x = 3 = d/dw (2wx) = 2x = 6.
    let g = grad(|w: &Tensor| grad(|x: &Tensor| w * x * x)(&Tensor::scalar(3.0)));
    assert_eq!(g(&Tensor::scalar(2.0)).item(), 6.0);
    // ∂²/∂w∂x of sin(w·x) = cos(wx) − wx sin(wx), as the Hessian of a
    // closed-over pair.
    let (w, x) = (0.7f64, 1.3f64);
    let mixed = grad(|w: &Tensor| grad(|x: &Tensor| (w * x).sin())(&Tensor::scalar(x)));
    let want = (w * x).cos() - w * x * (w * x).sin();
    assert!((mixed(&Tensor::scalar(w)).item() - want).abs() < 1e-15);
}

#[test]
fn nested_grad_gives_higher_derivatives() {
    // sin⁽ᵏ⁾ = sin(x + kπ/2) for k up to 6.
    let x = 0.4f64;
    let cycle = [x.sin(), x.cos(), -x.sin(), -x.cos()];
    let mut f: Box<dyn Fn(&Tensor) -> Tensor> = Box::new(|t: &Tensor| t.sin());
    for k in 1..=6 {
        f = Box::new(grad(f));
        let d = f(&Tensor::scalar(x)).item();
        assert!((d - cycle[k % 4]).abs() < 1e-14, "sin^({k}) = {d}");
    }
    // x⁵: 5x⁴, 20x³, 60x², 120x, 120, 0.
    let p = |t: &Tensor| t.powi(5);
    let x = Tensor::scalar(2.0);
    assert_eq!(grad(grad(grad(p)))(&x).item(), 240.0);
    assert_eq!(grad(grad(grad(grad(grad(p)))))(&x).item(), 120.0);
    assert_eq!(grad(grad(grad(grad(grad(grad(p))))))(&x).item(), 0.0);
}

#[test]
fn taylor_mode_on_tensors_nests_inside_grad() {
    // d/dx of the elementwise 3rd derivative of tanh is the 4th.
    fn tanh<T: Real>(x: T) -> T {
        x.tanh()
    }
    let fourth = grad(|x: &Tensor| derivative(tanh, 3)(x.clone()).sum());
    let x = tensor![0.5, -1.0, 2.0];
    let want: Vec<f64> = x
        .to_vec()
        .iter()
        .map(|&x| {
            let t = x.tanh();
            24.0 * t.powi(5) - 40.0 * t.powi(3) + 16.0 * t
        })
        .collect();
    assert_close(&fourth(&x), &want, 1e-14, "tanh''''");
    // And derivative of a Dual: d/da of (e^{ax})''' at 0 = d/da a³ = 3a².
    let d = derivative(
        |x| (x * chainrule::Taylor::constant(chainrule::Dual::variable(2.0))).exp(),
        3,
    )(chainrule::Dual::constant(0.0));
    assert_eq!((d.value(), d.tangent()), (8.0, 12.0));
}

// ----- shapes ----------------------------------------------------------------

#[test]
fn gradients_have_the_input_shape_and_jacobians_out_then_in() {
    let scalar = Tensor::scalar(0.3);
    let vector = random(&[4], 1);
    let matrix = random(&[2, 3], 2);
    let sq = |x: &Tensor| (x * x).sum();
    for x in [&scalar, &vector, &matrix] {
        let g = grad(sq)(x);
        assert_eq!(g.shape(), x.shape());
        assert_close(&g, &(x * 2.0).to_vec(), 0.0, "∇‖x‖²");
        let h = hessian(sq)(x);
        let mut hs = x.shape().to_vec();
        hs.extend(x.shape());
        assert_eq!(h.shape(), hs.as_slice());
    }
    // vector → matrix: [2, 3] ++ [4]; matrix → vector: [3] ++ [2, 3].
    let m = random(&[2, 3, 4], 3);
    let f = |x: &Tensor| m.matmul(x);
    assert_eq!(f(&vector).shape(), &[2, 3]);
    for jac in [jacrev(f)(&vector), jacfwd(f)(&vector)] {
        assert_eq!(jac.shape(), &[2, 3, 4]);
        assert_close(&jac, &m.to_vec(), 0.0, "∂(Mx)/∂x");
    }
    let col_sums = |x: &Tensor| x.sum_dim(&[0], false);
    let j = jacobian(col_sums)(&matrix);
    assert_eq!(j.shape(), &[3, 2, 3]);
    // ∂(Σᵢ xᵢⱼ)/∂x_kl = [j = l]
    let want: Vec<f64> = (0..18)
        .map(|idx| {
            let (j, l) = (idx / 6, idx % 3);
            if j == l {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    assert_eq!(j.to_vec(), want);
    // scalar → vector: [3] ++ [].
    let curve = |t: &Tensor| Tensor::stack(&[t.cos(), t.sin(), t.clone()], 0);
    let j = jacfwd(curve)(&scalar);
    assert_eq!(j.shape(), &[3]);
    assert_close(&j, &[-0.3f64.sin(), 0.3f64.cos(), 1.0], 1e-16, "curve'");
}

#[test]
fn functions_that_ignore_their_input_have_zero_derivatives() {
    let x = random(&[3], 4);
    let c = tensor![1.0, 2.0];
    assert_eq!(
        grad(|_: &Tensor| Tensor::scalar(5.0))(&x).to_vec(),
        vec![0.0; 3]
    );
    assert_eq!(jacrev(|_: &Tensor| c.clone())(&x).to_vec(), vec![0.0; 6]);
    assert_eq!(jacfwd(|_: &Tensor| c.clone())(&x).to_vec(), vec![0.0; 6]);
    assert_eq!(hessian(|x: &Tensor| x.sum())(&x).to_vec(), vec![0.0; 9]);
    assert_eq!(
        grad(grad(|x: &Tensor| x * 3.0))(&Tensor::scalar(1.0)).item(),
        0.0
    );
}

#[test]
fn the_identity_has_the_identity_jacobian() {
    let x = random(&[2, 2], 16);
    let eye4 = Tensor::eye(4).to_vec();
    for j in [
        jacrev(|x: &Tensor| x.clone())(&x),
        jacfwd(|x: &Tensor| x.clone())(&x),
    ] {
        assert_eq!(j.shape(), &[2, 2, 2, 2]);
        assert_eq!(j.to_vec(), eye4);
    }
    assert_eq!(
        grad(|x: &Tensor| x.clone())(&Tensor::scalar(2.0)).item(),
        1.0
    );
    let (y, t) = jvp(|x: &Tensor| x.clone(), &x, &Tensor::ones(&[2, 2]));
    assert_eq!((y.to_vec(), t.to_vec()), (x.to_vec(), vec![1.0; 4]));
}

// ----- forward against reverse, symmetry ----------------------------------------

/// A nonlinear map R^(2×3) → R^4 mixing every input into every output.
fn mixer(w: &Tensor) -> impl Fn(&Tensor) -> Tensor + '_ {
    move |x: &Tensor| {
        let h = w.matmul(&x.reshape(&[6])).tanh();
        &h * h.exp().sum() + (x.sin().sum() * &h).softplus()
    }
}

#[test]
fn forward_and_reverse_jacobians_agree_to_1e_14() {
    let w = random(&[4, 6], 5);
    let x = random(&[2, 3], 6);
    let f = mixer(&w);
    let (fwd, rev) = (jacfwd(&f)(&x), jacrev(&f)(&x));
    assert_eq!(fwd.shape(), &[4, 2, 3]);
    assert_close(&fwd, &rev.to_vec(), 1e-14, "jacfwd vs jacrev");
    // Both against central differences (independent of either engine).
    let fd = check::numerical_jacobian(|xs| f(&xs[0]), std::slice::from_ref(&x), 1e-6).unwrap();
    let fd = fd[0].to_vec();
    for j in 0..6 {
        for i in 0..4 {
            let fd = fd[i * 6 + j];
            let r = rev.to_vec()[i * 6 + j];
            assert!((fd - r).abs() < 1e-7 * r.abs().max(1.0), "J[{i}][{j}]");
        }
    }
}

#[test]
fn hessians_are_symmetric_to_rounding() {
    let w = random(&[4, 6], 7);
    let x = random(&[2, 3], 8);
    let f = |x: &Tensor| mixer(&w)(x).logsumexp(0, false) * x.cos().prod();
    let h = hessian(f)(&x);
    assert_eq!(h.shape(), &[2, 3, 2, 3]);
    let v = h.to_vec();
    let scale = v.iter().fold(0.0f64, |m, a| m.max(a.abs()));
    for i in 0..6 {
        for j in 0..6 {
            let (a, b) = (v[i * 6 + j], v[j * 6 + i]);
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * scale,
                "H[{i}][{j}] {a} vs {b}"
            );
        }
    }
    // And equal to forward over reverse (JAX's recipe).
    assert_close(
        &h,
        &jacfwd(grad(f))(&x).to_vec(),
        1e-14,
        "hessian vs jacfwd(grad)",
    );
}

// ----- jvp, vjp, hvp against closed forms -------------------------------------

#[test]
fn jvp_and_vjp_of_sin_of_a_matrix_product() {
    // f(x) = sin(Ax): J = diag(cos(Ax))·A.
    let a = random(&[3, 4], 9);
    let x = random(&[4], 10);
    let v = random(&[4], 11);
    let ct = random(&[3], 12);
    let f = |x: &Tensor| a.matmul(x).sin();
    let (av, xv, vv, cv) = (a.to_vec(), x.to_vec(), v.to_vec(), ct.to_vec());
    let ax: Vec<f64> = (0..3)
        .map(|i| (0..4).map(|k| av[i * 4 + k] * xv[k]).sum())
        .collect();
    let jac = |i: usize, k: usize| ax[i].cos() * av[i * 4 + k];
    let (y, t) = jvp(f, &x, &v);
    assert_close(
        &y,
        &ax.iter().map(|z| z.sin()).collect::<Vec<_>>(),
        1e-15,
        "y",
    );
    let jv: Vec<f64> = (0..3)
        .map(|i| (0..4).map(|k| jac(i, k) * vv[k]).sum())
        .collect();
    assert_close(&t, &jv, 1e-14, "J·v");
    let (y2, pullback) = vjp(f, &x);
    assert_eq!(y2.to_vec(), y.to_vec());
    let vj: Vec<f64> = (0..4)
        .map(|k| (0..3).map(|i| cv[i] * jac(i, k)).sum())
        .collect();
    assert_close(&pullback(&ct), &vj, 1e-14, "ctᵀ·J");
    // The pullback can be called again, with another cotangent.
    let e0 = tensor![1.0, 0.0, 0.0];
    assert_close(
        &pullback(&e0),
        &(0..4).map(|k| jac(0, k)).collect::<Vec<_>>(),
        1e-15,
        "row 0",
    );
}

#[test]
fn hvp_is_the_hessian_times_v() {
    // f(x) = Σ exp(xᵢ)·xᵢ₊₁: H has exp(xᵢ)xᵢ₊₁ on the diagonal and exp(xᵢ)
    // at (i, i+1) and (i+1, i).
    let n = 5;
    let x = random(&[n], 13);
    let v = random(&[n], 14);
    let f = |x: &Tensor| (x.narrow(0, 0, n - 1).exp() * x.narrow(0, 1, n - 1)).sum();
    let (xv, vv) = (x.to_vec(), v.to_vec());
    let mut h = vec![0.0; n * n];
    for i in 0..n - 1 {
        h[i * n + i] += xv[i].exp() * xv[i + 1];
        h[i * n + i + 1] += xv[i].exp();
        h[(i + 1) * n + i] += xv[i].exp();
    }
    let hv: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| h[i * n + j] * vv[j]).sum())
        .collect();
    assert_close(&hvp(f)(&x, &v), &hv, 1e-14, "H·v");
    assert_close(&hessian(f)(&x), &h, 1e-15, "H");
}

#[test]
fn value_and_grad_returns_both() {
    let x = random(&[3], 15);
    let (y, g) = value_and_grad(|x: &Tensor| x.exp().sum())(&x);
    let e: Vec<f64> = x.to_vec().iter().map(|v| v.exp()).collect();
    assert!((y.item() - e.iter().sum::<f64>()).abs() < 1e-15);
    assert_close(&g, &e, 1e-16, "∇Σeˣ");
}

// ----- errors ------------------------------------------------------------------

#[test]
fn non_scalar_outputs_are_errors_in_try_forms() {
    let x = Tensor::ones(&[3]);
    let e = try_grad(|x: &Tensor| x * 2.0)(&x).unwrap_err();
    assert!(
        matches!(&e, Error::NonScalarOutput { op: "grad", shape } if shape == &[3]),
        "{e}"
    );
    let m = e.to_string();
    assert!(m.contains("scalar") && m.contains("[3]"), "{m}");
    assert!(try_value_and_grad(|x: &Tensor| x * 2.0)(&x).is_err());
    let e = try_hessian(|x: &Tensor| x * 2.0)(&x).unwrap_err();
    assert!(
        matches!(&e, Error::NonScalarOutput { op: "hessian", .. }),
        "{e}"
    );
    assert!(e.to_string().starts_with("hessian: "), "{e}");
    assert!(try_hvp(|x: &Tensor| x * 2.0)(&x, &x).is_err());
    // One element is not a scalar either (as in JAX).
    assert!(try_grad(|x: &Tensor| x.sum_dim(&[0], true))(&x).is_err());
    assert!(try_grad(|x: &Tensor| x.sum())(&x).is_ok());
}

#[test]
#[should_panic(expected = "grad: the function must return a scalar (0-d tensor)")]
fn grad_of_a_non_scalar_panics_with_a_clear_message() {
    let _ = grad(|x: &Tensor| x * 2.0)(&Tensor::ones(&[2]));
}

#[test]
fn mismatched_tangents_and_cotangents_are_shape_errors() {
    let x = Tensor::ones(&[2]);
    let e = try_jvp(|x: &Tensor| x.exp(), &x, &Tensor::ones(&[3])).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ShapeMismatch {
                op: "jvp: tangent and point",
                ..
            }
        ),
        "{e}"
    );
    let (_, pullback) = try_vjp(|x: &Tensor| x.sum(), &x);
    let e = pullback(&Tensor::ones(&[2])).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ShapeMismatch {
                op: "vjp: cotangent and output",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        pullback(&Tensor::scalar(2.0)).unwrap().to_vec(),
        vec![2.0, 2.0]
    );
    let e = try_hvp(|x: &Tensor| x.sum())(&x, &Tensor::ones(&[1])).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
}

// ----- gradient modes and results --------------------------------------------------

#[test]
fn results_are_plain_values_unless_a_caller_can_differentiate_them() {
    let f = |x: &Tensor| x.sin() * x;
    let plain = Tensor::scalar(0.8);
    let g = grad(f)(&plain);
    assert!(!g.is_requires_grad() && g.is_leaf());
    let (y, _) = value_and_grad(f)(&plain);
    assert!(!y.is_requires_grad());
    // A tracked input: the result is differentiable by autograd.
    let x = Tensor::scalar(0.8).requires_grad();
    let g = grad(f)(&x);
    assert!(g.is_requires_grad());
    g.backward().unwrap();
    // (x sin x)'' = 2 cos x − x sin x
    let want = 2.0 * 0.8f64.cos() - 0.8 * 0.8f64.sin();
    assert!((x.grad().unwrap().item() - want).abs() < 1e-15);
}

#[test]
fn transforms_work_under_no_grad_and_return_constants() {
    let _guard = autograd::no_grad();
    let x = Tensor::scalar(0.5).requires_grad();
    let g = grad(|x: &Tensor| x.exp())(&x);
    assert_eq!(g.item(), 0.5f64.exp());
    assert!(!g.is_requires_grad());
    let h = grad(grad(|x: &Tensor| x.exp()))(&x);
    assert_eq!(h.item(), 0.5f64.exp());
    assert!(!autograd::is_grad_enabled());
}

#[test]
fn a_panic_inside_f_leaves_the_thread_usable() {
    let r = std::panic::catch_unwind(|| {
        grad(|x: &Tensor| -> Tensor { panic!("inside f at {}", x.item()) })(&Tensor::scalar(1.0))
    });
    assert!(r.is_err());
    assert!(autograd::is_grad_enabled());
    // The depth was restored: an outermost call returns a plain value again.
    assert!(!grad(|x: &Tensor| x * x)(&Tensor::scalar(1.0)).is_requires_grad());
}

#[test]
fn the_graph_of_a_tracked_input_survives_the_transforms() {
    // The transforms' backward passes walk past their own input node into
    // the caller's graph (x = eʷ here) and must not free it: the caller's
    // backward below goes through it.
    let w = Tensor::scalar(0.3).requires_grad();
    let x = w.exp();
    let g = grad(|x: &Tensor| x.powi(3))(&x);
    let j = jacfwd(|x: &Tensor| x.sin())(&x);
    (g + j).backward().unwrap();
    // d/dw [3e^{2w} + cos e^w] = 6e^{2w} − sin(e^w)·e^w
    let e = 0.3f64.exp();
    let want = 6.0 * e * e - e.sin() * e;
    assert!((w.grad().unwrap().item() - want).abs() < 1e-14);
}

// ----- the trace op ---------------------------------------------------------------

#[test]
fn trace_value_gradient_and_errors() {
    let m = tensor![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    assert_eq!(m.trace().item(), 6.0);
    let g = grad(|m: &Tensor| m.trace())(&m);
    assert_eq!(g.to_vec(), vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    // tr(M²) has gradient 2Mᵀ, and a Hessian: through the trace's backward.
    let sq = tensor![[1.0, 2.0], [3.0, 4.0]];
    let g = grad(|m: &Tensor| m.matmul(m).trace())(&sq);
    assert_eq!(g.to_vec(), vec![2.0, 6.0, 4.0, 8.0]);
    assert!(Tensor::ones(&[3]).try_trace().is_err());
    assert!(Tensor::scalar(1.0).try_trace().is_err());
}
