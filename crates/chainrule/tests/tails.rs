//! Relative accuracy far from zero, where PyTorch and JAX return 0 because
//! 1 − tanh² and σ(1 − σ) cancel. Expected values are closed forms in
//! forms that do not cancel: tanh'(x) = 4/(eˣ + e⁻ˣ)², σ'(x) = e⁻ˣ/(1 + e⁻ˣ)².

use chainrule::forward::derivative_at;
use chainrule::{autograd, tensor, Real, Tensor};

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs())
}

/// d/dx f at x on the tape (0-d tensor, backward, .grad).
fn tape_derivative(f: impl Fn(&Tensor) -> Tensor, x: f64) -> f64 {
    let t = Tensor::scalar(x).requires_grad();
    f(&t).backward().unwrap();
    t.grad().unwrap().item()
}

#[test]
fn tanh_prime_at_20() {
    let closed = 4.0 / (20f64.exp() + (-20f64).exp()).powi(2);
    assert!(rel_close(closed, 1.6993417021166355e-17, 1e-12));
    let tape = tape_derivative(|t| t.tanh(), 20.0);
    let dual = derivative_at(|x| x.tanh(), 20.0);
    assert!(rel_close(tape, 1.6993417021166355e-17, 1e-12), "{tape}");
    assert!(rel_close(dual, 1.6993417021166355e-17, 1e-12), "{dual}");
}

#[test]
fn sigmoid_prime_at_40() {
    let e = (-40f64).exp();
    let closed = e / (1.0 + e).powi(2);
    assert!(rel_close(closed, 4.248354255291589e-18, 1e-12));
    let tape = tape_derivative(|t| t.sigmoid(), 40.0);
    let dual = derivative_at(|x| x.sigmoid(), 40.0);
    assert!(rel_close(tape, 4.248354255291589e-18, 1e-12), "{tape}");
    assert!(rel_close(dual, 4.248354255291589e-18, 1e-12), "{dual}");
}

#[test]
fn softplus_at_1000_is_1000_with_gradient_1() {
    let x = Tensor::scalar(1000.0).requires_grad();
    let y = x.softplus();
    assert_eq!(y.item(), 1000.0);
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().item(), 1.0);
    // And at −1000: softplus = log1p(e⁻¹⁰⁰⁰) underflows to 0, gradient σ(−1000) to 0,
    // both finite.
    let x = Tensor::scalar(-1000.0).requires_grad();
    let y = x.softplus();
    assert_eq!(y.item(), 0.0);
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().item(), 0.0);
}

#[test]
fn logsumexp_of_1000_1000() {
    let x = tensor![1000.0, 1000.0].requires_grad();
    let y = x.logsumexp(0, false);
    // 1000 + ln 2.
    assert!(rel_close(y.item(), 1000.6931471805599, 1e-15));
    assert!(rel_close(y.item(), 1000.0 + 2f64.ln(), 1e-15));
    // ∂/∂x_i = softmax(x)_i = 1/2.
    let g = autograd::grad(&[y], &[x], None, autograd::GradOptions::default()).unwrap();
    assert_eq!(g[0].to_vec(), vec![0.5, 0.5], "{:?}", g[0]);
}
