//! Seed 004, exercise 7: the gradient and Hessian of f(x) = ln(1 + exp⟨a, x⟩),
//! by `functional::grad` and `functional::hessian`, against σ(⟨a,x⟩)·a and
//! σ(1 − σ)·aaᵀ, at a random point and where ⟨a, x⟩ = 800.
//!
//! f is written with `softplus` (max(z, 0) + ln(1 + e^−|z|)), so it stays
//! finite where exp overflows: at ⟨a, x⟩ = 800 the written-out
//! ln(1 + exp z) is inf and its gradient NaN. The analytic side uses
//! 1 − σ(z) = σ(−z), which does not cancel.
//!
//! Run: `cargo run --release --example logistic_hessian`

mod support;

use chainrule::functional::{grad, hessian};
use chainrule::{Real, Tensor};
use support::{compare, random};

/// σ(z) for a plain number.
fn sigmoid(z: f64) -> f64 {
    Real::sigmoid(&z)
}

fn show_at(a: &Tensor, x: &Tensor) {
    let f = |x: &Tensor| a.dot(x).softplus();
    let z = a.dot(x).item();
    println!("⟨a, x⟩ = {z:.6}, f = {:.6}\n", f(x).item());
    let (s, s_neg) = (sigmoid(z), sigmoid(-z));
    let outer = a.unsqueeze(1).matmul(&a.unsqueeze(0));
    compare("gradient", &grad(f)(x), &(a * s), "σ(⟨a,x⟩)·a");
    compare(
        "Hessian",
        &hessian(f)(x),
        &(outer * (s * s_neg)),
        "σ(1 − σ)·aaᵀ",
    );
}

fn main() {
    let n = 3;
    let a = random(&[n], 1);
    println!("f(x) = softplus(⟨a, x⟩) with a = {a}\n");
    show_at(&a, &random(&[n], 2));

    // The point x = 800·a/‖a‖², where ⟨a, x⟩ = 800.
    let x = &a * (800.0 / a.dot(&a).item());
    show_at(&a, &x);
    let naive = |x: &Tensor| (a.dot(x).exp() + 1.0).ln();
    println!(
        "for contrast, ln(1 + exp⟨a,x⟩) written out: f = {}, gradient = {}",
        naive(&x).item(),
        grad(naive)(&x)
    );
}
