//! Autograd semantics (PyTorch's), higher derivatives and robustness.

use chainrule::autograd::{self, GradOptions};
use chainrule::{tensor, Error, Real, Tensor};

#[test]
fn leaves_accumulate_and_zero_grad_clears() {
    let x = Tensor::scalar(3.0).requires_grad();
    (&x * &x).backward().unwrap();
    (&x * &x).backward().unwrap();
    assert_eq!(x.grad().unwrap().item(), 12.0);
    x.zero_grad();
    assert!(x.grad().is_none());
    (&x * 5.0).backward().unwrap();
    assert_eq!(x.grad().unwrap().item(), 5.0);
}

#[test]
fn non_scalar_backward_needs_an_output_gradient() {
    let x = tensor![1.0, 2.0].requires_grad();
    let y = &x * &x;
    let e = y.backward().unwrap_err();
    assert_eq!(e, Error::ImplicitGradOfNonScalar { shape: vec![2] });
    assert_eq!(
        e.to_string(),
        "grad can be implicitly created only for scalar outputs"
    );
    y.backward_with(&tensor![1.0, 10.0]).unwrap();
    assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 40.0]);
    let z = &x * 3.0;
    assert!(z.backward_with(&tensor![1.0, 2.0, 3.0]).is_err());
}

#[test]
fn a_freed_graph_cannot_be_walked_twice() {
    let x = Tensor::scalar(2.0).requires_grad();
    let y = x.exp() * &x;
    y.backward().unwrap();
    let e = y.backward().unwrap_err().to_string();
    assert!(
        e.contains("Trying to backward through the graph a second time"),
        "{e}"
    );
    // With retain_graph it can.
    let y = x.exp() * &x;
    let keep = GradOptions::RETAIN_GRAPH;
    x.zero_grad();
    y.backward_opts(None, keep).unwrap();
    y.backward().unwrap();
    let expected = 2.0 * (2f64.exp() * 3.0);
    assert!((x.grad().unwrap().item() - expected).abs() < 1e-12);
}

#[test]
fn retain_grad_keeps_non_leaf_gradients() {
    let x = Tensor::scalar(2.0).requires_grad();
    let y = &x * 3.0;
    y.retain_grad();
    let z = y.powi(2);
    z.backward().unwrap();
    assert_eq!(y.grad().unwrap().item(), 12.0);
    assert_eq!(x.grad().unwrap().item(), 36.0);
    assert!(z.grad().is_none());
}

#[test]
fn flags_names_and_detach() {
    let x = Tensor::scalar(1.0);
    assert!(x.is_leaf() && !x.is_requires_grad() && x.grad_fn().is_none());
    let x = x.requires_grad();
    let y = x.sin();
    assert!(!y.is_leaf() && y.is_requires_grad());
    assert_eq!(y.grad_fn(), Some("SinBackward0"));
    assert_eq!((&x + &x).grad_fn(), Some("AddBackward0"));
    assert_eq!(x.sum().grad_fn(), Some("SumBackward0"));
    assert_eq!(
        tensor![[1.0]]
            .requires_grad()
            .matmul(&tensor![[2.0]])
            .grad_fn(),
        Some("MmBackward0")
    );
    assert_eq!(
        tensor![1.0, 2.0].requires_grad().reshape(&[2, 1]).grad_fn(),
        Some("ViewBackward0")
    );
    let v = tensor![1.0, 2.0].requires_grad();
    assert_eq!(v.softmax(0).grad_fn(), Some("SoftmaxBackward0"));
    assert_eq!(v.log_softmax(0).grad_fn(), Some("LogSoftmaxBackward0"));
    assert_eq!(v.get(&[0]).grad_fn(), Some("SelectBackward0"));
    assert_eq!(v.narrow(0, 0, 1).grad_fn(), Some("SliceBackward0"));
    assert_eq!(v.mean().grad_fn(), Some("MeanBackward0"));
    assert_eq!(v.powi(2).grad_fn(), Some("PowBackward0"));
    assert_eq!((2.0 * &v).grad_fn(), Some("MulBackward0"));
    assert_eq!(Tensor::from(2.0).item(), 2.0);
    let d = y.detach();
    assert!(d.is_leaf() && !d.is_requires_grad());
    assert_eq!(d.item(), 1f64.sin());
    assert!(y.requires_grad_(false).is_err());
    // Constants do not record.
    let c = Tensor::scalar(2.0) * Tensor::scalar(3.0);
    assert!(c.is_leaf());
    assert!(c.backward().is_err());
}

#[test]
fn no_grad_guard_and_scope() {
    let x = Tensor::scalar(2.0).requires_grad();
    {
        let _g = autograd::no_grad();
        assert!(!(&x * 2.0).is_requires_grad());
        let _inner = autograd::enable_grad();
        assert!((&x * 2.0).is_requires_grad());
    }
    assert!((&x * 2.0).is_requires_grad());
    let y = autograd::no_grad_scope(|| x.exp());
    assert!(y.is_leaf());
}

#[test]
fn grad_leaves_dot_grad_alone_and_zero_fills_unused_inputs() {
    let x = tensor![1.0, 2.0].requires_grad();
    let unused = tensor![[5.0, 6.0]].requires_grad();
    let y = (&x * &x).sum();
    let g = autograd::grad(
        &[y],
        &[x.clone(), unused.clone()],
        None,
        GradOptions::default(),
    )
    .unwrap();
    assert_eq!(g[0].to_vec(), vec![2.0, 4.0]);
    assert_eq!(g[1].shape(), &[1, 2]);
    assert_eq!(g[1].to_vec(), vec![0.0, 0.0]);
    assert!(x.grad().is_none());
    // An input that does not require grad is an error.
    let c = tensor![1.0];
    let y = (&x * 2.0).sum();
    assert!(autograd::grad(&[y], &[c], None, GradOptions::default()).is_err());
}

#[test]
fn grad_with_respect_to_an_intermediate() {
    let x = Tensor::scalar(0.3).requires_grad();
    let u = x.sin();
    let y = u.powi(3);
    let g = autograd::grad(&[y], &[u.clone(), x.clone()], None, GradOptions::default()).unwrap();
    let s = 0.3f64.sin();
    assert!((g[0].item() - 3.0 * s * s).abs() < 1e-15);
    assert!((g[1].item() - 3.0 * s * s * 0.3f64.cos()).abs() < 1e-15);
}

/// tanh and its derivatives in closed form: s = sech² x, t = tanh x.
fn tanh_derivatives(x: f64) -> [f64; 4] {
    let t = x.tanh();
    let s = 1.0 - t * t;
    [
        s,
        -2.0 * t * s,
        s * (6.0 * t * t - 2.0),
        8.0 * t * s * (2.0 - 3.0 * t * t),
    ]
}

#[test]
fn fourth_derivative_of_tanh_by_nested_grad() {
    let x = Tensor::scalar(0.5).requires_grad();
    let mut y = x.tanh();
    let mut ds = Vec::new();
    for order in 0..4 {
        let create = order < 3;
        y = autograd::grad(
            &[y],
            std::slice::from_ref(&x),
            None,
            GradOptions {
                create_graph: create,
                ..Default::default()
            },
        )
        .unwrap()
        .remove(0);
        ds.push(y.item());
    }
    let exact = tanh_derivatives(0.5);
    for k in 0..4 {
        assert!(
            (ds[k] - exact[k]).abs() < 1e-14,
            "order {}: {} vs {}",
            k + 1,
            ds[k],
            exact[k]
        );
    }
    assert!((ds[3] - 3.9522195637245825).abs() < 1e-14);
}

#[test]
fn higher_order_on_arrays_and_backward_create_graph() {
    // f(x) = Σ x³ sin x: elementwise second derivative.
    let xv = [0.2, -0.7, 1.1];
    let x = Tensor::from_vec(xv.to_vec(), &[3]).unwrap().requires_grad();
    let f = (x.powi(3) * x.sin()).sum();
    f.backward_opts(None, GradOptions::CREATE_GRAPH).unwrap();
    let g = x.grad().unwrap();
    assert!(g.is_requires_grad());
    let h = autograd::grad(
        &[g.sum()],
        std::slice::from_ref(&x),
        None,
        GradOptions::default(),
    )
    .unwrap();
    for (i, &v) in xv.iter().enumerate() {
        let d2 = 6.0 * v * v.sin() + 6.0 * v * v * v.cos() - v.powi(3) * v.sin();
        assert!((h[0].to_vec()[i] - d2).abs() < 1e-14);
    }
}

#[test]
fn hessian_of_a_quadratic_form_through_matmul() {
    // f(x) = ½ xᵀ A x: ∇f = ½(A + Aᵀ)x, Hessian ½(A + Aᵀ).
    let a = tensor![[1.0, 2.0], [0.0, 3.0]];
    let x = tensor![0.5, -1.0].requires_grad();
    let f = 0.5 * x.matmul(&a).dot(&x);
    let g = autograd::grad(
        &[f],
        std::slice::from_ref(&x),
        None,
        GradOptions::CREATE_GRAPH,
    )
    .unwrap()
    .remove(0);
    // (A + Aᵀ)/2 = [[1, 1], [1, 3]] times (0.5, −1).
    assert_eq!(g.to_vec(), vec![-0.5, -2.5]);
    let mut rows = Vec::new();
    for i in 0..2 {
        let r = autograd::grad(
            &[g.get(&[i])],
            std::slice::from_ref(&x),
            None,
            GradOptions::RETAIN_GRAPH,
        )
        .unwrap();
        rows.extend(r[0].to_vec());
    }
    assert_eq!(rows, vec![1.0, 1.0, 1.0, 3.0]);
}

#[test]
fn broadcasting_gradients_sum_back_to_input_shapes() {
    let a = Tensor::ones(&[2, 3]).requires_grad();
    let b = tensor![1.0, 2.0, 3.0].requires_grad();
    let c = Tensor::scalar(2.0).requires_grad();
    let y = ((&a * &b) * &c).sum();
    y.backward().unwrap();
    assert_eq!(
        a.grad().unwrap().to_vec(),
        vec![2.0, 4.0, 6.0, 2.0, 4.0, 6.0]
    );
    assert_eq!(b.grad().unwrap().to_vec(), vec![4.0, 4.0, 4.0]);
    assert_eq!(c.grad().unwrap().item(), 12.0);
    assert_eq!(c.grad().unwrap().shape(), &[] as &[usize]);
}

#[test]
fn a_million_op_chain_backpropagates_and_drops() {
    let x = Tensor::scalar(1.0).requires_grad();
    let mut h = x.clone();
    for _ in 0..1_000_000 {
        h = &h * 1.000_000_1;
    }
    h.backward().unwrap();
    let expected = 1.000_000_1f64.powi(1_000_000);
    assert!((x.grad().unwrap().item() - expected).abs() < 1e-9 * expected);
    // A retained graph of 10⁶ nodes must also drop iteratively.
    let mut h = x.clone();
    for _ in 0..1_000_000 {
        h = h.sin() + 0.5;
    }
    drop(h);
}

#[test]
fn workload_w1_gradient() {
    // h = tanh(h·w) + 0.1·h, K times, from h = x; check dh/dw by forward-mode
    // recursion in f64: (h, dh/dw) ↦ (tanh(hw) + 0.1h, sech²(hw)(h + w·dh) + 0.1dh).
    let k = 2_000;
    let x = Tensor::scalar(0.5).requires_grad();
    let w = Tensor::scalar(0.9).requires_grad();
    let mut h = x.clone();
    for _ in 0..k {
        h = (&h * &w).tanh() + &h * 0.1;
    }
    h.backward().unwrap();
    let (mut hv, mut dh, wv) = (0.5f64, 0.0f64, 0.9f64);
    for _ in 0..k {
        let u = hv * wv;
        let s = 1.0 / u.cosh().powi(2);
        dh = s * (hv + wv * dh) + 0.1 * dh;
        hv = u.tanh() + 0.1 * hv;
    }
    assert!((h.item() - hv).abs() < 1e-13);
    assert!((w.grad().unwrap().item() - dh).abs() < 1e-12 * dh.abs().max(1.0));
}

#[test]
fn argument_errors_are_results() {
    let x = tensor![1.0, 2.0].requires_grad();
    let y = (&x * &x).sum();
    // grad_outputs must match outputs in number and shape.
    let two = [Tensor::scalar(1.0), Tensor::scalar(1.0)];
    assert!(autograd::grad(
        std::slice::from_ref(&y),
        std::slice::from_ref(&x),
        Some(&two),
        GradOptions::RETAIN_GRAPH
    )
    .is_err());
    let bad = [Tensor::ones(&[3])];
    assert!(autograd::grad(
        std::slice::from_ref(&y),
        std::slice::from_ref(&x),
        Some(&bad),
        GradOptions::RETAIN_GRAPH
    )
    .is_err());
    // The graph is intact after those errors.
    let g = autograd::grad(&[y], std::slice::from_ref(&x), None, GradOptions::default()).unwrap();
    assert_eq!(g[0].to_vec(), vec![2.0, 4.0]);
}

#[test]
fn requires_grad_toggles_on_leaves_and_set_grad_replaces() {
    let x = Tensor::scalar(1.5);
    x.requires_grad_(true).unwrap();
    assert!(x.is_requires_grad());
    assert!((&x * 2.0).is_requires_grad());
    x.requires_grad_(false).unwrap();
    assert!(!(&x * 2.0).is_requires_grad());
    x.set_grad(Some(Tensor::scalar(9.0)));
    assert_eq!(x.grad().unwrap().item(), 9.0);
    // A gradient step the way an optimizer does it: a new leaf per update.
    let w = Tensor::scalar(1.0).requires_grad();
    let loss = (&w - 3.0).powi(2);
    loss.backward().unwrap();
    let w2 = autograd::no_grad_scope(|| &w - 0.25 * w.grad().unwrap()).requires_grad();
    assert_eq!(w2.item(), 2.0);
    assert!(w2.is_leaf() && w2.is_requires_grad());
}

#[test]
fn backward_with_create_graph_gives_a_differentiable_vjp() {
    // y = x², v = (1, 2): x.grad = 2x ⊙ v; d/dx Σ x.grad = 2v.
    let x = tensor![0.5, -1.5].requires_grad();
    let y = x.powi(2);
    y.backward_opts(Some(&tensor![1.0, 2.0]), GradOptions::CREATE_GRAPH)
        .unwrap();
    let gx = x.grad().unwrap();
    assert_eq!(gx.to_vec(), vec![1.0, -6.0]);
    let h = autograd::grad(
        &[gx.sum()],
        std::slice::from_ref(&x),
        None,
        GradOptions::default(),
    )
    .unwrap();
    assert_eq!(h[0].to_vec(), vec![2.0, 4.0]);
}

#[test]
fn debug_prints_full_precision() {
    let x = Tensor::scalar(0.1 + 0.2).requires_grad();
    let d = format!("{:?}", x.exp());
    assert!(d.contains(&format!("{:?}", (0.1f64 + 0.2).exp())), "{d}");
    assert!(d.contains("ExpBackward0"), "{d}");
}
