//! `autograd::grad_batched` (a batch of output gradients in one backward
//! pass) against one pass per output element, for every operation, and
//! Hessians against closed forms.

use chainrule::autograd::{self, GradOptions};
use chainrule::check::analytical_jacobian;
use chainrule::{tensor, Real, Tensor};

/// The Jacobian of `f` at `inputs` in one batched pass (identity seed),
/// each as `[outputs, input elements]`.
fn batched_jacobian(f: &dyn Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> Vec<Tensor> {
    let xs: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let out = f(&xs);
    let m = out.numel();
    let mut seed_shape = vec![m];
    seed_shape.extend_from_slice(out.shape());
    let seed = Tensor::eye(m).reshape(&seed_shape);
    let gs = autograd::grad_batched(&[out], &xs, &[seed], GradOptions::default()).unwrap();
    gs.into_iter()
        .zip(&xs)
        .map(|(g, x)| {
            let mut expected = vec![m];
            expected.extend_from_slice(x.shape());
            assert_eq!(g.shape(), expected.as_slice());
            g.reshape(&[m, x.numel()])
        })
        .collect()
}

fn assert_close(name: &str, a: &Tensor, b: &Tensor) {
    assert_eq!(a.shape(), b.shape(), "{name}");
    for (i, (u, v)) in a.to_vec().iter().zip(b.to_vec()).enumerate() {
        assert!(
            (u - v).abs() <= 1e-12 * v.abs().max(1.0),
            "{name}: entry {i}: batched {u} vs one pass per row {v}"
        );
    }
}

/// First order: the batched Jacobian equals the row-by-row one. Second
/// order: the Hessian of Σ w ⊙ f (w fixed), batched over the graph of the
/// gradient, equals the row-by-row Hessian.
fn check(name: &str, f: impl Fn(&[Tensor]) -> Tensor + Copy, inputs: &[Tensor], second: bool) {
    let rows = analytical_jacobian(f, inputs).unwrap();
    for (b, r) in batched_jacobian(&f, inputs).iter().zip(&rows) {
        assert_close(name, b, r);
    }
    if !second {
        return;
    }
    let x = inputs[0].detach().requires_grad();
    let mut xs = inputs.to_vec();
    xs[0] = x.clone();
    let out = f(&xs);
    let w = Tensor::linspace(0.5, 1.5, out.numel()).reshape(out.shape());
    let s = (out * w).sum();
    let g = autograd::grad(
        &[s],
        std::slice::from_ref(&x),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let n = x.numel();
    let flat = g[0].reshape(&[n]);
    let batched = autograd::grad_batched(
        std::slice::from_ref(&flat),
        std::slice::from_ref(&x),
        &[Tensor::eye(n)],
        GradOptions::RETAIN_GRAPH,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let rows: Vec<Tensor> = (0..n)
        .map(|i| {
            let e = Tensor::one_hot(&[i], n).unwrap().reshape(&[n]);
            let r = autograd::grad(
                std::slice::from_ref(&flat),
                std::slice::from_ref(&x),
                Some(&[e]),
                GradOptions::RETAIN_GRAPH,
            )
            .unwrap();
            r[0].reshape(&[n])
        })
        .collect();
    assert_close(
        &format!("{name} (Hessian)"),
        &batched[0].reshape(&[n, n]),
        &Tensor::stack(&rows, 0),
    );
}

#[test]
fn every_operation_backpropagates_a_batch_as_separate_passes() {
    let x = Tensor::randn(&[2, 3], 1);
    let y = Tensor::randn(&[3, 4], 2);
    let b = Tensor::randn(&[5, 2, 3], 3);
    let v = Tensor::randn(&[3], 4);
    let p = Tensor::rand(&[2, 3], 5) + 0.5;
    let xs = std::slice::from_ref(&x);
    check("unary", |t| t[0].sin().exp(), xs, true);
    check(
        "binary",
        |t| &t[0] * &t[1] + t[0].atan2(&t[1]),
        &[x.clone(), p.clone()],
        true,
    );
    check(
        "broadcast",
        |t| (&t[0] * &t[1]).tanh(),
        &[x.clone(), v.clone()],
        true,
    );
    check(
        "broadcast rhs",
        |t| &t[1] / &t[0],
        &[p.clone(), v.clone()],
        true,
    );
    check(
        "constants",
        |t| 2.0 - (&t[0] * 3.0).powf(2.0) / 4.0,
        xs,
        true,
    );
    check("pow", |t| t[0].pow(&t[1]), &[p.clone(), x.clone()], true);
    check("max", |t| t[0].max(&t[1]), &[x.clone(), v.clone()], false);
    check("sum", |t| t[0].sum_dim(&[1], false).sin(), xs, true);
    check(
        "sum keepdim",
        |t| t[0].sum_dim(&[0], true) * &t[0],
        xs,
        true,
    );
    check("mean", |t| t[0].mean_dim(&[0, 1], false).exp(), xs, true);
    check("amax", |t| t[0].amax(&[1], false), xs, false);
    check("prod", |t| t[0].prod_dim(&[1], false), xs, true);
    check(
        "matmul",
        |t| t[0].matmul(&t[1]).tanh(),
        &[x.clone(), y.clone()],
        true,
    );
    check(
        "matmul batched",
        |t| t[0].matmul(&t[1]).sin(),
        &[b.clone(), y.clone()],
        true,
    );
    check(
        "matmul vec",
        |t| t[0].matmul(&t[1]).exp(),
        &[x.clone(), v.clone()],
        true,
    );
    check(
        "vec matmul",
        |t| t[1].matmul(&t[0].t()).cos(),
        &[x.clone(), v.clone()],
        true,
    );
    check("dot", |t| t[0].dot(&t[0]), std::slice::from_ref(&v), true);
    check(
        "permute",
        |t| t[0].permute(&[2, 0, 1]).sin(),
        std::slice::from_ref(&b),
        true,
    );
    check("reshape", |t| t[0].reshape(&[3, 2]).exp(), xs, true);
    check(
        "expand",
        |t| t[0].unsqueeze(0).expand(&[4, 2, 3]).cos(),
        xs,
        true,
    );
    check(
        "sum_to_shape",
        |t| t[0].sum_to_shape(&[1, 3]).exp(),
        xs,
        true,
    );
    check(
        "get",
        |t| t[0].get(&[1, 2]).exp() + t[0].get(&[0]).sum(),
        xs,
        true,
    );
    check("narrow", |t| t[0].narrow(1, 1, 2).sin(), xs, true);
    check(
        "index_select",
        |t| t[0].index_select(1, &[2, 0, 2]).sin(),
        xs,
        true,
    );
    check(
        "cat",
        |t| Tensor::cat(&[t[0].clone(), t[0].exp()], 0),
        xs,
        true,
    );
    check(
        "stack",
        |t| Tensor::stack(&[t[0].clone(), t[0].sin()], 1),
        xs,
        true,
    );
    check(
        "where",
        |t| Tensor::where_(&t[0].gt(&Tensor::scalar(0.0)), &t[0].exp(), &t[0].sin()),
        xs,
        true,
    );
    check("softmax", |t| t[0].softmax(1), xs, true);
    check("log_softmax", |t| t[0].log_softmax(0), xs, true);
    check("logsumexp", |t| t[0].logsumexp(1, false), xs, true);
    let sq = Tensor::randn(&[3, 3], 6);
    check(
        "trace",
        |t| t[0].matmul(&t[0]).trace(),
        std::slice::from_ref(&sq),
        true,
    );
}

#[test]
fn hessians_in_one_pass_equal_closed_forms() {
    // f(x) = ½ xᵀAx + bᵀx: H = ½(A + Aᵀ); f(x) = ½‖Ax − b‖²: H = AᵀA.
    let a = tensor![[1.0, 2.0, 0.5], [-1.0, 3.0, 0.0], [0.25, 1.0, -2.0]];
    let b = tensor![0.3, -0.7, 1.1];
    let x = tensor![0.2, -0.4, 0.9].requires_grad();
    let xs = std::slice::from_ref(&x);
    let hessian = |f: Tensor| {
        let g = autograd::grad(&[f], xs, None, GradOptions::CREATE_GRAPH).unwrap();
        autograd::grad_batched(&g, xs, &[Tensor::eye(3)], GradOptions::default())
            .unwrap()
            .remove(0)
    };
    let av = a.to_vec();
    let quadratic = hessian(0.5 * x.dot(&a.matmul(&x)) + b.dot(&x));
    let lsq = hessian(0.5 * (a.matmul(&x) - &b).powi(2).sum());
    for i in 0..3 {
        for j in 0..3 {
            let q = 0.5 * (av[3 * i + j] + av[3 * j + i]);
            let l: f64 = (0..3).map(|k| av[3 * k + i] * av[3 * k + j]).sum();
            assert!((quadratic.to_vec()[3 * i + j] - q).abs() < 1e-14);
            assert!((lsq.to_vec()[3 * i + j] - l).abs() < 1e-13);
        }
    }
}

#[test]
fn batched_results_are_differentiable_with_create_graph() {
    // f = Σ x³: one batched pass over ∇f = 3x² with create_graph gives
    // H = diag(6x), itself differentiable: Σ H = 6 Σ x has gradient 6.
    let x = tensor![0.5, -1.0, 2.0].requires_grad();
    let xs = std::slice::from_ref(&x);
    let g = autograd::grad(&[x.powi(3).sum()], xs, None, GradOptions::CREATE_GRAPH).unwrap();
    let h = autograd::grad_batched(&g, xs, &[Tensor::eye(3)], GradOptions::CREATE_GRAPH).unwrap();
    let d = autograd::grad(&[h[0].sum()], xs, None, GradOptions::default()).unwrap();
    assert_eq!(d[0].to_vec(), vec![6.0, 6.0, 6.0]);
}

#[test]
fn unused_inputs_get_batched_zeros_and_shapes_are_checked() {
    let x = tensor![1.0, 2.0].requires_grad();
    let u = Tensor::scalar(3.0).requires_grad();
    let y = x.exp();
    let g = autograd::grad_batched(
        std::slice::from_ref(&y),
        &[x.clone(), u.clone()],
        &[Tensor::ones(&[4, 2])],
        GradOptions::RETAIN_GRAPH,
    )
    .unwrap();
    assert_eq!(g[0].shape(), &[4, 2]);
    assert_eq!(g[0].to_vec()[2], 1f64.exp());
    assert_eq!(g[1].shape(), &[4]);
    assert_eq!(g[1].to_vec(), vec![0.0; 4]);
    let e = autograd::grad_batched(&[y], &[x], &[Tensor::ones(&[2])], GradOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("grad_batched"), "{e}");
}
