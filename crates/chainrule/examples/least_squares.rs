//! Seed 004, exercise 6: the gradient and Hessian of f(x) = ½‖Ax − b‖²,
//! by `functional::grad` and `functional::hessian`, against Aᵀ(Ax − b)
//! and AᵀA. A is a random 5×3 matrix.
//!
//! Run: `cargo run --release --example least_squares`

mod support;

use chainrule::functional::{grad, hessian};
use chainrule::Tensor;
use support::{compare, random};

fn main() {
    let a = random(&[5, 3], 1);
    let b = random(&[5], 2);
    let x = random(&[3], 3);
    let f = |x: &Tensor| {
        let r = a.matmul(x) - &b;
        r.dot(&r) * 0.5
    };
    println!(
        "f(x) = ½‖Ax − b‖² = {:.6} with A =\n{a}\nb = {b}, x = {x}\n",
        f(&x).item()
    );
    let residual = a.matmul(&x) - &b;
    compare(
        "gradient",
        &grad(f)(&x),
        &a.t().matmul(&residual),
        "Aᵀ(Ax − b)",
    );
    compare("Hessian", &hessian(f)(&x), &a.t().matmul(&a), "AᵀA");
}
